/* sdr-s2low-answer.c - S²LOW answers (legacy OK/KO text, Hélios XML), status
 * labels, ACTES field rules. Pure functions: no network, no token. */
#include "sdr-s2low.h"

#include "sdr-error.h"
#include "sdr-pes.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

/* ---- Text ------------------------------------------------------------------------- */

static void
append_entity(GString *out, const char *name, gsize n)
{
	static const struct {
		const char *name;
		gunichar c;
	} named[] = {
		{ "amp", '&' },     { "lt", '<' },      { "gt", '>' },      { "quot", '"' },
		{ "apos", '\'' },   { "nbsp", 0xA0 },   { "eacute", 0xE9 }, { "egrave", 0xE8 },
		{ "agrave", 0xE0 }, { "ccedil", 0xE7 }, { "ecirc", 0xEA },
	};
	gunichar c = 0;

	if (n >= 2 && name[0] == '#') {
		guint64 v = 0;
		gboolean hex = name[1] == 'x' || name[1] == 'X';
		const char *p = name + (hex ? 2 : 1);
		gsize digits = n - (gsize)(p - name);

		if (digits > 0 && digits <= 8) {
			for (gsize i = 0; i < digits; i++) {
				int d = hex ? g_ascii_xdigit_value(p[i])
				            : g_ascii_digit_value(p[i]);
				if (d < 0) {
					v = G_MAXUINT64;
					break;
				}
				v = v * (hex ? 16 : 10) + (guint64)d;
			}
			if (v > 0 && v <= 0x10FFFF && g_unichar_validate((gunichar)v))
				c = (gunichar)v;
		}
	} else {
		for (gsize i = 0; i < G_N_ELEMENTS(named); i++) {
			if (strlen(named[i].name) == n && strncmp(named[i].name, name, n) == 0)
				c = named[i].c;
		}
	}
	if (c != 0) {
		g_string_append_unichar(out, c);
	} else {
		g_string_append_c(out, '&');
		g_string_append_len(out, name, (gssize)n);
		g_string_append_c(out, ';');
	}
}

char *
sdr_s2low_decode_text(const guint8 *data, gsize len)
{
	g_autofree char *utf8 = NULL;
	GString *out;

	if (data == NULL)
		return g_strdup("");
	if (g_utf8_validate_len((const char *)data, len, NULL)) {
		utf8 = g_strndup((const char *)data, len);
	} else {
		/* ISO-8859-1: every byte is the code point. */
		GString *s = g_string_sized_new(len + len / 4);
		for (gsize i = 0; i < len; i++)
			g_string_append_unichar(s, data[i]);
		utf8 = g_string_free(s, FALSE);
	}
	out = g_string_sized_new(strlen(utf8));
	for (const char *p = utf8; *p != '\0'; p++) {
		const char *semi;
		if (*p == '&' && (semi = strchr(p + 1, ';')) != NULL && semi - p <= 12 &&
		    semi > p + 1) {
			append_entity(out, p + 1, (gsize)(semi - p - 1));
			p = semi;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

void
sdr_s2low_answer_free(SdrS2lowAnswer *answer)
{
	if (answer == NULL)
		return;
	g_strfreev(answer->lines);
	g_free(answer->message);
	g_free(answer);
}

SdrS2lowAnswer *
sdr_s2low_answer_parse(const guint8 *data, gsize len, GError **error)
{
	g_autofree char *text = sdr_s2low_decode_text(data, len);
	g_auto(GStrv) raw = NULL;
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) msg = g_string_new(NULL);
	SdrS2lowAnswer *a;
	char *first;

	/* A BOM or leading blank lines are tolerated (the server's pages are PHP). */
	first = text;
	if (g_str_has_prefix(first, "\xEF\xBB\xBF"))
		first += 3;
	while (*first == '\n' || *first == '\r' || *first == ' ')
		first++;
	raw = g_strsplit(first, "\n", -1);
	if (raw[0] == NULL ||
	    (!g_str_equal(g_strstrip(raw[0]), "OK") && !g_str_equal(raw[0], "KO"))) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("S²LOW gave an answer that is neither OK nor KO (is the "
		                      "address that of the S²LOW API?)."));
		return NULL;
	}
	for (guint i = 1; raw[i] != NULL; i++) {
		char *l = g_strstrip(raw[i]);
		g_ptr_array_add(lines, g_strdup(l));
		if (*l != '\0') {
			if (msg->len > 0)
				g_string_append_c(msg, ' ');
			g_string_append(msg, l);
		}
	}
	/* Drop trailing empty lines. */
	while (lines->len > 0 && *(char *)lines->pdata[lines->len - 1] == '\0')
		g_ptr_array_remove_index(lines, lines->len - 1);
	g_ptr_array_add(lines, NULL);
	a = g_new0(SdrS2lowAnswer, 1);
	a->ok = g_str_equal(raw[0], "OK");
	a->lines = (char **)g_ptr_array_free(g_steal_pointer(&lines), FALSE);
	a->message = g_string_free(g_steal_pointer(&msg), FALSE);
	return a;
}

