/* sdr-crypto.c - algorithm helpers. */
#include "sdr-crypto.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
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
