/* sdr-cms-verify.c - CAdES verification: each SignerInfo gets a verdict with its
 * reasons, the signer, the times and the baseline level it reaches. */
#include <openssl/pem.h>

#include "sdr-cms-verify.h"

#include "sdr-cms-private.h"
#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-time.h"
#include "sdr-tsa-revocation.h"
#include "sdr-tsa.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>

#define SDR_CMS_MAX ((gsize)256 * 1024 * 1024)
#define SDR_CMS_TEXT_MAX ((gsize)64 * 1024 * 1024) /* PEM / base64 input */
#define SDR_CMS_MAX_SIGNERS 32
#define SDR_CMS_MAX_TIMESTAMPS 8
#define SDR_CMS_MAX_REVOCATION 64

/* ---- parsing ---- */

static gboolean
is_base64_text(const guint8 *p, gsize len)
{
	gsize n = MIN(len, (gsize)256);

	if (n == 0)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_isalnum(p[i]) && p[i] != '+' && p[i] != '/' && p[i] != '=' &&
		    !g_ascii_isspace(p[i]))
			return FALSE;
	return TRUE;
}

static CMS_ContentInfo *
parse_cms(GBytes *bytes, GError **error)
{
	gsize len, off = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	CMS_ContentInfo *cms = NULL;

	if (len > SDR_CMS_MAX) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		                    _("The signature file is too large"));
		return NULL;
	}
	while (off < len && g_ascii_isspace(data[off]))
		off++;
	if (len - off >= 10 && memcmp(data + off, "-----BEGIN", 10) == 0) {
		BIO *bio;

		if (len > SDR_CMS_TEXT_MAX) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			                    _("The PEM signature is too large"));
			return NULL;
		}
		bio = BIO_new_mem_buf(data, (int)len);
		cms = PEM_read_bio_CMS(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else if (off < len && data[off] == 0x30) {
		const unsigned char *p = data + off;

		if (len - off > G_MAXLONG)
			return NULL;
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)(len - off));
	} else if (is_base64_text(data + off, len - off)) {
		g_autofree char *text = NULL;
		g_autofree guchar *der = NULL;
		gsize der_len = 0;
		const unsigned char *p;

		if (len > SDR_CMS_TEXT_MAX) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			                    _("The base64 signature is too large"));
			return NULL;
		}
		text = g_strndup((const char *)data + off, len - off);
		der = g_base64_decode(text, &der_len);
		p = der;
		if (der != NULL && der_len > 0 && der[0] == 0x30)
			cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	}
	ERR_clear_error();
	if (cms == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
		                    _("The file is not a CMS signature or it is damaged"));
		return NULL;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		CMS_ContentInfo_free(cms);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("The CMS structure is not signed data"));
		return NULL;
	}
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) < 1) {
		CMS_ContentInfo_free(cms);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
		                    _("The CMS signature holds no signer"));
		return NULL;
	}
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) > SDR_CMS_MAX_SIGNERS) {
		CMS_ContentInfo_free(cms);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		                    _("The CMS signature holds too many signers"));
		return NULL;
	}
	return cms;
}

static int
si_digest_nid(CMS_SignerInfo *si)
{
	X509_ALGOR *dig = NULL;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	return dig != NULL ? OBJ_obj2nid(dig->algorithm) : NID_undef;
}

gboolean
sdr_cms_peek_digest_alg(GBytes *cms_bytes, SdrHashAlg *out, GError **error)
{
	CMS_ContentInfo *cms;
	int nid;
	SdrHashAlg alg;

	g_return_val_if_fail(cms_bytes != NULL, FALSE);
	cms = parse_cms(cms_bytes, error);
	if (cms == NULL)
		return FALSE;
	nid = si_digest_nid(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0));
	CMS_ContentInfo_free(cms);
	if (!sdr_hash_from_nid(nid, &alg)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("Unsupported digest algorithm %s"),
		            nid != NID_undef ? OBJ_nid2sn(nid) : "?");
		return FALSE;
	}
	if (out != NULL)
		*out = alg;
	return TRUE;
}

gboolean
sdr_cms_is_detached(GBytes *cms_bytes)
{
	CMS_ContentInfo *cms;
	ASN1_OCTET_STRING **econtent;
	gboolean detached;

	g_return_val_if_fail(cms_bytes != NULL, FALSE);
	cms = parse_cms(cms_bytes, NULL);
	if (cms == NULL)
		return FALSE;
	econtent = CMS_get0_content(cms);
	detached = econtent == NULL || *econtent == NULL;
	CMS_ContentInfo_free(cms);
	return detached;
}

/* ---- attribute helpers ---- */

static int
signed_attr_count(CMS_SignerInfo *si, int nid)
{
	int n = 0, pos = -1;

	while ((pos = CMS_signed_get_attr_by_NID(si, nid, pos)) >= 0)
		n++;
	return n;
}

/* The single value of a signed attribute, or NULL. */
static ASN1_TYPE *
signed_attr_value(CMS_SignerInfo *si, int nid)
{
	int pos = CMS_signed_get_attr_by_NID(si, nid, -1);
	X509_ATTRIBUTE *a;

	if (pos < 0)
		return NULL;
	a = CMS_signed_get_attr(si, pos);
	if (a == NULL || X509_ATTRIBUTE_count(a) != 1)
		return NULL;
	return X509_ATTRIBUTE_get0_type(a, 0);
}

static gboolean
has_unsigned_oid(CMS_SignerInfo *si, const char *oid)
{
	int n = CMS_unsigned_get_attr_count(si);
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	gboolean found = FALSE;

	for (int i = 0; o != NULL && i < n && !found; i++) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, i);

		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), o) == 0)
			found = TRUE;
	}
	ASN1_OBJECT_free(o);
	return found;
}

/* ---- verification context ---- */

typedef struct {
	CMS_ContentInfo *cms;
	STACK_OF(X509) * certs;    /* CMS certificates */
	STACK_OF(X509_CRL) * crls; /* CMS CRLs */
	GPtrArray *ocsp;           /* GBytes* DER OCSPResponse from crls */
	const SdrVerifyOptions *options;
	X509_STORE *store; /* never NULL */
	gboolean pades;
	GBytes *der;           /* the CMS as encoded (archive-time-stamp-v3 imprints) */
	GDateTime *trust_time; /* when the signature timestamps' TSA must be trusted (NULL: now) */
	int ts_trusted;        /* signature timestamps whose TSA is trusted then */
	GDateTime *poe;        /* proof of existence from outside the CMS (PAdES document
	                          timestamp), borrowed, may be NULL */
	SdrValidationData *embedded; /* certs, ocsp and crls as one (tsa_not_revoked()) */
} VerifyCtx;