/* ---- Status ----------------------------------------------------------------------- */

static const char *
unknown_status(int status)
{
	static GPrivate buf = G_PRIVATE_INIT(g_free);
	char *s = g_strdup_printf(_("unknown status %d"), status);
	g_private_replace(&buf, s);
	return s;
}

const char *
sdr_s2low_actes_status_label(int status)
{
	switch (status) {
	case -1:
		return _("error");
	case 0:
		return _("cancelled");
	case 1:
		return _("posted");
	case 2:
		return _("waiting to be transmitted");
	case 3:
		return _("transmitted");
	case 4:
		return _("acknowledgement received");
	case 5:
		return _("validated");
	case 6:
		return _("refused");
	case 7:
		return _("document received");
	case 8:
		return _("acknowledgement sent");
	case 9:
		return _("document sent");
	case 10:
		return _("sending refused");
	case 11:
		return _("acknowledgement of document received");
	case 12:
		return _("sent to the archive");
	case 13:
		return _("archived");
	case 14:
		return _("archiving error");
	case 15:
		return _("received by the archive");
	case 16:
		return _("destroyed");
	case 17:
		return _("waiting to be posted");
	case 18:
		return _("waiting for a signature");
	case 21:
		return _("document received without acknowledgement");
	case 999:
		return _("in progress");
	default:
		return unknown_status(status);
	}
}

const char *
sdr_s2low_helios_status_label(int status)
{
	switch (status) {
	case -1:
		return _("error");
	case 0:
		return _("cancelled");
	case 1:
		return _("posted");
	case 2:
		return _("waiting to be transmitted");
	case 3:
		return _("transmitted");
	case 4:
		return _("acknowledged by the Treasury");
	case 5:
		return _("validated");
	case 6:
		return _("refused");
	case 7:
		return _("being processed");
	case 8:
		return _("information available");
	case 9:
		return _("sent to the archive");
	case 10:
		return _("archived");
	case 11:
		return _("archiving error");
	case 13:
		return _("waiting: signed");
	case 14:
		return _("waiting: posted");
	case 22:
		return _("destroyed");
	case 24:
		return _("transmitted without acknowledgement");
	default:
		return unknown_status(status);
	}
}

gboolean
sdr_s2low_actes_status_is_final(int status)
{
	/* 4: the prefecture's acknowledgement (ARActe) is the end of the teletransmission. */
	return status == -1 || status == 0 || (status >= 4 && status <= 6) || status == 10 ||
	       (status >= 12 && status <= 16);
}

gboolean
sdr_s2low_helios_status_is_final(int status)
{
	return status == -1 || status == 0 || status == 4 || status == 5 || status == 6 ||
	       status == 8 || (status >= 9 && status <= 11) || status == 22;
}

/* ---- Hélios XML ------------------------------------------------------------------- */

static xmlDoc *
parse_xml(const guint8 *data, gsize len, GError **error)
{
	xmlDoc *doc;

	if (len > 16 * 1024 * 1024 || len > G_MAXINT) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		                    _("The answer of S²LOW is too large."));
		return NULL;
	}
	doc = xmlReadMemory((const char *)data, (int)len, "s2low.xml", NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                            XML_PARSE_RECOVER | XML_PARSE_NOENT * 0);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("The answer of S²LOW cannot be read (not XML)."));
		return NULL;
	}
	return doc;
}

/* Text of a child element, re-decoded: the server declares ISO-8859-1 and writes
 * UTF-8, so libxml2 gives "Ã©" for "é"; undo that when the bytes form UTF-8. */
