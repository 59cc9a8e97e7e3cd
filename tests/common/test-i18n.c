/* test-i18n.c - French when nobody chose, English with LANG=C, French with LANG=fr_*
 * even where that locale is not built. Run as: test-i18n unset|C|fr EXPECTED */
#include "sdr-i18n.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	const char *got;

	if (argc != 3)
		return 2;
	g_unsetenv("LC_ALL");
	g_unsetenv("LC_MESSAGES");
	g_unsetenv("LANGUAGE");
	if (strcmp(argv[1], "unset") == 0)
		g_unsetenv("LANG");
	else if (strcmp(argv[1], "fr") == 0)
		g_setenv("LANG", "fr_FR.UTF-8", TRUE);
	else
		g_setenv("LANG", argv[1], TRUE);
	sdr_i18n_init();
	got = _("No user configuration file.");
	if (strcmp(got, argv[2]) != 0) {
		fprintf(stderr, "LANG=%s: got \"%s\", expected \"%s\"\n", argv[1], got, argv[2]);
		return 1;
	}
	{
		char num[32];

		/* A French locale must not turn 330.5 into "330,50" in documents. */
		snprintf(num, sizeof num, "%.2f", 330.5);
		if (strcmp(num, "330.50") != 0) {
			fprintf(stderr, "LANG=%s: numbers print as \"%s\"\n", argv[1], num);
			return 1;
		}
	}
	return 0;
}
