/* sdr-xmldsig.h - the XML-DSig core sinadur computes itself (xmlsec1 cannot sign
 * with a token key): canonicalisation (libxml2 C14N), reference digests,
 * SignedInfo building, SignatureValue through an SdrSigner, and verification of
 * one ds:Signature element with OpenSSL. XAdES (sdr-xades.c) and PES (sdr-pes.c)
 * build on it.
 *
 * Documents are parsed with sdr-xml.h and their Ids registered with
 * sdr_xml_register_ids() first: "#Id" references resolve only to registered Ids.
 * A document must not be used from two threads at once (canonicalising a subtree
 * relinks it for the duration of the call).
 */
#pragma once

#include "sdr-crypto.h"
#include "sdr-signer.h"
#include "sdr-verify-report.h"

#include <gio/gio.h>
#include <glib.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define SDR_DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define SDR_DSIG_C14N10 "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define SDR_DSIG_C14N10_COMMENTS "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
#define SDR_DSIG_C14N11 "http://www.w3.org/2006/12/xml-c14n11"
#define SDR_DSIG_C14N11_COMMENTS "http://www.w3.org/2006/12/xml-c14n11#WithComments"
#define SDR_DSIG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define SDR_DSIG_EXC_C14N_COMMENTS "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
#define SDR_DSIG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define SDR_DSIG_BASE64 "http://www.w3.org/2000/09/xmldsig#base64"

typedef enum {
	SDR_C14N_EXCLUSIVE = 0, /* the default everywhere */
	SDR_C14N_EXCLUSIVE_COMMENTS,
	SDR_C14N_INCLUSIVE_10,
	SDR_C14N_INCLUSIVE_10_COMMENTS,
	SDR_C14N_INCLUSIVE_11,
	SDR_C14N_INCLUSIVE_11_COMMENTS,
} SdrC14nMethod;

const char *sdr_c14n_method_uri(SdrC14nMethod method);
gboolean sdr_c14n_method_from_uri(const char *uri, SdrC14nMethod *out);

/* DigestMethod URIs (xmlenc#sha256, xmldsig-more#sha384, xmlenc#sha512). */
const char *sdr_dsig_digest_uri(SdrHashAlg hash);
/* Also accepts SHA-1 and SHA-224 URIs (verification of older signatures). */
const EVP_MD *sdr_dsig_digest_md_from_uri(const char *uri);
/* SignatureMethod URI for a scheme and hash (rsa-sha256, ecdsa-sha256,
 * xmldsig-more#sha256-rsa-MGF1...). */
const char *sdr_dsig_signature_method_uri(SdrSigScheme scheme, SdrHashAlg hash);
/* The algorithm a SignatureMethod URI says to verify with (the one URI table);
 * INVALID for HMAC and unknown URIs, UNSUPPORTED for real methods not checked here. */
SdrSigAlgStatus sdr_dsig_signature_method_from_uri(const char *uri, SdrSigVerifyAlg *out);

/* ---- Canonicalisation ---------------------------------------------------- */

/* A byte sink: return FALSE to stop (then set error). */
typedef gboolean (*SdrXmlSinkFunc)(gpointer user_data, const guint8 *data, gsize len);

/* Canonicalises node's subtree (node = the document node or NULL with doc: the
 * whole document, comments kept only by a *_COMMENTS method) leaving out the
 * subtree exclude (enveloped-signature transform; may be NULL). prefixes: the
 * exclusive C14N InclusiveNamespaces PrefixList (NULL-terminated, may be NULL).
 * Output goes to sink as it is produced (memory does not grow). */
gboolean sdr_xmldsig_c14n(xmlDoc *doc, xmlNode *node, xmlNode *exclude, SdrC14nMethod method,
                          const char *const *prefixes, SdrXmlSinkFunc sink, gpointer user_data,
                          GError **error);
/* Same into memory, refusing more than max_len bytes (SDR_ERROR_TOO_LARGE). */
GBytes *sdr_xmldsig_c14n_to_bytes(xmlDoc *doc, xmlNode *node, xmlNode *exclude,
                                  SdrC14nMethod method, const char *const *prefixes, gsize max_len,
                                  GError **error);
