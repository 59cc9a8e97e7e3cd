/* test-agent-json.c - certificate and verification report JSON shapes. */
#include "sdr-error.h"
#include "sdr-json.h"
#include "sdr-time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/x509v3.h>

/* A self-signed EC certificate valid from now-1 day to now+days_after (+1 hour). */
static X509 *
make_cert(long days_after, const char *ku, const char *eku)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	/* Exactly N days from now: the days left are counted in calendar days. */
	X509_gmtime_adj(X509_getm_notAfter(x), days_after * 86400);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	                           (const unsigned char *)"Mairie de Brest", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"Jean DUPONT",
	                           -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, ku);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (eku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return x;
}

static const char *
usage_at(JsonObject *o, guint i)
{
	JsonArray *a = json_object_get_array_member(o, "usage");

	return i < json_array_get_length(a) ? json_array_get_string_element(a, i) : NULL;
}

static void
test_signature_cert(void **state)
{
	X509 *x = make_cert(10, "critical,nonRepudiation", NULL);
	g_autoptr(SdrCertInfo) info = sdr_cert_info_new_from_x509(x);
	g_autoptr(GDateTime) now = sdr_time_now();
	g_autoptr(JsonObject) o = NULL;
	const char *na;

	assert_non_null(info);
	o = sdr_json_from_cert(info, now);
	assert_string_equal(json_object_get_string_member(o, "subject_cn"), "Jean DUPONT");
	assert_string_equal(json_object_get_string_member(o, "organization"), "Mairie de Brest");
	assert_string_equal(json_object_get_string_member(o, "issuer_cn"), "Jean DUPONT");
	assert_int_equal(json_object_get_int_member(o, "days_left"), 10);
	assert_false(json_object_get_boolean_member(o, "expired"));
	assert_string_equal(usage_at(o, 0), "signature");
	assert_null(usage_at(o, 1));
	na = json_object_get_string_member(o, "not_after");
	assert_int_equal(strlen(na), strlen("2026-11-22T02:10:00Z"));
	assert_int_equal(na[strlen(na) - 1], 'Z');
	assert_int_equal(strlen(json_object_get_string_member(o, "id")), 32);
	assert_string_equal(json_object_get_string_member(o, "key_type"), "EC");
	assert_string_equal(
	        json_array_get_string_element(json_object_get_array_member(o, "key_usage"), 0),
	        "nonRepudiation");
	assert_true(json_object_has_member(o, "serial"));
	assert_true(json_object_has_member(o, "token_label"));
	assert_true(json_object_has_member(o, "policies"));
	X509_free(x);
}

static void
test_expired_auth_cert(void **state)
{
	X509 *x = make_cert(-3, "critical,digitalSignature", "clientAuth");
	g_autoptr(SdrCertInfo) info = sdr_cert_info_new_from_x509(x);
	g_autoptr(JsonObject) o = NULL;

	assert_non_null(info);
	o = sdr_json_from_cert(info, NULL);
	assert_true(json_object_get_boolean_member(o, "expired"));
	assert_true(json_object_get_int_member(o, "days_left") < 0);
	assert_string_equal(usage_at(o, 0), "authentication");
	assert_null(usage_at(o, 1));
	X509_free(x);
}

static void
test_verify_report(void **state)
{
	SdrVerifyReport *report = sdr_verify_report_new("a.p7s", "CAdES");
	SdrSignatureResult *ok = sdr_signature_result_new("CAdES");
	SdrSignatureResult *bad = sdr_signature_result_new("CAdES");
	X509 *x = make_cert(100, "critical,nonRepudiation", NULL);
	g_autoptr(JsonObject) o = NULL;
	JsonArray *sigs;
	JsonObject *s0, *s1;

	ok->signer = x;
	ok->level = SDR_LEVEL_B_T;
	ok->claimed_signing_time = sdr_time_parse_iso8601("2026-11-22T10:00:00Z");
	sdr_signature_result_set_detail(ok, "revision", "1");
	sdr_signature_result_fail(bad, SDR_VERDICT_INVALID, SDR_REASON_DIGEST_MISMATCH, "changed");
	g_ptr_array_add(report->signatures, ok);
	g_ptr_array_add(report->signatures, bad);
	o = sdr_json_from_verify_report(report);
	assert_string_equal(json_object_get_string_member(o, "verdict"), "INVALID");
	assert_string_equal(json_object_get_string_member(o, "format"), "CAdES");
	sigs = json_object_get_array_member(o, "signatures");
	assert_int_equal(json_array_get_length(sigs), 2);
	s0 = json_array_get_object_element(sigs, 0);
	s1 = json_array_get_object_element(sigs, 1);
	assert_string_equal(json_object_get_string_member(s0, "verdict"), "VALID");
	assert_string_equal(json_object_get_string_member(s0, "level"), "B-T");
	assert_string_equal(json_object_get_string_member(s0, "claimed_time"),
	                    "2026-11-22T10:00:00Z");
	assert_string_equal(json_object_get_string_member(
	                            json_object_get_object_member(s0, "signer"), "subject_cn"),
	                    "Jean DUPONT");
	assert_string_equal(json_object_get_string_member(
	                            json_object_get_object_member(s0, "details"), "revision"),
	                    "1");
	assert_true(json_object_get_null_member(s0, "timestamp_time"));
	assert_string_equal(json_object_get_string_member(s1, "verdict"), "INVALID");
	assert_string_equal(json_object_get_string_member(
	                            json_array_get_object_element(
	                                    json_object_get_array_member(s1, "reasons"), 0),
	                            "code"),
	                    "DIGEST_MISMATCH");
	sdr_verify_report_free(report);
}

/* The one base64 validator (bridge fields and handler "data"). */
static void
test_base64_check(void **state)
{
	guint64 size = 0;
	GError *error = NULL;

	(void)state;
	assert_true(sdr_json_base64_check("aGVsbG8=", FALSE, 100, &size, NULL));
	assert_int_equal(size, 5);
	/* Line breaks: only where allowed (MIME-wrapped data given to the handlers). */
	assert_false(sdr_json_base64_check("aGVs\nbG8=", FALSE, 100, NULL, NULL));
	assert_true(sdr_json_base64_check("aGVs\r\nbG8=\n", TRUE, 100, &size, NULL));
	assert_int_equal(size, 5);
	/* Padding only at the end, at most two, whole quanta. */
	assert_false(sdr_json_base64_check("a=Vs", TRUE, 100, NULL, NULL));
	assert_false(sdr_json_base64_check("a===", TRUE, 100, NULL, NULL));
	assert_false(sdr_json_base64_check("aGVsbG8", TRUE, 100, NULL, NULL));
	assert_false(sdr_json_base64_check("aGV$bG8=", TRUE, 100, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
	g_clear_error(&error);
	assert_false(sdr_json_base64_check("aGVsbG8=", TRUE, 4, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));
	g_clear_error(&error);
	assert_true(sdr_json_base64_check("aGVsbG8=", TRUE, G_MAXUINT64, NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_cert),
		cmocka_unit_test(test_expired_auth_cert),
		cmocka_unit_test(test_verify_report),
		cmocka_unit_test(test_base64_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