static char *
child_text(xmlNode *parent, const char *name, gboolean declared_latin1)
{
	for (xmlNode *n = parent->children; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && g_str_equal((const char *)n->name, name)) {
			xmlChar *c = xmlNodeGetContent(n);
			char *s = g_strstrip(g_strdup(c != NULL ? (const char *)c : ""));
			xmlFree(c);
			if (declared_latin1) {
				g_autofree char *latin =
				        g_convert(s, -1, "ISO-8859-1", "UTF-8", NULL, NULL, NULL);
				if (latin != NULL && g_utf8_validate(latin, -1, NULL) &&
				    strcmp(latin, s) != 0) {
					g_free(s);
					s = g_steal_pointer(&latin);
				}
			}
			return s;
		}
	}
	return NULL;
}

static gboolean
declares_latin1(xmlDoc *doc)
{
	return doc->encoding != NULL &&
	       (g_ascii_strcasecmp((const char *)doc->encoding, "ISO-8859-1") == 0 ||
	        g_ascii_strcasecmp((const char *)doc->encoding, "latin1") == 0);
}

void
sdr_helios_import_free(SdrHeliosImport *import)
{
	if (import == NULL)
		return;
	g_free(import->id);
	g_free(import->message);
	g_free(import);
}

static gboolean
says_duplicate(const char *message)
{
	g_autofree char *low = message != NULL ? g_utf8_strdown(message, -1) : NULL;
	return low != NULL && strstr(low, "doublon") != NULL;
}

SdrHeliosImport *
sdr_s2low_helios_import_parse(const guint8 *data, gsize len, GError **error)
{
	SdrHeliosImport *r;
	xmlDoc *doc;
	xmlNode *root;
	g_autofree char *resultat = NULL;
	gsize skip = 0;

	while (skip < len && g_ascii_isspace(data[skip]))
		skip++;
	if (len - skip >= 2 &&
	    (memcmp(data + skip, "KO", 2) == 0 || memcmp(data + skip, "OK", 2) == 0)) {
		/* Authentication and permission failures answer plain text. */
		g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse(data, len, error);
		if (a == NULL)
			return NULL;
		r = g_new0(SdrHeliosImport, 1);
		r->ok = FALSE;
		r->message = g_strdup(a->message);
		r->duplicate = says_duplicate(r->message);
		return r;
	}
	doc = parse_xml(data, len, error);
	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (!g_str_equal((const char *)root->name, "import")) {
		xmlFreeDoc(doc);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("The answer of S²LOW to the PES import is not an <import>."));
		return NULL;
	}
	r = g_new0(SdrHeliosImport, 1);
	resultat = child_text(root, "resultat", declares_latin1(doc));
	r->message = child_text(root, "message", declares_latin1(doc));
	r->ok = resultat != NULL && g_str_equal(resultat, "OK");
	if (r->ok) {
		r->id = child_text(root, "id", FALSE);
		if (r->id == NULL || *r->id == '\0') {
			sdr_helios_import_free(r);
			xmlFreeDoc(doc);
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
			                    _("S²LOW accepted the PES without giving its number."));
			return NULL;
		}
	} else {
		r->duplicate = says_duplicate(r->message);
	}
	xmlFreeDoc(doc);
	return r;
}

static gboolean
parse_int(const char *s, int *out)
{
	gint64 v;
	char *end = NULL;

	if (s == NULL || *s == '\0')
		return FALSE;
	v = g_ascii_strtoll(s, &end, 10);
	if (end == s || *end != '\0' || v < G_MININT || v > G_MAXINT)
		return FALSE;
	*out = (int)v;
	return TRUE;
}

gboolean
sdr_s2low_helios_status_parse(const guint8 *data, gsize len, int *status, char **message,
                              GError **error)
{
	xmlDoc *doc;
	xmlNode *root;
	g_autofree char *resultat = NULL, *st = NULL, *msg = NULL;
	gsize skip = 0;
	int v = 0;

	while (skip < len && g_ascii_isspace(data[skip]))
		skip++;
	if (len - skip >= 2 && memcmp(data + skip, "KO", 2) == 0) {
		g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse(data, len, error);
		if (a != NULL)
			g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE, _("S²LOW refused: %s"),
			            a->message);
		return FALSE;
	}
	doc = parse_xml(data, len, error);
	if (doc == NULL)
		return FALSE;
	root = xmlDocGetRootElement(doc);
	resultat = child_text(root, "resultat", declares_latin1(doc));
	st = child_text(root, "status", FALSE);
	msg = child_text(root, "message", declares_latin1(doc));
	xmlFreeDoc(doc);
	if (resultat != NULL && g_str_equal(resultat, "KO")) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE, _("S²LOW refused: %s"),
		            msg != NULL ? msg : "");
		return FALSE;
	}
	if (!parse_int(st, &v)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("The status answer of S²LOW has no status."));
		return FALSE;
	}
	*status = v;
	if (message != NULL)
		*message = g_steal_pointer(&msg);
	return TRUE;
}

