/* sdr-pes.c - PES V2 signing: checks, byte scanner, exclusive C14N, splicing. */
#include "sdr-pes-private.h"

#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-time.h"
#include "sdr-xml.h"

#include <glib/gi18n-lib.h>
#include <libxml/parser.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Small XML helpers                                                          */

gboolean
sdr_pes_is(xmlNodePtr node, const char *ns, const char *local)
{
	if (node == NULL || node->type != XML_ELEMENT_NODE)
		return FALSE;
	if (strcmp((const char *)node->name, local) != 0)
		return FALSE;
	if (ns == NULL)
		return TRUE;
	return node->ns != NULL && node->ns->href != NULL &&
	       strcmp((const char *)node->ns->href, ns) == 0;
}

xmlNodePtr
sdr_pes_next(xmlNodePtr node, const char *ns, const char *local)
{
	for (; node != NULL; node = node->next) {
		if (sdr_pes_is(node, ns, local))
			return node;
	}
	return NULL;
}

xmlNodePtr
sdr_pes_child(xmlNodePtr node, const char *ns, const char *local)
{
	return node != NULL ? sdr_pes_next(node->children, ns, local) : NULL;
}

/* ------------------------------------------------------------------------- */
/* Encoding declaration                                                       */

gboolean
sdr_pes_check_encoding(const guint8 *data, gsize len, GError **error)
{
	gsize n = MIN(len, (gsize)50);
	const char *want = "iso-8859-1";
	gsize wl = strlen(want);

	for (gsize i = 0; i + wl <= n; i++) {
		if (g_ascii_strncasecmp((const char *)data + i, want, wl) == 0)
			return TRUE;
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
	            _("The PES file must declare the ISO-8859-1 encoding in its first line."));
	return FALSE;
}

/* ------------------------------------------------------------------------- */
/* Byte scanner                                                               */

void
sdr_pes_scan_free(SdrPesScan *scan)
{
	if (scan == NULL)
		return;
	g_free(scan->root_name);
	g_free(scan->root_id);
	if (scan->bordereaux != NULL) {
		for (guint i = 0; i < scan->bordereaux->len; i++)
			g_free(g_array_index(scan->bordereaux, SdrPesScanBordereau, i).id);
		g_array_unref(scan->bordereaux);
	}
	if (scan->ids != NULL)
		g_hash_table_unref(scan->ids);
	g_free(scan->duplicate_id);
	g_free(scan);
}

static gboolean
is_space(guint8 c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const guint8 *
find_seq(const guint8 *from, const guint8 *end, const char *seq)
{
	gsize sl = strlen(seq);

	if (from >= end)
		return NULL;
	return memmem(from, (gsize)(end - from), seq, sl);
}

static char *
local_name(const guint8 *name, gsize len)
{
	const guint8 *colon = memchr(name, ':', len);

	if (colon != NULL) {
		len -= (gsize)(colon + 1 - name);
		name = colon + 1;
	}
	return g_strndup((const char *)name, len);
}

static void
scan_fail(GError **error)
{
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
	            _("The XML document is malformed or truncated."));
}

/* long: a single hand-written scanner over the raw bytes (prolog, tags, attributes, end
 * of document); one loop with its state in locals is easier to check than split states */
SdrPesScan *
sdr_pes_scan(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(SdrPesScan) scan = g_new0(SdrPesScan, 1);
	const guint8 *p = data;
	const guint8 *end = data + len;
	guint depth = 0;
	gboolean seen_root = FALSE, root_closed = FALSE, in_flow = FALSE;
	gint open_bordereau = -1;

	scan->bordereaux = g_array_new(FALSE, TRUE, sizeof(SdrPesScanBordereau));
	scan->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	while (p < end) {
		const guint8 *lt = memchr(p, '<', (gsize)(end - p));
		const guint8 *q;

		if (lt == NULL) {
			/* Nothing but white space may follow the root element. */
			for (const guint8 *s = p; root_closed && s < end; s++) {
				if (!is_space(*s))
					goto malformed;
			}
			break;
		}
		if (root_closed) {
			/* Only comments, PIs and white space may follow the root. */
			for (const guint8 *s = p; s < lt; s++) {
				if (!is_space(*s)) {
					scan_fail(error);
					return NULL;
				}
			}
		}
		p = lt;
		if (end - p >= 2 && p[1] == '?') {
			q = find_seq(p + 2, end, "?>");
			if (q == NULL)
				goto truncated;
			p = q + 2;
			continue;
		}
		if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
			q = find_seq(p + 4, end, "-->");
			if (q == NULL)
				goto truncated;
			p = q + 3;
			continue;
		}
		if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			if (depth == 0)
				goto malformed;
			q = find_seq(p + 9, end, "]]>");
			if (q == NULL)
				goto truncated;
			p = q + 3;
			continue;
		}
		if (end - p >= 2 && p[1] == '!') {
			if (end - p >= 9 &&
			    g_ascii_strncasecmp((const char *)p, "<!DOCTYPE", 9) == 0) {
				g_set_error(
				        error, SDR_ERROR, SDR_ERROR_PROFILE,
				        _("The document contains a DTD (DOCTYPE), which is refused "
				          "for security reasons."));
				return NULL;
			}
			goto malformed;
		}
		if (root_closed)
			goto malformed;
		if (end - p >= 2 && p[1] == '/') {
			q = memchr(p, '>', (gsize)(end - p));
			if (q == NULL)
				goto truncated;
			if (depth == 0)
				goto malformed;
			depth--;
			if (depth == 0) {
				scan->root_end_offset = (gsize)(p - data);
				root_closed = TRUE;
			} else if (depth == 2 && open_bordereau >= 0) {
				g_array_index(scan->bordereaux, SdrPesScanBordereau, open_bordereau)
				        .end_offset = (gsize)(p - data);
				open_bordereau = -1;
			}
			p = q + 1;
			continue;
		}
		/* Start tag. */
		{
			const guint8 *name = p + 1;
			const guint8 *s = name;
			g_autofree char *local = NULL;
			g_autofree char *id = NULL;
			gboolean empty = FALSE;

			while (s < end && !is_space(*s) && *s != '/' && *s != '>')
				s++;
			if (s >= end)
				goto truncated;
			if (s == name)
				goto malformed;
			local = local_name(name, (gsize)(s - name));
			for (;;) {
				const guint8 *an, *ae, *v, *ve;
				guint8 quote;

				while (s < end && is_space(*s))
					s++;
				if (s >= end)
					goto truncated;
				if (*s == '>') {
					s++;
					break;
				}
				if (*s == '/') {
					if (s + 1 >= end)
						goto truncated;
					if (s[1] != '>')
						goto malformed;
					empty = TRUE;
					s += 2;
					break;
				}
				an = s;
				while (s < end && !is_space(*s) && *s != '=' && *s != '>' &&
				       *s != '/')
					s++;
				ae = s;
				while (s < end && is_space(*s))
					s++;
				if (s >= end)
					goto truncated;
				if (*s != '=' || ae == an)
					goto malformed;
				s++;
				while (s < end && is_space(*s))
					s++;
				if (s >= end)
					goto truncated;
				if (*s != '"' && *s != '\'')
					goto malformed;
				quote = *s;
				v = s + 1;
				ve = memchr(v, quote, (gsize)(end - v));
				if (ve == NULL)
					goto truncated;
				if ((gsize)(ve - v) > SDR_PES_MAX_ATTR) {
					g_set_error(
					        error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
					        _("An attribute of the document is too long (over "
					          "%u bytes)."),
					        (guint)SDR_PES_MAX_ATTR);
					return NULL;
				}
				if (ae - an == 2 && memcmp(an, "Id", 2) == 0) {
					char *value = g_strndup((const char *)v, (gsize)(ve - v));

					if (g_hash_table_contains(scan->ids, value)) {
						if (scan->duplicate_id == NULL)
							scan->duplicate_id = g_strdup(value);
					} else {
						g_hash_table_add(scan->ids, g_strdup(value));
					}
					g_free(id);
					id = value;
				}
				s = ve + 1;
			}
			if (depth == 0) {
				if (seen_root)
					goto malformed;
				seen_root = TRUE;
				scan->root_name = g_strdup(local);
				scan->root_id = g_strdup(id);
			} else if (depth == 1) {
				in_flow = strcmp(local, "PES_DepenseAller") == 0 ||
				          strcmp(local, "PES_RecetteAller") == 0;
			} else if (depth == 2 && in_flow && strcmp(local, "Bordereau") == 0) {
				SdrPesScanBordereau b = { 0 };

				b.id = g_steal_pointer(&id);
				b.empty_tag = empty;
				g_array_append_val(scan->bordereaux, b);
				if (!empty)
					open_bordereau = (gint)scan->bordereaux->len - 1;
			}
			if (empty) {
				if (depth == 0) {
					scan->root_end_offset = (gsize)(p - data);
					root_closed = TRUE;
				}
			} else {
				depth++;
				if (depth > SDR_PES_MAX_DEPTH) {
					g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
					            _("The document is nested too deeply."));
					return NULL;
				}
			}
			p = s;
		}
	}
	if (!seen_root || !root_closed || depth != 0)
		goto truncated;
	return g_steal_pointer(&scan);

