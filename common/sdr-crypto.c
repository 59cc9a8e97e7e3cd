/* sdr-crypto.c - algorithm helpers. */
#include "sdr-crypto.h"

#include <glib/gi18n-lib.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <string.h>

const EVP_MD *
sdr_hash_md(SdrHashAlg alg)
{
	switch (alg) {
	case SDR_HASH_SHA384:
		return EVP_sha384();
	case SDR_HASH_SHA512:
		return EVP_sha512();
	case SDR_HASH_SHA256:
	default:
		return EVP_sha256();
	}
}

gsize
sdr_hash_len(SdrHashAlg alg)
{
	return (gsize)EVP_MD_get_size(sdr_hash_md(alg));
}

const char *
sdr_hash_name(SdrHashAlg alg)
{
	switch (alg) {
	case SDR_HASH_SHA384:
		return "sha384";
	case SDR_HASH_SHA512:
		return "sha512";
	case SDR_HASH_SHA256:
	default:
		return "sha256";
	}
}

gboolean
sdr_hash_from_name(const char *name, SdrHashAlg *out)
{
	static const struct {
		const char *a, *b;
		SdrHashAlg alg;
	} names[] = {
		{ "sha256", "sha-256", SDR_HASH_SHA256 },
		{ "sha384", "sha-384", SDR_HASH_SHA384 },
		{ "sha512", "sha-512", SDR_HASH_SHA512 },
	};

	if (name == NULL)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(name, names[i].a) == 0 ||
		    g_ascii_strcasecmp(name, names[i].b) == 0) {
			if (out != NULL)
				*out = names[i].alg;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
sdr_hash_from_nid(int nid, SdrHashAlg *out)
{
	switch (nid) {
	case NID_sha256:
		*out = SDR_HASH_SHA256;
		return TRUE;
	case NID_sha384:
		*out = SDR_HASH_SHA384;
		return TRUE;
	case NID_sha512:
		*out = SDR_HASH_SHA512;
		return TRUE;
	default:
		return FALSE;
	}
}

char *
sdr_cert_display_name(X509 *cert)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	int pos = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	BIO *bio;
	char *out = NULL;
	long len;
	char *data;

	if (pos >= 0) {
		ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, pos));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, cn);

		if (n > 0 && g_utf8_validate((const char *)utf8, n, NULL))
			out = g_strndup((const char *)utf8, (gsize)n);
		OPENSSL_free(utf8);
		if (out != NULL)
			return out;
	}
	bio = BIO_new(BIO_s_mem());
	X509_NAME_print_ex(bio, subject, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(bio, &data);
	out = g_utf8_make_valid(data, len);
	BIO_free(bio);
	return out;
}

GBytes *
sdr_ecdsa_raw_to_der(const guint8 *raw, gsize len)
{
	ECDSA_SIG *sig;
	BIGNUM *r, *s;
	unsigned char *der = NULL;
	int n;
	GBytes *out;

	if (raw == NULL || len == 0 || len % 2 != 0 || len > 264)
		return NULL;
	r = BN_bin2bn(raw, (int)(len / 2), NULL);
	s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
	sig = ECDSA_SIG_new();
	if (r == NULL || s == NULL || sig == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return NULL;
	}
	n = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return NULL;
	out = g_bytes_new(der, (gsize)n);
	OPENSSL_free(der);
	return out;
}

GBytes *
sdr_ecdsa_der_to_raw(const guint8 *der, gsize len, gsize field_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;
	guint8 *raw;

	if (der == NULL || field_len == 0 || field_len > 132 || len > G_MAXLONG)
		return NULL;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (sig == NULL)
		return NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	raw = g_malloc0(2 * field_len);
	if (BN_bn2binpad(r, raw, (int)field_len) < 0 ||
	    BN_bn2binpad(s, raw + field_len, (int)field_len) < 0) {
		ECDSA_SIG_free(sig);
		g_free(raw);
		return NULL;
	}
	ECDSA_SIG_free(sig);
	return g_bytes_new_take(raw, 2 * field_len);
}

/* ---- verification algorithms ---- */

static gboolean
key_is_rsa(EVP_PKEY *key)
{
	int base = key != NULL ? EVP_PKEY_get_base_id(key) : EVP_PKEY_NONE;

	return base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS;
}