/* Digest of the canonical form (out >= EVP_MAX_MD_SIZE bytes). */
gboolean sdr_xmldsig_c14n_digest(xmlDoc *doc, xmlNode *node, xmlNode *exclude, SdrC14nMethod method,
                                 const char *const *prefixes, const EVP_MD *md, guint8 *out,
                                 gsize *out_len, GError **error);

/* ---- Building a signature ------------------------------------------------ */

#define SDR_DSIG_MAX_TRANSFORMS 4

/* One ds:Reference to write. transforms: URIs in order (enveloped-signature,
 * exc-c14n, base64...). digest: computed by the caller (see
 * sdr_xmldsig_digest_same_document() / sdr_xmldsig_digest_stream()). */
typedef struct {
	const char *id;   /* Reference/@Id, may be NULL */
	const char *uri;  /* "" (whole document), "#Id", "file name", may be NULL */
	const char *type; /* Reference/@Type, may be NULL */
	const char *transforms[SDR_DSIG_MAX_TRANSFORMS];
	gsize n_transforms;
	SdrHashAlg hash;
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize digest_len;
} SdrDsigReference;

/* Digest of a same-document target with transforms [enveloped-signature] +
 * c14n: target is the referenced element (or the document node for URI ""),
 * signature the ds:Signature left out (NULL when not enveloped). Fills ref->digest
 * and digest_len from ref->hash; ref->transforms says which c14n (inclusive C14N 1.0,
 * the XML-DSig default, when none is listed; a base64 transform decodes the
 * element's text instead). Comments are never included (same-document URIs). */
gboolean sdr_xmldsig_digest_same_document(xmlDoc *doc, xmlNode *target, xmlNode *signature,
                                          SdrDsigReference *ref, GError **error);
/* Digest of a whole stream (detached file): memory does not grow. */
gboolean sdr_xmldsig_digest_stream(GInputStream *in, const EVP_MD *md, guint8 *out, gsize *out_len,
                                   GCancellable *cancellable, GError **error);

/* Creates <prefix:Signature xmlns:prefix=DSIG Id=id> as the last child of parent
 * (or as the root element of doc when parent is NULL). prefix "ds" when NULL. */
xmlNode *sdr_xmldsig_new_signature(xmlDoc *doc, xmlNode *parent, const char *prefix,
                                   const char *id);
/* Appends a ds:SignedInfo to signature (CanonicalizationMethod, SignatureMethod,
 * then the references). */
xmlNode *sdr_xmldsig_add_signed_info(xmlNode *signature, SdrC14nMethod c14n,
                                     const char *signature_method_uri, const SdrDsigReference *refs,
                                     gsize n_refs);
/* Appends one ds:Reference to an existing SignedInfo. */
xmlNode *sdr_xmldsig_add_reference(xmlNode *signed_info, const SdrDsigReference *ref);
/* The SignedInfo as a standalone string
 * (<ds:SignedInfo xmlns:ds="...">...</ds:SignedInfo>), for callers that build
 * their own trees. g_free. */
char *sdr_xmldsig_signed_info_string(const char *prefix, SdrC14nMethod c14n,
                                     const char *signature_method_uri, const SdrDsigReference *refs,
                                     gsize n_refs);
/* Appends an empty ds:SignatureValue (Id may be NULL) after SignedInfo and a
 * ds:KeyInfo/X509Data with cert then the chain. Returns the SignatureValue. */
xmlNode *sdr_xmldsig_add_signature_value(xmlNode *signature, const char *id);
xmlNode *sdr_xmldsig_add_key_info(xmlNode *signature, X509 *cert, STACK_OF(X509) * chain);
/* Appends an empty ds:Object (Id may be NULL). */
xmlNode *sdr_xmldsig_add_object(xmlNode *signature, const char *id);

/* Canonicalises signed_info (in its document) with c14n, hashes it, signs with
 * signer and returns the XML-DSig signature value (RSA as is, ECDSA raw r||s). */
GBytes *sdr_xmldsig_sign_signed_info(xmlNode *signed_info, SdrC14nMethod c14n, SdrHashAlg hash,
                                     SdrSigner *signer, GError **error);
/* The whole step: sign signature's SignedInfo (its CanonicalizationMethod is
 * read) and write the base64 value into its ds:SignatureValue. */
gboolean sdr_xmldsig_sign(xmlNode *signature, SdrHashAlg hash, SdrSigner *signer, GError **error);

