/* sdr-verify.h - verification of a file whatever its format: the dispatcher on top
 * of the verifiers (sdr-cms-verify.h, sdr-xades-verify.h, sdr-pades-verify.h,
 * sdr-pes-verify.h). The report model it returns is sdr-verify-report.h.
 */
#pragma once

#include "sdr-verify-report.h"

#include <glib.h>

G_BEGIN_DECLS

/* Detects the format of a file and runs its verifier. A file that is not a
 * signature at all gives SDR_ERROR_PARSE / SDR_ERROR_UNSUPPORTED. */
SdrVerifyReport *sdr_verify_file(const char *path, const SdrVerifyOptions *options, GError **error);

/* The detached content of "acte.pdf.p7s" by the platforms' naming habits: the signature
 * name without its .p7s, .sig, .pkcs7, .p7m or .pem extension (any case), when that file
 * exists beside it. NULL when none. */
char *sdr_verify_content_beside(const char *path);

G_END_DECLS
