/* test-prompt-script.c - the scripted prompter (a test facility) and the
 * handler table's argument errors that need no token. */
#include "sdr-context.h"
#include "sdr-error.h"
#include "sdr-prompt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>

static char *
write_script(const char *text)
{
	g_autoptr(GError) error = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("sdr-script-XXXXXX", &path, &error);

	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, text, -1, &error));
	return path;
}

static const SdrConsentRequest consent = { .format = "cades", .cert_subject = "Jean DUPONT" };
static const SdrPinPromptRequest pin_req = { .token_label = "RGS-TEST", .attempt = 1 };

static void
test_script_in_order(void **state)
{
	g_autofree char *path = write_script("# a comment\n\nconsent yes\npin 4321\n"
	                                     "confirm yes\nconsent no\ntimeout\nconfirm no\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = sdr_prompt_script_new(path, &error);
	g_autoptr(SdrSecret) pin = NULL;

	assert_non_null(p);
	assert_true(sdr_prompt_ask_consent(p, &consent, &error));
	pin = sdr_prompt_ask_pin(p, &pin_req, &error);
	assert_non_null(pin);
	assert_string_equal(sdr_secret_get(pin), "4321");
	assert_true(sdr_prompt_confirm_final_try(p, &pin_req, &error));
	assert_false(sdr_prompt_ask_consent(p, &consent, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED));
	g_clear_error(&error);
	assert_null(sdr_prompt_ask_pin(p, &pin_req, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TIMEOUT));
	g_clear_error(&error);
	assert_false(sdr_prompt_confirm_final_try(p, &pin_req, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY));
	g_clear_error(&error);
	/* Exhausted. */
	assert_false(sdr_prompt_ask_consent(p, &consent, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
	g_unlink(path);
}

static void
test_script_wrong_kind(void **state)
{
	g_autofree char *path = write_script("pin 1111\nconsent yes\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = sdr_prompt_script_new(path, &error);

	assert_non_null(p);
	/* A consent question meets a PIN line: refused, and the line is not consumed. */
	assert_false(sdr_prompt_ask_consent(p, &consent, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
	g_clear_error(&error);
	{
		g_autoptr(SdrSecret) pin = sdr_prompt_ask_pin(p, &pin_req, &error);
		assert_non_null(pin);
	}
	assert_true(sdr_prompt_ask_consent(p, &consent, &error));
	g_unlink(path);
}

static void
test_script_bad_lines(void **state)
{
	const char *bad[] = { "pinn 98765\n", "consent maybe\n", "pin\n", "timeout 3\n",
		              "confirm\n" };

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *path = write_script(bad[i]);
		g_autoptr(GError) error = NULL;
		SdrPrompt *p = sdr_prompt_script_new(path, &error);

		assert_null(p);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
		/* Never echo the line: it may hold a PIN. */
		assert_null(strstr(error->message, "98765"));
		g_unlink(path);
	}
	{
		g_autoptr(GError) error = NULL;
		assert_null(sdr_prompt_script_new("/nonexistent/script", &error));
		assert_non_null(error);
	}
}

#define N_THREADS 4
#define N_PER_THREAD 50

static gpointer
consume(gpointer data)
{
	SdrPrompt *p = data;
	guint ok = 0;

	for (guint i = 0; i < N_PER_THREAD; i++) {
		g_autoptr(GError) error = NULL;
		if (sdr_prompt_ask_consent(p, &consent, &error))
			ok++;
	}
	return GUINT_TO_POINTER(ok);
}

static void
test_script_threads(void **state)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = NULL;
	GThread *threads[N_THREADS];
	guint total = 0;

	for (guint i = 0; i < N_THREADS * N_PER_THREAD - 3; i++)
		g_string_append(text, "consent yes\n");
	path = write_script(text->str);
	p = sdr_prompt_script_new(path, &error);
	assert_non_null(p);
	for (guint i = 0; i < N_THREADS; i++)
		threads[i] = g_thread_new("consume", consume, p);
	for (guint i = 0; i < N_THREADS; i++)
		total += GPOINTER_TO_UINT(g_thread_join(threads[i]));
	/* Every line consumed exactly once. */
	assert_int_equal(total, N_THREADS * N_PER_THREAD - 3);
	g_unlink(path);
}

static void
test_no_prompt(void **state)
{
	g_autoptr(GError) error = NULL;

	assert_false(sdr_prompt_ask_consent(NULL, &consent, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
}

static JsonObject *
parse_object(const char *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();

	assert_true(json_parser_load_from_data(parser, json, -1, NULL));
	return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static void
expect_bad_request(SdrContext *ctx, const char *handler, const char *json)
{
	g_autoptr(JsonObject) req = parse_object(json);
	g_autoptr(GError) error = NULL;
	JsonNode *answer = sdr_handler_run(ctx, handler, req, &error);

	if (answer != NULL)
		json_node_unref(answer);
	assert_null(answer);
	if (!g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST))
		fail_msg("%s %s: %s", handler, json, error != NULL ? error->message : "no error");
}

static void
test_handler_requests(void **state)
{
	SdrContextOptions web = { .origin = "https://portail.example" };
	SdrContextOptions cli = { 0 };
	g_autoptr(SdrContext) wctx = sdr_context_new(&web);
	g_autoptr(SdrContext) cctx = sdr_context_new(&cli);
	g_autoptr(GError) error = NULL;

	assert_non_null(sdr_handler_find("sign"));
	assert_non_null(sdr_handler_find("certificates"));
	assert_non_null(sdr_handler_find("doctor"));
	assert_null(sdr_handler_find("rm-rf"));
	assert_null(sdr_handler_run(cctx, "rm-rf", NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));

	expect_bad_request(cctx, "sign", "{\"format\":\"docx\",\"documents\":[]}");
	expect_bad_request(cctx, "sign", "{\"format\":\"cades\"}");
	expect_bad_request(cctx, "sign", "{\"format\":\"cades\",\"documents\":[]}");
	expect_bad_request(cctx, "sign", "{\"format\":\"cades\",\"options\":[1]}");
	expect_bad_request(cctx, "sign",
	                   "{\"format\":\"cades\",\"options\":{\"level\":\"Z\"},"
	                   "\"documents\":[{\"name\":\"a\",\"data\":\"QQ==\"}]}");
	expect_bad_request(cctx, "sign",
	                   "{\"format\":\"cades\",\"options\":{\"hash\":\"md5\"},"
	                   "\"documents\":[{\"name\":\"a\",\"data\":\"QQ==\"}]}");
	/* The bridge may not name files, nor choose outputs. */
	expect_bad_request(wctx, "sign",
	                   "{\"format\":\"cades\",\"documents\":[{\"path\":\"/etc/passwd\"}]}");
	expect_bad_request(wctx, "sign",
	                   "{\"format\":\"cades\",\"output_dir\":\"/tmp\","
	                   "\"documents\":[{\"name\":\"a\",\"data\":\"QQ==\"}]}");
	expect_bad_request(wctx, "sign",
	                   "{\"format\":\"cades\",\"documents\":[{\"name\":\"../x\",\"data\":"
	                   "\"QQ==\"}]}");
	expect_bad_request(wctx, "sign",
	                   "{\"format\":\"cades\",\"documents\":[{\"name\":\"a\",\"data\":"
	                   "\"not base64!\"}]}");
	expect_bad_request(wctx, "verify", "{\"files\":[{\"path\":\"/etc/passwd\"}]}");
	expect_bad_request(wctx, "verify", "{\"files\":[]}");
	expect_bad_request(cctx, "verify", "{\"files\":[\"x\"],\"at\":\"yesterday\"}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_in_order),  cmocka_unit_test(test_script_wrong_kind),
		cmocka_unit_test(test_script_bad_lines), cmocka_unit_test(test_script_threads),
		cmocka_unit_test(test_no_prompt),        cmocka_unit_test(test_handler_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
