/* sdr-report.h - the French HTML verification report a buyer can read (arrêté du
 * 22 mars 2019): per file and per signature, who signed, when, the certificate
 * (issuer, category, validity), the format, integrity, and whether the certificate
 * was valid at signing time. Self-contained page (no script, no external resource),
 * every value HTML-escaped. Texts go through gettext (French msgstr). */
#pragma once

#include "sdr-verify.h"

#include <glib.h>

G_BEGIN_DECLS

/* reports: SdrVerifyReport*. Returns the page (UTF-8, g_free). */
char *sdr_report_html(GPtrArray *reports);

/* Writes the page to path atomically. */
gboolean sdr_report_write_html(GPtrArray *reports, const char *path, GError **error);

G_END_DECLS