truncated:
malformed:
	scan_fail(error);
	return NULL;
}

/* ------------------------------------------------------------------------- */
/* Safe libxml2 parsing                                                       */

#define PES_PARSE_OPTIONS                                                                          \
	(XML_PARSE_NONET | XML_PARSE_HUGE | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |              \
	 XML_PARSE_NOXINCNODE)

struct _SdrPesReader {
	xmlTextReaderPtr reader;
	SdrXmlFirstError first;
};

SdrPesReader *
sdr_pes_reader_new(const guint8 *data, gsize len)
{
	SdrPesReader *r;

	if (len > G_MAXINT)
		return NULL;
	xmlInitParser();
	r = g_new0(SdrPesReader, 1);
	r->reader = xmlReaderForMemory((const char *)data, (int)len, "pes.xml", NULL,
	                               PES_PARSE_OPTIONS);
	if (r->reader == NULL) {
		g_free(r);
		return NULL;
	}
	xmlTextReaderSetStructuredErrorHandler(r->reader, sdr_xml_error_handler, &r->first);
	return r;
}

xmlTextReaderPtr
sdr_pes_reader_get(SdrPesReader *reader)
{
	return reader->reader;
}

void
sdr_pes_reader_error(SdrPesReader *reader, GError **error)
{
	g_autofree char *msg = reader->first.message != NULL
	                               ? g_strchomp(g_strdup(reader->first.message))
	                               : g_strdup("?");

	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("The XML document cannot be read: %s"),
	            msg);
}

void
sdr_pes_reader_free(SdrPesReader *reader)
{
	if (reader == NULL)
		return;
	if (reader->reader != NULL)
		xmlFreeTextReader(reader->reader);
	sdr_xml_first_error_clear(&reader->first);
	g_free(reader);
}

xmlDocPtr
sdr_pes_parse_doc(const guint8 *data, gsize len, GError **error)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if (len > G_MAXINT) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("The document is too large."));
		return NULL;
	}
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED, "out of memory");
		return NULL;
	}
	doc = xmlCtxtReadMemory(ctxt, (const char *)data, (int)len, "pes.xml", NULL,
	                        PES_PARSE_OPTIONS);
	if (doc == NULL || !ctxt->wellFormed || doc->intSubset != NULL) {
		const xmlError *err = xmlCtxtGetLastError(ctxt);
		g_autofree char *msg = g_strchomp(
		        g_strdup(err != NULL && err->message != NULL ? err->message : "DTD"));

		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("The XML document cannot be read: %s"), msg);
		if (doc != NULL)
			xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* ------------------------------------------------------------------------- */
/* Exclusive C14N 1.0 without comments                                        */

typedef struct {
	const xmlChar *prefix; /* NULL = default namespace */
	const xmlChar *href;
} NsEntry;

typedef struct {
	EVP_MD_CTX *md;
	GString *out;
	guint8 buf[16384];
	gsize len;
	gboolean failed;
	xmlNodePtr skip;
	GArray *ns;       /* NsEntry: declarations rendered by output ancestors */
	GArray *scratch;  /* NsEntry being selected for one start tag */
	GPtrArray *attrs; /* xmlAttrPtr of one start tag */
} C14n;

static void
c14n_flush(C14n *c)
{
	if (c->len == 0)
		return;
	if (c->md != NULL && EVP_DigestUpdate(c->md, c->buf, c->len) != 1)
		c->failed = TRUE;
	if (c->out != NULL)
		g_string_append_len(c->out, (const char *)c->buf, (gssize)c->len);
	c->len = 0;
}

