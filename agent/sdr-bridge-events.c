/* sdr-bridge-events.c - the server-sent events hub of /v1/events.
 *
 * Publishers (the main loop: PC/SC watcher, expiry check) append to a small ring
 * of recent events; each stream (one connection thread) waits on a condition
 * variable for ids newer than its own, with a keep-alive timeout. No polling. */
#include "sdr-bridge.h"

#include <string.h>

#define RING_SIZE 64
#define EVENT_MAX_TEXT 4096

typedef struct {
	guint64 id;
	char *text; /* "id: N\nevent: TYPE\ndata: JSON\n\n" */
} Event;

struct _SdrBridgeEvents {
	GMutex lock;
	GCond cond;
	Event ring[RING_SIZE];
	guint64 last_id;
	gboolean closed;
};

SdrBridgeEvents *
sdr_bridge_events_new(void)
{
	SdrBridgeEvents *ev = g_new0(SdrBridgeEvents, 1);

	g_mutex_init(&ev->lock);
	g_cond_init(&ev->cond);
	return ev;
}

void
sdr_bridge_events_free(SdrBridgeEvents *events)
{
	if (events == NULL)
		return;
	for (guint i = 0; i < RING_SIZE; i++)
		g_free(events->ring[i].text);
	g_mutex_clear(&events->lock);
	g_cond_clear(&events->cond);
	g_free(events);
}

static gboolean
type_ok(const char *type)
{
	if (type == NULL || *type == '\0' || strlen(type) > 64)
		return FALSE;
	for (const char *p = type; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

void
sdr_bridge_events_publish(SdrBridgeEvents *events, const char *type, JsonNode *data)
{
	g_autofree char *json = NULL;
	Event *slot;

	if (!type_ok(type))
		return;
	/* json_to_string never emits a raw newline, so one data: line suffices. */
	json = data != NULL ? json_to_string(data, FALSE) : g_strdup("{}");
	if (strlen(json) > EVENT_MAX_TEXT)
		return;
	g_mutex_lock(&events->lock);
	if (!events->closed) {
		events->last_id++;
		slot = &events->ring[events->last_id % RING_SIZE];
		g_free(slot->text);
		slot->id = events->last_id;
		slot->text = g_strdup_printf("id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n",
		                             events->last_id, type, json);
		g_cond_broadcast(&events->cond);
	}
	g_mutex_unlock(&events->lock);
}

void
sdr_bridge_events_close(SdrBridgeEvents *events)
{
	g_mutex_lock(&events->lock);
	events->closed = TRUE;
	g_cond_broadcast(&events->cond);
	g_mutex_unlock(&events->lock);
}

guint64
sdr_bridge_events_last_id(SdrBridgeEvents *events)
{
	guint64 id;

	g_mutex_lock(&events->lock);
	id = events->last_id;
	g_mutex_unlock(&events->lock);
	return id;
}

guint64
sdr_bridge_events_replay_from(SdrBridgeEvents *events)
{
	guint64 id;

	g_mutex_lock(&events->lock);
	id = events->last_id > RING_SIZE ? events->last_id - RING_SIZE : 0;
	g_mutex_unlock(&events->lock);
	return id;
}

char *
sdr_bridge_events_wait(SdrBridgeEvents *events, guint64 *last_id, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	GString *out;

	g_mutex_lock(&events->lock);
	while (!events->closed && events->last_id <= *last_id) {
		if (!g_cond_wait_until(&events->cond, &events->lock, deadline))
			break;
	}
	if (events->closed) {
		g_mutex_unlock(&events->lock);
		return NULL;
	}
	if (events->last_id <= *last_id) {
		g_mutex_unlock(&events->lock);
		return g_strdup(": keep-alive\n\n");
	}
	out = g_string_new(NULL);
	/* Events older than the ring are lost for a slow reader; say so. */
	if (events->last_id - *last_id > RING_SIZE) {
		g_string_append(out, "event: overflow\ndata: {}\n\n");
		*last_id = events->last_id - RING_SIZE;
	}
	for (guint64 id = *last_id + 1; id <= events->last_id; id++) {
		Event *e = &events->ring[id % RING_SIZE];

		if (e->id == id && e->text != NULL)
			g_string_append(out, e->text);
	}
	*last_id = events->last_id;
	g_mutex_unlock(&events->lock);
	return g_string_free(out, FALSE);
}
