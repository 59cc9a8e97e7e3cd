/* sdr-crypto.h - algorithm names shared by pkcs11/ and formats/. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

typedef enum {
	SDR_HASH_SHA256 = 0,
	SDR_HASH_SHA384,
	SDR_HASH_SHA512,
} SdrHashAlg;

typedef enum {
	SDR_SIG_RSA_PKCS1 = 0, /* RSASSA-PKCS1-v1_5 over a DigestInfo */
	SDR_SIG_RSA_PSS,       /* RSASSA-PSS, MGF1 with the same hash, salt = hash length */
	SDR_SIG_ECDSA,         /* ECDSA; signature values are raw r||s (PKCS#11 form) */
} SdrSigScheme;

const EVP_MD *sdr_hash_md(SdrHashAlg alg);
gsize sdr_hash_len(SdrHashAlg alg);
/* "sha256"... ; sdr_hash_from_name() accepts "sha256", "SHA-256", "sha-256". */
const char *sdr_hash_name(SdrHashAlg alg);
gboolean sdr_hash_from_name(const char *name, SdrHashAlg *out);

/* DER ECDSA-Sig-Value <-> raw r||s of 2*field_len bytes. */
GBytes *sdr_ecdsa_raw_to_der(const guint8 *raw, gsize len);
GBytes *sdr_ecdsa_der_to_raw(const guint8 *der, gsize len, gsize field_len);

G_END_DECLS