static void
verify_ctx_clear(VerifyCtx *v)
{
	sk_X509_pop_free(v->certs, X509_free);
	sk_X509_CRL_pop_free(v->crls, X509_CRL_free);
	if (v->ocsp != NULL)
		g_ptr_array_unref(v->ocsp);
	X509_STORE_free(v->store);
	if (v->der != NULL)
		g_bytes_unref(v->der);
	g_clear_pointer(&v->embedded, sdr_validation_data_free);
	CMS_ContentInfo_free(v->cms);
}

/* The TSA certificate of a token is not revoked before gen by what the CMS carries
 * (certificates, CRLs, OCSP responses; the PAdES DSS's are merged into them). */
static gboolean
tsa_not_revoked(VerifyCtx *v, const guint8 *tok, gsize tok_len, GDateTime *gen, GError **error)
{
	if (v->embedded == NULL) {
		v->embedded = sdr_validation_data_new();
		for (int i = 0; i < sk_X509_num(v->certs); i++)
			if (X509_up_ref(sk_X509_value(v->certs, i)) == 1)
				g_ptr_array_add(v->embedded->certs, sk_X509_value(v->certs, i));
		for (guint i = 0; i < v->ocsp->len; i++)
			g_ptr_array_add(v->embedded->ocsp_responses,
			                g_bytes_ref(g_ptr_array_index(v->ocsp, i)));
		for (int i = 0; i < sk_X509_CRL_num(v->crls); i++) {
			unsigned char *der = NULL;
			int n = i2d_X509_CRL(sk_X509_CRL_value(v->crls, i), &der);

			if (n > 0)
				g_ptr_array_add(v->embedded->crls, g_bytes_new(der, (gsize)n));
			OPENSSL_free(der);
		}
	}
	return sdr_tsa_token_not_revoked(tok, tok_len, v->embedded, gen, error);
}

static void
verify_ctx_init(VerifyCtx *v, CMS_ContentInfo *cms, const SdrVerifyOptions *options)
{
	unsigned char *der = NULL;
	int len;

	memset(v, 0, sizeof *v);
	v->cms = cms;
	v->certs = CMS_get1_certs(cms);
	if (v->certs == NULL)
		v->certs = sk_X509_new_null();
	v->crls = CMS_get1_crls(cms);
	if (v->crls == NULL)
		v->crls = sk_X509_CRL_new_null();
	len = i2d_CMS_ContentInfo(cms, &der);
	v->ocsp = len > 0 ? sdr_cms_der_get_ocsp(der, (gsize)len)
	                  : g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	if (len > 0)
		v->der = g_bytes_new(der, (gsize)len);
	OPENSSL_free(der);
	ERR_clear_error();
	v->options = options;
	if (options != NULL && options->trust != NULL) {
		X509_STORE_up_ref(options->trust);
		v->store = options->trust;
	} else {
		v->store = X509_STORE_new();
	}
}

static char *
name_of(X509 *cert)
{
	return sdr_cert_display_name(cert);
}

/* ---- chain and revocation ---- */

typedef struct {
	gboolean expired;
	gboolean untrusted;
	gboolean revoked;
	gboolean other;
	int first_other;
} ChainErrors;

static int
chain_cb(int ok, X509_STORE_CTX *ctx)
{
	ChainErrors *e = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx);

	if (ok || e == NULL)
		return ok;
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		e->expired = TRUE;
		break;
	case X509_V_ERR_CERT_REVOKED:
		e->revoked = TRUE;
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		e->untrusted = TRUE;
		break;
	default:
		if (!e->other)
			e->first_other = err;
		e->other = TRUE;
		break;
	}
	return 1;
}

typedef enum {
	REV_UNKNOWN,
	REV_GOOD,
	REV_REVOKED,
} RevStatus;

static RevStatus
status_from_ocsp(GPtrArray *ocsp, X509 *cert, X509 *issuer, STACK_OF(X509) * certs,
                 X509_STORE *store, GDateTime **rev_time)
{
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	RevStatus st = REV_UNKNOWN;

	for (guint i = 0;
	     id != NULL && st == REV_UNKNOWN && i < MIN(ocsp->len, (guint)SDR_CMS_MAX_REVOCATION);
	     i++) {
		GBytes *b = g_ptr_array_index(ocsp, i);
		const unsigned char *p = g_bytes_get_data(b, NULL);
		OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)g_bytes_get_size(b));
		OCSP_BASICRESP *bs = r != NULL ? OCSP_response_get1_basic(r) : NULL;
		int status = -1, reason = -1;
		ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;

		if (bs != NULL &&
		    OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) ==
		            1 &&
		    OCSP_basic_verify(bs, certs, store, 0) == 1) {
			if (status == V_OCSP_CERTSTATUS_GOOD) {
				st = REV_GOOD;
			} else if (status == V_OCSP_CERTSTATUS_REVOKED) {
				st = REV_REVOKED;
				if (rev_time != NULL && rev != NULL)
					*rev_time = sdr_time_from_asn1(rev);
			}
		}
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(r);
	}
	OCSP_CERTID_free(id);
	ERR_clear_error();
	return st;
}

static RevStatus
status_from_crls(STACK_OF(X509_CRL) * crls, X509 *cert, X509 *issuer, GDateTime **rev_time)
{
	RevStatus st = REV_UNKNOWN;

	for (int i = 0; i < MIN(sk_X509_CRL_num(crls), SDR_CMS_MAX_REVOCATION); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		X509_REVOKED *rv = NULL;

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
		    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1)
			continue;
		if (X509_CRL_get0_by_cert(crl, &rv, cert) == 1) {
			if (rev_time != NULL)
				*rev_time =
				        sdr_time_from_asn1(X509_REVOKED_get0_revocationDate(rv));
			st = REV_REVOKED;
			break;
		}
		st = REV_GOOD;
	}
	ERR_clear_error();
	return st;
}

