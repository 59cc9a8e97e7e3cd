/* sdr-agent-s2low.c - sinadur-agent's S²LOW queue poller (sdr-agent-s2low.h). */
#include "sdr-agent-s2low.h"

#include "sdr-error.h"
#include "sdr-send-queue.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>

#define POLL_DEFAULT_S 300
#define BACKOFF_MAX_S 3600

struct _SdrAgentS2low {
	SdrBridge *bridge;
	guint interval_s;
	guint timer;
	guint failures;
	gboolean running, paused, stopping;
	SdrAgentS2lowNotify notify;
	gpointer notify_data;
};

typedef struct {
	GHashTable *before; /* id -> state name, of the pending sends before the run */
	JsonNode *answer;   /* the status handler's answer, or NULL */
	GError *error;      /* the handler failed */
	gboolean nothing;   /* nothing pending: no handler call, no PIN */
} PollResult;

static void
poll_result_free(PollResult *r)
{
	g_clear_pointer(&r->before, g_hash_table_unref);
	g_clear_pointer(&r->answer, json_node_unref);
	g_clear_error(&r->error);
	g_free(r);
}

static gboolean
state_is_final(const char *state)
{
	return g_strcmp0(state, "final") == 0 || g_strcmp0(state, "failed") == 0 ||
	       g_strcmp0(state, "to_reconcile") == 0;
}

static void
poll_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	SdrAgentS2low *p = data;
	PollResult *r = g_new0(PollResult, 1);
	const char *env = g_getenv("SINADUR_S2LOW_DB"); /* as the handlers */
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(env != NULL && *env ? env : NULL, NULL);
	g_autoptr(GPtrArray) sends = q != NULL ? sdr_send_queue_list(q, TRUE, NULL) : NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gboolean due = FALSE;

	(void)source;
	(void)cancellable;
	r->before = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	for (guint i = 0; sends != NULL && i < sends->len; i++) {
		SdrSend *s = sends->pdata[i];
		if (s->state == SDR_SEND_TO_RECONCILE)
			continue; /* a person decides */
		g_hash_table_insert(r->before, g_memdup2(&s->id, sizeof s->id),
		                    (gpointer)sdr_send_state_name(s->state));
		due = due || s->state != SDR_SEND_QUEUED || s->next_try <= now;
	}
	g_clear_pointer(&q, sdr_send_queue_free);
	if (!due) {
		r->nothing = TRUE;
	} else {
		g_autoptr(JsonObject) req = json_object_new();
		r->answer = sdr_bridge_run_interactive(p->bridge, NULL, "status", req, &r->error);
	}
	g_task_return_pointer(task, r, (GDestroyNotify)poll_result_free);
}

static void schedule(SdrAgentS2low *p, guint delay_s);

static void
announce(SdrAgentS2low *p, JsonObject *s)
{
	g_autoptr(JsonNode) ev = json_node_new(JSON_NODE_OBJECT);

	const char *msg = json_object_get_string_member_with_default(s, "message", "");

	/* The log line (the agent's journal), then the GUI's notification. */
	g_print("s2low: send %" G_GINT64_FORMAT " (%s) %s: %s%s%s\n",
	        json_object_get_int_member_with_default(s, "id", 0),
	        json_object_get_string_member_with_default(s, "kind", "?"),
	        json_object_get_string_member_with_default(s, "state", "?"),
	        json_object_get_string_member_with_default(s, "status_label", ""),
	        *msg != '\0' ? " - " : "", msg);
	fflush(stdout);
	if (p->notify != NULL)
		p->notify(s, p->notify_data);
	json_node_set_object(ev, s);
	sdr_bridge_events_publish(sdr_bridge_get_events(p->bridge), "s2low-send", ev);
}

