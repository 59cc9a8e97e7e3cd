/* test-cades.c - unit tests of the CAdES engine and the shared verification
 * report (no external component: keys and certificates are made in memory). */
#include "sdr-cms-private.h"
#include "sdr-cms-verify.h"
#include "sdr-cms.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-trust.h"
#include "sdr-verify.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define assert_no_error(e)                                                                         \
	do {                                                                                       \
		if ((e) != NULL)                                                                   \
			fail_msg("unexpected error: %s", (e)->message);                            \
	} while (0)

static const char doc[] = "Délibération n° 2026-042 : budget primitif";

typedef struct {
	EVP_PKEY *key;
	X509 *cert;
} Identity;

static Identity rsa_id, ec_id;

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_NAME_free(n);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static int
setup_ids(void **state)
{
	rsa_id.key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_id.cert = self_signed(rsa_id.key, "Jean DUPONT");
	ec_id.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec_id.cert = self_signed(ec_id.key, "Jeanne MARTIN");
	return rsa_id.cert != NULL && ec_id.cert != NULL ? 0 : -1;
}

static int
teardown_ids(void **state)
{
	EVP_PKEY_free(rsa_id.key);
	X509_free(rsa_id.cert);
	EVP_PKEY_free(ec_id.key);
	X509_free(ec_id.cert);
	return 0;
}

static X509_STORE *
store_for(X509 *cert)
{
	X509_STORE *st = X509_STORE_new();

	X509_STORE_add_cert(st, cert);
	return st;
}

static GBytes *
sign_doc(Identity *id, SdrSigScheme scheme, SdrHashAlg hash, gboolean attached,
         gboolean signing_time, GError **error)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(id->key, id->cert, NULL);
	g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data(doc, sizeof doc - 1, NULL);
	SdrCmsOptions o;

	sdr_cms_options_init(&o);
	o.hash = hash;
	o.signing_time = signing_time;
	if (scheme != sdr_signer_get_scheme(signer))
		assert_true(sdr_signer_set_scheme(signer, scheme, NULL));
	return sdr_cms_sign_stream(signer, in, attached, &o, NULL, error);
}

static SdrVerifyReport *
verify(GBytes *cms, const char *content, gsize len, X509 *anchor)
{
	SdrVerifyOptions o = { 0 };
	g_autoptr(GInputStream) in = NULL;
	SdrVerifyReport *rep;
	GError *error = NULL;

	if (content != NULL)
		in = g_memory_input_stream_new_from_data(content, (gssize)len, NULL);
	o.trust = anchor != NULL ? store_for(anchor) : NULL;
	rep = sdr_cms_verify(cms, in, "test.p7s", &o, &error);
	assert_no_error(error);
	X509_STORE_free(o.trust);
	assert_non_null(rep);
	return rep;
}

static gboolean
has_reason(const SdrSignatureResult *r, SdrReasonCode code)
{
	for (guint i = 0; i < r->reasons->len; i++)
		if (((SdrReason *)g_ptr_array_index(r->reasons, i))->code == code)
			return TRUE;
	return FALSE;
}

/* OpenSSL as an independent oracle: signature and digest check. */
static void
openssl_check(GBytes *cms_bytes, gboolean attached, X509 *anchor)
{
	const unsigned char *p = g_bytes_get_data(cms_bytes, NULL);
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)g_bytes_get_size(cms_bytes));
	BIO *content = attached ? NULL : BIO_new_mem_buf(doc, sizeof doc - 1);
	X509_STORE *st = store_for(anchor);
	int r;

	assert_non_null(cms);
	r = CMS_verify(cms, NULL, st, content, NULL, CMS_BINARY);
	if (r != 1)
		ERR_print_errors_fp(stderr);
	assert_int_equal(r, 1);
	X509_STORE_free(st);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
}

