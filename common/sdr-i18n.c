/* sdr-i18n.c - gettext set-up. */
#include "sdr-i18n.h"

#include "sdr-config-build.h"

#include <libintl.h>
#include <locale.h>
#include <stdlib.h>

static gboolean
env_set(const char *name)
{
	const char *v = g_getenv(name);

	return v != NULL && v[0] != '\0';
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
}
