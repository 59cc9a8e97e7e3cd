/* fuzz-sanitize.c - the display sanitiser: whatever the bytes, the output is
 * valid UTF-8, holds no code point a terminal or a dialog could act on, and
 * respects its cap; clean names are shown unchanged. */
#include "sdr-sanitize.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_output(const char *out, gsize max, gboolean newlines)
{
	if (!g_utf8_validate(out, -1, NULL))
		abort();
	for (const char *p = out; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '\n' && newlines)
			continue;
		if (sdr_sanitize_unichar_is_unsafe(c) || c == 0x1b || c == 0x202e || c == 0x9b)
			abort();
	}
	if (max > 0 && (gsize)g_utf8_strlen(out, -1) > max)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gsize max = size > 0 ? data[0] % 64 : 0;
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *text = NULL;

	a = sdr_sanitize_for_display_full((const char *)data, (gssize)size, 0,
	                                  SDR_SANITIZE_DEFAULT);
	check_output(a, 0, FALSE);
	b = sdr_sanitize_for_display_full((const char *)data, (gssize)size, max,
	                                  SDR_SANITIZE_DEFAULT);
	check_output(b, max, FALSE);
	c = sdr_sanitize_for_display_full((const char *)data, (gssize)size, 0,
	                                  SDR_SANITIZE_KEEP_NEWLINES);
	check_output(c, 0, TRUE);
	/* A clean string is shown as is; the output of the sanitiser is clean. */
	text = g_strndup((const char *)data, size);
	if (strlen(text) == size && sdr_sanitize_is_clean(text) && strcmp(a, text) != 0)
		abort();
	if (!sdr_sanitize_is_clean(a))
		abort();
	(void)sdr_sanitize_is_media_type(text);
	return 0;
}
