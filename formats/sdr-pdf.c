/* sdr-pdf.c - PDF reading for signing (qpdf C API) and raw scanning for verification. */
#include "sdr-pdf.h"

#include "sdr-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <qpdf/qpdf-c.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 32
#define MAX_ITEMS 100000
#define MAX_REVISIONS 4096

/* ------------------------------------------------------------------ */
/* Ordered dictionaries                                                 */

typedef struct {
	char *key;
	char *value;
} DictEntry;

struct _SdrPdfDict {
	GPtrArray *entries; /* DictEntry* */
};

static void
dict_entry_free(gpointer p)
{
	DictEntry *e = p;

	g_free(e->key);
	g_free(e->value);
	g_free(e);
}

SdrPdfDict *
sdr_pdf_dict_new(void)
{
	SdrPdfDict *d = g_new0(SdrPdfDict, 1);

	d->entries = g_ptr_array_new_with_free_func(dict_entry_free);
	return d;
}

SdrPdfDict *
sdr_pdf_dict_copy(const SdrPdfDict *dict)
{
	SdrPdfDict *d = sdr_pdf_dict_new();

	for (guint i = 0; i < dict->entries->len; i++) {
		const DictEntry *e = g_ptr_array_index(dict->entries, i);

		sdr_pdf_dict_set(d, e->key, e->value);
	}
	return d;
}

void
sdr_pdf_dict_free(SdrPdfDict *dict)
{
	if (dict == NULL) {
		return;
	}
	g_ptr_array_unref(dict->entries);
	g_free(dict);
}

void
sdr_pdf_dict_take(SdrPdfDict *dict, const char *key, char *value)
{
	DictEntry *e;

	for (guint i = 0; i < dict->entries->len; i++) {
		e = g_ptr_array_index(dict->entries, i);
		if (strcmp(e->key, key) == 0) {
			g_free(e->value);
			e->value = value;
			return;
		}
	}
	e = g_new0(DictEntry, 1);
	e->key = g_strdup(key);
	e->value = value;
	g_ptr_array_add(dict->entries, e);
}

void
sdr_pdf_dict_set(SdrPdfDict *dict, const char *key, const char *value)
{
	sdr_pdf_dict_take(dict, key, g_strdup(value));
}

const char *
sdr_pdf_dict_get(const SdrPdfDict *dict, const char *key)
{
	for (guint i = 0; i < dict->entries->len; i++) {
		const DictEntry *e = g_ptr_array_index(dict->entries, i);

		if (strcmp(e->key, key) == 0) {
			return e->value;
		}
	}
	return NULL;
}

void
sdr_pdf_dict_remove(SdrPdfDict *dict, const char *key)
{
	for (guint i = 0; i < dict->entries->len; i++) {
		const DictEntry *e = g_ptr_array_index(dict->entries, i);

		if (strcmp(e->key, key) == 0) {
			g_ptr_array_remove_index(dict->entries, i);
			return;
		}
	}
}

void
sdr_pdf_dict_append_to(const SdrPdfDict *dict, GString *out)
{
	g_string_append(out, "<<");
	for (guint i = 0; i < dict->entries->len; i++) {
		const DictEntry *e = g_ptr_array_index(dict->entries, i);

		g_string_append_c(out, ' ');
		sdr_pdf_append_name(out, e->key);
		g_string_append_c(out, ' ');
		g_string_append(out, e->value);
	}
	g_string_append(out, " >>");
}

/* ------------------------------------------------------------------ */
/* Encoding helpers                                                     */

static gboolean
is_white(guint8 c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static gboolean
is_delim(guint8 c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
	       c == '}' || c == '/' || c == '%';
}

void
sdr_pdf_append_name(GString *out, const char *name)
{
	g_string_append_c(out, '/');
	for (const guint8 *p = (const guint8 *)name; *p != 0; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '#' || is_delim(*p)) {
			g_string_append_printf(out, "#%02X", *p);
		} else {
			g_string_append_c(out, (char)*p);
		}
	}
}

void
sdr_pdf_append_string(GString *out, const guint8 *data, gsize len)
{
	g_string_append_c(out, '(');
	for (gsize i = 0; i < len; i++) {
		guint8 c = data[i];

		if (c == '(' || c == ')' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)c);
		} else if (c == '\r') {
			g_string_append(out, "\\r");
		} else if (c == '\n') {
			g_string_append(out, "\\n");
		} else if (c < 0x20 || c >= 0x7f) {
			g_string_append_printf(out, "\\%03o", c);
		} else {
			g_string_append_c(out, (char)c);
		}
	}
	g_string_append_c(out, ')');
}

void
sdr_pdf_append_text_string(GString *out, const char *utf8)
{
	gboolean ascii = TRUE;
	glong n = 0;
	g_autofree gunichar2 *u16 = NULL;
	g_autofree guint8 *be = NULL;

	for (const char *p = utf8; *p != 0; p++) {
		if ((guint8)*p >= 0x80) {
			ascii = FALSE;
			break;
		}
	}
	if (ascii) {
		sdr_pdf_append_string(out, (const guint8 *)utf8, strlen(utf8));
		return;
	}
	u16 = g_utf8_to_utf16(utf8, -1, NULL, &n, NULL);
	if (u16 == NULL) {
		sdr_pdf_append_string(out, (const guint8 *)"?", 1);
		return;
	}
	be = g_malloc((gsize)n * 2 + 2);
	be[0] = 0xfe;
	be[1] = 0xff;
	for (glong i = 0; i < n; i++) {
		be[2 + 2 * i] = (guint8)(u16[i] >> 8);
		be[3 + 2 * i] = (guint8)(u16[i] & 0xff);
	}
	sdr_pdf_append_string(out, be, (gsize)n * 2 + 2);
}

char *
sdr_pdf_date(GDateTime *t)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);

	return g_date_time_format(utc, "D:%Y%m%d%H%M%SZ");
}

GDateTime *
sdr_pdf_date_parse(const char *text)
{
	int f[6] = { 0, 1, 1, 0, 0, 0 };
	int widths[6] = { 4, 2, 2, 2, 2, 2 };
	const char *p = text;
	int off_sign = 0, off_h = 0, off_m = 0;
	g_autoptr(GTimeZone) tz = NULL;

	if (p == NULL) {
		return NULL;
	}
	if (g_str_has_prefix(p, "D:")) {
		p += 2;
	}
	for (int i = 0; i < 6; i++) {
		int v = 0;

		if (!g_ascii_isdigit(p[0])) {
			if (i == 0) {
				return NULL;
			}
			break;
		}
		for (int k = 0; k < widths[i]; k++) {
			if (!g_ascii_isdigit(p[k])) {
				return NULL;
			}
			v = v * 10 + (p[k] - '0');
		}
		f[i] = v;
		p += widths[i];
	}
	if (*p != 0 && *p != 'Z' && *p != '+' && *p != '-') {
		return NULL;
	}
	if (*p == '+' || *p == '-') {
		off_sign = *p == '+' ? 1 : -1;
		p++;
		if (g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1])) {
			off_h = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
			if (*p == '\'') {
				p++;
			}
			if (g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1])) {
				off_m = (p[0] - '0') * 10 + (p[1] - '0');
			}
		}
	}
	if (off_h > 23 || off_m > 59) {
		return NULL;
	}
	tz = g_time_zone_new_offset(off_sign * (off_h * 3600 + off_m * 60));
	return g_date_time_new(tz, f[0], f[1], f[2], f[3], f[4], f[5]);
}

/* ------------------------------------------------------------------ */
/* Tokenizer (raw bytes)                                                */

typedef enum {
	TOK_EOF = 0,
	TOK_ERR,
	TOK_NAME,
	TOK_NUM,
	TOK_STR,
	TOK_HEX,
	TOK_BADHEX, /* <...> with characters that are not hex digits */
	TOK_ARR_OPEN,
	TOK_ARR_CLOSE,
	TOK_DICT_OPEN,
	TOK_DICT_CLOSE,
	TOK_KEYWORD,
} TokType;

typedef struct {
	TokType type;
	gsize start;
	gsize end;
} Tok;