gboolean
sdr_s2low_actes_status_parse(const guint8 *data, gsize len, int *status, char **rest,
                             GError **error)
{
	g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse(data, len, error);
	int v = 0;

	if (a == NULL)
		return FALSE;
	if (!a->ok) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE, _("S²LOW refused: %s"),
		            a->message);
		return FALSE;
	}
	if (a->lines[0] == NULL || !parse_int(a->lines[0], &v)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("The status answer of S²LOW has no status."));
		return FALSE;
	}
	*status = v;
	if (rest != NULL)
		*rest = a->lines[1] != NULL ? g_strjoinv("\n", a->lines + 1) : NULL;
	return TRUE;
}

/* ---- ACTES fields ----------------------------------------------------------------- */

SdrActesFields *
sdr_actes_fields_new(void)
{
	SdrActesFields *f = g_new0(SdrActesFields, 1);
	f->annexes = g_ptr_array_new();
	return f;
}

void
sdr_actes_fields_free(SdrActesFields *f)
{
	if (f == NULL)
		return;
	for (guint i = 0; i < f->annexes->len; i++) {
		SdrActesFile *a = f->annexes->pdata[i];
		g_free(a->path);
		g_free(a->type_pj);
		g_free(a->sign_path);
		g_free(a);
	}
	g_ptr_array_unref(f->annexes);
	g_free(f->classification);
	g_free(f->number);
	g_free(f->date);
	g_free(f->subject);
	g_free(f->type_acte);
	g_free(f->acte_path);
	g_free(f->acte_sign_path);
	g_free(f);
}

int
sdr_actes_nature_from_string(const char *s)
{
	static const char *const codes[] = { "DE", "AR", "AI", "CC", "BF", "AU" };

	if (s == NULL)
		return 0;
	for (int i = 0; i < 6; i++) {
		if (g_ascii_strcasecmp(s, codes[i]) == 0)
			return i + 1;
	}
	if (strlen(s) == 1 && s[0] >= '1' && s[0] <= '6')
		return s[0] - '0';
	return 0;
}

static gboolean
is_type_code(const char *s)
{
	if (s == NULL || strlen(s) != 5)
		return FALSE;
	for (int i = 0; i < 5; i++) {
		if (!(g_ascii_isupper(s[i]) || g_ascii_isdigit(s[i]) || s[i] == '_'))
			return FALSE;
	}
	return TRUE;
}

static gboolean
number_ok(const char *s)
{
	gsize n = s != NULL ? strlen(s) : 0;

	/* ^([A-Z0-9][A-Z0-9_]{0,13})?[A-Z0-9]$ */
	if (n == 0 || n > SDR_ACTES_NUMBER_MAX)
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		gboolean alnum = g_ascii_isupper(s[i]) || g_ascii_isdigit(s[i]);
		if (!alnum && !(s[i] == '_' && i > 0 && i < n - 1))
			return FALSE;
	}
	return TRUE;
}

static gboolean
classification_ok(const char *s)
{
	g_auto(GStrv) parts = NULL;
	guint n;

	if (s == NULL || *s == '\0')
		return FALSE;
	parts = g_strsplit(s, ".", -1);
	n = g_strv_length(parts);
	if (n < 1 || n > 5)
		return FALSE;
	for (guint i = 0; i < n; i++) {
		if (parts[i][0] == '\0' || strlen(parts[i]) > 3)
			return FALSE;
		for (const char *p = parts[i]; *p != '\0'; p++) {
			if (!g_ascii_isdigit(*p))
				return FALSE;
		}
	}
	return TRUE;
}

