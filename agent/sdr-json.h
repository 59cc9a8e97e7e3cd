/* sdr-json.h - JSON shapes shared by the CLI and the bridge (see
 * docs/internals/agent-core.md for every field). */
#pragma once

#include "sdr-token.h"
#include "sdr-verify.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A certificate: id, token_label, subject_cn, organization, issuer_cn, serial,
 * not_before, not_after (ISO 8601 UTC), days_left (calendar days, local time:
 * sdr_time_days_left()), usage, expired (not_after passed), not_yet_valid (not_before
 * in the future), ... now is the reference time (NULL = now). */
JsonObject *sdr_json_from_cert(const SdrCertInfo *cert, GDateTime *now);
JsonObject *sdr_json_from_token(const SdrTokenInfo *token);
JsonObject *sdr_json_from_signature_result(const SdrSignatureResult *result);
JsonObject *sdr_json_from_verify_report(const SdrVerifyReport *report);
/* "VALID", "INVALID", "INDETERMINATE" */
const char *sdr_json_verdict_name(SdrVerdict verdict);

/* The one base64 validator of the agent (the bridge's fields and the handlers'
 * "data"): the standard alphabet, at most two '=' at the end only, a length that is
 * a multiple of 4, a decoded size of at most max_decoded (SDR_ERROR_TOO_LARGE, checked
 * first from the length alone); else SDR_ERROR_BAD_REQUEST. line_breaks: '\n' and
 * '\r' are allowed anywhere and not counted (MIME-wrapped base64). Checked before
 * g_base64_decode(), which skips what it does not know. */
gboolean sdr_json_base64_check(const char *text, gboolean line_breaks, guint64 max_decoded,
                               guint64 *decoded_size, GError **error);

/* Small readers with defaults (absent or wrong type = fallback). */
const char *sdr_json_get_string(JsonObject *obj, const char *member, const char *fallback);
gboolean sdr_json_get_bool(JsonObject *obj, const char *member, gboolean fallback);
gint64 sdr_json_get_int(JsonObject *obj, const char *member, gint64 fallback);

G_END_DECLS
