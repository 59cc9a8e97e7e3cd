/* sdr-revocation.h - revocation data for B-LT: OCSP (preferred) and CRLs. */
#pragma once

#include "sdr-verify-report.h"

#include <glib.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef struct {
	GPtrArray *certs;          /* X509* owned refs: the whole chain, anchor included */
	GPtrArray *ocsp_responses; /* GBytes* DER OCSPResponse */
	GPtrArray *crls;           /* GBytes* DER CRL */
} SdrValidationData;

void sdr_validation_data_free(SdrValidationData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrValidationData, sdr_validation_data_free)

/* Builds the chain of cert with the store and fetches an OCSP response (AIA URL)
 * or else a CRL (CRLDP) for every non-anchor certificate of the chain.
 * SDR_ERROR_LEVEL_NOT_REACHED says what is missing (no OCSP URL nor CRLDP, responder
 * unreachable...). */
SdrValidationData *sdr_revocation_collect(X509 *cert, STACK_OF(X509) * untrusted, X509_STORE *store,
                                          GError **error);

/* Added (compatible): the same for a second chain (e.g. the TSA's) into existing data,
 * skipping what data already covers. A certificate without any OCSP URL or CRLDP uses
 * the OCSP URL of a certificate of data with the same issuer; a CA certificate with
 * neither is skipped (nothing can be fetched for it); a leaf with neither fails.
 * A revoked certificate fails with SDR_ERROR_LEVEL_NOT_REACHED. */
gboolean sdr_revocation_collect_into(SdrValidationData *data, X509 *cert,
                                     STACK_OF(X509) * untrusted, X509_STORE *store, GError **error);
SdrValidationData *sdr_validation_data_new(void);

/* sdr_revocation_collect_into(); with accept_revoked a response or CRL saying
 * "revoked" is kept in data instead of failing (verification wants to see it). */
gboolean sdr_revocation_collect_full(SdrValidationData *data, X509 *cert,
                                     STACK_OF(X509) * untrusted, X509_STORE *store,
                                     gboolean accept_revoked, GError **error);

/* ---- CRL cache ---------------------------------------------------------------------- */

/* Process-wide folder of the CRLs fetched from distribution points (NULL, the default:
 * no cache). A CRL is stored (atomically, as SHA-256(URL).crl, at most 64 files, the
 * oldest dropped) only once it verified against the issuer and when it has a nextUpdate;
 * it is used instead of a download while its nextUpdate is ahead and it verifies against
 * the issuer of the certificate being checked. The agent sets
 * $XDG_CACHE_HOME/sinadur/crl. */
void sdr_revocation_set_crl_cache(const char *dir);
/* The cache file of url, or NULL without a cache. */
char *sdr_revocation_crl_cache_path(const char *url);

/* ---- Verifiers: revocation the signature does not carry ---------------------------- */

/* The one way every verifier says "nothing tells whether the signing certificate
 * cert (name) is revoked" (REVOCATION_UNKNOWN); the words say why (verified
 * offline, or fetch_error: the responder or distribution point that failed).
 * INDETERMINATE when cert publishes an OCSP responder or a CRL distribution point
 * (its status could have been known), or with options->require_revocation; else a
 * warning. */
void sdr_revocation_report_unknown(SdrSignatureResult *result, const SdrVerifyOptions *options,
                                   X509 *cert, const char *name, const GError *fetch_error);
/* TRUE when cert names an OCSP responder (AIA) or a CRL distribution point. */
gboolean sdr_revocation_has_sources(X509 *cert);

typedef enum {
	SDR_REVOCATION_UNKNOWN = 0,
	SDR_REVOCATION_GOOD,
	SDR_REVOCATION_REVOKED,
} SdrRevocationStatus;

/* The status of cert in data: an OCSP response signed by issuer or by a responder
 * issuer delegated (id-kp-OCSPSigning), or a CRL signed by issuer. *revoked_at (may
 * be NULL) gets the revocation time. */
SdrRevocationStatus sdr_revocation_status(const SdrValidationData *data, X509 *cert, X509 *issuer,
                                          GDateTime **revoked_at);

/* ---- Issuer certificates from the AIA (caIssuers) ---------------------------------- */

#define SDR_HTTP_CA_ISSUERS_MAX ((gsize)1024 * 1024)

/* The certificates of a caIssuers answer: one DER or PEM certificate (several PEM
 * ones), or a PKCS#7 certs-only bundle (.p7c, DER); at most 16. Never NULL. */
GPtrArray *sdr_revocation_parse_certs(const guint8 *data, gsize len);
/* Fetches the caIssuers URLs of cert's AIA (HTTP GET, 1 MB cap) and returns the
 * certificate that issued cert (name and signature checked), a new reference, or
 * NULL with SDR_ERROR_NETWORK / SDR_ERROR_NOT_FOUND. */
X509 *sdr_revocation_fetch_issuer(X509 *cert, GError **error);

G_END_DECLS