gboolean
sdr_sig_alg_fits_key(const SdrSigVerifyAlg *alg, EVP_PKEY *key)
{
	int base = key != NULL ? EVP_PKEY_get_base_id(key) : EVP_PKEY_NONE;

	if (alg->eddsa)
		return base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448;
	if (alg->scheme == SDR_SIG_ECDSA)
		return base == EVP_PKEY_EC;
	if (alg->scheme == SDR_SIG_RSA_PKCS1)
		return base == EVP_PKEY_RSA;
	return key_is_rsa(key);
}

/* Weak or unknown hashes are real but not accepted as proof: INDETERMINATE. */
static gboolean
md_acceptable(const EVP_MD *md)
{
	return md != NULL && EVP_MD_get_size(md) >= 32;
}

static SdrSigAlgStatus
pss_from_params(const X509_ALGOR *alg, EVP_PKEY *key, SdrSigVerifyAlg *out, const char **why)
{
	const ASN1_STRING *ps = NULL;
	int ptype = V_ASN1_UNDEF;
	const unsigned char *pp;
	RSA_PSS_PARAMS *pss = NULL;
	SdrSigAlgStatus st = SDR_SIG_ALG_INVALID;
	int mdnid = NID_sha1, mgfnid = NID_sha1;
	long salt = 20, emlen;

	X509_ALGOR_get0(NULL, &ptype, (const void **)&ps, alg);
	if (ptype != V_ASN1_SEQUENCE || ps == NULL) {
		*why = N_("RSASSA-PSS without parameters");
		goto out;
	}
	pp = ASN1_STRING_get0_data(ps);
	pss = d2i_RSA_PSS_PARAMS(NULL, &pp, ASN1_STRING_length(ps));
	if (pss == NULL || pp != ASN1_STRING_get0_data(ps) + ASN1_STRING_length(ps)) {
		*why = N_("malformed RSASSA-PSS parameters");
		goto out;
	}
	if (pss->hashAlgorithm != NULL)
		mdnid = OBJ_obj2nid(pss->hashAlgorithm->algorithm);
	if (pss->maskGenAlgorithm != NULL) {
		/* MGF1's parameter is the AlgorithmIdentifier of its hash (d2i does not
		 * fill pss->maskHash) */
		const ASN1_STRING *mp = NULL;
		int mtype = V_ASN1_UNDEF;
		const unsigned char *mq;
		X509_ALGOR *mh = NULL;

		X509_ALGOR_get0(NULL, &mtype, (const void **)&mp, pss->maskGenAlgorithm);
		if (OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 &&
		    mtype == V_ASN1_SEQUENCE && mp != NULL) {
			mq = ASN1_STRING_get0_data(mp);
			mh = d2i_X509_ALGOR(NULL, &mq, ASN1_STRING_length(mp));
		}
		if (mh == NULL) {
			*why = N_("RSASSA-PSS with a mask generation function other than MGF1");
			goto out;
		}
		mgfnid = OBJ_obj2nid(mh->algorithm);
		X509_ALGOR_free(mh);
	}
	if (mgfnid != mdnid) {
		*why = N_("RSASSA-PSS whose MGF1 hash differs from its hash");
		goto out;
	}
	if (pss->trailerField != NULL && ASN1_INTEGER_get(pss->trailerField) != 1) {
		*why = N_("RSASSA-PSS with a trailer field other than 1");
		goto out;
	}
	if (pss->saltLength != NULL)
		salt = ASN1_INTEGER_get(pss->saltLength);
	out->md = EVP_get_digestbynid(mdnid);
	out->mgf1_md = out->md;
	if (!md_acceptable(out->md)) {
		*why = N_("RSASSA-PSS with a weak or unknown hash");
		st = SDR_SIG_ALG_UNSUPPORTED;
		goto out;
	}
	/* emLen = ceil((modBits - 1) / 8) >= hLen + sLen + 2 (RFC 8017 9.1.1) */
	emlen = (EVP_PKEY_get_bits(key) - 1 + 7) / 8;
	if (salt < 0 || salt > emlen - EVP_MD_get_size(out->md) - 2) {
		*why = N_("RSASSA-PSS salt length impossible for the key");
		goto out;
	}
	out->salt_len = (int)salt;
	st = SDR_SIG_ALG_OK;
out:
	RSA_PSS_PARAMS_free(pss);
	ERR_clear_error();
	return st;
}

