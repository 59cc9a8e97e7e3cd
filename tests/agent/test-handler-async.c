/* test-handler-async.c - the asynchronous handler API (sdr_handler_run_async):
 * a batch of CLI documents signed in a worker thread with the file key of the test
 * PKI; progress delivered on the caller's main context and counted; cancellation
 * in the middle of the batch (the documents done are complete, valid signatures,
 * the others not signed and no file created for them); the synchronous form with
 * its progress in the calling thread. */
#include "sdr-context.h"
#include "sdr-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <openssl/cms.h>

#define N_DOCS 200

static gboolean
yes_consent(SdrPrompt *prompt, const SdrConsentRequest *req, GError **error)
{
	return TRUE;
}

static SdrSecret *
no_pin(SdrPrompt *prompt, const SdrPinPromptRequest *req, GError **error)
{
	fail_msg("a file key needs no PIN");
	return NULL;
}

static void
prompt_free(SdrPrompt *prompt)
{
	g_free(prompt);
}

static const SdrPromptClass yes_class = { yes_consent, no_pin, NULL, NULL, prompt_free, NULL };

static char *pki;
static char *tmp;

static int
setup_pki(void **state)
{
	const char *src = g_getenv("SINADUR_SOURCE_ROOT");
	g_autofree char *cmd = NULL;

	tmp = g_dir_make_tmp("sdr-handler-async-XXXXXX", NULL);
	pki = g_build_filename(tmp, "pki", NULL);
	cmd = g_strdup_printf("sh '%s/tests/fixtures/make-pki.sh' '%s' >/dev/null", src, pki);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown_pki(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);

	if (system(cmd) != 0)
		return -1;
	g_free(pki);
	g_free(tmp);
	return 0;
}

static SdrContext *
make_ctx(SdrPrompt *prompt, SdrConfig *config)
{
	SdrContextOptions o = { .config = config, .prompt = prompt };
	SdrContext *ctx = sdr_context_new(&o);
	g_autofree char *key = g_build_filename(pki, "user-rsa.key", NULL);
	g_autofree char *cert = g_build_filename(pki, "user-rsa.pem", NULL);
	g_autofree char *chain = g_build_filename(pki, "chain.pem", NULL);
	g_autofree char *audit = g_build_filename(tmp, "audit.log", NULL);
	g_autoptr(GError) error = NULL;

	assert_true(sdr_context_set_signer_files(ctx, key, cert, chain, &error));
	sdr_context_set_audit_path(ctx, audit);
	return ctx;
}

static char *
doc_text(guint i)
{
	return g_strdup_printf("Délibération n° %u du conseil municipal\n", i);
}

/* N_DOCS small files in dir/in, outputs asked in dir/out. */
static JsonObject *
batch_request(const char *dir)
{
	g_autofree char *in = g_build_filename(dir, "in", NULL);
	g_autofree char *out = g_build_filename(dir, "out", NULL);
	JsonObject *req = json_object_new();
	JsonArray *docs = json_array_new();

	assert_int_equal(g_mkdir_with_parents(in, 0700), 0);
	for (guint i = 0; i < N_DOCS; i++) {
		g_autofree char *name = g_strdup_printf("doc-%03u.txt", i);
		g_autofree char *path = g_build_filename(in, name, NULL);
		g_autofree char *text = doc_text(i);
		JsonObject *d = json_object_new();

		assert_true(g_file_set_contents(path, text, -1, NULL));
		json_object_set_string_member(d, "path", path);
		json_array_add_object_element(docs, d);
	}
	json_object_set_string_member(req, "format", "cades");
	json_object_set_string_member(req, "output_dir", out);
	json_object_set_array_member(req, "documents", docs);
	return req;
}

static guint
count_files(const char *dir, const char *suffix)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint n = 0;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL)
		n += suffix == NULL || g_str_has_suffix(name, suffix);
	return n;
}

