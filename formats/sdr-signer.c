/* sdr-signer.c - a certificate chain plus a sign(digest) callback. */
#include "sdr-signer.h"

#include "sdr-error.h"
#include "sdr-file.h"

#include <glib/gi18n-lib.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define SDR_SIGNER_PEM_MAX (1024 * 1024)

struct _SdrSigner {
	X509 *cert;
	STACK_OF(X509) * chain;
	SdrSigScheme scheme;
	SdrSignFunc func;
	gpointer user_data;
	GDestroyNotify destroy;
	gsize ec_field_len;
};

static gsize
ec_field_len_of(X509 *cert)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int bits;

	if (pub == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC)
		return 0;
	bits = EVP_PKEY_get_bits(pub);
	if (bits <= 0)
		return 0;
	return ((gsize)bits + 7) / 8;
}

SdrSigner *
sdr_signer_new(X509 *cert, STACK_OF(X509) * chain, SdrSigScheme scheme, SdrSignFunc func,
               gpointer user_data, GDestroyNotify destroy)
{
	SdrSigner *signer;

	g_return_val_if_fail(cert != NULL, NULL);
	g_return_val_if_fail(func != NULL, NULL);

	signer = g_new0(SdrSigner, 1);
	X509_up_ref(cert);
	signer->cert = cert;
	signer->chain = chain != NULL ? X509_chain_up_ref(chain) : sk_X509_new_null();
	signer->scheme = scheme;
	signer->func = func;
	signer->user_data = user_data;
	signer->destroy = destroy;
	signer->ec_field_len = ec_field_len_of(cert);
	return signer;
}

void
sdr_signer_free(SdrSigner *signer)
{
	if (signer == NULL)
		return;
	if (signer->destroy != NULL)
		signer->destroy(signer->user_data);
	X509_free(signer->cert);
	sk_X509_pop_free(signer->chain, X509_free);
	g_free(signer);
}

/* ---- in-memory key (tests, demo) ---- */

static GBytes *
key_sign(gpointer user_data, SdrSigScheme scheme, SdrHashAlg hash, const guint8 *digest,
         gsize digest_len, GError **error)
{
	EVP_PKEY *key = user_data;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	g_autofree guint8 *sig = NULL;
	size_t sig_len = 0;
	gboolean ok;

	if (ctx == NULL) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_PKEY_CTX_new");
		return NULL;
	}
	ok = EVP_PKEY_sign_init(ctx) > 0 &&
	     EVP_PKEY_CTX_set_signature_md(ctx, sdr_hash_md(hash)) > 0;
	if (ok && scheme == SDR_SIG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, sdr_hash_md(hash)) > 0;
	else if (ok && scheme == SDR_SIG_RSA_PKCS1)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	ok = ok && EVP_PKEY_sign(ctx, NULL, &sig_len, digest, digest_len) > 0;
	if (ok) {
		sig = g_malloc(sig_len);
		ok = EVP_PKEY_sign(ctx, sig, &sig_len, digest, digest_len) > 0;
	}
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Signing with the key failed"));
		return NULL;
	}
	if (scheme == SDR_SIG_ECDSA) {
		int bits = EVP_PKEY_get_bits(key);
		GBytes *raw = sdr_ecdsa_der_to_raw(sig, sig_len, ((gsize)bits + 7) / 8);

		if (raw == NULL)
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
			                    _("Signing with the key failed"));
		return raw;
	}
	return g_bytes_new(sig, sig_len);
}

static void
key_free(gpointer data)
{
	EVP_PKEY_free(data);
}

SdrSigner *
sdr_signer_new_from_key(EVP_PKEY *key, X509 *cert, STACK_OF(X509) * chain)
{
	SdrSigScheme scheme;

	g_return_val_if_fail(key != NULL && cert != NULL, NULL);
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		scheme = SDR_SIG_ECDSA;
		break;
	case EVP_PKEY_RSA_PSS:
		scheme = SDR_SIG_RSA_PSS;
		break;
	default:
		scheme = SDR_SIG_RSA_PKCS1;
		break;
	}
	EVP_PKEY_up_ref(key);
	return sdr_signer_new(cert, chain, scheme, key_sign, key, key_free);
}

static STACK_OF(X509) * read_certs(GBytes *pem)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *bio;
	X509 *x;
	gsize len;
	const void *data = g_bytes_get_data(pem, &len);

	if (len > G_MAXINT)
		len = 0;
	bio = BIO_new_mem_buf(data, (int)len);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(certs, x);
	ERR_clear_error();
	BIO_free(bio);
	return certs;
}