static void
check_revocation(VerifyCtx *v, STACK_OF(X509) * chain, GDateTime *signing_time,
                 gboolean time_proven, SdrSignatureResult *r)
{
	g_autoptr(SdrValidationData) online = NULL;
	g_autoptr(GError) fetch_error = NULL;
	STACK_OF(X509_CRL) *online_crls = NULL;
	int n = sk_X509_num(chain);

	if (n < 2)
		return;
	if (v->options != NULL && v->options->online) {
		online = sdr_validation_data_new();
		if (!sdr_revocation_collect_full(online, sk_X509_value(chain, 0), v->certs,
		                                 v->store, TRUE, &fetch_error)) {
			/* keep whatever was fetched before the failure */
		}
		online_crls = sk_X509_CRL_new_null();
		for (guint i = 0; i < online->crls->len; i++) {
			GBytes *b = g_ptr_array_index(online->crls, i);
			const unsigned char *p = g_bytes_get_data(b, NULL);
			X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)g_bytes_get_size(b));

			if (crl != NULL)
				sk_X509_CRL_push(online_crls, crl);
		}
		ERR_clear_error();
	}
	for (int i = 0; i + 1 < n; i++) {
		X509 *c = sk_X509_value(chain, i);
		X509 *issuer = sk_X509_value(chain, i + 1);
		g_autoptr(GDateTime) rev_time = NULL;
		g_autofree char *name = NULL;
		RevStatus st;

		st = status_from_ocsp(v->ocsp, c, issuer, v->certs, v->store, &rev_time);
		if (st == REV_UNKNOWN)
			st = status_from_crls(v->crls, c, issuer, &rev_time);
		if (st == REV_UNKNOWN && online != NULL)
			st = status_from_ocsp(online->ocsp_responses, c, issuer, v->certs, v->store,
			                      &rev_time);
		if (st == REV_UNKNOWN && online_crls != NULL)
			st = status_from_crls(online_crls, c, issuer, &rev_time);
		name = name_of(c);
		if (st == REV_REVOKED) {
			g_autofree char *when =
			        rev_time != NULL ? sdr_time_to_iso8601(rev_time) : g_strdup("?");

			if (rev_time == NULL || signing_time == NULL ||
			    g_date_time_compare(rev_time, signing_time) <= 0)
				sdr_signature_result_fail(r, SDR_VERDICT_INVALID,
				                          SDR_REASON_CERT_REVOKED,
				                          _("The certificate %s was revoked (%s) "
				                            "before the signing time"),
				                          name, when);
			else if (!time_proven)
				sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
				                          SDR_REASON_CERT_REVOKED,
				                          _("The certificate %s is revoked (%s) "
				                            "and no timestamp proves "
				                            "the signature was made before"),
				                          name, when);
			else
				sdr_signature_result_warn(r, SDR_REASON_CERT_REVOKED,
				                          _("The certificate %s was revoked (%s) "
				                            "after the timestamped "
				                            "signing time"),
				                          name, when);
		} else if (st == REV_UNKNOWN && i == 0) {
			sdr_revocation_report_unknown(r, v->options, c, name, fetch_error);
		}
	}
	sk_X509_CRL_pop_free(online_crls, X509_CRL_free);
}

static void
check_chain(VerifyCtx *v, X509 *cert, GDateTime *check_time, GDateTime *signing_time,
            gboolean time_proven, SdrSignatureResult *r)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	ChainErrors e = { 0 };
	STACK_OF(X509) *chain = NULL;
	g_autofree char *name = name_of(cert);

	if (ctx == NULL || X509_STORE_CTX_init(ctx, v->store, cert, v->certs) != 1) {
		X509_STORE_CTX_free(ctx);
		ERR_clear_error();
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_CHAIN_NOT_TRUSTED,
		                          _("The certificate chain cannot be checked"));
		return;
	}
	X509_STORE_CTX_set_app_data(ctx, &e);
	X509_STORE_CTX_set_verify_cb(ctx, chain_cb);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)g_date_time_to_unix(check_time));
	if (X509_verify_cert(ctx) != 1 && !e.expired && !e.untrusted && !e.revoked && !e.other)
		e.untrusted = TRUE;
	ERR_clear_error();
	chain = X509_STORE_CTX_get1_chain(ctx);
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		X509_up_ref(c);
		g_ptr_array_add(r->chain, c);
	}
	if (e.untrusted)
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_CHAIN_NOT_TRUSTED,
		                          _("The certificate %s does not chain to a trusted "
		                            "authority"),
		                          name);
	if (e.expired) {
		g_autofree char *when = sdr_time_to_iso8601(check_time);

		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE, SDR_REASON_CERT_EXPIRED,
		                          _("A certificate of the chain of %s is not valid at %s"),
		                          name, when);
	}
	if (e.other)
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_CHAIN_NOT_TRUSTED,
		                          _("The certificate chain of %s is not valid: %s"), name,
		                          X509_verify_cert_error_string(e.first_other));
	if (chain != NULL && !e.untrusted)
		check_revocation(v, chain, signing_time, time_proven, r);
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_CTX_free(ctx);
}

/* ---- signing certificate reference ---- */

typedef enum {
	SCREF_MISSING,
	SCREF_OK,
	SCREF_WRONG,
} SigningCertRef;

/* SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies
 * OPTIONAL }. Only the first ESSCertID designates the signer (RFC 5035 5.4); the
 * others may name CA certificates that are not in the signature. Returns the DER
 * of a SigningCertificate(V2) holding that first ESSCertID only, NULL if malformed. */