static void
assert_valid_cades(const char *sig_path, guint i)
{
	g_autofree char *der = NULL;
	g_autofree char *text = doc_text(i);
	gsize len = 0;
	const unsigned char *p;
	CMS_ContentInfo *cms;
	BIO *data;

	assert_true(g_file_get_contents(sig_path, &der, &len, NULL));
	p = (const unsigned char *)der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	assert_non_null(cms);
	data = BIO_new_mem_buf(text, (int)strlen(text));
	assert_int_equal(
	        CMS_verify(cms, NULL, NULL, data, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY), 1);
	CMS_ContentInfo_free(cms);
	BIO_free(data);
}

typedef struct {
	GMainLoop *loop;
	GMainContext *main_context;
	GThread *main_thread;
	GCancellable *cancellable;
	guint cancel_at; /* 0: never */
	guint calls;
	guint last_done, total;
	gboolean wrong_thread, not_in_order;
	gboolean final_seen;
	JsonNode *answer;
	GError *error;
	SdrContext *ctx;
} Run;

static void
on_progress(guint done, guint total, const char *current, gpointer data)
{
	Run *run = data;

	if (g_thread_self() != run->main_thread ||
	    (run->main_context != NULL && !g_main_context_is_owner(run->main_context)))
		run->wrong_thread = TRUE;
	if (run->calls > 0 && done < run->last_done)
		run->not_in_order = TRUE;
	if (current == NULL)
		run->final_seen = TRUE;
	run->calls++;
	run->last_done = done;
	run->total = total;
	if (run->cancel_at != 0 && done >= run->cancel_at)
		g_cancellable_cancel(run->cancellable);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer data)
{
	Run *run = data;

	if (g_thread_self() != run->main_thread || !g_main_context_is_owner(run->main_context))
		run->wrong_thread = TRUE;
	run->answer = sdr_handler_run_finish(run->ctx, result, &run->error);
	g_main_loop_quit(run->loop);
}

/* Run asynchronously from a main context of the test's own (thread default): the
 * progress and the answer come there, and only there. */
static void
run_async(Run *run, JsonObject *req)
{
	run->main_context = g_main_context_new();
	run->main_thread = g_thread_self();
	g_main_context_push_thread_default(run->main_context);
	run->loop = g_main_loop_new(run->main_context, FALSE);
	sdr_handler_run_async_full(run->ctx, "sign", req, run->cancellable, on_progress, run,
	                           on_done, run);
	g_main_loop_run(run->loop);
	g_main_context_pop_thread_default(run->main_context);
	g_main_loop_unref(run->loop);
	/* Nothing left to deliver after the answer. */
	assert_false(g_main_context_pending(run->main_context));
	g_main_context_unref(run->main_context);
	run->main_context = NULL;
}

static void
test_async_batch(void **state)
{
	SdrPrompt *prompt = g_new0(SdrPrompt, 1);
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = NULL;
	g_autofree char *dir = g_build_filename(tmp, "all", NULL);
	g_autofree char *out = g_build_filename(dir, "out", NULL);
	g_autoptr(JsonObject) req = batch_request(dir);
	Run run = { 0 };
	JsonObject *o;

	prompt->klass = &yes_class;
	ctx = make_ctx(prompt, config);
	run.ctx = ctx;
	run.cancellable = g_cancellable_new();
	run_async(&run, req);
	if (run.answer == NULL)
		fail_msg("sign: %s", run.error->message);
	o = json_node_get_object(run.answer);
	assert_int_equal(json_object_get_int_member(o, "signed"), N_DOCS);
	assert_false(json_object_has_member(o, "error"));
	/* One call per document (before it) and one at the end. */
	assert_int_equal(run.calls, N_DOCS + 1);
	assert_int_equal(run.total, N_DOCS);
	assert_int_equal(run.last_done, N_DOCS);
	assert_true(run.final_seen);
	assert_false(run.wrong_thread);
	assert_false(run.not_in_order);
	assert_int_equal(count_files(out, ".p7s"), N_DOCS);
	json_node_unref(run.answer);
	g_object_unref(run.cancellable);
	sdr_prompt_free(prompt);
}

