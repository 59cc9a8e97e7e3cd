/* test-pcsc-fake.c - the watcher's and list_readers' logic against a scripted pcsc-lite.
 *
 * Linked with -Wl,--wrap=SCard...: every pcsc-lite call of sdr-pcsc.c lands in the
 * fake below, a small world of readers the test changes while the watcher runs. It
 * answers like pcsc-lite 1.9: SCardGetStatusChange blocks until a state differs from
 * dwCurrentState (event counter in the high 16 bits, reader count for the PnP
 * reader), returns SCARD_E_UNKNOWN_READER for a name it does not know when called
 * (SCARD_STATE_UNKNOWN for a reader that goes away during the wait), and
 * SCARD_E_CANCELLED after SCardCancel. Paths the real rig cannot produce on demand:
 * a card pulled and put back between two answers, a reader unplugged with its card,
 * a reader vanishing between the list and the wait, a bogus ATR length, more readers
 * than pcsc-lite serves, an error that persists (no spinning), an unterminated list.
 */
#include "sdr-error.h"
#include "sdr-token.h"

#include <glib/gstdio.h>
#include <winscard.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- The fake pcsc-lite ------------------------------------------------------------ */

#define FAKE_MAX 24

typedef struct {
	char name[64];
	gboolean present;
	guint counter;
	guint8 atr[MAX_ATR_SIZE];
	DWORD atr_len; /* may lie (bogus driver) */
} FakeReader;

static struct {
	GMutex lock;
	GCond changed;
	gboolean service;
	gboolean cancelled;
	LONG forced_error;     /* returned by every GetStatusChange when set */
	const char *ghost;     /* listed once but unknown to GetStatusChange */
	gboolean unterminated; /* the list lacks its final empty string */
	FakeReader readers[FAKE_MAX];
	guint n;
	guint gsc_calls;
	DWORD last_gsc_count;
} fake;

LONG __wrap_SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx);
LONG __wrap_SCardReleaseContext(SCARDCONTEXT ctx);
LONG __wrap_SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR readers, LPDWORD len);
LONG __wrap_SCardFreeMemory(SCARDCONTEXT ctx, LPCVOID mem);
LONG __wrap_SCardCancel(SCARDCONTEXT ctx);
LONG __wrap_SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *states,
                                 DWORD count);

LONG
__wrap_SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx)
{
	LONG rv = SCARD_E_NO_SERVICE;

	g_mutex_lock(&fake.lock);
	if (fake.service) {
		*ctx = 42;
		rv = SCARD_S_SUCCESS;
	}
	g_mutex_unlock(&fake.lock);
	return rv;
}

LONG
__wrap_SCardReleaseContext(SCARDCONTEXT ctx)
{
	return SCARD_S_SUCCESS;
}

LONG
__wrap_SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR readers, LPDWORD len)
{
	GString *s;
	LONG rv = SCARD_S_SUCCESS;

	g_assert_true(*len == SCARD_AUTOALLOCATE);
	g_mutex_lock(&fake.lock);
	if (!fake.service) {
		rv = SCARD_E_NO_SERVICE;
		goto out;
	}
	if (fake.n == 0 && fake.ghost == NULL) {
		rv = SCARD_E_NO_READERS_AVAILABLE;
		goto out;
	}
	s = g_string_new(NULL);
	for (guint i = 0; i < fake.n; i++)
		g_string_append_len(s, fake.readers[i].name, strlen(fake.readers[i].name) + 1);
	if (fake.ghost != NULL) {
		g_string_append_len(s, fake.ghost, strlen(fake.ghost) + 1);
		fake.ghost = NULL;
	}
	if (!fake.unterminated)
		g_string_append_c(s, '\0');
	else
		g_string_truncate(s, s->len - 1); /* not even the last name's NUL */
	*len = (DWORD)s->len;
	*(char **)readers = g_string_free(s, FALSE);
out:
	g_mutex_unlock(&fake.lock);
	return rv;
}

LONG
__wrap_SCardFreeMemory(SCARDCONTEXT ctx, LPCVOID mem)
{
	g_free((gpointer)mem);
	return SCARD_S_SUCCESS;
}

LONG
__wrap_SCardCancel(SCARDCONTEXT ctx)
{
	g_mutex_lock(&fake.lock);
	fake.cancelled = TRUE;
	g_cond_broadcast(&fake.changed);
	g_mutex_unlock(&fake.lock);
	return SCARD_S_SUCCESS;
}

