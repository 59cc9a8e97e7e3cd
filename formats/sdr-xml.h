/* sdr-xml.h - the only way sinadur parses XML that comes from outside.
 *
 * No DTD is loaded, no entity is expanded, nothing is fetched from the network;
 * a document whose DOCTYPE declares entities is refused before any of them can be
 * referenced (billion laughs, XXE). Input size, element depth and text node size
 * are capped. Errors are SDR_ERROR_PARSE (or SDR_ERROR_TOO_LARGE) with a message
 * for people.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

G_BEGIN_DECLS

#define SDR_XML_DEFAULT_MAX_SIZE ((gsize)64 * 1024 * 1024)
#define SDR_XML_DEFAULT_MAX_DEPTH 256u

typedef struct {
	gsize max_size;     /* bytes; 0 = SDR_XML_DEFAULT_MAX_SIZE */
	guint max_depth;    /* element nesting; 0 = SDR_XML_DEFAULT_MAX_DEPTH */
	gboolean huge_text; /* allow text nodes over 10 MB (PES_PJ attachments) */
} SdrXmlLimits;

/* Parses a document. limits may be NULL (defaults). name is used in messages
 * (may be NULL). */
xmlDoc *sdr_xml_parse(const guint8 *data, gsize len, const char *name, const SdrXmlLimits *limits,
                      GError **error);
xmlDoc *sdr_xml_parse_file(const char *path, const SdrXmlLimits *limits, GError **error);

/* Registers the attribute attr_name ("Id" when NULL) of every element whose local
 * name is in element_names (every element when NULL) as an XML ID, so that
 * "#value" references resolve with xmlGetID(). Two elements with the same Id make
 * it fail with SDR_ERROR_PARSE (a signature-wrapping sign); *duplicate (may be
 * NULL) receives the value then. Already-registered attributes are skipped. */
gboolean sdr_xml_register_ids(xmlDoc *doc, const char *const *element_names, const char *attr_name,
                              char **duplicate, GError **error);

/* The element whose registered Id is id, or NULL. */
xmlNode *sdr_xml_find_id(xmlDoc *doc, const char *id);

/* First child element with this namespace URI (NULL = any) and local name. */
xmlNode *sdr_xml_first_child(const xmlNode *parent, const char *ns_uri, const char *name);
/* Next sibling element with this namespace URI and local name. */
xmlNode *sdr_xml_next_sibling(const xmlNode *node, const char *ns_uri, const char *name);
/* Number of child elements with this namespace/name. */
guint sdr_xml_count_children(const xmlNode *parent, const char *ns_uri, const char *name);
/* Iterative pre-order walk of root's subtree: the node after cur, entering cur's
 * children first when descend is TRUE and cur is an element; NULL at the end. */
xmlNode *sdr_xml_walk_next(xmlNode *root, xmlNode *cur, gboolean descend);
/* TRUE when node is element ns_uri:name. */
gboolean sdr_xml_is(const xmlNode *node, const char *ns_uri, const char *name);
/* Text content with surrounding whitespace stripped (g_free), NULL for NULL. */
char *sdr_xml_text(const xmlNode *node);
/* Attribute value without namespace (g_free), NULL when absent. */
char *sdr_xml_attr(const xmlNode *node, const char *name);

/* The one libxml2 error handler of formats/ (an xmlStructuredErrorFunc): keeps the
 * first error of level ERROR or worse in the SdrXmlFirstError given as its context
 * (message stripped), never prints. With a NULL context it only silences. */
typedef struct {
	char *message; /* NULL until an error; g_free (sdr_xml_first_error_clear) */
	int line;
} SdrXmlFirstError;
#if LIBXML_VERSION >= 21200
void sdr_xml_error_handler(void *first_error, const xmlError *err);
#else
void sdr_xml_error_handler(void *first_error, xmlErrorPtr err);
#endif
void sdr_xml_first_error_clear(SdrXmlFirstError *first);

/* The one XML / HTML text escaper of formats/: appends text with & < > " as entity
 * references (NULL appends nothing). */
typedef enum {
	SDR_XML_ESCAPE_DEFAULT = 0,
	SDR_XML_ESCAPE_APOS = 1 << 0,  /* also ' as &#39; (HTML) */
	SDR_XML_ESCAPE_ASCII = 1 << 1, /* text is UTF-8; every character outside printable
	                                * ASCII becomes &#xN; (valid in an ISO-8859-1 file) */
} SdrXmlEscapeFlags;
void sdr_xml_append_escaped(GString *out, const char *text, SdrXmlEscapeFlags flags);

/* Serialises a document as is (its declared encoding kept, no reformatting). */
GBytes *sdr_xml_serialize(xmlDoc *doc, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

G_END_DECLS
