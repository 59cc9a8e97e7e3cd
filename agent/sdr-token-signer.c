/* sdr-token-signer.c - an SdrSigner whose sign() is a token signature. */
#include "sdr-token-signer.h"

#include "sdr-error.h"

#include <openssl/x509v3.h>

#define SDR_CHAIN_MAX 8

static GBytes *
token_sign(gpointer user_data, SdrSigScheme scheme, SdrHashAlg hash, const guint8 *digest,
           gsize digest_len, GError **error)
{
	return sdr_token_session_sign(user_data, scheme, hash, digest, digest_len, error);
}

static gboolean
is_self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

STACK_OF(X509) * sdr_chain_build(X509 *cert, GPtrArray *candidates)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *cur = cert;

	for (guint depth = 0; depth < SDR_CHAIN_MAX && !is_self_signed(cur); depth++) {
		X509 *issuer = NULL;

		for (guint i = 0; candidates != NULL && i < candidates->len; i++) {
			X509 *c = g_ptr_array_index(candidates, i);

			if (X509_cmp(c, cur) != 0 && X509_check_issued(c, cur) == X509_V_OK) {
				issuer = c;
				break;
			}
		}
		if (issuer == NULL)
			break;
		X509_up_ref(issuer);
		sk_X509_push(chain, issuer);
		cur = issuer;
	}
	return chain;
}

SdrSigner *
sdr_token_signer_new(SdrTokenSession *session, GPtrArray *candidates, GError **error)
{
	const SdrCertInfo *info = sdr_token_session_get_cert(session);
	STACK_OF(X509) * chain;
	SdrSigner *signer;

	if (info == NULL || info->cert == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, "no certificate");
		return NULL;
	}
	chain = sdr_chain_build(info->cert, candidates);
	signer = sdr_signer_new(info->cert, chain, info->key_scheme, token_sign, session, NULL);
	sk_X509_pop_free(chain, X509_free);
	return signer;
}
