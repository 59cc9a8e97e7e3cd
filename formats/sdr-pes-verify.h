/* sdr-pes-verify.h - PES V2 verification: the XAdES signatures of a PES_Aller and
 * the profile's rules. Defined in sdr-pes-verify.c. Signing is sdr-pes.h.
 */
#pragma once

#include "sdr-verify-report.h"

#include <glib.h>

G_BEGIN_DECLS

/* A verdict per ds:Signature (bordereau or PES_Aller) with the profile checks
 * (policy, ClaimedRole, UTC SigningTime, exclusive C14N), and a report note per
 * bordereau left unsigned. Chains are checked against options->trust at the signing
 * time (or options->at). */
SdrVerifyReport *sdr_pes_verify_bytes(GBytes *pes, const char *file_name,
                                      const SdrVerifyOptions *options, GError **error);
SdrVerifyReport *sdr_pes_verify_file(const char *path, const SdrVerifyOptions *options,
                                     GError **error);

G_END_DECLS