static GBytes *
first_cert_id_only(const ASN1_STRING *seq)
{
	const unsigned char *p = ASN1_STRING_get0_data(seq), *start, *inner;
	long len = ASN1_STRING_length(seq), l;
	int tag, cls, ret, id_len, certs_len, total;
	unsigned char *out, *q;
	GBytes *res;

	ret = ASN1_get_object(&p, &l, &tag, &cls, len);
	if ((ret & 0x80) || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
		goto bad;
	ret = ASN1_get_object(&p, &l, &tag, &cls, l);
	if ((ret & 0x80) || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || l <= 0)
		goto bad;
	start = p;
	inner = p;
	ret = ASN1_get_object(&inner, &l, &tag, &cls, l);
	if ((ret & 0x80) || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
		goto bad;
	if (l > G_MAXINT / 2 || (inner - start) > 16)
		goto bad;
	id_len = (int)(inner - start) + (int)l;
	certs_len = ASN1_object_size(1, id_len, V_ASN1_SEQUENCE);
	total = certs_len > 0 ? ASN1_object_size(1, certs_len, V_ASN1_SEQUENCE) : -1;
	if (total <= 0)
		goto bad;
	out = g_malloc((gsize)total);
	q = out;
	ASN1_put_object(&q, 1, certs_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	ASN1_put_object(&q, 1, id_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(q, start, (size_t)id_len);
	res = g_bytes_new_take(out, (gsize)total);
	return res;
bad:
	ERR_clear_error();
	return NULL;
}

static SigningCertRef
check_signing_cert(CMS_SignerInfo *si, X509 *cert, int *v2_count, int *v1_count)
{
	ASN1_TYPE *t;
	ESS_SIGNING_CERT_V2 *v2 = NULL;
	ESS_SIGNING_CERT *v1 = NULL;
	STACK_OF(X509) * chain;
	SigningCertRef res;

	*v2_count = signed_attr_count(si, NID_id_smime_aa_signingCertificateV2);
	*v1_count = signed_attr_count(si, NID_id_smime_aa_signingCertificate);
	if (*v2_count == 0 && *v1_count == 0)
		return SCREF_MISSING;
	t = signed_attr_value(si, NID_id_smime_aa_signingCertificateV2);
	if (t != NULL && t->type == V_ASN1_SEQUENCE) {
		g_autoptr(GBytes) first = first_cert_id_only(t->value.sequence);
		const unsigned char *p = first != NULL ? g_bytes_get_data(first, NULL) : NULL;

		if (p != NULL)
			v2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, (long)g_bytes_get_size(first));
	}
	t = signed_attr_value(si, NID_id_smime_aa_signingCertificate);
	if (t != NULL && t->type == V_ASN1_SEQUENCE) {
		g_autoptr(GBytes) first = first_cert_id_only(t->value.sequence);
		const unsigned char *p = first != NULL ? g_bytes_get_data(first, NULL) : NULL;

		if (p != NULL)
			v1 = d2i_ESS_SIGNING_CERT(NULL, &p, (long)g_bytes_get_size(first));
	}
	if ((*v2_count > 0 && v2 == NULL) || (*v1_count > 0 && v1 == NULL)) {
		res = SCREF_WRONG;
	} else {
		chain = sk_X509_new_null();
		sk_X509_push(chain, cert);
		res = OSSL_ESS_check_signing_certs(v1, v2, chain, 1) > 0 ? SCREF_OK : SCREF_WRONG;
		sk_X509_free(chain);
	}
	ESS_SIGNING_CERT_V2_free(v2);
	ESS_SIGNING_CERT_free(v1);
	ERR_clear_error();
	return res;
}

/* ---- signature value ---- */

static gboolean
verify_without_attrs(CMS_SignerInfo *si, X509 *cert, const SdrSigVerifyAlg *alg,
                     const guint8 *digest, gsize digest_len)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);

	return sdr_sig_alg_verify_digest(alg, X509_get0_pubkey(cert), ASN1_STRING_get0_data(sig),
	                                 (size_t)ASN1_STRING_length(sig), digest, digest_len);
}

/* Retries the signature check over the DER-sorted signed attributes, on a copy. */
static gboolean
resorted_verify(CMS_SignerInfo *si)
{
	int n = CMS_signed_get_attr_count(si);
	g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GBytes) der = NULL;
	gboolean changed = FALSE, ok;

	ERR_clear_error();
	if (n < 2)
		return FALSE;
	for (int i = 0; i < n; i++) {
		unsigned char *d = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &d);

		if (l <= 0) {
			ERR_clear_error();
			return FALSE;
		}
		g_ptr_array_add(before, g_bytes_new(d, (gsize)l));
		OPENSSL_free(d);
	}
	der = sdr_cms_signed_attrs_der(si, NULL);
	if (der == NULL)
		return FALSE;
	for (int i = 0; i < n && !changed; i++) {
		unsigned char *d = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &d);
		GBytes *b = g_ptr_array_index(before, i);

		changed = l <= 0 || (gsize)l != g_bytes_get_size(b) ||
		          memcmp(d, g_bytes_get_data(b, NULL), (gsize)l) != 0;
		OPENSSL_free(d);
	}
	ok = changed && CMS_SignerInfo_verify(si) == 1;
	ERR_clear_error();
	return ok;
}

/* The signature over the signed attributes exactly as stored (order and values),
 * checked by hand with the algorithm the SignerInfo names (already checked against
 * the key and the digest algorithm): OpenSSL's CMS_SignerInfo_verify() also refuses
 * valid signatures whose attributes break its CMS rules (a repeated
 * signing-certificate-v2...) or whose RSA-PSS hash differs from the digest algorithm
 * (SHA-256 message digest, SHA3-256 PSS). 1 = verifies, 0 = wrong, -1 = not checked. */
static int
verify_stored_attrs(CMS_SignerInfo *si, X509 *cert, const SdrSigVerifyAlg *alg)
{
	int n = CMS_signed_get_attr_count(si), ret = -1, total, body = 0;
	g_autoptr(GByteArray) enc = g_byte_array_new();
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	unsigned char *der = NULL, *q;

	for (int i = 0; i < n; i++) {
		unsigned char *d = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &d);

		if (l <= 0 || body > G_MAXINT - l)
			goto out;
		g_byte_array_append(enc, d, (guint)l);
		body += l;
		OPENSSL_free(d);
	}
	total = ASN1_object_size(1, body, V_ASN1_SET);
	if (total <= 0)
		goto out;
	der = OPENSSL_malloc((size_t)total);
	if (der == NULL)
		goto out;
	q = der;
	ASN1_put_object(&q, 1, body, V_ASN1_SET, V_ASN1_UNIVERSAL);
	memcpy(q, enc->data, enc->len);
	ret = sdr_sig_alg_verify(alg, X509_get0_pubkey(cert), ASN1_STRING_get0_data(sig),
	                         (size_t)ASN1_STRING_length(sig), der, (size_t)total)
	              ? 1
	              : 0;
out:
	OPENSSL_free(der);
	ERR_clear_error();
	return ret;
}

/* ---- timestamps ---- */

static int
check_timestamps(VerifyCtx *v, CMS_SignerInfo *si, X509 *cert, SdrSignatureResult *r)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	int pos = -1, valid = 0, seen = 0;

	while ((pos = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, pos)) >= 0 &&
	       seen < SDR_CMS_MAX_TIMESTAMPS) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, pos);
		ASN1_TYPE *t = X509_ATTRIBUTE_count(a) == 1 ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
		SdrHashAlg alg;
		guint8 d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		GDateTime *gen = NULL;
		GError *err = NULL;
		const guint8 *tok;
		gsize tok_len;

		seen++;
		if (t == NULL || t->type != V_ASN1_SEQUENCE) {
			/* Unsigned attribute: anyone can add garbage; it proves
			 * nothing but does not make the signature wrong. */
			sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_TIMESTAMP_INVALID,
			                          _("A signature timestamp is malformed"));
			continue;
		}
		tok = t->value.sequence->data;
		tok_len = (gsize)t->value.sequence->length;
		if (!sdr_tsa_token_hash(tok, tok_len, &alg)) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_TIMESTAMP_INVALID,
			        _("A signature timestamp cannot be read or uses an "
			          "unsupported algorithm"));
			continue;
		}
		if (EVP_Digest(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), d, &dl,
		               sdr_hash_md(alg), NULL) != 1) {
			ERR_clear_error();
			continue;
		}
		if (!sdr_tsa_verify_token(tok, tok_len, d, dl, NULL, &gen, &err)) {
			sdr_signature_result_fail(r,
			                          g_error_matches(err, SDR_ERROR, SDR_ERROR_CRYPTO)
			                                  ? SDR_VERDICT_INVALID
			                                  : SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_TIMESTAMP_INVALID,
			                          _("The signature timestamp is invalid: %s"),
			                          err->message);
			g_error_free(err);
			continue;
		}
		valid++;
		if ((v->trust_time != NULL
		             ? !sdr_tsa_token_trusted_at(tok, tok_len, v->store, v->trust_time,
		                                         &err)
		             : !sdr_tsa_verify_token(tok, tok_len, d, dl, v->store, NULL, &err)) ||
		    !tsa_not_revoked(v, tok, tok_len, gen, &err)) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_TIMESTAMP_INVALID,
			        _("The timestamp authority is not trusted: %s"), err->message);
			g_clear_error(&err);
		} else {
			v->ts_trusted++;
		}
		if (X509_cmp_time(X509_get0_notAfter(cert), &(time_t){ g_date_time_to_unix(gen) }) <
		    0)
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_CERT_EXPIRED,
			        _("The timestamp is later than the end of validity "
			          "of the signing certificate"));
		if (r->timestamp_time == NULL || g_date_time_compare(gen, r->timestamp_time) < 0) {
			if (r->timestamp_time != NULL)
				g_date_time_unref(r->timestamp_time);
			r->timestamp_time = g_date_time_ref(gen);
		}
		g_date_time_unref(gen);
	}
	return valid;
}

