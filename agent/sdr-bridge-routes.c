/* sdr-bridge-routes.c - the one table of the bridge's addresses, and the
 * dispatch the transport calls through its SdrBridgeRouter. */
#include "sdr-bridge-routes.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define NEXU SDR_BRIDGE_ROUTE_NEXU
#define NO_ORIGIN SDR_BRIDGE_ROUTE_ALLOW_NO_ORIGIN
#define ORIGIN SDR_BRIDGE_ROUTE_NEEDS_ORIGIN
#define BODY SDR_BRIDGE_ROUTE_NEEDS_BODY
#define PREFIX SDR_BRIDGE_ROUTE_PREFIX

/* NexU rows come first: before the refactoring, NexU answered before API v1
 * (no path is shared today; the order keeps it so if one ever is). */
static const SdrBridgeRoute routes[] = {
	/* NexU compatibility ([bridge] nexu=true). */
	{ "GET", "/nexu-info", NEXU, sdr_bridge_nexu_info },
	{ "GET", "/nexu.js", NEXU | NO_ORIGIN, sdr_bridge_nexu_script },
	{ "POST", "/rest/certificates", NEXU | ORIGIN | BODY, sdr_bridge_nexu_certificates },
	{ "POST", "/rest/sign", NEXU | ORIGIN | BODY, sdr_bridge_nexu_sign },
	{ "POST", "/rest/identityInfo", NEXU | ORIGIN | BODY, sdr_bridge_nexu_unsupported },
	{ "POST", "/rest/authenticate", NEXU | ORIGIN | BODY, sdr_bridge_nexu_unsupported },
	/* API v1. */
	{ "GET", "/v1/info", 0, sdr_bridge_api_info },
	{ "GET", "/v1/certificates", 0, sdr_bridge_api_certificates },
	{ "GET", "/v1/events", 0, sdr_bridge_api_events },
	{ "POST", "/v1/sign", BODY, sdr_bridge_api_sign },
	{ "POST", "/v1/verify", BODY, sdr_bridge_api_verify },
	/* S²LOW: a portal sends what was just signed (sdr-bridge-api-s2low.c). */
	{ "POST", "/v1/s2low/send", ORIGIN | BODY, sdr_bridge_api_s2low_send },
	{ "GET", "/v1/s2low/status/", ORIGIN | PREFIX, sdr_bridge_api_s2low_status },
	{ NULL, NULL, 0, NULL },
};

const SdrBridgeRoute *
sdr_bridge_routes_table(void)
{
	return routes;
}

static gboolean
path_matches(const SdrBridgeRoute *route, const char *path)
{
	if (path == NULL)
		return FALSE;
	if (route->flags & SDR_BRIDGE_ROUTE_PREFIX)
		return g_str_has_prefix(path, route->path);
	return strcmp(path, route->path) == 0;
}

static gboolean
route_on(SdrBridge *bridge, const SdrBridgeRoute *route, const char *origin)
{
	if ((route->flags & SDR_BRIDGE_ROUTE_NEXU) && !sdr_bridge_policy_get_nexu(bridge->policy))
		return FALSE;
	return origin != NULL || !(route->flags & SDR_BRIDGE_ROUTE_NEEDS_ORIGIN);
}

const SdrBridgeRoute *
sdr_bridge_routes_find(SdrBridge *bridge, const char *method, const char *path, const char *origin)
{
	for (const SdrBridgeRoute *r = routes; r->method != NULL; r++) {
		if (g_strcmp0(method, r->method) == 0 && path_matches(r, path) &&
		    route_on(bridge, r, origin))
			return r;
	}
	return NULL;
}

/* An API v1 path known with another method (NexU rows never answer 405). */
static gboolean
path_known(const char *path)
{
	for (const SdrBridgeRoute *r = routes; r->method != NULL; r++) {
		if (!(r->flags & SDR_BRIDGE_ROUTE_NEXU) && path_matches(r, path))
			return TRUE;
	}
	return FALSE;
}

void
sdr_bridge_routes_handle(SdrBridge *bridge, const SdrBridgeRequest *request, SdrBridgeReply *reply)
{
	const SdrBridgeRoute *r =
	        sdr_bridge_routes_find(bridge, request->method, request->path, request->origin);
	SdrBridgeRequest req = *request;

	if (r == NULL) {
		if (path_known(request->path))
			sdr_bridge_reply_error_code(reply, 405, SDR_ERROR_BAD_REQUEST,
			                            _("Method not allowed"));
		else
			sdr_bridge_reply_error_code(reply, 404, SDR_ERROR_NOT_FOUND,
			                            _("Unknown address"));
		return;
	}
	if (!(r->flags & SDR_BRIDGE_ROUTE_NEEDS_BODY)) {
		req.body = NULL;
		req.body_len = 0;
	}
	r->handle(bridge, &req, reply);
}

static gboolean
router_allows_no_origin(gpointer data, const char *method, const char *path)
{
	const SdrBridgeRoute *r = sdr_bridge_routes_find(data, method, path, NULL);

	return r != NULL && (r->flags & SDR_BRIDGE_ROUTE_ALLOW_NO_ORIGIN) &&
	       g_strcmp0(method, "GET") == 0;
}

static void
router_handle(gpointer data, const SdrBridgeRequest *request, SdrBridgeReply *reply)
{
	sdr_bridge_routes_handle(data, request, reply);
}

SdrBridgeRouter
sdr_bridge_routes_router(SdrBridge *bridge)
{
	SdrBridgeRouter router = { router_allows_no_origin, router_handle, bridge };

	return router;
}