static void
c14n_put(C14n *c, const char *p, gsize n)
{
	if (c->len + n > sizeof(c->buf)) {
		c14n_flush(c);
		if (n > sizeof(c->buf)) {
			if (c->md != NULL && EVP_DigestUpdate(c->md, p, n) != 1)
				c->failed = TRUE;
			if (c->out != NULL)
				g_string_append_len(c->out, p, (gssize)n);
			return;
		}
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void
c14n_puts(C14n *c, const char *s)
{
	c14n_put(c, s, strlen(s));
}

static void
c14n_escaped(C14n *c, const xmlChar *t, gboolean attr)
{
	const xmlChar *run = t;

	if (t == NULL)
		return;
	for (; *t != 0; t++) {
		const char *rep = NULL;

		switch (*t) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = attr ? NULL : "&gt;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		case '\t':
			rep = attr ? "&#x9;" : NULL;
			break;
		case '\n':
			rep = attr ? "&#xA;" : NULL;
			break;
		case '\r':
			rep = "&#xD;";
			break;
		default:
			break;
		}
		if (rep != NULL) {
			c14n_put(c, (const char *)run, (gsize)(t - run));
			c14n_puts(c, rep);
			run = t + 1;
		}
	}
	c14n_put(c, (const char *)run, (gsize)(t - run));
}

static int
prefix_cmp(const xmlChar *a, const xmlChar *b)
{
	return strcmp(a != NULL ? (const char *)a : "", b != NULL ? (const char *)b : "");
}

static int
ns_entry_cmp(gconstpointer a, gconstpointer b)
{
	return prefix_cmp(((const NsEntry *)a)->prefix, ((const NsEntry *)b)->prefix);
}

static int
attr_cmp(gconstpointer a, gconstpointer b)
{
	const xmlAttr *x = *(const xmlAttr *const *)a;
	const xmlAttr *y = *(const xmlAttr *const *)b;
	int r = prefix_cmp(x->ns != NULL ? x->ns->href : NULL, y->ns != NULL ? y->ns->href : NULL);

	return r != 0 ? r : strcmp((const char *)x->name, (const char *)y->name);
}

static const xmlChar *
c14n_ns_lookup(C14n *c, const xmlChar *prefix, gboolean *found)
{
	for (guint i = c->ns->len; i > 0; i--) {
		NsEntry *e = &g_array_index(c->ns, NsEntry, i - 1);

		if (prefix_cmp(e->prefix, prefix) == 0) {
			*found = TRUE;
			return e->href;
		}
	}
	*found = FALSE;
	return NULL;
}

static void
c14n_utilize(C14n *c, const xmlChar *prefix, const xmlChar *href)
{
	gboolean found;
	const xmlChar *current;
	NsEntry e = { prefix, href };

	if (prefix != NULL && strcmp((const char *)prefix, "xml") == 0)
		return;
	for (guint i = 0; i < c->scratch->len; i++) {
		if (prefix_cmp(g_array_index(c->scratch, NsEntry, i).prefix, prefix) == 0)
			return;
	}
	current = c14n_ns_lookup(c, prefix, &found);
	if (href == NULL || *href == 0) {
		/* An element in no namespace: undo a rendered default namespace. */
		if (prefix == NULL && found && current != NULL && *current != 0) {
			e.href = (const xmlChar *)"";
			g_array_append_val(c->scratch, e);
		}
		return;
	}
	if (!found || current == NULL || strcmp((const char *)current, (const char *)href) != 0)
		g_array_append_val(c->scratch, e);
}

static void
c14n_qname(C14n *c, const xmlNs *ns, const xmlChar *name)
{
	if (ns != NULL && ns->prefix != NULL) {
		c14n_puts(c, (const char *)ns->prefix);
		c14n_put(c, ":", 1);
	}
	c14n_puts(c, (const char *)name);
}

static gboolean c14n_node(C14n *c, xmlNodePtr node, guint depth);

/* Writes the start tag of el and pushes the namespaces it renders; returns the
 * namespace stack mark to restore after its end tag. */
static guint
c14n_start_tag(C14n *c, xmlNodePtr el)
{
	guint mark = c->ns->len;

	g_array_set_size(c->scratch, 0);
	g_ptr_array_set_size(c->attrs, 0);
	c14n_utilize(c, el->ns != NULL ? el->ns->prefix : NULL,
	             el->ns != NULL ? el->ns->href : NULL);
	for (xmlAttrPtr a = el->properties; a != NULL; a = a->next) {
		g_ptr_array_add(c->attrs, a);
		if (a->ns != NULL && a->ns->prefix != NULL)
			c14n_utilize(c, a->ns->prefix, a->ns->href);
	}
	g_array_sort(c->scratch, ns_entry_cmp);
	g_ptr_array_sort(c->attrs, attr_cmp);

	c14n_put(c, "<", 1);
	c14n_qname(c, el->ns, el->name);
	for (guint i = 0; i < c->scratch->len; i++) {
		NsEntry *e = &g_array_index(c->scratch, NsEntry, i);

		if (e->prefix != NULL) {
			c14n_puts(c, " xmlns:");
			c14n_puts(c, (const char *)e->prefix);
		} else {
			c14n_puts(c, " xmlns");
		}
		c14n_put(c, "=\"", 2);
		c14n_escaped(c, e->href, TRUE);
		c14n_put(c, "\"", 1);
		g_array_append_val(c->ns, *e);
	}
	for (guint i = 0; i < c->attrs->len; i++) {
		xmlAttrPtr a = g_ptr_array_index(c->attrs, i);

		c14n_put(c, " ", 1);
		c14n_qname(c, a->ns, a->name);
		c14n_put(c, "=\"", 2);
		if (a->children != NULL && a->children->next == NULL &&
		    a->children->type == XML_TEXT_NODE) {
			c14n_escaped(c, a->children->content, TRUE);
		} else if (a->children != NULL) {
			xmlChar *v = xmlNodeListGetString(el->doc, a->children, 1);

			c14n_escaped(c, v, TRUE);
			xmlFree(v);
		}
		c14n_put(c, "\"", 1);
	}
	c14n_put(c, ">", 1);
	return mark;
}

static void
c14n_end_tag(C14n *c, xmlNodePtr el, guint mark)
{
	c14n_put(c, "</", 2);
	c14n_qname(c, el->ns, el->name);
	c14n_put(c, ">", 1);
	g_array_set_size(c->ns, mark);
}

static gboolean
c14n_element(C14n *c, xmlNodePtr el, guint depth)
{
	guint mark;

	if (depth > 4 * SDR_PES_MAX_DEPTH)
		return FALSE;
	mark = c14n_start_tag(c, el);
	for (xmlNodePtr ch = el->children; ch != NULL; ch = ch->next) {
		if (!c14n_node(c, ch, depth + 1))
			return FALSE;
	}
	c14n_end_tag(c, el, mark);
	return TRUE;
}

static void
c14n_pi(C14n *c, const xmlChar *target, const xmlChar *data)
{
	c14n_put(c, "<?", 2);
	c14n_puts(c, (const char *)target);
	if (data != NULL && *data != 0) {
		c14n_put(c, " ", 1);
		c14n_puts(c, (const char *)data);
	}
	c14n_put(c, "?>", 2);
}

static gboolean
c14n_node(C14n *c, xmlNodePtr node, guint depth)
{
	if (node == c->skip)
		return TRUE;
	switch (node->type) {
	case XML_ELEMENT_NODE:
		return c14n_element(c, node, depth);
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		c14n_escaped(c, node->content, FALSE);
		return TRUE;
	case XML_PI_NODE:
		c14n_pi(c, node->name, node->content);
		return TRUE;
	case XML_COMMENT_NODE:
	case XML_XINCLUDE_START:
	case XML_XINCLUDE_END:
		return TRUE;
	default:
		/* Entity references cannot occur without a DTD. */
		return FALSE;
	}
}

static C14n *
c14n_new(EVP_MD_CTX *md, GString *out, xmlNodePtr skip)
{
	C14n *c = g_new0(C14n, 1);

	c->md = md;
	c->out = out;
	c->skip = skip;
	c->ns = g_array_new(FALSE, FALSE, sizeof(NsEntry));
	c->scratch = g_array_new(FALSE, FALSE, sizeof(NsEntry));
	c->attrs = g_ptr_array_new();
	return c;
}

static void
c14n_free(C14n *c)
{
	g_array_unref(c->ns);
	g_array_unref(c->scratch);
	g_ptr_array_unref(c->attrs);
	g_free(c);
}

gboolean
sdr_pes_c14n(xmlNodePtr node, xmlNodePtr skip, EVP_MD_CTX *md, GString *out, GError **error)
{
	C14n *c = c14n_new(md, out, skip);
	gboolean ok;
	/* The enveloped-signature transform removes the signature's whole subtree: a
	 * node inside it (or the signature itself) canonicalises to nothing. */
	for (xmlNodePtr a = node; skip != NULL && a != NULL; a = a->parent) {
		if (a == skip) {
			node = NULL;
			break;
		}
	}
	ok = node == NULL || c14n_node(c, node, 0);
	c14n_flush(c);
	ok = ok && !c->failed;
	c14n_free(c);
	if (!ok) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("The XML content cannot be canonicalised."));
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_pes_c14n_digest(xmlNodePtr node, xmlNodePtr skip, const EVP_MD *alg, guint8 *digest,
                    guint *digest_len, GError **error)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	gboolean ok = FALSE;

	if (md == NULL || EVP_DigestInit_ex(md, alg, NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		goto out;
	}
	if (!sdr_pes_c14n(node, skip, md, NULL, error))
		goto out;
	if (EVP_DigestFinal_ex(md, digest, digest_len) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		goto out;
	}
	ok = TRUE;
out:
	EVP_MD_CTX_free(md);
	return ok;
}

/* ------------------------------------------------------------------------- */
/* Options, results                                                           */

gboolean
sdr_pes_check_place(const char *city, const char *postal_code, GError **error)
{
	if ((city != NULL && city[0] != '\0') || (postal_code != NULL && postal_code[0] != '\0'))
		return TRUE;
	g_set_error_literal(
	        error, SDR_ERROR, SDR_ERROR_CONFIG,
	        _("A PES signature says where it was signed, and no place is configured: add "
	          "“city=…” and “postal_code=…” under [signature] in ~/.config/sinadur/"
	          "sinadur.conf (for example city=Brest and postal_code=29200), then sign "
	          "again. Nothing was signed."));
	return FALSE;
}

void
sdr_pes_options_init(SdrPesOptions *options)
{
	memset(options, 0, sizeof(*options));
	options->policy_identifier = SDR_PES_POLICY_ID;
	options->policy_description = SDR_PES_POLICY_DESCRIPTION;
	options->policy_hash = SDR_PES_POLICY_HASH;
	options->policy_uri = SDR_PES_POLICY_URI;
	options->claimed_role = SDR_PES_DEFAULT_ROLE;
}

void
sdr_pes_sign_result_free(SdrPesSignResult *result)
{
	if (result == NULL)
		return;
	g_ptr_array_unref(result->signed_ids);
	g_ptr_array_unref(result->skipped_ids);
	g_free(result);
}

gboolean
sdr_pes_detect(const guint8 *data, gsize len)
{
	const guint8 *p = data;
	const guint8 *end = data + MIN(len, (gsize)65536);

	/* The root element's local name, after the prolog (declaration, comments, PIs). */
	while (p < end) {
		const guint8 *q;
		const guint8 *name;

		while (p < end && is_space(*p))
			p++;
		if (end - p < 2 || *p != '<')
			return FALSE;
		if (p[1] == '?' || (end - p >= 4 && memcmp(p, "<!--", 4) == 0)) {
			const char *close = p[1] == '?' ? "?>" : "-->";

			q = find_seq(p + 2, end, close);
			if (q == NULL)
				return FALSE;
			p = q + strlen(close);
			continue;
		}
		if (p[1] == '!')
			return FALSE;
		name = p + 1;
		q = name;
		while (q < end && !is_space(*q) && *q != '>' && *q != '/')
			q++;
		{
			g_autofree char *local = local_name(name, (gsize)(q - name));

			return strcmp(local, "PES_Aller") == 0;
		}
	}
	return FALSE;
}

/* ------------------------------------------------------------------------- */
/* Profile checks                                                             */

static const char *
attr_v(xmlNodePtr node)
{
	xmlAttrPtr a = node != NULL ? xmlHasProp(node, (const xmlChar *)"V") : NULL;

	if (a == NULL || a->children == NULL || a->children->type != XML_TEXT_NODE)
		return NULL;
	return (const char *)a->children->content;
}

/* Checks on the header elements, expanded from the reader. */
static gboolean
check_enveloppe(xmlNodePtr env, GError **error)
{
	xmlNodePtr params = sdr_pes_child(env, NULL, "Parametres");
	xmlNodePtr nomfic = sdr_pes_child(params, NULL, "NomFic");

	if (params == NULL || nomfic == NULL ||
	    sdr_pes_next(nomfic->next, NULL, "NomFic") != NULL ||
	    sdr_pes_next(params->next, NULL, "Parametres") != NULL) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_PROFILE,
		        _("The PES file must contain exactly one Enveloppe/Parametres/NomFic."));
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_entete(xmlNodePtr entete, GError **error)
{
	const char *codcol = attr_v(sdr_pes_child(entete, NULL, "CodCol"));
	const char *idcoll = attr_v(sdr_pes_child(entete, NULL, "IdColl"));

	if (codcol != NULL && g_utf8_strlen(codcol, -1) > 3) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("CodCol is longer than 3 characters (“%s”)."), codcol);
		return FALSE;
	}
	if (idcoll != NULL && g_utf8_strlen(idcoll, -1) > 14) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("IdColl is longer than 14 characters (“%s”)."), idcoll);
		return FALSE;
	}
	return TRUE;
}

