/* sdr-cms-private.h - CMS DER helpers of sdr-cms.c shared with the verifiers of
 * formats/ (sdr-cms-verify.c, sdr-pades-verify.c) and the PAdES signer. Not a
 * contract: other areas use sdr-cms.h / sdr-cms-verify.h.
 */
#pragma once

#include <glib.h>
#include <openssl/cms.h>

#include "sdr-crypto.h"
#include "sdr-revocation.h"

G_BEGIN_DECLS

/* DER splicing of SignedData.crls: adds each DER OCSPResponse of ocsp (GBytes*) as
 * an OtherRevocationInfoFormat id-ri-ocsp-response. */
GBytes *sdr_cms_der_add_ocsp(GBytes *der, GPtrArray *ocsp, GError **error);
/* The DER OCSPResponses stored in SignedData.crls (GBytes*, maybe empty). */
GPtrArray *sdr_cms_der_get_ocsp(const guint8 *der, gsize len);

/* Sorts the signed attributes of si into DER SET OF order (in place) and returns the
 * DER of the SET, the bytes a signature covers. */
GBytes *sdr_cms_signed_attrs_der(CMS_SignerInfo *si, GError **error);

/* A store for chain building when the caller gave none: the self-signed certificates
 * of chain. */
X509_STORE *sdr_cms_store_from_chain(STACK_OF(X509) * chain);
/* Adds the certificates (once) and CRLs of vd to cms, and the OCSP responses of vd to
 * ocsp (GBytes*, for sdr_cms_der_add_ocsp() after encoding). */
gboolean sdr_cms_add_validation_data(CMS_ContentInfo *cms, SdrValidationData *vd, GPtrArray *ocsp,
                                     GError **error);
/* The TSA certificate and the certificates carried by a timestamp token. */
gboolean sdr_cms_token_signer(GBytes *token, X509 **tsa_cert, STACK_OF(X509) * *certs);
/* Renewal of an archive timestamp (sdr-cms-extend.c): the chain and fresh revocation
 * data of token's TSA, chain built with trust (NULL: the anchors of known) over the
 * token's certificates and known (those the signature already holds: they help find a
 * sibling's OCSP service and are left out of the result). SDR_ERROR_LEVEL_NOT_REACHED /
 * SDR_ERROR_NETWORK say what is missing. */
SdrValidationData *sdr_cms_archive_validation_data(GBytes *token, STACK_OF(X509) * known,
                                                   X509_STORE *trust, GError **error);

/* ---- archive-time-stamp-v3 (EN 319 122-1 5.5.3; sdr-cms-extend.c) ---- */

#define SDR_OID_ATS_V3 "0.4.0.1733.2.4"
#define SDR_OID_ATS_HASH_INDEX_V3 "0.4.0.19122.1.5"

/* Does the ATSHashIndexV3 index (hash: its token's imprint algorithm) name the
 * archive-time-stamp-v3 attribute value token (DER)? Tells which of two archive
 * timestamps of the same second covers the other (renewal). */
gboolean sdr_cms_ats_index_covers(GBytes *index, SdrHashAlg hash, const guint8 *token,
                                  gsize token_len);

/* The ATSHashIndexV3 (DER) of the first SignerInfo of the DER SignedData cms: the
 * hashes of every certificate, revocation choice and unsigned attribute value. */
GBytes *sdr_cms_ats_hash_index(GBytes *cms, SdrHashAlg hash, GError **error);
/* The message imprint of an archive-time-stamp-v3 over the first SignerInfo of cms:
 * content_hash is the hash (with hash) of the signed content, index the DER
 * ATSHashIndexV3. When check_index, every hash of index must name an element
 * still present in cms (SDR_ERROR_CRYPTO otherwise). */
gboolean sdr_cms_ats_imprint(GBytes *cms, SdrHashAlg hash, const guint8 *content_hash,
                             GBytes *index, gboolean check_index, guint8 *out, gsize *out_len,
                             GError **error);

G_END_DECLS