/* ---- Verifying a signature ----------------------------------------------- */

typedef enum {
	SDR_DSIG_REF_OK = 0,
	SDR_DSIG_REF_MISMATCH,    /* digest differs */
	SDR_DSIG_REF_NOT_FOUND,   /* external data not available */
	SDR_DSIG_REF_MISSING,     /* same-document Id does not exist */
	SDR_DSIG_REF_UNSUPPORTED, /* transform / digest / URI form not supported */
	SDR_DSIG_REF_BROKEN,      /* malformed Reference (bad base64 DigestValue...) */
} SdrDsigRefStatus;

typedef struct {
	char *id;
	char *uri;
	char *type;
	xmlNode *element;  /* the Reference element */
	xmlNode *target;   /* resolved same-document element (doc node for ""), else NULL */
	gboolean external; /* URI names a file / outside resource */
	const EVP_MD *md;
	SdrDsigRefStatus status;
	char *detail; /* translated, NULL when OK */
} SdrDsigRefResult;

/* Opens external reference data (detached file). Return NULL with
 * SDR_ERROR_NOT_FOUND when it is not available. */
typedef GInputStream *(*SdrDsigResolveFunc)(gpointer user_data, const char *uri, GError **error);

typedef struct {
	xmlNode *signature;
	char *id;
	char *c14n_uri;
	char *signature_method_uri;
	SdrC14nMethod c14n;
	GPtrArray *references; /* SdrDsigRefResult* in SignedInfo order */
	GPtrArray *certs;      /* X509* (owned refs) from KeyInfo/X509Data, in order */
	X509 *cert;            /* the certificate the SignatureValue verified with (or the
	                          first of certs when none did); owned ref, may be NULL */
	gboolean signature_value_ok;
	gboolean signature_method_supported;
	gboolean signature_method_invalid; /* HMAC or unknown SignatureMethod: INVALID */
	char *signature_detail;            /* translated reason when !signature_value_ok */
	SdrHashAlg digest_hash;            /* of the SignatureMethod, for reports */
	const char *digest_name;
} SdrDsigVerification;

void sdr_dsig_verification_free(SdrDsigVerification *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrDsigVerification, sdr_dsig_verification_free)

/* Verifies one ds:Signature: every Reference (same-document ones through
 * registered Ids, others through resolve, which may be NULL) and the
 * SignatureValue against the KeyInfo certificate (or against key_cert when
 * given). Returns NULL (SDR_ERROR_PARSE) only when the element is not a usable
 * ds:Signature (no SignedInfo...). */
SdrDsigVerification *sdr_xmldsig_verify(xmlNode *signature, X509 *key_cert,
                                        SdrDsigResolveFunc resolve, gpointer user_data,
                                        GError **error);

/* The octets one ds:Reference of signature designates after its transforms, to sink (the
 * input of XAdES archive timestamps, EN 319 132-1 5.5.2.2): the forms sdr_xmldsig_verify()
 * processes; a result still a node-set (no c14n transform) is canonicalised with
 * node_set_method; external data through resolve, as bytes (or parsed and canonicalised
 * when the reference says so). SDR_ERROR_UNSUPPORTED for a transform the verifier does
 * not process, SDR_ERROR_NOT_FOUND for missing data. */
gboolean sdr_xmldsig_reference_octets(xmlNode *signature, xmlNode *reference,
                                      SdrC14nMethod node_set_method, SdrDsigResolveFunc resolve,
                                      gpointer user_data, SdrXmlSinkFunc sink, gpointer sink_data,
                                      GError **error);

/* Adds the reference and SignatureValue problems of v to result (INVALID
 * DIGEST_MISMATCH / SIGNATURE_VALUE, INDETERMINATE DATA_NOT_FOUND /
 * UNSUPPORTED_ALGORITHM...). */
void sdr_xmldsig_report(const SdrDsigVerification *v, SdrSignatureResult *result);

/* Base64 decoding tolerant of whitespace; refuses more than max_len bytes. */
GBytes *sdr_xml_base64_decode(const char *text, gsize max_len, GError **error);
/* The certificate in base64 text of at most max_len DER bytes; NULL when the text
 * or the DER is not usable. X509_free. */
X509 *sdr_xml_base64_decode_cert(const char *text, gsize max_len);

G_END_DECLS
