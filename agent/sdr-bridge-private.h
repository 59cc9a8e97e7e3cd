/* sdr-bridge-private.h - shared between the files of the bridge only. */
#pragma once

#include "sdr-bridge.h"
#include "sdr-handler.h"

G_BEGIN_DECLS

#define SDR_BRIDGE_CERT_CACHE_TTL_US (30 * G_USEC_PER_SEC)
#define SDR_BRIDGE_SSE_KEEPALIVE_MS 15000

struct _SdrBridge {
	SdrConfig *config; /* borrowed */
	SdrPrompt *prompt; /* ours: the deadline wrapper around the caller's prompter */
	SdrBridgePolicy *policy;
	SdrBridgeApprovals *approvals;
	SdrBridgeEvents *events;
	GCancellable *cancellable;
	void *daemon4; /* struct MHD_Daemon */
	void *daemon6;
	guint16 port;
	void *transport; /* sdr-bridge.c's connection table, deadlines and memory budget */

	/* Token work is serialised by the core's token lock (sdr-context.h), which
	 * also keeps one token manager loaded at a time. */
	GMutex contexts_lock; /* guards contexts (not the contexts' token work) */
	GHashTable *contexts; /* origin ("" = none) -> SdrContext */
	/* Interactive requests (consent, PIN): one at a time, others get BUSY. */
	GMutex interactive_lock;

	/* Certificate cache (the "certificates" handler's answer). */
	GMutex cache_lock;
	JsonNode *cert_cache;
	gint64 cert_cache_time;
	char *cert_cache_text; /* serialised, for the hot path */

	/* NexU: the certificate each origin chose, for the agent's lifetime. */
	GMutex nexu_lock;
	GHashTable *nexu_choices; /* origin -> certificate id */
};

typedef struct {
	const char *method;
	const char *path;
	const char *origin; /* allowed origin, or NULL (GET /v1/info only) */
	const char *body;
	gsize body_len;
} SdrBridgeRequest;

typedef struct {
	guint status;
	char *body;               /* JSON text (owned), or NULL */
	gboolean sse;             /* open an event stream */
	const char *content_type; /* static; NULL = application/json */
	gboolean public_script;   /* GET /nexu.js: loadable cross-site (CORP cross-origin) */
} SdrBridgeReply;

/* Wraps a prompter so that a web request never waits longer than timeout_s (or
 * the consent request's own timeout_s) for an answer, nor past the bridge's stop. */
SdrPrompt *sdr_bridge_prompt_new(SdrPrompt *inner, GCancellable *cancellable, guint timeout_s);

/* Fills reply->status 404 when the path is not theirs. */
void sdr_bridge_api_handle(SdrBridge *bridge, const SdrBridgeRequest *request,
                           SdrBridgeReply *reply);
gboolean sdr_bridge_nexu_handle(SdrBridge *bridge, const SdrBridgeRequest *request,
                                SdrBridgeReply *reply);

/* Shape checks of a POST body (path "/v1/sign" or "/v1/verify"); may rewrite it
 * (data-to-sign mode becomes digest mode). Used by the fuzz harness too. */
gboolean sdr_bridge_api_check_body(SdrBridge *bridge, const char *path, JsonObject *req,
                                   GError **error);

/* {"error":{"code":"SDR_ERROR_...","message":"..."}} with the status of the code. */
void sdr_bridge_reply_error(SdrBridgeReply *reply, const GError *error);
void sdr_bridge_reply_error_code(SdrBridgeReply *reply, guint status, int code,
                                 const char *message);
/* Takes node. */
void sdr_bridge_reply_json(SdrBridgeReply *reply, guint status, JsonNode *node);

/* Runs a handler with the origin's context (the core takes the token lock when
 * the handler needs the token: never for info and verify). */
JsonNode *sdr_bridge_run_handler(SdrBridge *bridge, const char *origin, const char *name,
                                 JsonObject *request, GError **error);
/* Runs func with the origin's context under the core's token lock. */
typedef gpointer (*SdrBridgeContextFunc)(SdrContext *ctx, gpointer data, GError **error);
gpointer sdr_bridge_with_context(SdrBridge *bridge, const char *origin, SdrBridgeContextFunc func,
                                 gpointer data, GError **error);
/* Asks the first-use approval of an origin for listing certificates. */
gboolean sdr_bridge_approve_listing(SdrBridge *bridge, const char *origin, GError **error);
/* The certificate list without ever waiting for the token: the cache (even
 * stale) while token work runs, NULL when there is none yet. */
JsonNode *sdr_bridge_peek_certificates(SdrBridge *bridge);
/* Certificates as serialised JSON text (cached). */
char *sdr_bridge_certificates_text(SdrBridge *bridge, GError **error);

G_END_DECLS
