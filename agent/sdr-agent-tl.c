/* sdr-agent-tl.c - background refresh of the trusted lists (sdr-agent-tl.h). */
#include "sdr-agent-tl.h"

#include "sdr-context.h"
#include "sdr-json.h"
#include "sdr-tl-cache.h"
#include "sdr-time.h"

#include <gio/gio.h>
#include <stdio.h>

#define FIRST_DELAY_S 5
#define BACKOFF_S (15 * 60)

struct _SdrAgentTl {
	SdrContext *ctx;
	guint refresh_s;
	guint timer;
	guint failures;
	gboolean running, stopping;
};

static void schedule(SdrAgentTl *t, gint64 delay_s);

static gint64
seconds_until(const char *iso)
{
	g_autoptr(GDateTime) when = iso != NULL ? sdr_time_parse_iso8601(iso) : NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	if (when == NULL)
		return 0;
	return MAX(g_date_time_difference(when, now) / G_TIME_SPAN_SECOND, 0);
}

static void
update_done(GObject *source, GAsyncResult *result, gpointer data)
{
	SdrAgentTl *t = data;
	g_autoptr(GError) e = NULL;
	g_autoptr(JsonNode) answer = sdr_handler_run_finish(t->ctx, result, &e);
	JsonObject *a = answer != NULL ? json_node_get_object(answer) : NULL;
	JsonObject *st = a != NULL && json_object_has_member(a, "status")
	                         ? json_object_get_object_member(a, "status")
	                         : NULL;
	gint64 next = st != NULL ? seconds_until(sdr_json_get_string(st, "next_refresh", NULL)) : 0;

	(void)source;
	t->running = FALSE;
	if (t->stopping)
		return;
	if (a == NULL || sdr_json_get_int(a, "errors", 0) > 0 || next == 0) {
		gint64 backoff =
		        MIN((gint64)BACKOFF_S << MIN(t->failures, 8), (gint64)t->refresh_s);

		t->failures++;
		g_print("trusted lists: update %s; next try in %" G_GINT64_FORMAT " s\n",
		        e != NULL ? e->message : "incomplete", backoff);
		fflush(stdout);
		schedule(t, backoff);
		return;
	}
	t->failures = 0;
	g_print("trusted lists: cache up to date (%" G_GINT64_FORMAT " list(s) updated)\n",
	        sdr_json_get_int(a, "updated", 0));
	fflush(stdout);
	schedule(t, next);
}

static void
status_done(GObject *source, GAsyncResult *result, gpointer data)
{
	SdrAgentTl *t = data;
	g_autoptr(JsonNode) answer = sdr_handler_run_finish(t->ctx, result, NULL);
	JsonObject *st = answer != NULL ? json_node_get_object(answer) : NULL;
	gint64 due = st != NULL ? seconds_until(sdr_json_get_string(st, "next_refresh", NULL)) : 0;

	(void)source;
	if (t->stopping) {
		t->running = FALSE;
		return;
	}
	if (due > 0) {
		t->running = FALSE;
		schedule(t, due);
		return;
	}
	sdr_handler_run_async(t->ctx, "trust-update", NULL, NULL, update_done, t);
}

static gboolean
on_timer(gpointer data)
{
	SdrAgentTl *t = data;

	t->timer = 0;
	if (t->running || t->stopping)
		return G_SOURCE_REMOVE;
	t->running = TRUE;
	/* Is the cache due? Reading it checks every list's signature: a worker's job. */
	sdr_handler_run_async(t->ctx, "trust-status", NULL, NULL, status_done, t);
	return G_SOURCE_REMOVE;
}

static void
schedule(SdrAgentTl *t, gint64 delay_s)
{
	if (t->timer != 0)
		g_source_remove(t->timer);
	/* At least a minute between two looks; at most a day without one. */
	t->timer = g_timeout_add_seconds((guint)CLAMP(delay_s, 60, 24 * 3600), on_timer, t);
}

SdrAgentTl *
sdr_agent_tl_start(SdrConfig *config)
{
	g_autoptr(SdrTlCacheConfig) cc = sdr_tl_cache_config_new(config, NULL, NULL);
	SdrContextOptions copts = { 0 };
	SdrAgentTl *t;

	if (!sdr_tl_cache_configured(cc))
		return NULL;
	copts.config = config;
	t = g_new0(SdrAgentTl, 1);
	t->ctx = sdr_context_new(&copts);
	t->refresh_s = cc->refresh_hours * 3600;
	t->timer = g_timeout_add_seconds(FIRST_DELAY_S, on_timer, t);
	return t;
}

void
sdr_agent_tl_stop(SdrAgentTl *t)
{
	if (t == NULL)
		return;
	t->stopping = TRUE;
	if (t->timer != 0)
		g_source_remove(t->timer);
	while (t->running)
		g_main_context_iteration(NULL, TRUE);
	sdr_context_free(t->ctx);
	g_free(t);
}
