/* test-probe.c - the module probe (sinadur-p11-probe started by sdr_module_probe)
 * in a process whose other threads hold locks, and the probe's own failures.
 *
 * The regression: the probe used to be a fork()ed child that called dlopen() and
 * the module's C_Initialize(). A child forked while another thread holds a lock the
 * module also takes (libcrypto's, libpcsclite's, GLib's: libraries both sides use)
 * waits on it for ever; sinadur-agent hung 15 s so. Here one thread holds such a
 * lock (libsdr-test-lock.so) nearly all the time and another calls OpenSSL and
 * malloc in a loop, while lock-module.so (which takes that lock in C_Initialize) and
 * the SoftHSM test module are probed 50 times each, each within a deadline. With
 * the fork() probe one of the first probes of lock-module.so hangs (checked by
 * linking this test with the old sdr-module.c: "probe 1 of .../sdr-lock-module.so:
 * ... did not answer within 10 seconds").
 *
 * Environment (meson): SDR_TESTP11 (test module), SDR_CRASH_MODULE,
 * SDR_LOCK_MODULE, SINADUR_P11_PROBE (this build's probe), SINADUR_LOCALEDIR.
 */
#include "sdr-i18n.h"
#include "sdr-token-private.h"
#include "test-lock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"
#define PROBES 50
#define PROBE_DEADLINE_MS 10000

static char *tmp_dir;
static const char *testp11;
static const char *crash_module;
static const char *lock_module;

/* ---- the busy threads ---------------------------------------------------------- */

static gint stop_threads;
static gint lock_rounds;
static gint openssl_rounds;

/* Holds the shared lock 20 ms out of every ~20.2 ms: a fork() lands inside. */
static gpointer
lock_holder(gpointer unused)
{
	while (!g_atomic_int_get(&stop_threads)) {
		sdr_test_lock_hold(20);
		g_atomic_int_inc(&lock_rounds);
		g_usleep(200);
	}
	return NULL;
}

/* OpenSSL's method store, its random generator, the error queue and malloc. */
static gpointer
openssl_loop(gpointer unused)
{
	unsigned char data[64] = { 0 }, md[EVP_MAX_MD_SIZE];
	guint n = 0;

	while (!g_atomic_int_get(&stop_threads)) {
		EVP_MD *sha = EVP_MD_fetch(NULL, (n & 1) ? "SHA2-256" : "SHA2-384", NULL);
		unsigned int len = 0;

		assert_non_null(sha);
		assert_int_equal(EVP_Digest(data, sizeof data, md, &len, sha, NULL), 1);
		EVP_MD_free(sha);
		assert_int_equal(RAND_bytes(data, sizeof data), 1);
		g_free(g_malloc(1 + n % 65536));
		ERR_clear_error();
		n++;
		g_atomic_int_inc(&openssl_rounds);
	}
	return NULL;
}

static void
test_probe_while_locks_held(void **unused)
{
	g_autoptr(GThread) holder = NULL;
	g_autoptr(GThread) crypto = NULL;
	GError *error = NULL;
	SdrTokenOptions opts = { 0 };
	SdrTokenManager *m;
	gint64 start;

	g_atomic_int_set(&stop_threads, 0);
	holder = g_thread_new("lock-holder", lock_holder, NULL);
	crypto = g_thread_new("openssl-loop", openssl_loop, NULL);
	while (g_atomic_int_get(&openssl_rounds) == 0 || g_atomic_int_get(&lock_rounds) == 0)
		g_usleep(1000);

	for (int i = 0; i < PROBES; i++) {
		const char *modules[] = { lock_module, testp11 };

		for (gsize k = 0; k < G_N_ELEMENTS(modules); k++) {
			start = g_get_monotonic_time();
			/* A hang is reported when the probe's deadline passes. */
			if (!sdr_module_probe(modules[k], PROBE_DEADLINE_MS, &error))
				fail_msg("probe %d of %s: %s", i, modules[k], error->message);
			assert_true(g_get_monotonic_time() - start < PROBE_DEADLINE_MS * 1000);
		}
	}

	/* The whole path: probe, then loading in this process (whose C_Initialize
	 * waits for the lock like any thread, and gets it). */
	opts.only_module = lock_module;
	opts.skip_p11kit = TRUE;
	opts.skip_known = TRUE;
	opts.isolate_init = TRUE;
	m = sdr_token_manager_new(&opts, &error);
	if (m == NULL)
		fail_msg("manager: %s", error->message);
	assert_true(((SdrModuleInfo *)sdr_token_manager_get_modules(m)->pdata[0])->loaded);
	sdr_token_manager_free(m);

	g_atomic_int_set(&stop_threads, 1);
	g_thread_join(g_steal_pointer(&holder));
	g_thread_join(g_steal_pointer(&crypto));
	/* The threads really ran while the probes did. */
	assert_true(g_atomic_int_get(&lock_rounds) > PROBES / 10);
	assert_true(g_atomic_int_get(&openssl_rounds) > PROBES);
}

/* ---- the probe's own failures ---------------------------------------------------- */