/* The kind of a file by its first bytes (the server decides by libmagic). */
static const char *
sniff(const char *path, guint64 *size, GError **error)
{
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GFileInputStream) in = NULL;
	g_autoptr(GFileInfo) info = NULL;
	guint8 head[64] = { 0 };
	gsize got = 0;
	g_autoptr(GError) e = NULL;

	in = g_file_read(file, NULL, &e);
	if (in != NULL)
		info = g_file_input_stream_query_info(in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, &e);
	if (info == NULL ||
	    !g_input_stream_read_all(G_INPUT_STREAM(in), head, sizeof head, &got, NULL, &e)) {
		g_set_error(error, SDR_ERROR,
		            g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
		                    ? SDR_ERROR_NOT_FOUND
		                    : SDR_ERROR_IO,
		            _("%s cannot be read: %s"), path, e->message);
		return NULL;
	}
	*size = (guint64)g_file_info_get_size(info);
	if (got >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return "pdf";
	if (got >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (got >= 3 && memcmp(head, "\xFF\xD8\xFF", 3) == 0)
		return "jpeg";
	{
		gsize i = 0;
		if (got >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
			i = 3;
		while (i < got && g_ascii_isspace(head[i]))
			i++;
		if (i < got && head[i] == '<')
			return "xml";
	}
	return "other";
}

gboolean
sdr_actes_fields_check(const SdrActesFields *f, const char *today, GError **error)
{
	g_autofree char *today_buf = NULL;
	g_autofree char *latin = NULL;
	g_autofree char *stripped = NULL;
	guint64 total = 0, size = 0;
	const char *kind;
	int y, m, d;

	if (f->nature < 1 || f->nature > 6) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Nature of the act: one of DE (délibération), AR (arrêté "
		                      "réglementaire), AI (arrêté individuel), CC (contrat, "
		                      "convention), BF (document budgétaire), AU (autre)."));
		return FALSE;
	}
	if (!classification_ok(f->classification)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Classification: 1 to 5 numbers separated by dots, as in "
		                      "the prefecture's classification (e.g. 1.1 or 7.1.2)."));
		return FALSE;
	}
	if (!number_ok(f->number)) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		        _("Number of the act: 1 to %d capital letters, digits or “_” (not first "
		          "or last), e.g. 2026_042."),
		        SDR_ACTES_NUMBER_MAX);
		return FALSE;
	}
	if (today == NULL) {
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		today = today_buf = g_date_time_format(now, "%Y-%m-%d");
	}
	if (f->date == NULL || strlen(f->date) != 10 ||
	    sscanf(f->date, "%4d-%2d-%2d", &y, &m, &d) != 3 || f->date[4] != '-' ||
	    f->date[7] != '-' || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Date of the decision: YYYY-MM-DD, e.g. 2026-03-31."));
		return FALSE;
	}
	if (strcmp(f->date, today) > 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Date of the decision: %s is in the future."), f->date);
		return FALSE;
	}
	if (f->subject != NULL)
		stripped = g_strstrip(g_strdup(f->subject));
	if (stripped == NULL || *stripped == '\0' || !g_utf8_validate(f->subject, -1, NULL) ||
	    g_utf8_strlen(f->subject, -1) > SDR_ACTES_SUBJECT_MAX) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Subject of the act: 1 to %d characters."), SDR_ACTES_SUBJECT_MAX);
		return FALSE;
	}
	latin = sdr_s2low_to_latin1(f->subject, error);
	if (latin == NULL) {
		g_prefix_error(error, _("Subject of the act: "));
		return FALSE;
	}
	if (!is_type_code(f->type_acte)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Type of the act (--type-acte): 5 capital letters, digits or "
		                      "“_”, e.g. 99_DE."));
		return FALSE;
	}
	if (f->acte_path == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Name the act's file (PDF)."));
		return FALSE;
	}
	kind = sniff(f->acte_path, &size, error);
	if (kind == NULL)
		return FALSE;
	total += size;
	if (!(g_str_equal(kind, "pdf") || (g_str_equal(kind, "xml") && f->nature == 5 &&
	                                   (g_str_equal(f->classification, "7.1") ||
	                                    g_str_has_prefix(f->classification, "7.1."))))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("%s: the act must be a PDF (XML only for a budget document, nature "
		              "BF, classification 7.1)."),
		            f->acte_path);
		return FALSE;
	}
	if (f->annexes->len > SDR_ACTES_ANNEXES_MAX) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("Too many annexes: at most %d."), SDR_ACTES_ANNEXES_MAX);
		return FALSE;
	}
	for (guint i = 0; i < f->annexes->len; i++) {
		const SdrActesFile *a = f->annexes->pdata[i];
		if (!is_type_code(a->type_pj)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Annex %s: its type (--type-pj, one per annex) is 5 capital "
			              "letters, digits or “_”, e.g. 99_AI."),
			            a->path);
			return FALSE;
		}
		kind = sniff(a->path, &size, error);
		if (kind == NULL)
			return FALSE;
		if (g_str_equal(kind, "other")) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
			            _("Annex %s: only PDF, XML, PNG and JPEG files are accepted."),
			            a->path);
			return FALSE;
		}
		total += size;
	}
	if (total > SDR_ACTES_TOTAL_MAX) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("The act and its annexes weigh %llu MB: at most %u MB may be sent."),
		            (unsigned long long)(total / (1024 * 1024)),
		            SDR_ACTES_TOTAL_MAX / (1024 * 1024));
		return FALSE;
	}
	return TRUE;
}

