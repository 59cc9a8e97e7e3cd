/* sdr-i18n.h - gettext set-up: French unless the environment asks otherwise.
 *
 * Message ids are English; po/fr.po translates them. Users of sinadur work in
 * French, so when no locale variable is set at all we speak French; LANG=C,
 * LANG=en_* (or LANGUAGE=en) gives English.
 */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

/* Call once at the start of main(). Honours $SINADUR_LOCALEDIR (tests, build tree).
 * Also installs g_print()/g_printerr() handlers that transliterate to a terminal
 * charset that is not UTF-8 (LANG=C: "…" becomes "...", not "?"). */
void sdr_i18n_init(void);

G_END_DECLS