static gboolean
has_signature_child(xmlNodePtr node)
{
	return sdr_pes_child(node, SDR_PES_NS_DS, "Signature") != NULL;
}

/* What the reader pass learns about one bordereau. */
typedef struct {
	char *id;
	gboolean already_signed;
	gboolean selected;
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize end_offset;
	char *signature; /* serialised ds:Signature, ASCII */
} PesBordereau;

static void
pes_bordereau_clear(gpointer p)
{
	PesBordereau *b = p;

	g_free(b->id);
	g_free(b->signature);
}

typedef struct {
	const guint8 *data;
	gsize len;
	SdrPesScan *scan;
	gboolean root_mode;
	gboolean root_signed;
	guint8 root_digest[EVP_MAX_MD_SIZE];
	GArray *bordereaux; /* PesBordereau */
	gboolean seen_enveloppe, seen_flow;
} PesDoc;

static gboolean
pes_selected(const SdrPesOptions *options, const char *id)
{
	if (options == NULL || options->bordereaux == NULL)
		return TRUE;
	for (const char *const *p = options->bordereaux; *p != NULL; p++) {
		if (strcmp(*p, id) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Root mode in one streaming pass: the header checks, and the exclusive canonical
 * form of the whole PES_Aller element hashed as the reader goes (no tree of the
 * document is ever built, PES_PJ included). */
/* long: one streaming-reader loop that checks the header and canonicalises the whole
 * PES_Aller as it reads; its state is the reader position */
static gboolean
pes_stream_root(PesDoc *doc, gboolean compute, GError **error)
{
	g_autoptr(SdrPesReader) r = sdr_pes_reader_new(doc->data, doc->len);
	g_autoptr(GArray) marks = g_array_new(FALSE, FALSE, sizeof(guint));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	C14n *c = NULL;
	xmlTextReaderPtr reader;
	gboolean ok = FALSE;
	guint dl = 0;
	int ret;

	if (r == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED, "out of memory");
		goto out;
	}
	reader = sdr_pes_reader_get(r);
	c = c14n_new(compute ? md : NULL, NULL, NULL);
	ret = xmlTextReaderRead(reader);
	while (ret == 1) {
		int type = xmlTextReaderNodeType(reader);
		int depth = xmlTextReaderDepth(reader);
		xmlNodePtr node = xmlTextReaderCurrentNode(reader);
		const char *name = (const char *)xmlTextReaderConstLocalName(reader);

		switch (type) {
		case XML_READER_TYPE_ELEMENT:
			if (node == NULL || name == NULL)
				goto parse_error;
			if (depth == 1 &&
			    (strcmp(name, "Enveloppe") == 0 || strcmp(name, "EnTetePES") == 0)) {
				xmlNodePtr sub = xmlTextReaderExpand(reader);

				if (sub == NULL)
					goto parse_error;
				if (strcmp(name, "Enveloppe") == 0) {
					if (doc->seen_enveloppe) {
						g_set_error(
						        error, SDR_ERROR, SDR_ERROR_PROFILE,
						        _("The PES file must contain exactly one "
						          "Enveloppe/Parametres/NomFic."));
						goto out;
					}
					doc->seen_enveloppe = TRUE;
					if (!check_enveloppe(sub, error))
						goto out;
				} else if (!check_entete(sub, error)) {
					goto out;
				}
				if (!c14n_node(c, sub, 1))
					goto c14n_error;
				ret = xmlTextReaderNext(reader);
				continue;
			}
			if (depth == 1) {
				doc->seen_flow = doc->seen_flow ||
				                 strcmp(name, "PES_DepenseAller") == 0 ||
				                 strcmp(name, "PES_RecetteAller") == 0;
				if (sdr_pes_is(node, SDR_PES_NS_DS, "Signature")) {
					/* Already signed: the caller refuses, nothing to hash. */
					doc->root_signed = TRUE;
					ok = TRUE;
					goto out;
				}
			}
			if (marks->len > 4 * SDR_PES_MAX_DEPTH)
				goto c14n_error;
			{
				guint mark = c14n_start_tag(c, node);

				if (xmlTextReaderIsEmptyElement(reader))
					c14n_end_tag(c, node, mark);
				else
					g_array_append_val(marks, mark);
			}
			break;
		case XML_READER_TYPE_END_ELEMENT:
			if (node == NULL || marks->len == 0)
				goto parse_error;
			c14n_end_tag(c, node, g_array_index(marks, guint, marks->len - 1));
			g_array_set_size(marks, marks->len - 1);
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_WHITESPACE:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
			if (marks->len > 0)
				c14n_escaped(c, xmlTextReaderConstValue(reader), FALSE);
			break;
		case XML_READER_TYPE_PROCESSING_INSTRUCTION:
			if (marks->len > 0)
				c14n_pi(c, xmlTextReaderConstName(reader),
				        xmlTextReaderConstValue(reader));
			break;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			goto c14n_error;
		default:
			break;
		}
		ret = xmlTextReaderRead(reader);
	}
	if (ret != 0)
		goto parse_error;
	if (!doc->seen_enveloppe) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_PROFILE,
		        _("The PES file must contain exactly one Enveloppe/Parametres/NomFic."));
		goto out;
	}
	if (!doc->seen_flow) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_PROFILE,
		        _("The PES file contains neither PES_DepenseAller nor PES_RecetteAller."));
		goto out;
	}
	c14n_flush(c);
	if (c->failed || (compute && EVP_DigestFinal_ex(md, doc->root_digest, &dl) != 1))
		goto c14n_error;
	ok = TRUE;
	goto out;

