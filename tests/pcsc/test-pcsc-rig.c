/* test-pcsc-rig.c - the PC/SC watcher against a real pcscd and a virtual card.
 *
 * Run by pcsc-rig.sh inside private mount and network namespaces where /run is a
 * temporary folder: this program starts and stops pcscd and sdr-vcard itself so
 * that it can time what the watcher reports, in a GMainLoop, after each action:
 *   - watcher started before pcscd: SERVICE_DOWN; list_readers: SDR_ERROR_NO_READER;
 *   - pcscd started with no reader: SERVICE_UP, list_readers gives an empty list, and
 *     the watcher idles (no event, almost no CPU for 1 s); stopped: SERVICE_DOWN;
 *   - pcscd started with vpcd: SERVICE_UP, the vpcd readers added;
 *   - card plugged (sdr-vcard connects to vpcd): CARD_INSERTED (< 1 s; the time from
 *     the program start, NSS included, is reported too) with the libcacard ATR, which the
 *     ATR table names; list_readers sees the card; pkcs11-tool with OpenSC lists the
 *     certificate on it, and so does the token manager with only OpenSC;
 *   - card program killed: CARD_REMOVED (< 1 s), the manager refreshed no longer
 *     lists the certificate; started again: CARD_INSERTED (< 1 s) and the manager
 *     finds the same certificate (same id) again;
 *   - pcscd stopped: CARD_REMOVED, READER_REMOVED, SERVICE_DOWN; a second watcher
 *     started and freed while the service is down stops at once;
 *   - pcscd restarted: SERVICE_UP and the card again (the card program reconnects);
 *   - the watcher is freed promptly.
 * Environment (set by pcsc-rig.sh): SDR_VCARD, SDR_RIG_DB, SDR_RIG_PORT, SDR_RIG_CONF,
 * SDR_RIG_EMPTY_CONF, SDR_RIG_LOGS, SDR_RIG_CN, SDR_RIG_OPENSC.
 */
#include "sdr-error.h"
#include "sdr-token.h"

#include <gio/gio.h>

#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VCARD_ATR_HEX "3B 89 00 56 43 41 52 44 5F 4E 53 53"
#define LATENCY_MAX_US (1000 * G_TIME_SPAN_MILLISECOND)
#define WAIT_US (5 * G_TIME_SPAN_SECOND)

typedef struct {
	SdrPcscEventKind kind;
	char *reader;
	GBytes *atr;
	gint64 when;
} RigEvent;

static GQueue events = G_QUEUE_INIT;
static GMainContext *main_ctx;
static int failures;
static GPtrArray *latencies; /* strings for the summary */

static const char *const kind_names[] = {
	[SDR_PCSC_EVENT_READER_ADDED] = "READER_ADDED",
	[SDR_PCSC_EVENT_READER_REMOVED] = "READER_REMOVED",
	[SDR_PCSC_EVENT_CARD_INSERTED] = "CARD_INSERTED",
	[SDR_PCSC_EVENT_CARD_REMOVED] = "CARD_REMOVED",
	[SDR_PCSC_EVENT_SERVICE_UP] = "SERVICE_UP",
	[SDR_PCSC_EVENT_SERVICE_DOWN] = "SERVICE_DOWN",
};

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok   ");                                                           \
		} else {                                                                           \
			printf("FAIL ");                                                           \
			failures++;                                                                \
		}                                                                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
	} while (0)

static void
rig_event_free(RigEvent *ev)
{
	if (ev == NULL)
		return;
	g_free(ev->reader);
	if (ev->atr != NULL)
		g_bytes_unref(ev->atr);
	g_free(ev);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RigEvent, rig_event_free)

static void
on_event(const SdrPcscEvent *event, gpointer user_data)
{
	RigEvent *ev = g_new0(RigEvent, 1);

	ev->kind = event->kind;
	ev->reader = g_strdup(event->reader);
	if (event->atr != NULL)
		ev->atr = g_bytes_new(event->atr, event->atr_len);
	ev->when = g_get_monotonic_time();
	printf("     event %s %s\n", kind_names[ev->kind], ev->reader ? ev->reader : "");
	fflush(stdout);
	g_queue_push_tail(&events, ev);
}

