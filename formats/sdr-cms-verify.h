/* sdr-cms-verify.h - CAdES (CMS SignedData) verification; also the CMS checks
 * PAdES verification builds on. Defined in sdr-cms-verify.c. Signing is sdr-cms.h.
 */
#pragma once

#include "sdr-crypto.h"
#include "sdr-verify-report.h"

#include <gio/gio.h>
#include <glib.h>

G_BEGIN_DECLS

/* Verifies a CMS (DER, BER or PEM). content: detached content or NULL. */
SdrVerifyReport *sdr_cms_verify(GBytes *cms, GInputStream *content, const char *file_name,
                                const SdrVerifyOptions *options, GError **error);

/* TRUE when cms_bytes is a signed-data CMS without encapsulated content (detached). */
gboolean sdr_cms_is_detached(GBytes *cms_bytes);
/* The digest algorithm of the (single) SignerInfo, so the caller can hash the content. */
gboolean sdr_cms_peek_digest_alg(GBytes *cms, SdrHashAlg *out, GError **error);

/* Verifies a CMS whose content digest the caller computed (PAdES ByteRange) and
 * fills result (signer, chain, times, level, reasons). FALSE only when the CMS
 * cannot be parsed at all. */
gboolean sdr_cms_verify_digest(GBytes *cms, SdrHashAlg hash, const guint8 *content_digest,
                               gsize digest_len, const SdrVerifyOptions *options,
                               SdrSignatureResult *result, GError **error);
/* The same with a proof of existence of the signature from outside the CMS (poe, may be
 * NULL: a trusted PAdES document timestamp covering it): the signature timestamps' TSA
 * is judged at poe, and without a trusted signature timestamp the chain, expiry and
 * revocation are checked at poe instead of --at (or now). */
gboolean sdr_cms_verify_digest_poe(GBytes *cms, SdrHashAlg hash, const guint8 *content_digest,
                                   gsize digest_len, GDateTime *poe,
                                   const SdrVerifyOptions *options, SdrSignatureResult *result,
                                   GError **error);

G_END_DECLS