/* The signed attributes are in DER (sorted) order and hold the baseline set. */
static void
check_signed_attrs(GBytes *cms_bytes, gboolean signing_time)
{
	const unsigned char *p = g_bytes_get_data(cms_bytes, NULL);
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)g_bytes_get_size(cms_bytes));
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	g_autoptr(GBytes) prev = NULL;
	int n = CMS_signed_get_attr_count(si);

	assert_int_equal(n, signing_time ? 4 : 3);
	for (int i = 0; i < n; i++) {
		unsigned char *d = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &d);
		GBytes *cur = g_bytes_new(d, (gsize)l);

		OPENSSL_free(d);
		if (prev != NULL)
			assert_true(g_bytes_compare(prev, cur) < 0);
		g_clear_pointer(&prev, g_bytes_unref);
		prev = cur;
	}
	assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) >= 0);
	assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) >= 0);
	assert_true(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) >= 0);
	assert_int_equal(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0,
	                 signing_time);
	CMS_ContentInfo_free(cms);
}

static void
sign_verify_case(Identity *id, SdrSigScheme scheme, SdrHashAlg hash, gboolean attached)
{
	GError *error = NULL;
	g_autoptr(GBytes) cms = sign_doc(id, scheme, hash, attached, TRUE, &error);
	g_autoptr(SdrVerifyReport) rep = NULL;
	SdrSignatureResult *r;

	assert_no_error(error);
	assert_non_null(cms);
	openssl_check(cms, attached, id->cert);
	check_signed_attrs(cms, TRUE);
	rep = verify(cms, attached ? NULL : doc, sizeof doc - 1, id->cert);
	assert_int_equal(rep->signatures->len, 1);
	r = g_ptr_array_index(rep->signatures, 0);
	if (r->verdict != SDR_VERDICT_VALID)
		fail_msg("verdict %d: %s", r->verdict,
		         r->reasons->len ? ((SdrReason *)g_ptr_array_index(r->reasons, 0))->message
		                         : "?");
	assert_int_equal(r->level, SDR_LEVEL_B_B);
	assert_string_equal(r->digest_algorithm, sdr_hash_name(hash));
	assert_non_null(r->claimed_signing_time);
	assert_non_null(r->signer);
	assert_int_equal(X509_cmp(r->signer, id->cert), 0);
	assert_int_equal(sdr_verify_report_overall(rep), SDR_VERDICT_VALID);
}

static void
test_sign_rsa(void **state)
{
	for (int h = SDR_HASH_SHA256; h <= SDR_HASH_SHA512; h++) {
		sign_verify_case(&rsa_id, SDR_SIG_RSA_PKCS1, (SdrHashAlg)h, FALSE);
		sign_verify_case(&rsa_id, SDR_SIG_RSA_PKCS1, (SdrHashAlg)h, TRUE);
	}
}

static void
test_sign_pss(void **state)
{
	for (int h = SDR_HASH_SHA256; h <= SDR_HASH_SHA512; h++)
		sign_verify_case(&rsa_id, SDR_SIG_RSA_PSS, (SdrHashAlg)h, h == SDR_HASH_SHA384);
}

static void
test_sign_ec(void **state)
{
	for (int h = SDR_HASH_SHA256; h <= SDR_HASH_SHA512; h++) {
		sign_verify_case(&ec_id, SDR_SIG_ECDSA, (SdrHashAlg)h, FALSE);
		sign_verify_case(&ec_id, SDR_SIG_ECDSA, (SdrHashAlg)h, TRUE);
	}
}

static void
test_tampering(void **state)
{
	GError *error = NULL;
	g_autoptr(GBytes) cms =
	        sign_doc(&rsa_id, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, FALSE, TRUE, &error);
	g_autoptr(SdrVerifyReport) other = NULL;
	g_autoptr(SdrVerifyReport) missing = NULL;
	g_autoptr(SdrVerifyReport) flipped = NULL;
	g_autoptr(SdrVerifyReport) untrusted = NULL;
	g_autoptr(GBytes) bad = NULL;
	guint8 *copy;
	gsize len;
	SdrSignatureResult *r;

	assert_no_error(error);
	other = verify(cms, "autre", 5, rsa_id.cert);
	r = g_ptr_array_index(other->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_INVALID);
	assert_true(has_reason(r, SDR_REASON_DIGEST_MISMATCH));

	missing = verify(cms, NULL, 0, rsa_id.cert);
	r = g_ptr_array_index(missing->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_INDETERMINATE);
	assert_true(has_reason(r, SDR_REASON_DATA_NOT_FOUND));

	/* B-B: the signature value is the last element of the DER. */
	copy = g_memdup2(g_bytes_get_data(cms, &len), g_bytes_get_size(cms));
	copy[len - 1] ^= 0x01;
	bad = g_bytes_new_take(copy, len);
	flipped = verify(bad, doc, sizeof doc - 1, rsa_id.cert);
	r = g_ptr_array_index(flipped->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_INVALID);
	assert_true(has_reason(r, SDR_REASON_SIGNATURE_VALUE));

	untrusted = verify(cms, doc, sizeof doc - 1, ec_id.cert);
	r = g_ptr_array_index(untrusted->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_INDETERMINATE);
	assert_true(has_reason(r, SDR_REASON_CHAIN_NOT_TRUSTED));
}