static gsize
skip_ws(const guint8 *d, gsize len, gsize pos)
{
	while (pos < len) {
		if (is_white(d[pos])) {
			pos++;
		} else if (d[pos] == '%') {
			while (pos < len && d[pos] != '\n' && d[pos] != '\r') {
				pos++;
			}
		} else {
			break;
		}
	}
	return pos;
}

static Tok
lex(const guint8 *d, gsize len, gsize *ppos)
{
	Tok t = { TOK_EOF, 0, 0 };
	gsize pos = skip_ws(d, len, *ppos);

	t.start = pos;
	if (pos >= len) {
		t.end = pos;
		*ppos = pos;
		return t;
	}
	switch (d[pos]) {
	case '/':
		pos++;
		while (pos < len && !is_white(d[pos]) && !is_delim(d[pos])) {
			pos++;
		}
		t.type = TOK_NAME;
		break;
	case '[':
		pos++;
		t.type = TOK_ARR_OPEN;
		break;
	case ']':
		pos++;
		t.type = TOK_ARR_CLOSE;
		break;
	case '<':
		if (pos + 1 < len && d[pos + 1] == '<') {
			pos += 2;
			t.type = TOK_DICT_OPEN;
			break;
		}
		pos++;
		t.type = TOK_HEX;
		while (pos < len && d[pos] != '>') {
			if (!g_ascii_isxdigit(d[pos]) && !is_white(d[pos])) {
				if (d[pos] == '<') {
					break;
				}
				t.type = TOK_BADHEX;
			}
			pos++;
		}
		if (pos >= len || d[pos] != '>') {
			t.type = TOK_ERR;
			break;
		}
		pos++;
		break;
	case '>':
		if (pos + 1 < len && d[pos + 1] == '>') {
			pos += 2;
			t.type = TOK_DICT_CLOSE;
		} else {
			t.type = TOK_ERR;
		}
		break;
	case '(': {
		int depth = 0;

		for (; pos < len; pos++) {
			if (d[pos] == '\\') {
				pos++;
			} else if (d[pos] == '(') {
				depth++;
			} else if (d[pos] == ')') {
				depth--;
				if (depth == 0) {
					break;
				}
			}
		}
		if (pos >= len) {
			t.type = TOK_ERR;
			break;
		}
		pos++;
		t.type = TOK_STR;
		break;
	}
	case ')':
	case '{':
	case '}':
		pos++;
		t.type = TOK_KEYWORD;
		break;
	default:
		if (g_ascii_isdigit(d[pos]) || d[pos] == '+' || d[pos] == '-' || d[pos] == '.') {
			pos++;
			while (pos < len && (g_ascii_isdigit(d[pos]) || d[pos] == '.')) {
				pos++;
			}
			t.type = TOK_NUM;
			break;
		}
		while (pos < len && !is_white(d[pos]) && !is_delim(d[pos])) {
			pos++;
		}
		t.type = TOK_KEYWORD;
		break;
	}
	t.end = pos;
	*ppos = pos;
	return t;
}

static gboolean
tok_is(const guint8 *d, Tok t, const char *s)
{
	gsize n = strlen(s);

	return t.end - t.start == n && memcmp(d + t.start, s, n) == 0;
}

/* Parses a non-negative integer token; FALSE when it is not one. */
static gboolean
tok_int(const guint8 *d, Tok t, gint64 *out)
{
	gint64 v = 0;
	gsize i = t.start;
	gboolean neg = FALSE;

	if (t.type != TOK_NUM || t.start == t.end) {
		return FALSE;
	}
	if (d[i] == '+' || d[i] == '-') {
		neg = d[i] == '-';
		i++;
	}
	if (i == t.end) {
		return FALSE;
	}
	for (; i < t.end; i++) {
		if (!g_ascii_isdigit(d[i])) {
			return FALSE;
		}
		if (v > (G_MAXINT64 - 9) / 10) {
			return FALSE;
		}
		v = v * 10 + (d[i] - '0');
	}
	*out = neg ? -v : v;
	return TRUE;
}

/* Skips one value (scalars, refs, arrays, dicts) starting at *pos. Returns the first
 * token of the value; *pos is after the value. */
static gboolean
skip_value(const guint8 *d, gsize len, gsize *pos, Tok *first, int depth)
{
	Tok t = lex(d, len, pos);

	*first = t;
	if (depth > MAX_DEPTH) {
		return FALSE;
	}
	switch (t.type) {
	case TOK_EOF:
	case TOK_ERR:
	case TOK_ARR_CLOSE:
	case TOK_DICT_CLOSE:
		return FALSE;
	case TOK_ARR_OPEN:
		for (int n = 0; n < MAX_ITEMS; n++) {
			gsize save = *pos;
			Tok u = lex(d, len, pos);
			Tok dummy;

			if (u.type == TOK_ARR_CLOSE) {
				return TRUE;
			}
			*pos = save;
			if (!skip_value(d, len, pos, &dummy, depth + 1)) {
				return FALSE;
			}
		}
		return FALSE;
	case TOK_DICT_OPEN:
		for (int n = 0; n < MAX_ITEMS; n++) {
			Tok k = lex(d, len, pos);
			Tok dummy;

			if (k.type == TOK_DICT_CLOSE) {
				return TRUE;
			}
			if (k.type != TOK_NAME) {
				return FALSE;
			}
			if (!skip_value(d, len, pos, &dummy, depth + 1)) {
				return FALSE;
			}
		}
		return FALSE;
	case TOK_NUM: {
		/* "N G R" */
		gsize save = *pos;
		Tok g = lex(d, len, pos);
		Tok r;

		if (g.type == TOK_NUM) {
			r = lex(d, len, pos);
			if (r.type == TOK_KEYWORD && tok_is(d, r, "R")) {
				return TRUE;
			}
		}
		*pos = save;
		return TRUE;
	}
	default:
		return TRUE;
	}
}

typedef gboolean (*DictKeyFunc)(const guint8 *d, gsize len, Tok key, Tok value, gsize value_end,
                                gpointer user_data);

/* Walks the top-level keys of the dictionary whose "<<" is at or after *pos. */
static gboolean
walk_dict(const guint8 *d, gsize len, gsize *pos, DictKeyFunc func, gpointer user_data)
{
	Tok t = lex(d, len, pos);

	if (t.type != TOK_DICT_OPEN) {
		return FALSE;
	}
	for (int n = 0; n < MAX_ITEMS; n++) {
		Tok k = lex(d, len, pos);
		Tok v;

		if (k.type == TOK_DICT_CLOSE) {
			return TRUE;
		}
		if (k.type != TOK_NAME) {
			return FALSE;
		}
		if (!skip_value(d, len, pos, &v, 0)) {
			return FALSE;
		}
		if (func != NULL && !func(d, len, k, v, *pos, user_data)) {
			return FALSE;
		}
	}
	return FALSE;
}

/* Literal string token to bytes (escapes decoded). */
static GBytes *
decode_literal(const guint8 *d, Tok t)
{
	GByteArray *out = g_byte_array_new();

	for (gsize i = t.start + 1; i + 1 < t.end; i++) {
		guint8 c = d[i];

		if (c != '\\') {
			g_byte_array_append(out, &c, 1);
			continue;
		}
		i++;
		if (i + 1 >= t.end + 0 && i >= t.end - 1) {
			break;
		}
		c = d[i];
		switch (c) {
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case '\r':
			if (i + 1 < t.end && d[i + 1] == '\n') {
				i++;
			}
			continue;
		case '\n':
			continue;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';

				for (int k = 0; k < 2 && i + 1 < t.end - 1 && d[i + 1] >= '0' &&
				                d[i + 1] <= '7';
				     k++) {
					i++;
					v = v * 8 + (d[i] - '0');
				}
				c = (guint8)v;
			}
			break;
		}
		g_byte_array_append(out, &c, 1);
	}
	return g_byte_array_free_to_bytes(out);
}

static GBytes *
decode_hex(const guint8 *d, Tok t)
{
	GByteArray *out = g_byte_array_sized_new((guint)((t.end - t.start) / 2 + 1));
	int half = -1;

	for (gsize i = t.start + 1; i + 1 < t.end; i++) {
		int v;

		if (!g_ascii_isxdigit(d[i])) {
			continue;
		}
		v = g_ascii_xdigit_value(d[i]);
		if (half < 0) {
			half = v;
		} else {
			guint8 b = (guint8)(half * 16 + v);

			g_byte_array_append(out, &b, 1);
			half = -1;
		}
	}
	if (half >= 0) {
		guint8 b = (guint8)(half * 16);

		g_byte_array_append(out, &b, 1);
	}
	return g_byte_array_free_to_bytes(out);
}

