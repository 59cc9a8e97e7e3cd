/* sdr-revocation.h - revocation data for B-LT: OCSP (preferred) and CRLs. */
#pragma once

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

G_END_DECLS
