/* test-bridge-events.c - the server-sent events hub. */
#include "sdr-bridge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_publish_wait(void **state)
{
	SdrBridgeEvents *ev = sdr_bridge_events_new();
	g_autoptr(JsonNode) data = json_from_string("{\"reader\":\"R\\nX\"}", NULL);
	guint64 last = 0;
	g_autofree char *ka = NULL;
	g_autofree char *text = NULL;

	ka = sdr_bridge_events_wait(ev, &last, 10);
	assert_string_equal(ka, ": keep-alive\n\n");
	sdr_bridge_events_publish(ev, "token-inserted", data);
	sdr_bridge_events_publish(ev, "bad type\n", data); /* refused */
	assert_int_equal(sdr_bridge_events_last_id(ev), 1);
	text = sdr_bridge_events_wait(ev, &last, 10);
	assert_non_null(strstr(text, "event: token-inserted\n"));
	assert_non_null(strstr(text, "data: {\"reader\":\"R\\nX\"}\n\n"));
	/* One data line: the JSON newline stays escaped. */
	assert_null(strstr(strstr(text, "data: "), "\nX"));
	assert_int_equal(last, 1);
	sdr_bridge_events_close(ev);
	assert_null(sdr_bridge_events_wait(ev, &last, 1000));
	sdr_bridge_events_free(ev);
}

static void
test_overflow(void **state)
{
	SdrBridgeEvents *ev = sdr_bridge_events_new();
	guint64 last = 0;
	g_autofree char *text = NULL;

	for (int i = 0; i < 100; i++)
		sdr_bridge_events_publish(ev, "expiry-warning", NULL);
	text = sdr_bridge_events_wait(ev, &last, 10);
	assert_non_null(strstr(text, "event: overflow"));
	assert_int_equal(last, 100);
	assert_int_equal(sdr_bridge_events_replay_from(ev), 100 - 64);
	assert_non_null(strstr(text, "id: 100\n"));
	assert_null(strstr(text, "id: 36\n"));
	sdr_bridge_events_free(ev);
}

static gpointer
publisher(gpointer data)
{
	g_usleep(50000);
	sdr_bridge_events_publish(data, "token-removed", NULL);
	return NULL;
}

static void
test_wakeup(void **state)
{
	SdrBridgeEvents *ev = sdr_bridge_events_new();
	guint64 last = 0;
	gint64 t0 = g_get_monotonic_time();
	GThread *t = g_thread_new("pub", publisher, ev);
	g_autofree char *text = sdr_bridge_events_wait(ev, &last, 5000);

	assert_non_null(strstr(text, "token-removed"));
	assert_true(g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC);
	g_thread_join(t);
	sdr_bridge_events_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_wait),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_wakeup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