static char *
write_script(const char *name, const char *body)
{
	char *path = g_build_filename(tmp_dir, name, NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_int_equal(g_chmod(path, 0755), 0);
	return path;
}

static void
expect_probe_error(const char *module, const char *part)
{
	GError *error = NULL;

	assert_false(sdr_module_probe(module, PROBE_DEADLINE_MS, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD));
	if (strstr(error->message, part) == NULL)
		fail_msg("'%s' not in: %s", part, error->message);
	assert_non_null(strstr(error->message, module));
	g_clear_error(&error);
}

static void
test_probe_program_failures(void **unused)
{
	g_autofree char *program = g_strdup(g_getenv("SINADUR_P11_PROBE"));
	g_autofree char *junk = write_script("junk-probe", "printf 'hello\\nend\\n'");
	g_autofree char *flood = write_script("flood-probe", "exec yes");
	g_autofree char *half = write_script("half-probe", "printf 'sinadur-p11-probe 1\\n'");
	g_autofree char *fake_ok =
	        write_script("fake-ok", "printf 'sinadur-p11-probe 1\\nstage ok\\nrv "
	                                "0x00000000\\ncryptoki 2.40\\nslots 1\\nmanufacturer "
	                                "x\\ndescription y\\ndetail \\nend\\n'");
	GError *error = NULL;
	gint64 start;

	assert_non_null(program);
	/* The program itself is missing: said, and nothing loaded. */
	g_setenv("SINADUR_P11_PROBE", "/nonexistent/sinadur-p11-probe", TRUE);
	expect_probe_error(testp11, "/nonexistent/sinadur-p11-probe");
	/* Answers that are no report. */
	g_setenv("SINADUR_P11_PROBE", junk, TRUE);
	expect_probe_error(testp11, "unreadable");
	g_setenv("SINADUR_P11_PROBE", half, TRUE);
	expect_probe_error(testp11, "ended the process");
	/* An endless answer is cut at the size limit, promptly. */
	g_setenv("SINADUR_P11_PROBE", flood, TRUE);
	start = g_get_monotonic_time();
	expect_probe_error(testp11, "4096");
	assert_true(g_get_monotonic_time() - start < PROBE_DEADLINE_MS * 1000);
	/* A well-formed report is believed (the parser is the only judge). */
	g_setenv("SINADUR_P11_PROBE", fake_ok, TRUE);
	assert_true(sdr_module_probe("/whatever.so", PROBE_DEADLINE_MS, &error));
	g_setenv("SINADUR_P11_PROBE", program, TRUE);

	/* The real probe on modules that fail at each stage. */
	expect_probe_error("/nonexistent/libnothing.so", "does not exist");
	expect_probe_error("/etc/hostname", "not a loadable library");
}

/* The messages a person reads are French. */
static void
test_probe_french(void **unused)
{
	GError *error = NULL;

	g_setenv("LANGUAGE", "fr", TRUE);
	sdr_i18n_init();
	assert_false(sdr_module_probe(crash_module, PROBE_DEADLINE_MS, &error));
	if (strstr(error->message, "a planté pendant son initialisation") == NULL)
		fail_msg("not French: %s", error->message);
	g_clear_error(&error);
	g_setenv("SDR_CRASH_MODE", "hang", TRUE);
	assert_false(sdr_module_probe(crash_module, 300, &error));
	if (strstr(error->message, "n’a pas répondu") == NULL)
		fail_msg("not French: %s", error->message);
	g_clear_error(&error);
	g_unsetenv("SDR_CRASH_MODE");
	g_unsetenv("LANGUAGE");
}

/* ---- fixture ---------------------------------------------------------------------- */

static int
group_setup(void **unused)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *conf = NULL, *tokens = NULL, *state = NULL;
	g_autofree char *text = NULL;

	testp11 = g_getenv("SDR_TESTP11");
	crash_module = g_getenv("SDR_CRASH_MODULE");
	lock_module = g_getenv("SDR_LOCK_MODULE");
	if (testp11 == NULL || crash_module == NULL || lock_module == NULL ||
	    g_getenv("SINADUR_P11_PROBE") == NULL)
		return -1;
	tmp_dir = g_dir_make_tmp("sdr-probe-XXXXXX", &error);
	if (tmp_dir == NULL)
		return -1;
	/* An empty SoftHSM (one free slot): C_Initialize does its OpenSSL set-up. */
	tokens = g_build_filename(tmp_dir, "tokens", NULL);
	state = g_build_filename(tmp_dir, "testp11", NULL);
	conf = g_build_filename(tmp_dir, "softhsm2.conf", NULL);
	text = g_strdup_printf("directories.tokendir = %s\nobjectstore.backend = file\n"
	                       "log.level = ERROR\n",
	                       tokens);
	if (g_mkdir_with_parents(tokens, 0700) != 0 || g_mkdir_with_parents(state, 0700) != 0 ||
	    !g_file_set_contents(conf, text, -1, NULL))
		return -1;
	g_setenv("SOFTHSM2_CONF", conf, TRUE);
	g_setenv("SDR_TESTP11_DIR", state, TRUE);
	return 0;
}

static int
group_teardown(void **unused)
{
	if (tmp_dir != NULL) {
		const char *argv[] = { "rm", "-rf", tmp_dir, NULL };
		(void)g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
		                   NULL, NULL, NULL);
	}
	g_clear_pointer(&tmp_dir, g_free);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_while_locks_held),
		cmocka_unit_test(test_probe_program_failures),
		cmocka_unit_test(test_probe_french),
	};

	if (!g_file_test(SOFTHSM, G_FILE_TEST_EXISTS)) {
		g_print("SKIP: SoftHSM2 is not installed\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
