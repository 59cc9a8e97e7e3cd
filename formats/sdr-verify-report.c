/* sdr-verify-report.c - the verification report shared by every format: results,
 * reasons, notes. The bottom of formats/'s verification side: includes no verifier. */
#include "sdr-verify-report.h"

#include <glib/gi18n-lib.h>
#include <string.h>

const char *
sdr_reason_code_name(SdrReasonCode code)
{
	static const char *const names[] = {
		[SDR_REASON_NONE] = "NONE",
		[SDR_REASON_DIGEST_MISMATCH] = "DIGEST_MISMATCH",
		[SDR_REASON_SIGNATURE_VALUE] = "SIGNATURE_VALUE",
		[SDR_REASON_SIGNING_CERT_REF] = "SIGNING_CERT_REF",
		[SDR_REASON_DATA_NOT_FOUND] = "DATA_NOT_FOUND",
		[SDR_REASON_CHAIN_NOT_TRUSTED] = "CHAIN_NOT_TRUSTED",
		[SDR_REASON_CERT_EXPIRED] = "CERT_EXPIRED",
		[SDR_REASON_CERT_REVOKED] = "CERT_REVOKED",
		[SDR_REASON_REVOCATION_UNKNOWN] = "REVOCATION_UNKNOWN",
		[SDR_REASON_TIMESTAMP_INVALID] = "TIMESTAMP_INVALID",
		[SDR_REASON_FORMAT] = "FORMAT",
		[SDR_REASON_UNSUPPORTED_ALGORITHM] = "UNSUPPORTED_ALGORITHM",
		[SDR_REASON_WRAPPING] = "WRAPPING",
		[SDR_REASON_BYTERANGE] = "BYTERANGE",
		[SDR_REASON_MODIFIED_AFTER] = "MODIFIED_AFTER",
		[SDR_REASON_PROFILE] = "PROFILE",
		[SDR_REASON_NO_SIGNATURE] = "NO_SIGNATURE",
	};

	if ((guint)code >= G_N_ELEMENTS(names) || names[code] == NULL)
		return "UNKNOWN";
	return names[code];
}

const char *
sdr_level_name(SdrLevel level)
{
	switch (level) {
	case SDR_LEVEL_B_B:
		return "B-B";
	case SDR_LEVEL_B_T:
		return "B-T";
	case SDR_LEVEL_B_LT:
		return "B-LT";
	case SDR_LEVEL_B_LTA:
		return "B-LTA";
	case SDR_LEVEL_NONE:
	default:
		return "none";
	}
}

static SdrReason *
reason_new(SdrReasonCode code, char *message)
{
	SdrReason *r = g_new0(SdrReason, 1);

	r->code = code;
	r->message = message;
	return r;
}

static void
reason_free(gpointer data)
{
	SdrReason *r = data;

	if (r == NULL)
		return;
	g_free(r->message);
	g_free(r);
}

static void
x509_unref(gpointer data)
{
	X509_free(data);
}

SdrSignatureResult *
sdr_signature_result_new(const char *format)
{
	SdrSignatureResult *r = g_new0(SdrSignatureResult, 1);

	r->format = g_strdup(format);
	r->verdict = SDR_VERDICT_VALID;
	r->reasons = g_ptr_array_new_with_free_func(reason_free);
	r->warnings = g_ptr_array_new_with_free_func(reason_free);
	r->chain = g_ptr_array_new_with_free_func(x509_unref);
	r->level = SDR_LEVEL_NONE;
	r->details = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return r;
}

void
sdr_signature_result_free(SdrSignatureResult *result)
{
	if (result == NULL)
		return;
	g_free(result->format);
	g_free(result->id);
	g_ptr_array_unref(result->reasons);
	g_ptr_array_unref(result->warnings);
	X509_free(result->signer);
	g_ptr_array_unref(result->chain);
	if (result->claimed_signing_time != NULL)
		g_date_time_unref(result->claimed_signing_time);
	if (result->timestamp_time != NULL)
		g_date_time_unref(result->timestamp_time);
	g_free(result->digest_algorithm);
	g_hash_table_unref(result->details);
	g_free(result);
}

void
sdr_signature_result_fail(SdrSignatureResult *result, SdrVerdict verdict, SdrReasonCode code,
                          const char *fmt, ...)
{
	va_list ap;
	char *msg;

	g_return_if_fail(result != NULL && fmt != NULL);
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(result->reasons, reason_new(code, msg));
	if (verdict == SDR_VERDICT_INVALID)
		result->verdict = SDR_VERDICT_INVALID;
	else if (verdict == SDR_VERDICT_INDETERMINATE && result->verdict == SDR_VERDICT_VALID)
		result->verdict = SDR_VERDICT_INDETERMINATE;
}

void
sdr_signature_result_warn(SdrSignatureResult *result, SdrReasonCode code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	g_return_if_fail(result != NULL && fmt != NULL);
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(result->warnings, reason_new(code, msg));
}

void
sdr_signature_result_set_detail(SdrSignatureResult *result, const char *key, const char *value)
{
	g_return_if_fail(result != NULL && key != NULL);
	if (value == NULL)
		g_hash_table_remove(result->details, key);
	else
		g_hash_table_replace(result->details, g_strdup(key), g_strdup(value));
}

static void
signature_result_unref(gpointer data)
{
	sdr_signature_result_free(data);
}

SdrVerifyReport *
sdr_verify_report_new(const char *file, const char *format)
{
	SdrVerifyReport *r = g_new0(SdrVerifyReport, 1);

	r->file = g_strdup(file);
	r->format = g_strdup(format);
	r->signatures = g_ptr_array_new_with_free_func(signature_result_unref);
	r->notes = g_ptr_array_new_with_free_func(reason_free);
	return r;
}

void
sdr_verify_report_free(SdrVerifyReport *report)
{
	if (report == NULL)
		return;
	g_free(report->file);
	g_free(report->format);
	g_ptr_array_unref(report->signatures);
	g_ptr_array_unref(report->notes);
	g_free(report);
}

void
sdr_verify_report_note(SdrVerifyReport *report, SdrReasonCode code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	g_return_if_fail(report != NULL && fmt != NULL);
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(report->notes, reason_new(code, msg));
}

SdrVerdict
sdr_verify_report_overall(const SdrVerifyReport *report)
{
	SdrVerdict worst = SDR_VERDICT_VALID;

	g_return_val_if_fail(report != NULL, SDR_VERDICT_INDETERMINATE);
	if (report->signatures->len == 0)
		return SDR_VERDICT_INDETERMINATE;
	for (guint i = 0; i < report->signatures->len; i++) {
		const SdrSignatureResult *s = g_ptr_array_index(report->signatures, i);

		if (s->verdict == SDR_VERDICT_INVALID)
			worst = SDR_VERDICT_INVALID;
		else if (s->verdict == SDR_VERDICT_INDETERMINATE && worst == SDR_VERDICT_VALID)
			worst = SDR_VERDICT_INDETERMINATE;
	}
	return worst;
}
