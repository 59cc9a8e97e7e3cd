/* sdr-token-pkey.c - an OpenSSL EVP_PKEY whose private operations go to the token
 * through a logged-in SdrTokenSession (TLS client authentication).
 *
 * A "foreign" legacy RSA / EC key (own RSA_METHOD / EC_KEY_METHOD): OpenSSL 3 keeps
 * such keys on the legacy path, so TLS 1.2 PKCS#1 v1.5 signatures arrive here as a
 * DigestInfo (CKM_RSA_PKCS) and TLS 1.3 PSS ones as a block OpenSSL padded itself
 * (CKM_RSA_X_509); ECDSA gets the digest (CKM_ECDSA). No login and no PIN here: a
 * session that is not logged in fails the operation, which fails the handshake.
 */
#include "sdr-token-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

static int rsa_index = -1, ec_index = -1;
static RSA_METHOD *rsa_method;
static EC_KEY_METHOD *ec_method;
static G_LOCK_DEFINE(pkey_methods);

/* The last token error of this thread, for sdr_token_pkey_take_error(). */
static GPrivate last_error = G_PRIVATE_INIT((GDestroyNotify)g_error_free);

static void
remember_error(GError *e)
{
	g_private_replace(&last_error, e);
}

GError *
sdr_token_pkey_take_error(void)
{
	GError *e = g_private_get(&last_error);

	if (e == NULL)
		return NULL;
	e = g_error_copy(e);
	g_private_replace(&last_error, NULL);
	return e;
}

static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	SdrTokenSession *session = RSA_get_ex_data(rsa, rsa_index);
	GError *e = NULL;
	g_autoptr(GBytes) sig = NULL;
	gulong mech;
	gsize len = 0;
	const guint8 *p;

	if (session == NULL || flen < 0)
		return -1;
	switch (padding) {
	case RSA_PKCS1_PADDING:
		mech = CKM_RSA_PKCS;
		break;
	case RSA_NO_PADDING:
		mech = CKM_RSA_X_509;
		break;
	default:
		return -1;
	}
	sig = sdr_token_session_sign_raw(session, mech, from, (gsize)flen, &e);
	if (sig == NULL) {
		remember_error(e);
		return -1;
	}
	p = g_bytes_get_data(sig, &len);
	if (len > (gsize)RSA_size(rsa))
		return -1;
	/* CKM_RSA_X_509 may drop leading zero bytes: right-align on the modulus size. */
	if (len < (gsize)RSA_size(rsa)) {
		gsize pad = (gsize)RSA_size(rsa) - len;
		memset(to, 0, pad);
		memcpy(to + pad, p, len);
		return RSA_size(rsa);
	}
	memcpy(to, p, len);
	return (int)len;
}

static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	SdrTokenSession *session = EC_KEY_get_ex_data(eckey, ec_index);
	GError *e = NULL;
	g_autoptr(GBytes) sig = NULL;
	ECDSA_SIG *out;
	const guint8 *p;
	gsize len = 0;
	BIGNUM *br, *bs;

	(void)kinv;
	(void)r;
	if (session == NULL || dlen < 0)
		return NULL;
	sig = sdr_token_session_sign_raw(session, CKM_ECDSA, dgst, (gsize)dlen, &e);
	if (sig == NULL) {
		remember_error(e);
		return NULL;
	}
	p = g_bytes_get_data(sig, &len);
	if (len == 0 || len % 2 != 0)
		return NULL;
	br = BN_bin2bn(p, (int)(len / 2), NULL);
	bs = BN_bin2bn(p + len / 2, (int)(len / 2), NULL);
	out = ECDSA_SIG_new();
	if (br == NULL || bs == NULL || out == NULL || ECDSA_SIG_set0(out, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(out);
		return NULL;
	}
	return out;
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig, unsigned int *siglen,
        const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	ECDSA_SIG *s = ec_sign_sig(dgst, dlen, kinv, r, eckey);
	unsigned char *p = sig;
	int n;

	(void)type;
	if (s == NULL)
		return 0;
	n = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static gboolean
methods_init(void)
{
	gboolean ok;

	G_LOCK(pkey_methods);
	if (rsa_method == NULL) {
		rsa_index = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		ec_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
		if (rsa_method != NULL) {
			RSA_meth_set1_name(rsa_method, "sinadur token RSA");
			RSA_meth_set_priv_enc(rsa_method, rsa_priv_enc);
		}
		ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
		if (ec_method != NULL) {
			int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;
			EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), NULL, &setup, NULL);
			EC_KEY_METHOD_set_sign(ec_method, ec_sign, setup, ec_sign_sig);
		}
	}
	ok = rsa_method != NULL && ec_method != NULL && rsa_index >= 0 && ec_index >= 0;
	G_UNLOCK(pkey_methods);
	return ok;
}

EVP_PKEY *
sdr_token_session_get_pkey(SdrTokenSession *session, GError **error)
{
	const SdrCertInfo *cert;
	EVP_PKEY *pub, *pkey = NULL;

	g_return_val_if_fail(session != NULL, NULL);
	cert = sdr_token_session_get_cert(session);
	pub = cert != NULL ? X509_get0_pubkey(cert->cert) : NULL;
	if (pub == NULL || !methods_init()) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_PKEY");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
		RSA *copy = EVP_PKEY_get1_RSA(pub);
		const BIGNUM *n = NULL, *e = NULL;
		RSA *rsa = RSA_new();

		if (copy != NULL)
			RSA_get0_key(copy, &n, &e, NULL);
		pkey = EVP_PKEY_new();
		if (copy == NULL || rsa == NULL || pkey == NULL ||
		    RSA_set0_key(rsa, BN_dup(n), BN_dup(e), NULL) != 1 ||
		    RSA_set_method(rsa, rsa_method) != 1 ||
		    RSA_set_ex_data(rsa, rsa_index, session) != 1 ||
		    EVP_PKEY_assign_RSA(pkey, rsa) != 1) {
			RSA_free(rsa);
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		RSA_free(copy);
	} else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
		EC_KEY *copy = EVP_PKEY_get1_EC_KEY(pub);
		EC_KEY *ec = copy != NULL ? EC_KEY_dup(copy) : NULL;

		pkey = EVP_PKEY_new();
		if (ec == NULL || pkey == NULL || EC_KEY_set_method(ec, ec_method) != 1 ||
		    EC_KEY_set_ex_data(ec, ec_index, session) != 1 ||
		    EVP_PKEY_assign_EC_KEY(pkey, ec) != 1) {
			EC_KEY_free(ec);
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		EC_KEY_free(copy);
	} else {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("The key of this certificate is neither RSA nor EC."));
		return NULL;
	}
	if (pkey == NULL)
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_PKEY");
	return pkey;
}
