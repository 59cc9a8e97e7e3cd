/* sdr-handler-call.c - the call in progress in this thread: its cancellable and its
 * progress function (sdr-handler-call.h). */
#include "sdr-handler-call.h"

#include "sdr-handlers-private.h"

static GPrivate current_call;

static SdrCall *
call_for(SdrContext *ctx)
{
	SdrCall *call = g_private_get(&current_call);

	return call != NULL && call->ctx == ctx ? call : NULL;
}

GCancellable *
sdr_handler_call_cancellable(SdrContext *ctx)
{
	SdrCall *call = call_for(ctx);

	return call != NULL ? call->cancellable : sdr_context_get_cancellable(ctx);
}

typedef struct {
	SdrProgressFunc func;
	gpointer data;
	guint done, total;
	char *current;
} ProgressEvent;

static gboolean
progress_dispatch(gpointer p)
{
	ProgressEvent *ev = p;

	ev->func(ev->done, ev->total, ev->current, ev->data);
	return G_SOURCE_REMOVE;
}

static void
progress_event_free(gpointer p)
{
	ProgressEvent *ev = p;

	g_free(ev->current);
	g_free(ev);
}

void
sdr_handler_call_progress(SdrContext *ctx, guint done, guint total, const char *current)
{
	SdrCall *call = call_for(ctx);
	SdrProgressFunc func = NULL;
	gpointer data = NULL;
	ProgressEvent *ev;

	if (call != NULL) {
		func = call->progress;
		data = call->progress_data;
	} else {
		func = sdr_context_get_progress(ctx, &data);
	}
	if (func == NULL)
		return;
	if (call == NULL || call->main_context == NULL) {
		func(done, total, current, data);
		return;
	}
	ev = g_new0(ProgressEvent, 1);
	ev->func = func;
	ev->data = data;
	ev->done = done;
	ev->total = total;
	ev->current = g_strdup(current);
	g_main_context_invoke_full(call->main_context, G_PRIORITY_DEFAULT, progress_dispatch, ev,
	                           progress_event_free);
}

void
sdr_handler_call_notify(SdrContext *ctx, const char *message)
{
	SdrCall *call = call_for(ctx);

	if (message == NULL)
		return; /* the end is said once, by the call itself */
	if (call != NULL)
		call->notified = TRUE;
	sdr_prompt_notify(sdr_context_get_prompt(ctx), message);
}

SdrCall *
sdr_handler_call_enter(SdrCall *call)
{
	SdrCall *outer = g_private_get(&current_call);

	g_private_set(&current_call, call);
	return outer;
}

void
sdr_handler_call_leave(SdrCall *previous)
{
	g_private_set(&current_call, previous);
}
