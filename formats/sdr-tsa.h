/* sdr-tsa.h - RFC 3161 timestamps (client over sdr-http.h) and their checks. */
#pragma once

#include "sdr-crypto.h"

#include <glib.h>
#include <openssl/ts.h>

G_BEGIN_DECLS

/* Asks url for a timestamp token over a digest (nonce, certReq=TRUE). Returns the
 * DER TimeStampToken (a CMS ContentInfo), or SDR_ERROR_NETWORK / SDR_ERROR_CRYPTO
 * saying why (unreachable, HTTP status, PKIStatus, imprint mismatch). */
GBytes *sdr_tsa_timestamp(const char *url, SdrHashAlg hash, const guint8 *digest, gsize digest_len,
                          GError **error);

/* Checks a token: its CMS signature, that its imprint equals digest, and (when
 * store != NULL) the TSA chain. On success *gen_time is the token time. */
gboolean sdr_tsa_verify_token(const guint8 *token, gsize token_len, const guint8 *digest,
                              gsize digest_len, X509_STORE *store, GDateTime **gen_time,
                              GError **error);

/* The TSA chain of a token (CMS signer, timestamping purpose) against store at the time
 * at (NULL: now). SDR_ERROR_CRYPTO with OpenSSL's reason when it does not verify. */
gboolean sdr_tsa_token_trusted_at(const guint8 *token, gsize token_len, X509_STORE *store,
                                  GDateTime *at, GError **error);

/* The imprint algorithm of a TimeStampToken. */
gboolean sdr_tsa_token_hash(const guint8 *token, gsize token_len, SdrHashAlg *out);

G_END_DECLS
