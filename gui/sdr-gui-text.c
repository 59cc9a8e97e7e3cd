/* sdr-gui-text.c - outside strings made safe to show (see sdr-gui-text.h).
 *
 * The ONLY place the GUI sanitises: every dialog goes through
 * sdr_gui_outside_text(), which uses the project's one sanitiser
 * (common/sdr-sanitize.h), as the terminal prompter does. */
#include "sdr-gui-text.h"

#include "sdr-sanitize.h"

char *
sdr_gui_sanitize(const char *s, gsize max_chars)
{
	return sdr_sanitize_for_display(s, max_chars);
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
