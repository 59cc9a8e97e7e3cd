/* sdr-signer.h - what every format signs with: a certificate chain and a
 * sign(digest) callback. formats/ never includes pkcs11/: the agent adapts a token
 * key to an SdrSigner, tests and the demo use file keys.
 */
#pragma once

#include "sdr-crypto.h"

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* Signs a digest. RSA PKCS#1 v1.5: the callee builds the DigestInfo. ECDSA: returns
 * raw r||s. Returns NULL with *error set on failure (SDR_ERROR_CARD_REMOVED...). */
typedef GBytes *(*SdrSignFunc)(gpointer user_data, SdrSigScheme scheme, SdrHashAlg hash,
                               const guint8 *digest, gsize digest_len, GError **error);

typedef struct _SdrSigner SdrSigner;

/* cert: the signing certificate (a reference is taken). chain: the CA certificates
 * to embed, may be NULL (copied). scheme: SDR_SIG_RSA_PKCS1, SDR_SIG_RSA_PSS or SDR_SIG_ECDSA. */
SdrSigner *sdr_signer_new(X509 *cert, STACK_OF(X509) * chain, SdrSigScheme scheme, SdrSignFunc func,
                          gpointer user_data, GDestroyNotify destroy);
/* A signer over a private key in memory (tests, demo). The scheme follows the key
 * (RSA: PKCS1, EC: ECDSA); sdr_signer_set_scheme() chooses PSS. */
SdrSigner *sdr_signer_new_from_key(EVP_PKEY *key, X509 *cert, STACK_OF(X509) * chain);
/* Loads a PEM key (unencrypted) and a PEM certificate (+ optional chain PEM). */
SdrSigner *sdr_signer_new_from_files(const char *key_pem, const char *cert_pem,
                                     const char *chain_pem, GError **error);
void sdr_signer_free(SdrSigner *signer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrSigner, sdr_signer_free)

X509 *sdr_signer_get_cert(const SdrSigner *signer);             /* borrowed */
STACK_OF(X509) * sdr_signer_get_chain(const SdrSigner *signer); /* borrowed, may be empty */
SdrSigScheme sdr_signer_get_scheme(const SdrSigner *signer);
gboolean sdr_signer_set_scheme(SdrSigner *signer, SdrSigScheme scheme, GError **error);
/* EC field length in bytes (32 for P-256), 0 for RSA. */
gsize sdr_signer_get_ec_field_len(const SdrSigner *signer);

/* Calls the callback. ECDSA results are checked to be 2*field_len bytes. */
GBytes *sdr_signer_sign_digest(SdrSigner *signer, SdrHashAlg hash, const guint8 *digest,
                               gsize digest_len, GError **error);

G_END_DECLS
