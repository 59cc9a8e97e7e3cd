/* sdr-sanitize.c - the one sanitiser for outside strings a person will read. */
#include "sdr-sanitize.h"

#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6"    /* U+2026 */
#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define MEDIA_TYPE_MAX 255
#define RESTRICTED_NAME_MAX 127

gboolean
sdr_sanitize_unichar_is_unsafe(gunichar c)
{
	if (c > 0x10FFFF)
		return TRUE;
	/* Non-characters: U+nFFFE, U+nFFFF in every plane, and U+FDD0..U+FDEF. */
	if ((c & 0xFFFE) == 0xFFFE || (c >= 0xFDD0 && c <= 0xFDEF))
		return TRUE;
	/* Named here too, whatever the Unicode tables of this GLib say: bidi
	 * embeddings, overrides, isolates and marks, line/paragraph separators, BOM,
	 * and the invisible Hangul fillers that pass for letters. */
	if (c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029 || c == 0xFEFF ||
	    c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0 || c == 0x180E)
		return TRUE;
	switch (g_unichar_type(c)) {
	case G_UNICODE_CONTROL: /* C0, DEL, C1 */
	case G_UNICODE_FORMAT:  /* zero-width, soft hyphen, tags, ... */
	case G_UNICODE_SURROGATE:
	case G_UNICODE_UNASSIGNED:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
		return TRUE;
	default:
		return FALSE;
	}
}

/* The next code point of s[0..len) in *c and its length; invalid UTF-8 gives
 * (gunichar)-1 and consumes one byte. */
static gsize
next_char(const char *s, gsize len, gunichar *c)
{
	guchar b = (guchar)s[0];
	gunichar u;

	if (b < 0x80) {
		*c = b;
		return 1;
	}
	u = g_utf8_get_char_validated(s, (gssize)MIN(len, 4));
	if (u == (gunichar)-1 || u == (gunichar)-2) {
		*c = (gunichar)-1;
		return 1;
	}
	*c = u;
	return (gsize)(g_utf8_next_char(s) - s);
}

char *
sdr_sanitize_for_display_full(const char *s, gssize len, gsize max_chars, SdrSanitizeFlags flags)
{
	GString *out;
	gsize n, pos = 0, chars = 0, cut_bytes = 0;
	gboolean cut = FALSE;

	if (s == NULL)
		return g_strdup("");
	n = len < 0 ? strlen(s) : (gsize)len;
	out = g_string_sized_new(MIN(n, 4096) + 8);
	while (pos < n) {
		gunichar c;
		gsize step = next_char(s + pos, n - pos, &c);
		gsize piece_chars;
		gsize before = out->len;

		if (c == (gunichar)-1) {
			g_string_append(out, REPLACEMENT);
			piece_chars = 1;
		} else if (c == '\n' && (flags & SDR_SANITIZE_KEEP_NEWLINES)) {
			g_string_append_c(out, '\n');
			piece_chars = 1;
		} else if (sdr_sanitize_unichar_is_unsafe(c)) {
			g_string_append_printf(out, "<U+%04X>", (unsigned int)c);
			piece_chars = out->len - before; /* ASCII */
		} else {
			g_string_append_len(out, s + pos, (gssize)step);
			piece_chars = 1;
		}
		pos += step;
		if (max_chars > 0) {
			if (chars + piece_chars > max_chars) {
				/* This piece does not fit: end at the last one that leaves
				 * room for the ellipsis. */
				cut = TRUE;
				break;
			}
			chars += piece_chars;
			if (chars + 1 <= max_chars)
				cut_bytes = out->len;
		}
	}
	if (cut) {
		g_string_truncate(out, cut_bytes);
		g_string_append(out, ELLIPSIS);
	}
	return g_string_free(out, FALSE);
}

char *
sdr_sanitize_for_display(const char *s, gsize max_chars)
{
	return sdr_sanitize_for_display_full(s, -1, max_chars, SDR_SANITIZE_DEFAULT);
}

gboolean
sdr_sanitize_is_clean(const char *s)
{
	const char *p;

	if (s == NULL || !g_utf8_validate(s, -1, NULL))
		return FALSE;
	for (p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		if (sdr_sanitize_unichar_is_unsafe(g_utf8_get_char(p)))
			return FALSE;
	}
	return TRUE;
}

/* RFC 6838 section 4.2: restricted-name-first = ALPHA / DIGIT, then up to 126 of
 * ALPHA / DIGIT / "!" / "#" / "$" / "&" / "-" / "^" / "_" / "." / "+". */
static gsize
restricted_name(const char *p)
{
	gsize n = 0;

	if (!g_ascii_isalnum(p[0]))
		return 0;
	while (p[n] != '\0' && (g_ascii_isalnum(p[n]) || strchr("!#$&-^_.+", p[n]) != NULL))
		n++;
	return n <= RESTRICTED_NAME_MAX ? n : 0;
}

/* RFC 2045 token: printable ASCII but SPACE and tspecials. */
static gboolean
is_token_char(char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

gboolean
sdr_sanitize_is_media_type(const char *s)
{
	const char *p = s;
	gsize n;

	if (s == NULL || strlen(s) > MEDIA_TYPE_MAX)
		return FALSE;
	if ((n = restricted_name(p)) == 0 || p[n] != '/')
		return FALSE;
	p += n + 1;
	if ((n = restricted_name(p)) == 0)
		return FALSE;
	p += n;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p++ != ';')
			return FALSE;
		while (*p == ' ')
			p++;
		if ((n = restricted_name(p)) == 0 || p[n] != '=')
			return FALSE;
		p += n + 1;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\\' && p[1] >= 0x20 && p[1] < 0x7f)
					p++;
				else if (*p < 0x20 || *p >= 0x7f) /* also the end of the string */
					return FALSE;
			}
			p++;
		} else {
			if (!is_token_char(*p))
				return FALSE;
			while (is_token_char(*p))
				p++;
		}
		while (*p == ' ')
			p++;
	}
	return TRUE;
}
