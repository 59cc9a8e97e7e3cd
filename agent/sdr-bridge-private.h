/* sdr-bridge-private.h - every private declaration of the bridge, for its
 * life cycle (sdr-bridge.c) and its tests: the core, the route table and its
 * handlers, the transport's request and reply, the prompt deadline. */
#pragma once

#include "sdr-bridge-core.h"
#include "sdr-bridge-routes.h"
#include "sdr-bridge-transport.h"

G_BEGIN_DECLS

/* Wraps a prompter so that a web request never waits longer than timeout_s (or
 * the consent request's own timeout_s) for an answer, nor past the bridge's stop. */
SdrPrompt *sdr_bridge_prompt_new(SdrPrompt *inner, GCancellable *cancellable, guint timeout_s);

G_END_DECLS
