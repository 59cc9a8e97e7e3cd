/* sdr-tsa.c - RFC 3161 client (over sdr-http.c) and token checks. */
#include "sdr-tsa.h"

#include "sdr-error.h"
#include "sdr-http.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <string.h>

#define SDR_TSA_TOKEN_MAX ((gsize)1024 * 1024)

/* ---- timestamp request ---- */

static const char *
pki_status_text(long status)
{
	switch (status) {
	case 2:
		return _("request rejected");
	case 3:
		return _("waiting");
	case 4:
		return _("revocation warning");
	case 5:
		return _("revocation notification");
	default:
		return _("unknown status");
	}
}

GBytes *
sdr_tsa_timestamp(const char *url, SdrHashAlg hash, const guint8 *digest, gsize digest_len,
                  GError **error)
{
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *imprint = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *vctx = NULL;
	unsigned char *req_der = NULL;
	unsigned char *tok_der = NULL;
	int req_len, tok_len;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GBytes) answer = NULL;
	GBytes *token = NULL;
	const unsigned char *p;
	long status;

	g_return_val_if_fail(digest != NULL, NULL);
	if (digest_len != sdr_hash_len(hash)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("The digest length does not match its algorithm"));
		return NULL;
	}
	req = TS_REQ_new();
	imprint = TS_MSG_IMPRINT_new();
	alg = X509_ALGOR_new();
	bn = BN_new();
	if (req == NULL || imprint == NULL || alg == NULL || bn == NULL)
		goto ossl_err;
	X509_ALGOR_set_md(alg, sdr_hash_md(hash));
	if (TS_MSG_IMPRINT_set_algo(imprint, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)digest, (int)digest_len) != 1 ||
	    TS_REQ_set_version(req, 1) != 1 || TS_REQ_set_msg_imprint(req, imprint) != 1 ||
	    TS_REQ_set_cert_req(req, 1) != 1)
		goto ossl_err;
	if (BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || TS_REQ_set_nonce(req, nonce) != 1)
		goto ossl_err;
	req_len = i2d_TS_REQ(req, &req_der);
	if (req_len <= 0)
		goto ossl_err;
	body = g_bytes_new(req_der, (gsize)req_len);
	answer = sdr_http_fetch(url, "application/timestamp-query", body, SDR_HTTP_TSA_MAX, error);
	if (answer == NULL)
		goto out;
	p = g_bytes_get_data(answer, NULL);
	resp = d2i_TS_RESP(NULL, &p, (long)g_bytes_get_size(answer));
	if (resp == NULL) {
		ERR_clear_error();
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The timestamp authority %s sent an answer that is not a timestamp "
		              "response"),
		            url);
		goto out;
	}
	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
	if (status != 0 && status != 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The timestamp authority %s refused the request (%s)"), url,
		            pki_status_text(status));
		goto out;
	}
	if (TS_RESP_get_token(resp) == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The timestamp authority %s sent no token"), url);
		goto out;
	}
	/* Version, nonce and imprint must be those we asked for. */
	vctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
	if (vctx == NULL)
		goto ossl_err;
	TS_VERIFY_CTX_set_flags(vctx, TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
	if (TS_RESP_verify_response(vctx, resp) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO,
		                      _("The timestamp does not match the request"));
		goto out;
	}
	tok_len = i2d_PKCS7(TS_RESP_get_token(resp), &tok_der);
	if (tok_len <= 0)
		goto ossl_err;
	if (!sdr_tsa_verify_token(tok_der, (gsize)tok_len, digest, digest_len, NULL, NULL, error))
		goto out;
	token = g_bytes_new(tok_der, (gsize)tok_len);
	goto out;
ossl_err:
	sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the timestamp request"));
out:
	OPENSSL_free(req_der);
	OPENSSL_free(tok_der);
	TS_VERIFY_CTX_free(vctx);
	TS_RESP_free(resp);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imprint);
	TS_REQ_free(req);
	return token;
}

/* ---- token checks ---- */

/* After CMS_verify(): each SignerInfo's signatureAlgorithm must name a signature
 * algorithm that fits its key and digest algorithm (OpenSSL verifies with the digest
 * algorithm whatever hash the OID names). */
