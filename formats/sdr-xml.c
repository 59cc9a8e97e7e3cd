/* sdr-xml.c - safe XML parsing (no DTD, no entities, no network) and small
 * tree helpers shared by XAdES and PES. */
#include "sdr-xml.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/valid.h>
#include <libxml/xmlsave.h>
#include <string.h>

typedef struct {
	gboolean refused_decl;  /* an entity or attribute-list declaration */
	SdrXmlFirstError first; /* the first parse error */
} ParseGuard;

static ParseGuard *
guard_of(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;

	return ctxt != NULL ? ctxt->_private : NULL;
}

static void
guard_refuse(void *ctx)
{
	ParseGuard *guard = guard_of(ctx);

	if (guard != NULL)
		guard->refused_decl = TRUE;
	xmlStopParser((xmlParserCtxtPtr)ctx);
}

static void
guard_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                  const xmlChar *system_id, xmlChar *content)
{
	guard_refuse(ctx);
}

static void
guard_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                           const xmlChar *system_id, const xmlChar *notation_name)
{
	guard_refuse(ctx);
}

static void
guard_attribute_decl(void *ctx, const xmlChar *elem, const xmlChar *fullname, int type, int def,
                     const xmlChar *default_value, xmlEnumerationPtr tree)
{
	/* Attribute declarations could make attributes IDs or add defaults that
	 * change canonical forms: refused like entities. */
	if (tree != NULL)
		xmlFreeEnumeration(tree);
	guard_refuse(ctx);
}

static xmlParserInputPtr
guard_resolve_entity(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
	guard_refuse(ctx);
	return NULL;
}

#if LIBXML_VERSION >= 21200
void
sdr_xml_error_handler(void *first_error, const xmlError *err)
#else
void
sdr_xml_error_handler(void *first_error, xmlErrorPtr err)
#endif
{
	SdrXmlFirstError *first = first_error;

	if (first == NULL || err == NULL || err->level < XML_ERR_ERROR || first->message != NULL)
		return;
	first->message = g_strstrip(g_strdup(err->message != NULL ? err->message : "?"));
	first->line = err->line;
}

void
sdr_xml_first_error_clear(SdrXmlFirstError *first)
{
	g_clear_pointer(&first->message, g_free);
	first->line = 0;
}

/* The parser hands its own context to the handlers: find the guard's record. */
#if LIBXML_VERSION >= 21200
static void
guard_serror(void *user_data, const xmlError *err)
#else
static void
guard_serror(void *user_data, xmlErrorPtr err)
#endif
{
	ParseGuard *guard = guard_of(user_data);

	if (guard != NULL)
		sdr_xml_error_handler(&guard->first, err);
}

static gboolean
check_depth(xmlNode *root, guint max_depth)
{
	xmlNode *cur = root;
	guint depth = 1;

	/* Iterative pre-order walk: no recursion on outside input. */
	while (cur != NULL) {
		if (depth > max_depth)
			return FALSE;
		if (cur->type == XML_ELEMENT_NODE && cur->children != NULL) {
			cur = cur->children;
			depth++;
			continue;
		}
		while (cur != NULL && cur->next == NULL && cur != root) {
			cur = cur->parent;
			depth--;
		}
		if (cur == NULL || cur == root)
			break;
		cur = cur->next;
	}
	return TRUE;
}