SdrSigner *
sdr_signer_new_from_files(const char *key_pem, const char *cert_pem, const char *chain_pem,
                          GError **error)
{
	g_autoptr(GBytes) key_data = NULL;
	g_autoptr(GBytes) cert_data = NULL;
	g_autoptr(GBytes) chain_data = NULL;
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	SdrSigner *signer = NULL;
	BIO *bio;
	gsize len;
	const void *data;

	g_return_val_if_fail(key_pem != NULL && cert_pem != NULL, NULL);

	key_data = sdr_file_read(key_pem, SDR_SIGNER_PEM_MAX, error);
	if (key_data == NULL)
		return NULL;
	cert_data = sdr_file_read(cert_pem, SDR_SIGNER_PEM_MAX, error);
	if (cert_data == NULL)
		return NULL;
	if (chain_pem != NULL) {
		chain_data = sdr_file_read(chain_pem, SDR_SIGNER_PEM_MAX, error);
		if (chain_data == NULL)
			return NULL;
	}

	data = g_bytes_get_data(key_data, &len);
	bio = BIO_new_mem_buf(data, (int)len);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL) {
		sdr_error_set_openssl(error, SDR_ERROR_PARSE, _("Cannot read the private key"));
		goto out;
	}
	certs = read_certs(cert_data);
	if (sk_X509_num(certs) < 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("No certificate in %s"), cert_pem);
		goto out;
	}
	cert = sk_X509_shift(certs);
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO,
		            _("The key does not match the certificate %s"), cert_pem);
		goto out;
	}
	/* Extra certificates in the certificate file count as chain. */
	chain = chain_data != NULL ? read_certs(chain_data) : sk_X509_new_null();
	while (sk_X509_num(certs) > 0)
		sk_X509_push(chain, sk_X509_shift(certs));
	signer = sdr_signer_new_from_key(key, cert, chain);
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return signer;
}

X509 *
sdr_signer_get_cert(const SdrSigner *signer)
{
	g_return_val_if_fail(signer != NULL, NULL);
	return signer->cert;
}

STACK_OF(X509) * sdr_signer_get_chain(const SdrSigner *signer)
{
	g_return_val_if_fail(signer != NULL, NULL);
	return signer->chain;
}

SdrSigScheme
sdr_signer_get_scheme(const SdrSigner *signer)
{
	g_return_val_if_fail(signer != NULL, SDR_SIG_RSA_PKCS1);
	return signer->scheme;
}

gboolean
sdr_signer_set_scheme(SdrSigner *signer, SdrSigScheme scheme, GError **error)
{
	EVP_PKEY *pub;
	int id;
	gboolean ok;

	g_return_val_if_fail(signer != NULL, FALSE);
	pub = X509_get0_pubkey(signer->cert);
	id = pub != NULL ? EVP_PKEY_get_base_id(pub) : EVP_PKEY_NONE;
	switch (scheme) {
	case SDR_SIG_RSA_PKCS1:
		ok = id == EVP_PKEY_RSA;
		break;
	case SDR_SIG_RSA_PSS:
		ok = id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
		break;
	case SDR_SIG_ECDSA:
		ok = id == EVP_PKEY_EC;
		break;
	default:
		ok = FALSE;
		break;
	}
	if (!ok) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("This signature scheme does not fit the certificate key"));
		return FALSE;
	}
	signer->scheme = scheme;
	return TRUE;
}

gsize
sdr_signer_get_ec_field_len(const SdrSigner *signer)
{
	g_return_val_if_fail(signer != NULL, 0);
	return signer->ec_field_len;
}

GBytes *
sdr_signer_sign_digest(SdrSigner *signer, SdrHashAlg hash, const guint8 *digest, gsize digest_len,
                       GError **error)
{
	GBytes *sig;

	g_return_val_if_fail(signer != NULL, NULL);
	g_return_val_if_fail(digest != NULL, NULL);

	if (digest_len != sdr_hash_len(hash)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("The digest length does not match its algorithm"));
		return NULL;
	}
	sig = signer->func(signer->user_data, signer->scheme, hash, digest, digest_len, error);
	if (sig == NULL) {
		if (error != NULL && *error == NULL)
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
			                    _("The signature could not be computed"));
		return NULL;
	}
	if (signer->scheme == SDR_SIG_ECDSA && g_bytes_get_size(sig) != 2 * signer->ec_field_len) {
		g_bytes_unref(sig);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
		                    _("The ECDSA signature has an unexpected length"));
		return NULL;
	}
	if (g_bytes_get_size(sig) == 0) {
		g_bytes_unref(sig);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
		                    _("The signature could not be computed"));
		return NULL;
	}
	return sig;
}