static gboolean
token_algorithms_ok(CMS_ContentInfo *cms, GError **error)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);

	for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		EVP_PKEY *pk = NULL;
		X509_ALGOR *dig = NULL, *sig = NULL;
		const char *why = NULL;

		CMS_SignerInfo_get0_algs(si, &pk, NULL, &dig, &sig);
		switch (sdr_sig_alg_from_algor(
		        sig, dig != NULL ? OBJ_obj2nid(dig->algorithm) : NID_undef, pk, NULL,
		        &why)) {
		case SDR_SIG_ALG_OK:
			break;
		case SDR_SIG_ALG_UNSUPPORTED:
			g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			            _("The timestamp token uses an unsupported signature "
			              "algorithm: %s"),
			            _(why));
			return FALSE;
		case SDR_SIG_ALG_INVALID:
		default:
			g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO,
			            _("The timestamp token signature algorithm cannot be "
			              "accepted: %s"),
			            _(why));
			return FALSE;
		}
	}
	return TRUE;
}

static TS_TST_INFO *
token_tst_info(const guint8 *token, gsize token_len, gboolean check_signature, GError **error)
{
	const unsigned char *p = token;
	CMS_ContentInfo *cms;
	BIO *out = NULL;
	TS_TST_INFO *info = NULL;
	BUF_MEM *mem = NULL;
	const unsigned char *q;

	if (token_len > SDR_TSA_TOKEN_MAX) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		                    _("The timestamp token is too large"));
		return NULL;
	}
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)token_len);
	if (cms == NULL || OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_id_smime_ct_TSTInfo) {
		ERR_clear_error();
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
		                    _("The timestamp token cannot be parsed"));
		goto out;
	}
	out = BIO_new(BIO_s_mem());
	if (check_signature) {
		if (CMS_verify(cms, NULL, NULL, NULL, out,
		               CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
			/* No certificate to check with is not a wrong signature. */
			if (ERR_GET_REASON(ERR_peek_last_error()) ==
			    CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
				ERR_clear_error();
				g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
				                    _("The timestamp token does not carry the "
				                      "certificate of its authority"));
			} else {
				sdr_error_set_openssl(error, SDR_ERROR_CRYPTO,
				                      _("The timestamp token signature is wrong"));
			}
			goto out;
		}
		if (!token_algorithms_ok(cms, error))
			goto out;
	} else {
		ASN1_OCTET_STRING **pos = CMS_get0_content(cms);

		if (pos == NULL || *pos == NULL) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
			                    _("The timestamp token cannot be parsed"));
			goto out;
		}
		BIO_write(out, ASN1_STRING_get0_data(*pos), ASN1_STRING_length(*pos));
	}
	BIO_get_mem_ptr(out, &mem);
	q = (const unsigned char *)mem->data;
	info = d2i_TS_TST_INFO(NULL, &q, (long)mem->length);
	if (info == NULL) {
		ERR_clear_error();
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
		                    _("The timestamp token cannot be parsed"));
	}
out:
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return info;
}

gboolean
sdr_tsa_token_hash(const guint8 *token, gsize token_len, SdrHashAlg *out)
{
	TS_TST_INFO *info = token_tst_info(token, token_len, FALSE, NULL);
	const X509_ALGOR *alg;
	gboolean ok = FALSE;

	if (info == NULL)
		return FALSE;
	alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(info));
	ok = sdr_hash_from_nid(OBJ_obj2nid(alg->algorithm), out);
	TS_TST_INFO_free(info);
	return ok;
}

/* The TSA chain of a token OpenSSL's PKCS7 parser refuses (a certificates SET
 * holding an attribute or "other" certificate, valid CMS): the CMS signer is
 * checked against the store with the timestamping purpose. */
