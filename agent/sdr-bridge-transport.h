/* sdr-bridge-transport.h - the HTTP transport of the bridge (libmicrohttpd).
 *
 * Daemons on 127.0.0.1 and [::1], connection tracking (deadlines, capacity),
 * the request memory budget, the HTTP strictness checks, the security decision
 * call (sdr-bridge-security.h), body buffering, and the writing of answers and
 * event streams. It knows no route: a request that passed every check is handed
 * to the router below, which fills a reply. See docs/internals/bridge.md. */
#pragma once

#include "sdr-bridge-security.h"
#include "sdr-bridge.h"

#include <glib.h>

G_BEGIN_DECLS

/* What the transport hands a route: the request that passed the security
 * decision, its body read in full (within the cap and the memory budget). */
typedef struct {
	const char *method;
	const char *path;
	const char *origin; /* allowed origin, or NULL (GET /v1/info only) */
	const char *body;
	gsize body_len;
} SdrBridgeRequest;

/* What a route gives back. */
typedef struct {
	guint status;             /* 0: nobody answered (the transport answers 404) */
	char *body;               /* JSON text (owned), or NULL */
	SdrBridgeEvents *stream;  /* non-NULL: open an event stream on this hub instead */
	const char *content_type; /* static; NULL = application/json */
	gboolean public_script;   /* GET /nexu.js: loadable cross-site (CORP cross-origin) */
} SdrBridgeReply;

/* The transport's only view of the routes. */
typedef struct {
	/* At head time, before the security decision: may this GET be served
	 * without Origin (SdrBridgeRequestHead.allow_no_origin)? */
	gboolean (*allows_no_origin)(gpointer data, const char *method, const char *path);
	/* Fills reply (on the connection's thread; may wait for a person). */
	void (*handle)(gpointer data, const SdrBridgeRequest *request, SdrBridgeReply *reply);
	gpointer data;
} SdrBridgeRouter;

typedef struct _SdrBridgeTransport SdrBridgeTransport;

/* policy is borrowed (its bound port is set by start); router is copied. */
SdrBridgeTransport *sdr_bridge_transport_new(SdrBridgePolicy *policy,
                                             const SdrBridgeRouter *router);
/* Binds 127.0.0.1:port then [::1]:port (optional when the system has no IPv6;
 * an error when another program holds it). Port 0 picks a free port. */
gboolean sdr_bridge_transport_start(SdrBridgeTransport *transport, GError **error);
guint16 sdr_bridge_transport_get_port(SdrBridgeTransport *transport);
gboolean sdr_bridge_transport_has_ipv6(SdrBridgeTransport *transport);
/* Stops the daemons (joins the connection threads) and the watchdog. */
void sdr_bridge_transport_stop(SdrBridgeTransport *transport);
void sdr_bridge_transport_free(SdrBridgeTransport *transport);

G_END_DECLS