static void
test_pades_mode(void **state)
{
	GError *error = NULL;
	g_autoptr(GBytes) cms =
	        sign_doc(&ec_id, SDR_SIG_ECDSA, SDR_HASH_SHA256, FALSE, FALSE, &error);
	g_autoptr(SdrSignatureResult) pades = sdr_signature_result_new("PAdES");
	g_autoptr(SdrSignatureResult) cades = sdr_signature_result_new("CAdES");
	SdrVerifyOptions o = { 0 };
	guint8 d[64];
	SdrHashAlg alg;

	assert_no_error(error);
	check_signed_attrs(cms, FALSE);
	assert_true(sdr_cms_peek_digest_alg(cms, &alg, &error));
	assert_int_equal(alg, SDR_HASH_SHA256);
	EVP_Digest(doc, sizeof doc - 1, d, NULL, EVP_sha256(), NULL);
	o.trust = store_for(ec_id.cert);
	assert_true(sdr_cms_verify_digest(cms, alg, d, 32, &o, pades, &error));
	assert_int_equal(pades->verdict, SDR_VERDICT_VALID);
	assert_int_equal(pades->level, SDR_LEVEL_B_B);
	assert_null(pades->claimed_signing_time);
	/* the same CMS as CAdES lacks signing-time: not baseline, still valid */
	assert_true(sdr_cms_verify_digest(cms, alg, d, 32, &o, cades, &error));
	assert_int_equal(cades->verdict, SDR_VERDICT_VALID);
	assert_int_equal(cades->level, SDR_LEVEL_NONE);
	X509_STORE_free(o.trust);
}

static GBytes *
bad_sign(gpointer user_data, SdrSigScheme scheme, SdrHashAlg hash, const guint8 *digest,
         gsize digest_len, GError **error)
{
	if (GPOINTER_TO_INT(user_data) == 1) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED, "card removed");
		return NULL;
	}
	return g_bytes_new_static("short", 5);
}

static void
test_signer_errors(void **state)
{
	g_autoptr(SdrSigner) removed =
	        sdr_signer_new(ec_id.cert, NULL, SDR_SIG_ECDSA, bad_sign, GINT_TO_POINTER(1), NULL);
	g_autoptr(SdrSigner) shortsig =
	        sdr_signer_new(ec_id.cert, NULL, SDR_SIG_ECDSA, bad_sign, GINT_TO_POINTER(2), NULL);
	guint8 d[32] = { 0 };
	GError *error = NULL;
	GBytes *out;

	assert_int_equal(sdr_signer_get_ec_field_len(removed), 32);
	out = sdr_cms_sign_digest(removed, d, sizeof d, NULL, &error);
	assert_null(out);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED));
	g_clear_error(&error);
	out = sdr_cms_sign_digest(shortsig, d, sizeof d, NULL, &error);
	assert_null(out);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CRYPTO));
	g_clear_error(&error);
	/* wrong digest length */
	out = sdr_cms_sign_digest(removed, d, 20, NULL, &error);
	assert_null(out);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
	g_clear_error(&error);
	/* scheme that does not fit the key */
	assert_false(sdr_signer_set_scheme(removed, SDR_SIG_RSA_PSS, &error));
	g_clear_error(&error);
}

