/* sdr-cms-private.h - CMS DER helpers of sdr-cms.c shared with the verifiers of
 * formats/ (sdr-cms-verify.c, sdr-pades-verify.c) and the PAdES signer. Not a
 * contract: other areas use sdr-cms.h / sdr-cms-verify.h.
 */
#pragma once

#include <glib.h>
#include <openssl/cms.h>

G_BEGIN_DECLS

/* DER splicing of SignedData.crls: adds each DER OCSPResponse of ocsp (GBytes*) as
 * an OtherRevocationInfoFormat id-ri-ocsp-response. */
GBytes *sdr_cms_der_add_ocsp(GBytes *der, GPtrArray *ocsp, GError **error);
/* The DER OCSPResponses stored in SignedData.crls (GBytes*, maybe empty). */
GPtrArray *sdr_cms_der_get_ocsp(const guint8 *der, gsize len);

/* Sorts the signed attributes of si into DER SET OF order (in place) and returns the
 * DER of the SET, the bytes a signature covers. */
GBytes *sdr_cms_signed_attrs_der(CMS_SignerInfo *si, GError **error);

G_END_DECLS