xmlDoc *
sdr_xml_parse(const guint8 *data, gsize len, const char *name, const SdrXmlLimits *limits,
              GError **error)
{
	gsize max_size = limits != NULL && limits->max_size != 0 ? limits->max_size
	                                                         : SDR_XML_DEFAULT_MAX_SIZE;
	guint max_depth = limits != NULL && limits->max_depth != 0 ? limits->max_depth
	                                                           : SDR_XML_DEFAULT_MAX_DEPTH;
	const char *label = name != NULL ? name : _("XML document");
	ParseGuard guard = { 0 };
	xmlParserCtxtPtr ctxt;
	xmlDoc *doc = NULL;
	int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

	if (len > max_size || len > (gsize)G_MAXINT) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("%s is too large (%lu bytes, limit %lu)"), label, (unsigned long)len,
		            (unsigned long)max_size);
		return NULL;
	}
	if (len == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("%s is empty"), label);
		return NULL;
	}
	if (limits != NULL && limits->huge_text)
		options |= XML_PARSE_HUGE;

	xmlInitParser();
	ctxt = xmlCreateMemoryParserCtxt((const char *)data, (int)len);
	if (ctxt == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("Cannot parse %s"), label);
		return NULL;
	}
	ctxt->_private = &guard;
	ctxt->sax->entityDecl = guard_entity_decl;
	ctxt->sax->unparsedEntityDecl = guard_unparsed_entity_decl;
	ctxt->sax->attributeDecl = guard_attribute_decl;
	ctxt->sax->resolveEntity = guard_resolve_entity;
	ctxt->sax->serror = guard_serror;
	ctxt->sax->warning = NULL;
	ctxt->sax->error = NULL;
	ctxt->sax->fatalError = NULL;
	ctxt->userData = ctxt;
	xmlCtxtUseOptions(ctxt, options);
	/* Never register IDs from the document's own declarations (xml:id,
	 * DTD): sdr_xml_register_ids() decides what is an ID. */
	ctxt->loadsubset = XML_SKIP_IDS;
	ctxt->replaceEntities = 0;
	ctxt->validate = 0;

	{
		/* Encoding and I/O errors bypass the context handlers: catch them too
		 * (libxml2's handlers are per thread), never print. */
		xmlStructuredErrorFunc saved_handler = xmlStructuredError;
		void *saved_ctx = xmlStructuredErrorContext;

		xmlSetStructuredErrorFunc(ctxt, guard_serror);
		xmlParseDocument(ctxt);
		xmlSetStructuredErrorFunc(saved_ctx, saved_handler);
	}
	if (guard.refused_decl) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("%s declares entities or attributes in a DOCTYPE: refused (possible "
		              "entity injection)"),
		            label);
		goto out;
	}
	if (!ctxt->wellFormed || ctxt->myDoc == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("%s is not well-formed XML (line %d: %s)"), label, guard.first.line,
		            guard.first.message != NULL ? guard.first.message : "?");
		goto out;
	}
	if (xmlDocGetRootElement(ctxt->myDoc) == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("%s has no root element"), label);
		goto out;
	}
	if (!check_depth(xmlDocGetRootElement(ctxt->myDoc), max_depth)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("%s nests elements deeper than %u levels"), label, max_depth);
		goto out;
	}
	doc = g_steal_pointer(&ctxt->myDoc);
out:
	if (ctxt->myDoc != NULL) {
		xmlFreeDoc(ctxt->myDoc);
		ctxt->myDoc = NULL;
	}
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	sdr_xml_first_error_clear(&guard.first);
	return doc;
}

xmlDoc *
sdr_xml_parse_file(const char *path, const SdrXmlLimits *limits, GError **error)
{
	gsize max_size = limits != NULL && limits->max_size != 0 ? limits->max_size
	                                                         : SDR_XML_DEFAULT_MAX_SIZE;
	g_autoptr(GMappedFile) map = NULL;
	g_autoptr(GError) local = NULL;
	g_autofree char *base = g_path_get_basename(path);

	map = g_mapped_file_new(path, FALSE, &local);
	if (map == NULL) {
		g_set_error(error, SDR_ERROR,
		            g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
		                    ? SDR_ERROR_NOT_FOUND
		                    : SDR_ERROR_IO,
		            _("Cannot read %s: %s"), path, local->message);
		return NULL;
	}
	if (g_mapped_file_get_length(map) > max_size) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("%s is too large (%lu bytes, limit %lu)"), base,
		            (unsigned long)g_mapped_file_get_length(map), (unsigned long)max_size);
		return NULL;
	}
	return sdr_xml_parse((const guint8 *)g_mapped_file_get_contents(map),
	                     g_mapped_file_get_length(map), base, limits, error);
}

static gboolean
name_in(const xmlChar *name, const char *const *names)
{
	if (names == NULL)
		return TRUE;
	for (gsize i = 0; names[i] != NULL; i++) {
		if (xmlStrEqual(name, BAD_CAST names[i]))
			return TRUE;
	}
	return FALSE;
}

gboolean
sdr_xml_register_ids(xmlDoc *doc, const char *const *element_names, const char *attr_name,
                     char **duplicate, GError **error)
{
	const xmlChar *aname = BAD_CAST(attr_name != NULL ? attr_name : "Id");
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *cur = root;

	while (cur != NULL) {
		if (cur->type == XML_ELEMENT_NODE && name_in(cur->name, element_names)) {
			for (xmlAttr *attr = cur->properties; attr != NULL; attr = attr->next) {
				g_autofree xmlChar *value = NULL;
				xmlAttr *existing;

				if (attr->ns != NULL || !xmlStrEqual(attr->name, aname))
					continue;
				if (attr->atype == XML_ATTRIBUTE_ID)
					continue;
				value = xmlNodeGetContent((xmlNode *)attr);
				if (value == NULL || value[0] == '\0')
					continue;
				existing = xmlGetID(doc, value);
				if (existing != NULL && existing != attr) {
					if (duplicate != NULL)
						*duplicate = g_strdup((const char *)value);
					g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
					            _("Two elements carry the same Id \"%s\" "
					              "(possible signature wrapping)"),
					            (const char *)value);
					return FALSE;
				}
				if (xmlAddID(NULL, doc, value, attr) == NULL) {
					g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
					            _("Cannot register the Id \"%s\""),
					            (const char *)value);
					return FALSE;
				}
			}
		}
		cur = sdr_xml_walk_next(root, cur, TRUE);
	}
	return TRUE;
}