char *
sdr_s2low_to_latin1(const char *utf8, GError **error)
{
	char *out = g_convert(utf8, -1, "ISO-8859-1", "UTF-8", NULL, NULL, NULL);

	if (out == NULL)
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("a character has no ISO-8859-1 form (S²LOW accepts only "
		                      "Latin-1: replace “œ”, “’”, “€”... by “oe”, “'”, “EUR”)."));
	return out;
}

char *
sdr_s2low_safe_file_name(const char *path)
{
	g_autofree char *base = g_path_get_basename(path);
	GString *out = g_string_new(NULL);

	if (!g_utf8_validate(base, -1, NULL)) {
		g_autofree char *fixed = g_utf8_make_valid(base, -1);
		g_free(base);
		base = g_steal_pointer(&fixed);
	}
	/* Letters and digits of Latin-1 (the server converts the name from it), '.', '_',
	 * ' ', '-'; anything else becomes '_'. */
	for (const char *p = base; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c <= 0xFF &&
		    (g_unichar_isalnum(c) || c == '.' || c == '_' || c == ' ' || c == '-'))
			g_string_append_unichar(out, c);
		else
			g_string_append_c(out, '_');
	}
	return g_string_free(out, FALSE);
}

gboolean
sdr_s2low_pes_check(const guint8 *data, gsize len, GError **error)
{
	return sdr_pes_check(data, len, error);
}

/* ---- Classification --------------------------------------------------------------- */

void
sdr_s2low_classification_free(SdrS2lowClassification *c)
{
	if (c == NULL)
		return;
	g_free(c->date);
	if (c->codes != NULL)
		g_hash_table_unref(c->codes);
	g_free(c);
}

/* An attribute by its local name, whatever its namespace prefix. */
static char *
attr_local(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (g_str_equal((const char *)a->name, name)) {
			xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
			char *s = g_strdup(v != NULL ? (const char *)v : "");
			xmlFree(v);
			return s;
		}
	}
	return NULL;
}

/* Matiere1..Matiere5 under n: each code is its parent's code + "." + CodeMatiere. */
static void
collect_matieres(xmlNode *n, const char *prefix, guint depth, GHashTable *codes)
{
	if (depth > 5)
		return;
	for (xmlNode *c = n->children; c != NULL; c = c->next) {
		char want[16];
		g_autofree char *code = NULL;
		g_autofree char *full = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		g_snprintf(want, sizeof want, "Matiere%u", depth);
		if (!g_str_equal((const char *)c->name, want)) {
			if (depth == 1)
				collect_matieres(c, prefix, depth, codes); /* actes:Matieres */
			continue;
		}
		code = attr_local(c, "CodeMatiere");
		if (code == NULL || *code == '\0' || strchr(code, '.') != NULL ||
		    g_hash_table_size(codes) >= 10000)
			continue;
		full = prefix != NULL ? g_strconcat(prefix, ".", code, NULL) : g_strdup(code);
		g_hash_table_replace(codes, g_strdup(full), attr_local(c, "Libelle"));
		collect_matieres(c, full, depth + 1, codes);
	}
}

