/* sdr-gui-text.c - outside strings made safe to show (see sdr-gui-text.h).
 *
 * The ONLY place the GUI sanitises: every dialog goes through
 * sdr_gui_outside_text(). */
#include "sdr-gui-text.h"

#include <string.h>

/* TEMPORARY until common/sdr-sanitize.h lands: the lead points sdr_gui_sanitize()
 * at sdr_sanitize_for_display() and deletes local_sanitize(). */
static char *
local_sanitize(const char *s, gsize max_chars)
{
	g_autofree char *valid = g_utf8_make_valid(s != NULL ? s : "", -1);
	GString *out = g_string_new(NULL);
	gsize n = 0;

	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeType t = g_unichar_type(c);

		if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_UNASSIGNED ||
		    t == G_UNICODE_PRIVATE_USE || t == G_UNICODE_SURROGATE ||
		    t == G_UNICODE_LINE_SEPARATOR || t == G_UNICODE_PARAGRAPH_SEPARATOR) {
			if (c == '\t' || c == '\n' || c == '\r') {
				g_string_append_c(out, ' ');
				n++;
			}
			continue;
		}
		if (max_chars > 0 && n >= max_chars) {
			g_string_append(out, "…");
			break;
		}
		g_string_append_unichar(out, c);
		n++;
	}
	return g_string_free(out, FALSE);
}

char *
sdr_gui_sanitize(const char *s, gsize max_chars)
{
	return local_sanitize(s, max_chars); /* -> sdr_sanitize_for_display(s, max_chars) */
}

char *
sdr_gui_outside_text(const char *s, gsize max_chars)
{
	g_autofree char *clean = NULL;

	if (s == NULL)
		return NULL;
	clean = sdr_gui_sanitize(s, max_chars);
	return g_strconcat("\u2068", clean, "\u2069", NULL);
}