/* ---- archive timestamps (archive-time-stamp-v3) ---- */

/* The ats-hash-index-v3 carried in a token's unsigned attributes (NULL when none). */
static GBytes *
token_hash_index(const guint8 *tok, gsize tok_len)
{
	const unsigned char *p = tok;
	CMS_ContentInfo *tc = d2i_CMS_ContentInfo(NULL, &p, (long)tok_len);
	ASN1_OBJECT *oid = OBJ_txt2obj(SDR_OID_ATS_HASH_INDEX_V3, 1);
	GBytes *out = NULL;

	if (tc != NULL && oid != NULL && sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(tc)) == 1) {
		CMS_SignerInfo *tsi = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(tc), 0);
		int pos = CMS_unsigned_get_attr_by_OBJ(tsi, oid, -1);
		X509_ATTRIBUTE *a = pos >= 0 ? CMS_unsigned_get_attr(tsi, pos) : NULL;
		ASN1_TYPE *t = a != NULL ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;

		if (t != NULL && t->type == V_ASN1_SEQUENCE) {
			/* the index is the SEQUENCE itself: re-add its header */
			unsigned char *der = NULL;
			int n = i2d_ASN1_TYPE(t, &der);

			if (n > 0)
				out = g_bytes_new(der, (gsize)n);
			OPENSSL_free(der);
		}
	}
	ASN1_OBJECT_free(oid);
	CMS_ContentInfo_free(tc);
	ERR_clear_error();
	return out;
}

typedef struct {
	const guint8 *tok;
	gsize len;
	GDateTime *gen;
	GBytes *index;
	SdrHashAlg alg;
} ArchiveToken;

/* The later first; of two of the same second, the one whose hash index covers the other. */
static gint
archive_token_later_first(gconstpointer a, gconstpointer b)
{
	const ArchiveToken *x = a, *y = b;
	gint c = g_date_time_compare(y->gen, x->gen);

	if (c != 0)
		return c;
	if (sdr_cms_ats_index_covers(x->index, x->alg, y->tok, y->len))
		return -1;
	if (sdr_cms_ats_index_covers(y->index, y->alg, x->tok, x->len))
		return 1;
	return 0;
}

/* The TSA of each archive timestamp that verifies, the latest first: the latest at --at
 * (or now), each earlier one at the earliest time of a trusted later one, which covers it
 * (renewal, EN 319 122-1 5.5.3). Returns the earliest trusted time (NULL when none). The
 * attributes are a SET OF (DER order), hence the order by time. */
static GDateTime *
judge_archive_tokens(VerifyCtx *v, GArray *tokens, SdrSignatureResult *r)
{
	GDateTime *poe = NULL;

	g_array_sort(tokens, archive_token_later_first);
	for (guint i = 0; i < tokens->len; i++) {
		ArchiveToken *t = &g_array_index(tokens, ArchiveToken, i);
		GDateTime *judge_at = poe != NULL          ? poe
		                      : v->options != NULL ? v->options->at
		                                           : NULL;
		g_autoptr(GError) err = NULL;

		if (!sdr_tsa_token_trusted_at(t->tok, t->len, v->store, judge_at, &err) ||
		    !tsa_not_revoked(v, t->tok, t->len, t->gen, &err)) {
			sdr_signature_result_warn(r, SDR_REASON_TIMESTAMP_INVALID,
			                          _("The archive timestamp is not trusted: %s"),
			                          err->message);
			continue;
		}
		if (poe == NULL || g_date_time_compare(t->gen, poe) < 0) {
			if (poe != NULL)
				g_date_time_unref(poe);
			poe = g_date_time_ref(t->gen);
		}
	}
	for (guint i = 0; i < tokens->len; i++) {
		g_date_time_unref(g_array_index(tokens, ArchiveToken, i).gen);
		g_bytes_unref(g_array_index(tokens, ArchiveToken, i).index);
	}
	return poe;
}

/* Checks each archive-time-stamp-v3 of the first SignerInfo: imprint (hash index,
 * signed part, content), token signature, then the TSAs (judge_archive_tokens()).
 * Returns the earliest time of a valid, trusted one (NULL when none; the caller unrefs). */
static GDateTime *
check_archive_timestamps(VerifyCtx *v, CMS_SignerInfo *si, const guint8 *content_digest,
                         SdrHashAlg content_hash, SdrSignatureResult *r)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(SDR_OID_ATS_V3, 1);
	g_autoptr(GArray) tokens = g_array_new(FALSE, FALSE, sizeof(ArchiveToken));
	int pos = -1, seen = 0;

	while (oid != NULL && (pos = CMS_unsigned_get_attr_by_OBJ(si, oid, pos)) >= 0 &&
	       seen++ < SDR_CMS_MAX_TIMESTAMPS) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, pos);
		ASN1_TYPE *t = X509_ATTRIBUTE_count(a) == 1 ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
		g_autoptr(GBytes) index = NULL;
		g_autoptr(GError) err = NULL;
		guint8 imprint[EVP_MAX_MD_SIZE];
		gsize il = 0;
		SdrHashAlg alg;
		GDateTime *gen = NULL;
		const guint8 *tok;
		gsize tok_len;

		if (t == NULL || t->type != V_ASN1_SEQUENCE) {
			sdr_signature_result_warn(r, SDR_REASON_TIMESTAMP_INVALID,
			                          _("An archive timestamp is malformed"));
			continue;
		}
		tok = t->value.sequence->data;
		tok_len = (gsize)t->value.sequence->length;
		index = token_hash_index(tok, tok_len);
		if (index == NULL || !sdr_tsa_token_hash(tok, tok_len, &alg) ||
		    alg != content_hash || content_digest == NULL || v->der == NULL ||
		    si != sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(v->cms), 0)) {
			sdr_signature_result_warn(
			        r, SDR_REASON_TIMESTAMP_INVALID,
			        _("An archive timestamp cannot be checked (no hash "
			          "index, other hash, content missing)"));
			continue;
		}
		if (!sdr_cms_ats_imprint(v->der, alg, content_digest, index, TRUE, imprint, &il,
		                         &err) ||
		    !sdr_tsa_verify_token(tok, tok_len, imprint, il, NULL, &gen, &err)) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INVALID, SDR_REASON_TIMESTAMP_INVALID,
			        _("The archive timestamp is invalid: %s"), err->message);
			continue;
		}
		g_array_append_val(tokens, ((ArchiveToken){ tok, tok_len, gen,
		                                            g_steal_pointer(&index), alg }));
	}
	ASN1_OBJECT_free(oid);
	return judge_archive_tokens(v, tokens, r);
}

