/* fuzz-http.c - the bridge's request checks on an in-memory HTTP request:
 * request line and headers -> sdr_bridge_security_decide(); when allowed, the
 * body -> JSON depth pre-scan, parse, and the API's shape checks (which may
 * rewrite the request, e.g. hash the data-to-sign). No socket, no token. */
#include "sdr-bridge-private.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 64

static SdrBridge *
fuzz_bridge(void)
{
	static SdrBridge *bridge;

	if (bridge == NULL) {
		const char *origins[] = { "https://portail.example.fr", NULL };
		const char *tests[] = { "http://127.0.0.1:8000", NULL };
		SdrBridgePolicy *policy = sdr_bridge_policy_new(24742, origins, tests, NULL);

		sdr_bridge_policy_set_max_body(policy, 1024 * 1024);
		sdr_bridge_policy_set_nexu(policy, TRUE);
		bridge = sdr_bridge_new(NULL, NULL, policy);
	}
	return bridge;
}

static const char *
header(char **names, char **values, guint n, const char *name)
{
	for (guint i = 0; i < n; i++) {
		if (g_ascii_strcasecmp(names[i], name) == 0)
			return values[i];
	}
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SdrBridge *bridge = fuzz_bridge();
	g_autofree char *text = g_strndup((const char *)data, size);
	const char *end = g_strstr_len(text, -1, "\r\n\r\n");
	g_autofree char *head_text = NULL;
	g_auto(GStrv) lines = NULL;
	g_auto(GStrv) request_line = NULL;
	char *names[MAX_HEADERS], *values[MAX_HEADERS];
	guint n = 0;
	SdrBridgeRequestHead head = { 0 };
	SdrBridgeDecision d;
	const char *body;
	gsize body_len;

	if (end == NULL)
		return 0;
	head_text = g_strndup(text, (gsize)(end - text));
	body = (const char *)data + (end - text) + 4;
	body_len = size - (gsize)(end - text) - 4;
	lines = g_strsplit(head_text, "\r\n", MAX_HEADERS + 1);
	if (lines[0] == NULL)
		return 0;
	request_line = g_strsplit(lines[0], " ", 3);
	if (g_strv_length(request_line) < 2)
		return 0;
	for (guint i = 1; lines[i] != NULL && n < MAX_HEADERS; i++) {
		char *colon = strchr(lines[i], ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		names[n] = lines[i];
		values[n] = g_strstrip(colon + 1);
		n++;
	}
	head.method = request_line[0];
	head.path = request_line[1];
	head.host = header(names, values, n, "Host");
	head.origin = header(names, values, n, "Origin");
	head.content_type = header(names, values, n, "Content-Type");
	head.content_length = header(names, values, n, "Content-Length");
	head.transfer_encoding = header(names, values, n, "Transfer-Encoding");
	head.acr_method = header(names, values, n, "Access-Control-Request-Method");
	head.acr_headers = header(names, values, n, "Access-Control-Request-Headers");
	head.sec_fetch_site = header(names, values, n, "Sec-Fetch-Site");
	sdr_bridge_security_decide(sdr_bridge_get_policy(bridge), &head, &d);
	if (d.verdict == SDR_BRIDGE_VERDICT_DENY)
		g_assert(d.status >= 400 && d.status < 500 && d.message != NULL);
	if (d.cors)
		g_assert(sdr_bridge_check_origin(sdr_bridge_get_policy(bridge), head.origin, NULL));
	if (d.verdict == SDR_BRIDGE_VERDICT_ALLOW && g_str_equal(head.method, "POST")) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) root = sdr_bridge_json_parse_object(body, body_len, &error);

		if (root != NULL) {
			g_autoptr(JsonNode) copy = json_node_copy(root);

			(void)sdr_bridge_api_check_body(bridge, head.path,
			                                json_node_get_object(copy), NULL);
		} else {
			g_assert(error != NULL);
		}
	}
	return 0;
}
