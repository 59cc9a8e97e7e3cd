/* sdr-handler.c - the table of actions and its dispatch. */
#include "sdr-handler.h"

#include "sdr-config-build.h"
#include "sdr-error.h"
#include "sdr-handler-call.h"
#include "sdr-handlers-private.h"

#include <glib/gi18n-lib.h>

static const SdrHandler handlers[] = {
	{ "tokens", sdr_handle_tokens, TRUE, FALSE },
	{ "certificates", sdr_handle_certificates, TRUE, FALSE },
	{ "sign", sdr_handle_sign, TRUE, TRUE },
	{ "verify", sdr_handle_verify, FALSE, FALSE },
	{ "extend", sdr_handle_extend, FALSE, FALSE },
	{ "doctor", sdr_handle_doctor, TRUE, FALSE },
	{ "info", sdr_handle_info, FALSE, FALSE },
	{ "s2low-test", sdr_handle_s2low_test, TRUE, FALSE },
	{ "s2low-ar", sdr_handle_s2low_ar, TRUE, FALSE },
	{ "s2low-bordereau", sdr_handle_s2low_bordereau, TRUE, FALSE },
	{ "s2low-cancel", sdr_handle_s2low_cancel, TRUE, FALSE },
	{ "s2low-classification", sdr_handle_s2low_classification, TRUE, FALSE },
	{ "s2low-retours", sdr_handle_s2low_retours, TRUE, FALSE },
	{ "s2low-login", sdr_handle_s2low_login, FALSE, FALSE },
	{ "s2low-logout", sdr_handle_s2low_logout, FALSE, FALSE },
	{ "send-actes", sdr_handle_send_actes, TRUE, FALSE },
	{ "send-pes", sdr_handle_send_pes, TRUE, FALSE },
	{ "status", sdr_handle_status, TRUE, FALSE },
	{ "trust-update", sdr_handle_trust_update, FALSE, FALSE },
	{ "trust-status", sdr_handle_trust_status, FALSE, FALSE },
	{ NULL, NULL, FALSE, FALSE },
};

const SdrHandler *
sdr_handler_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (const SdrHandler *h = handlers; h->name != NULL; h++) {
		if (g_str_equal(h->name, name))
			return h;
	}
	return NULL;
}

/* The one worker body: sync calls run it in the caller's thread, async calls in a
 * GTask worker. Handlers that use the token run under the core's token lock,
 * except those that take it in pieces themselves (sign: never around a prompt). */
static JsonNode *
run_call(SdrCall *call, const char *name, JsonObject *request, GError **error)
{
	const SdrHandler *h = sdr_handler_find(name);
	g_autoptr(JsonObject) empty = NULL;
	SdrCall *outer;
	JsonNode *answer;

	if (h == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Unknown action “%s”."),
		            name != NULL ? name : "");
		return NULL;
	}
	if (request == NULL) {
		empty = json_object_new();
		request = empty;
	}
	if (call->cancellable != NULL && g_cancellable_is_cancelled(call->cancellable)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED, _("Cancelled."));
		return NULL;
	}
	outer = sdr_handler_call_enter(call);
	if (h->needs_token && !h->locks_token)
		sdr_context_lock_token(call->ctx);
	answer = h->func(call->ctx, request, error);
	if (h->needs_token && !h->locks_token)
		sdr_context_unlock_token(call->ctx);
	sdr_handler_call_leave(outer);
	/* Its notices ("type the PIN on the reader") are over. */
	if (call->notified)
		sdr_prompt_notify(sdr_context_get_prompt(call->ctx), NULL);
	return answer;
}

static void
call_init(SdrCall *call, SdrContext *ctx, GCancellable *cancellable, SdrProgressFunc progress,
          gpointer progress_data)
{
	call->ctx = ctx;
	call->cancellable = cancellable != NULL ? cancellable : sdr_context_get_cancellable(ctx);
	if (progress != NULL) {
		call->progress = progress;
		call->progress_data = progress_data;
	} else {
		call->progress = sdr_context_get_progress(ctx, &call->progress_data);
	}
}

JsonNode *
sdr_handler_run_full(SdrContext *ctx, const char *name, JsonObject *request,
                     GCancellable *cancellable, SdrProgressFunc progress, gpointer progress_data,
                     GError **error)
{
	SdrCall call = { 0 };

	call_init(&call, ctx, cancellable, progress, progress_data);
	return run_call(&call, name, request, error);
}

JsonNode *
sdr_handler_run(SdrContext *ctx, const char *name, JsonObject *request, GError **error)
{
	return sdr_handler_run_full(ctx, name, request, NULL, NULL, NULL, error);
}

/* ---- Asynchronous calls ---------------------------------------------------------- */

typedef struct {
	SdrCall call;
	char *name;
	JsonObject *request;
} AsyncCall;

static void
async_call_free(gpointer p)
{
	AsyncCall *a = p;

	g_free(a->name);
	if (a->request != NULL)
		json_object_unref(a->request);
	if (a->call.main_context != NULL)
		g_main_context_unref(a->call.main_context);
	g_free(a);
}

static void
async_worker(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	AsyncCall *a = task_data;
	GError *error = NULL;
	JsonNode *answer = run_call(&a->call, a->name, a->request, &error);

	if (answer != NULL)
		g_task_return_pointer(task, answer, (GDestroyNotify)json_node_unref);
	else
		g_task_return_error(task, error);
}

void
sdr_handler_run_async_full(SdrContext *ctx, const char *name, JsonObject *request,
                           GCancellable *cancellable, SdrProgressFunc progress,
                           gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data)
{
	AsyncCall *a = g_new0(AsyncCall, 1);
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);

	call_init(&a->call, ctx, cancellable, progress, progress_data);
	a->call.main_context = g_main_context_ref_thread_default();
	a->name = g_strdup(name);
	a->request = request != NULL ? json_object_ref(request) : NULL;
	g_task_set_task_data(task, a, async_call_free);
	/* A cancelled batch still has an answer (the documents done): the handler
	 * decides, not GTask. */
	g_task_set_return_on_cancel(task, FALSE);
	g_task_set_check_cancellable(task, FALSE);
	g_task_run_in_thread(task, async_worker);
}

void
sdr_handler_run_async(SdrContext *ctx, const char *name, JsonObject *request,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	sdr_handler_run_async_full(ctx, name, request, cancellable, NULL, NULL, callback,
	                           user_data);
}

JsonNode *
sdr_handler_run_finish(SdrContext *ctx, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	(void)ctx;
	return g_task_propagate_pointer(G_TASK(result), error);
}

JsonNode *
sdr_handle_info(SdrContext *ctx, JsonObject *request, GError **error)
{
	JsonObject *o = json_object_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(o, "name", "sinadur");
	json_object_set_string_member(o, "version", SDR_VERSION);
	json_object_set_int_member(o, "api_version", 1);
	json_node_take_object(node, o);
	return node;
}