static gboolean
on_deadline(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the main context for a while. */
static void
run_for(guint ms)
{
	gboolean expired = FALSE;
	GSource *timer = g_timeout_source_new(ms);

	g_source_set_callback(timer, on_deadline, &expired, NULL);
	g_source_attach(timer, main_ctx);
	while (!expired)
		g_main_context_iteration(main_ctx, TRUE);
	g_source_unref(timer);
}

/* Drops what was reported so far (dispatching what is pending). */
static void
drain(void)
{
	while (g_main_context_iteration(main_ctx, FALSE)) {
	}
	g_queue_clear_full(&events, (GDestroyNotify)rig_event_free);
}

/* Waits for an event of this kind (and reader prefix); earlier events of other
 * kinds stay queued. NULL on timeout. */
static RigEvent *
wait_event(SdrPcscEventKind kind, const char *reader_prefix, gint64 timeout_us)
{
	gboolean expired = FALSE;
	GSource *timer = g_timeout_source_new((guint)(timeout_us / 1000));
	RigEvent *found = NULL;

	g_source_set_callback(timer, on_deadline, &expired, NULL);
	g_source_attach(timer, main_ctx);
	while (found == NULL) {
		for (GList *l = events.head; l != NULL; l = l->next) {
			RigEvent *ev = l->data;

			if (ev->kind == kind &&
			    (reader_prefix == NULL ||
			     (ev->reader != NULL && g_str_has_prefix(ev->reader, reader_prefix)))) {
				found = ev;
				g_queue_delete_link(&events, l);
				break;
			}
		}
		if (found != NULL || expired)
			break;
		g_main_context_iteration(main_ctx, TRUE);
	}
	g_source_destroy(timer);
	g_source_unref(timer);
	return found;
}

static GSubprocess *
spawn_logged(const char *log_name, const char *const *argv)
{
	g_autoptr(GSubprocessLauncher) launcher =
	        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	g_autofree char *log = g_build_filename(g_getenv("SDR_RIG_LOGS"), log_name, (char *)NULL);
	g_autoptr(GError) error = NULL;
	GSubprocess *p;

	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	p = g_subprocess_launcher_spawnv(launcher, argv, &error);
	if (p == NULL) {
		fprintf(stderr, "cannot start %s: %s\n", argv[0], error->message);
		exit(1);
	}
	return p;
}

static GSubprocess *
start_pcscd(const char *conf_dir)
{
	const char *argv[] = { "pcscd", "--foreground", "--config", conf_dir, NULL };

	return spawn_logged("pcscd.log", argv);
}

/* Starts the card program and "plugs" the card: sdr-vcard initialises NSS and
 * SoftHSM, says "initialized", and connects to vpcd only on SIGUSR1, so that the
 * measured latency is the one of the insertion, not of NSS start-up. *started and
 * *plugged receive the monotonic times of the start and of the plug. */
static GSubprocess *
start_card(gint64 *started, gint64 *plugged)
{
	const char *argv[] = { g_getenv("SDR_VCARD"),    "--db",
		               g_getenv("SDR_RIG_DB"),   "--port",
		               g_getenv("SDR_RIG_PORT"), "--reconnect",
		               "--plug-on-signal",       NULL };
	g_autoptr(GSubprocessLauncher) launcher =
	        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autofree char *log =
	        g_build_filename(g_getenv("SDR_RIG_LOGS"), "vcard.log", (char *)NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *line = NULL;
	GSubprocess *p;

	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	*started = g_get_monotonic_time();
	p = g_subprocess_launcher_spawnv(launcher, argv, &error);
	if (p == NULL) {
		fprintf(stderr, "cannot start %s: %s\n", argv[0], error->message);
		exit(1);
	}
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	if (line == NULL || !g_str_equal(line, "initialized")) {
		fprintf(stderr, "sdr-vcard did not start: %s\n", error ? error->message : "EOF");
		exit(1);
	}
	*plugged = g_get_monotonic_time();
	g_subprocess_send_signal(p, SIGUSR1);
	return p;
}

static void
stop_process(GSubprocess **p, int sig)
{
	if (*p == NULL)
		return;
	g_subprocess_send_signal(*p, sig);
	g_subprocess_wait(*p, NULL, NULL);
	g_clear_object(p);
}

static void
record_latency(const char *what, gint64 us)
{
	g_ptr_array_add(latencies, g_strdup_printf("%s %.1f ms", what, us / 1000.0));
}

/* Waits for an event and checks it came within the latency budget after t0. */
static RigEvent *
expect_event(SdrPcscEventKind kind, const char *reader, gint64 t0, gint64 budget, const char *what)
{
	RigEvent *ev = wait_event(kind, reader, WAIT_US);

	if (ev == NULL) {
		CHECK(FALSE, "%s: %s reported (none within %d s)", what, kind_names[kind],
		      (int)(WAIT_US / G_TIME_SPAN_SECOND));
		return NULL;
	}
	record_latency(what, ev->when - t0);
	if (budget > 0)
		CHECK(ev->when - t0 < budget, "%s: %s after %.1f ms (< %.0f ms)", what,
		      kind_names[kind], (ev->when - t0) / 1000.0, budget / 1000.0);
	else
		CHECK(TRUE, "%s: %s after %.1f ms", what, kind_names[kind],
		      (ev->when - t0) / 1000.0);
	return ev;
}

/* The insertion event, timed from the plug (asserted) and from the program start
 * (reported). */
static RigEvent *
expect_insertion(gint64 started, gint64 plugged, gint64 budget, const char *what)
{
	RigEvent *ev = expect_event(SDR_PCSC_EVENT_CARD_INSERTED, "Virtual PCD 00 00", plugged,
	                            budget, what);

	if (ev != NULL) {
		g_autofree char *label = g_strdup_printf("%s from program start", what);

		record_latency(label, ev->when - started);
	}
	return ev;
}

static const SdrReaderInfo *
find_reader(GPtrArray *readers, const char *prefix)
{
	for (guint i = 0; readers != NULL && i < readers->len; i++) {
		const SdrReaderInfo *r = readers->pdata[i];

		if (g_str_has_prefix(r->name, prefix))
			return r;
	}
	return NULL;
}

static void
check_card_listed(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) readers = sdr_pcsc_list_readers(&error);
	const SdrReaderInfo *r = find_reader(readers, "Virtual PCD 00 00");

	CHECK(readers != NULL, "list_readers with the card: %s",
	      error ? error->message : "success");
	CHECK(r != NULL && r->card_present, "list_readers: card present in Virtual PCD 00 00");
	if (r == NULL || !r->card_present)
		return;
	CHECK(g_strcmp0(r->atr_hex, VCARD_ATR_HEX) == 0, "list_readers: ATR %s", r->atr_hex);
	CHECK(r->module_hint != NULL && strstr(r->module_hint, "opensc") != NULL,
	      "list_readers: ATR table names %s -> %s", r->card_name ? r->card_name : "(none)",
	      r->module_hint ? r->module_hint : "(none)");
}

static void
check_opensc_lists_certificate(void)
{
	const char *argv[] = {
		"pkcs11-tool", "--module", g_getenv("SDR_RIG_OPENSC"), "--list-objects", "--type",
		"cert",        NULL
	};
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	const char *cn = g_getenv("SDR_RIG_CN");
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
	                  &status, &error)) {
		CHECK(FALSE, "pkcs11-tool runs: %s", error->message);
		return;
	}
	CHECK(status == 0 && out != NULL && strstr(out, cn) != NULL,
	      "pkcs11-tool --module opensc-pkcs11.so lists the certificate of %s", cn);
	if (out == NULL || strstr(out, cn) == NULL)
		printf("%s\n%s\n", out ? out : "", err ? err : "");
}

