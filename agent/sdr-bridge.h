/* sdr-bridge.h - the local HTTP bridge of sinadur-agent (libmicrohttpd).
 *
 * Two daemons, one bound to 127.0.0.1 and one to ::1 (when the system has IPv6),
 * same port. One thread per connection (bounded), so a request waiting for the
 * user's consent never stalls the others. Every security decision is taken by
 * sdr-bridge-security.h; every action runs through sdr_handler_run().
 * See docs/internals/bridge.md.
 */
#pragma once

#include "sdr-bridge-security.h"
#include "sdr-config.h"
#include "sdr-prompt.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- Server-sent events hub (thread-safe) ----------------------------------- */

typedef struct _SdrBridgeEvents SdrBridgeEvents;

SdrBridgeEvents *sdr_bridge_events_new(void);
void sdr_bridge_events_free(SdrBridgeEvents *events);
/* Queues an event for every subscriber; data is serialised now (borrowed). */
void sdr_bridge_events_publish(SdrBridgeEvents *events, const char *type, JsonNode *data);
/* Wakes every subscriber; sdr_bridge_events_wait() then returns NULL. */
void sdr_bridge_events_close(SdrBridgeEvents *events);
/* The id of the newest event (0 = none yet). */
guint64 sdr_bridge_events_last_id(SdrBridgeEvents *events);
/* The id after which a new stream starts: it replays the events still in the
 * ring (the recent history: key state, expiry warnings). */
guint64 sdr_bridge_events_replay_from(SdrBridgeEvents *events);
/* Waits up to timeout_ms for events newer than *last_id and returns them as
 * server-sent-event text (advancing *last_id), or a keep-alive comment when
 * none came; NULL once closed. */
char *sdr_bridge_events_wait(SdrBridgeEvents *events, guint64 *last_id, guint timeout_ms);

/* ---- The bridge ---------------------------------------------------------------- */

typedef struct _SdrBridge SdrBridge;

/* config and prompt are borrowed and must outlive the bridge; policy is taken. */
SdrBridge *sdr_bridge_new(SdrConfig *config, SdrPrompt *prompt, SdrBridgePolicy *policy);
/* Binds 127.0.0.1:port and [::1]:port (the latter is optional: a system without
 * IPv6 keeps the IPv4 daemon) and starts serving. Port 0 picks a free port. */
gboolean sdr_bridge_start(SdrBridge *bridge, GError **error);
guint16 sdr_bridge_get_port(SdrBridge *bridge);
gboolean sdr_bridge_has_ipv6(SdrBridge *bridge);
/* Stops serving (closes event streams, joins connection threads). */
void sdr_bridge_stop(SdrBridge *bridge);
void sdr_bridge_free(SdrBridge *bridge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrBridge, sdr_bridge_free)

SdrBridgeEvents *sdr_bridge_get_events(SdrBridge *bridge);
const SdrBridgePolicy *sdr_bridge_get_policy(SdrBridge *bridge);

/* Called on PC/SC events: forgets the token managers and the certificate cache,
 * and publishes the event to /v1/events. kind: "token-inserted", "token-removed",
 * "reader-added", "reader-removed", "service-up", "service-down". */
void sdr_bridge_token_event(SdrBridge *bridge, const char *kind, const char *reader);
/* The "certificates" handler's answer (cached; refreshed when stale or when
 * refresh is TRUE). Runs on the calling thread, serialised with token work.
 * Used by the expiry check of sinadur-agent. New reference. */
JsonNode *sdr_bridge_get_certificates(SdrBridge *bridge, gboolean refresh, GError **error);

G_END_DECLS