static char *
tok_text(const guint8 *d, Tok t)
{
	if (t.type == TOK_STR) {
		g_autoptr(GBytes) b = decode_literal(d, t);
		gsize n;
		const char *p = g_bytes_get_data(b, &n);

		return g_strndup(p, n);
	}
	if (t.type == TOK_NAME) {
		return g_strndup((const char *)d + t.start + 1, t.end - t.start - 1);
	}
	return g_strndup((const char *)d + t.start, t.end - t.start);
}

/* ------------------------------------------------------------------ */
/* Reading a document with qpdf                                         */

typedef struct {
	int fd;
	const guint8 *mem;
	gsize len;
} RawSource;

static gboolean
raw_read(const RawSource *src, guint64 off, guint8 *buf, gsize n, gsize *got)
{
	if (off >= src->len) {
		*got = 0;
		return TRUE;
	}
	if (n > src->len - off) {
		n = (gsize)(src->len - off);
	}
	if (src->mem != NULL) {
		memcpy(buf, src->mem + off, n);
		*got = n;
		return TRUE;
	}
	{
		gsize done = 0;

		while (done < n) {
			ssize_t r = pread(src->fd, buf + done, n - done, (off_t)(off + done));

			if (r < 0 && errno == EINTR) {
				continue;
			}
			if (r <= 0) {
				return FALSE;
			}
			done += (gsize)r;
		}
		*got = done;
	}
	return TRUE;
}

/* Finds the last startxref value and what is at that offset. */
static gboolean
find_startxref(const RawSource *src, guint64 *startxref, gboolean *is_stream, GError **error)
{
	guint8 tail[2048];
	guint8 head[512];
	gsize got = 0, n, pos;
	guint64 off = src->len > sizeof tail ? src->len - sizeof tail : 0;
	gssize found = -1;
	gint64 v;
	Tok t;

	if (!raw_read(src, off, tail, sizeof tail, &got) || got < 9) {
		goto bad;
	}
	for (gsize i = 0; i + 9 <= got; i++) {
		if (memcmp(tail + i, "startxref", 9) == 0) {
			found = (gssize)i;
		}
	}
	if (found < 0) {
		goto bad;
	}
	pos = (gsize)found + 9;
	t = lex(tail, got, &pos);
	if (!tok_int(tail, t, &v) || v <= 0 || (guint64)v >= src->len) {
		goto bad;
	}
	*startxref = (guint64)v;
	if (!raw_read(src, *startxref, head, sizeof head, &n) || n < 4) {
		goto bad;
	}
	if (memcmp(head, "xref", 4) == 0) {
		*is_stream = FALSE;
		return TRUE;
	}
	{
		gsize p = 0;
		Tok a = lex(head, n, &p), b = lex(head, n, &p), c = lex(head, n, &p);
		gint64 x;

		if (!tok_int(head, a, &x) || !tok_int(head, b, &x) || c.type != TOK_KEYWORD ||
		    !tok_is(head, c, "obj")) {
			goto bad;
		}
		if (memmem(head, n, "/XRef", 5) == NULL) {
			goto bad;
		}
		*is_stream = TRUE;
		return TRUE;
	}
bad:
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
	            _("The PDF file is damaged: its last cross-reference section cannot be found"));
	return FALSE;
}

static void
page_free(gpointer p)
{
	SdrPdfPage *page = p;

	sdr_pdf_dict_free(page->dict);
	if (page->annots != NULL) {
		g_ptr_array_unref(page->annots);
	}
	g_free(page);
}

void
sdr_pdf_doc_free(SdrPdfDoc *doc)
{
	if (doc == NULL) {
		return;
	}
	g_free(doc->path);
	g_free(doc->version);
	g_free(doc->info_value);
	if (doc->id0 != NULL) {
		g_bytes_unref(doc->id0);
	}
	sdr_pdf_dict_free(doc->catalog);
	sdr_pdf_dict_free(doc->acroform);
	if (doc->fields != NULL) {
		g_ptr_array_unref(doc->fields);
	}
	if (doc->field_names != NULL) {
		g_ptr_array_unref(doc->field_names);
	}
	if (doc->field_list != NULL) {
		g_ptr_array_unref(doc->field_list);
	}
	if (doc->pages != NULL) {
		g_ptr_array_unref(doc->pages);
	}
	sdr_pdf_dict_free(doc->dss);
	g_clear_pointer(&doc->dss_certs, g_ptr_array_unref);
	g_clear_pointer(&doc->dss_ocsps, g_ptr_array_unref);
	g_clear_pointer(&doc->dss_crls, g_ptr_array_unref);
	g_free(doc);
}

static void
field_free(gpointer p)
{
	SdrPdfField *f = p;

	g_free(f->name);
	sdr_pdf_dict_free(f->dict);
	g_free(f);
}

SdrPdfField *
sdr_pdf_doc_find_field(SdrPdfDoc *doc, const char *name)
{
	for (guint i = 0; doc->field_list != NULL && i < doc->field_list->len; i++) {
		SdrPdfField *f = g_ptr_array_index(doc->field_list, i);

		if (g_strcmp0(f->name, name) == 0) {
			return f;
		}
	}
	return NULL;
}

SdrPdfPage *
sdr_pdf_doc_get_page(SdrPdfDoc *doc, int index)
{
	for (guint i = 0; i < doc->pages->len; i++) {
		SdrPdfPage *p = g_ptr_array_index(doc->pages, i);

		if (p->index == index) {
			return p;
		}
	}
	return NULL;
}

static GPtrArray *
oh_keys(qpdf_data q, qpdf_oh dict)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);

	qpdf_oh_begin_dict_key_iter(q, dict);
	while (qpdf_oh_dict_more_keys(q) && keys->len < MAX_ITEMS) {
		g_ptr_array_add(keys, g_strdup(qpdf_oh_dict_next_key(q)));
	}
	return keys;
}

static SdrPdfDict *
dict_from_oh(qpdf_data q, qpdf_oh dict, const char *skip)
{
	g_autoptr(GPtrArray) keys = oh_keys(q, dict);
	SdrPdfDict *d = sdr_pdf_dict_new();

	for (guint i = 0; i < keys->len; i++) {
		const char *k = g_ptr_array_index(keys, i);
		qpdf_oh v;

		if (k[0] != '/' || (skip != NULL && strcmp(k, skip) == 0)) {
			continue;
		}
		v = qpdf_oh_get_key(q, dict, k);
		sdr_pdf_dict_set(d, k + 1, qpdf_oh_unparse(q, v));
		qpdf_oh_release(q, v);
	}
	return d;
}

static GPtrArray *
array_items(qpdf_data q, qpdf_oh arr)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
	int n;

	if (!qpdf_oh_is_array(q, arr)) {
		return items;
	}
	n = qpdf_oh_get_array_n_items(q, arr);
	for (int i = 0; i < n && i < MAX_ITEMS; i++) {
		qpdf_oh it = qpdf_oh_get_array_item(q, arr, i);

		g_ptr_array_add(items, g_strdup(qpdf_oh_unparse(q, it)));
		qpdf_oh_release(q, it);
	}
	return items;
}

/* An inheritable page attribute: the page's own or its nearest ancestor's. */
static qpdf_oh
page_inherited(qpdf_data q, qpdf_oh page, const char *key)
{
	qpdf_oh node = page;

	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		qpdf_oh parent;

		if (qpdf_oh_has_key(q, node, key)) {
			return qpdf_oh_get_key(q, node, key);
		}
		if (!qpdf_oh_has_key(q, node, "/Parent")) {
			break;
		}
		parent = qpdf_oh_get_key(q, node, "/Parent");
		if (!qpdf_oh_is_dictionary(q, parent)) {
			break;
		}
		node = parent;
	}
	return qpdf_oh_new_null(q);
}