xmlNode *
sdr_xml_find_id(xmlDoc *doc, const char *id)
{
	xmlAttr *attr;

	if (doc == NULL || id == NULL)
		return NULL;
	attr = xmlGetID(doc, BAD_CAST id);
	return attr != NULL ? attr->parent : NULL;
}

xmlNode *
sdr_xml_walk_next(xmlNode *root, xmlNode *cur, gboolean descend)
{
	if (descend && cur->type == XML_ELEMENT_NODE && cur->children != NULL)
		return cur->children;
	while (cur != NULL && cur->next == NULL && cur != root)
		cur = cur->parent;
	if (cur == NULL || cur == root)
		return NULL;
	return cur->next;
}

gboolean
sdr_xml_is(const xmlNode *node, const char *ns_uri, const char *name)
{
	if (node == NULL || node->type != XML_ELEMENT_NODE)
		return FALSE;
	if (name != NULL && !xmlStrEqual(node->name, BAD_CAST name))
		return FALSE;
	if (ns_uri == NULL)
		return TRUE;
	return node->ns != NULL && xmlStrEqual(node->ns->href, BAD_CAST ns_uri);
}

xmlNode *
sdr_xml_first_child(const xmlNode *parent, const char *ns_uri, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNode *c = parent->children; c != NULL; c = c->next) {
		if (sdr_xml_is(c, ns_uri, name))
			return c;
	}
	return NULL;
}

xmlNode *
sdr_xml_next_sibling(const xmlNode *node, const char *ns_uri, const char *name)
{
	if (node == NULL)
		return NULL;
	for (xmlNode *c = node->next; c != NULL; c = c->next) {
		if (sdr_xml_is(c, ns_uri, name))
			return c;
	}
	return NULL;
}

guint
sdr_xml_count_children(const xmlNode *parent, const char *ns_uri, const char *name)
{
	guint n = 0;

	for (xmlNode *c = sdr_xml_first_child(parent, ns_uri, name); c != NULL;
	     c = sdr_xml_next_sibling(c, ns_uri, name))
		n++;
	return n;
}

char *
sdr_xml_text(const xmlNode *node)
{
	xmlChar *content;
	char *ret;

	if (node == NULL)
		return NULL;
	content = xmlNodeGetContent(node);
	if (content == NULL)
		return g_strdup("");
	ret = g_strstrip(g_strdup((const char *)content));
	xmlFree(content);
	return ret;
}

char *
sdr_xml_attr(const xmlNode *node, const char *name)
{
	xmlChar *v;
	char *ret;

	if (node == NULL)
		return NULL;
	v = xmlGetNoNsProp(node, BAD_CAST name);
	if (v == NULL)
		return NULL;
	ret = g_strdup((const char *)v);
	xmlFree(v);
	return ret;
}

GBytes *
sdr_xml_serialize(xmlDoc *doc, GError **error)
{
	xmlChar *mem = NULL;
	int len = 0;
	GBytes *ret;

	xmlDocDumpMemoryEnc(doc, &mem, &len,
	                    doc->encoding != NULL ? (const char *)doc->encoding : "UTF-8");
	if (mem == NULL || len <= 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED,
		            _("Cannot serialise the XML document"));
		if (mem != NULL)
			xmlFree(mem);
		return NULL;
	}
	ret = g_bytes_new(mem, (gsize)len);
	xmlFree(mem);
	return ret;
}

void
sdr_xml_append_escaped(GString *out, const char *text, SdrXmlEscapeFlags flags)
{
	gboolean ascii = (flags & SDR_XML_ESCAPE_ASCII) != 0;

	if (text == NULL)
		return;
	for (const char *p = text; *p != 0;) {
		gunichar c = ascii ? g_utf8_get_char(p) : (guchar)*p;
		const char *next = ascii ? g_utf8_next_char(p) : p + 1;

		switch (c) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			if ((flags & SDR_XML_ESCAPE_APOS) != 0) {
				g_string_append(out, "&#39;");
				break;
			}
			G_GNUC_FALLTHROUGH;
		default:
			if (ascii && (c < 0x20 || c >= 0x7f))
				g_string_append_printf(out, "&#x%X;", c);
			else
				g_string_append_len(out, p, next - p);
		}
		p = next;
	}
}