/* ---- signature algorithm ---- */

/* "sha256WithRSAEncryption (1.2.840.113549.1.1.11)" or the dotted OID alone. */
static char *
algor_text(const X509_ALGOR *alg)
{
	char oid[128] = "?";
	int nid = alg != NULL ? OBJ_obj2nid(alg->algorithm) : NID_undef;

	if (alg != NULL && OBJ_obj2txt(oid, sizeof oid, alg->algorithm, 1) <= 0)
		g_strlcpy(oid, "?", sizeof oid);
	ERR_clear_error();
	if (nid != NID_undef)
		return g_strdup_printf("%s (%s)", OBJ_nid2ln(nid), oid);
	return g_strdup(oid);
}

/* The algorithm to verify with (sdr_sig_alg_from_algor); reports a refusal. */
static gboolean
check_signature_algorithm(const X509_ALGOR *salg, int digest_nid, X509 *cert, SdrSigVerifyAlg *out,
                          SdrSignatureResult *r)
{
	const char *why = NULL;
	g_autofree char *name = NULL;

	switch (sdr_sig_alg_from_algor(salg, digest_nid, X509_get0_pubkey(cert), out, &why)) {
	case SDR_SIG_ALG_OK:
		return TRUE;
	case SDR_SIG_ALG_UNSUPPORTED:
		name = algor_text(salg);
		sdr_signature_result_fail(
		        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_UNSUPPORTED_ALGORITHM,
		        _("Unsupported signature algorithm %s: %s"), name, _(why));
		return FALSE;
	case SDR_SIG_ALG_INVALID:
	default:
		name = algor_text(salg);
		sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_SIGNATURE_VALUE,
		                          _("The signature algorithm %s cannot be accepted: %s"),
		                          name, _(why));
		return FALSE;
	}
}

/* ---- one SignerInfo ---- */

/* long: the checks of one SignerInfo in the order of EN 319 122-1 (algorithm, value,
 * message digest, content type, signing time, signing certificate, timestamps, chain,
 * level); each step reads what the previous ones found and writes the same result, so
 * splitting would only pass that state around */
