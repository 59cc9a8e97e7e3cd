/* sdr-bridge-routes.h - the bridge's route table and its handlers (private).
 *
 * Every address the bridge serves is one row of the table in
 * sdr-bridge-routes.c: method, path (or prefix), flags, handler. The transport
 * reaches it only through an SdrBridgeRouter (sdr_bridge_routes_router()); the
 * handlers (sdr-bridge-api.c, sdr-bridge-nexu.c) call the core beneath and
 * never the transport. See docs/internals/bridge.md, "Routes". */
#pragma once

#include "sdr-bridge-core.h"

G_BEGIN_DECLS

typedef enum {
	/* NexU compatibility: served only with [bridge] nexu=true. NexU rows
	 * match on method and path together (a NexU path with another method is
	 * "Unknown address", 404); an API v1 path with another method is 405. */
	SDR_BRIDGE_ROUTE_NEXU = 1 << 0,
	/* Served to a GET without Origin (even a cross-site <script src>): the
	 * security decision's allow_no_origin. Static content only. */
	SDR_BRIDGE_ROUTE_ALLOW_NO_ORIGIN = 1 << 1,
	/* Only for a request with an allowed Origin (else not this route). */
	SDR_BRIDGE_ROUTE_NEEDS_ORIGIN = 1 << 2,
	/* The handler reads the body; other handlers are given none. */
	SDR_BRIDGE_ROUTE_NEEDS_BODY = 1 << 3,
	/* path is a prefix ("/x/" matches "/x/anything"); else the whole path. */
	SDR_BRIDGE_ROUTE_PREFIX = 1 << 4,
} SdrBridgeRouteFlags;

typedef void (*SdrBridgeRouteFunc)(SdrBridge *bridge, const SdrBridgeRequest *request,
                                   SdrBridgeReply *reply);

typedef struct {
	const char *method;
	const char *path;
	guint flags; /* SdrBridgeRouteFlags */
	SdrBridgeRouteFunc handle;
} SdrBridgeRoute;

/* The table (NULL-terminated rows: method NULL), for the docs' tests. */
const SdrBridgeRoute *sdr_bridge_routes_table(void);
/* The row serving method + path for this bridge (NexU rows only when on;
 * NEEDS_ORIGIN rows only with an origin), or NULL. */
const SdrBridgeRoute *sdr_bridge_routes_find(SdrBridge *bridge, const char *method,
                                             const char *path, const char *origin);
/* Fills reply: the row's handler, else 405 (an API v1 path with another
 * method) or 404. */
void sdr_bridge_routes_handle(SdrBridge *bridge, const SdrBridgeRequest *request,
                              SdrBridgeReply *reply);
/* The transport's view of the table for this bridge. */
SdrBridgeRouter sdr_bridge_routes_router(SdrBridge *bridge);

/* ---- Handlers: API v1 (sdr-bridge-api.c) ---------------------------------------- */

void sdr_bridge_api_info(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_api_certificates(SdrBridge *bridge, const SdrBridgeRequest *r,
                                 SdrBridgeReply *reply);
void sdr_bridge_api_events(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_api_sign(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_api_verify(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
/* POST /v1/s2low/send and GET /v1/s2low/status/{id} (sdr-bridge-api-s2low.c). */
void sdr_bridge_api_s2low_send(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_api_s2low_status(SdrBridge *bridge, const SdrBridgeRequest *r,
                                 SdrBridgeReply *reply);
/* The shape checks of a /v1/s2low/send body (*pes: a PES, else an act). */
gboolean sdr_bridge_api_s2low_check_send(SdrBridge *bridge, JsonObject *req, gboolean *pes,
                                         GError **error);
/* Shape checks of a POST body (path "/v1/sign", "/v1/verify" or "/v1/s2low/send"); may rewrite it
 * (data-to-sign mode becomes digest mode). Used by the fuzz harness too. */
gboolean sdr_bridge_api_check_body(SdrBridge *bridge, const char *path, JsonObject *req,
                                   GError **error);

/* ---- Handlers: NexU (sdr-bridge-nexu.c) ----------------------------------------- */

void sdr_bridge_nexu_info(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_nexu_script(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_nexu_certificates(SdrBridge *bridge, const SdrBridgeRequest *r,
                                  SdrBridgeReply *reply);
void sdr_bridge_nexu_sign(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply);
void sdr_bridge_nexu_unsupported(SdrBridge *bridge, const SdrBridgeRequest *r,
                                 SdrBridgeReply *reply);

G_END_DECLS
