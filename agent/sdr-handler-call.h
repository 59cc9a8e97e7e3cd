/* sdr-handler-call.h - the call in progress in this thread (agent/ only).
 *
 * Kept apart from the table of handlers (sdr-handler.c) so that the handlers, which
 * ask for their call's cancellable and progress function (sdr-handlers-private.h),
 * and the table, which names the handlers, do not depend on each other.
 */
#pragma once

#include "sdr-handler.h"

G_BEGIN_DECLS

typedef struct {
	SdrContext *ctx;
	GCancellable *cancellable; /* the call's, else the context's; may be NULL */
	SdrProgressFunc progress;
	gpointer progress_data;
	GMainContext *main_context; /* async: where progress is delivered */
	gboolean notified;          /* the prompt was notified: notify(NULL) at the end */
} SdrCall;

/* Makes call the current call of this thread; returns the previous one (nested
 * calls), to give back to sdr_handler_call_leave(). */
SdrCall *sdr_handler_call_enter(SdrCall *call);
void sdr_handler_call_leave(SdrCall *previous);

G_END_DECLS
