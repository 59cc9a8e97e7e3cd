/* sdr-handlers-private.h - the handlers of the table (agent/ only). */
#pragma once

#include "sdr-context.h"
#include "sdr-tl-cache.h"

G_BEGIN_DECLS

JsonNode *sdr_handle_tokens(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_certificates(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_sign(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_verify(SdrContext *ctx, JsonObject *request, GError **error);
/* sdr-handlers-extend.c */
JsonNode *sdr_handle_extend(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_doctor(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_info(SdrContext *ctx, JsonObject *request, GError **error);
/* S²LOW (sdr-handlers-s2low.c). */
JsonNode *sdr_handle_s2low_test(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_login(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_logout(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_ar(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_bordereau(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_cancel(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_classification(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_s2low_retours(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_send_actes(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_send_pes(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_status(SdrContext *ctx, JsonObject *request, GError **error);

/* Trusted lists' cache (sdr-handlers-trust.c). */
JsonNode *sdr_handle_trust_update(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_trust_status(SdrContext *ctx, JsonObject *request, GError **error);
/* The [trust] keys, cache in $XDG_CACHE_HOME/sinadur/tl; NULL with SDR_ERROR_CONFIG. */
SdrTlCacheConfig *sdr_handlers_tl_cache_config(SdrContext *ctx, GError **error);

/* The call in progress in this thread (sdr-handler.c): its cancellable (else the
 * context's; may be NULL) and its progress function (see SdrProgressFunc). */
GCancellable *sdr_handler_call_cancellable(SdrContext *ctx);
void sdr_handler_call_progress(SdrContext *ctx, guint done, guint total, const char *current);
/* sdr_prompt_notify() on the context's prompt, remembered by the current call: when
 * it ends, the prompt gets notify(NULL), "the operation ended" (its notices close). */
void sdr_handler_call_notify(SdrContext *ctx, const char *message);

/* A node holding obj (ownership taken). */
JsonNode *sdr_json_node_take(JsonObject *obj);

/* A per-document error as JSON: {code, message, detail?, exit_code}; code is the
 * SDR_ERROR name, or "SDR_ERROR_IO" for other domains; message without the raw
 * library detail, which goes into "detail" (sdr_error_split_detail()). */
JsonObject *sdr_json_from_error(const GError *e);

/* TRUE when data is base64 (sdr_json_base64_check(), line breaks allowed): checked
 * before g_base64_decode, which skips anything else. */
gboolean sdr_handlers_check_base64(const char *data);

/* Certificates to choose from for signing: the token's (or the file signer's)
 * SdrCertInfo with a private key. */
GPtrArray *sdr_context_list_signing_certs(SdrContext *ctx, GError **error);
/* The same listing, and in *others (may be NULL; NULL for the file signer) the token's
 * other certificates (CAs...: chain candidates), read in the same pass. */
GPtrArray *sdr_context_list_certs(SdrContext *ctx, GPtrArray **others, GError **error);

/* "ok", "warning", "critical" (within the largest / smallest [expiry] warn_days),
 * "expired" or "not_yet_valid"; *days_left (may be NULL) from sdr_time_days_left(). */
const char *sdr_handlers_expiry_status(SdrContext *ctx, const SdrCertInfo *cert, GDateTime *now,
                                       gint64 *days_left);
/* Sets out."certificate_expiry" = {not_after, days_left, expiry_status} for cert. */
void sdr_handlers_add_cert_expiry(SdrContext *ctx, JsonObject *out, const SdrCertInfo *cert);

/* The one PIN callback of every login (signing, S²LOW): the final try confirmed
 * first (once per login), the protected authentication path announced before
 * C_Login blocks, the PIN asked through the context's prompt, never under the
 * token lock. user_data is the SdrContext. */
SdrSecret *sdr_handlers_pin_from_prompt(const SdrPinRequest *req, gpointer user_data,
                                        GError **error);

G_END_DECLS