static SdrPdfPage *
load_page(qpdf_data q, int index)
{
	qpdf_oh page = qpdf_get_page_n(q, (size_t)index);
	qpdf_oh box, rot, annots;
	SdrPdfPage *p = g_new0(SdrPdfPage, 1);

	p->index = index;
	p->num = qpdf_oh_get_object_id(q, page);
	p->gen = qpdf_oh_get_generation(q, page);
	p->dict = dict_from_oh(q, page, "/Annots");
	annots = qpdf_oh_get_key(q, page, "/Annots");
	p->annots = array_items(q, annots);
	p->media_box[2] = 612;
	p->media_box[3] = 792;
	box = page_inherited(q, page, "/MediaBox");
	if (qpdf_oh_is_array(q, box) && qpdf_oh_get_array_n_items(q, box) == 4) {
		for (int i = 0; i < 4; i++) {
			qpdf_oh it = qpdf_oh_get_array_item(q, box, i);

			p->media_box[i] = qpdf_oh_get_numeric_value(q, it);
		}
	}
	rot = page_inherited(q, page, "/Rotate");
	if (qpdf_oh_is_integer(q, rot)) {
		long long r = qpdf_oh_get_int_value(q, rot) % 360;

		if (r < 0) {
			r += 360;
		}
		p->rotate = (int)(r / 90) * 90;
	}
	return p;
}

static SdrPdfField *
load_field(qpdf_data q, qpdf_oh f)
{
	SdrPdfField *fd = g_new0(SdrPdfField, 1);
	qpdf_oh ft = qpdf_oh_get_key(q, f, "/FT");
	qpdf_oh rect = qpdf_oh_get_key(q, f, "/Rect");
	qpdf_oh page = qpdf_oh_get_key(q, f, "/P");

	fd->name = g_strdup(qpdf_oh_get_utf8_value(q, qpdf_oh_get_key(q, f, "/T")));
	fd->num = qpdf_oh_get_object_id(q, f);
	fd->gen = qpdf_oh_get_generation(q, f);
	fd->is_sig = qpdf_oh_is_name_and_equals(q, ft, "/Sig");
	fd->has_value =
	        qpdf_oh_has_key(q, f, "/V") && !qpdf_oh_is_null(q, qpdf_oh_get_key(q, f, "/V"));
	fd->is_widget =
	        qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, f, "/Subtype"), "/Widget") &&
	        !qpdf_oh_has_key(q, f, "/Kids");
	fd->dict = dict_from_oh(q, f, NULL);
	if (qpdf_oh_is_array(q, rect) && qpdf_oh_get_array_n_items(q, rect) == 4) {
		for (int i = 0; i < 4; i++) {
			fd->rect[i] =
			        qpdf_oh_get_numeric_value(q, qpdf_oh_get_array_item(q, rect, i));
		}
	}
	fd->page_index = -1;
	if (qpdf_oh_is_indirect(q, page) && qpdf_oh_is_dictionary(q, page)) {
		qpdf_oh rot = page_inherited(q, page, "/Rotate");

		fd->page_index = qpdf_find_page_by_oh(q, page);
		if (qpdf_oh_is_integer(q, rot)) {
			long long r = qpdf_oh_get_int_value(q, rot) % 360;

			fd->rotate = (int)((r < 0 ? r + 360 : r) / 90) * 90;
		}
	}
	/* A /P that is not a page leaves an error behind: not the document's fault. */
	if (fd->page_index < 0) {
		while (qpdf_has_error(q)) {
			(void)qpdf_get_error(q);
		}
	}
	return fd;
}

/* long: reads what the PDF code needs from one qpdf handle (trailer /ID /Size /Info,
 * /AcroForm /Fields, /Perms /DocMDP, /DSS), with qpdf's C error check after each call. */
static SdrPdfDoc *
doc_from_qpdf(qpdf_data q, const RawSource *src, const int *load_pages, GError **error)
{
	g_autoptr(SdrPdfDoc) doc = g_new0(SdrPdfDoc, 1);
	qpdf_oh trailer, root, size, id;

	if (qpdf_is_encrypted(q)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("The PDF file is encrypted: encrypted PDF files are not supported"));
		return NULL;
	}
	doc->file_size = src->len;
	/* qpdf reads a file without a "%PDF-" header (with a warning), the verifier does not:
	 * refuse what we could not verify afterwards. */
	{
		guint8 head[1024];
		gsize got = 0;

		if (!raw_read(src, 0, head, sizeof head, &got) ||
		    memmem(head, got, "%PDF-", 5) == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
			            _("The file has no PDF header: it is not a PDF file"));
			return NULL;
		}
	}
	if (!find_startxref(src, &doc->startxref, &doc->xref_stream, error)) {
		return NULL;
	}
	doc->version = g_strdup(qpdf_get_pdf_version(q));
	trailer = qpdf_get_trailer(q);
	size = qpdf_oh_get_key(q, trailer, "/Size");
	if (!qpdf_oh_is_integer(q, size) || qpdf_oh_get_int_value(q, size) < 1 ||
	    qpdf_oh_get_int_value(q, size) > 8388607) {
		goto damaged;
	}
	doc->size = qpdf_oh_get_int_value(q, size);
	root = qpdf_get_root(q);
	if (!qpdf_oh_is_dictionary(q, root) || !qpdf_oh_is_indirect(q, root)) {
		goto damaged;
	}
	doc->root_num = qpdf_oh_get_object_id(q, root);
	doc->root_gen = qpdf_oh_get_generation(q, root);
	if (qpdf_oh_has_key(q, trailer, "/Info")) {
		qpdf_oh info = qpdf_oh_get_key(q, trailer, "/Info");

		if (qpdf_oh_is_indirect(q, info)) {
			doc->info_value = g_strdup(qpdf_oh_unparse(q, info));
		}
	}
	id = qpdf_oh_get_key(q, trailer, "/ID");
	if (qpdf_oh_is_array(q, id) && qpdf_oh_get_array_n_items(q, id) >= 1) {
		qpdf_oh id0 = qpdf_oh_get_array_item(q, id, 0);
		size_t n = 0;
		const char *v;

		if (qpdf_oh_is_string(q, id0)) {
			v = qpdf_oh_get_binary_string_value(q, id0, &n);
			if (v != NULL && n > 0 && n <= 64) {
				doc->id0 = g_bytes_new(v, n);
			}
		}
	}
	doc->catalog = dict_from_oh(q, root, NULL);
	doc->fields = g_ptr_array_new_with_free_func(g_free);
	doc->field_names = g_ptr_array_new_with_free_func(g_free);
	doc->field_list = g_ptr_array_new_with_free_func(field_free);
	if (qpdf_oh_has_key(q, root, "/AcroForm")) {
		qpdf_oh af = qpdf_oh_get_key(q, root, "/AcroForm");

		if (qpdf_oh_is_dictionary(q, af)) {
			qpdf_oh fields = qpdf_oh_get_key(q, af, "/Fields");
			int n;

			if (qpdf_oh_is_indirect(q, af)) {
				doc->acroform_num = qpdf_oh_get_object_id(q, af);
				doc->acroform_gen = qpdf_oh_get_generation(q, af);
			}
			doc->acroform = dict_from_oh(q, af, "/Fields");
			g_ptr_array_unref(doc->fields);
			doc->fields = array_items(q, fields);
			n = qpdf_oh_is_array(q, fields) ? qpdf_oh_get_array_n_items(q, fields) : 0;
			for (int i = 0; i < n && i < MAX_ITEMS; i++) {
				qpdf_oh f = qpdf_oh_get_array_item(q, fields, i);
				qpdf_oh t = qpdf_oh_get_key_if_dict(q, f, "/T");

				if (qpdf_oh_is_string(q, t)) {
					g_ptr_array_add(doc->field_names,
					                g_strdup(qpdf_oh_get_utf8_value(q, t)));
					if (qpdf_oh_is_indirect(q, f)) {
						g_ptr_array_add(doc->field_list, load_field(q, f));
					}
				}
			}
		}
	}
	{
		qpdf_oh perms = qpdf_oh_get_key_if_dict(q, root, "/Perms");
		qpdf_oh mdp = qpdf_oh_get_key_if_dict(q, perms, "/DocMDP");

		if (qpdf_oh_is_dictionary(q, mdp)) {
			qpdf_oh refs = qpdf_oh_get_key(q, mdp, "/Reference");
			int n = qpdf_oh_is_array(q, refs) ? qpdf_oh_get_array_n_items(q, refs) : 0;

			doc->docmdp_p = 2; /* the default of /P */
			for (int i = 0; i < n && i < 16; i++) {
				qpdf_oh r = qpdf_oh_get_array_item(q, refs, i);
				qpdf_oh tp = qpdf_oh_get_key_if_dict(q, r, "/TransformParams");
				qpdf_oh pv = qpdf_oh_get_key_if_dict(q, tp, "/P");

				if (qpdf_oh_is_name_and_equals(
				            q, qpdf_oh_get_key_if_dict(q, r, "/TransformMethod"),
				            "/DocMDP") &&
				    qpdf_oh_is_integer(q, pv)) {
					doc->docmdp_p =
					        (int)CLAMP(qpdf_oh_get_int_value(q, pv), 1, 3);
				}
			}
		}
	}
	if (qpdf_oh_has_key(q, root, "/DSS")) {
		qpdf_oh dss = qpdf_oh_get_key(q, root, "/DSS");

		if (qpdf_oh_is_dictionary(q, dss)) {
			qpdf_oh a;

			doc->dss = dict_from_oh(q, dss, NULL);
			sdr_pdf_dict_remove(doc->dss, "Certs");
			sdr_pdf_dict_remove(doc->dss, "OCSPs");
			sdr_pdf_dict_remove(doc->dss, "CRLs");
			a = qpdf_oh_get_key(q, dss, "/Certs");
			doc->dss_certs = array_items(q, a);
			a = qpdf_oh_get_key(q, dss, "/OCSPs");
			doc->dss_ocsps = array_items(q, a);
			a = qpdf_oh_get_key(q, dss, "/CRLs");
			doc->dss_crls = array_items(q, a);
		}
	}
	doc->n_pages = qpdf_get_num_pages(q);
	if (doc->n_pages < 0 || qpdf_has_error(q)) {
		goto damaged;
	}
	doc->pages = g_ptr_array_new_with_free_func(page_free);
	for (const int *lp = load_pages; lp != NULL && *lp >= 0; lp++) {
		SdrPdfPage *p;

		if (*lp >= doc->n_pages) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("The document has no page %d (it has %d pages)"), *lp + 1,
			            doc->n_pages);
			return NULL;
		}
		if (sdr_pdf_doc_get_page(doc, *lp) != NULL) {
			continue;
		}
		p = load_page(q, *lp);
		g_ptr_array_add(doc->pages, p);
		if (p->num <= 0 || p->num >= doc->size) {
			goto damaged;
		}
	}
	if (doc->root_num >= doc->size || doc->acroform_num >= doc->size || qpdf_has_error(q)) {
		goto damaged;
	}
	return g_steal_pointer(&doc);
