/* test-bridge-security.c - unit tests of every rule of sdr-bridge-security.c. */
#include "sdr-bridge-security.h"
#include "sdr-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define PORT 24742

static SdrBridgePolicy *
policy(void)
{
	const char *origins[] = { "https://portail.example.fr", "HTTPS://Other.Example.fr:443/",
		                  "https://port.example.fr:8443", NULL };
	const char *tests[] = { "http://127.0.0.1:8000", NULL };
	g_autoptr(GError) error = NULL;
	SdrBridgePolicy *p = sdr_bridge_policy_new(PORT, origins, tests, &error);

	assert_non_null(p);
	assert_null(error);
	return p;
}

static void
test_normalise(void **state)
{
	struct {
		const char *in;
		gboolean http;
		const char *out;
	} cases[] = {
		{ "https://a.fr", FALSE, "https://a.fr" },
		{ "HTTPS://A.FR/", FALSE, "https://a.fr" },
		{ "https://a.fr:443", FALSE, "https://a.fr" },
		{ "https://a.fr:8443", FALSE, "https://a.fr:8443" },
		{ "https://[::1]:9000", FALSE, "https://[::1]:9000" },
		{ "http://127.0.0.1:8000", TRUE, "http://127.0.0.1:8000" },
		{ "http://localhost:80", TRUE, "http://localhost" },
		{ "http://127.0.0.1:8000", FALSE, NULL },   /* http never without allow_http */
		{ "http://evil.example:8000", TRUE, NULL }, /* http only on the loopback */
		{ "https://a.fr/path", FALSE, NULL },
		{ "https://user@a.fr", FALSE, NULL },
		{ "https://a.fr:0", FALSE, NULL },
		{ "https://a.fr:65536", FALSE, NULL },
		{ "https://a.fr:08443", FALSE, NULL },
		{ "https://", FALSE, NULL },
		{ "https://a..fr", FALSE, NULL },
		{ "https://a.fr.", FALSE, NULL },
		{ "ftp://a.fr", FALSE, NULL },
		{ "null", FALSE, NULL },
		{ "*", FALSE, NULL },
		{ "https://[]", FALSE, NULL },
		{ "https://[zz]", FALSE, NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *o =
		        sdr_bridge_origin_normalise(cases[i].in, cases[i].http, &error);

		if (cases[i].out == NULL) {
			if (o != NULL)
				fail_msg("%s accepted as %s", cases[i].in, o);
			assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONFIG));
		} else {
			assert_non_null(o);
			assert_string_equal(o, cases[i].out);
		}
	}
}

static void
test_policy_refuses_bad_lists(void **state)
{
	const char *star[] = { "*", NULL };
	const char *null_origin[] = { "null", NULL };
	const char *http_prod[] = { "http://127.0.0.1:8000", NULL };
	const char *http_remote_test[] = { "http://intranet.example.fr", NULL };
	const char *ok[] = { "https://a.fr", NULL };
	const char *const *bad[] = { star, null_origin, http_prod };

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		SdrBridgePolicy *p = sdr_bridge_policy_new(PORT, bad[i], NULL, &error);
		assert_null(p);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONFIG));
	}
	{
		g_autoptr(GError) error = NULL;
		SdrBridgePolicy *p = sdr_bridge_policy_new(PORT, ok, http_remote_test, &error);
		assert_null(p);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONFIG));
	}
	{
		g_autoptr(GError) error = NULL;
		SdrBridgePolicy *p = sdr_bridge_policy_new(PORT, ok, star, &error);
		assert_null(p);
	}
}