parse_error:
	sdr_pes_reader_error(r, error);
	goto out;
c14n_error:
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
	            _("The XML content cannot be canonicalised."));
out:
	if (c != NULL)
		c14n_free(c);
	EVP_MD_CTX_free(md);
	return ok;
}

/* long: one streaming pass in bordereau mode (header, each bordereau canonicalised and
 * hashed as it is read); the reader loop and its state stay together */
static gboolean
pes_prepare(PesDoc *doc, const SdrPesOptions *options, gboolean compute, GError **error)
{
	g_autoptr(SdrPesReader) r = NULL;
	xmlTextReaderPtr reader;
	guint n_ids = 0;
	int ret;
	guint bi = 0;

	if (!sdr_pes_check_encoding(doc->data, doc->len, error))
		return FALSE;
	doc->scan = sdr_pes_scan(doc->data, doc->len, error);
	if (doc->scan == NULL)
		return FALSE;
	if (strcmp(doc->scan->root_name, "PES_Aller") != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("This XML file is not a PES Aller (root element “%s”)."),
		            doc->scan->root_name);
		return FALSE;
	}
	if (doc->scan->duplicate_id != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("The Id “%s” appears more than once in the document."),
		            doc->scan->duplicate_id);
		return FALSE;
	}
	for (guint i = 0; i < doc->scan->bordereaux->len; i++) {
		SdrPesScanBordereau *sb =
		        &g_array_index(doc->scan->bordereaux, SdrPesScanBordereau, i);

		if (sb->id != NULL && *sb->id != 0)
			n_ids++;
	}
	doc->root_mode = doc->scan->bordereaux->len == 0 || n_ids != doc->scan->bordereaux->len;
	if (doc->root_mode && (doc->scan->root_id == NULL || *doc->scan->root_id == 0)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("The bordereaux of the PES file have no Id and PES_Aller has none "
		              "either: it cannot be signed."));
		return FALSE;
	}

	if (doc->root_mode)
		return pes_stream_root(doc, compute, error);

	/* Bordereau mode: stream, expanding one header or bordereau at a time. */
	r = sdr_pes_reader_new(doc->data, doc->len);
	if (r == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, "out of memory");
		return FALSE;
	}
	reader = sdr_pes_reader_get(r);
	doc->bordereaux = g_array_new(FALSE, TRUE, sizeof(PesBordereau));
	g_array_set_clear_func(doc->bordereaux, pes_bordereau_clear);
	{
		gboolean in_flow = FALSE;

		ret = xmlTextReaderRead(reader);
		while (ret == 1) {
			int type = xmlTextReaderNodeType(reader);
			int depth = xmlTextReaderDepth(reader);
			const char *name = (const char *)xmlTextReaderConstLocalName(reader);
			xmlNodePtr node;

			if (type != XML_READER_TYPE_ELEMENT || depth < 1 || depth > 2 ||
			    name == NULL) {
				ret = xmlTextReaderRead(reader);
				continue;
			}
			if (depth == 1) {
				in_flow = strcmp(name, "PES_DepenseAller") == 0 ||
				          strcmp(name, "PES_RecetteAller") == 0;
				doc->seen_flow = doc->seen_flow || in_flow;
				if (strcmp(name, "Enveloppe") == 0 ||
				    strcmp(name, "EnTetePES") == 0) {
					node = xmlTextReaderExpand(reader);
					if (node == NULL)
						break;
					if (strcmp(name, "Enveloppe") == 0) {
						if (doc->seen_enveloppe) {
							g_set_error(
							        error, SDR_ERROR, SDR_ERROR_PROFILE,
							        _("The PES file must contain "
							          "exactly "
							          "one "
							          "Enveloppe/Parametres/NomFic."));
							return FALSE;
						}
						doc->seen_enveloppe = TRUE;
						if (!check_enveloppe(node, error))
							return FALSE;
					} else if (!check_entete(node, error)) {
						return FALSE;
					}
					ret = xmlTextReaderNext(reader);
					continue;
				}
				ret = xmlTextReaderRead(reader);
				continue;
			}
			if (!in_flow || strcmp(name, "Bordereau") != 0) {
				ret = xmlTextReaderNext(reader);
				continue;
			}
			node = xmlTextReaderExpand(reader);
			if (node == NULL)
				break;
			{
				PesBordereau b = { 0 };
				SdrPesScanBordereau *sb;
				xmlChar *id = xmlGetProp(node, (const xmlChar *)"Id");

				if (bi >= doc->scan->bordereaux->len || id == NULL) {
					xmlFree(id);
					scan_fail(error);
					return FALSE;
				}
				sb = &g_array_index(doc->scan->bordereaux, SdrPesScanBordereau, bi);
				bi++;
				if (sb->id == NULL || strcmp(sb->id, (const char *)id) != 0 ||
				    sb->empty_tag) {
					xmlFree(id);
					g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
					            _("A bordereau cannot be located in the file "
					              "(empty element or Id with entities)."));
					return FALSE;
				}
				b.id = g_strdup((const char *)id);
				xmlFree(id);
				b.end_offset = sb->end_offset;
				b.already_signed = has_signature_child(node);
				b.selected = pes_selected(options, b.id);
				if (compute && b.selected && !b.already_signed) {
					guint dl = 0;

					if (!sdr_pes_c14n_digest(node, NULL, EVP_sha256(), b.digest,
					                         &dl, error)) {
						pes_bordereau_clear(&b);
						return FALSE;
					}
				}
				g_array_append_val(doc->bordereaux, b);
			}
			ret = xmlTextReaderNext(reader);
		}
	}
	if (ret != 0) {
		sdr_pes_reader_error(r, error);
		return FALSE;
	}
	if (!doc->seen_enveloppe) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_PROFILE,
		        _("The PES file must contain exactly one Enveloppe/Parametres/NomFic."));
		return FALSE;
	}
	if (!doc->seen_flow) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_PROFILE,
		        _("The PES file contains neither PES_DepenseAller nor PES_RecetteAller."));
		return FALSE;
	}
	if (bi != doc->scan->bordereaux->len) {
		scan_fail(error);
		return FALSE;
	}
	return TRUE;
}