/* Lists the certificates through the token manager; returns the id of the one whose
 * holder is SDR_RIG_CN, or NULL. */
static char *
manager_find_cert(SdrTokenManager *manager, gboolean refresh, const char *when)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) certs = NULL;
	const char *cn = g_getenv("SDR_RIG_CN");

	if (refresh && !sdr_token_manager_refresh(manager, &error)) {
		CHECK(FALSE, "%s: manager refresh: %s", when, error->message);
		return NULL;
	}
	certs = sdr_token_manager_list_certificates(manager, &error);
	if (certs == NULL) {
		CHECK(FALSE, "%s: manager lists certificates: %s", when, error->message);
		return NULL;
	}
	for (guint i = 0; i < certs->len; i++) {
		const SdrCertInfo *c = certs->pdata[i];

		if (g_strcmp0(c->subject_cn, cn) == 0)
			return g_strdup(c->id);
	}
	return NULL;
}

static void
check_no_service(const char *when)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) readers = sdr_pcsc_list_readers(&error);

	CHECK(readers == NULL && g_error_matches(error, SDR_ERROR, SDR_ERROR_NO_READER),
	      "%s: list_readers gives SDR_ERROR_NO_READER (%s)", when,
	      error ? error->message : "no error");
}

static void
check_prompt_free(SdrPcscWatcher *w, const char *when)
{
	gint64 t0 = g_get_monotonic_time();

	sdr_pcsc_watcher_free(w);
	record_latency(when, g_get_monotonic_time() - t0);
	CHECK(g_get_monotonic_time() - t0 < 500 * G_TIME_SPAN_MILLISECOND,
	      "%s: watcher freed in %.1f ms", when, (g_get_monotonic_time() - t0) / 1000.0);
}