SdrSigAlgStatus
sdr_sig_alg_from_algor(const X509_ALGOR *alg, int digest_nid, EVP_PKEY *key, SdrSigVerifyAlg *out,
                       const char **why)
{
	SdrSigVerifyAlg a = { 0 };
	const char *dummy = NULL;
	int nid, mdnid = NID_undef, pknid = NID_undef;
	SdrSigAlgStatus st = SDR_SIG_ALG_OK;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	nid = alg != NULL ? OBJ_obj2nid(alg->algorithm) : NID_undef;
	switch (nid) {
	case NID_rsaEncryption: /* the usual CMS value: PKCS#1 v1.5, digestAlgorithm */
		a.scheme = SDR_SIG_RSA_PKCS1;
		a.md = EVP_get_digestbynid(digest_nid);
		break;
	case NID_X9_62_id_ecPublicKey: /* written by some producers for ECDSA */
		a.scheme = SDR_SIG_ECDSA;
		a.md = EVP_get_digestbynid(digest_nid);
		break;
	case NID_rsassaPss:
		a.scheme = SDR_SIG_RSA_PSS;
		if (!key_is_rsa(key)) {
			*why = N_("RSA algorithm with a key that is not RSA");
			return SDR_SIG_ALG_INVALID;
		}
		st = pss_from_params(alg, key, &a, why);
		if (st != SDR_SIG_ALG_OK)
			return st;
		break;
	case NID_ED25519:
	case NID_ED448:
		a.eddsa = TRUE;
		break;
	default:
		/* sha*WithRSAEncryption, ecdsa-with-SHA*, dsa-with-*: hash + key type */
		if (nid == NID_undef || OBJ_find_sigid_algs(nid, &mdnid, &pknid) != 1 ||
		    mdnid == NID_undef) {
			*why = N_("not a signature algorithm");
			return SDR_SIG_ALG_INVALID;
		}
		if (pknid == NID_rsaEncryption) {
			a.scheme = SDR_SIG_RSA_PKCS1;
		} else if (pknid == NID_X9_62_id_ecPublicKey) {
			a.scheme = SDR_SIG_ECDSA;
		} else {
			*why = N_("signature algorithm not supported");
			return SDR_SIG_ALG_UNSUPPORTED;
		}
		if (mdnid != digest_nid) {
			*why = N_(
			        "the hash of the signature algorithm is not the digest algorithm");
			return SDR_SIG_ALG_INVALID;
		}
		a.md = EVP_get_digestbynid(mdnid);
		break;
	}
	if (!sdr_sig_alg_fits_key(&a, key)) {
		*why = N_("the signature algorithm does not fit the signer's key");
		return SDR_SIG_ALG_INVALID;
	}
	if (!a.eddsa && !md_acceptable(a.md)) {
		*why = N_("weak or unknown hash");
		return SDR_SIG_ALG_UNSUPPORTED;
	}
	if (out != NULL)
		*out = a;
	return SDR_SIG_ALG_OK;
}

static gboolean
setup_pctx(const SdrSigVerifyAlg *alg, EVP_PKEY_CTX *pctx)
{
	if (alg->eddsa || alg->scheme != SDR_SIG_RSA_PSS)
		return TRUE;
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, alg->mgf1_md != NULL ? alg->mgf1_md : alg->md) ==
	               1 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, alg->salt_len) == 1;
}

gboolean
sdr_sig_alg_verify(const SdrSigVerifyAlg *alg, EVP_PKEY *key, const guint8 *sig, gsize sig_len,
                   const guint8 *data, gsize data_len)
{
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	gboolean ok;

	if (alg == NULL || key == NULL || sig == NULL || !sdr_sig_alg_fits_key(alg, key))
		return FALSE;
	mctx = EVP_MD_CTX_new();
	ok = mctx != NULL &&
	     EVP_DigestVerifyInit(mctx, &pctx, alg->eddsa ? NULL : alg->md, NULL, key) == 1 &&
	     setup_pctx(alg, pctx) &&
	     EVP_DigestVerify(mctx, sig, sig_len, data != NULL ? data : (const guint8 *)"",
	                      data_len) == 1;
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return ok;
}

gboolean
sdr_sig_alg_verify_digest(const SdrSigVerifyAlg *alg, EVP_PKEY *key, const guint8 *sig,
                          gsize sig_len, const guint8 *digest, gsize digest_len)
{
	EVP_PKEY_CTX *ctx;
	gboolean ok;

	if (alg == NULL || alg->eddsa || key == NULL || sig == NULL || digest == NULL ||
	    !sdr_sig_alg_fits_key(alg, key))
		return FALSE;
	ctx = EVP_PKEY_CTX_new(key, NULL);
	ok = ctx != NULL && EVP_PKEY_verify_init(ctx) > 0 &&
	     EVP_PKEY_CTX_set_signature_md(ctx, alg->md) > 0 && setup_pctx(alg, ctx) &&
	     EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}
