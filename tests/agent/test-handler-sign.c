/* test-handler-sign.c - the "sign" handler as the bridge calls it: base64 documents,
 * one consent showing origin/documents/format/certificate, base64 results; the
 * data-to-sign (digest) mode; consent refused. Signs with a file key from the test
 * PKI (tests/fixtures/make-pki.sh), so no token is needed. */
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
#include <openssl/pem.h>

typedef struct {
	SdrPrompt parent;
	gboolean answer;
	guint calls;
	char *origin, *format, *subject;
	GPtrArray *names, *shorts;
	GArray *sizes;
} RecPrompt;

static gboolean
rec_consent(SdrPrompt *prompt, const SdrConsentRequest *req, GError **error)
{
	RecPrompt *r = (RecPrompt *)prompt;

	r->calls++;
	g_free(r->origin);
	g_free(r->format);
	g_free(r->subject);
	r->origin = g_strdup(req->origin);
	r->format = g_strdup(req->format);
	r->subject = g_strdup(req->cert_subject);
	g_ptr_array_set_size(r->names, 0);
	g_ptr_array_set_size(r->shorts, 0);
	g_array_set_size(r->sizes, 0);
	for (gsize i = 0; i < req->n_documents; i++) {
		g_ptr_array_add(r->names, g_strdup(req->documents[i].name));
		g_ptr_array_add(r->shorts, g_strdup(req->documents[i].sha256_short));
		g_array_append_val(r->sizes, req->documents[i].size);
	}
	if (!r->answer)
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED, "refused");
	return r->answer;
}

static SdrSecret *
rec_pin(SdrPrompt *prompt, const SdrPinPromptRequest *req, GError **error)
{
	fail_msg("a file key needs no PIN");
	return NULL;
}

static void
rec_free(SdrPrompt *prompt)
{
	RecPrompt *r = (RecPrompt *)prompt;

	g_free(r->origin);
	g_free(r->format);
	g_free(r->subject);
	g_ptr_array_unref(r->names);
	g_ptr_array_unref(r->shorts);
	g_array_unref(r->sizes);
	g_free(r);
}

static const SdrPromptClass rec_class = { rec_consent, rec_pin, NULL, NULL, rec_free, NULL };

static RecPrompt *
rec_new(gboolean answer)
{
	RecPrompt *r = g_new0(RecPrompt, 1);

	r->parent.klass = &rec_class;
	r->answer = answer;
	r->names = g_ptr_array_new_with_free_func(g_free);
	r->shorts = g_ptr_array_new_with_free_func(g_free);
	r->sizes = g_array_new(FALSE, TRUE, sizeof(guint64));
	return r;
}

static char *pki;
static char *tmp;

