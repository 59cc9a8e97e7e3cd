/* test-bridge-routes.c - the bridge's one route table (no socket, no token):
 * rows well formed, 404 and 405 as the API documents them, NexU rows only when
 * NexU is on and never 405, the no-Origin flag seen by the transport, the
 * approval needed by /v1/events. */
#include "sdr-bridge-private.h"
#include "sdr-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ORIGIN "https://portail.example.fr"

static SdrBridge *
new_bridge(gboolean nexu)
{
	const char *origins[] = { ORIGIN, NULL };
	SdrBridgePolicy *policy = sdr_bridge_policy_new(24742, origins, NULL, NULL);

	sdr_bridge_policy_set_nexu(policy, nexu);
	return sdr_bridge_new(NULL, NULL, policy);
}

/* The reply's status, and its error code name in *code (or NULL). */
static guint
route(SdrBridge *bridge, const char *method, const char *path, const char *origin,
      SdrBridgeReply *reply, char **code)
{
	SdrBridgeRequest req = { 0 };

	req.method = method;
	req.path = path;
	req.origin = origin;
	req.body = "{}";
	req.body_len = 2;
	memset(reply, 0, sizeof *reply);
	sdr_bridge_routes_handle(bridge, &req, reply);
	*code = NULL;
	if (reply->body != NULL && reply->stream == NULL) {
		g_autoptr(JsonNode) root = json_from_string(reply->body, NULL);
		JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT(root)
		                        ? json_node_get_object(root)
		                        : NULL;

		if (o != NULL && json_object_has_member(o, "error"))
			*code = g_strdup(json_object_get_string_member(
			        json_object_get_object_member(o, "error"), "code"));
	}
	return reply->status;
}

static void
expect(SdrBridge *bridge, const char *method, const char *path, const char *origin, guint status,
       const char *code)
{
	SdrBridgeReply reply;
	g_autofree char *got = NULL;
	guint s = route(bridge, method, path, origin, &reply, &got);

	if (s != status || g_strcmp0(got, code) != 0)
		fail_msg("%s %s: %u %s, expected %u %s", method, path, s, got, status, code);
	g_free(reply.body);
}

static void
test_table_rows(void **state)
{
	const SdrBridgeRoute *t = sdr_bridge_routes_table();
	guint n = 0;

	(void)state;
	for (const SdrBridgeRoute *r = t; r->method != NULL; r++, n++) {
		assert_non_null(r->handle);
		assert_true(g_str_equal(r->method, "GET") || g_str_equal(r->method, "POST"));
		assert_true(r->path[0] == '/');
		/* Only GET rows may be served without Origin; POST rows read a body. */
		if (r->flags & SDR_BRIDGE_ROUTE_ALLOW_NO_ORIGIN)
			assert_string_equal(r->method, "GET");
		if (g_str_equal(r->method, "POST"))
			assert_true(r->flags & SDR_BRIDGE_ROUTE_NEEDS_BODY);
		for (const SdrBridgeRoute *o = t; o != r; o++)
			assert_false(g_str_equal(o->method, r->method) &&
			             g_str_equal(o->path, r->path));
	}
	assert_int_equal(n, 13);
}