static void
test_levels_need_tsa(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(ec_id.key, ec_id.cert, NULL);
	guint8 d[32] = { 0 };
	SdrCmsOptions o;
	GError *error = NULL;

	sdr_cms_options_init(&o);
	o.level = SDR_TARGET_LEVEL_T;
	assert_null(sdr_cms_sign_digest(signer, d, sizeof d, &o, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED));
	g_clear_error(&error);
	o.tsa_url = "ftp://127.0.0.1/";
	assert_null(sdr_cms_sign_digest(signer, d, sizeof d, &o, &error));
	assert_non_null(error);
	g_clear_error(&error);
	o.level = SDR_TARGET_LEVEL_LTA;
	assert_null(sdr_cms_sign_digest(signer, d, sizeof d, &o, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED));
	g_clear_error(&error);
}

static void
test_bad_input(void **state)
{
	static const char *const garbage[] = {
		"",
		"x",
		"\x30",
		"\x30\x82\xff\xff\x06",
		"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n",
		"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"
	};
	g_autoptr(GBytes) good =
	        sign_doc(&ec_id, SDR_SIG_ECDSA, SDR_HASH_SHA256, FALSE, TRUE, NULL);
	GError *error = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(garbage); i++) {
		g_autoptr(GBytes) b = g_bytes_new_static(garbage[i], strlen(garbage[i]) + (i == 2));
		SdrVerifyReport *rep = sdr_cms_verify(b, NULL, "x", NULL, &error);
		SdrHashAlg alg;

		assert_null(rep);
		assert_non_null(error);
		g_clear_error(&error);
		assert_false(sdr_cms_peek_digest_alg(b, &alg, &error));
		g_clear_error(&error);
	}
	/* every truncation of a good signature fails cleanly */
	for (gsize n = 0; n < g_bytes_get_size(good); n += 7) {
		g_autoptr(GBytes) b = g_bytes_new_from_bytes(good, 0, n);
		SdrVerifyReport *rep = sdr_cms_verify(b, NULL, "x", NULL, &error);

		if (rep == NULL) {
			assert_non_null(error);
			g_clear_error(&error);
		}
		sdr_verify_report_free(rep);
	}
	/* huge PEM: over the cap */
	{
		gsize big = 70 * 1024 * 1024;
		guint8 *buf = g_malloc(big);
		g_autoptr(GBytes) b = NULL;

		memset(buf, 'A', big);
		memcpy(buf, "-----BEGIN CMS-----\n", 20);
		b = g_bytes_new_take(buf, big);
		assert_null(sdr_cms_verify(b, NULL, "x", NULL, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));
		g_clear_error(&error);
	}
}

