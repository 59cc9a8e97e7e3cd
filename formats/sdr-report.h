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

/* The certificate's category for people: "Qualified certificate (eIDAS)" when it
 * has QCStatements, then each certificate policy (at most 16) by
 * sdr_report_policy_text(), "; "-separated; "not stated by the certificate" when
 * neither. Translated, g_free. */
char *sdr_report_certificate_category(X509 *cert);
/* A policy OID for people: the ETSI qualified / normalized policies and anyPolicy by
 * name (the OID after it), the ANSSI's arc 1.2.250.1.223 as such, anything else
 * "policy OID". Translated, g_free. */
char *sdr_report_policy_text(const char *oid);

/* Writes the page to path atomically. */
gboolean sdr_report_write_html(GPtrArray *reports, const char *path, GError **error);

G_END_DECLS