static void
poll_done(GObject *source, GAsyncResult *result, gpointer data)
{
	SdrAgentS2low *p = data;
	PollResult *r = g_task_propagate_pointer(G_TASK(result), NULL);
	const char *code = NULL, *why = NULL;
	gboolean failed = FALSE;
	guint delay = p->interval_s;

	(void)source;
	p->running = FALSE;
	if (r == NULL || p->stopping) {
		if (r != NULL)
			poll_result_free(r);
		return;
	}
	if (r->error != NULL) {
		if (g_error_matches(r->error, SDR_ERROR, SDR_ERROR_BUSY)) {
			poll_result_free(r);
			schedule(p, MIN(p->interval_s, 60)); /* a window is open: soon again */
			return;
		}
		code = sdr_error_code_name(r->error->code);
		failed = TRUE;
		why = r->error->message;
	} else if (r->answer != NULL && JSON_NODE_HOLDS_OBJECT(r->answer)) {
		JsonObject *a = json_node_get_object(r->answer);
		JsonArray *sends = json_object_has_member(a, "sends")
		                           ? json_object_get_array_member(a, "sends")
		                           : NULL;
		for (guint i = 0; sends != NULL && i < json_array_get_length(sends); i++) {
			JsonObject *s = json_array_get_object_element(sends, i);
			gint64 id = json_object_get_int_member_with_default(s, "id", 0);
			const char *was = g_hash_table_lookup(r->before, &id);
			const char *now =
			        json_object_get_string_member_with_default(s, "state", "");
			if (was != NULL && !state_is_final(was) && state_is_final(now))
				announce(p, s);
		}
		if (json_object_has_member(a, "network_error")) {
			failed = TRUE;
			code = json_object_get_string_member_with_default(a, "error_code", NULL);
			why = json_object_get_string_member_with_default(a, "network_error", "");
		}
	}
	if (failed) {
		/* The journal's line (not for a person: the GUI shows the queue). */
		g_print("s2low: queue not advanced (%s): %s\n", code != NULL ? code : "?",
		        why != NULL ? why : "");
		fflush(stdout);
	}
	if (failed && code != NULL &&
	    (g_str_equal(code, "SDR_ERROR_PIN_INCORRECT") ||
	     g_str_equal(code, "SDR_ERROR_PIN_LOCKED") ||
	     g_str_equal(code, "SDR_ERROR_PIN_FINAL_TRY") ||
	     g_str_equal(code, "SDR_ERROR_CANCELLED") || g_str_equal(code, "SDR_ERROR_CONFIG"))) {
		/* Never try a PIN (or a refused S²LOW password, a missing keyring) again
		 * unasked. */
		p->paused = TRUE;
		g_print("s2low: queue polling paused (%s): run “sinadur status” to go on\n", code);
		fflush(stdout);
		poll_result_free(r);
		return;
	}
	if (failed) {
		p->failures = MIN(p->failures + 1, 16);
		delay = (guint)MIN((guint64)p->interval_s << p->failures, BACKOFF_MAX_S);
		delay = MAX(delay, p->interval_s);
	} else {
		p->failures = 0;
	}
	poll_result_free(r);
	schedule(p, delay);
}

static gboolean
on_timer(gpointer data)
{
	SdrAgentS2low *p = data;
	g_autoptr(GTask) task = NULL;

	p->timer = 0;
	if (p->running || p->paused || p->stopping)
		return G_SOURCE_REMOVE;
	p->running = TRUE;
	task = g_task_new(NULL, NULL, poll_done, p);
	g_task_set_task_data(task, p, NULL);
	g_task_run_in_thread(task, poll_thread);
	return G_SOURCE_REMOVE;
}

static void
schedule(SdrAgentS2low *p, guint delay_s)
{
	if (p->timer != 0)
		g_source_remove(p->timer);
	p->timer = g_timeout_add_seconds(delay_s, on_timer, p);
}

SdrAgentS2low *
sdr_agent_s2low_start(SdrBridge *bridge, SdrConfig *config)
{
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	gint64 interval = sdr_config_get_int(config, "s2low", "poll_interval_s", POLL_DEFAULT_S);
	SdrAgentS2low *p;

	if (url == NULL || *url == '\0' || interval <= 0)
		return NULL;
	p = g_new0(SdrAgentS2low, 1);
	p->bridge = bridge;
	p->interval_s = (guint)CLAMP(interval, 1, 24 * 3600);
	schedule(p, MIN(p->interval_s, 5)); /* soon after start: what was left pending */
	return p;
}

void
sdr_agent_s2low_set_notify(SdrAgentS2low *p, SdrAgentS2lowNotify notify, gpointer user_data)
{
	if (p == NULL)
		return;
	p->notify = notify;
	p->notify_data = user_data;
}

void
sdr_agent_s2low_stop(SdrAgentS2low *p)
{
	if (p == NULL)
		return;
	p->stopping = TRUE;
	if (p->timer != 0)
		g_source_remove(p->timer);
	while (p->running)
		g_main_context_iteration(NULL, TRUE);
	g_free(p);
}
