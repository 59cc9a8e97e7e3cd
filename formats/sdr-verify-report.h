/* sdr-verify-report.h - one verification report for every format (CAdES, XAdES,
 * PAdES, PES), and the options every verifier takes. Filled by each format's
 * verifier; turned into JSON, text or an HTML report by the agent. Includes no
 * verifier: every verifier includes it.
 */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef enum {
	SDR_VERDICT_VALID = 0,
	SDR_VERDICT_INVALID,
	SDR_VERDICT_INDETERMINATE,
} SdrVerdict;

/* Stable reason codes (JSON "code"); the text is a French sentence via gettext. */
typedef enum {
	SDR_REASON_NONE = 0,
	SDR_REASON_DIGEST_MISMATCH,    /* a reference / message-digest does not match */
	SDR_REASON_SIGNATURE_VALUE,    /* the signature value is wrong */
	SDR_REASON_SIGNING_CERT_REF,   /* signing-certificate(-v2) reference wrong or missing */
	SDR_REASON_DATA_NOT_FOUND,     /* detached content / referenced data missing */
	SDR_REASON_CHAIN_NOT_TRUSTED,  /* no path to a trust anchor */
	SDR_REASON_CERT_EXPIRED,       /* certificate outside validity at signing time */
	SDR_REASON_CERT_REVOKED,       /* revoked at signing time */
	SDR_REASON_REVOCATION_UNKNOWN, /* no revocation information */
	SDR_REASON_TIMESTAMP_INVALID,  /* signature timestamp does not verify */
	SDR_REASON_FORMAT,             /* structure broken / not what the format requires */
	SDR_REASON_UNSUPPORTED_ALGORITHM,
	SDR_REASON_WRAPPING,       /* signed element is not the one the document uses */
	SDR_REASON_BYTERANGE,      /* PDF ByteRange anomaly */
	SDR_REASON_MODIFIED_AFTER, /* PDF changed after signing (non-benign) */
	SDR_REASON_PROFILE,        /* PES/ACTES profile rule broken */
	SDR_REASON_NO_SIGNATURE,   /* nothing signed (e.g. an unsigned bordereau) */
} SdrReasonCode;

const char *sdr_reason_code_name(SdrReasonCode code); /* "DIGEST_MISMATCH"... */

typedef struct {
	SdrReasonCode code;
	char *message; /* translated, for people */
} SdrReason;

typedef enum {
	SDR_LEVEL_NONE = 0, /* not baseline */
	SDR_LEVEL_B_B,
	SDR_LEVEL_B_T,
	SDR_LEVEL_B_LT,
	SDR_LEVEL_B_LTA,
} SdrLevel;

const char *sdr_level_name(SdrLevel level); /* "B-B", ... "none" */

typedef struct {
	char *format; /* "CAdES", "XAdES", "PAdES", "PES" */
	char *id;     /* signature Id, PDF field name, bordereau Id... */
	SdrVerdict verdict;
	GPtrArray *reasons;              /* SdrReason*, empty when VALID without remark */
	GPtrArray *warnings;             /* SdrReason*, informative (e.g. "not baseline") */
	X509 *signer;                    /* owned reference, may be NULL */
	GPtrArray *chain;                /* X509* (owned refs) as built, may be empty */
	GDateTime *claimed_signing_time; /* may be NULL */
	GDateTime *timestamp_time;       /* may be NULL */
	SdrLevel level;
	char *digest_algorithm; /* "sha256"... */
	/* Format-specific key/value facts (PDF: "revision", "covers_whole_document",
	 * "modifications"; PES: "bordereau"...). Strings only. */
	GHashTable *details;
} SdrSignatureResult;

typedef struct {
	char *file;            /* what was verified */
	char *format;          /* detected format */
	GPtrArray *signatures; /* SdrSignatureResult* */
	GPtrArray *notes;      /* SdrReason*: document-level remarks (unsigned bordereau...) */
} SdrVerifyReport;

SdrSignatureResult *sdr_signature_result_new(const char *format);
void sdr_signature_result_free(SdrSignatureResult *result);
/* Adds a reason and lowers the verdict: INVALID wins over INDETERMINATE. */
void sdr_signature_result_fail(SdrSignatureResult *result, SdrVerdict verdict, SdrReasonCode code,
                               const char *fmt, ...) G_GNUC_PRINTF(4, 5);
void sdr_signature_result_warn(SdrSignatureResult *result, SdrReasonCode code, const char *fmt, ...)
        G_GNUC_PRINTF(3, 4);
void sdr_signature_result_set_detail(SdrSignatureResult *result, const char *key,
                                     const char *value);

SdrVerifyReport *sdr_verify_report_new(const char *file, const char *format);
void sdr_verify_report_free(SdrVerifyReport *report);
void sdr_verify_report_note(SdrVerifyReport *report, SdrReasonCode code, const char *fmt, ...)
        G_GNUC_PRINTF(3, 4);
/* The worst verdict over all signatures (INDETERMINATE when there are none). */
SdrVerdict sdr_verify_report_overall(const SdrVerifyReport *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrSignatureResult, sdr_signature_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrVerifyReport, sdr_verify_report_free)

/* ---- Trust and verification options shared by all verifiers ---- */

typedef struct {
	X509_STORE *trust;        /* anchors: system store + configured bundles (sdr-trust.h) */
	GDateTime *at;            /* --at TIME: validate at this time instead of signing time */
	const char *content_path; /* detached content (--content) */
	GBytes *content;          /* or in memory (bridge); content_path wins */
	gboolean online;          /* may fetch OCSP/CRL (default FALSE: offline verify) */
	/* No revocation information for the signing certificate (none carried, none
	 * fetched: offline, responder down) is INDETERMINATE (REVOCATION_UNKNOWN) when
	 * the certificate publishes an OCSP URL or a CRL distribution point; this makes
	 * it INDETERMINATE also for a certificate that publishes none (else a warning). */
	gboolean require_revocation;
} SdrVerifyOptions;

G_END_DECLS