damaged:
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
	            _("The PDF file is damaged: its structure (trailer, catalog or pages) is "
	              "invalid"));
	return NULL;
}

void
sdr_pdf_qpdf_close(void *qpdf_data_ptr)
{
	qpdf_data *q = qpdf_data_ptr;

	if (q == NULL || *q == NULL) {
		return;
	}
	while (qpdf_has_error(*q)) {
		(void)qpdf_get_error(*q);
	}
	while (qpdf_more_warnings(*q)) {
		(void)qpdf_next_warning(*q);
	}
	qpdf_cleanup(q);
}

static qpdf_data
qpdf_new_quiet(void)
{
	qpdf_data q = qpdf_init();

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	qpdf_set_attempt_recovery(q, QPDF_FALSE);
	return q;
}

gboolean
sdr_pdf_qpdf_error_is_encryption(void *qpdf_data_handle, void *qpdf_error_handle)
{
	qpdf_data q = qpdf_data_handle;
	qpdf_error e = qpdf_error_handle;
	const char *detail;

	if (q == NULL || e == NULL) {
		return FALSE;
	}
	if (qpdf_get_error_code(q, e) == qpdf_e_password) {
		return TRUE;
	}
	detail = qpdf_get_error_message_detail(q, e);
	return qpdf_get_error_code(q, e) == qpdf_e_unsupported && detail != NULL &&
	       strstr(detail, "encryption") != NULL;
}

static gboolean
check_read(qpdf_data q, QPDF_ERROR_CODE rc, GError **error)
{
	if ((rc & QPDF_ERRORS) == 0 && !qpdf_has_error(q)) {
		return TRUE;
	}
	if (qpdf_has_error(q)) {
		qpdf_error e = qpdf_get_error(q);

		if (sdr_pdf_qpdf_error_is_encryption(q, e)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			            _("The PDF file is encrypted: encrypted PDF files are not "
			              "supported"));
			return FALSE;
		}
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("The PDF file is damaged: %s"),
		            qpdf_get_error_message_detail(q, e));
		return FALSE;
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("The PDF file cannot be read"));
	return FALSE;
}

SdrPdfDoc *
sdr_pdf_doc_open(const char *path, const int *load_pages, GError **error)
{
	qpdf_data q = NULL;
	RawSource src = { -1, NULL, 0 };
	SdrPdfDoc *doc = NULL;
	struct stat st;

	src.fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (src.fd < 0 || fstat(src.fd, &st) != 0) {
		int e = errno;

		g_set_error(error, SDR_ERROR, e == ENOENT ? SDR_ERROR_NOT_FOUND : SDR_ERROR_IO,
		            _("Cannot open %s: %s"), path, g_strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("%s is not a regular file"), path);
		goto out;
	}
	src.len = (gsize)st.st_size;
	q = qpdf_new_quiet();
	if (!check_read(q, qpdf_read(q, path, NULL), error)) {
		goto out;
	}
	doc = doc_from_qpdf(q, &src, load_pages, error);
	if (doc != NULL) {
		doc->path = g_strdup(path);
	}
out:
	if (q != NULL) {
		sdr_pdf_qpdf_close(&q);
	}
	if (src.fd >= 0) {
		close(src.fd);
	}
	return doc;
}

SdrPdfDoc *
sdr_pdf_doc_open_memory(const guint8 *data, gsize len, const int *load_pages, GError **error)
{
	qpdf_data q = qpdf_new_quiet();
	RawSource src = { -1, data, len };
	SdrPdfDoc *doc = NULL;

	if (check_read(q, qpdf_read_memory(q, "memory", (const char *)data, len, NULL), error)) {
		doc = doc_from_qpdf(q, &src, load_pages, error);
	}
	sdr_pdf_qpdf_close(&q);
	return doc;
}

/* ------------------------------------------------------------------ */
/* Incremental updates                                                  */

typedef struct {
	int num;
	int gen;
	GBytes *body;
	gssize offset;      /* of "N G obj", relative to the update start, after finish */
	gssize body_offset; /* of the body */
} UpdObj;

struct _SdrPdfUpdate {
	SdrPdfDoc *doc;
	GArray *objs; /* UpdObj */
	int next_num;
};

static void
updobj_clear(gpointer p)
{
	UpdObj *o = p;

	g_bytes_unref(o->body);
}

SdrPdfUpdate *
sdr_pdf_update_new(SdrPdfDoc *doc)
{
	SdrPdfUpdate *u = g_new0(SdrPdfUpdate, 1);

	u->doc = doc;
	u->objs = g_array_new(FALSE, TRUE, sizeof(UpdObj));
	g_array_set_clear_func(u->objs, updobj_clear);
	u->next_num = (int)doc->size;
	return u;
}

void
sdr_pdf_update_free(SdrPdfUpdate *update)
{
	if (update == NULL) {
		return;
	}
	g_array_unref(update->objs);
	g_free(update);
}

int
sdr_pdf_update_alloc(SdrPdfUpdate *update)
{
	return update->next_num++;
}

void
sdr_pdf_update_set_object(SdrPdfUpdate *update, int num, int gen, const char *body, gsize len)
{
	UpdObj o = { num, gen, g_bytes_new(body, len), -1, -1 };

	for (guint i = 0; i < update->objs->len; i++) {
		UpdObj *e = &g_array_index(update->objs, UpdObj, i);

		if (e->num == num) {
			g_bytes_unref(e->body);
			*e = o;
			return;
		}
	}
	g_array_append_val(update->objs, o);
}

