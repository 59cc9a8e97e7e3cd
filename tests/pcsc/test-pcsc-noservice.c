/* test-pcsc-noservice.c - PC/SC without pcscd: a state, not an error.
 *
 * PCSCLITE_CSOCK_NAME (honoured by pcsc-lite's client and by the watcher) points
 * into an empty temporary folder, so no pcscd can answer: list_readers gives
 * SDR_ERROR_NO_READER with a French message, the watcher reports SERVICE_DOWN and
 * stops at once when freed, whatever it is waiting on.
 */
#include "sdr-error.h"
#include "sdr-i18n.h"
#include "sdr-token.h"

#include <glib/gstdio.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static char *tmp_dir;

typedef struct {
	int down, up, other;
} Counts;

static void
on_event(const SdrPcscEvent *event, gpointer user_data)
{
	Counts *c = user_data;

	if (event->kind == SDR_PCSC_EVENT_SERVICE_DOWN)
		c->down++;
	else if (event->kind == SDR_PCSC_EVENT_SERVICE_UP)
		c->up++;
	else
		c->other++;
}

static gboolean
on_timeout(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the context for ms milliseconds. */
static void
run_for(GMainContext *ctx, guint ms)
{
	gboolean done = FALSE;
	GSource *t = g_timeout_source_new(ms);

	g_source_set_callback(t, on_timeout, &done, NULL);
	g_source_attach(t, ctx);
	while (!done)
		g_main_context_iteration(ctx, TRUE);
	g_source_unref(t);
}

static void
use_socket(const char *relative)
{
	g_autofree char *path = g_build_filename(tmp_dir, relative, (char *)NULL);

	g_setenv("PCSCLITE_CSOCK_NAME", path, TRUE);
}

static void
test_list_readers_no_service(void **state)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *readers;

	use_socket("pcscd.comm");
	readers = sdr_pcsc_list_readers(&error);
	assert_null(readers);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NO_READER));
	/* French by default, with what to do. */
	if (strstr(error->message, "pcscd") == NULL ||
	    strstr(error->message, "n’est pas démarré") == NULL)
		fail_msg("message: %s", error->message);
}

static void
watch_and_free(const char *socket_relative)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	Counts counts = { 0 };
	SdrPcscWatcher *w;
	gint64 t0;

	use_socket(socket_relative);
	w = sdr_pcsc_watcher_new(ctx, on_event, &counts);
	assert_non_null(w);
	/* Long enough for several retries (100, 200, 400 ms...): one report only. */
	run_for(ctx, 900);
	assert_int_equal(counts.down, 1);
	assert_int_equal(counts.up, 0);
	assert_int_equal(counts.other, 0);

	t0 = g_get_monotonic_time();
	sdr_pcsc_watcher_free(w);
	if (g_get_monotonic_time() - t0 > 300 * G_TIME_SPAN_MILLISECOND)
		fail_msg("free took %" G_GINT64_FORMAT " us", g_get_monotonic_time() - t0);
	/* Nothing is delivered after free. */
	run_for(ctx, 50);
	assert_int_equal(counts.down, 1);
}

static void
test_watcher_no_service(void **state)
{
	watch_and_free("pcscd.comm");
}

/* The socket's folder does not exist either: inotify watches its parent. */
static void
test_watcher_no_folder(void **state)
{
	watch_and_free("missing/pcscd.comm");
}

static void
test_watcher_free_at_once(void **state)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	Counts counts = { 0 };
	gint64 t0;
	SdrPcscWatcher *w;

	use_socket("pcscd.comm");
	t0 = g_get_monotonic_time();
	w = sdr_pcsc_watcher_new(ctx, on_event, &counts);
	sdr_pcsc_watcher_free(w);
	assert_true(g_get_monotonic_time() - t0 < 300 * G_TIME_SPAN_MILLISECOND);
	run_for(ctx, 20);
	assert_int_equal(counts.down + counts.up + counts.other, 0);
	sdr_pcsc_watcher_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_readers_no_service),
		cmocka_unit_test(test_watcher_no_service),
		cmocka_unit_test(test_watcher_no_folder),
		cmocka_unit_test(test_watcher_free_at_once),
	};
	int rc;

	g_unsetenv("LC_ALL");
	g_unsetenv("LC_MESSAGES");
	g_unsetenv("LANG");
	g_unsetenv("LANGUAGE");
	sdr_i18n_init();
	tmp_dir = g_dir_make_tmp("sdr-pcsc-XXXXXX", NULL);
	assert_non_null(tmp_dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	return rc;
}