static void
test_unknown_digest(void **state)
{
	BIO *in = BIO_new_mem_buf(doc, sizeof doc - 1);
	CMS_ContentInfo *cms =
	        CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	unsigned char *der = NULL;
	int len;
	g_autoptr(GBytes) b = NULL;
	g_autoptr(SdrVerifyReport) rep = NULL;
	SdrSignatureResult *r;
	GError *error = NULL;
	SdrHashAlg alg;

	assert_non_null(CMS_add1_signer(cms, rsa_id.cert, rsa_id.key, EVP_sha1(), CMS_BINARY));
	assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY | CMS_DETACHED), 1);
	len = i2d_CMS_ContentInfo(cms, &der);
	b = g_bytes_new(der, (gsize)len);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	rep = verify(b, doc, sizeof doc - 1, rsa_id.cert);
	r = g_ptr_array_index(rep->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_INDETERMINATE);
	assert_true(has_reason(r, SDR_REASON_UNSUPPORTED_ALGORITHM));
	assert_false(sdr_cms_peek_digest_alg(b, &alg, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
	g_clear_error(&error);
}

static void
test_ocsp_splice(void **state)
{
	g_autoptr(GBytes) cms = sign_doc(&ec_id, SDR_SIG_ECDSA, SDR_HASH_SHA256, FALSE, TRUE, NULL);
	/* Any DER value stands for an OCSPResponse here: the splice does not parse it. */
	static const guint8 fake1[] = { 0x30, 0x03, 0x0a, 0x01, 0x06 };
	static const guint8 fake2[] = { 0x30, 0x03, 0x0a, 0x01, 0x01 };
	g_autoptr(GPtrArray) ocsp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GBytes) out = NULL;
	g_autoptr(GPtrArray) back = NULL;
	g_autoptr(SdrVerifyReport) rep = NULL;
	GError *error = NULL;

	g_ptr_array_add(ocsp, g_bytes_new_static(fake1, sizeof fake1));
	g_ptr_array_add(ocsp, g_bytes_new_static(fake2, sizeof fake2));
	out = sdr_cms_der_add_ocsp(cms, ocsp, &error);
	assert_no_error(error);
	assert_non_null(out);
	back = sdr_cms_der_get_ocsp(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
	assert_int_equal(back->len, 2);
	/* sorted: fake2 (…01) before fake1 (…06) */
	assert_true(g_bytes_equal(g_ptr_array_index(back, 0), g_ptr_array_index(ocsp, 1)));
	openssl_check(out, FALSE, ec_id.cert);
	rep = verify(out, doc, sizeof doc - 1, ec_id.cert);
	assert_int_equal(((SdrSignatureResult *)g_ptr_array_index(rep->signatures, 0))->verdict,
	                 SDR_VERDICT_VALID);
}

static void
test_report(void **state)
{
	g_autoptr(SdrVerifyReport) rep = sdr_verify_report_new("f", "CAdES");
	SdrSignatureResult *a = sdr_signature_result_new("CAdES");
	SdrSignatureResult *b = sdr_signature_result_new("CAdES");
	SdrTargetLevel l;

	assert_int_equal(sdr_verify_report_overall(rep), SDR_VERDICT_INDETERMINATE);
	g_ptr_array_add(rep->signatures, a);
	g_ptr_array_add(rep->signatures, b);
	assert_int_equal(sdr_verify_report_overall(rep), SDR_VERDICT_VALID);
	sdr_signature_result_fail(b, SDR_VERDICT_INDETERMINATE, SDR_REASON_CHAIN_NOT_TRUSTED,
	                          "x %d", 1);
	assert_int_equal(sdr_verify_report_overall(rep), SDR_VERDICT_INDETERMINATE);
	sdr_signature_result_fail(b, SDR_VERDICT_INVALID, SDR_REASON_DIGEST_MISMATCH, "y");
	sdr_signature_result_fail(b, SDR_VERDICT_INDETERMINATE, SDR_REASON_CERT_EXPIRED, "z");
	assert_int_equal(b->verdict, SDR_VERDICT_INVALID);
	assert_int_equal(b->reasons->len, 3);
	assert_int_equal(sdr_verify_report_overall(rep), SDR_VERDICT_INVALID);
	sdr_signature_result_warn(a, SDR_REASON_FORMAT, "w");
	assert_int_equal(a->verdict, SDR_VERDICT_VALID);
	sdr_signature_result_set_detail(a, "revision", "2");
	assert_string_equal(g_hash_table_lookup(a->details, "revision"), "2");
	sdr_verify_report_note(rep, SDR_REASON_NO_SIGNATURE, "n");
	assert_int_equal(rep->notes->len, 1);

	assert_string_equal(sdr_level_name(SDR_LEVEL_B_LT), "B-LT");
	assert_string_equal(sdr_level_name(SDR_LEVEL_NONE), "none");
	assert_string_equal(sdr_reason_code_name(SDR_REASON_DIGEST_MISMATCH), "DIGEST_MISMATCH");
	assert_string_equal(sdr_reason_code_name(SDR_REASON_NO_SIGNATURE), "NO_SIGNATURE");
	assert_string_equal(sdr_reason_code_name((SdrReasonCode)999), "UNKNOWN");
	assert_true(sdr_target_level_from_name("lt", &l));
	assert_int_equal(l, SDR_TARGET_LEVEL_LT);
	assert_true(sdr_target_level_from_name("B-T", &l));
	assert_int_equal(l, SDR_TARGET_LEVEL_T);
	assert_false(sdr_target_level_from_name("X", &l));
	sdr_signature_result_free(NULL);
	sdr_verify_report_free(NULL);
	sdr_signer_free(NULL);
	sdr_validation_data_free(NULL);
}

static void
test_files(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("sdr-cades-XXXXXX", NULL);
	g_autofree char *docp = g_build_filename(dir, "doc.txt", NULL);
	g_autofree char *sigp = g_build_filename(dir, "doc.txt.p7s", NULL);
	g_autofree char *junk = g_build_filename(dir, "junk.bin", NULL);
	g_autofree char *keyp = g_build_filename(dir, "k.pem", NULL);
	g_autofree char *certp = g_build_filename(dir, "c.pem", NULL);
	g_autofree char *none = g_build_filename(dir, "none", NULL);
	g_autoptr(GBytes) cms = sign_doc(&ec_id, SDR_SIG_ECDSA, SDR_HASH_SHA256, FALSE, TRUE, NULL);
	const char *anchors[] = { certp, NULL };
	const char *bad_anchors[] = { none, NULL };
	g_autoptr(SdrVerifyReport) rep = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	SdrVerifyOptions o = { 0 };
	GError *error = NULL;
	BIO *bio;

	assert_true(g_file_set_contents(docp, doc, sizeof doc - 1, NULL));
	assert_true(g_file_set_contents(sigp, g_bytes_get_data(cms, NULL),
	                                (gssize)g_bytes_get_size(cms), NULL));
	assert_true(g_file_set_contents(junk, "hello world, not a signature", -1, NULL));
	bio = BIO_new_file(keyp, "w");
	PEM_write_bio_PrivateKey(bio, ec_id.key, NULL, NULL, 0, NULL, NULL);
	BIO_free(bio);
	bio = BIO_new_file(certp, "w");
	PEM_write_bio_X509(bio, ec_id.cert);
	BIO_free(bio);

	o.trust = sdr_trust_store_new(anchors, FALSE, &error);
	assert_no_error(error);
	assert_null(sdr_trust_store_new(bad_anchors, FALSE, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONFIG));
	g_clear_error(&error);

	/* "doc.txt.p7s" finds "doc.txt" by itself */
	rep = sdr_verify_file(sigp, &o, &error);
	assert_no_error(error);
	assert_string_equal(rep->format, "CAdES");
	assert_int_equal(sdr_verify_report_overall(rep), SDR_VERDICT_VALID);
	assert_null(sdr_verify_file(junk, &o, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
	g_clear_error(&error);
	assert_null(sdr_verify_file(none, &o, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NOT_FOUND));
	g_clear_error(&error);

	signer = sdr_signer_new_from_files(keyp, certp, NULL, &error);
	assert_no_error(error);
	assert_int_equal(sdr_signer_get_scheme(signer), SDR_SIG_ECDSA);
	assert_null(sdr_signer_new_from_files(keyp, none, NULL, &error));
	assert_non_null(error);
	g_clear_error(&error);
	assert_null(sdr_signer_new_from_files(certp, certp, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PARSE));
	g_clear_error(&error);

	X509_STORE_free(o.trust);
	g_unlink(docp);
	g_unlink(sigp);
	g_unlink(junk);
	g_unlink(keyp);
	g_unlink(certp);
	g_rmdir(dir);
}

/* A leaf issued by ca_id (rsa_id), with an optional AIA OCSP URL. */
static X509 *
issue_leaf(EVP_PKEY *key, const char *ocsp_url)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 77);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"Leaf", -1, -1,
	                           0);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	X509_set_issuer_name(x, X509_get_subject_name(rsa_id.cert));
	X509_set_pubkey(x, key);
	if (ocsp_url != NULL) {
		g_autofree char *v = g_strdup_printf("OCSP;URI:%s", ocsp_url);
		X509_EXTENSION *ext;

		X509V3_set_ctx(&ctx, rsa_id.cert, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_info_access, v);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, rsa_id.key, EVP_sha256());
	return x;
}

