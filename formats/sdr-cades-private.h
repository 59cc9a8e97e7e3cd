/* sdr-cades-private.h - helpers shared by the CAdES files of formats/ (CMS, TSA,
 * revocation). Not a contract: other areas use the public headers. */
#pragma once

#include "sdr-crypto.h"
#include "sdr-revocation.h"

#include <glib.h>
#include <openssl/cms.h>

G_BEGIN_DECLS

/* Response size caps. */
#define SDR_HTTP_TSA_MAX ((gsize)1024 * 1024)
#define SDR_HTTP_OCSP_MAX ((gsize)1024 * 1024)
#define SDR_HTTP_CRL_MAX ((gsize)32 * 1024 * 1024)

/* HTTP(S) GET (body == NULL) or POST of body with content_type; the answer must be
 * a 200 of at most max bytes. SDR_ERROR_NETWORK / SDR_ERROR_TOO_LARGE otherwise. */
GBytes *sdr_http_fetch(const char *url, const char *content_type, GBytes *body, gsize max,
                       GError **error);

/* The SdrHashAlg of a digest NID (SHA-256/384/512 only); out set only on success. */
gboolean sdr_cms_hash_from_nid(int nid, SdrHashAlg *out);

/* The imprint algorithm of a TimeStampToken. */
gboolean sdr_tsa_token_hash(const guint8 *token, gsize token_len, SdrHashAlg *out);

/* DER splicing of SignedData.crls: adds each DER OCSPResponse of ocsp (GBytes*) as
 * an OtherRevocationInfoFormat id-ri-ocsp-response. */
GBytes *sdr_cms_der_add_ocsp(GBytes *der, GPtrArray *ocsp, GError **error);
/* The DER OCSPResponses stored in SignedData.crls (GBytes*, maybe empty). */
GPtrArray *sdr_cms_der_get_ocsp(const guint8 *der, gsize len);

/* Sorts the signed attributes of si into DER SET OF order (in place) and returns the
 * DER of the SET, the bytes a signature covers. */
GBytes *sdr_cms_signed_attrs_der(CMS_SignerInfo *si, GError **error);

/* A name for people: the subject's CN, else its RFC 2253 form. */
char *sdr_cert_display_name(X509 *cert);

/* sdr_revocation_collect_into(); with accept_revoked a response or CRL saying
 * "revoked" is kept in data instead of failing (verification wants to see it). */
gboolean sdr_revocation_collect_full(SdrValidationData *data, X509 *cert,
                                     STACK_OF(X509) * untrusted, X509_STORE *store,
                                     gboolean accept_revoked, GError **error);

G_END_DECLS