static void
test_policy_from_config(void **state)
{
	const char *ini = "[bridge]\nport=25000\nallowed_origins=https://a.fr;https://b.fr\n"
	                  "max_body_mb=2\nnexu=true\nconsent_timeout_s=7\n";
	const char *bad_ini = "[bridge]\nallowed_origins=http://a.fr\n";
	const char *bad_mb = "[bridge]\nmax_body_mb=0\n";
	g_autoptr(SdrConfig) c = sdr_config_new();
	g_autoptr(SdrConfig) c2 = sdr_config_new();
	g_autoptr(SdrConfig) c3 = sdr_config_new();
	g_autoptr(SdrConfig) empty = sdr_config_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrBridgePolicy) p = NULL;
	g_autoptr(SdrBridgePolicy) d = NULL;

	assert_true(sdr_config_load_data(c, 1, ini, strlen(ini), &error));
	p = sdr_bridge_policy_new_from_config(c, &error);
	assert_non_null(p);
	assert_int_equal(sdr_bridge_policy_get_port(p), 25000);
	assert_int_equal(sdr_bridge_policy_get_max_body(p), 2 * 1024 * 1024);
	assert_true(sdr_bridge_policy_get_nexu(p));
	assert_int_equal(sdr_bridge_policy_get_consent_timeout(p), 7);
	assert_true(sdr_bridge_check_origin(p, "https://b.fr", NULL));

	d = sdr_bridge_policy_new_from_config(empty, &error);
	assert_non_null(d);
	assert_int_equal(sdr_bridge_policy_get_port(d), 24742);
	assert_int_equal(sdr_bridge_policy_get_max_body(d), 100 * 1024 * 1024);
	assert_false(sdr_bridge_policy_get_nexu(d));
	assert_false(sdr_bridge_check_origin(d, "https://a.fr", NULL));

	assert_true(sdr_config_load_data(c2, 1, bad_ini, strlen(bad_ini), NULL));
	assert_null(sdr_bridge_policy_new_from_config(c2, NULL));
	assert_true(sdr_config_load_data(c3, 1, bad_mb, strlen(bad_mb), NULL));
	assert_null(sdr_bridge_policy_new_from_config(c3, NULL));

	/* Memory budget and request deadline: defaults, explicit, refused. */
	assert_int_equal(sdr_bridge_policy_get_max_memory(d), 512 * 1024 * 1024);
	assert_int_equal(sdr_bridge_policy_get_request_timeout(d), 60);
	{
		const char *mem = "[bridge]\nmax_body_mb=200\n";
		const char *mem2 =
		        "[bridge]\nmax_body_mb=4\nmax_memory_mb=16\nrequest_timeout_s=5\n";
		const char *low = "[bridge]\nmax_body_mb=4\nmax_memory_mb=15\n";
		const char *zero_t = "[bridge]\nrequest_timeout_s=0\n";
		g_autoptr(SdrConfig) m = sdr_config_new();
		g_autoptr(SdrConfig) m2 = sdr_config_new();
		g_autoptr(SdrConfig) m3 = sdr_config_new();
		g_autoptr(SdrConfig) m4 = sdr_config_new();
		g_autoptr(SdrBridgePolicy) pm = NULL;
		g_autoptr(SdrBridgePolicy) pm2 = NULL;

		assert_true(sdr_config_load_data(m, 1, mem, strlen(mem), NULL));
		pm = sdr_bridge_policy_new_from_config(m, NULL);
		assert_int_equal(sdr_bridge_policy_get_max_memory(pm), 800ULL * 1024 * 1024);
		assert_true(sdr_config_load_data(m2, 1, mem2, strlen(mem2), NULL));
		pm2 = sdr_bridge_policy_new_from_config(m2, NULL);
		assert_int_equal(sdr_bridge_policy_get_max_memory(pm2), 16 * 1024 * 1024);
		assert_int_equal(sdr_bridge_policy_get_request_timeout(pm2), 5);
		assert_true(sdr_config_load_data(m3, 1, low, strlen(low), NULL));
		assert_null(sdr_bridge_policy_new_from_config(m3, NULL));
		assert_true(sdr_config_load_data(m4, 1, zero_t, strlen(zero_t), NULL));
		assert_null(sdr_bridge_policy_new_from_config(m4, NULL));
	}
}

