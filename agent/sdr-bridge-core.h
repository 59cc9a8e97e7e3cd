/* sdr-bridge-core.h - the bridge's shared core, beneath the routes (private).
 *
 * One copy each of: the reply helpers, the handler runner and the token lock,
 * the per-origin contexts, the certificate cache, the first-use approvals, the
 * interactive lock (one consent or choice at a time, others BUSY) and the
 * hashing of data to sign. It calls neither the transport nor a route.
 * See docs/internals/bridge.md. */
#pragma once

#include "sdr-bridge-transport.h"
#include "sdr-bridge.h"
#include "sdr-crypto.h"
#include "sdr-handler.h"

G_BEGIN_DECLS

#define SDR_BRIDGE_CERT_CACHE_TTL_US (30 * G_USEC_PER_SEC)

struct _SdrBridge {
	SdrConfig *config; /* borrowed */
	SdrPrompt *prompt; /* ours: the deadline wrapper around the caller's prompter */
	SdrBridgePolicy *policy;
	SdrBridgeApprovals *approvals;
	SdrBridgeEvents *events;
	GCancellable *cancellable;
	SdrBridgeTransport *transport; /* sdr-bridge-transport.c: daemons, connections */
	guint16 port;                  /* once started */
	gboolean ipv6;                 /* once started: [::1] served too */

	/* Token work is serialised by the core's token lock (sdr-context.h), which
	 * also keeps one token manager loaded at a time. */
	GMutex contexts_lock; /* guards contexts (not the contexts' token work) */
	GHashTable *contexts; /* origin ("" = none) -> SdrContext */
	/* Interactive requests (consent, PIN): one at a time, others get BUSY. */
	GMutex interactive_lock;
	gint handlers_running; /* atomic: handler calls in progress (sdr_bridge_is_busy) */

	/* Certificate cache (the "certificates" handler's answer). */
	GMutex cache_lock;
	JsonNode *cert_cache;
	gint64 cert_cache_time;
	char *cert_cache_text; /* serialised, for the hot path */

	/* NexU: the certificate each origin chose, for the agent's lifetime. */
	GMutex nexu_lock;
	GHashTable *nexu_choices; /* origin -> certificate id */
};

/* ---- Replies ------------------------------------------------------------------- */

/* {"error":{"code":"SDR_ERROR_...","message":"..."}} with the status of the code. */
void sdr_bridge_reply_error(SdrBridgeReply *reply, const GError *error);
void sdr_bridge_reply_error_code(SdrBridgeReply *reply, guint status, int code,
                                 const char *message);
/* Takes node. */
void sdr_bridge_reply_json(SdrBridgeReply *reply, guint status, JsonNode *node);

/* ---- Handlers and the token ---------------------------------------------------- */

/* Runs a handler with the origin's context (the core takes the token lock when
 * the handler needs the token: never for info and verify). */
JsonNode *sdr_bridge_run_handler(SdrBridge *bridge, const char *origin, const char *name,
                                 JsonObject *request, GError **error);
/* The same with the call's cancellable (a cancelled "sign" batch still answers)
 * and progress function (called in the calling thread): the GUI's batches. */
JsonNode *sdr_bridge_run_handler_full(SdrBridge *bridge, const char *origin, const char *name,
                                      JsonObject *request, GCancellable *cancellable,
                                      SdrProgressFunc progress, gpointer progress_data,
                                      GError **error);
/* Runs func with the origin's context under the core's token lock. */
typedef gpointer (*SdrBridgeContextFunc)(SdrContext *ctx, gpointer data, GError **error);
gpointer sdr_bridge_with_context(SdrBridge *bridge, const char *origin, SdrBridgeContextFunc func,
                                 gpointer data, GError **error);

/* ---- Interactive requests -------------------------------------------------------- */

/* Takes the interactive lock at once, or fails with SDR_ERROR_BUSY (409): a
 * second consent window is never queued behind the first. */
gboolean sdr_bridge_interactive_begin(SdrBridge *bridge, GError **error);
void sdr_bridge_interactive_end(SdrBridge *bridge);
/* TRUE while a handler runs (any caller: bridge, GUI, S²LOW poller). With the
 * interactive lock held, FALSE means nothing is in progress and no consent or
 * signature can start (sinadur-agent's restart after an upgrade). */
gboolean sdr_bridge_is_busy(SdrBridge *bridge);
/* sdr_bridge_run_handler() under the interactive lock (BUSY when it is taken):
 * the one sequence of every signature request, API v1 and NexU. */
JsonNode *sdr_bridge_run_interactive(SdrBridge *bridge, const char *origin, const char *name,
                                     JsonObject *request, GError **error);

/* ---- Approvals and certificates -------------------------------------------------- */

/* Asks the first-use approval of an origin for listing certificates. */
gboolean sdr_bridge_approve_listing(SdrBridge *bridge, const char *origin, GError **error);
/* The certificate list without ever waiting for the token: the cache (even
 * stale) while token work runs, NULL when there is none yet. */
JsonNode *sdr_bridge_peek_certificates(SdrBridge *bridge);
/* Certificates as serialised JSON text (cached). */
char *sdr_bridge_certificates_text(SdrBridge *bridge, GError **error);

/* ---- Data to sign ---------------------------------------------------------------- */

/* The base64 digest of the base64 data b64 (already checked by
 * sdr_bridge_base64_check) with alg: DSS and Libersign send the data to sign,
 * the token signs its digest. */
char *sdr_bridge_hash_data_to_sign(const char *b64, SdrHashAlg alg, GError **error);

G_END_DECLS