static void
pes_doc_clear(PesDoc *doc)
{
	sdr_pes_scan_free(doc->scan);
	if (doc->bordereaux != NULL)
		g_array_unref(doc->bordereaux);
}

gboolean
sdr_pes_check(const guint8 *data, gsize len, GError **error)
{
	PesDoc doc = { 0 };
	gboolean ok;

	doc.data = data;
	doc.len = len;
	ok = pes_prepare(&doc, NULL, FALSE, error);
	pes_doc_clear(&doc);
	return ok;
}

gboolean
sdr_pes_check_signable(const guint8 *data, gsize len, const SdrPesOptions *options, GError **error)
{
	PesDoc doc = { 0 };
	gboolean ok = FALSE;
	guint todo = 0;

	doc.data = data != NULL ? data : (const guint8 *)"";
	doc.len = len;
	if (!pes_prepare(&doc, options, FALSE, error))
		goto out;
	for (const char *const *p = options != NULL ? options->bordereaux : NULL; p != NULL && *p;
	     p++) {
		gboolean found = FALSE;

		for (guint i = 0; !doc.root_mode && i < doc.bordereaux->len && !found; i++)
			found = strcmp(g_array_index(doc.bordereaux, PesBordereau, i).id, *p) == 0;
		if (!found) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
			            _("No bordereau with Id “%s” in the file."), *p);
			goto out;
		}
	}
	if (doc.root_mode) {
		todo = doc.root_signed ? 0 : 1;
	} else {
		for (guint i = 0; i < doc.bordereaux->len; i++) {
			PesBordereau *b = &g_array_index(doc.bordereaux, PesBordereau, i);

			if (b->selected && !b->already_signed)
				todo++;
		}
	}
	if (todo == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED,
		            doc.root_mode ? _("The PES file is already signed.")
		                          : _("Every bordereau to sign is already signed."));
		goto out;
	}
	ok = TRUE;
out:
	pes_doc_clear(&doc);
	return ok;
}

/* ------------------------------------------------------------------------- */
/* Building one ds:Signature                                                  */

/* Appends UTF-8 text escaped for XML; everything outside ASCII becomes a character
 * reference so that the text is valid in the file's ISO-8859-1. */
static void
append_escaped(GString *s, const char *text)
{
	sdr_xml_append_escaped(s, text, SDR_XML_ESCAPE_ASCII);
}

static gboolean
check_text_option(const char *value, GError **error)
{
	if (value == NULL)
		return TRUE;
	if (!g_utf8_validate(value, -1, NULL) || strlen(value) > 1024) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("A signature option is not valid text."));
		return FALSE;
	}
	for (const char *p = value; *p != 0; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE ||
		    c == 0xFFFF) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("A signature option is not valid text."));
			return FALSE;
		}
	}
	return TRUE;
}

/* Signer facts shared by every signature of one run. */
typedef struct {
	char *cert_b64;
	char *cert_digest_b64;
	char *issuer;
	char *serial;
	char *signing_time;
	const char *sig_method;
} PesSignerInfo;

static void
pes_signer_info_clear(PesSignerInfo *info)
{
	g_free(info->cert_b64);
	g_free(info->cert_digest_b64);
	g_free(info->issuer);
	g_free(info->serial);
	g_free(info->signing_time);
}

static gboolean
pes_signer_info_init(PesSignerInfo *info, SdrSigner *signer, const SdrPesOptions *options,
                     GError **error)
{
	X509 *cert = sdr_signer_get_cert(signer);
	unsigned char *der = NULL;
	int der_len;
	guint8 md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	BIO *bio = NULL;
	BIGNUM *bn = NULL;
	char *dec = NULL;
	g_autoptr(GDateTime) now = NULL;
	gboolean ok = FALSE;

	switch (sdr_signer_get_scheme(signer)) {
	case SDR_SIG_RSA_PKCS1:
		info->sig_method = SDR_PES_RSA_SHA256;
		break;
	case SDR_SIG_ECDSA:
		info->sig_method = SDR_PES_ECDSA_SHA256;
		break;
	default:
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("The PES profile requires RSA PKCS#1 v1.5 or ECDSA signatures."));
		return FALSE;
	}
	if (cert == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, _("No signing certificate."));
		return FALSE;
	}
	der_len = i2d_X509(cert, &der);
	if (der_len <= 0 || X509_digest(cert, EVP_sha256(), md, &md_len) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "certificate");
		goto out;
	}
	info->cert_b64 = g_base64_encode(der, (gsize)der_len);
	info->cert_digest_b64 = g_base64_encode(md, md_len);
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || X509_NAME_print_ex(bio, X509_get_issuer_name(cert), 0,
	                                      XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "issuer name");
		goto out;
	}
	{
		char *p = NULL;
		long n = BIO_get_mem_data(bio, &p);

		info->issuer = g_strndup(p, (gsize)n);
	}
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	dec = bn != NULL ? BN_bn2dec(bn) : NULL;
	if (dec == NULL) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "serial number");
		goto out;
	}
	info->serial = g_strdup(dec);
	if (options->signing_time != NULL) {
		g_autoptr(GDateTime) utc = g_date_time_to_utc(options->signing_time);

		info->signing_time = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
	} else {
		now = g_date_time_new_now_utc();
		info->signing_time = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	}
	ok = TRUE;
out:
	OPENSSL_free(der);
	OPENSSL_free(dec);
	BN_free(bn);
	BIO_free(bio);
	return ok;
}

static void
append_element(GString *s, const char *qname, const char *text)
{
	g_string_append_printf(s, "<%s>", qname);
	append_escaped(s, text);
	g_string_append_printf(s, "</%s>", qname);
}

static void
build_object(GString *s, const char *sig_id, const PesSignerInfo *info,
             const SdrPesOptions *options)
{
	g_string_append(s, "<ds:Object><xad:QualifyingProperties xmlns:xad=\"" SDR_PES_NS_XAD
	                   "\" Target=\"#");
	append_escaped(s, sig_id);
	g_string_append(s, "\"><xad:SignedProperties Id=\"");
	append_escaped(s, sig_id);
	g_string_append(s, "_SP\"><xad:SignedSignatureProperties>");
	append_element(s, "xad:SigningTime", info->signing_time);
	g_string_append(s, "<xad:SigningCertificate><xad:Cert><xad:CertDigest>"
	                   "<ds:DigestMethod Algorithm=\"" SDR_PES_SHA256 "\"></ds:DigestMethod>");
	append_element(s, "ds:DigestValue", info->cert_digest_b64);
	g_string_append(s, "</xad:CertDigest><xad:IssuerSerial>");
	append_element(s, "ds:X509IssuerName", info->issuer);
	append_element(s, "ds:X509SerialNumber", info->serial);
	g_string_append(s,
	                "</xad:IssuerSerial></xad:Cert></xad:SigningCertificate>"
	                "<xad:SignaturePolicyIdentifier><xad:SignaturePolicyId><xad:SigPolicyId>");
	append_element(s, "xad:Identifier", options->policy_identifier);
	if (options->policy_description != NULL && *options->policy_description != 0)
		append_element(s, "xad:Description", options->policy_description);
	g_string_append(s,
	                "</xad:SigPolicyId><xad:SigPolicyHash>"
	                "<xad:DigestMethod Algorithm=\"" SDR_PES_SHA256 "\"></xad:DigestMethod>");
	append_element(s, "xad:DigestValue", options->policy_hash);
	g_string_append(s, "</xad:SigPolicyHash>");
	if (options->policy_uri != NULL && *options->policy_uri != 0) {
		g_string_append(s, "<xad:SigPolicyQualifiers><xad:SigPolicyQualifier>");
		append_element(s, "xad:SPURI", options->policy_uri);
		g_string_append(s, "</xad:SigPolicyQualifier></xad:SigPolicyQualifiers>");
	}
	g_string_append(s, "</xad:SignaturePolicyId></xad:SignaturePolicyIdentifier>");
	if (options->city != NULL || options->postal_code != NULL ||
	    options->country_name != NULL) {
		g_string_append(s, "<xad:SignatureProductionPlace>");
		if (options->city != NULL)
			append_element(s, "xad:City", options->city);
		if (options->postal_code != NULL)
			append_element(s, "xad:PostalCode", options->postal_code);
		if (options->country_name != NULL)
			append_element(s, "xad:CountryName", options->country_name);
		g_string_append(s, "</xad:SignatureProductionPlace>");
	}
	g_string_append(s, "<xad:SignerRole><xad:ClaimedRoles>");
	append_element(s, "xad:ClaimedRole", options->claimed_role);
	g_string_append(s, "</xad:ClaimedRoles></xad:SignerRole>"
	                   "</xad:SignedSignatureProperties></xad:SignedProperties>"
	                   "</xad:QualifyingProperties></ds:Object>");
}