static void
test_host(void **state)
{
	g_autoptr(SdrBridgePolicy) p = policy();
	const char *good[] = { "127.0.0.1:24742", "localhost:24742", "LOCALHOST:24742",
		               "[::1]:24742" };
	const char *bad[] = { "127.0.0.1",
		              "localhost",
		              "[::1]",
		              "evil.com:24742",
		              "127.0.0.1.evil.com:24742",
		              "localhost.:24742",
		              "127.0.0.1:24743",
		              "127.0.0.1:024742",
		              "127.0.0.1:+24742",
		              "127.0.0.2:24742",
		              "0.0.0.0:24742",
		              "[::ffff:127.0.0.1]:24742",
		              "localhost:24742 ",
		              "",
		              "[::1:24742",
		              "user@localhost:24742" };

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
		assert_true(sdr_bridge_check_host(p, good[i], NULL));
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		if (sdr_bridge_check_host(p, bad[i], &error))
			fail_msg("Host %s accepted", bad[i]);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_HOST_DENIED));
	}
	assert_false(sdr_bridge_check_host(p, NULL, NULL));
}

static void
test_origin(void **state)
{
	g_autoptr(SdrBridgePolicy) p = policy();
	const char *good[] = { "https://portail.example.fr", "https://other.example.fr",
		               "https://port.example.fr:8443", "http://127.0.0.1:8000" };
	const char *bad[] = { "null",
		              "*",
		              "https://evil.example",
		              "https://portail.example.fr.evil.example",
		              "http://portail.example.fr",
		              "https://portail.example.fr:443",
		              "https://PORTAIL.example.fr",
		              "https://portail.example.fr/",
		              "https://port.example.fr",
		              "http://127.0.0.1:8001",
		              "http://localhost:8000",
		              "",
		              "file://" };

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
		assert_true(sdr_bridge_check_origin(p, good[i], NULL));
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		if (sdr_bridge_check_origin(p, bad[i], &error))
			fail_msg("Origin %s accepted", bad[i]);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_ORIGIN_DENIED));
	}
	assert_false(sdr_bridge_check_origin(p, NULL, NULL));
}

static void
test_content_type(void **state)
{
	assert_true(sdr_bridge_check_content_type("application/json", NULL));
	assert_true(sdr_bridge_check_content_type("application/json; charset=utf-8", NULL));
	assert_true(sdr_bridge_check_content_type("Application/JSON;charset=UTF-8", NULL));
	assert_false(sdr_bridge_check_content_type("text/plain", NULL));
	assert_false(sdr_bridge_check_content_type("application/x-www-form-urlencoded", NULL));
	assert_false(sdr_bridge_check_content_type("multipart/form-data; boundary=x", NULL));
	assert_false(sdr_bridge_check_content_type("application/jsonp", NULL));
	assert_false(sdr_bridge_check_content_type("application/json-patch+json", NULL));
	assert_false(sdr_bridge_check_content_type(NULL, NULL));
}

typedef struct {
	const char *method, *path, *host, *origin, *ctype, *clen, *acrm, *acrh;
	SdrBridgeVerdict verdict;
	guint status;
	int code;
	const char *sfs; /* Sec-Fetch-Site */
} Case;

