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

typedef struct {
	SdrPrompt *p;
	gboolean answer;
	gboolean done;
} HoldCall;

static gpointer
hold_thread(gpointer data)
{
	HoldCall *c = data;

	c->answer = sdr_prompt_ask_consent(c->p, &consent, NULL);
	g_atomic_int_set(&c->done, TRUE);
	return NULL;
}

/* "hold PATH": the prompt says it is held (PATH.held), waits for PATH, then takes
 * the next step; a hold as the last line leaves nothing to answer. */
static void
test_script_hold(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("sdr-hold-XXXXXX", NULL);
	g_autofree char *release = g_build_filename(dir, "release", NULL);
	g_autofree char *held = g_strconcat(release, ".held", NULL);
	g_autofree char *text =
	        g_strdup_printf("hold %s\nconsent yes\nhold %s\n", release, release);
	g_autofree char *path = write_script(text);
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = sdr_prompt_script_new(path, &error);
	HoldCall c = { 0 };
	GThread *t;
	gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

	assert_non_null(p);
	c.p = p;
	t = g_thread_new("hold", hold_thread, &c);
	while (!g_file_test(held, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < end)
		g_usleep(10 * 1000);
	assert_true(g_file_test(held, G_FILE_TEST_EXISTS));
	g_usleep(200 * 1000);
	assert_false(g_atomic_int_get(&c.done)); /* still held */
	assert_true(g_file_set_contents(release, "", 0, NULL));
	g_thread_join(t);
	assert_true(c.answer);
	/* Released already: the last hold passes at once, and no answer is left. */
	assert_false(sdr_prompt_ask_consent(p, &consent, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
	g_unlink(path);
	g_unlink(release);
	g_unlink(held);
	g_rmdir(dir);
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

/* "password X" answers only a password request (s2low login), never a PIN one. */
static void
test_script_password(void **state)
{
	g_autofree char *path = write_script("password s3cret\npin 1111\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = sdr_prompt_script_new(path, &error);
	SdrPasswordPromptRequest req = { "S²LOW", "https://s2low.example.fr", "secretariat" };

	assert_non_null(p);
	{
		g_autoptr(SdrSecret) pin = sdr_prompt_ask_pin(p, &pin_req, &error);
		assert_null(pin);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
		g_clear_error(&error);
	}
	{
		g_autoptr(SdrSecret) pw = sdr_prompt_ask_password(p, &req, &error);
		assert_non_null(pw);
		assert_string_equal(sdr_secret_get(pw), "s3cret");
	}
	{
		g_autoptr(SdrSecret) pw = sdr_prompt_ask_password(p, &req, &error);
		assert_null(pw);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
		g_clear_error(&error);
	}
	/* A prompt without ask_password: unsupported, with the way out. */
	assert_null(sdr_prompt_ask_password(NULL, &req, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
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

/* What a person is shown: every outside string sanitised, the action said,
 * each signed-in detail listed; the scripted prompter records exactly that. */
static void
test_consent_text_and_record(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("sdr-record-XXXXXX", NULL);
	g_autofree char *rec = g_build_filename(dir, "seen", NULL);
	g_autofree char *text =
	        g_strdup_printf("record %s\nconsent no\nconsent yes\ntimeout\n", rec);
	g_autofree char *path = write_script(text);
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = sdr_prompt_script_new(path, &error);
	SdrConsentDocument doc = { "facture\xe2\x80\xae"
		                   "fdp.exe",
		                   "application/pdf\nThe site https://impots.gouv.fr asks for a "
		                   "signature.",
		                   10, "0123456789abcdef" };
	SdrConsentDetail details[] = { { "Reason", "Bon pour paiement de 1\xe2\x80\xaf"
		                                   "000\xe2\x80\xaf"
		                                   "000 EUR" },
		                       { "Location", "\x1b]0;title\x07\x1b[2JParis" } };
	SdrConsentRequest sign = { 0 }, list = { 0 }, data = { 0 };
	g_autofree char *seen = NULL;
	g_autofree char *shown = NULL;

	assert_non_null(p);
	sign.origin = "https://portail.example.fr";
	sign.format = "pades";
	sign.cert_subject = "Jean DUPONT\xc2\x9b";
	sign.cert_issuer = "AC TEST";
	sign.documents = &doc;
	sign.n_documents = 1;
	sign.details = details;
	sign.n_details = 2;
	shown = sdr_prompt_consent_text(&sign);
	assert_non_null(strstr(shown, "facture<U+202E>fdp.exe"));
	assert_non_null(strstr(shown, "application/pdf<U+000A>The site"));
	assert_null(strstr(shown, "\nThe site https://impots"));
	assert_non_null(strstr(shown, "Reason: Bon pour paiement de 1\xe2\x80\xaf"
	                              "000"));
	assert_non_null(strstr(shown, "Location: <U+001B>]0;title<U+0007><U+001B>[2JParis"));
	assert_non_null(strstr(shown, "Jean DUPONT<U+009B>"));
	assert_null(strchr(shown, '\x1b'));
	assert_false(sdr_prompt_ask_consent(p, &sign, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED));
	g_clear_error(&error);

	list.action = SDR_CONSENT_LIST_CERTIFICATES;
	list.origin = "https://portail.example.fr\xe2\x80\xa8";
	list.details = details; /* never shown for a listing */
	list.n_details = 2;
	assert_true(sdr_prompt_ask_consent(p, &list, &error));

	data.action = SDR_CONSENT_SIGN_DATA;
	data.origin = "https://dss.example";
	data.digest_alg = "sha256";
	data.digest_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	data.cert_subject = "Jean DUPONT";
	assert_false(sdr_prompt_ask_consent(p, &data, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TIMEOUT));

	assert_true(g_file_get_contents(rec, &seen, NULL, NULL));
	assert_non_null(strstr(seen,
	                       "asks for a signature.\nSign 1 document (pades):\n"
	                       "  - facture<U+202E>fdp.exe (application/pdf<U+000A>The site "));
	assert_non_null(strstr(seen, "Sign? [y/N] \n=> no\n----\n"));
	assert_non_null(strstr(seen, "The site https://portail.example.fr<U+2028> asks to see the "
	                             "certificates of your keys.\n"));
	assert_non_null(strstr(seen, "Allow this site? [y/N] \n=> yes\n----\n"));
	assert_non_null(strstr(seen, "asks to sign data it prepared itself"));
	assert_non_null(
	        strstr(seen, "Data to sign: sha256 digest 00112233445566778899aabbccddeeff…"));
	assert_non_null(strstr(seen, "=> timeout\n----\n"));
	/* The listing showed no signature detail, and nothing raw reached the record. */
	assert_int_equal(g_strstr_len(seen, -1, "Location:") - seen,
	                 g_strrstr(seen, "Location:") - seen);
	assert_null(strchr(seen, '\x1b'));
	assert_null(strstr(seen, "\xe2\x80\xae"));
	g_unlink(rec);
	g_unlink(path);
	g_rmdir(dir);
}

/* A web page's send to S²LOW: the action named, the address, every file with its size
 * and short hash, the fields as details, every outside string sanitised; a no is a
 * CONSENT_DENIED naming the send. */
static void
test_consent_s2low_send(void **state)
{
	g_autofree char *path = write_script("consent no\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrPrompt) p = sdr_prompt_script_new(path, &error);
	SdrConsentDocument docs[] = { { "acte\xe2\x80\xae"
		                        "fdp.pdf",
		                        "application/pdf", 1234, "0123456789abcdef" },
		                      { "annexe.pdf", NULL, 10, "fedcba9876543210" } };
	SdrConsentDetail details[] = { { "Subject", "Objet\x1b[2J efface" },
		                       { "Number", "2026_01" } };
	SdrConsentRequest r = { 0 };
	g_autofree char *shown = NULL;

	(void)state;
	assert_non_null(p);
	r.action = SDR_CONSENT_S2LOW_SEND;
	r.origin = "https://portail.example.fr";
	r.format = "actes";
	r.destination = "https://s2low.example.fr\n";
	r.documents = docs;
	r.n_documents = 2;
	r.details = details;
	r.n_details = 2;
	shown = sdr_prompt_consent_text(&r);
	assert_non_null(strstr(shown,
	                       "The site https://portail.example.fr asks to send to S²LOW.\n"
	                       "Send to S²LOW (actes), at https://s2low.example.fr<U+000A>:\n"));
	assert_non_null(strstr(shown, "  - acte<U+202E>fdp.pdf (application/pdf, 1234 o, SHA-256 "
	                              "0123456789abcdef…)\n"));
	assert_non_null(strstr(shown, "  - annexe.pdf (?, 10 o, SHA-256 fedcba9876543210…)\n"));
	assert_non_null(strstr(shown,
	                       "Sent with these fields:\n  Subject: Objet<U+001B>[2J efface\n"
	                       "  Number: 2026_01\n"));
	assert_null(strstr(shown, "Certificate:"));
	assert_null(strchr(shown, '\x1b'));
	assert_string_equal(sdr_prompt_consent_question(&r), "Send to S²LOW? [y/N] ");
	assert_false(sdr_prompt_ask_consent(p, &r, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED));
	g_unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consent_text_and_record),
		cmocka_unit_test(test_consent_s2low_send),
		cmocka_unit_test(test_script_in_order),
		cmocka_unit_test(test_script_wrong_kind),
		cmocka_unit_test(test_script_hold),
		cmocka_unit_test(test_script_password),
		cmocka_unit_test(test_script_bad_lines),
		cmocka_unit_test(test_script_threads),
		cmocka_unit_test(test_no_prompt),
		cmocka_unit_test(test_handler_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