static void
verify_signer_info(VerifyCtx *v, CMS_SignerInfo *si, const guint8 *content_digest, gsize digest_len,
                   SdrHashAlg content_hash, SdrSignatureResult *r)
{
	X509 *cert = NULL;
	SdrHashAlg hash;
	int dnid = si_digest_nid(si);
	gboolean has_attrs = CMS_signed_get_attr_count(si) > 0;
	gboolean baseline = TRUE;
	gboolean sig_ok = FALSE;
	int v2n = 0, v1n = 0, ts_valid = 0;
	ASN1_TYPE *t;
	GDateTime *check_time;
	g_autoptr(GDateTime) now = sdr_time_now();
	X509_ALGOR *salg = NULL;
	SdrSigVerifyAlg sigalg = { 0 };
	gboolean alg_ok;
	g_autoptr(GDateTime) ats_poe = NULL;

	if (!sdr_hash_from_nid(dnid, &hash)) {
		r->digest_algorithm =
		        g_ascii_strdown(dnid != NID_undef ? OBJ_nid2sn(dnid) : "unknown", -1);
		sdr_signature_result_fail(
		        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_UNSUPPORTED_ALGORITHM,
		        _("Unsupported digest algorithm %s"), r->digest_algorithm);
		/* Still say who signed (SHA-1 era signatures are common) */
		for (int i = 0; i < sk_X509_num(v->certs) && r->signer == NULL; i++)
			if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(v->certs, i)) == 0) {
				r->signer = sk_X509_value(v->certs, i);
				X509_up_ref(r->signer);
			}
		return;
	}
	r->digest_algorithm = g_strdup(sdr_hash_name(hash));

	for (int i = 0; i < sk_X509_num(v->certs) && cert == NULL; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(v->certs, i)) == 0)
			cert = sk_X509_value(v->certs, i);
	if (cert == NULL) {
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE, SDR_REASON_SIGNING_CERT_REF,
		                          _("The signing certificate is not in the signature"));
		return;
	}
	X509_up_ref(cert);
	r->signer = cert;

	/* signature algorithm: from signatureAlgorithm, checked against the key and the
	 * digest algorithm before any cryptography (OpenSSL would verify an encryption
	 * OID or a sha384WithRSAEncryption over SHA-256 with the digest algorithm) */
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &salg);
	alg_ok = check_signature_algorithm(salg, dnid, cert, &sigalg, r);
	if (alg_ok && !has_attrs && sigalg.eddsa) {
		alg_ok = FALSE;
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_UNSUPPORTED_ALGORITHM,
		                          _("EdDSA without signed attributes is not supported"));
	}

	/* signature value */
	if (has_attrs && alg_ok) {
		CMS_SignerInfo_set1_signer_cert(si, cert);
		if (CMS_SignerInfo_verify(si) == 1) {
			sig_ok = TRUE;
		} else {
			unsigned long e = ERR_peek_last_error();

			ERR_clear_error();
			if (verify_stored_attrs(si, cert, &sigalg) == 1) {
				/* Cryptographically right; OpenSSL refused the
				 * attribute set or the algorithm combination. */
				sig_ok = TRUE;
				sdr_signature_result_warn(
				        r, SDR_REASON_FORMAT,
				        _("The signed attributes or the algorithms do not "
				          "follow the CMS rules: not baseline"));
				baseline = FALSE;
			} else if (resorted_verify(si)) {
				/* Signed over the DER (sorted) form but stored
				 * unsorted: what DSS accepts; OpenSSL hashes the
				 * stored order. */
				sig_ok = TRUE;
				sdr_signature_result_warn(
				        r, SDR_REASON_FORMAT,
				        _("The signed attributes are not stored in DER "
				          "order: not baseline"));
				baseline = FALSE;
			} else if (ERR_GET_REASON(e) == CMS_R_UNKNOWN_DIGEST_ALGORITHM ||
			           ERR_GET_REASON(e) == CMS_R_UNSUPPORTED_SIGNATURE_ALGORITHM ||
			           ERR_GET_REASON(e) == CMS_R_UNKNOWN_ID) {
				sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
				                          SDR_REASON_UNSUPPORTED_ALGORITHM,
				                          _("Unsupported signature algorithm"));
			} else {
				sdr_signature_result_fail(r, SDR_VERDICT_INVALID,
				                          SDR_REASON_SIGNATURE_VALUE,
				                          _("The signature value is wrong"));
			}
		}
		ERR_clear_error();
	}

	/* message digest */
	if (content_digest == NULL) {
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE, SDR_REASON_DATA_NOT_FOUND,
		                          _("The signed data was not found (detached signature: "
		                            "give the signed file)"));
	} else if (content_hash != hash) {
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE, SDR_REASON_FORMAT,
		                          _("The content was hashed with another algorithm"));
	} else if (!has_attrs) {
		/* a refused algorithm is already reported */
		if (alg_ok && verify_without_attrs(si, cert, &sigalg, content_digest, digest_len))
			sig_ok = TRUE;
		else if (alg_ok)
			sdr_signature_result_fail(r, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNATURE_VALUE,
			                          _("The signature value is wrong"));
	} else {
		t = signed_attr_value(si, NID_pkcs9_messageDigest);
		if (signed_attr_count(si, NID_pkcs9_messageDigest) != 1 || t == NULL ||
		    t->type != V_ASN1_OCTET_STRING) {
			sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
			                          _("The message-digest attribute is missing or "
			                            "malformed"));
		} else if ((gsize)ASN1_STRING_length(t->value.octet_string) != digest_len ||
		           memcmp(ASN1_STRING_get0_data(t->value.octet_string), content_digest,
		                  digest_len) != 0) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INVALID, SDR_REASON_DIGEST_MISMATCH,
			        _("The signed data was modified (digest mismatch)"));
		}
	}
	(void)sig_ok;

	if (!has_attrs) {
		sdr_signature_result_warn(r, SDR_REASON_FORMAT,
		                          _("No signed attributes: not an AdES signature"));
		baseline = FALSE;
	}

	/* content-type */
	t = signed_attr_value(si, NID_pkcs9_contentType);
	if (has_attrs && (signed_attr_count(si, NID_pkcs9_contentType) != 1 || t == NULL ||
	                  t->type != V_ASN1_OBJECT)) {
		sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
		                          _("The content-type attribute is missing or malformed"));
		baseline = FALSE;
	} else if (has_attrs) {
		if (OBJ_cmp(t->value.object, CMS_get0_eContentType(v->cms)) != 0)
			sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
			                          _("The content-type attribute does not match the "
			                            "content"));
		if (OBJ_obj2nid(t->value.object) != NID_pkcs7_data) {
			sdr_signature_result_warn(
			        r, SDR_REASON_FORMAT,
			        _("The content type is not id-data: not baseline"));
			baseline = FALSE;
		}
	}

	/* signing-time */
	t = signed_attr_value(si, NID_pkcs9_signingTime);
	if (t != NULL && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME))
		r->claimed_signing_time = sdr_time_from_asn1(t->value.utctime);
	if (v->pades) {
		if (signed_attr_count(si, NID_pkcs9_signingTime) != 0) {
			sdr_signature_result_warn(
			        r, SDR_REASON_FORMAT,
			        _("A PAdES signature must not carry signing-time: "
			          "not baseline (PAdES-BES)"));
			baseline = FALSE;
		}
	} else if (has_attrs) {
		if (signed_attr_count(si, NID_pkcs9_signingTime) != 1 || t == NULL) {
			sdr_signature_result_warn(r, SDR_REASON_FORMAT,
			                          _("No signing-time attribute: not baseline"));
			baseline = FALSE;
		} else if (t->type != V_ASN1_UTCTIME && r->claimed_signing_time != NULL &&
		           g_date_time_get_year(r->claimed_signing_time) < 2050) {
			sdr_signature_result_warn(r, SDR_REASON_FORMAT,
			                          _("signing-time is not a UTCTime: not baseline"));
			baseline = FALSE;
		}
	}

	/* signing-certificate(-v2) */
	if (has_attrs) {
		switch (check_signing_cert(si, cert, &v2n, &v1n)) {
		case SCREF_MISSING:
			sdr_signature_result_warn(
			        r, SDR_REASON_SIGNING_CERT_REF,
			        _("No signing-certificate attribute: not baseline"));
			baseline = FALSE;
			break;
		case SCREF_WRONG:
			sdr_signature_result_fail(r, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNING_CERT_REF,
			                          _("The signing-certificate reference does not "
			                            "match the signer's certificate"));
			baseline = FALSE;
			break;
		case SCREF_OK:
			if (v2n != 1 || v1n != 0) {
				sdr_signature_result_warn(
				        r, SDR_REASON_SIGNING_CERT_REF,
				        _("The signature does not carry exactly one "
				          "signing-certificate-v2: not baseline"));
				baseline = FALSE;
			}
			break;
		}
	}

	/* timestamps: an archive timestamp trusted at --at (or now) — or, for PAdES, a
	 * trusted document timestamp covering the signature (v->poe) — proves the signature
	 * timestamps existed at its time, when their TSA is checked then */
	if (v->pades)
		ats_poe = v->poe != NULL ? g_date_time_ref(v->poe) : NULL;
	else
		ats_poe = check_archive_timestamps(v, si, content_digest, content_hash, r);
	v->trust_time = ats_poe != NULL ? ats_poe : v->options != NULL ? v->options->at : NULL;
	v->ts_trusted = 0;
	ts_valid = check_timestamps(v, si, cert, r);
	v->trust_time = NULL;

	/* chain, expiry and revocation at the best known time: --at is the validation
	 * time; a signature timestamp trusted then moves the check to its own time, else
	 * a document timestamp covering the signature to its time */
	if (v->options != NULL && v->options->at != NULL)
		check_time = r->timestamp_time != NULL && (v->ts_trusted > 0 || v->pades)
		                     ? r->timestamp_time
		             : v->poe != NULL ? v->poe
		                              : v->options->at;
	else if (r->timestamp_time != NULL)
		check_time = r->timestamp_time;
	else
		check_time = v->poe != NULL ? v->poe : now;
	check_chain(v, cert, check_time,
	            r->timestamp_time != NULL ? r->timestamp_time
	            : v->poe != NULL          ? v->poe
	                                      : r->claimed_signing_time,
	            r->timestamp_time != NULL || v->poe != NULL, r);

	/* level */
	if (baseline) {
		r->level = SDR_LEVEL_B_B;
		if (ts_valid > 0 || (v->pades && r->timestamp_time != NULL))
			r->level = SDR_LEVEL_B_T;
		if (r->level == SDR_LEVEL_B_T && !v->pades) {
			static const char *const forbidden[] = {
				"1.2.840.113549.1.9.16.2.23", "1.2.840.113549.1.9.16.2.24",
				"1.2.840.113549.1.9.16.2.21", "1.2.840.113549.1.9.16.2.22",
				"1.2.840.113549.1.9.16.2.26",
			};
			gboolean clean = TRUE;
			gboolean has_rev = v->ocsp->len > 0 || sk_X509_CRL_num(v->crls) > 0;
			gboolean has_issuer = FALSE;

			for (gsize i = 0; i < G_N_ELEMENTS(forbidden); i++)
				if (has_unsigned_oid(si, forbidden[i]))
					clean = FALSE;
			for (int i = 0; i < sk_X509_num(v->certs); i++)
				if (X509_check_issued(sk_X509_value(v->certs, i), cert) ==
				    X509_V_OK)
					has_issuer = TRUE;
			if (clean && has_rev && has_issuer)
				r->level = ats_poe != NULL ? SDR_LEVEL_B_LTA : SDR_LEVEL_B_LT;
		}
	}
}