static void
test_decide(void **state)
{
	g_autoptr(SdrBridgePolicy) p = policy();
	const char *o = "https://portail.example.fr";
	const char *h = "127.0.0.1:24742";
	const char *j = "application/json";
	Case cases[] = {
		/* good */
		{ "GET", "/v1/info", h, NULL, NULL, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_ALLOW, 200,
		  0 },
		{ "GET", "/v1/certificates", h, o, NULL, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_ALLOW,
		  200, 0 },
		{ "POST", "/v1/sign", h, o, j, "10", NULL, NULL, SDR_BRIDGE_VERDICT_ALLOW, 200, 0 },
		{ "OPTIONS", "/v1/sign", h, o, NULL, NULL, "POST", "content-type",
		  SDR_BRIDGE_VERDICT_PREFLIGHT, 204, 0 },
		{ "OPTIONS", "/v1/sign", h, o, NULL, NULL, "POST", "Content-Type , content-type",
		  SDR_BRIDGE_VERDICT_PREFLIGHT, 204, 0 },
		/* the address typed by a person, and a cross-site <img> probing for the agent */
		{ "GET", "/v1/info", h, NULL, NULL, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_ALLOW, 200,
		  0, "none" },
		{ "GET", "/v1/info", h, NULL, NULL, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_DENY, 403,
		  SDR_ERROR_ORIGIN_DENIED, "cross-site" },
		/* rebinding */
		{ "GET", "/v1/info", "evil.com:24742", NULL, NULL, NULL, NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 421, SDR_ERROR_HOST_DENIED },
		{ "POST", "/v1/sign", "127.0.0.1.evil.com:24742", o, j, "2", NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 421, SDR_ERROR_HOST_DENIED },
		{ "GET", "/v1/info", NULL, NULL, NULL, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_DENY,
		  421, SDR_ERROR_HOST_DENIED },
		/* origins */
		{ "GET", "/v1/certificates", h, "https://evil.example", NULL, NULL, NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 403, SDR_ERROR_ORIGIN_DENIED },
		{ "GET", "/v1/certificates", h, "null", NULL, NULL, NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 403, SDR_ERROR_ORIGIN_DENIED },
		{ "GET", "/v1/certificates", h, NULL, NULL, NULL, NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 403, SDR_ERROR_ORIGIN_DENIED },
		{ "POST", "/v1/sign", h, NULL, j, "2", NULL, NULL, SDR_BRIDGE_VERDICT_DENY, 403,
		  SDR_ERROR_ORIGIN_DENIED },
		{ "GET", "/v1/info", h, "https://evil.example", NULL, NULL, NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 403, SDR_ERROR_ORIGIN_DENIED },
		/* simple requests that would skip the preflight */
		{ "POST", "/v1/sign", h, o, "text/plain", "2", NULL, NULL, SDR_BRIDGE_VERDICT_DENY,
		  415, SDR_ERROR_BAD_REQUEST },
		{ "POST", "/v1/sign", h, o, "application/x-www-form-urlencoded", "2", NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 415, SDR_ERROR_BAD_REQUEST },
		{ "POST", "/v1/sign", h, o, "multipart/form-data; boundary=z", "2", NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 415, SDR_ERROR_BAD_REQUEST },
		{ "POST", "/v1/sign", h, o, NULL, "2", NULL, NULL, SDR_BRIDGE_VERDICT_DENY, 415,
		  SDR_ERROR_BAD_REQUEST },
		/* sizes */
		{ "POST", "/v1/sign", h, o, j, "104857601", NULL, NULL, SDR_BRIDGE_VERDICT_DENY,
		  413, SDR_ERROR_TOO_LARGE },
		{ "POST", "/v1/sign", h, o, j, "99999999999999999999999", NULL, NULL,
		  SDR_BRIDGE_VERDICT_DENY, 400, SDR_ERROR_BAD_REQUEST },
		{ "POST", "/v1/sign", h, o, j, "-1", NULL, NULL, SDR_BRIDGE_VERDICT_DENY, 400,
		  SDR_ERROR_BAD_REQUEST },
		{ "POST", "/v1/sign", h, o, j, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_DENY, 411,
		  SDR_ERROR_BAD_REQUEST },
		/* preflights */
		{ "OPTIONS", "/v1/sign", h, "https://evil.example", NULL, NULL, "POST",
		  "content-type", SDR_BRIDGE_VERDICT_DENY, 403, SDR_ERROR_ORIGIN_DENIED },
		{ "OPTIONS", "/v1/sign", h, NULL, NULL, NULL, "POST", NULL, SDR_BRIDGE_VERDICT_DENY,
		  403, SDR_ERROR_ORIGIN_DENIED },
		{ "OPTIONS", "/v1/sign", h, o, NULL, NULL, "DELETE", NULL, SDR_BRIDGE_VERDICT_DENY,
		  403, SDR_ERROR_ORIGIN_DENIED },
		{ "OPTIONS", "/v1/sign", h, o, NULL, NULL, "POST", "content-type, x-pin",
		  SDR_BRIDGE_VERDICT_DENY, 403, SDR_ERROR_ORIGIN_DENIED },
		/* methods */
		{ "PUT", "/v1/sign", h, o, j, "2", NULL, NULL, SDR_BRIDGE_VERDICT_DENY, 405,
		  SDR_ERROR_BAD_REQUEST },
		{ "DELETE", "/v1/info", h, NULL, NULL, NULL, NULL, NULL, SDR_BRIDGE_VERDICT_DENY,
		  405, SDR_ERROR_BAD_REQUEST },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		SdrBridgeRequestHead head = { 0 };
		SdrBridgeDecision d;

		head.method = cases[i].method;
		head.path = cases[i].path;
		head.host = cases[i].host;
		head.origin = cases[i].origin;
		head.content_type = cases[i].ctype;
		head.content_length = cases[i].clen;
		head.acr_method = cases[i].acrm;
		head.acr_headers = cases[i].acrh;
		head.sec_fetch_site = cases[i].sfs;
		sdr_bridge_security_decide(p, &head, &d);
		if (d.verdict != cases[i].verdict || d.status != cases[i].status ||
		    (cases[i].code != 0 && d.error_code != cases[i].code))
			fail_msg("case %zu (%s %s host=%s origin=%s): verdict %d status %u code %d",
			         i, cases[i].method, cases[i].path, cases[i].host, cases[i].origin,
			         d.verdict, d.status, d.error_code);
		/* A refused origin is never echoed. */
		if (d.cors)
			assert_true(sdr_bridge_check_origin(p, cases[i].origin, NULL));
	}
	/* The per-route flag: a GET without Origin (even another site's <script>,
	 * Sec-Fetch-Site: cross-site) is served, nothing echoed; not a POST, and not
	 * a refused Origin. */
	{
		SdrBridgeRequestHead head = { 0 };
		SdrBridgeDecision d;

		head.method = "GET";
		head.path = "/nexu.js";
		head.host = "127.0.0.1:24742";
		head.sec_fetch_site = "cross-site";
		head.allow_no_origin = TRUE;
		sdr_bridge_security_decide(p, &head, &d);
		assert_int_equal(d.verdict, SDR_BRIDGE_VERDICT_ALLOW);
		assert_false(d.cors);
		head.allow_no_origin = FALSE;
		sdr_bridge_security_decide(p, &head, &d);
		assert_int_equal(d.status, 403);
		head.allow_no_origin = TRUE;
		head.method = "POST";
		sdr_bridge_security_decide(p, &head, &d);
		assert_int_equal(d.status, 403);
		head.method = "GET";
		head.origin = "https://evil.example";
		sdr_bridge_security_decide(p, &head, &d);
		assert_int_equal(d.status, 403);
	}
}