static gboolean
valid_date(const char *s)
{
	return s != NULL && strlen(s) == 10 && g_ascii_isdigit(s[0]) && g_ascii_isdigit(s[1]) &&
	       g_ascii_isdigit(s[2]) && g_ascii_isdigit(s[3]) && s[4] == '-' &&
	       g_ascii_isdigit(s[5]) && g_ascii_isdigit(s[6]) && s[7] == '-' &&
	       g_ascii_isdigit(s[8]) && g_ascii_isdigit(s[9]);
}

static xmlNode *
find_local(xmlNode *n, const char *name, guint depth)
{
	for (xmlNode *c = n; c != NULL && depth < 64; c = c->next) {
		xmlNode *f;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (g_str_equal((const char *)c->name, name))
			return c;
		f = find_local(c->children, name, depth + 1);
		if (f != NULL)
			return f;
	}
	return NULL;
}

/* A plain "KO\n..." where XML was expected: S²LOW's refusal (rights, login). */
static gboolean
plain_refusal(const guint8 *data, gsize len, GError **error)
{
	gsize skip = 0;

	while (skip < len && g_ascii_isspace(data[skip]))
		skip++;
	if (len - skip >= 2 && memcmp(data + skip, "KO", 2) == 0) {
		g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse(data, len, error);
		if (a != NULL)
			g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE, _("S²LOW refused: %s"),
			            a->message);
		return TRUE;
	}
	return FALSE;
}

SdrS2lowClassification *
sdr_s2low_classification_parse(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(SdrS2lowClassification) c = NULL;
	xmlDoc *doc;
	xmlNode *root, *date, *matieres;

	if (plain_refusal(data, len, error))
		return NULL;
	doc = parse_xml(data, len, error);
	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	date = find_local(root, "DateClassification", 0);
	matieres = find_local(root, "Matieres", 0);
	c = g_new0(SdrS2lowClassification, 1);
	c->codes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (date != NULL) {
		xmlChar *t = xmlNodeGetContent(date);
		c->date = g_strstrip(g_strdup(t != NULL ? (const char *)t : ""));
		xmlFree(t);
	}
	if (matieres != NULL)
		collect_matieres(matieres, NULL, 1, c->codes);
	xmlFreeDoc(doc);
	if (!valid_date(c->date) || g_hash_table_size(c->codes) == 0) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("The classification of S²LOW cannot be read (no date or no "
		                      "code)."));
		return NULL;
	}
	return g_steal_pointer(&c);
}

gboolean
sdr_s2low_classification_has(const SdrS2lowClassification *c, const char *code)
{
	return c != NULL && code != NULL && g_hash_table_contains(c->codes, code);
}

/* ---- PES_Retour list --------------------------------------------------------------- */

void
sdr_pes_retour_free(SdrPesRetour *r)
{
	if (r == NULL)
		return;
	g_free(r->id);
	g_free(r->name);
	g_free(r->date);
	g_free(r);
}

GPtrArray *
sdr_s2low_retour_list_parse(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(GPtrArray) list =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sdr_pes_retour_free);
	g_autofree char *resultat = NULL;
	g_autofree char *message = NULL;
	xmlDoc *doc;
	xmlNode *root;

	if (plain_refusal(data, len, error))
		return NULL;
	doc = parse_xml(data, len, error);
	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (!g_str_equal((const char *)root->name, "liste")) {
		xmlFreeDoc(doc);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("The list of PES returns of S²LOW cannot be read."));
		return NULL;
	}
	resultat = child_text(root, "resultat", FALSE);
	message = child_text(root, "message", FALSE);
	if (resultat != NULL && g_str_equal(resultat, "KO")) {
		xmlFreeDoc(doc);
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE, _("S²LOW refused: %s"),
		            message != NULL ? message : "");
		return NULL;
	}
	for (xmlNode *n = root->children; n != NULL && list->len < 10000; n = n->next) {
		SdrPesRetour *r;

		if (n->type != XML_ELEMENT_NODE ||
		    !g_str_equal((const char *)n->name, "pes_retour"))
			continue;
		r = g_new0(SdrPesRetour, 1);
		r->id = child_text(n, "id", FALSE);
		r->name = child_text(n, "nom", FALSE);
		r->date = child_text(n, "date", FALSE);
		if (r->id == NULL || *r->id == '\0' ||
		    strspn(r->id, "0123456789") != strlen(r->id)) {
			sdr_pes_retour_free(r);
			continue;
		}
		g_ptr_array_add(list, r);
	}
	xmlFreeDoc(doc);
	return g_steal_pointer(&list);
}
