/* test-cert-info.c - certificate display fields and usage classification on the
 * test PKI (tests/fixtures/make-pki.sh, built into $SDR_TEST_PKI), and the CK_RV
 * mapping. No token involved.
 */
#include "sdr-i18n.h"
#include "sdr-token-private.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static X509 *
load(const char *name)
{
	const char *dir = g_getenv("SDR_TEST_PKI");
	g_autofree char *path = NULL;
	FILE *f;
	X509 *cert;

	assert_non_null(dir);
	path = g_strdup_printf("%s/%s.pem", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(cert);
	return cert;
}

static gboolean
strv_has(char **v, const char *s)
{
	return v != NULL && g_strv_contains((const char *const *)v, s);
}

static void
test_signature_cert(void **unused)
{
	X509 *cert = load("user-rsa");
	g_autoptr(SdrCertInfo) info = sdr_cert_info_new_from_x509(cert);
	unsigned char *der = NULL;
	int der_len = i2d_X509(cert, &der);
	g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der, (gsize)der_len);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = BN_bn2hex(bn);

	assert_non_null(info);
	/* id = first 16 bytes of SHA-256(DER), hex */
	assert_int_equal(strlen(info->id), 32);
	assert_memory_equal(info->id, sha, 32);
	assert_string_equal(info->subject_cn, "Jean DUPONT");
	assert_string_equal(info->organization, "COMMUNE DE PLOUGASTEL-DAOULAS");
	assert_string_equal(info->organizational_unit, "0002 212901789");
	assert_string_equal(info->subject_serial_number, "S8472-0001");
	assert_string_equal(info->issuer_cn, "AC Sinadur TEST RGS** Signature");
	assert_non_null(strstr(info->issuer_dn, "CN=AC Sinadur TEST RGS** Signature"));
	assert_non_null(strstr(info->subject_dn, "CN=Jean DUPONT"));
	assert_string_equal(info->serial_hex, hex);
	assert_int_equal(info->usage, SDR_CERT_USAGE_SIGNATURE);
	assert_true(info->key_usage_bits & KU_NON_REPUDIATION);
	assert_null(info->extended_key_usage);
	assert_true(strv_has(info->policies, "1.2.250.1.999.1.1.2.3"));
	assert_int_equal(info->key_scheme, SDR_SIG_RSA_PKCS1);
	assert_int_equal(info->key_bits, 2048);
	assert_non_null(info->not_before);
	assert_non_null(info->not_after);
	/* 1095 days of validity */
	assert_int_equal(
	        g_date_time_difference(info->not_after, info->not_before) / G_TIME_SPAN_DAY, 1095);
	assert_true(info->cert == cert);
	OPENSSL_free(hex);
	BN_free(bn);
	OPENSSL_free(der);
	X509_free(cert);
}

static void
test_ec_cert(void **unused)
{
	X509 *cert = load("user-ec");
	g_autoptr(SdrCertInfo) info = sdr_cert_info_new_from_x509(cert);

	assert_string_equal(info->subject_cn, "Jeanne MARTIN");
	assert_int_equal(info->key_scheme, SDR_SIG_ECDSA);
	assert_int_equal(info->key_bits, 256);
	assert_int_equal(info->usage, SDR_CERT_USAGE_SIGNATURE);
	X509_free(cert);
}

static void
test_auth_cert(void **unused)
{
	X509 *cert = load("user-auth");
	g_autoptr(SdrCertInfo) info = sdr_cert_info_new_from_x509(cert);

	assert_int_equal(info->usage, SDR_CERT_USAGE_AUTHENTICATION);
	assert_true(strv_has(info->extended_key_usage, "clientAuth"));
	assert_true(strv_has(info->extended_key_usage, "emailProtection"));
	assert_true(strv_has(info->policies, "1.2.250.1.999.1.1.1.3"));
	assert_false(info->key_usage_bits & KU_NON_REPUDIATION);
	X509_free(cert);
}

static void
test_dates(void **unused)
{
	X509 *soon = load("user-soon");
	X509 *expired = load("user-expired");
	g_autoptr(SdrCertInfo) a = sdr_cert_info_new_from_x509(soon);
	g_autoptr(SdrCertInfo) b = sdr_cert_info_new_from_x509(expired);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	/* Days of validity are fixed by the PKI; the build may be older than today. */
	assert_int_equal(g_date_time_difference(a->not_after, a->not_before) / G_TIME_SPAN_DAY, 20);
	assert_true(g_date_time_compare(b->not_after, now) < 0);
	assert_int_equal(g_date_time_difference(b->not_after, b->not_before) / G_TIME_SPAN_DAY,
	                 1095);
	X509_free(soon);
	X509_free(expired);
}

static void
test_both_and_tsa(void **unused)
{
	/* TSA: digitalSignature + nonRepudiation -> signature only (no clientAuth). */
	X509 *tsa = load("tsa");
	/* Root: keyCertSign only -> neither. */
	X509 *root = load("root");

	assert_int_equal(sdr_cert_usage_from_x509(tsa), SDR_CERT_USAGE_SIGNATURE);
	assert_int_equal(sdr_cert_usage_from_x509(root), 0);
	X509_free(tsa);
	X509_free(root);
}

