/* sdr-xades-private.h - XAdES pieces shared by the signer (sdr-xades.c), the extension
 * (sdr-xades-extend.c) and the verifier (sdr-xades-verify.c). Not a contract. */
#pragma once

#include "sdr-xades.h"
#include "sdr-xmldsig.h"

#include <glib.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef struct {
	xmlNs *ds;
	xmlNs *xa;
} SdrXadesNs;

/* sdr-xades.c: a new UnsignedProperties/UnsignedSignatureProperties under qp. */
xmlNode *sdr_xades_unsigned_signature_properties(xmlNode *qp, const SdrXadesNs *ns);
/* sdr-xades.c: SignatureTimeStamp over the canonical SignatureValue (o->tsa_url,
 * o->hash, o->c14n); *token_out gets the token. */
gboolean sdr_xades_add_timestamp(xmlNode *signature, xmlNode *usp, const SdrXadesNs *ns,
                                 const SdrXadesOptions *o, GBytes **token_out, GError **error);
/* sdr-xades.c: CertificateValues and RevocationValues for cert's chain and the TSA of
 * token (may be NULL), chain built with o->trust. */
gboolean sdr_xades_add_validation_data(X509 *cert, STACK_OF(X509) * chain, xmlNode *usp,
                                       const SdrXadesNs *ns, GBytes *token,
                                       const SdrXadesOptions *o, GError **error);

/* sdr-xades-extend.c: the digest an xadesv141:ArchiveTimeStamp covers (EN 319 132-1
 * 5.5.2): each reference's octets (same-document targets after their transforms,
 * detached data through resolve), SignedInfo, SignatureValue, KeyInfo, the unsigned
 * signature properties before stop (all when stop is NULL), the ds:Objects other than
 * the one holding QualifyingProperties, each canonicalised with c14n.
 * SDR_ERROR_UNSUPPORTED for a reference form it does not process. */
gboolean sdr_xades_archive_digest(xmlNode *signature, xmlNode *usp, xmlNode *stop,
                                  SdrC14nMethod c14n, const EVP_MD *md, SdrDsigResolveFunc resolve,
                                  gpointer user_data, guint8 *out, gsize *out_len, GError **error);

G_END_DECLS
