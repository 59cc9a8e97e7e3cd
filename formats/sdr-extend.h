/* sdr-extend.h - `sinadur extend`: raises an existing CAdES, XAdES or PAdES signature to
 * B-LT or B-LTA (the dispatcher on top of sdr_cms_extend(), sdr_xades_extend_file() and
 * sdr_pades_extend_file()). See docs/internals/cades.md ("Extension").
 */
#pragma once

#include "sdr-cms.h"
#include "sdr-verify-report.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	SdrTargetLevel level;     /* LT or LTA */
	const char *tsa_url;      /* needed for a missing signature timestamp and for LTA */
	X509_STORE *trust;        /* chain building and the verification before/after */
	const char *content_path; /* detached content; NULL: found beside as verify does */
	gboolean renew;           /* LTA only: on a B-LTA file, the validation data of the last
	                           * archive timestamp's TSA and a new archive timestamp */
} SdrExtendRequest;

typedef struct {
	char *format;       /* "CAdES", "XAdES", "PAdES" */
	SdrLevel before;    /* the lowest level of the file's signatures before */
	SdrLevel after;     /* and after (== before when already reached) */
	gboolean already;   /* every signature was at the level asked: nothing written */
	char *content_path; /* the detached content used, if any */
	gboolean renewed;   /* an archive timestamp was added to a B-LTA file (renew) */
} SdrExtendResult;

void sdr_extend_result_clear(SdrExtendResult *result);

/* Verifies input (online revocation), refuses what cannot be extended, adds what the
 * level asks for and writes output atomically (output must not be input; the caller
 * chooses the name). Already at that level: TRUE with result->already, nothing written
 * (with request->renew at B-LTA: renewed instead, result->renewed).
 * Errors: SDR_ERROR_UNSUPPORTED (not a signature, PES, XAdES 1.1.1/1.2.2, BER CMS),
 * SDR_ERROR_INVALID_SIGNATURE (a signature is INVALID, its signer revoked),
 * SDR_ERROR_NETWORK (TSA, OCSP, CRL unreachable), SDR_ERROR_LEVEL_NOT_REACHED (no TSA
 * URL, no revocation data, the result does not verify at the level), SDR_ERROR_NOT_FOUND
 * (detached content missing), SDR_ERROR_IO. Nothing is written on failure. */
gboolean sdr_extend_file(const char *input, const SdrExtendRequest *request, const char *output,
                         SdrExtendResult *result, GError **error);

G_END_DECLS
