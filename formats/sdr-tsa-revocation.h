/* sdr-tsa-revocation.h - the revocation of a timestamp's TSA certificate, judged from the
 * validation data the signature carries (never fetched). See docs/internals/cades.md
 * ("Timestamp authorities' revocation"). */
#pragma once

#include "sdr-revocation.h"

#include <glib.h>

G_BEGIN_DECLS

/* FALSE with SDR_ERROR_CRYPTO (French words naming the TSA and the dates) when one OCSP
 * response or CRL of data (signed by the TSA certificate's issuer, or by a responder it
 * delegated) says the TSA certificate of token was revoked at or before ts_time (the
 * token's genTime): the timestamp is then not trusted. TRUE otherwise (good, revoked
 * later, or nothing known). The issuer is looked for in the token's certificates and
 * data->certs. */
gboolean sdr_tsa_token_not_revoked(const guint8 *token, gsize token_len,
                                   const SdrValidationData *data, GDateTime *ts_time,
                                   GError **error);

G_END_DECLS