void
sdr_pdf_update_set_stream(SdrPdfUpdate *update, int num, const SdrPdfDict *dict, const guint8 *data,
                          gsize len)
{
	g_autoptr(SdrPdfDict) d = sdr_pdf_dict_copy(dict);
	g_autoptr(GString) s = g_string_new(NULL);

	sdr_pdf_dict_take(d, "Length", g_strdup_printf("%" G_GSIZE_FORMAT, len));
	sdr_pdf_dict_append_to(d, s);
	g_string_append(s, "\nstream\n");
	g_string_append_len(s, (const char *)data, (gssize)len);
	g_string_append(s, "\nendstream");
	sdr_pdf_update_set_object(update, num, 0, s->str, s->len);
}

static gint
updobj_cmp(gconstpointer a, gconstpointer b)
{
	const UpdObj *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static void
append_trailer_keys(SdrPdfDoc *doc, GString *s, gint64 size, guint64 prev)
{
	guint8 id1[16];

	for (int i = 0; i < 16; i++) {
		id1[i] = (guint8)g_random_int_range(0, 256);
	}
	g_string_append_printf(s, " /Size %" G_GINT64_FORMAT " /Root %d %d R", size, doc->root_num,
	                       doc->root_gen);
	if (doc->info_value != NULL) {
		g_string_append_printf(s, " /Info %s", doc->info_value);
	}
	if (doc->id0 == NULL) {
		doc->id0 = g_bytes_new(id1, sizeof id1);
		for (int i = 0; i < 16; i++) {
			id1[i] = (guint8)g_random_int_range(0, 256);
		}
	}
	g_string_append(s, " /ID [<");
	{
		gsize n;
		const guint8 *p = g_bytes_get_data(doc->id0, &n);

		for (gsize i = 0; i < n; i++) {
			g_string_append_printf(s, "%02X", p[i]);
		}
	}
	g_string_append(s, "> <");
	for (int i = 0; i < 16; i++) {
		g_string_append_printf(s, "%02X", id1[i]);
	}
	g_string_append_printf(s, ">] /Prev %" G_GUINT64_FORMAT, prev);
}

/* long: writes the objects, then the xref table or stream and the trailer of one
 * incremental update; the offsets written first are the entries written last */
void
sdr_pdf_update_finish(SdrPdfUpdate *update, GByteArray *out)
{
	SdrPdfDoc *doc = update->doc;
	guint64 base = doc->file_size;
	gsize start = out->len;
	g_autoptr(GString) s = g_string_new(NULL);
	guint64 xref_off;
	int xref_num = 0;
	gint64 new_size;

	/* A file not ending with an end-of-line gets one (offsets below count it). */
	g_string_append_c(s, '\n');
	if (doc->xref_stream) {
		xref_num = sdr_pdf_update_alloc(update);
	}
	g_array_sort(update->objs, updobj_cmp);
	for (guint i = 0; i < update->objs->len; i++) {
		UpdObj *o = &g_array_index(update->objs, UpdObj, i);
		gsize n;
		const char *p = g_bytes_get_data(o->body, &n);

		o->offset = (gssize)s->len;
		g_string_append_printf(s, "%d %d obj\n", o->num, o->gen);
		o->body_offset = (gssize)s->len;
		g_string_append_len(s, p, (gssize)n);
		g_string_append(s, "\nendobj\n");
	}
	new_size = MAX(doc->size, (gint64)update->next_num);
	xref_off = base + s->len;
	if (!doc->xref_stream) {
		guint i = 0;

		g_string_append(s, "xref\n");
		while (i < update->objs->len) {
			guint j = i;

			while (j + 1 < update->objs->len &&
			       g_array_index(update->objs, UpdObj, j + 1).num ==
			               g_array_index(update->objs, UpdObj, j).num + 1) {
				j++;
			}
			g_string_append_printf(s, "%d %u\n",
			                       g_array_index(update->objs, UpdObj, i).num,
			                       j - i + 1);
			for (guint k = i; k <= j; k++) {
				UpdObj *o = &g_array_index(update->objs, UpdObj, k);

				g_string_append_printf(s, "%010" G_GUINT64_FORMAT " %05d n\r\n",
				                       base + (guint64)o->offset, o->gen);
			}
			i = j + 1;
		}
		g_string_append(s, "trailer\n<<");
		append_trailer_keys(doc, s, new_size, doc->startxref);
		g_string_append(s, " >>\n");
	} else {
		/* Entries: the objects plus the xref stream itself (highest number). */
		g_autoptr(GByteArray) data = g_byte_array_new();
		g_autoptr(GString) index = g_string_new(NULL);
		guint n = update->objs->len;
		int w = 4;
		guint i = 0;

		while (w < 8 && (xref_off >> (8 * w)) != 0) {
			w++;
		}
		while (i <= n) {
			guint j = i;
			int first = i < n ? g_array_index(update->objs, UpdObj, i).num : xref_num;

			for (;;) {
				int cur = j < n ? g_array_index(update->objs, UpdObj, j).num
				                : xref_num;
				int nxt;

				if (j + 1 > n) {
					break;
				}
				nxt = j + 1 < n ? g_array_index(update->objs, UpdObj, j + 1).num
				                : xref_num;
				if (nxt != cur + 1) {
					break;
				}
				j++;
			}
			g_string_append_printf(index, "%s%d %u", index->len ? " " : "", first,
			                       j - i + 1);
			for (guint k = i; k <= j; k++) {
				guint64 off;
				int gen = 0;
				guint8 b = 1;

				if (k < n) {
					UpdObj *o = &g_array_index(update->objs, UpdObj, k);

					off = base + (guint64)o->offset;
					gen = o->gen;
				} else {
					off = xref_off;
				}
				g_byte_array_append(data, &b, 1);
				for (int sh = w - 1; sh >= 0; sh--) {
					b = (guint8)(off >> (8 * sh));
					g_byte_array_append(data, &b, 1);
				}
				b = (guint8)(gen >> 8);
				g_byte_array_append(data, &b, 1);
				b = (guint8)gen;
				g_byte_array_append(data, &b, 1);
			}
			i = j + 1;
		}
		g_string_append_printf(s, "%d 0 obj\n<< /Type /XRef /W [1 %d 2] /Index [%s]",
		                       xref_num, w, index->str);
		append_trailer_keys(doc, s, new_size, doc->startxref);
		g_string_append_printf(s, " /Length %u >>\nstream\n", data->len);
		g_string_append_len(s, (const char *)data->data, (gssize)data->len);
		g_string_append(s, "\nendstream\nendobj\n");
	}
	g_string_append_printf(s, "startxref\n%" G_GUINT64_FORMAT "\n%%%%EOF\n", xref_off);
	g_byte_array_append(out, (const guint8 *)s->str, (guint)s->len);
	(void)start;
	doc->startxref = xref_off;
	doc->file_size = base + s->len;
	doc->size = new_size;
}

gssize
sdr_pdf_update_object_offset(SdrPdfUpdate *update, int num)
{
	for (guint i = 0; i < update->objs->len; i++) {
		UpdObj *o = &g_array_index(update->objs, UpdObj, i);

		if (o->num == num) {
			return o->body_offset;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Raw scanning                                                         */

void
sdr_pdf_sig_dict_free(SdrPdfSigDict *sig)
{
	if (sig == NULL) {
		return;
	}
	if (sig->contents != NULL) {
		g_bytes_unref(sig->contents);
	}
	g_free(sig->type);
	g_free(sig->filter);
	g_free(sig->sub_filter);
	g_free(sig->m);
	g_free(sig->reason);
	g_free(sig->location);
	g_free(sig->name);
	g_free(sig);
}

static gboolean
sig_key(const guint8 *d, gsize len, Tok k, Tok v, gsize value_end, gpointer user_data)
{
	SdrPdfSigDict *sig = user_data;

	if (tok_is(d, k, "/ByteRange")) {
		gsize p = v.start;
		Tok t = lex(d, len, &p);

		sig->n_byte_range = 0;
		if (t.type != TOK_ARR_OPEN) {
			sig->n_byte_range = -1;
			return TRUE;
		}
		for (;;) {
			gint64 x;

			t = lex(d, len, &p);
			if (t.type == TOK_ARR_CLOSE || p > value_end) {
				break;
			}
			if (!tok_int(d, t, &x) || sig->n_byte_range >= 8) {
				sig->n_byte_range = -1;
				break;
			}
			sig->byte_range[sig->n_byte_range++] = x;
		}
	} else if (tok_is(d, k, "/Contents")) {
		if (sig->contents != NULL) {
			g_bytes_unref(sig->contents);
		}
		sig->contents_start = v.start;
		sig->contents_end = v.end;
		sig->contents_hex = v.type == TOK_HEX;
		sig->contents_damaged = v.type == TOK_BADHEX;
		if (v.type == TOK_HEX) {
			sig->contents = decode_hex(d, v);
		} else if (v.type == TOK_STR) {
			sig->contents = decode_literal(d, v);
		} else {
			sig->contents = NULL;
		}
	} else if (tok_is(d, k, "/Type") && v.type == TOK_NAME) {
		g_free(sig->type);
		sig->type = tok_text(d, v);
	} else if (tok_is(d, k, "/Filter") && v.type == TOK_NAME) {
		g_free(sig->filter);
		sig->filter = tok_text(d, v);
	} else if (tok_is(d, k, "/SubFilter") && v.type == TOK_NAME) {
		g_free(sig->sub_filter);
		sig->sub_filter = tok_text(d, v);
	} else if (tok_is(d, k, "/M") && v.type == TOK_STR) {
		g_free(sig->m);
		sig->m = tok_text(d, v);
	} else if (tok_is(d, k, "/Reason") && v.type == TOK_STR) {
		g_free(sig->reason);
		sig->reason = tok_text(d, v);
	} else if (tok_is(d, k, "/Location") && v.type == TOK_STR) {
		g_free(sig->location);
		sig->location = tok_text(d, v);
	} else if (tok_is(d, k, "/Name") && v.type == TOK_STR) {
		g_free(sig->name);
		sig->name = tok_text(d, v);
	} else if (tok_is(d, k, "/Cert")) {
		sig->has_cert = TRUE;
	}
	return TRUE;
}

/* Parses the value at *pos; when a dictionary holding the key token at offset target is
 * met, *dict_start is set to its "<<" offset. */
static gboolean
find_dict_with_key(const guint8 *d, gsize len, gsize *pos, gsize target, int depth,
                   gssize *dict_start)
{
	gsize save = *pos;
	Tok t = lex(d, len, pos);

	if (depth > MAX_DEPTH) {
		return FALSE;
	}
	if (t.type == TOK_DICT_OPEN) {
		for (int n = 0; n < MAX_ITEMS; n++) {
			Tok k = lex(d, len, pos);

			if (k.type == TOK_DICT_CLOSE) {
				return TRUE;
			}
			if (k.type != TOK_NAME) {
				return FALSE;
			}
			if (k.start == target) {
				*dict_start = (gssize)t.start;
			}
			if (!find_dict_with_key(d, len, pos, target, depth + 1, dict_start)) {
				return FALSE;
			}
		}
		return FALSE;
	}
	if (t.type == TOK_ARR_OPEN) {
		for (int n = 0; n < MAX_ITEMS; n++) {
			gsize s2 = *pos;
			Tok u = lex(d, len, pos);

			if (u.type == TOK_ARR_CLOSE) {
				return TRUE;
			}
			*pos = s2;
			if (!find_dict_with_key(d, len, pos, target, depth + 1, dict_start)) {
				return FALSE;
			}
		}
		return FALSE;
	}
	*pos = save;
	{
		Tok dummy;

		return skip_value(d, len, pos, &dummy, depth);
	}
}

/* If data[p..] is "obj" preceded by "N G ", returns TRUE with num/gen/header start. */
static gboolean
obj_header_before(const guint8 *d, gsize len, gsize p, int *num, int *gen, gsize *start)
{
	gsize i = p;
	gint64 v[2];

	if (p + 3 > len || memcmp(d + p, "obj", 3) != 0) {
		return FALSE;
	}
	if (p + 3 < len && !is_white(d[p + 3]) && !is_delim(d[p + 3])) {
		return FALSE;
	}
	for (int k = 1; k >= 0; k--) {
		gsize e;

		if (i == 0 || !is_white(d[i - 1])) {
			return FALSE;
		}
		while (i > 0 && is_white(d[i - 1])) {
			i--;
		}
		e = i;
		while (i > 0 && g_ascii_isdigit(d[i - 1]) && e - i < 10) {
			i--;
		}
		if (i == e) {
			return FALSE;
		}
		v[k] = 0;
		for (gsize j = i; j < e; j++) {
			v[k] = v[k] * 10 + (d[j] - '0');
		}
	}
	/* Some writers glue the first object of an update to the previous "%%EOF" (no
	 * end-of-line): readers go by the xref offset, so it is an object header. */
	if (i > 0 && !is_white(d[i - 1]) && !is_delim(d[i - 1]) &&
	    !(i >= 5 && memcmp(d + i - 5, "%%EOF", 5) == 0)) {
		return FALSE;
	}
	if (v[0] > G_MAXINT || v[1] > 65535) {
		return FALSE;
	}
	*num = (int)v[0];
	*gen = (int)v[1];
	*start = i;
	return TRUE;
}

GPtrArray *
sdr_pdf_scan_signatures(const guint8 *data, gsize len)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_pdf_sig_dict_free);
	gsize from = 0, floor = 0;
	/* The nearest "N G obj" header before the previous hit (none yet). */
	gboolean have_hdr = FALSE;
	int hnum = 0, hgen = 0;
	gsize hstart = 0, hafter = 0;
	/* Parsing work is bounded: hostile files cannot make this quadratic. */
	gint64 budget = (gint64)MIN(len, (gsize)G_MAXINT64 / 8) * 4 + (1 << 20);

	while (from < len && out->len < 1000 && budget > 0) {
		const guint8 *hit = memmem(data + from, len - from, "/ByteRange", 10);
		gsize target, pos;
		gssize dstart = -1;
		gboolean parsed;
		SdrPdfSigDict *sig;

		if (hit == NULL) {
			break;
		}
		target = (gsize)(hit - data);
		from = target + 10;
		/* The object holding it: the nearest header before; below the previous hit
		 * it is the one already known. */
		for (gsize p = target; p > floor; p--) {
			int num, gen;
			gsize hs;

			if (data[p - 1] == 'o' &&
			    obj_header_before(data, len, p - 1, &num, &gen, &hs)) {
				have_hdr = TRUE;
				hnum = num;
				hgen = gen;
				hstart = hs;
				hafter = p + 2;
				break;
			}
		}
		floor = target;
		if (!have_hdr) {
			continue;
		}
		pos = hafter;
		parsed = find_dict_with_key(data, len, &pos, target, 0, &dstart);
		budget -= (gint64)(pos > hafter ? pos - hafter : 1);
		if (!parsed || dstart < 0) {
			if (parsed && pos > from) {
				from = pos; /* the key was inside a string or a stream: skip it all
				             */
			}
			continue;
		}
		sig = g_new0(SdrPdfSigDict, 1);
		sig->num = hnum;
		sig->gen = hgen;
		sig->obj_offset = hstart;
		pos = (gsize)dstart;
		if (!walk_dict(data, len, &pos, sig_key, sig)) {
			sdr_pdf_sig_dict_free(sig);
			continue;
		}
		budget -= (gint64)(pos - (gsize)dstart);
		sig->dict_end = pos;
		g_ptr_array_add(out, sig);
		if (pos > from) {
			from = pos;
		}
	}
	return out;
}

GArray *
sdr_pdf_scan_revisions(const guint8 *data, gsize len)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(gsize));
	gsize from = 0;

	while (from < len && out->len < MAX_REVISIONS) {
		const guint8 *hit = memmem(data + from, len - from, "%%EOF", 5);
		gsize end;

		if (hit == NULL) {
			break;
		}
		end = (gsize)(hit - data) + 5;
		if (end < len && data[end] == '\r') {
			end++;
		}
		if (end < len && data[end] == '\n') {
			end++;
		}
		g_array_append_val(out, end);
		from = end;
	}
	return out;
}