static void
test_revocation_errors(void **state)
{
	X509 *bare = issue_leaf(ec_id.key, NULL);
	X509 *down = issue_leaf(ec_id.key, "http://127.0.0.1:1/");
	X509_STORE *st = store_for(rsa_id.cert);
	g_autoptr(SdrValidationData) vd = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	guint8 d[32] = { 0 };
	SdrCmsOptions o;
	GError *error = NULL;

	vd = sdr_revocation_collect(bare, NULL, st, &error);
	assert_null(vd);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED));
	assert_non_null(strstr(error->message, "OCSP"));
	g_clear_error(&error);
	vd = sdr_revocation_collect(down, NULL, st, &error);
	assert_null(vd);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NETWORK));
	g_clear_error(&error);
	/* no path to an anchor */
	vd = sdr_revocation_collect(down, NULL, NULL, &error);
	assert_null(vd);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED));
	g_clear_error(&error);
	/* a TSA that does not answer: B-T fails with NETWORK */
	signer = sdr_signer_new_from_key(ec_id.key, bare, NULL);
	sdr_cms_options_init(&o);
	o.level = SDR_TARGET_LEVEL_T;
	o.tsa_url = "http://127.0.0.1:1/tsa";
	assert_null(sdr_cms_sign_digest(signer, d, sizeof d, &o, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NETWORK));
	g_clear_error(&error);
	X509_STORE_free(st);
	X509_free(bare);
	X509_free(down);
}

