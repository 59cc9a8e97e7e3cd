/* sdr-pades-verify.h - verification of every signature and document timestamp of a
 * PDF. Defined in sdr-pades-verify.c. Signing is sdr-pades.h.
 */
#pragma once

#include "sdr-verify-report.h"

#include <glib.h>

G_BEGIN_DECLS

/* Verifies every signature and document timestamp of a PDF. The dispatcher
 * sdr_verify_file() calls it for files starting with %PDF-. */
SdrVerifyReport *sdr_pades_verify_file(const char *path, const SdrVerifyOptions *options,
                                       GError **error);
SdrVerifyReport *sdr_pades_verify_bytes(GBytes *pdf, const char *file_name,
                                        const SdrVerifyOptions *options, GError **error);

G_END_DECLS