typedef struct {
	char *type;
	char *subtype;
	char *ft;
	gboolean byte_range, dss, dss_keys, fields, parent, kids, info;
	gint64 length;
} ClassInfo;

/* A /VRI key: the hex SHA-1 of a signature (40 hex digits). */
static gboolean
is_vri_key(const guint8 *d, Tok k)
{
	if (k.end - k.start != 41) {
		return FALSE;
	}
	for (gsize i = k.start + 1; i < k.end; i++) {
		if (!g_ascii_isxdigit(d[i])) {
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
class_key(const guint8 *d, gsize len, Tok k, Tok v, gsize value_end, gpointer user_data)
{
	ClassInfo *ci = user_data;

	if (tok_is(d, k, "/Type") && v.type == TOK_NAME && ci->type == NULL) {
		ci->type = tok_text(d, v);
	} else if (tok_is(d, k, "/Subtype") && v.type == TOK_NAME && ci->subtype == NULL) {
		ci->subtype = tok_text(d, v);
	} else if (tok_is(d, k, "/FT") && v.type == TOK_NAME && ci->ft == NULL) {
		ci->ft = tok_text(d, v);
	} else if (tok_is(d, k, "/ByteRange")) {
		ci->byte_range = TRUE;
	} else if (tok_is(d, k, "/DSS")) {
		ci->dss = TRUE;
	} else if (tok_is(d, k, "/Certs") || tok_is(d, k, "/OCSPs") || tok_is(d, k, "/CRLs") ||
	           tok_is(d, k, "/VRI") || tok_is(d, k, "/Cert") || tok_is(d, k, "/OCSP") ||
	           tok_is(d, k, "/CRL") || is_vri_key(d, k)) {
		ci->dss_keys = TRUE;
	} else if (tok_is(d, k, "/Fields")) {
		ci->fields = TRUE;
	} else if (tok_is(d, k, "/Parent")) {
		ci->parent = TRUE;
	} else if (tok_is(d, k, "/Kids")) {
		ci->kids = TRUE;
	} else if (tok_is(d, k, "/Producer") || tok_is(d, k, "/ModDate") ||
	           tok_is(d, k, "/CreationDate") || tok_is(d, k, "/Creator")) {
		ci->info = TRUE;
	} else if (tok_is(d, k, "/Length")) {
		gsize p = v.start;
		Tok a = lex(d, len, &p);
		gsize p2 = p;
		Tok b = lex(d, len, &p2);
		gint64 x;

		(void)b;
		if (p == value_end && tok_int(d, a, &x) && x >= 0) {
			ci->length = x;
		}
	}
	return TRUE;
}

static const char *
classify_at(const guint8 *d, gsize len, gsize *pos, gboolean *is_stream, gint64 *length)
{
	ClassInfo ci = { 0 };
	const char *kind = "other";
	gsize p = *pos;
	Tok t;

	ci.length = -1;
	*is_stream = FALSE;
	if (!walk_dict(d, len, &p, class_key, &ci)) {
		Tok first;

		g_free(ci.type);
		g_free(ci.subtype);
		g_free(ci.ft);
		p = *pos;
		if (!skip_value(d, len, &p, &first, 0)) {
			p = *pos + 1;
			*pos = p;
			return "other";
		}
		*pos = p;
		return first.type == TOK_ARR_OPEN ? "array" : "other";
	}
	*pos = p;
	t = lex(d, len, &p);
	if (t.type == TOK_KEYWORD && tok_is(d, t, "stream")) {
		*is_stream = TRUE;
		*pos = t.end;
		*length = ci.length;
	}
	if (g_strcmp0(ci.type, "Sig") == 0 || (ci.byte_range && ci.type == NULL)) {
		kind = "sig";
	} else if (g_strcmp0(ci.type, "DocTimeStamp") == 0) {
		kind = "doctimestamp";
	} else if (g_strcmp0(ci.type, "Catalog") == 0) {
		kind = ci.dss ? "catalog-dss" : "catalog";
	} else if (g_strcmp0(ci.type, "DSS") == 0 || g_strcmp0(ci.type, "VRI") == 0 ||
	           ci.dss_keys) {
		kind = "dss";
	} else if (g_strcmp0(ci.type, "XRef") == 0) {
		kind = "xref";
	} else if (g_strcmp0(ci.type, "ObjStm") == 0) {
		kind = "objstm";
	} else if (ci.fields) {
		kind = "acroform";
	} else if (g_strcmp0(ci.type, "Page") == 0) {
		kind = "page";
	} else if (g_strcmp0(ci.ft, "Sig") == 0) {
		kind = "sigfield";
	} else if (ci.ft != NULL) {
		kind = "formfield";
	} else if (g_strcmp0(ci.subtype, "Widget") == 0) {
		kind = ci.parent ? "formfield" : "widget";
	} else if (g_strcmp0(ci.type, "Annot") == 0 || ci.subtype != NULL) {
		if (g_strcmp0(ci.subtype, "Form") == 0 || g_strcmp0(ci.subtype, "Image") == 0) {
			kind = "xobject";
		} else if (g_strcmp0(ci.type, "Font") == 0 ||
		           g_strcmp0(ci.type, "FontDescriptor") == 0) {
			kind = "font";
		} else {
			kind = "annot";
		}
	} else if (g_strcmp0(ci.type, "Font") == 0 || g_strcmp0(ci.type, "Encoding") == 0) {
		kind = "font";
	} else if (g_strcmp0(ci.type, "Metadata") == 0) {
		kind = "metadata";
	} else if (ci.info && !*is_stream) {
		kind = "info";
	} else if (*is_stream) {
		kind = "stream";
	} else {
		kind = "dict";
	}
	g_free(ci.type);
	g_free(ci.subtype);
	g_free(ci.ft);
	return kind;
}

const char *
sdr_pdf_classify_object(const guint8 *data, gsize len, gsize pos)
{
	gboolean is_stream;
	gint64 length = -1;

	return classify_at(data, len, &pos, &is_stream, &length);
}

static void
objdef_free(gpointer p)
{
	SdrPdfObjectDef *o = p;

	g_free(o->kind);
	g_free(o);
}

GPtrArray *
sdr_pdf_scan_objects(const guint8 *data, gsize len, gsize start, gsize end)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(objdef_free);
	gsize pos = start;
	Tok prev[2] = { { TOK_EOF, 0, 0 }, { TOK_EOF, 0, 0 } };

	if (end > len) {
		end = len;
	}
	while (pos < end && out->len < MAX_ITEMS) {
		Tok t = lex(data, end, &pos);
		gint64 num, gen;

		if (t.type == TOK_EOF) {
			break;
		}
		if (t.type == TOK_ERR) {
			if (t.end >= end) {
				break; /* an unterminated string runs to the end: nothing more to
				          find */
			}
			pos = t.start + 1;
			prev[0].type = prev[1].type = TOK_EOF;
			continue;
		}
		if (t.type == TOK_KEYWORD && tok_is(data, t, "obj") &&
		    tok_int(data, prev[0], &num) && tok_int(data, prev[1], &gen) && num >= 0 &&
		    num <= G_MAXINT && gen >= 0 && gen <= 65535) {
			SdrPdfObjectDef *o = g_new0(SdrPdfObjectDef, 1);
			gboolean is_stream = FALSE;
			gint64 length = -1;
			const char *kind;

			o->num = (int)num;
			o->gen = (int)gen;
			o->offset = prev[0].start;
			kind = classify_at(data, end, &pos, &is_stream, &length);
			o->kind = g_strdup(kind);
			g_ptr_array_add(out, o);
			if (is_stream) {
				const guint8 *es;

				if (pos < end && data[pos] == '\r') {
					pos++;
				}
				if (pos < end && data[pos] == '\n') {
					pos++;
				}
				if (length >= 0 && (guint64)length <= end - pos &&
				    end - pos - (gsize)length >= 9 &&
				    memmem(data + pos + length, MIN(end - pos - (gsize)length, 16),
				           "endstream", 9) != NULL) {
					pos += (gsize)length;
				} else {
					es = memmem(data + pos, end - pos, "endstream", 9);
					pos = es != NULL ? (gsize)(es - data) : end;
				}
			}
			prev[0].type = prev[1].type = TOK_EOF;
			continue;
		}
		prev[0] = prev[1];
		prev[1] = t;
	}
	return out;
}