static int
setup_pki(void **state)
{
	const char *src = g_getenv("SINADUR_SOURCE_ROOT");
	g_autofree char *cmd = NULL;

	tmp = g_dir_make_tmp("sdr-handler-sign-XXXXXX", NULL);
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
make_ctx(SdrPrompt *prompt, SdrConfig *config, const char *origin)
{
	SdrContextOptions o = { .config = config, .prompt = prompt, .origin = origin };
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

static JsonObject *
parse_object(const char *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();

	assert_true(json_parser_load_from_data(parser, json, -1, NULL));
	return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static const char doc1[] = "Délibération n° 2026-042\n";
static const char doc2[] = "Annexe budgétaire\n";

static void
test_sign_documents(void **state)
{
	RecPrompt *rec = rec_new(TRUE);
	g_autoptr(SdrPrompt) prompt = &rec->parent;
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = make_ctx(prompt, config, "https://portail.example");
	g_autofree char *b1 = g_base64_encode((const guchar *)doc1, strlen(doc1));
	g_autofree char *b2 = g_base64_encode((const guchar *)doc2, strlen(doc2));
	g_autofree char *json = g_strdup_printf(
	        "{\"format\":\"cades\",\"options\":{\"hash\":\"sha256\"},\"documents\":["
	        "{\"name\":\"deliberation.txt\",\"type\":\"text/plain\",\"data\":\"%s\"},"
	        "{\"name\":\"annexe.txt\",\"data\":\"%s\"}]}",
	        b1, b2);
	g_autoptr(JsonObject) req = parse_object(json);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = sdr_handler_run(ctx, "sign", req, &error);
	g_autofree char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, doc1, -1);
	g_autofree char *audit_text = NULL;
	g_autofree char *audit = g_build_filename(tmp, "audit.log", NULL);
	JsonArray *results;

	if (answer == NULL)
		fail_msg("sign: %s", error->message);
	/* One consent, showing everything. */
	assert_int_equal(rec->calls, 1);
	assert_string_equal(rec->origin, "https://portail.example");
	assert_string_equal(rec->format, "cades");
	assert_string_equal(rec->subject, "Jean DUPONT");
	assert_int_equal(rec->names->len, 2);
	assert_string_equal(g_ptr_array_index(rec->names, 0), "deliberation.txt");
	assert_int_equal(g_array_index(rec->sizes, guint64, 0), strlen(doc1));
	assert_int_equal(strlen(g_ptr_array_index(rec->shorts, 0)), 16);
	assert_true(g_str_has_prefix(sha, g_ptr_array_index(rec->shorts, 0)));

	results = json_object_get_array_member(json_node_get_object(answer), "results");
	assert_int_equal(json_array_get_length(results), 2);
	for (guint i = 0; i < 2; i++) {
		JsonObject *r = json_array_get_object_element(results, i);
		const char *content = i == 0 ? doc1 : doc2;
		gsize len = 0;
		g_autofree guchar *der =
		        g_base64_decode(json_object_get_string_member(r, "signature"), &len);
		const unsigned char *p = der;
		CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
		BIO *data = BIO_new_mem_buf(content, (int)strlen(content));

		assert_string_equal(json_object_get_string_member(r, "status"), "ok");
		assert_false(json_object_has_member(r, "output"));
		assert_non_null(cms);
		/* The signature value and the message digest (chain not checked here). */
		assert_int_equal(CMS_verify(cms, NULL, NULL, data, NULL,
		                            CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY),
		                 1);
		CMS_ContentInfo_free(cms);
		BIO_free(data);
	}
	assert_true(
	        g_str_has_suffix(json_object_get_string_member(
	                                 json_array_get_object_element(results, 0), "output_name"),
	                         ".p7s"));
	/* The audit log names the origin and the hash, never the content. */
	assert_true(g_file_get_contents(audit, &audit_text, NULL, NULL));
	assert_non_null(strstr(audit_text, "origin=https://portail.example"));
	assert_non_null(strstr(audit_text, sha));
	assert_null(strstr(audit_text, "2026-042"));
}

static void
test_sign_digest(void **state)
{
	RecPrompt *rec = rec_new(TRUE);
	g_autoptr(SdrPrompt) prompt = &rec->parent;
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = make_ctx(prompt, config, "https://dss.example");
	guint8 digest[32];
	gsize dlen = sizeof digest;
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree char *b64 = NULL;
	g_autofree char *json = NULL;
	g_autoptr(JsonObject) req = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = NULL;
	JsonObject *r;
	gsize sig_len = 0, cert_len = 0;
	g_autofree guchar *sig = NULL;
	g_autofree guchar *cert_der = NULL;
	const unsigned char *p;
	X509 *cert;
	EVP_PKEY_CTX *vctx;

	g_checksum_update(sum, (const guchar *)"to be signed", 12);
	g_checksum_get_digest(sum, digest, &dlen);
	b64 = g_base64_encode(digest, dlen);
	json = g_strdup_printf("{\"mode\":\"digest\",\"digest\":\"%s\",\"hash\":\"sha256\"}", b64);
	req = parse_object(json);
	answer = sdr_handler_run(ctx, "sign", req, &error);
	if (answer == NULL)
		fail_msg("digest: %s", error->message);
	assert_int_equal(rec->calls, 1);
	assert_string_equal(rec->origin, "https://dss.example");
	r = json_array_get_object_element(
	        json_object_get_array_member(json_node_get_object(answer), "results"), 0);
	assert_string_equal(json_object_get_string_member(r, "signature_algorithm"), "rsa-pkcs1");
	assert_int_equal(json_array_get_length(json_object_get_array_member(r, "chain")), 2);
	sig = g_base64_decode(json_object_get_string_member(r, "signature"), &sig_len);
	cert_der = g_base64_decode(json_object_get_string_member(r, "certificate"), &cert_len);
	p = cert_der;
	cert = d2i_X509(NULL, &p, (long)cert_len);
	assert_non_null(cert);
	vctx = EVP_PKEY_CTX_new(X509_get0_pubkey(cert), NULL);
	assert_int_equal(EVP_PKEY_verify_init(vctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_verify(vctx, sig, sig_len, digest, dlen), 1);
	EVP_PKEY_CTX_free(vctx);
	X509_free(cert);

	/* A digest of the wrong length is refused before any consent. */
	{
		g_autoptr(JsonObject) bad = parse_object(
		        "{\"mode\":\"digest\",\"digest\":\"QUJD\",\"hash\":\"sha256\"}");
		g_autoptr(GError) e = NULL;
		g_autoptr(JsonNode) none = NULL;
		guint before = rec->calls;

		none = sdr_handler_run(ctx, "sign", bad, &e);
		assert_null(none);
		assert_true(g_error_matches(e, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
		/* Checked before the person is asked anything. */
		assert_int_equal(rec->calls, before);
	}
}

static void
test_consent_refused(void **state)
{
	RecPrompt *rec = rec_new(FALSE);
	g_autoptr(SdrPrompt) prompt = &rec->parent;
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = make_ctx(prompt, config, "https://portail.example");
	g_autoptr(JsonObject) req = parse_object(
	        "{\"format\":\"cades\",\"documents\":[{\"name\":\"x.txt\",\"data\":\"QUJD\"}]}");
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = sdr_handler_run(ctx, "sign", req, &error);

	assert_null(answer);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED));
	assert_int_equal(rec->calls, 1);
}

static char *
minimal_pdf_b64(void)
{
	static const char *const objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 200 100] >>",
		"<< /Type /Page /Parent 2 0 R >>",
	};
	g_autoptr(GString) s = g_string_new("%PDF-1.4\n");
	gsize offs[3], x;

	for (int i = 0; i < 3; i++) {
		offs[i] = s->len;
		g_string_append_printf(s, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	x = s->len;
	g_string_append(s, "xref\n0 4\n0000000000 65535 f \n");
	for (int i = 0; i < 3; i++)
		g_string_append_printf(s, "%010" G_GSIZE_FORMAT " 00000 n \n", offs[i]);
	g_string_append_printf(
	        s, "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n",
	        x);
	return g_base64_encode((const guchar *)s->str, s->len);
}

static JsonObject *
result_of(JsonNode *answer, guint i)
{
	return json_array_get_object_element(
	        json_object_get_array_member(json_node_get_object(answer), "results"), i);
}

/* "Is this a PDF" is decided by the bytes (formats/: sdr_pades_check_is_pdf,
 * sdr_marche_choose_format): a PDF under another name is signed as a PDF; a document
 * named or declared a PDF that is not one is refused with its reason (before the
 * consent), never signed as something else; the others go on. */
static void
test_pdf_by_bytes(void **state)
{
	RecPrompt *rec = rec_new(TRUE);
	g_autoptr(SdrPrompt) prompt = &rec->parent;
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = make_ctx(prompt, config, "https://marches.example");
	g_autofree char *pdf = minimal_pdf_b64();
	g_autofree char *text = g_base64_encode((const guchar *)doc2, strlen(doc2));
	g_autofree char *json = g_strdup_printf(
	        "{\"format\":\"marche\",\"documents\":["
	        "{\"name\":\"faux.pdf\",\"data\":\"%s\"},"
	        "{\"name\":\"scan.dat\",\"data\":\"%s\"},"
	        "{\"name\":\"memoire.odt\",\"data\":\"%s\"},"
	        "{\"name\":\"declare\",\"type\":\"application/pdf\",\"data\":\"%s\"}]}",
	        text, pdf, text, text);
	g_autoptr(JsonObject) req = parse_object(json);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = sdr_handler_run(ctx, "sign", req, &error);
	JsonObject *r;
	gsize len = 0;
	g_autofree guchar *signed_pdf = NULL;

	(void)state;
	if (answer == NULL)
		fail_msg("sign: %s", error->message);
	/* The consent lists only what is signed. */
	assert_int_equal(rec->calls, 1);
	assert_int_equal(rec->names->len, 2);
	r = result_of(answer, 0);
	assert_string_equal(json_object_get_string_member(r, "status"), "error");
	assert_string_equal(
	        json_object_get_string_member(json_object_get_object_member(r, "error"), "code"),
	        "SDR_ERROR_UNSUPPORTED");
	assert_non_null(strstr(
	        json_object_get_string_member(json_object_get_object_member(r, "error"), "message"),
	        "faux.pdf"));
	r = result_of(answer, 1);
	assert_string_equal(json_object_get_string_member(r, "status"), "ok");
	assert_string_equal(json_object_get_string_member(r, "output_name"), "scan.dat-signe.pdf");
	signed_pdf = g_base64_decode(json_object_get_string_member(r, "document"), &len);
	assert_true(len > 100 && memcmp(signed_pdf, "%PDF-1.4", 8) == 0);
	assert_non_null(g_strstr_len((const char *)signed_pdf, (gssize)len, "/ByteRange"));
	r = result_of(answer, 2);
	assert_string_equal(json_object_get_string_member(r, "status"), "ok");
	assert_string_equal(json_object_get_string_member(r, "output_name"),
	                    "memoire.odt - Signature 1.xml");
	r = result_of(answer, 3);
	assert_string_equal(json_object_get_string_member(r, "status"), "error");

	/* PAdES: the bytes too, both ways. */
	{
		g_autofree char *j2 = g_strdup_printf("{\"format\":\"pades\",\"documents\":["
		                                      "{\"name\":\"scan.dat\",\"data\":\"%s\"},"
		                                      "{\"name\":\"note.txt\",\"data\":\"%s\"}]}",
		                                      pdf, text);
		g_autoptr(JsonObject) req2 = parse_object(j2);
		g_autoptr(JsonNode) a2 = sdr_handler_run(ctx, "sign", req2, &error);

		if (a2 == NULL)
			fail_msg("sign: %s", error->message);
		assert_string_equal(json_object_get_string_member(result_of(a2, 0), "status"),
		                    "ok");
		assert_string_equal(json_object_get_string_member(result_of(a2, 1), "status"),
		                    "error");
	}
}

static void
test_verify_data(void **state)
{
	RecPrompt *rec = rec_new(TRUE);
	g_autoptr(SdrPrompt) prompt = &rec->parent;
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(SdrContext) ctx = NULL;
	g_autofree char *conf = g_strdup_printf("[signature]\ntrust_anchors=%s/chain.pem\n", pki);
	g_autofree char *b1 = g_base64_encode((const guchar *)doc1, strlen(doc1));
	g_autofree char *json = NULL;
	g_autoptr(JsonObject) req = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) signed_answer = NULL;
	g_autoptr(JsonNode) answer = NULL;
	const char *sig;
	JsonObject *file, *sigobj;
	JsonArray *reasons;

	assert_true(sdr_config_load_data(config, 1, conf, strlen(conf), &error));
	ctx = make_ctx(prompt, config, "https://portail.example");
	json = g_strdup_printf("{\"format\":\"cades\",\"documents\":[{\"name\":\"d.txt\","
	                       "\"data\":\"%s\"}]}",
	                       b1);
	req = parse_object(json);
	signed_answer = sdr_handler_run(ctx, "sign", req, &error);
	assert_non_null(signed_answer);
	sig = json_object_get_string_member(
	        json_array_get_object_element(
	                json_object_get_array_member(json_node_get_object(signed_answer),
	                                             "results"),
	                0),
	        "signature");
	g_free(json);
	json = g_strdup_printf("{\"files\":[{\"name\":\"d.txt.p7s\",\"data\":\"%s\"}],"
	                       "\"content\":{\"data\":\"%s\"}}",
	                       sig, b1);
	json_object_unref(g_steal_pointer(&req));
	req = parse_object(json);
	answer = sdr_handler_run(ctx, "verify", req, &error);
	if (answer == NULL)
		fail_msg("verify: %s", error->message);
	/* A web origin verifies offline unless it asks ("online"), and the certificate
	 * names an OCSP responder and a CRL: INDETERMINATE for that one reason, never
	 * VALID (the rest of the signature is sound). */
	assert_string_equal(json_object_get_string_member(json_node_get_object(answer), "verdict"),
	                    "INDETERMINATE");
	file = json_array_get_object_element(
	        json_object_get_array_member(json_node_get_object(answer), "files"), 0);
	assert_string_equal(json_object_get_string_member(file, "file"), "d.txt.p7s");
	assert_string_equal(json_object_get_string_member(file, "format"), "CAdES");
	sigobj = json_array_get_object_element(json_object_get_array_member(file, "signatures"), 0);
	reasons = json_object_get_array_member(sigobj, "reasons");
	assert_int_equal(json_array_get_length(reasons), 1);
	assert_string_equal(
	        json_object_get_string_member(json_array_get_object_element(reasons, 0), "code"),
	        "REVOCATION_UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_documents),  cmocka_unit_test(test_sign_digest),
		cmocka_unit_test(test_consent_refused), cmocka_unit_test(test_pdf_by_bytes),
		cmocka_unit_test(test_verify_data),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