static gboolean
cms_token_tsa_trusted(const guint8 *token, gsize token_len, X509_STORE *store)
{
	const unsigned char *p = token;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)token_len);
	STACK_OF(X509) *certs = NULL, *signers = NULL;
	X509_STORE_CTX *ctx = NULL;
	gboolean ok = FALSE;

	if (cms == NULL ||
	    CMS_verify(cms, NULL, NULL, NULL, NULL,
	               CMS_NO_SIGNER_CERT_VERIFY | CMS_NO_CONTENT_VERIFY | CMS_BINARY) != 1)
		goto out;
	signers = CMS_get0_signers(cms);
	certs = CMS_get1_certs(cms);
	if (signers == NULL || sk_X509_num(signers) != 1)
		goto out;
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, sk_X509_value(signers, 0), certs) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_TIMESTAMP_SIGN) != 1)
		goto out;
	ok = X509_verify_cert(ctx) == 1;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(signers);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

gboolean
sdr_tsa_token_trusted_at(const guint8 *token, gsize token_len, X509_STORE *store, GDateTime *at,
                         GError **error)
{
	const unsigned char *p = token;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)token_len);
	STACK_OF(X509) *certs = NULL, *signers = NULL;
	X509_STORE_CTX *ctx = NULL;
	gboolean ok = FALSE;
	int err = 0;

	if (cms == NULL ||
	    CMS_verify(cms, NULL, NULL, NULL, NULL,
	               CMS_NO_SIGNER_CERT_VERIFY | CMS_NO_CONTENT_VERIFY | CMS_BINARY) != 1)
		goto out;
	signers = CMS_get0_signers(cms);
	certs = CMS_get1_certs(cms);
	if (signers == NULL || sk_X509_num(signers) != 1)
		goto out;
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, sk_X509_value(signers, 0), certs) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_TIMESTAMP_SIGN) != 1)
		goto out;
	if (at != NULL)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)g_date_time_to_unix(at));
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		err = X509_STORE_CTX_get_error(ctx);
out:
	if (!ok)
		g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO,
		            _("The timestamp authority is not trusted: %s"),
		            err != 0 ? X509_verify_cert_error_string(err) : "?");
	X509_STORE_CTX_free(ctx);
	sk_X509_free(signers);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

gboolean
sdr_tsa_verify_token(const guint8 *token, gsize token_len, const guint8 *digest, gsize digest_len,
                     X509_STORE *store, GDateTime **gen_time, GError **error)
{
	TS_TST_INFO *info;
	TS_MSG_IMPRINT *imprint;
	ASN1_OCTET_STRING *msg;
	GDateTime *t;
	gboolean ok = FALSE;

	g_return_val_if_fail(token != NULL && digest != NULL, FALSE);
	info = token_tst_info(token, token_len, TRUE, error);
	if (info == NULL)
		return FALSE;
	imprint = TS_TST_INFO_get_msg_imprint(info);
	msg = TS_MSG_IMPRINT_get_msg(imprint);
	if (msg == NULL || (gsize)ASN1_STRING_length(msg) != digest_len ||
	    memcmp(ASN1_STRING_get0_data(msg), digest, digest_len) != 0) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
		                    _("The timestamp does not cover this data (imprint mismatch)"));
		goto out;
	}
	t = sdr_time_from_asn1(TS_TST_INFO_get_time(info));
	if (t == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
		                    _("The timestamp time is invalid"));
		goto out;
	}
	if (store != NULL) {
		const unsigned char *p = token;
		PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)token_len);
		TS_VERIFY_CTX *vctx = TS_VERIFY_CTX_new();
		int r = 0;

		if (p7 != NULL && vctx != NULL) {
			X509_STORE_up_ref(store); /* the context frees its store */
			TS_VERIFY_CTX_set_store(vctx, store);
			TS_VERIFY_CTX_set_flags(vctx, TS_VFY_SIGNATURE);
			r = TS_RESP_verify_token(vctx, p7);
		} else if (p7 == NULL) {
			ERR_clear_error();
			r = cms_token_tsa_trusted(token, token_len, store) ? 1 : 0;
		}
		TS_VERIFY_CTX_free(vctx);
		PKCS7_free(p7);
		if (r != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO,
			                      _("The timestamp authority is not trusted"));
			g_date_time_unref(t);
			goto out;
		}
	}
	if (gen_time != NULL)
		*gen_time = t;
	else
		g_date_time_unref(t);
	ok = TRUE;
out:
	TS_TST_INFO_free(info);
	return ok;
}
