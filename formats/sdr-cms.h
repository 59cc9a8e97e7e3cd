/* sdr-cms.h - CAdES (CMS SignedData) signing; also the CMS engine PAdES and ACTES
 * build on. Verification is sdr-cms-verify.h.
 */
#pragma once

#include "sdr-crypto.h"
#include "sdr-signer.h"

#include <gio/gio.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	SDR_TARGET_LEVEL_B = 0,
	SDR_TARGET_LEVEL_T,
	SDR_TARGET_LEVEL_LT,
	SDR_TARGET_LEVEL_LTA,
} SdrTargetLevel;

gboolean sdr_target_level_from_name(const char *name, SdrTargetLevel *out); /* "B","T","LT","LTA" */

typedef struct {
	SdrHashAlg hash; /* SHA-256 by default */
	SdrTargetLevel level;
	gboolean signing_time;    /* TRUE for CAdES; FALSE for PAdES */
	const char *tsa_url;      /* needed from B-T */
	X509_STORE *trust;        /* chain building for B-LT */
	const char *content_type; /* NULL = id-data */
} SdrCmsOptions;

void sdr_cms_options_init(SdrCmsOptions *options);

/* What `sinadur extend` asks of a signature (sdr-extend.h). */
typedef struct {
	SdrTargetLevel level;   /* LT or LTA */
	SdrTargetLevel current; /* what the signature holds now (B, T, LT) */
	const char *tsa_url;    /* for the missing signature timestamp and LTA */
	X509_STORE *trust;      /* chain building for the validation data */
	gboolean renew;         /* current == LTA: validation data for the last archive
	                         * timestamp's TSA, then a new archive timestamp */
} SdrExtendOptions;

/* Adds to the first SignerInfo of a CAdES signature (DER or PEM) what options->level
 * needs beyond options->current: signature-time-stamp, validation data (certificates,
 * CRLs, OCSP responses as id-ri-ocsp-response), archive-time-stamp-v3 with its
 * ats-hash-index-v3. content: the detached content (NULL when attached). The signed
 * bytes are not changed (checked). Returns the new DER. */
GBytes *sdr_cms_extend(GBytes *cms, GInputStream *content, const SdrExtendOptions *options,
                       GError **error);

/* Detached SignedData (DER) over content whose digest is given (the caller hashed
 * it as a stream). Signed attributes in DER order: content-type, message-digest,
 * [signing-time], signing-certificate-v2. Then the timestamp / validation data
 * the level asks for. */
GBytes *sdr_cms_sign_digest(SdrSigner *signer, const guint8 *content_digest, gsize digest_len,
                            const SdrCmsOptions *options, GError **error);

/* Same, hashing the stream (memory does not grow with its size). attached copies the
 * content into eContent (then the stream is read into memory: small documents only). */
GBytes *sdr_cms_sign_stream(SdrSigner *signer, GInputStream *content, gboolean attached,
                            const SdrCmsOptions *options, GCancellable *cancellable,
                            GError **error);

/* Streams a whole input through a digest. */
gboolean sdr_digest_stream(GInputStream *in, SdrHashAlg hash, guint8 *out, gsize *out_len,
                           GCancellable *cancellable, GError **error);

G_END_DECLS