/* ---- public entry points ---- */

gboolean
sdr_cms_verify_digest(GBytes *cms_bytes, SdrHashAlg hash, const guint8 *content_digest,
                      gsize digest_len, const SdrVerifyOptions *options, SdrSignatureResult *result,
                      GError **error)
{
	return sdr_cms_verify_digest_poe(cms_bytes, hash, content_digest, digest_len, NULL, options,
	                                 result, error);
}

gboolean
sdr_cms_verify_digest_poe(GBytes *cms_bytes, SdrHashAlg hash, const guint8 *content_digest,
                          gsize digest_len, GDateTime *poe, const SdrVerifyOptions *options,
                          SdrSignatureResult *result, GError **error)
{
	CMS_ContentInfo *cms;
	VerifyCtx v;

	g_return_val_if_fail(cms_bytes != NULL && result != NULL, FALSE);
	cms = parse_cms(cms_bytes, error);
	if (cms == NULL)
		return FALSE;
	verify_ctx_init(&v, cms, options);
	v.pades = result->format != NULL && g_ascii_strcasecmp(result->format, "PAdES") == 0;
	v.poe = poe;
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) != 1)
		sdr_signature_result_warn(result, SDR_REASON_FORMAT,
		                          _("The CMS holds more than one signer; only the first "
		                            "one is checked"));
	verify_signer_info(&v, sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0),
	                   content_digest, digest_len, hash, result);
	verify_ctx_clear(&v);
	return TRUE;
}

SdrVerifyReport *
sdr_cms_verify(GBytes *cms_bytes, GInputStream *content, const char *file_name,
               const SdrVerifyOptions *options, GError **error)
{
	CMS_ContentInfo *cms;
	VerifyCtx v;
	STACK_OF(CMS_SignerInfo) * sis;
	ASN1_OCTET_STRING **econtent;
	SdrVerifyReport *report;
	guint8 digests[3][EVP_MAX_MD_SIZE];
	gboolean have[3] = { FALSE, FALSE, FALSE };
	gboolean need[3] = { FALSE, FALSE, FALSE };
	gboolean found = FALSE;

	g_return_val_if_fail(cms_bytes != NULL, NULL);
	cms = parse_cms(cms_bytes, error);
	if (cms == NULL)
		return NULL;
	sis = CMS_get0_SignerInfos(cms);
	for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		SdrHashAlg a;

		if (sdr_hash_from_nid(si_digest_nid(sk_CMS_SignerInfo_value(sis, i)), &a))
			need[a] = TRUE;
	}
	econtent = CMS_get0_content(cms);
	if (econtent != NULL && *econtent != NULL) {
		for (int a = 0; a < 3; a++)
			if (need[a] && EVP_Digest(ASN1_STRING_get0_data(*econtent),
			                          (size_t)ASN1_STRING_length(*econtent), digests[a],
			                          NULL, sdr_hash_md((SdrHashAlg)a), NULL) == 1)
				have[a] = TRUE;
		found = TRUE;
	} else if (content != NULL) {
		EVP_MD_CTX *ctx[3] = { NULL, NULL, NULL };
		g_autofree guint8 *buf = g_malloc(256 * 1024);
		gboolean ok = TRUE;

		for (int a = 0; a < 3; a++)
			if (need[a]) {
				ctx[a] = EVP_MD_CTX_new();
				ok = ok && ctx[a] != NULL &&
				     EVP_DigestInit_ex(ctx[a], sdr_hash_md((SdrHashAlg)a), NULL) ==
				             1;
			}
		while (ok) {
			GError *local = NULL;
			gssize n = g_input_stream_read(content, buf, 256 * 1024, NULL, &local);

			if (n < 0) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
				            _("Cannot read the signed content: %s"),
				            local->message);
				g_error_free(local);
				for (int a = 0; a < 3; a++)
					EVP_MD_CTX_free(ctx[a]);
				CMS_ContentInfo_free(cms);
				return NULL;
			}
			if (n == 0)
				break;
			for (int a = 0; a < 3; a++)
				if (ctx[a] != NULL)
					ok = ok && EVP_DigestUpdate(ctx[a], buf, (size_t)n) == 1;
		}
		for (int a = 0; a < 3; a++) {
			if (ctx[a] != NULL && ok &&
			    EVP_DigestFinal_ex(ctx[a], digests[a], NULL) == 1)
				have[a] = TRUE;
			EVP_MD_CTX_free(ctx[a]);
		}
		found = TRUE;
	}
	ERR_clear_error();

	verify_ctx_init(&v, cms, options);
	report = sdr_verify_report_new(file_name, "CAdES");
	for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		SdrSignatureResult *r = sdr_signature_result_new("CAdES");
		SdrHashAlg a = SDR_HASH_SHA256;
		gboolean known = sdr_hash_from_nid(si_digest_nid(si), &a);

		r->id = g_strdup_printf("signer-%d", i + 1);
		verify_signer_info(&v, si, found && known && have[a] ? digests[a] : NULL,
		                   sdr_hash_len(a), a, r);
		g_ptr_array_add(report->signatures, r);
	}
	verify_ctx_clear(&v);
	return report;
}