static void
test_headers(void **state)
{
	const char *const *h = sdr_bridge_security_common_headers();
	const char *const *pf = sdr_bridge_security_preflight_headers();
	gboolean vary = FALSE, pna = FALSE, star = FALSE;

	for (gsize i = 0; h[i] != NULL; i += 2) {
		if (g_str_equal(h[i], "Vary") && strstr(h[i + 1], "Origin") != NULL)
			vary = TRUE;
	}
	for (gsize i = 0; pf[i] != NULL; i += 2) {
		if (g_str_equal(pf[i], "Access-Control-Allow-Private-Network") &&
		    g_str_equal(pf[i + 1], "true"))
			pna = TRUE;
		if (strchr(pf[i + 1], '*') != NULL)
			star = TRUE;
	}
	assert_true(vary);
	assert_true(pna);
	assert_false(star);
}

static gboolean
parses(const char *text, gsize len)
{
	JsonNode *n = sdr_bridge_json_parse_object(text, len, NULL);
	gboolean ok = n != NULL;

	if (n != NULL)
		json_node_unref(n);
	return ok;
}
#define ACCEPTS(lit) assert_true(parses(lit, sizeof(lit) - 1))
#define REFUSES(lit)                                                                               \
	do {                                                                                       \
		if (parses(lit, sizeof(lit) - 1))                                                  \
			fail_msg("accepted: %s", lit);                                             \
	} while (0)

static char *
nested(guint depth, const char *open, const char *close, const char *prefix)
{
	GString *s = g_string_new(prefix);

	for (guint i = 0; i < depth; i++)
		g_string_append(s, open);
	g_string_append(s, "1");
	for (guint i = 0; i < depth; i++)
		g_string_append(s, close);
	g_string_append(s, "}");
	return g_string_free(s, FALSE);
}

/* Each claim about the parser, checked (json-c 0.16 STRICT alone accepts the
 * lines marked "json-c": the bridge refuses them itself). */
