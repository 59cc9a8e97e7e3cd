/* sdr-xades.h - XAdES signing (detached, enveloped, enveloping; B-B, B-T, B-LT), on
 * the XML-DSig core of sdr-xmldsig.h. Verification is sdr-xades-verify.h.
 */
#pragma once

#include "sdr-cms.h"
#include "sdr-crypto.h"
#include "sdr-signer.h"
#include "sdr-xmldsig.h"

#include <gio/gio.h>
#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

#define SDR_XADES_NS_132 "http://uri.etsi.org/01903/v1.3.2#"
#define SDR_XADES_NS_122 "http://uri.etsi.org/01903/v1.2.2#"
#define SDR_XADES_NS_111 "http://uri.etsi.org/01903/v1.1.1#"
#define SDR_XADES_NS_141 "http://uri.etsi.org/01903/v1.4.1#"
#define SDR_XADES_SIGNED_PROPERTIES_TYPE "http://uri.etsi.org/01903#SignedProperties"

/* Inputs above this size are refused in memory (enveloped, enveloping, bridge). */
#define SDR_XADES_MAX_XML_SIZE ((gsize)256 * 1024 * 1024)

typedef enum {
	SDR_XADES_DETACHED = 0, /* default for non-XML files */
	SDR_XADES_ENVELOPED,    /* XML documents: appended to the root element */
	SDR_XADES_ENVELOPING,   /* ds:Object holds the data (base64 or XML) */
} SdrXadesMode;

typedef enum {
	SDR_XADES_V132 = 0, /* EN 319 132 baseline: SigningCertificateV2, ...V2 properties */
	SDR_XADES_V111,     /* TS 101 903 1.1.1 (PES Hélios): SigningCertificate v1 */
} SdrXadesVersion;

typedef struct {
	SdrHashAlg hash;      /* references, SignedInfo and CertDigest; SHA-256 */
	SdrTargetLevel level; /* B, T, LT (LTA is refused) */
	const char *tsa_url;  /* needed from T */
	X509_STORE *trust;    /* chain building for LT */
	SdrC14nMethod c14n;   /* SignedInfo and reference c14n; exclusive by default */
	SdrXadesVersion version;
	const char *ds_prefix;    /* "ds" */
	const char *xades_prefix; /* "xades" ("xad" for PES) */
	const char *signature_id; /* NULL: "id-" + random hex; other Ids derive from it */
	GDateTime *signing_time;  /* NULL: now */
	/* DataObjectFormat: NULL mime_type = guessed from name and content. */
	const char *mime_type;
	const char *description;
	/* Optional properties (NULL = absent). */
	const char *signer_role; /* ClaimedRole */
	const char *policy_id;   /* Identifier, e.g. "urn:oid:1.2.250.1.131.1.5.18.21.1.7" */
	const char *policy_description;
	const char *policy_hash_b64; /* SigPolicyHash DigestValue (base64) */
	SdrHashAlg policy_hash_alg;
	const char *policy_spuri;
	const char *city; /* SignatureProductionPlace(V2) */
	const char *postal_code;
	const char *region;
	const char *country;
	const char *commitment_type; /* CommitmentTypeId/Identifier URI (all data objects) */
} SdrXadesOptions;

void sdr_xades_options_init(SdrXadesOptions *options);

/* "DIR/NAME - Signature N.xml" for the first N >= 1 that does not exist (g_free). */
char *sdr_xades_detached_path(const char *input);

/* Signs a file. Detached: the file is hashed as a stream and the reference URI is
 * its escaped name. Enveloped: the file must be XML. output_path NULL: detached
 * and enveloping write sdr_xades_detached_path(input); enveloped writes
 * "DIR/STEM-signe.xml" (next free "-signe-N"). *out_path (may be NULL) receives
 * the path written. Writes atomically. */
gboolean sdr_xades_sign_file(SdrSigner *signer, const char *input, SdrXadesMode mode,
                             const SdrXadesOptions *options, const char *output_path,
                             char **out_path, GError **error);

/* Detached only, over a digest of the whole file that the caller computed already
 * with options->hash (the agent's consent pass): the file is not read again (only
 * its first bytes when options->mime_type is NULL). Output as sdr_xades_sign_file(). */
gboolean sdr_xades_sign_file_digest(SdrSigner *signer, const char *input, const guint8 *digest,
                                    gsize digest_len, const SdrXadesOptions *options,
                                    const char *output_path, char **out_path, GError **error);

/* Same for data in memory (bridge). name: the document's file name (reference
 * URI of a detached signature, MIME guess). Returns the signature document. */
GBytes *sdr_xades_sign_data(SdrSigner *signer, GBytes *data, const char *name, SdrXadesMode mode,
                            const SdrXadesOptions *options, GError **error);

/* Lower level (PES): appends an enveloped XAdES signature as the last child of
 * parent in doc, over target (the document node for URI "", else an element
 * whose Id is registered) with transforms enveloped-signature + c14n, a
 * SignedProperties reference, KeyInfo and the properties of options. Returns the
 * ds:Signature element (owned by doc). Ids in options->signature_id must be
 * unique in doc. */
xmlNode *sdr_xades_sign_node(SdrSigner *signer, xmlDoc *doc, xmlNode *parent, xmlNode *target,
                             const SdrXadesOptions *options, GError **error);

/* The DER IssuerSerial (RFC 5035) of a certificate (IssuerSerialV2 content). */
GBytes *sdr_xades_issuer_serial_der(X509 *cert);

/* Extends every top-level XAdES 1.3.2 signature of the file at path to options->level:
 * SignatureTimeStamp when absent, CertificateValues + RevocationValues when absent,
 * xadesv141:ArchiveTimeStamp for LTA. Detached data: content_path, else the reference
 * URI next to the file. Returns the serialised document (the caller writes it). */
GBytes *sdr_xades_extend_file(const char *path, const char *content_path,
                              const SdrExtendOptions *options, GError **error);

G_END_DECLS
