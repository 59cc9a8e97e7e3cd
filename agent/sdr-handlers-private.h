/* sdr-handlers-private.h - the handlers of the table (agent/ only). */
#pragma once

#include "sdr-context.h"

G_BEGIN_DECLS

JsonNode *sdr_handle_tokens(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_certificates(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_sign(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_verify(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_doctor(SdrContext *ctx, JsonObject *request, GError **error);
JsonNode *sdr_handle_info(SdrContext *ctx, JsonObject *request, GError **error);

/* A node holding obj (ownership taken). */
JsonNode *sdr_json_node_take(JsonObject *obj);

/* Certificates to choose from for signing: the token's (or the file signer's)
 * SdrCertInfo with a private key. */
GPtrArray *sdr_context_list_signing_certs(SdrContext *ctx, GError **error);

G_END_DECLS
