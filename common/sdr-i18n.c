/* sdr-i18n.c - gettext set-up. */
#include "sdr-i18n.h"

#include "sdr-config-build.h"

#include <errno.h>
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean
env_set(const char *name)
{
	const char *v = g_getenv(name);

	return v != NULL && v[0] != '\0';
}

/* Text for a terminal whose charset is not UTF-8 (LANG=C): transliterated ("…" ->
 * "...", "“x”" -> "\"x\"") rather than GLib's "?" for every character it cannot
 * write. */
static char *
to_terminal(const char *text)
{
	const char *charset = NULL;
	g_autofree char *to = NULL;
	GIConv cd;
	gsize in_left, out_left, cap;
	char *in, *out, *buf;

	if (g_get_charset(&charset))
		return NULL; /* UTF-8: as is */
	to = g_strconcat(charset, "//TRANSLIT", NULL);
	cd = g_iconv_open(to, "UTF-8");
	if (cd == (GIConv)-1)
		return g_convert_with_fallback(text, -1, charset, "UTF-8", "?", NULL, NULL, NULL);
	/* g_convert() refuses transliteration (a count of replaced characters is an
	 * error to it): iconv itself, "?" for what cannot be transliterated. */
	in = (char *)text;
	in_left = strlen(text);
	cap = in_left * 4 + 16;
	buf = g_malloc(cap);
	out = buf;
	out_left = cap - 1;
	while (in_left > 0) {
		if (g_iconv(cd, &in, &in_left, &out, &out_left) != (gsize)-1)
			break;
		if (errno == E2BIG || out_left < 2)
			break;
		/* EILSEQ / EINVAL: skip one UTF-8 character. */
		{
			const char *next = g_utf8_find_next_char(in, in + in_left);
			gsize skip = next != NULL ? (gsize)(next - in) : in_left;

			*out++ = '?';
			out_left--;
			in += skip;
			in_left -= skip;
		}
	}
	*out = '\0';
	g_iconv_close(cd);
	return buf;
}

static void
print_out(const char *text)
{
	g_autofree char *conv = to_terminal(text);

	fputs(conv != NULL ? conv : text, stdout);
	fflush(stdout);
}

static void
print_err(const char *text)
{
	g_autofree char *conv = to_terminal(text);

	fputs(conv != NULL ? conv : text, stderr);
}

void
sdr_i18n_init(void)
{
	const char *dir = g_getenv("SINADUR_LOCALEDIR");
	const char *asked = NULL;

	if (env_set("LC_ALL"))
		asked = g_getenv("LC_ALL");
	else if (env_set("LC_MESSAGES"))
		asked = g_getenv("LC_MESSAGES");
	else if (env_set("LANG"))
		asked = g_getenv("LANG");

	if (asked == NULL) {
		/* Nobody chose: French. glibc reads $LANGUAGE for any locale but
		 * plain "C", so a UTF-8 C locale is enough when fr_FR is not built. */
		if (setlocale(LC_ALL, "fr_FR.UTF-8") == NULL)
			(void)setlocale(LC_ALL, "C.UTF-8");
		if (!env_set("LANGUAGE"))
			g_setenv("LANGUAGE", "fr", TRUE);
	} else if (setlocale(LC_ALL, "") == NULL) {
		/* Asked for a locale this system has not built: keep its language. */
		(void)setlocale(LC_ALL, "C.UTF-8");
		if (g_str_has_prefix(asked, "fr") && !env_set("LANGUAGE"))
			g_setenv("LANGUAGE", "fr", TRUE);
	}
	/* Numbers written into documents (PDF coordinates, XML, JSON) must never
	 * take a French decimal comma: only messages and dates follow the locale. */
	(void)setlocale(LC_NUMERIC, "C");
	if (dir == NULL || dir[0] == '\0')
		dir = g_file_test(SDR_LOCALEDIR "/fr/LC_MESSAGES/" GETTEXT_PACKAGE ".mo",
		                  G_FILE_TEST_EXISTS)
		              ? SDR_LOCALEDIR
		              : SDR_BUILD_LOCALEDIR;
	bindtextdomain(GETTEXT_PACKAGE, dir);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	/* g_print()/g_printerr() (GOption's --help among them) on a terminal that is
	 * not UTF-8. */
	(void)g_set_print_handler(print_out);
	(void)g_set_printerr_handler(print_err);
}
