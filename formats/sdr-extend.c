/* sdr-extend.c - `sinadur extend`: verify, refuse or extend, write, verify again. */
#include "sdr-extend.h"

#include "sdr-cms-verify.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-pades.h"
#include "sdr-verify.h"
#include "sdr-xades.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#define EXTEND_CMS_MAX ((gsize)256 * 1024 * 1024)

void
sdr_extend_result_clear(SdrExtendResult *result)
{
	if (result == NULL)
		return;
	g_clear_pointer(&result->format, g_free);
	g_clear_pointer(&result->content_path, g_free);
}

static SdrTargetLevel
target_of(SdrLevel level)
{
	switch (level) {
	case SDR_LEVEL_B_LTA:
		return SDR_TARGET_LEVEL_LTA;
	case SDR_LEVEL_B_LT:
		return SDR_TARGET_LEVEL_LT;
	case SDR_LEVEL_B_T:
		return SDR_TARGET_LEVEL_T;
	default:
		return SDR_TARGET_LEVEL_B;
	}
}

static gboolean
is_doc_timestamp(SdrSignatureResult *r)
{
	const char *t = r->details != NULL ? g_hash_table_lookup(r->details, "type") : NULL;

	return g_strcmp0(t, "document-timestamp") == 0;
}

/* The lowest level of the signatures (document timestamps aside); refuses INVALID ones. */
static gboolean
lowest_level(SdrVerifyReport *report, SdrLevel *out, GError **error)
{
	gboolean any = FALSE;
	SdrLevel low = SDR_LEVEL_B_LTA;

	for (guint i = 0; i < report->signatures->len; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);
		g_autofree char *who =
		        r->signer != NULL ? sdr_cert_display_name(r->signer) : g_strdup("?");

		if (is_doc_timestamp(r))
			continue;
		any = TRUE;
		for (guint k = 0; r->verdict == SDR_VERDICT_INVALID && k < r->reasons->len; k++) {
			SdrReason *why = g_ptr_array_index(r->reasons, k);

			if (why->code == SDR_REASON_CERT_REVOKED) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_INVALID_SIGNATURE,
				            _("The signer's certificate (%s) is revoked: the "
				              "signature is not extended (%s)"),
				            who, why->message);
				return FALSE;
			}
		}
		if (r->verdict == SDR_VERDICT_INVALID) {
			SdrReason *why =
			        r->reasons->len > 0 ? g_ptr_array_index(r->reasons, 0) : NULL;

			g_set_error(error, SDR_ERROR, SDR_ERROR_INVALID_SIGNATURE,
			            _("The signature of %s is not valid: it is not extended (%s)"),
			            who, why != NULL ? why->message : "?");
			return FALSE;
		}
		if (r->level < low)
			low = r->level;
	}
	if (!any) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("The file holds no signature to extend"));
		return FALSE;
	}
	*out = low;
	return TRUE;
}

static gboolean
extend_cms(const char *input, const char *content_path, const SdrExtendOptions *eo,
           const char *output, GError **error)
{
	g_autoptr(GBytes) cms = sdr_file_read(input, EXTEND_CMS_MAX, error);
	g_autoptr(GInputStream) content = NULL;
	g_autoptr(GBytes) out = NULL;

	if (cms == NULL)
		return FALSE;
	if (content_path != NULL && sdr_cms_is_detached(cms)) {
		g_autoptr(GFile) f = g_file_new_for_path(content_path);

		content = G_INPUT_STREAM(g_file_read(f, NULL, error));
		if (content == NULL)
			return FALSE;
	}
	out = sdr_cms_extend(cms, content, eo, error);
	return out != NULL && sdr_file_write_atomic(output, g_bytes_get_data(out, NULL),
	                                            g_bytes_get_size(out), error);
}

static gboolean
extend_xml(const char *input, const char *content_path, const SdrExtendOptions *eo,
           const char *output, GError **error)
{
	g_autoptr(GBytes) out = sdr_xades_extend_file(input, content_path, eo, error);

	return out != NULL && sdr_file_write_atomic(output, g_bytes_get_data(out, NULL),
	                                            g_bytes_get_size(out), error);
}

static const char *
level_text(SdrTargetLevel l)
{
	return l == SDR_TARGET_LEVEL_LTA ? "B-LTA" : l == SDR_TARGET_LEVEL_LT ? "B-LT" : "B-T";
}