static void
build_signed_info(GString *s, const char *target_id, const char *sig_id, const char *method,
                  const guint8 *data_digest, const guint8 *sp_digest)
{
	g_autofree char *d1 = g_base64_encode(data_digest, 32);
	g_autofree char *d2 = g_base64_encode(sp_digest, 32);

	g_string_append(s, "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"" SDR_PES_EXC_C14N
	                   "\"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\"");
	g_string_append(s, method);
	g_string_append(s, "\"></ds:SignatureMethod><ds:Reference URI=\"#");
	append_escaped(s, target_id);
	g_string_append(
	        s, "\"><ds:Transforms><ds:Transform Algorithm=\"" SDR_PES_ENVELOPED
	           "\"></ds:Transform><ds:Transform Algorithm=\"" SDR_PES_EXC_C14N
	           "\"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"" SDR_PES_SHA256
	           "\"></ds:DigestMethod>");
	append_element(s, "ds:DigestValue", d1);
	g_string_append(s, "</ds:Reference><ds:Reference Type=\"" SDR_PES_SP_TYPE "\" URI=\"#");
	append_escaped(s, sig_id);
	g_string_append(
	        s, "_SP\"><ds:Transforms><ds:Transform Algorithm=\"" SDR_PES_EXC_C14N
	           "\"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"" SDR_PES_SHA256
	           "\"></ds:DigestMethod>");
	append_element(s, "ds:DigestValue", d2);
	g_string_append(s, "</ds:Reference></ds:SignedInfo>");
}

/* Canonical digest (SHA-256) of the first element named local in a small fragment. */
static gboolean
fragment_digest(const char *sig_id, const GString *inner, const char *ns, const char *local,
                guint8 *digest, GError **error)
{
	g_autoptr(GString) text =
	        g_string_new("<ds:Signature xmlns:ds=\"" SDR_PES_NS_DS "\" Id=\"");
	xmlDocPtr doc;
	xmlNodePtr node = NULL;
	gboolean ok = FALSE;
	guint dl = 0;

	append_escaped(text, sig_id);
	g_string_append(text, "\">");
	g_string_append_len(text, inner->str, (gssize)inner->len);
	g_string_append(text, "</ds:Signature>");
	doc = sdr_pes_parse_doc((const guint8 *)text->str, text->len, error);
	if (doc == NULL)
		return FALSE;
	/* depth-first search */
	for (xmlNodePtr cur = xmlDocGetRootElement(doc); cur != NULL;) {
		if (sdr_pes_is(cur, ns, local)) {
			node = cur;
			break;
		}
		if (cur->children != NULL) {
			cur = cur->children;
			continue;
		}
		while (cur != NULL && cur->next == NULL)
			cur = cur->parent;
		if (cur != NULL)
			cur = cur->next;
	}
	if (node != NULL)
		ok = sdr_pes_c14n_digest(node, NULL, EVP_sha256(), digest, &dl, error);
	else
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED, "internal: fragment");
	xmlFreeDoc(doc);
	return ok;
}

static char *
unique_id(GHashTable *ids, const char *base)
{
	static const char *const suffixes[] = { "", "_SP" };

	for (guint n = 0; n < 1000; n++) {
		g_autofree char *cand = n == 0 ? g_strdup_printf("%s_SIG", base)
		                               : g_strdup_printf("%s_SIG%u", base, n);
		gboolean avail = TRUE;

		for (guint i = 0; i < G_N_ELEMENTS(suffixes) && avail; i++) {
			g_autofree char *full = g_strconcat(cand, suffixes[i], NULL);

			avail = !g_hash_table_contains(ids, full);
		}
		if (avail) {
			g_hash_table_add(ids, g_strdup(cand));
			g_hash_table_add(ids, g_strconcat(cand, "_SP", NULL));
			g_hash_table_add(ids, g_strconcat(cand, "_SV", NULL));
			return g_steal_pointer(&cand);
		}
	}
	return NULL;
}