static void
test_not_found_not_allowed(void **state)
{
	SdrBridge *b = new_bridge(FALSE);

	(void)state;
	expect(b, "POST", "/v1/info", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "POST", "/v1/certificates", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "POST", "/v1/events", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "GET", "/v1/sign", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "GET", "/v1/verify", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "GET", "/v1/s2low/send", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "POST", "/v1/s2low/status/1", ORIGIN, 405, "SDR_ERROR_BAD_REQUEST");
	/* S²LOW: an origin the person never approved may not send; no id, no status;
	 * without an Origin these rows are not served. */
	expect(b, "POST", "/v1/s2low/send", ORIGIN, 403, "SDR_ERROR_CONSENT_DENIED");
	expect(b, "GET", "/v1/s2low/status/", ORIGIN, 400, "SDR_ERROR_BAD_REQUEST");
	expect(b, "GET", "/v1/s2low/status/-1", ORIGIN, 400, "SDR_ERROR_BAD_REQUEST");
	expect(b, "GET", "/v1/s2low/status/1", NULL, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "POST", "/v1/s2low/send", NULL, 405, "SDR_ERROR_BAD_REQUEST");
	expect(b, "GET", "/v1/nothing", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	expect(b, "GET", "/v1/info/", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	expect(b, "GET", "/", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	/* NexU off: its paths do not exist. */
	expect(b, "GET", "/nexu-info", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	expect(b, "GET", "/nexu.js", NULL, 404, "SDR_ERROR_NOT_FOUND");
	expect(b, "POST", "/rest/certificates", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	assert_null(sdr_bridge_routes_find(b, "GET", "/nexu.js", NULL));
	assert_true(sdr_bridge_routes_find(b, "GET", "/v1/info", NULL)->handle ==
	            sdr_bridge_api_info);
	sdr_bridge_free(b);
}

static void
test_nexu_rows(void **state)
{
	SdrBridge *b = new_bridge(TRUE);
	SdrBridgeReply reply;
	g_autofree char *code = NULL;

	(void)state;
	assert_int_equal(route(b, "GET", "/nexu-info", ORIGIN, &reply, &code), 200);
	assert_null(code);
	assert_non_null(strstr(reply.body, "\"implementation\":\"sinadur\""));
	g_free(reply.body);
	assert_int_equal(route(b, "GET", "/nexu.js", NULL, &reply, &code), 200);
	assert_true(reply.public_script);
	assert_string_equal(reply.content_type, "application/javascript; charset=utf-8");
	g_free(reply.body);
	/* NexU paths match on method and path together: never 405. */
	expect(b, "GET", "/rest/sign", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	expect(b, "POST", "/nexu-info", ORIGIN, 404, "SDR_ERROR_NOT_FOUND");
	/* /rest/ rows need an Origin (the security decision already refuses it
	 * without one; the table does not serve it either). */
	expect(b, "POST", "/rest/sign", NULL, 404, "SDR_ERROR_NOT_FOUND");
	assert_null(sdr_bridge_routes_find(b, "POST", "/rest/certificates", NULL));
	assert_true(sdr_bridge_routes_find(b, "POST", "/rest/certificates", ORIGIN)->handle ==
	            sdr_bridge_nexu_certificates);
	sdr_bridge_free(b);
}

static void
test_no_origin_flag(void **state)
{
	SdrBridge *off = new_bridge(FALSE), *on = new_bridge(TRUE);
	SdrBridgeRouter r_off = sdr_bridge_routes_router(off), r_on = sdr_bridge_routes_router(on);

	(void)state;
	assert_true(r_on.allows_no_origin(r_on.data, "GET", "/nexu.js"));
	assert_false(r_off.allows_no_origin(r_off.data, "GET", "/nexu.js"));
	assert_false(r_on.allows_no_origin(r_on.data, "POST", "/nexu.js"));
	assert_false(r_on.allows_no_origin(r_on.data, "GET", "/nexu.js/x"));
	/* /v1/info has its own, narrower rule in the security decision. */
	assert_false(r_on.allows_no_origin(r_on.data, "GET", "/v1/info"));
	assert_false(r_on.allows_no_origin(r_on.data, "GET", "/nexu-info"));
	assert_false(r_on.allows_no_origin(r_on.data, "POST", "/rest/sign"));
	sdr_bridge_free(off);
	sdr_bridge_free(on);
}

static void
test_events_need_approval(void **state)
{
	SdrBridge *b = new_bridge(FALSE);
	SdrBridgeReply reply;
	g_autofree char *code = NULL;

	(void)state;
	expect(b, "GET", "/v1/events", ORIGIN, 403, "SDR_ERROR_CONSENT_DENIED");
	sdr_bridge_approvals_add(b->approvals, ORIGIN);
	assert_int_equal(route(b, "GET", "/v1/events", ORIGIN, &reply, &code), 200);
	assert_true(reply.stream == sdr_bridge_get_events(b));
	g_free(reply.body);
	expect(b, "GET", "/v1/events", "https://autre.example.fr", 403, "SDR_ERROR_CONSENT_DENIED");
	sdr_bridge_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_not_found_not_allowed),
		cmocka_unit_test(test_nexu_rows),
		cmocka_unit_test(test_no_origin_flag),
		cmocka_unit_test(test_events_need_approval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
