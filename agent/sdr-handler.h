/* sdr-handler.h - the table of actions shared by the CLI, the bridge and the GUI:
 * one code path per action.
 *
 * A handler takes a JSON object (the request) and returns a JSON node (the
 * answer) or an SDR_ERROR. The CLI builds the request from its arguments and
 * prints the answer as French text or as JSON; the bridge maps HTTP bodies; the GUI
 * calls the same handlers on a worker thread (GTask).
 */
#pragma once

#include "sdr-config.h"
#include "sdr-prompt.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _SdrContext SdrContext;

typedef struct {
	SdrConfig *config;       /* borrowed */
	SdrPrompt *prompt;       /* borrowed */
	const char *only_module; /* --module PATH */
	const char *origin;      /* web origin when called by the bridge, else NULL */
	GCancellable *cancellable;
} SdrContextOptions;

SdrContext *sdr_context_new(const SdrContextOptions *options);
void sdr_context_free(SdrContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrContext, sdr_context_free)

typedef JsonNode *(*SdrHandlerFunc)(SdrContext *ctx, JsonObject *request, GError **error);

typedef struct {
	const char *name; /* "tokens", "certificates", "sign", "verify", "doctor", "info" */
	SdrHandlerFunc func;
	gboolean needs_token; /* serialised on the token worker */
} SdrHandler;

/* NULL-terminated table. */
const SdrHandler *sdr_handlers(void);
const SdrHandler *sdr_handler_find(const char *name);
/* Runs a handler by name. */
JsonNode *sdr_handler_run(SdrContext *ctx, const char *name, JsonObject *request, GError **error);

G_END_DECLS
