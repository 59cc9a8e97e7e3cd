/* sdr-agent-s2low.h - sinadur-agent's S²LOW queue poller: every [s2low] poll_interval_s
 * (default 300 s) while sends are pending, runs the "status" handler (send, reconcile,
 * poll) in a worker thread through the bridge's interactive lock, off the main loop.
 * A send that reaches a final state (final, failed, to_reconcile) is announced: a log
 * line on stdout, the notify hook when one is set (the GUI's notification), and a
 * bridge event "s2low-send". Failures back off (interval * 2^n, at most one hour);
 * a PIN error (wrong, blocked, last try, cancelled) or a configuration error (a
 * refused S²LOW password, no keyring) pauses the poller until the agent restarts: it
 * never tries a PIN or a password again on its own. The logged-in connection is kept
 * between polls (sdr_context_keep): one PIN entry while the key stays in.
 */
#pragma once

#include "sdr-bridge-private.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _SdrAgentS2low SdrAgentS2low;

/* send: the send's JSON as "sinadur status --json" gives it (id, kind, state,
 * transaction, status, message...). Called on the main loop. */
typedef void (*SdrAgentS2lowNotify)(JsonObject *send, gpointer user_data);

/* NULL when [s2low] url is not set (nothing to poll). */
SdrAgentS2low *sdr_agent_s2low_start(SdrBridge *bridge, SdrConfig *config);
void sdr_agent_s2low_set_notify(SdrAgentS2low *poller, SdrAgentS2lowNotify notify,
                                gpointer user_data);
/* Stops the timer and waits for a running poll (iterating the main context). */
void sdr_agent_s2low_stop(SdrAgentS2low *poller);

G_END_DECLS
