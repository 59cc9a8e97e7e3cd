/* test-bridge-api.c - the API's body checks (no socket, no token): members,
 * options, base64 caps, and the data-to-sign rewriting into digest mode. */
#include "sdr-bridge-private.h"
#include "sdr-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static SdrBridge *
new_bridge(void)
{
	const char *origins[] = { "https://portail.example.fr", NULL };
	SdrBridgePolicy *policy = sdr_bridge_policy_new(24742, origins, NULL, NULL);

	sdr_bridge_policy_set_max_body(policy, 1000);
	return sdr_bridge_new(NULL, NULL, policy);
}

static gboolean
check(SdrBridge *bridge, const char *path, const char *json, int expect_code, JsonNode **out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = json_from_string(json, NULL);
	gboolean ok;

	assert_non_null(root);
	ok = sdr_bridge_api_check_body(bridge, path, json_node_get_object(root), &error);
	if (expect_code == 0) {
		if (!ok)
			fail_msg("%s refused: %s", json, error->message);
	} else {
		if (ok)
			fail_msg("%s accepted", json);
		if (!g_error_matches(error, SDR_ERROR, expect_code))
			fail_msg("%s: %s (code %d)", json, error->message, error->code);
	}
	if (out != NULL)
		*out = json_node_ref(root);
	return ok;
}

static void
test_sign_bodies(void **state)
{
	SdrBridge *b = new_bridge();
	const char *sign = "/v1/sign";

	check(b, sign, "{\"format\":\"cades\",\"documents\":[{\"name\":\"a\",\"data\":\"aGk=\"}]}",
	      0, NULL);
	check(b, sign,
	      "{\"format\":\"pades\",\"certificate\":\"x\",\"options\":{\"visible\":true,\"page\":"
	      "2,"
	      "\"rect\":[1,2,3.5,4],\"reason\":\"r\",\"level\":\"B\"},"
	      "\"documents\":[{\"name\":\"a.pdf\",\"type\":\"application/"
	      "pdf\",\"data\":\"aGk=\"}]}",
	      0, NULL);
	check(b, sign,
	      "{\"format\":\"pes\",\"options\":{\"bordereaux\":[\"B1\",\"B2\"]},"
	      "\"documents\":[{\"name\":\"p.xml\",\"data\":\"aGk=\"}]}",
	      0, NULL);
	/* Refusals. */
	check(b, sign, "{\"format\":\"cades\",\"pin\":\"1234\",\"documents\":[]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign,
	      "{\"format\":\"cades\",\"documents\":[{\"name\":\"a\",\"path\":\"/etc/passwd\"}]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign,
	      "{\"format\":\"pades\",\"options\":{\"image\":\"/etc/shadow\"},\"documents\":[]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign,
	      "{\"format\":\"pades\",\"options\":{\"allow_any_usage\":true},\"documents\":[]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"pades\",\"options\":{\"rect\":[1,2,3]},\"documents\":[]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"pades\",\"options\":{\"reason\":{\"a\":1}},\"documents\":[]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"cades\",\"documents\":[{\"name\":\"a\",\"data\":\"a$k=\"}]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"cades\",\"documents\":[{\"name\":\"a\",\"data\":1}]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"cades\",\"documents\":{}}", SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"cades\"}", SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"mode\":\"digest\"}", SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"mode\":\"telepathy\",\"digest\":\"aGk=\"}", SDR_ERROR_BAD_REQUEST, NULL);
	check(b, sign, "{\"format\":\"cades\",\"digest\":\"aGk=\",\"documents\":[]}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	{
		/* A document over the body cap (1000 bytes) and an oversized digest. */
		g_autofree char *big = g_strnfill(1400, 'A');
		g_autofree char *j1 = g_strdup_printf(
		        "{\"format\":\"cades\",\"documents\":[{\"name\":\"a\",\"data\":\"%s\"}]}",
		        big);
		g_autofree char *j2 =
		        g_strdup_printf("{\"mode\":\"digest\",\"digest\":\"%s\"}", big);

		check(b, sign, j1, SDR_ERROR_TOO_LARGE, NULL);
		check(b, sign, j2, SDR_ERROR_TOO_LARGE, NULL);
	}
	sdr_bridge_free(b);
}

static void
test_data_mode_becomes_digest(void **state)
{
	SdrBridge *b = new_bridge();
	g_autoptr(JsonNode) root = NULL;
	JsonObject *o;
	/* SHA-256("hello") */
	const char *expect = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

	check(b, "/v1/sign", "{\"mode\":\"data\",\"hash\":\"sha256\",\"data\":\"aGVsbG8=\"}", 0,
	      &root);
	o = json_node_get_object(root);
	assert_string_equal(json_object_get_string_member(o, "mode"), "digest");
	assert_string_equal(json_object_get_string_member(o, "digest"), expect);
	assert_false(json_object_has_member(o, "data"));
	check(b, "/v1/sign", "{\"mode\":\"data\",\"hash\":\"md5\",\"data\":\"aGVsbG8=\"}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, "/v1/sign", "{\"mode\":\"data\",\"data\":\"aGVsbG8=\",\"digest\":\"aGk=\"}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	sdr_bridge_free(b);
}

static void
test_verify_bodies(void **state)
{
	SdrBridge *b = new_bridge();

	check(b, "/v1/verify",
	      "{\"documents\":[{\"name\":\"a.p7s\",\"data\":\"aGk=\"}],\"content\":{\"data\":"
	      "\"aGk=\"},\"online\":false,\"at\":\"2026-11-22T10:00:00Z\"}",
	      0, NULL);
	check(b, "/v1/verify",
	      "{\"documents\":[{\"name\":\"a\",\"data\":\"aGk=\"}],\"report\":\"/tmp/x\"}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, "/v1/verify", "{\"files\":[\"/etc/passwd\"]}", SDR_ERROR_BAD_REQUEST, NULL);
	check(b, "/v1/verify",
	      "{\"documents\":[{\"name\":\"a\",\"data\":\"aGk=\"}],\"online\":\"yes\"}",
	      SDR_ERROR_BAD_REQUEST, NULL);
	check(b, "/v1/verify", "{\"content\":{\"data\":\"aGk=\"}}", SDR_ERROR_BAD_REQUEST, NULL);
	check(b, "/v1/other", "{}", SDR_ERROR_BAD_REQUEST, NULL);
	sdr_bridge_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_bodies),
		cmocka_unit_test(test_data_mode_becomes_digest),
		cmocka_unit_test(test_verify_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
