/* sdr-gui-text.h - outside strings (origins, file names, certificate names) made
 * safe to show: sanitised and bidi-isolated. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SDR_GUI_TEXT_MAX 200 /* characters of one outside string in a dialog */

/* The project's sanitiser (control and bidi-override characters removed,
 * invalid UTF-8 repaired, cut at max_chars). Never NULL. */
char *sdr_gui_sanitize(const char *s, gsize max_chars);
/* U+2068 FIRST STRONG ISOLATE + sanitised s + U+2069 POP DIRECTIONAL ISOLATE;
 * NULL gives NULL. */
char *sdr_gui_outside_text(const char *s, gsize max_chars);

G_END_DECLS
