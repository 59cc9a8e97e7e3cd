/* sdr-bridge.c - the bridge's life cycle: assembles the core (sdr-bridge-core.c),
 * the route table (sdr-bridge-routes.c) and the transport
 * (sdr-bridge-transport.c), which reaches the table only through the
 * SdrBridgeRouter given here. */
#include "sdr-bridge-private.h"

#include "sdr-context.h"

static void
context_unref(gpointer p)
{
	sdr_context_free(p);
}

SdrBridge *
sdr_bridge_new(SdrConfig *config, SdrPrompt *prompt, SdrBridgePolicy *policy)
{
	SdrBridge *bridge = g_new0(SdrBridge, 1);
	SdrBridgeRouter router;

	bridge->config = config;
	bridge->cancellable = g_cancellable_new();
	bridge->prompt = sdr_bridge_prompt_new(prompt, bridge->cancellable,
	                                       sdr_bridge_policy_get_consent_timeout(policy));
	bridge->policy = policy;
	bridge->approvals = sdr_bridge_approvals_new();
	bridge->events = sdr_bridge_events_new();
	router = sdr_bridge_routes_router(bridge);
	bridge->transport = sdr_bridge_transport_new(policy, &router);
	bridge->contexts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, context_unref);
	g_mutex_init(&bridge->contexts_lock);
	g_mutex_init(&bridge->interactive_lock);
	g_mutex_init(&bridge->cache_lock);
	g_mutex_init(&bridge->nexu_lock);
	bridge->nexu_choices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return bridge;
}

gboolean
sdr_bridge_start(SdrBridge *bridge, GError **error)
{
	if (!sdr_bridge_transport_start(bridge->transport, error)) {
		sdr_bridge_stop(bridge);
		return FALSE;
	}
	bridge->port = sdr_bridge_transport_get_port(bridge->transport);
	bridge->ipv6 = sdr_bridge_transport_has_ipv6(bridge->transport);
	return TRUE;
}

void
sdr_bridge_stop(SdrBridge *bridge)
{
	if (bridge == NULL)
		return;
	g_cancellable_cancel(bridge->cancellable);
	sdr_bridge_events_close(bridge->events);
	sdr_bridge_transport_stop(bridge->transport);
}

void
sdr_bridge_free(SdrBridge *bridge)
{
	if (bridge == NULL)
		return;
	sdr_bridge_stop(bridge);
	g_hash_table_unref(bridge->contexts);
	g_clear_pointer(&bridge->cert_cache, json_node_unref);
	g_free(bridge->cert_cache_text);
	sdr_bridge_events_free(bridge->events);
	sdr_bridge_transport_free(bridge->transport);
	sdr_bridge_approvals_free(bridge->approvals);
	sdr_bridge_policy_free(bridge->policy);
	sdr_prompt_free(bridge->prompt);
	g_object_unref(bridge->cancellable);
	g_hash_table_unref(bridge->nexu_choices);
	g_mutex_clear(&bridge->contexts_lock);
	g_mutex_clear(&bridge->interactive_lock);
	g_mutex_clear(&bridge->cache_lock);
	g_mutex_clear(&bridge->nexu_lock);
	g_free(bridge);
}