static char *
build_signature(SdrSigner *signer, const PesSignerInfo *info, const SdrPesOptions *options,
                GHashTable *ids, const char *target_id, const guint8 *data_digest, GError **error)
{
	g_autofree char *sig_id = unique_id(ids, target_id);
	g_autoptr(GString) object = g_string_new(NULL);
	g_autoptr(GString) signed_info = g_string_new(NULL);
	g_autoptr(GBytes) value = NULL;
	g_autofree char *value_b64 = NULL;
	guint8 sp_digest[EVP_MAX_MD_SIZE];
	guint8 si_digest[EVP_MAX_MD_SIZE];
	GString *out;

	if (sig_id == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED, "no free signature Id");
		return NULL;
	}
	build_object(object, sig_id, info, options);
	if (!fragment_digest(sig_id, object, SDR_PES_NS_XAD, "SignedProperties", sp_digest, error))
		return NULL;
	build_signed_info(signed_info, target_id, sig_id, info->sig_method, data_digest, sp_digest);
	if (!fragment_digest(sig_id, signed_info, SDR_PES_NS_DS, "SignedInfo", si_digest, error))
		return NULL;
	value = sdr_signer_sign_digest(signer, SDR_HASH_SHA256, si_digest, 32, error);
	if (value == NULL)
		return NULL;
	value_b64 = g_base64_encode(g_bytes_get_data(value, NULL), g_bytes_get_size(value));

	out = g_string_sized_new(signed_info->len + object->len + strlen(info->cert_b64) + 512);
	g_string_append(out, "<ds:Signature xmlns:ds=\"" SDR_PES_NS_DS "\" Id=\"");
	append_escaped(out, sig_id);
	g_string_append(out, "\">");
	g_string_append_len(out, signed_info->str, (gssize)signed_info->len);
	g_string_append(out, "<ds:SignatureValue Id=\"");
	append_escaped(out, sig_id);
	g_string_append(out, "_SV\">");
	g_string_append(out, value_b64);
	g_string_append(out, "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
	g_string_append(out, info->cert_b64);
	g_string_append(out, "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>");
	g_string_append_len(out, object->str, (gssize)object->len);
	g_string_append(out, "</ds:Signature>");
	return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------------- */
/* Signing                                                                    */

typedef gboolean (*PesWriteFunc)(gpointer user_data, const void *data, gsize len, GError **error);

/* long: the whole signing transaction: check the targets, sign every SignedInfo first,
 * then splice all signatures into the original bytes (nothing written unless all
 * succeeded) */
static gboolean
pes_sign_run(SdrSigner *signer, const guint8 *data, gsize len, const SdrPesOptions *opts,
             PesWriteFunc write, gpointer user_data, SdrPesSignResult **result_out, GError **error)
{
	SdrPesOptions defaults;
	SdrPesOptions o;
	PesDoc doc = { 0 };
	PesSignerInfo info = { 0 };
	g_autoptr(SdrPesSignResult) result = g_new0(SdrPesSignResult, 1);
	g_autofree char *root_signature = NULL;
	gboolean ok = FALSE;

	sdr_pes_options_init(&defaults);
	o = opts != NULL ? *opts : defaults;
	if (o.policy_identifier == NULL)
		o.policy_identifier = defaults.policy_identifier;
	if (o.policy_description == NULL)
		o.policy_description = defaults.policy_description;
	if (o.policy_hash == NULL)
		o.policy_hash = defaults.policy_hash;
	if (o.policy_uri == NULL)
		o.policy_uri = defaults.policy_uri;
	if (o.claimed_role == NULL || *o.claimed_role == 0)
		o.claimed_role = defaults.claimed_role;
	if (!check_text_option(o.policy_identifier, error) ||
	    !check_text_option(o.policy_description, error) ||
	    !check_text_option(o.policy_hash, error) || !check_text_option(o.policy_uri, error) ||
	    !check_text_option(o.city, error) || !check_text_option(o.postal_code, error) ||
	    !check_text_option(o.country_name, error) || !check_text_option(o.claimed_role, error))
		return FALSE;
	if (len > (o.max_size != 0 ? o.max_size : SDR_PES_MAX_SIZE)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("The PES file is too large."));
		return FALSE;
	}
	result->signed_ids = g_ptr_array_new_with_free_func(g_free);
	result->skipped_ids = g_ptr_array_new_with_free_func(g_free);

	doc.data = data;
	doc.len = len;
	if (!pes_prepare(&doc, &o, TRUE, error))
		goto out;
	result->root = doc.root_mode;

	/* --bordereau Ids must all exist (and bordereau mode is needed for them). */
	if (o.bordereaux != NULL) {
		for (const char *const *p = o.bordereaux; *p != NULL; p++) {
			gboolean found = FALSE;

			for (guint i = 0; !doc.root_mode && i < doc.bordereaux->len && !found; i++)
				found = strcmp(g_array_index(doc.bordereaux, PesBordereau, i).id,
				               *p) == 0;
			if (!found) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
				            _("No bordereau with Id “%s” in the file."), *p);
				goto out;
			}
		}
	}
	if (doc.root_mode) {
		if (doc.root_signed) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED,
			            _("The PES file is already signed."));
			goto out;
		}
	} else {
		guint todo = 0;

		for (guint i = 0; i < doc.bordereaux->len; i++) {
			PesBordereau *b = &g_array_index(doc.bordereaux, PesBordereau, i);

			if (b->selected && b->already_signed)
				g_ptr_array_add(result->skipped_ids, g_strdup(b->id));
			else if (b->selected)
				todo++;
		}
		if (todo == 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED,
			            _("Every bordereau to sign is already signed."));
			goto out;
		}
	}

	/* Sign everything first: nothing is written unless every signature succeeded. */
	if (!pes_signer_info_init(&info, signer, &o, error))
		goto out;
	if (doc.root_mode) {
		root_signature = build_signature(signer, &info, &o, doc.scan->ids,
		                                 doc.scan->root_id, doc.root_digest, error);
		if (root_signature == NULL)
			goto out;
		g_ptr_array_add(result->signed_ids, g_strdup(doc.scan->root_id));
	} else {
		for (guint i = 0; i < doc.bordereaux->len; i++) {
			PesBordereau *b = &g_array_index(doc.bordereaux, PesBordereau, i);

			if (!b->selected || b->already_signed)
				continue;
			b->signature = build_signature(signer, &info, &o, doc.scan->ids, b->id,
			                               b->digest, error);
			if (b->signature == NULL)
				goto out;
			g_ptr_array_add(result->signed_ids, g_strdup(b->id));
		}
	}

	/* Splice into the original bytes. */
	{
		gsize pos = 0;

		if (doc.root_mode) {
			gsize off = doc.scan->root_end_offset;

			if (!write(user_data, data, off, error) ||
			    !write(user_data, root_signature, strlen(root_signature), error))
				goto out;
			pos = off;
		} else {
			for (guint i = 0; i < doc.bordereaux->len; i++) {
				PesBordereau *b = &g_array_index(doc.bordereaux, PesBordereau, i);

				if (b->signature == NULL)
					continue;
				g_assert(b->end_offset >= pos);
				if (!write(user_data, data + pos, b->end_offset - pos, error) ||
				    !write(user_data, b->signature, strlen(b->signature), error))
					goto out;
				pos = b->end_offset;
			}
		}
		if (!write(user_data, data + pos, len - pos, error))
			goto out;
	}
	ok = TRUE;
	if (result_out != NULL)
		*result_out = g_steal_pointer(&result);
out:
	pes_signer_info_clear(&info);
	pes_doc_clear(&doc);
	return ok;
}

static gboolean
write_bytes(gpointer user_data, const void *data, gsize len, GError **error)
{
	g_byte_array_append(user_data, data, (guint)len);
	return TRUE;
}

GBytes *
sdr_pes_sign_bytes(SdrSigner *signer, GBytes *pes, const SdrPesOptions *options,
                   SdrPesSignResult **result, GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(pes, &len);
	g_autoptr(GByteArray) out = NULL;

	if (len > G_MAXUINT / 2) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("The PES file is too large."));
		return NULL;
	}
	out = g_byte_array_sized_new((guint)len + 8192);
	if (!pes_sign_run(signer, data != NULL ? data : (const guint8 *)"", len, options,
	                  write_bytes, out, result, error))
		return NULL;
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static gboolean
write_atomic(gpointer user_data, const void *data, gsize len, GError **error)
{
	return sdr_atomic_file_write(user_data, data, len, error);
}

gboolean
sdr_pes_sign_file(SdrSigner *signer, const char *in_path, const char *out_path,
                  const SdrPesOptions *options, SdrPesSignResult **result, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(GMappedFile) map = g_mapped_file_new(in_path, FALSE, &local);
	g_autoptr(SdrAtomicFile) file = NULL;
	g_autoptr(SdrPesSignResult) res = NULL;
	const guint8 *data;
	gsize len;
	gsize cap =
	        options != NULL && options->max_size != 0 ? options->max_size : SDR_PES_MAX_SIZE;

	if (map == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read “%s”: %s"), in_path,
		            local->message);
		return FALSE;
	}
	len = g_mapped_file_get_length(map);
	data = (const guint8 *)g_mapped_file_get_contents(map);
	if (len > cap) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("The PES file is too large."));
		return FALSE;
	}
	/* Check the input before creating the output (nothing written on refusal). */
	if (!sdr_pes_check_encoding(data != NULL ? data : (const guint8 *)"", len, error))
		return FALSE;
	file = sdr_atomic_file_new(out_path, error);
	if (file == NULL)
		return FALSE;
	if (!pes_sign_run(signer, data, len, options, write_atomic, file, &res, error))
		return FALSE;
	if (!sdr_atomic_file_commit(file, error))
		return FALSE;
	if (result != NULL)
		*result = g_steal_pointer(&res);
	return TRUE;
}