int
main(void)
{
	g_autoptr(GSubprocess) pcscd = NULL;
	g_autoptr(GSubprocess) card = NULL;
	g_autoptr(SdrTokenManager) manager = NULL;
	g_autofree char *cert_id = NULL;
	SdrPcscWatcher *watcher;
	gint64 t0, t_start;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (const char *const *v =
	             (const char *const[]){ "SDR_VCARD", "SDR_RIG_DB", "SDR_RIG_PORT",
	                                    "SDR_RIG_CONF", "SDR_RIG_EMPTY_CONF", "SDR_RIG_LOGS",
	                                    "SDR_RIG_CN", "SDR_RIG_OPENSC", NULL };
	     *v != NULL; v++) {
		if (g_getenv(*v) == NULL) {
			fprintf(stderr, "%s is not set: run through pcsc-rig.sh\n", *v);
			return 2;
		}
	}
	latencies = g_ptr_array_new_with_free_func(g_free);
	main_ctx = g_main_context_new();
	g_main_context_push_thread_default(main_ctx);

	/* 1. No service yet: a state, not an error. */
	watcher = sdr_pcsc_watcher_new(main_ctx, on_event, NULL);
	g_autoptr(RigEvent) down0 = wait_event(SDR_PCSC_EVENT_SERVICE_DOWN, NULL, WAIT_US);
	CHECK(down0 != NULL, "watcher started without pcscd reports SERVICE_DOWN");
	check_no_service("without pcscd");

	/* 2. pcscd starts without any reader (the usual case: no token plugged): the
	 * watcher notices without polling (inotify), then stays quiet. */
	drain();
	t0 = g_get_monotonic_time();
	pcscd = start_pcscd(g_getenv("SDR_RIG_EMPTY_CONF"));
	{
		g_autoptr(RigEvent) up0 = expect_event(SDR_PCSC_EVENT_SERVICE_UP, NULL, t0,
		                                       LATENCY_MAX_US, "pcscd start (no reader)");
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) readers = sdr_pcsc_list_readers(&error);
		struct rusage before, after;
		gint64 cpu_us;

		CHECK(readers != NULL && readers->len == 0,
		      "list_readers with no reader: empty list, no error (%s)",
		      error ? error->message : "success");
		drain();
		getrusage(RUSAGE_SELF, &before);
		run_for(1000);
		getrusage(RUSAGE_SELF, &after);
		cpu_us = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * G_USEC_PER_SEC +
		         (after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
		         (after.ru_stime.tv_sec - before.ru_stime.tv_sec) * G_USEC_PER_SEC +
		         (after.ru_stime.tv_usec - before.ru_stime.tv_usec);
		CHECK(g_queue_is_empty(&events) && cpu_us < 50 * G_TIME_SPAN_MILLISECOND,
		      "idle for 1 s with no reader: %u event(s), %.1f ms of CPU",
		      g_queue_get_length(&events), cpu_us / 1000.0);
		record_latency("idle CPU for 1 s", cpu_us);
	}
	drain();
	t0 = g_get_monotonic_time();
	stop_process(&pcscd, SIGTERM);
	{
		g_autoptr(RigEvent) down = expect_event(SDR_PCSC_EVENT_SERVICE_DOWN, NULL, t0,
		                                        LATENCY_MAX_US, "pcscd stop (no reader)");
	}

	/* pcscd with the vpcd reader. */
	drain();
	t0 = g_get_monotonic_time();
	pcscd = start_pcscd(g_getenv("SDR_RIG_CONF"));
	g_autoptr(RigEvent) up1 =
	        expect_event(SDR_PCSC_EVENT_SERVICE_UP, NULL, t0, 0, "pcscd start");
	g_autoptr(RigEvent) added = expect_event(SDR_PCSC_EVENT_READER_ADDED, "Virtual PCD 00 00",
	                                         t0, 0, "pcscd start, vpcd reader");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) readers = sdr_pcsc_list_readers(&error);
		const SdrReaderInfo *r = find_reader(readers, "Virtual PCD 00 00");

		CHECK(r != NULL && !r->card_present, "list_readers: vpcd reader, no card (%s)",
		      error ? error->message : "success");
	}

	/* 3. Card in. */
	drain();
	card = start_card(&t_start, &t0);
	{
		g_autoptr(RigEvent) in = expect_insertion(t_start, t0, LATENCY_MAX_US, "insertion");
		const char *name = NULL, *module = NULL;

		CHECK(in != NULL && in->atr != NULL &&
		              sdr_atr_lookup(g_bytes_get_data(in->atr, NULL),
		                             g_bytes_get_size(in->atr), &name, &module),
		      "CARD_INSERTED carries the ATR the table knows (%s)", name ? name : "-");
	}
	check_card_listed();
	check_opensc_lists_certificate();
	{
		SdrTokenOptions opts = {
			.only_module = g_getenv("SDR_RIG_OPENSC"),
			.skip_p11kit = TRUE,
			.skip_known = TRUE,
			.isolate_init = TRUE,
		};
		g_autoptr(GError) error = NULL;

		manager = sdr_token_manager_new(&opts, &error);
		CHECK(manager != NULL, "token manager with only OpenSC: %s",
		      error ? error->message : "loaded");
		if (manager != NULL)
			cert_id = manager_find_cert(manager, FALSE, "card in");
		CHECK(cert_id != NULL, "token manager (OpenSC) lists the certificate of %s: id %s",
		      g_getenv("SDR_RIG_CN"), cert_id ? cert_id : "-");
	}

	/* 4. Card pulled, then back. */
	drain();
	t0 = g_get_monotonic_time();
	stop_process(&card, SIGKILL);
	{
		g_autoptr(RigEvent) out =
		        expect_event(SDR_PCSC_EVENT_CARD_REMOVED, "Virtual PCD 00 00", t0,
		                     LATENCY_MAX_US, "removal");
	}
	if (manager != NULL) {
		g_autofree char *id = manager_find_cert(manager, TRUE, "card out");

		CHECK(id == NULL, "token manager refreshed after removal: certificate gone");
	}
	drain();
	card = start_card(&t_start, &t0);
	{
		g_autoptr(RigEvent) in =
		        expect_insertion(t_start, t0, LATENCY_MAX_US, "re-insertion");
	}
	if (manager != NULL) {
		g_autofree char *id = manager_find_cert(manager, TRUE, "card back");

		CHECK(id != NULL && g_strcmp0(id, cert_id) == 0,
		      "token manager refreshed after re-insertion: same certificate %s",
		      id ? id : "-");
	}
	/* The manager goes before pcscd does: OpenSC's context dies with it. */
	g_clear_pointer(&manager, sdr_token_manager_free);

	/* 5. pcscd stopped. */
	drain();
	t0 = g_get_monotonic_time();
	stop_process(&pcscd, SIGTERM);
	{
		g_autoptr(RigEvent) out =
		        expect_event(SDR_PCSC_EVENT_CARD_REMOVED, NULL, t0, 0, "pcscd stop, card");
		g_autoptr(RigEvent) gone = expect_event(SDR_PCSC_EVENT_READER_REMOVED, NULL, t0, 0,
		                                        "pcscd stop, reader");
		g_autoptr(RigEvent) down = expect_event(SDR_PCSC_EVENT_SERVICE_DOWN, NULL, t0,
		                                        LATENCY_MAX_US, "pcscd stop");
	}
	check_no_service("pcscd stopped");
	{
		SdrPcscWatcher *second = sdr_pcsc_watcher_new(main_ctx, on_event, NULL);

		g_usleep(300 * G_TIME_SPAN_MILLISECOND); /* let it reach its wait */
		check_prompt_free(second, "free while pcscd is absent");
	}

	/* 6. pcscd back: the same watcher finds the service and the card again. */
	drain();
	t0 = g_get_monotonic_time();
	pcscd = start_pcscd(g_getenv("SDR_RIG_CONF"));
	{
		g_autoptr(RigEvent) up = expect_event(SDR_PCSC_EVENT_SERVICE_UP, NULL, t0,
		                                      3 * G_TIME_SPAN_SECOND, "pcscd restart");
		g_autoptr(RigEvent) in =
		        expect_event(SDR_PCSC_EVENT_CARD_INSERTED, "Virtual PCD 00 00", t0,
		                     3 * G_TIME_SPAN_SECOND, "pcscd restart, card");
	}
	check_card_listed();

	/* 7. Stop while blocked in SCardGetStatusChange. */
	check_prompt_free(watcher, "free while watching");

	stop_process(&card, SIGTERM);
	stop_process(&pcscd, SIGTERM);
	drain();
	g_main_context_pop_thread_default(main_ctx);
	g_main_context_unref(main_ctx);

	printf("latencies:");
	for (guint i = 0; i < latencies->len; i++)
		printf(" [%s]", (char *)latencies->pdata[i]);
	printf("\n");
	g_ptr_array_unref(latencies);
	printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