static void
test_json_strict(void **state)
{
	g_autoptr(GError) error = NULL;

	ACCEPTS("{\"a\":1}");
	ACCEPTS(" \t\r\n{\"a\" : [1, -0, 1.5e-3, 2E+2, true, false, null, "
	        "\"\\u00e9\\ud83d\\ude00\"]} \n");
	ACCEPTS("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[/* x */\"}");
	/* comments, even hiding a quote (issue 10: the old pre-scan's blind spot) */
	REFUSES("{\"documents\": /* \" */ []}");
	REFUSES("{\"a\":1} // x");
	REFUSES("{\"a\":1 /* x */}");
	/* single quotes: values, and member names (json-c) */
	REFUSES("{\"a\":'x'}");
	REFUSES("{'a':1}");
	REFUSES("{'a\"':1}");
	/* hex, leading zeros, signs, dots (json-c: "1.") */
	REFUSES("{\"a\":0x10}");
	REFUSES("{\"a\":01}");
	REFUSES("{\"a\":+1}");
	REFUSES("{\"a\":.5}");
	REFUSES("{\"a\":1.}");
	/* NaN / Infinity (json-c), overflowing numbers (json-c) */
	REFUSES("{\"a\":NaN}");
	REFUSES("{\"a\":Infinity}");
	REFUSES("{\"a\":-Infinity}");
	REFUSES("{\"a\":1e999}");
	REFUSES("{\"a\":99999999999999999999}");
	REFUSES("{\"a\":-9223372036854775809}");
	ACCEPTS("{\"a\":9223372036854775806}");
	/* trailing bytes, two roots, trailing comma, NUL after the root */
	REFUSES("{\"a\":1}x");
	REFUSES("{\"a\":1}{}");
	REFUSES("{\"a\":1} {\"b\":2}");
	REFUSES("{\"a\":1,}");
	REFUSES("{\"a\":1}\0");
	REFUSES("{\"a\":\"abc");
	REFUSES("{\"a\":\"abc\\");
	/* the root must be an object */
	REFUSES("[1]");
	REFUSES("\"s\"");
	REFUSES("1");
	/* control characters in strings (json-c), NUL, bad escapes */
	REFUSES("{\"a\":\"x\001y\"}");
	REFUSES("{\"a\":\"x\ty\"}");
	REFUSES("{\"a\":\"x\\u0000y\"}");
	REFUSES("{\"a\\u0000b\":1}");
	REFUSES("{\"a\":\"\\x41\"}");
	REFUSES("{\"a\":\"\\'\"}");
	/* lone surrogates (json-c turns them into U+FFFD), encoded surrogates (json-c) */
	REFUSES("{\"a\":\"\\ud800\"}");
	REFUSES("{\"a\":\"\\ud800x\"}");
	REFUSES("{\"a\":\"\\udc00\"}");
	REFUSES("{\"a\":\"\\ud800\\u0041\"}");
	REFUSES("{\"a\":\"\xed\xa0\x80\"}");
	/* invalid UTF-8, BOM, whitespace RFC 8259 does not know */
	REFUSES("{\"a\":\"\xff\"}");
	REFUSES("{\"a\":\"\xc3\"}");
	REFUSES("\xef\xbb\xbf{}");
	REFUSES("{\"a\":\v1}");
	REFUSES("{\"a\":\xc2\xa0"
	        "1}");
	/* duplicate member names (json-c keeps the last), at any level, escaped or not */
	REFUSES("{\"a\":1,\"a\":2}");
	REFUSES("{\"a\":1,\"\\u0061\":2}");
	REFUSES("{\"o\":{\"x\":{\"k\":1},\"x\":2}}");
	REFUSES("{\"a\":[{\"k\":1,\"k\":1}]}");
	ACCEPTS("{\"a\":{\"k\":1},\"b\":{\"k\":1}}");
	REFUSES("");
	REFUSES(" ");
	{
		const char two_roots_with_nul[] = "{}\0{}";
		assert_false(parses(two_roots_with_nul, sizeof two_roots_with_nul - 1));
	}
	/* Depth: 16 containers pass, 17 do not (counted by json-c itself); 100 000 levels
	 * behind a comment or a quote are refused without recursion. */
	{
		g_autofree char *ok = nested(15, "[", "]", "{\"a\":");
		g_autofree char *deep = nested(16, "[", "]", "{\"a\":");
		g_autofree char *objs = nested(16, "{\"a\":", "}", "{\"a\":");
		g_autofree char *huge = nested(100000, "[", "]", "{\"documents\": /* \" */ ");
		g_autofree char *huge2 = nested(100000, "[", "]", "{\"documents\":");
		g_autofree char *huge3 = nested(100000, "[", "]", "{'documents':");

		assert_true(parses(ok, strlen(ok)));
		assert_false(sdr_bridge_json_parse_object(deep, strlen(deep), &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
		assert_non_null(strstr(error->message, "deep"));
		assert_false(parses(objs, strlen(objs)));
		assert_false(parses(huge, strlen(huge)));
		assert_false(parses(huge2, strlen(huge2)));
		assert_false(parses(huge3, strlen(huge3)));
	}
}

static void
test_json_parse(void **state)
{
	const char *good = "{\"format\":\"cades\",\"documents\":[]}";
	JsonNode *n;
	const char *allowed[] = { "format", "documents", NULL };
	const char *bad[] = { "[1,2]", "{", "\"s\"", "{\"a\":1} x", "\xff\xfe" };

	n = sdr_bridge_json_parse_object(good, strlen(good), NULL);
	assert_non_null(n);
	assert_true(sdr_bridge_json_check_members(json_node_get_object(n), allowed, "r", NULL));
	{
		const char *less[] = { "format", NULL };
		g_autoptr(GError) error = NULL;
		assert_false(
		        sdr_bridge_json_check_members(json_node_get_object(n), less, "r", &error));
		assert_non_null(strstr(error->message, "documents"));
	}
	json_node_unref(n);
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
		assert_null(sdr_bridge_json_parse_object(bad[i], strlen(bad[i]), NULL));
	assert_null(sdr_bridge_json_parse_object("", 0, NULL));
}

static void
test_base64(void **state)
{
	guint64 size = 0;
	g_autoptr(GError) error = NULL;
	g_autofree char *huge = g_strnfill(4 * 1000, 'A');

	assert_true(sdr_bridge_base64_check("aGVsbG8=", 100, &size, NULL));
	assert_int_equal(size, 5);
	assert_true(sdr_bridge_base64_check("", 100, &size, NULL));
	assert_int_equal(size, 0);
	assert_false(sdr_bridge_base64_check("aGVsbG8", 100, NULL, NULL));
	assert_false(sdr_bridge_base64_check("aGV$bG8=", 100, NULL, NULL));
	assert_false(sdr_bridge_base64_check("a=Vs", 100, NULL, NULL));
	assert_false(sdr_bridge_base64_check("aGVsbG8=", 4, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));
	g_clear_error(&error);
	assert_false(sdr_bridge_base64_check(huge, 64, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));
}

static void
test_status_map(void **state)
{
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_BAD_REQUEST), 400);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_CONSENT_DENIED), 403);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_TIMEOUT), 408);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_BUSY), 409);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_TOO_LARGE), 413);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_HOST_DENIED), 421);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_NO_CARD), 503);
	assert_int_equal(sdr_bridge_status_for_error(SDR_ERROR_FAILED), 500);
}

static void
test_approvals(void **state)
{
	g_autoptr(SdrBridgeApprovals) a = sdr_bridge_approvals_new();

	assert_false(sdr_bridge_approvals_has(a, "https://a.fr"));
	sdr_bridge_approvals_add(a, "https://a.fr");
	assert_true(sdr_bridge_approvals_has(a, "https://a.fr"));
	assert_false(sdr_bridge_approvals_has(a, "https://b.fr"));
	assert_false(sdr_bridge_approvals_has(a, NULL));
	sdr_bridge_approvals_free(NULL);
	sdr_bridge_policy_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_policy_refuses_bad_lists),
		cmocka_unit_test(test_policy_from_config),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_status_map),
		cmocka_unit_test(test_approvals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