/* Stored unsorted, signed over the sorted form (dss-667 style): OpenSSL says bad
 * signature, we accept it like DSS but not as baseline. */
static void
test_unsorted_attrs(void **state)
{
	g_autoptr(GBytes) cms =
	        sign_doc(&rsa_id, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, FALSE, TRUE, NULL);
	const unsigned char *p = g_bytes_get_data(cms, NULL);
	CMS_ContentInfo *ci = d2i_CMS_ContentInfo(NULL, &p, (long)g_bytes_get_size(cms));
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(ci), 0);
	unsigned char *a = NULL, *b = NULL;
	int al = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, 0), &a);
	int bl = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, 1), &b);
	gsize len = g_bytes_get_size(cms);
	guint8 *copy = g_memdup2(g_bytes_get_data(cms, NULL), len);
	guint8 *ab = g_malloc((gsize)al + (gsize)bl);
	guint8 *at;
	g_autoptr(GBytes) swapped = NULL;
	g_autoptr(SdrVerifyReport) rep = NULL;
	SdrSignatureResult *r;
	BIO *content = BIO_new_mem_buf(doc, sizeof doc - 1);
	X509_STORE *st = store_for(rsa_id.cert);
	CMS_ContentInfo *sw;

	memcpy(ab, a, (gsize)al);
	memcpy(ab + al, b, (gsize)bl);
	at = memmem(copy, len, ab, (gsize)al + (gsize)bl);
	assert_non_null(at);
	memcpy(at, b, (gsize)bl);
	memcpy(at + bl, a, (gsize)al);
	swapped = g_bytes_new_take(copy, len);
	p = g_bytes_get_data(swapped, NULL);
	sw = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	assert_non_null(sw);
	assert_int_not_equal(CMS_verify(sw, NULL, st, content, NULL, CMS_BINARY), 1);
	ERR_clear_error();
	rep = verify(swapped, doc, sizeof doc - 1, rsa_id.cert);
	r = g_ptr_array_index(rep->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_VALID);
	assert_int_equal(r->level, SDR_LEVEL_NONE);
	assert_true(r->warnings->len >= 1);
	CMS_ContentInfo_free(sw);
	CMS_ContentInfo_free(ci);
	X509_STORE_free(st);
	BIO_free(content);
	OPENSSL_free(a);
	OPENSSL_free(b);
	g_free(ab);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_sign_pss),
		cmocka_unit_test(test_sign_ec),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_pades_mode),
		cmocka_unit_test(test_signer_errors),
		cmocka_unit_test(test_levels_need_tsa),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_unknown_digest),
		cmocka_unit_test(test_ocsp_splice),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_revocation_errors),
		cmocka_unit_test(test_unsorted_attrs),
	};

	return cmocka_run_group_tests(tests, setup_ids, teardown_ids);
}