static void
test_async_cancel(void **state)
{
	SdrPrompt *prompt = g_new0(SdrPrompt, 1);
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = NULL;
	g_autofree char *dir = g_build_filename(tmp, "cancel", NULL);
	g_autofree char *out = g_build_filename(dir, "out", NULL);
	g_autoptr(JsonObject) req = batch_request(dir);
	Run run = { 0 };
	JsonObject *o, *err;
	JsonArray *results;
	guint n_ok = 0, n_not = 0;

	prompt->klass = &yes_class;
	ctx = make_ctx(prompt, config);
	run.ctx = ctx;
	run.cancellable = g_cancellable_new();
	run.cancel_at = 3;
	run_async(&run, req);
	/* A cancelled batch answers: the results, and the error that stopped it. */
	if (run.answer == NULL)
		fail_msg("sign: %s", run.error->message);
	assert_false(run.wrong_thread);
	o = json_node_get_object(run.answer);
	err = json_object_get_object_member(o, "error");
	assert_non_null(err);
	assert_string_equal(json_object_get_string_member(err, "code"), "SDR_ERROR_CANCELLED");
	results = json_object_get_array_member(o, "results");
	assert_int_equal(json_array_get_length(results), N_DOCS);
	for (guint i = 0; i < N_DOCS; i++) {
		JsonObject *r = json_array_get_object_element(results, i);
		const char *status = json_object_get_string_member(r, "status");
		g_autofree char *name = g_strdup_printf("doc-%03u.txt.p7s", i);
		g_autofree char *path = g_build_filename(out, name, NULL);

		if (g_str_equal(status, "ok")) {
			/* Done ones first, in order, each a complete, valid signature. */
			assert_int_equal(n_not, 0);
			assert_string_equal(json_object_get_string_member(r, "output"), path);
			assert_valid_cades(path, i);
			n_ok++;
		} else {
			assert_string_equal(status, "not_signed");
			assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
			n_not++;
		}
	}
	assert_true(n_ok >= 3);
	assert_true(n_ok < N_DOCS);
	assert_int_equal(json_object_get_int_member(o, "signed"), n_ok);
	assert_int_equal(json_object_get_int_member(o, "not_signed"), n_not);
	/* Nothing else in the output folder: no temporary file left. */
	assert_int_equal(count_files(out, NULL), n_ok);
	json_node_unref(run.answer);
	g_object_unref(run.cancellable);
	sdr_prompt_free(prompt);
}

static void
test_sync_progress(void **state)
{
	SdrPrompt *prompt = g_new0(SdrPrompt, 1);
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = NULL;
	g_autofree char *dir = g_build_filename(tmp, "sync", NULL);
	g_autoptr(JsonObject) req = batch_request(dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = NULL;
	Run run = { 0 };

	prompt->klass = &yes_class;
	ctx = make_ctx(prompt, config);
	run.main_thread = g_thread_self();
	answer = sdr_handler_run_full(ctx, "sign", req, NULL, on_progress, &run, &error);
	if (answer == NULL)
		fail_msg("sign: %s", error->message);
	/* Synchronous: in the calling thread, as the documents go. */
	assert_false(run.wrong_thread);
	assert_int_equal(run.calls, N_DOCS + 1);
	assert_int_equal(run.last_done, N_DOCS);
	sdr_prompt_free(prompt);
}

static void
test_async_cancelled_before(void **state)
{
	SdrPrompt *prompt = g_new0(SdrPrompt, 1);
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = NULL;
	Run run = { 0 };

	prompt->klass = &yes_class;
	ctx = make_ctx(prompt, config);
	run.ctx = ctx;
	run.cancellable = g_cancellable_new();
	g_cancellable_cancel(run.cancellable);
	run_async(&run, NULL);
	assert_null(run.answer);
	assert_true(g_error_matches(run.error, SDR_ERROR, SDR_ERROR_CANCELLED));
	assert_int_equal(run.calls, 0);
	g_clear_error(&run.error);
	g_object_unref(run.cancellable);
	sdr_prompt_free(prompt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_batch),
		cmocka_unit_test(test_async_cancel),
		cmocka_unit_test(test_sync_progress),
		cmocka_unit_test(test_async_cancelled_before),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