static FakeReader *
fake_find(const char *name)
{
	for (guint i = 0; i < fake.n; i++) {
		if (strcmp(fake.readers[i].name, name) == 0)
			return &fake.readers[i];
	}
	return NULL;
}

LONG
__wrap_SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *states, DWORD count)
{
	LONG rv;

	g_mutex_lock(&fake.lock);
	fake.gsc_calls++;
	fake.last_gsc_count = count;
	for (gboolean first = TRUE;; first = FALSE) {
		gboolean any = FALSE;

		if (!fake.service) {
			rv = SCARD_E_NO_SERVICE;
			break;
		}
		if (fake.forced_error != SCARD_S_SUCCESS) {
			rv = fake.forced_error;
			break;
		}
		rv = SCARD_S_SUCCESS;
		for (DWORD i = 0; i < count && rv == SCARD_S_SUCCESS; i++) {
			DWORD ev;

			if (strcmp(states[i].szReader, "\\\\?PnP?\\Notification") == 0) {
				ev = (DWORD)fake.n << 16;
			} else {
				FakeReader *r = fake_find(states[i].szReader);

				if (r == NULL && first) {
					rv = SCARD_E_UNKNOWN_READER;
					break;
				}
				if (r == NULL) {
					/* Gone during the wait. */
					states[i].dwEventState =
					        SCARD_STATE_UNKNOWN | SCARD_STATE_CHANGED;
					any = TRUE;
					continue;
				}
				ev = (r->present ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY) |
				     (DWORD)r->counter << 16;
				states[i].cbAtr = r->present ? r->atr_len : 0;
				memcpy(states[i].rgbAtr, r->atr, sizeof states[i].rgbAtr);
			}
			if ((states[i].dwCurrentState & ~(DWORD)SCARD_STATE_CHANGED) != ev) {
				ev |= SCARD_STATE_CHANGED;
				any = TRUE;
			}
			states[i].dwEventState = ev;
		}
		if (rv != SCARD_S_SUCCESS || any || timeout == 0)
			break;
		if (fake.cancelled) {
			fake.cancelled = FALSE;
			rv = SCARD_E_CANCELLED;
			break;
		}
		g_cond_wait(&fake.changed, &fake.lock);
	}
	g_mutex_unlock(&fake.lock);
	return rv;
}

/* World changes, made by the test. */
static void
fake_reset(void)
{
	g_mutex_lock(&fake.lock);
	fake.service = TRUE;
	fake.cancelled = FALSE;
	fake.forced_error = SCARD_S_SUCCESS;
	fake.ghost = NULL;
	fake.unterminated = FALSE;
	fake.n = 0;
	fake.gsc_calls = 0;
	g_mutex_unlock(&fake.lock);
}

static void
fake_add_reader(const char *name, gboolean present)
{
	g_mutex_lock(&fake.lock);
	g_assert_cmpuint(fake.n, <, FAKE_MAX);
	memset(&fake.readers[fake.n], 0, sizeof fake.readers[fake.n]);
	g_strlcpy(fake.readers[fake.n].name, name, sizeof fake.readers[fake.n].name);
	fake.readers[fake.n].present = present;
	fake.readers[fake.n].atr_len = 4;
	memcpy(fake.readers[fake.n].atr, "\x3B\x02\x14\x50", 4);
	fake.n++;
	g_cond_broadcast(&fake.changed);
	g_mutex_unlock(&fake.lock);
}

static void
fake_remove_reader(const char *name)
{
	g_mutex_lock(&fake.lock);
	for (guint i = 0; i < fake.n; i++) {
		if (strcmp(fake.readers[i].name, name) == 0) {
			memmove(&fake.readers[i], &fake.readers[i + 1],
			        (fake.n - i - 1) * sizeof fake.readers[0]);
			fake.n--;
			break;
		}
	}
	g_cond_broadcast(&fake.changed);
	g_mutex_unlock(&fake.lock);
}

/* present: the new state; counter_step: events pcscd saw meanwhile. */
static void
fake_set_card(const char *name, gboolean present, guint counter_step, DWORD atr_len)
{
	g_mutex_lock(&fake.lock);
	FakeReader *r = fake_find(name);
	g_assert_nonnull(r);
	r->present = present;
	r->counter += counter_step;
	r->atr_len = atr_len;
	g_cond_broadcast(&fake.changed);
	g_mutex_unlock(&fake.lock);
}

static void
fake_set_service(gboolean up)
{
	g_mutex_lock(&fake.lock);
	fake.service = up;
	g_cond_broadcast(&fake.changed);
	g_mutex_unlock(&fake.lock);
}

