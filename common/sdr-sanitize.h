/* sdr-sanitize.h - the one sanitiser for outside strings a person will read.
 *
 * Every string that a web page, a file or a token supplies and that is shown to
 * a person (document names, media types, reasons, labels, certificate names,
 * error details) goes through sdr_sanitize_for_display() before it is shown: by
 * the terminal prompter, the CLI and the GUI alike. The result is valid UTF-8 in
 * which nothing can move the cursor, clear or retitle a terminal, reorder the
 * text around it or hide characters: such code points are written visibly as
 * "<U+XXXX>", invalid UTF-8 becomes U+FFFD, and the length is capped with "…".
 * Pure functions, thread-safe, no allocation failure paths beyond GLib's.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	SDR_SANITIZE_DEFAULT = 0,
	/* Keep U+000A (multi-line messages of our own that carry outside strings). */
	SDR_SANITIZE_KEEP_NEWLINES = 1 << 0,
} SdrSanitizeFlags;

/* TRUE when c is never shown as is: C0/C1 controls and DEL, bidi controls and
 * marks, line/paragraph separators, format characters (Cf: zero-width, BOM,
 * soft hyphen, tags...), surrogates, non-characters and unassigned code points. */
gboolean sdr_sanitize_unichar_is_unsafe(gunichar c);

/* s (NULL is shown as "") made safe to show; at most max_chars characters
 * (0 = no cap), "…" included when cut; an escape is never cut in the middle.
 * Text with none of the above (French with its accents, guillemets, apostrophes)
 * is returned unchanged. */
char *sdr_sanitize_for_display(const char *s, gsize max_chars);
char *sdr_sanitize_for_display_full(const char *s, gssize len, gsize max_chars,
                                    SdrSanitizeFlags flags);

/* TRUE when s is valid UTF-8 and sdr_sanitize_for_display() would show it
 * unchanged (no cap): the rule for names a page or a file gives us. */
gboolean sdr_sanitize_is_clean(const char *s);

/* RFC 6838 media type: type "/" subtype (restricted-name, 1 to 127 characters
 * each), optionally followed by parameters "; name=value" (value a token or a
 * quoted string of printable ASCII). At most 255 bytes. */
gboolean sdr_sanitize_is_media_type(const char *s);

G_END_DECLS
