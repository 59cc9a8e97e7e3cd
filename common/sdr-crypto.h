/* sdr-crypto.h - algorithm names and certificate helpers shared by pkcs11/ and
 * formats/. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

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
/* The SdrHashAlg of a digest NID (SHA-256/384/512 only); out set only on success. */
gboolean sdr_hash_from_nid(int nid, SdrHashAlg *out);

/* A name for people: the subject's CN, else its RFC 2253 form. */
char *sdr_cert_display_name(X509 *cert);

/* DER ECDSA-Sig-Value <-> raw r||s of 2*field_len bytes. */
GBytes *sdr_ecdsa_raw_to_der(const guint8 *raw, gsize len);
GBytes *sdr_ecdsa_der_to_raw(const guint8 *der, gsize len, gsize field_len);

/* ---- verification: what a signature algorithm identifier says ----
 * One mapping per representation: DER AlgorithmIdentifier here (CMS SignerInfo,
 * RFC 3161 tokens), XML-DSig SignatureMethod URIs in formats/sdr-xmldsig.c. */
typedef enum {
	SDR_SIG_ALG_OK = 0,
	SDR_SIG_ALG_UNSUPPORTED, /* a real signature algorithm not checked here: INDETERMINATE */
	SDR_SIG_ALG_INVALID,     /* not a signature algorithm, unknown, or contradicting the
	                          * key or the digest algorithm: INVALID */
} SdrSigAlgStatus;

typedef struct {
	SdrSigScheme scheme;   /* RSA PKCS#1, RSA-PSS or ECDSA when !eddsa */
	gboolean eddsa;        /* pure EdDSA (Ed25519/Ed448): md is NULL */
	const EVP_MD *md;      /* hash of the signed bytes */
	const EVP_MD *mgf1_md; /* RSA-PSS only */
	int salt_len;          /* RSA-PSS only, bytes */
} SdrSigVerifyAlg;

/* The algorithm to verify with, from a signature AlgorithmIdentifier (signatureAlgorithm
 * of a SignerInfo), the digestAlgorithm NID beside it and the signer's key:
 * rsaEncryption (PKCS#1 v1.5 with the digest algorithm), sha*WithRSAEncryption and
 * ecdsa-with-SHA* (their hash must be the digest algorithm), id-ecPublicKey (ECDSA with
 * the digest algorithm), RSASSA-PSS with consistent parameters (MGF1 with the same hash,
 * trailer field 1, a salt that fits the key; its hash may differ from the digest
 * algorithm), Ed25519/Ed448. *why gets an detail when not OK (static, N_(): translate with _()). */
SdrSigAlgStatus sdr_sig_alg_from_algor(const X509_ALGOR *alg, int digest_nid, EVP_PKEY *key,
                                       SdrSigVerifyAlg *out, const char **why);
/* Checks that a key fits a resolved algorithm (RSA for RSA schemes, EC for ECDSA, an
 * Edwards key for EdDSA). */
gboolean sdr_sig_alg_fits_key(const SdrSigVerifyAlg *alg, EVP_PKEY *key);
/* Verifies sig (DER for ECDSA) over data with the resolved algorithm. */
gboolean sdr_sig_alg_verify(const SdrSigVerifyAlg *alg, EVP_PKEY *key, const guint8 *sig,
                            gsize sig_len, const guint8 *data, gsize data_len);
/* Same over a digest already computed with alg->md (not for EdDSA). */
gboolean sdr_sig_alg_verify_digest(const SdrSigVerifyAlg *alg, EVP_PKEY *key, const guint8 *sig,
                                   gsize sig_len, const guint8 *digest, gsize digest_len);

G_END_DECLS