/* ---- Collecting events -------------------------------------------------------------- */

typedef struct {
	GString *log; /* "UP;ADD r1;IN r1 4;OUT r1;..." */
	gsize last_atr_len;
} Seen;

static void
on_event(const SdrPcscEvent *e, gpointer user_data)
{
	static const char *const names[] = { "ADD", "DEL", "IN", "OUT", "UP", "DOWN" };
	Seen *seen = user_data;

	g_string_append(seen->log, names[e->kind]);
	if (e->reader != NULL)
		g_string_append_printf(seen->log, " %s", e->reader);
	if (e->kind == SDR_PCSC_EVENT_CARD_INSERTED) {
		g_string_append_printf(seen->log, " %zu", e->atr_len);
		seen->last_atr_len = e->atr_len;
	}
	g_string_append_c(seen->log, ';');
}

static gboolean
on_timeout(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

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

/* Runs the context until the log equals `want` (or 2 s pass), then compares. */
static void
expect_log(GMainContext *ctx, Seen *seen, const char *want)
{
	gint64 end = g_get_monotonic_time() + 2 * G_TIME_SPAN_SECOND;

	while (strcmp(seen->log->str, want) != 0 && g_get_monotonic_time() < end)
		run_for(ctx, 10);
	assert_string_equal(seen->log->str, want);
	g_string_truncate(seen->log, 0);
}

typedef struct {
	GMainContext *ctx;
	Seen seen;
	SdrPcscWatcher *w;
	char *dir;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autofree char *sock = NULL;

	fake_reset();
	f->dir = g_dir_make_tmp("sdr-pcsc-fake-XXXXXX", NULL);
	sock = g_build_filename(f->dir, "pcscd.comm", (char *)NULL);
	g_setenv("PCSCLITE_CSOCK_NAME", sock, TRUE);
	f->ctx = g_main_context_new();
	f->seen.log = g_string_new(NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *sock = g_build_filename(f->dir, "pcscd.comm", (char *)NULL);

	sdr_pcsc_watcher_free(f->w);
	g_main_context_unref(f->ctx);
	g_string_free(f->seen.log, TRUE);
	g_unlink(sock);
	g_rmdir(f->dir);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static void
start(Fixture *f)
{
	f->w = sdr_pcsc_watcher_new(f->ctx, on_event, &f->seen);
}

/* ---- Tests ---------------------------------------------------------------------- */

static void
test_initial_state_and_changes(void **state)
{
	Fixture *f = *state;

	fake_add_reader("R1", TRUE);
	fake_add_reader("R2", FALSE);
	start(f);
	expect_log(f->ctx, &f->seen, "UP;ADD R1;ADD R2;IN R1 4;");

	fake_set_card("R2", TRUE, 1, 4);
	expect_log(f->ctx, &f->seen, "IN R2 4;");
	fake_set_card("R1", FALSE, 1, 0);
	expect_log(f->ctx, &f->seen, "OUT R1;");
	/* Pulled and put back between two answers: the counter moved by two. */
	fake_set_card("R2", TRUE, 2, 4);
	expect_log(f->ctx, &f->seen, "OUT R2;IN R2 4;");
	/* A reader unplugged with its card in, a new one plugged (PnP). */
	fake_remove_reader("R2");
	expect_log(f->ctx, &f->seen, "OUT R2;DEL R2;");
	fake_add_reader("R3", TRUE);
	expect_log(f->ctx, &f->seen, "ADD R3;IN R3 4;");
}

static void
test_bogus_atr_length_is_capped(void **state)
{
	Fixture *f = *state;

	fake_add_reader("R1", FALSE);
	start(f);
	expect_log(f->ctx, &f->seen, "UP;ADD R1;");
	fake_set_card("R1", TRUE, 1, 200);
	expect_log(f->ctx, &f->seen, "IN R1 33;");
}

/* The list names a reader GetStatusChange does not know (it went away in between):
 * the watcher lists again instead of reporting the service down. */
static void
test_reader_vanishing_between_list_and_wait(void **state)
{
	Fixture *f = *state;

	fake_add_reader("R1", FALSE);
	g_mutex_lock(&fake.lock);
	fake.ghost = "GHOST";
	g_mutex_unlock(&fake.lock);
	start(f);
	expect_log(f->ctx, &f->seen, "UP;ADD R1;ADD GHOST;DEL GHOST;");
	fake_set_card("R1", TRUE, 1, 4);
	expect_log(f->ctx, &f->seen, "IN R1 4;");
}

static void
test_service_down_and_back(void **state)
{
	Fixture *f = *state;
	g_autofree char *sock = g_build_filename(f->dir, "pcscd.comm", (char *)NULL);
	gint64 t0;

	fake_add_reader("R1", TRUE);
	start(f);
	expect_log(f->ctx, &f->seen, "UP;ADD R1;IN R1 4;");
	fake_set_service(FALSE);
	expect_log(f->ctx, &f->seen, "OUT R1;DEL R1;DOWN;");
	/* Let the retry timeout grow to its maximum, then bring the service back
	 * with its socket: inotify wakes the watcher long before the timeout. */
	run_for(f->ctx, 2500);
	assert_string_equal(f->seen.log->str, "");
	fake_set_service(TRUE);
	t0 = g_get_monotonic_time();
	g_assert_true(g_file_set_contents(sock, "", 0, NULL));
	expect_log(f->ctx, &f->seen, "UP;ADD R1;IN R1 4;");
	if (g_get_monotonic_time() - t0 > 500 * G_TIME_SPAN_MILLISECOND)
		fail_msg("service back noticed after %" G_GINT64_FORMAT " us",
		         g_get_monotonic_time() - t0);
}

/* An error that does not go away must not make the thread spin. */
static void
test_persistent_error_does_not_spin(void **state)
{
	Fixture *f = *state;
	guint calls;

	fake_add_reader("R1", FALSE);
	start(f);
	expect_log(f->ctx, &f->seen, "UP;ADD R1;");
	g_mutex_lock(&fake.lock);
	fake.forced_error = SCARD_F_INTERNAL_ERROR;
	fake.gsc_calls = 0;
	g_cond_broadcast(&fake.changed);
	g_mutex_unlock(&fake.lock);
	run_for(f->ctx, 1500);
	g_mutex_lock(&fake.lock);
	calls = fake.gsc_calls;
	g_mutex_unlock(&fake.lock);
	/* The blocked call returns the error, then a 2 s wait before reconnecting:
	 * no new call within 1.5 s (a spinning thread would make thousands). */
	assert_in_range(calls, 0, 1);
	assert_string_equal(f->seen.log->str, "DEL R1;DOWN;");
}

static void
test_at_most_16_readers(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) readers = NULL;
	DWORD count;

	for (int i = 0; i < 20; i++) {
		char name[16];

		g_snprintf(name, sizeof name, "R%02d", i);
		fake_add_reader(name, FALSE);
	}
	readers = sdr_pcsc_list_readers(&error);
	assert_non_null(readers);
	assert_int_equal(readers->len, 16);

	start(f);
	run_for(f->ctx, 100);
	g_mutex_lock(&fake.lock);
	count = fake.last_gsc_count;
	g_mutex_unlock(&fake.lock);
	assert_int_equal(count, 17); /* 16 readers + the PnP reader */
}

static void
test_list_readers(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) readers = NULL;
	const SdrReaderInfo *r;

	/* No reader: an empty list, not an error. */
	readers = sdr_pcsc_list_readers(&error);
	assert_non_null(readers);
	assert_int_equal(readers->len, 0);
	g_clear_pointer(&readers, g_ptr_array_unref);

	fake_add_reader("Empty", FALSE);
	fake_add_reader("Card", TRUE);
	fake_set_card("Card", TRUE, 0, 200); /* bogus length: capped */
	g_mutex_lock(&fake.lock);
	fake.unterminated = TRUE;
	g_mutex_unlock(&fake.lock);
	readers = sdr_pcsc_list_readers(&error);
	assert_non_null(readers);
	assert_int_equal(readers->len, 2);
	r = readers->pdata[1];
	assert_string_equal(r->name, "Card");
	assert_true(r->card_present);
	assert_int_equal(g_bytes_get_size(r->atr), 33);
	assert_true(g_str_has_prefix(r->atr_hex, "3B 02 14 50 00"));
	assert_false(((SdrReaderInfo *)readers->pdata[0])->card_present);
	g_clear_pointer(&readers, g_ptr_array_unref);

	fake_set_service(FALSE);
	readers = sdr_pcsc_list_readers(&error);
	assert_null(readers);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NO_READER));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_state_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bogus_atr_length_is_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_vanishing_between_list_and_wait, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_service_down_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_error_does_not_spin, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_at_most_16_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_readers, setup, teardown),
	};

	g_mutex_init(&fake.lock);
	g_cond_init(&fake.changed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