/* A certificate made here: nonRepudiation + clientAuth -> both; no KU -> both. */
static X509 *
make_cert(const char *ku, const char *eku)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 42);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"Éloïse Test", -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	X509_set_pubkey(cert, key);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if (ku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ku);
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (eku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, eku);
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(cert, key, EVP_sha256());
	EVP_PKEY_free(key);
	return cert;
}

static void
test_classification(void **unused)
{
	static const struct {
		const char *ku, *eku;
		guint usage;
	} cases[] = {
		{ "nonRepudiation", NULL, SDR_CERT_USAGE_SIGNATURE },
		{ "nonRepudiation,digitalSignature", NULL, SDR_CERT_USAGE_SIGNATURE },
		{ "digitalSignature", NULL, SDR_CERT_USAGE_AUTHENTICATION },
		{ "nonRepudiation", "clientAuth",
		  SDR_CERT_USAGE_SIGNATURE | SDR_CERT_USAGE_AUTHENTICATION },
		{ "keyEncipherment", "clientAuth", SDR_CERT_USAGE_AUTHENTICATION },
		{ "keyEncipherment", NULL, 0 },
		{ NULL, NULL, SDR_CERT_USAGE_SIGNATURE | SDR_CERT_USAGE_AUTHENTICATION },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		X509 *cert = make_cert(cases[i].ku, cases[i].eku);
		g_autoptr(SdrCertInfo) info = sdr_cert_info_new_from_x509(cert);
		assert_int_equal(info->usage, cases[i].usage);
		assert_string_equal(info->subject_cn, "Éloïse Test");
		assert_null(info->organization);
		assert_string_equal(info->serial_hex, "2A");
		X509_free(cert);
	}
}

static void
test_ckr_mapping(void **unused)
{
	static const struct {
		CK_RV rv;
		SdrErrorCode code;
	} cases[] = {
		{ CKR_PIN_INCORRECT, SDR_ERROR_PIN_INCORRECT },
		{ CKR_PIN_LOCKED, SDR_ERROR_PIN_LOCKED },
		{ CKR_DEVICE_REMOVED, SDR_ERROR_CARD_REMOVED },
		{ CKR_TOKEN_NOT_PRESENT, SDR_ERROR_CARD_REMOVED },
		{ CKR_SESSION_HANDLE_INVALID, SDR_ERROR_CARD_REMOVED },
		{ CKR_FUNCTION_CANCELED, SDR_ERROR_CANCELLED },
		{ CKR_MECHANISM_INVALID, SDR_ERROR_UNSUPPORTED },
		{ CKR_GENERAL_ERROR, SDR_ERROR_FAILED },
		{ 0x8000ABCDUL, SDR_ERROR_FAILED },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		GError *error = NULL;
		g_autofree char *hex = g_strdup_printf("0x%08lx", (unsigned long)cases[i].rv);

		assert_int_equal(sdr_token_ckr_code(cases[i].rv), cases[i].code);
		sdr_token_set_ckr_error(&error, cases[i].rv, "C_Test");
		assert_true(g_error_matches(error, SDR_ERROR, cases[i].code));
		assert_non_null(strstr(error->message, hex));
		assert_non_null(strstr(error->message, "C_Test"));
		g_clear_error(&error);
	}
	/* The locked message says what to do. */
	{
		GError *error = NULL;
		sdr_token_set_ckr_error(&error, CKR_PIN_LOCKED, NULL);
		assert_non_null(strstr(error->message, "PUK"));
		g_clear_error(&error);
	}
}

static void
test_known_names(void **unused)
{
	assert_string_equal(sdr_module_known_name("/usr/lib/SCMiddleware/libidop11.so"),
	                    "Idopte Smart Card Middleware");
	assert_string_equal(sdr_module_known_name("/x/opensc-pkcs11.so"), "OpenSC");
	assert_null(sdr_module_known_name("/x/libother.so"));
	assert_null(sdr_module_known_name(NULL));
}

/* Last: switches the process to French. */
static void
test_french_messages(void **unused)
{
	GError *error = NULL;

	g_unsetenv("LC_ALL");
	g_unsetenv("LC_MESSAGES");
	g_unsetenv("LANGUAGE");
	g_setenv("LANG", "fr_FR.UTF-8", TRUE);
	sdr_i18n_init();
	sdr_token_set_ckr_error(&error, CKR_PIN_LOCKED, NULL);
	assert_non_null(strstr(error->message, "est bloqué"));
	assert_non_null(strstr(error->message, "PUK"));
	g_clear_error(&error);
	sdr_token_set_ckr_error(&error, CKR_DEVICE_REMOVED, "C_Sign");
	assert_non_null(strstr(error->message, "Le support a été retiré"));
	g_clear_error(&error);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_cert),  cmocka_unit_test(test_ec_cert),
		cmocka_unit_test(test_auth_cert),       cmocka_unit_test(test_dates),
		cmocka_unit_test(test_both_and_tsa),    cmocka_unit_test(test_classification),
		cmocka_unit_test(test_ckr_mapping),     cmocka_unit_test(test_known_names),
		cmocka_unit_test(test_french_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