/* The output must verify at the level asked (and not INVALID); else it is removed. */
static gboolean
check_output(const char *output, const SdrVerifyOptions *vo, SdrTargetLevel level, SdrLevel *after,
             GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(SdrVerifyReport) report = sdr_verify_file(output, vo, &local);
	SdrLevel got = SDR_LEVEL_NONE;

	if (report == NULL || !lowest_level(report, &got, &local) || target_of(got) < level) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("The extended signature does not verify at level %s (%s): nothing "
		              "is written"),
		            level_text(level),
		            local != NULL ? local->message : sdr_level_name(got));
		(void)g_unlink(output);
		return FALSE;
	}
	*after = got;
	return TRUE;
}

/* long: one straight sequence: verify, refuse what cannot be extended, dispatch by
 * format, verify the output; each step needs the previous one's facts */
gboolean
sdr_extend_file(const char *input, const SdrExtendRequest *req, const char *output,
                SdrExtendResult *result, GError **error)
{
	SdrVerifyOptions vo = { 0 };
	SdrExtendOptions eo = { 0 };
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autofree char *content = NULL;
	GError *local = NULL;
	SdrLevel low = SDR_LEVEL_NONE;
	gboolean ok;

	g_return_val_if_fail(input != NULL && req != NULL && output != NULL && result != NULL,
	                     FALSE);
	memset(result, 0, sizeof *result);
	if (req->level < SDR_TARGET_LEVEL_LT) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("extend raises a signature to LT or LTA"));
		return FALSE;
	}
	content = g_strdup(req->content_path);
	vo.trust = req->trust;
	vo.content_path = content;
	vo.online = TRUE;
	report = sdr_verify_file(input, &vo, &local);
	if (report == NULL) {
		if (local->domain == SDR_ERROR &&
		    (local->code == SDR_ERROR_PARSE || local->code == SDR_ERROR_UNSUPPORTED))
			g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			            _("%s is not a signature that can be extended: %s"), input,
			            local->message);
		else
			g_propagate_error(error, g_steal_pointer(&local));
		g_clear_error(&local);
		return FALSE;
	}
	if (g_strcmp0(report->format, "PES") == 0) {
		g_set_error_literal(
		        error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		        _("PES signatures (XAdES-EPES of the Hélios profile) are not extended: the "
		          "PES V2 profile defines no long-term level"));
		return FALSE;
	}
	if (!lowest_level(report, &low, error))
		return FALSE;
	result->format = g_strdup(report->format);
	result->before = low;
	result->after = low;
	if (target_of(low) >= req->level && !(req->renew && low == SDR_LEVEL_B_LTA)) {
		result->already = TRUE;
		return TRUE;
	}
	result->renewed = req->renew && low == SDR_LEVEL_B_LTA;
	if (req->tsa_url == NULL || req->tsa_url[0] == '\0') {
		if (target_of(low) < SDR_TARGET_LEVEL_T || req->level == SDR_TARGET_LEVEL_LTA) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
			            _("Level %s needs a timestamp authority (TSA) URL"),
			            level_text(req->level));
			return FALSE;
		}
	}
	if (content == NULL && g_strcmp0(report->format, "CAdES") == 0)
		content = sdr_verify_content_beside(input);
	result->content_path = g_strdup(content);
	eo.level = req->level;
	eo.current = target_of(low);
	eo.tsa_url = req->tsa_url;
	eo.trust = req->trust;
	eo.renew = result->renewed;
	if (g_strcmp0(report->format, "CAdES") == 0)
		ok = extend_cms(input, content, &eo, output, error);
	else if (g_strcmp0(report->format, "PAdES") == 0)
		ok = sdr_pades_extend_file(input, &eo, output, error);
	else if (g_strcmp0(report->format, "XAdES") == 0 ||
	         g_strcmp0(report->format, "XMLDSig") == 0)
		ok = extend_xml(input, content, &eo, output, error);
	else {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("Signatures of format %s are not extended"), report->format);
		ok = FALSE;
	}
	if (!ok)
		return FALSE;
	vo.online = FALSE;
	vo.content_path = content;
	return check_output(output, &vo, req->level, &result->after, error);
}
