/* sdr-pes-private.h - shared between sdr-pes.c and sdr-pes-verify.c. */
#pragma once

#include "sdr-pes.h"

#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

#define SDR_PES_NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define SDR_PES_NS_XAD "http://uri.etsi.org/01903/v1.1.1#"
#define SDR_PES_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define SDR_PES_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define SDR_PES_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define SDR_PES_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define SDR_PES_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define SDR_PES_SP_TYPE "http://uri.etsi.org/01903/v1.1.1#SignedProperties"

#define SDR_PES_MAX_ATTR ((gsize)64 * 1024) /* any attribute value */
#define SDR_PES_MAX_DEPTH 256

/* One bordereau as the byte scanner saw it. */
typedef struct {
	char *id;           /* raw Id attribute, NULL when absent */
	gsize end_offset;   /* offset of its "</" end tag */
	gboolean empty_tag; /* <Bordereau .../> */
} SdrPesScanBordereau;

typedef struct {
	char *root_name;       /* local name of the root element */
	char *root_id;         /* PES_Aller/@Id, may be NULL */
	gsize root_end_offset; /* offset of the root's end tag */
	GArray *bordereaux;    /* SdrPesScanBordereau */
	GHashTable *ids;       /* every Id attribute value (set) */
	char *duplicate_id;    /* first Id seen twice, or NULL */
} SdrPesScan;

void sdr_pes_scan_free(SdrPesScan *scan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPesScan, sdr_pes_scan_free)

/* Lexical scan of the original bytes (not a parse: libxml2 judges well-formedness).
 * Refuses a DOCTYPE, attributes over SDR_PES_MAX_ATTR, nesting over SDR_PES_MAX_DEPTH. */
SdrPesScan *sdr_pes_scan(const guint8 *data, gsize len, GError **error);

/* The "ISO-8859-1" declaration S²LOW looks for in the first 50 bytes. */
gboolean sdr_pes_check_encoding(const guint8 *data, gsize len, GError **error);

/* A streaming reader with the safe options (no DTD loading, no entity substitution,
 * no network) whose errors are collected; sdr_pes_reader_error() turns the first one
 * into a GError. */
typedef struct _SdrPesReader SdrPesReader;
SdrPesReader *sdr_pes_reader_new(const guint8 *data, gsize len);
xmlTextReaderPtr sdr_pes_reader_get(SdrPesReader *reader);
void sdr_pes_reader_error(SdrPesReader *reader, GError **error);
void sdr_pes_reader_free(SdrPesReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPesReader, sdr_pes_reader_free)

/* Whole-document parse with the same options. */
xmlDocPtr sdr_pes_parse_doc(const guint8 *data, gsize len, GError **error);

/* Exclusive XML canonicalisation 1.0 (without comments, no inclusive prefixes) of the
 * subtree at node, leaving out the subtree at skip (enveloped-signature transform),
 * written into md (when not NULL) and/or out (when not NULL). */
gboolean sdr_pes_c14n(xmlNodePtr node, xmlNodePtr skip, EVP_MD_CTX *md, GString *out,
                      GError **error);
gboolean sdr_pes_c14n_digest(xmlNodePtr node, xmlNodePtr skip, const EVP_MD *alg, guint8 *digest,
                             guint *digest_len, GError **error);

/* Element helpers: local name and namespace match (ns NULL = no namespace required). */
gboolean sdr_pes_is(xmlNodePtr node, const char *ns, const char *local);
xmlNodePtr sdr_pes_child(xmlNodePtr node, const char *ns, const char *local);
xmlNodePtr sdr_pes_next(xmlNodePtr node, const char *ns, const char *local);
/* Local name of node stripped of nothing (libxml2 keeps prefixes apart). */

G_END_DECLS
