/* sdr-handler.h - the table of actions shared by the CLI, the bridge and the GUI:
 * one code path per action.
 *
 * A handler takes a JSON object (the request) and returns a JSON node (the
 * answer) or an SDR_ERROR. The CLI builds the request from its arguments and
 * prints the answer as French text or as JSON; the bridge maps HTTP bodies; the GUI
 * and the S²LOW queue call sdr_handler_run_async (a GTask worker thread).
 *
 * One worker model: every call (sync or async) runs the handler in one thread
 * (the caller's for sdr_handler_run, a GTask worker for the async form); token
 * work takes the core's token lock (sdr-context.h), prompts never run under it.
 */
#pragma once

#include "sdr-config.h"
#include "sdr-prompt.h"

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _SdrContext SdrContext;

/* The largest document a request may carry in base64 ("data" of "sign" and "verify"):
 * the handlers refuse more (SDR_ERROR_TOO_LARGE), the bridge checks it before decoding. */
#define SDR_HANDLER_MAX_DOCUMENT_SIZE ((gsize)256 * 1024 * 1024)

/* Progress of a batch ("sign"): done of total documents finished, current = the
 * name of the document about to be signed (NULL once done == total). Called in the
 * handler's thread for sdr_handler_run, on the caller's main context (the thread
 * default when sdr_handler_run_async was called) for async calls. */
typedef void (*SdrProgressFunc)(guint done, guint total, const char *current, gpointer user_data);

typedef struct {
	SdrConfig *config;       /* borrowed */
	SdrPrompt *prompt;       /* borrowed */
	const char *only_module; /* --module PATH */
	const char *origin;      /* web origin when called by the bridge, else NULL */
	GCancellable *cancellable;
	SdrProgressFunc progress; /* default for calls that set none */
	gpointer progress_data;
} SdrContextOptions;

SdrContext *sdr_context_new(const SdrContextOptions *options);
void sdr_context_free(SdrContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrContext, sdr_context_free)

typedef JsonNode *(*SdrHandlerFunc)(SdrContext *ctx, JsonObject *request, GError **error);

typedef struct {
	const char *name; /* "tokens", "certificates", "sign", "verify", "doctor", "info" */
	SdrHandlerFunc func;
	gboolean needs_token; /* uses the token: serialised on the core's token lock */
	gboolean locks_token; /* takes the token lock itself, in pieces (sign) */
} SdrHandler;

const SdrHandler *sdr_handler_find(const char *name);
/* Runs a handler by name in the calling thread (the CLI, the bridge's connection
 * threads); blocks. */
JsonNode *sdr_handler_run(SdrContext *ctx, const char *name, JsonObject *request, GError **error);
/* The same with a per-call cancellable (else the context's) and progress function
 * (else the context's). */
JsonNode *sdr_handler_run_full(SdrContext *ctx, const char *name, JsonObject *request,
                               GCancellable *cancellable, SdrProgressFunc progress,
                               gpointer progress_data, GError **error);

/* Runs the handler in a worker thread; callback is called on the thread-default
 * main context of the caller, as are the progress calls. request is referenced.
 * A cancelled "sign" batch still answers (the documents done, the rest
 * "not_signed", top-level "error" SDR_ERROR_CANCELLED); other handlers fail with
 * SDR_ERROR_CANCELLED when cancelled before they start. ctx must outlive the call. */
void sdr_handler_run_async(SdrContext *ctx, const char *name, JsonObject *request,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
void sdr_handler_run_async_full(SdrContext *ctx, const char *name, JsonObject *request,
                                GCancellable *cancellable, SdrProgressFunc progress,
                                gpointer progress_data, GAsyncReadyCallback callback,
                                gpointer user_data);
JsonNode *sdr_handler_run_finish(SdrContext *ctx, GAsyncResult *result, GError **error);

G_END_DECLS
