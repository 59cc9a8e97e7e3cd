/* sdr-bridge-security.c - every security decision of the local HTTP bridge. */
#include "sdr-bridge-security.h"

#include "sdr-config-build.h"
#include "sdr-error.h"
#include "sdr-json.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

/* json-c and json-glib both export json_object_get_type, json_object_equal and
 * json_object_iter_next. json-c's declarations are renamed here (never called:
 * json_object_is_type and json_object_object_foreach are used instead), and
 * json-glib comes first on the link line, so every other call binds to it. */
#define json_object_get_type sdr_jsonc_unused_get_type
#define json_object_equal sdr_jsonc_unused_equal
#define json_object_iter_next sdr_jsonc_unused_iter_next
#include <json-c/json_object.h>
#include <json-c/json_tokener.h>
#include <json-c/linkhash.h>
#undef json_object_get_type
#undef json_object_equal
#undef json_object_iter_next

#define ORIGIN_MAX_LEN 512
#define HOST_MAX_LEN 300

struct _SdrBridgePolicy {
	guint16 port;
	GPtrArray *origins; /* normalised, exact-match strings */
	guint64 max_body;
	guint consent_timeout_s;
	gboolean nexu;
	guint64 max_memory; /* 0 = the default for max_body */
	guint request_timeout_s;
};

static gboolean
is_loopback_name(const char *name, gsize len)
{
	return (len == 9 && g_ascii_strncasecmp(name, "localhost", 9) == 0) ||
	       (len == 9 && strncmp(name, "127.0.0.1", 9) == 0) ||
	       (len == 5 && strncmp(name, "[::1]", 5) == 0);
}

/* Parses "digits" into a port 1..65535; no sign, no leading zero. */
static gboolean
parse_port(const char *s, gsize len, guint16 *port)
{
	guint v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (guint)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return FALSE;
	*port = (guint16)v;
	return TRUE;
}

char *
sdr_bridge_origin_normalise(const char *origin, gboolean allow_http, GError **error)
{
	const char *p, *host, *host_end, *end;
	gboolean https;
	guint16 port = 0;
	gboolean has_port = FALSE;
	g_autofree char *lhost = NULL;

	if (origin == NULL || strlen(origin) > ORIGIN_MAX_LEN)
		goto invalid;
	if (g_ascii_strncasecmp(origin, "https://", 8) == 0) {
		https = TRUE;
		host = origin + 8;
	} else if (g_ascii_strncasecmp(origin, "http://", 7) == 0) {
		https = FALSE;
		host = origin + 7;
	} else {
		goto invalid;
	}
	if (!https && !allow_http) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("Origin %s is not an https origin; http origins are only accepted "
		              "on the loopback, in [bridge] test_origins"),
		            origin);
		return NULL;
	}
	end = origin + strlen(origin);
	if (end > host && end[-1] == '/')
		end--;
	if (host[0] == '[') {
		host_end = memchr(host, ']', (gsize)(end - host));
		if (host_end == NULL)
			goto invalid;
		for (p = host + 1; p < host_end; p++) {
			if (!g_ascii_isxdigit(*p) && *p != ':' && *p != '.')
				goto invalid;
		}
		host_end++;
	} else {
		for (p = host; p < end && *p != ':'; p++) {
			if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
				goto invalid;
		}
		host_end = p;
	}
	if (host_end == host || (host_end - host == 2 && host[0] == '['))
		goto invalid;
	if (host_end < end) {
		if (*host_end != ':' ||
		    !parse_port(host_end + 1, (gsize)(end - host_end - 1), &port))
			goto invalid;
		has_port = TRUE;
	}
	lhost = g_ascii_strdown(host, host_end - host);
	if (lhost[0] == '.' || g_str_has_suffix(lhost, ".") || strstr(lhost, "..") != NULL)
		goto invalid;
	if (!https && !is_loopback_name(lhost, strlen(lhost))) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_CONFIG,
		        _("Test origin %s is not on the loopback (127.0.0.1, [::1], localhost)"),
		        origin);
		return NULL;
	}
	if (has_port && port == (https ? 443 : 80))
		has_port = FALSE;
	if (has_port)
		return g_strdup_printf("%s://%s:%u", https ? "https" : "http", lhost, port);
	return g_strdup_printf("%s://%s", https ? "https" : "http", lhost);

invalid:
	g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG, _("Invalid web origin: %s"),
	            origin != NULL ? origin : "(null)");
	return NULL;
}

static gboolean
add_origins(SdrBridgePolicy *policy, const char *const *list, gboolean test, GError **error)
{
	for (gsize i = 0; list != NULL && list[i] != NULL; i++) {
		g_autofree char *o = NULL;
		const char *raw = list[i];

		while (g_ascii_isspace(*raw))
			raw++;
		if (*raw == '\0')
			continue;
		if (strcmp(raw, "*") == 0 || strcmp(raw, "null") == 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("Origin %s can never be allowed"), raw);
			return FALSE;
		}
		o = sdr_bridge_origin_normalise(raw, test, error);
		if (o == NULL)
			return FALSE;
		if (!test && g_str_has_prefix(o, "http:")) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("Origin %s is not an https origin; http origins are only "
			              "accepted on the loopback, in [bridge] test_origins"),
			            raw);
			return FALSE;
		}
		g_ptr_array_add(policy->origins, g_steal_pointer(&o));
	}
	return TRUE;
}

SdrBridgePolicy *
sdr_bridge_policy_new(guint16 port, const char *const *allowed_origins,
                      const char *const *test_origins, GError **error)
{
	SdrBridgePolicy *policy = g_new0(SdrBridgePolicy, 1);

	policy->port = port;
	policy->origins = g_ptr_array_new_with_free_func(g_free);
	policy->max_body = (guint64)SDR_BRIDGE_MAX_BODY_MB_DEFAULT * 1024 * 1024;
	policy->consent_timeout_s = SDR_BRIDGE_CONSENT_TIMEOUT_DEFAULT;
	policy->request_timeout_s = SDR_BRIDGE_REQUEST_TIMEOUT_DEFAULT;
	if (!add_origins(policy, allowed_origins, FALSE, error) ||
	    !add_origins(policy, test_origins, TRUE, error)) {
		sdr_bridge_policy_free(policy);
		return NULL;
	}
	return policy;
}

SdrBridgePolicy *
sdr_bridge_policy_new_from_config(const SdrConfig *config, GError **error)
{
	gint64 port = sdr_config_get_int(config, "bridge", "port", SDR_BRIDGE_DEFAULT_PORT);
	gint64 mb =
	        sdr_config_get_int(config, "bridge", "max_body_mb", SDR_BRIDGE_MAX_BODY_MB_DEFAULT);
	gint64 timeout = sdr_config_get_int(config, "bridge", "consent_timeout_s",
	                                    SDR_BRIDGE_CONSENT_TIMEOUT_DEFAULT);
	gint64 memory = sdr_config_get_int(config, "bridge", "max_memory_mb", 0);
	gint64 request_timeout = sdr_config_get_int(config, "bridge", "request_timeout_s",
	                                            SDR_BRIDGE_REQUEST_TIMEOUT_DEFAULT);
	g_auto(GStrv) origins = sdr_config_get_strv(config, "bridge", "allowed_origins");
	g_auto(GStrv) tests = sdr_config_get_strv(config, "bridge", "test_origins");
	SdrBridgePolicy *policy;

	if (port < 0 || port > 65535) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG, _("Invalid bridge port: %lld"),
		            (long long)port);
		return NULL;
	}
	if (mb < 1 || mb > SDR_BRIDGE_MAX_BODY_MB_LIMIT) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("Invalid [bridge] max_body_mb: %lld"), (long long)mb);
		return NULL;
	}
	if (timeout < 1 || timeout > 3600) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("Invalid [bridge] consent_timeout_s: %lld"), (long long)timeout);
		return NULL;
	}
	if (memory != 0 &&
	    (memory < 0 || memory > G_MAXINT32 || memory < mb * SDR_BRIDGE_BODY_MEMORY_FACTOR)) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_CONFIG,
		        _("Invalid [bridge] max_memory_mb: %lld (at least %d times max_body_mb)"),
		        (long long)memory, SDR_BRIDGE_BODY_MEMORY_FACTOR);
		return NULL;
	}
	if (request_timeout < 1 || request_timeout > 3600) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("Invalid [bridge] request_timeout_s: %lld"),
		            (long long)request_timeout);
		return NULL;
	}
	policy = sdr_bridge_policy_new((guint16)port, (const char *const *)origins,
	                               (const char *const *)tests, error);
	if (policy == NULL)
		return NULL;
	policy->max_body = (guint64)mb * 1024 * 1024;
	policy->consent_timeout_s = (guint)timeout;
	policy->max_memory = (guint64)memory * 1024 * 1024;
	policy->request_timeout_s = (guint)request_timeout;
	policy->nexu = sdr_config_get_bool(config, "bridge", "nexu", FALSE);
	return policy;
}

void
sdr_bridge_policy_free(SdrBridgePolicy *policy)
{
	if (policy == NULL)
		return;
	g_ptr_array_unref(policy->origins);
	g_free(policy);
}

guint16
sdr_bridge_policy_get_port(const SdrBridgePolicy *policy)
{
	return policy->port;
}

void
sdr_bridge_policy_set_bound_port(SdrBridgePolicy *policy, guint16 port)
{
	policy->port = port;
}

guint64
sdr_bridge_policy_get_max_body(const SdrBridgePolicy *policy)
{
	return policy->max_body;
}

void
sdr_bridge_policy_set_max_body(SdrBridgePolicy *policy, guint64 bytes)
{
	policy->max_body = bytes;
}

guint
sdr_bridge_policy_get_consent_timeout(const SdrBridgePolicy *policy)
{
	return policy->consent_timeout_s;
}

guint64
sdr_bridge_policy_get_max_memory(const SdrBridgePolicy *policy)
{
	guint64 floor = MAX((guint64)SDR_BRIDGE_MAX_MEMORY_MB_MIN * 1024 * 1024,
	                    policy->max_body * SDR_BRIDGE_BODY_MEMORY_FACTOR);

	return policy->max_memory != 0 ? policy->max_memory : floor;
}

void
sdr_bridge_policy_set_max_memory(SdrBridgePolicy *policy, guint64 bytes)
{
	policy->max_memory = bytes;
}

guint
sdr_bridge_policy_get_request_timeout(const SdrBridgePolicy *policy)
{
	return policy->request_timeout_s;
}

void
sdr_bridge_policy_set_request_timeout(SdrBridgePolicy *policy, guint seconds)
{
	policy->request_timeout_s = seconds;
}

gboolean
sdr_bridge_policy_get_nexu(const SdrBridgePolicy *policy)
{
	return policy->nexu;
}

void
sdr_bridge_policy_set_nexu(SdrBridgePolicy *policy, gboolean nexu)
{
	policy->nexu = nexu;
}

gboolean
sdr_bridge_check_host(const SdrBridgePolicy *policy, const char *host, GError **error)
{
	const char *colon;
	gsize len;
	guint16 port = 0;

	if (host == NULL || (len = strlen(host)) == 0 || len > HOST_MAX_LEN)
		goto denied;
	colon = strrchr(host, ':');
	if (colon == NULL || (host[0] == '[' && colon < strchr(host, ']')))
		goto denied; /* our port is never the scheme default: it must be there */
	if (!is_loopback_name(host, (gsize)(colon - host)))
		goto denied;
	if (!parse_port(colon + 1, strlen(colon + 1), &port) || port != policy->port)
		goto denied;
	return TRUE;

denied:
	g_set_error(error, SDR_ERROR, SDR_ERROR_HOST_DENIED,
	            _("This address is not the local signing agent"));
	return FALSE;
}

gboolean
sdr_bridge_check_origin(const SdrBridgePolicy *policy, const char *origin, GError **error)
{
	if (origin != NULL && strlen(origin) <= ORIGIN_MAX_LEN && strcmp(origin, "null") != 0) {
		for (guint i = 0; i < policy->origins->len; i++) {
			if (strcmp(origin, g_ptr_array_index(policy->origins, i)) == 0)
				return TRUE;
		}
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_ORIGIN_DENIED,
	            _("This web site is not allowed to use the signing agent"));
	return FALSE;
}

gboolean
sdr_bridge_check_content_type(const char *content_type, GError **error)
{
	const char *p;

	if (content_type != NULL &&
	    g_ascii_strncasecmp(content_type, "application/json", 16) == 0) {
		p = content_type + 16;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == ';')
			return TRUE;
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
	            _("The request body must be application/json"));
	return FALSE;
}

/* Only "content-type" may be asked for (comma list, any case, spaces). */
static gboolean
acr_headers_ok(const char *list)
{
	g_auto(GStrv) parts = NULL;

	if (list == NULL)
		return TRUE;
	if (strlen(list) > 256)
		return FALSE;
	parts = g_strsplit(list, ",", 16);
	for (gsize i = 0; parts[i] != NULL; i++) {
		char *h = g_strstrip(parts[i]);

		if (*h != '\0' && g_ascii_strcasecmp(h, "content-type") != 0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
parse_length(const char *text, guint64 *out)
{
	guint64 v = 0;

	if (text == NULL || *text == '\0')
		return FALSE;
	for (const char *p = text; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
		if (v > (G_MAXUINT64 - 9) / 10)
			return FALSE;
		v = v * 10 + (guint64)(*p - '0');
	}
	*out = v;
	return TRUE;
}

static void
deny(SdrBridgeDecision *d, guint status, int code, const char *message, gboolean cors)
{
	d->verdict = SDR_BRIDGE_VERDICT_DENY;
	d->status = status;
	d->error_code = code;
	d->message = message;
	d->cors = cors;
}

void
sdr_bridge_security_decide(const SdrBridgePolicy *policy, const SdrBridgeRequestHead *head,
                           SdrBridgeDecision *d)
{
	const char *method = head->method != NULL ? head->method : "";
	gboolean is_get = strcmp(method, "GET") == 0;
	gboolean is_post = strcmp(method, "POST") == 0;
	gboolean is_options = strcmp(method, "OPTIONS") == 0;
	gboolean origin_ok;
	guint64 length = 0;

	memset(d, 0, sizeof *d);
	if (!sdr_bridge_check_host(policy, head->host, NULL)) {
		deny(d, 421, SDR_ERROR_HOST_DENIED,
		     N_("This address is not the local signing agent"), FALSE);
		return;
	}
	if (!is_get && !is_post && !is_options) {
		deny(d, 405, SDR_ERROR_BAD_REQUEST, N_("Method not allowed"), FALSE);
		return;
	}
	origin_ok = sdr_bridge_check_origin(policy, head->origin, NULL);
	if (head->origin != NULL && !origin_ok) {
		/* Never echo a refused origin: the browser shows the page nothing. */
		deny(d, 403, SDR_ERROR_ORIGIN_DENIED,
		     N_("This web site is not allowed to use the signing agent"), FALSE);
		return;
	}
	if (is_options) {
		if (!origin_ok || head->acr_method == NULL ||
		    (strcmp(head->acr_method, "GET") != 0 &&
		     strcmp(head->acr_method, "POST") != 0) ||
		    !acr_headers_ok(head->acr_headers)) {
			deny(d, 403, SDR_ERROR_ORIGIN_DENIED, N_("Preflight request refused"),
			     FALSE);
			return;
		}
		d->verdict = SDR_BRIDGE_VERDICT_PREFLIGHT;
		d->status = 204;
		d->cors = TRUE;
		return;
	}
	if (!origin_ok && is_get && head->allow_no_origin) {
		d->verdict = SDR_BRIDGE_VERDICT_ALLOW;
		d->status = 200;
		return;
	}
	if (!origin_ok) {
		/* No Origin: only the diagnostic GET /v1/info (IT staff, curl). */
		/* A browser's no-cors subresource (img, script) from another site
		 * carries Sec-Fetch-Site but no Origin: refused, so that pages cannot
		 * even detect the agent. The address typed by a person says "none". */
		if (is_get && head->path != NULL && strcmp(head->path, "/v1/info") == 0 &&
		    (head->sec_fetch_site == NULL || strcmp(head->sec_fetch_site, "none") == 0)) {
			d->verdict = SDR_BRIDGE_VERDICT_ALLOW;
			d->status = 200;
			return;
		}
		deny(d, 403, SDR_ERROR_ORIGIN_DENIED, N_("The request has no Origin header"),
		     FALSE);
		return;
	}
	if (is_post) {
		if (!sdr_bridge_check_content_type(head->content_type, NULL)) {
			deny(d, 415, SDR_ERROR_BAD_REQUEST,
			     N_("The request body must be application/json"), TRUE);
			return;
		}
		if (head->content_length != NULL) {
			if (!parse_length(head->content_length, &length)) {
				deny(d, 400, SDR_ERROR_BAD_REQUEST, N_("Invalid Content-Length"),
				     TRUE);
				return;
			}
			if (length > policy->max_body) {
				deny(d, 413, SDR_ERROR_TOO_LARGE,
				     N_("The request is larger than the allowed size"), TRUE);
				return;
			}
		} else if (head->transfer_encoding == NULL ||
		           g_ascii_strcasecmp(head->transfer_encoding, "chunked") != 0) {
			deny(d, 411, SDR_ERROR_BAD_REQUEST, N_("Content-Length required"), TRUE);
			return;
		}
	}
	d->verdict = SDR_BRIDGE_VERDICT_ALLOW;
	d->status = 200;
	d->cors = TRUE;
}

const char *const *
sdr_bridge_security_common_headers(void)
{
	static const char *const headers[] = {
		"Vary",
		"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
		"Access-Control-Request-Private-Network",
		"X-Content-Type-Options",
		"nosniff",
		"Cache-Control",
		"no-store",
		"Referrer-Policy",
		"no-referrer",
		"Cross-Origin-Resource-Policy",
		"same-site",
		NULL,
	};
	return headers;
}

const char *const *
sdr_bridge_security_preflight_headers(void)
{
	static const char *const headers[] = {
		"Access-Control-Allow-Methods",
		"GET, POST",
		"Access-Control-Allow-Headers",
		"Content-Type",
		"Access-Control-Allow-Private-Network",
		"true",
		"Access-Control-Max-Age",
		"600",
		NULL,
	};
	return headers;
}

/* ---- Strict JSON ----------------------------------------------------------------
 *
 * json-c's tokener parses, with the depth limit enforced by the parser itself
 * (json_tokener_new_ex) and JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8.
 * Measured on json-c 0.16 (tests/bridge/test-bridge-security.c, test_json_strict):
 * STRICT refuses comments, single-quoted strings as values, hex, leading zeros,
 * trailing commas, two roots and trailing garbage, but still accepts single-quoted
 * member names, NaN / Infinity / -Infinity, 1e999 (inf), "1.", raw control
 * characters in strings, lone surrogate escapes (silently turned into U+FFFD),
 * encoded surrogates (ED A0 80), \u0000, integers beyond 64 bits (clamped), and
 * keeps the last of duplicate member names. Those are refused here: by the walk
 * that converts json-c's tree into json-glib nodes (numbers, strings, members)
 * and by strict_text_check(), a linear pass over text json-c has already
 * accepted (so structure and depth are known good; it never decides them). */

#define JSON_BAD(error)                                                                            \
	g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("The request is not valid JSON"))

static int
hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = g_ascii_xdigit_value(p[i]);

		if (c < 0)
			return -1;
		v = v * 16 + c;
	}
	return v;
}

/* What json-c 0.16 STRICT lets through, on text it accepted. Counts the member
 * separators (':' outside strings): one per member written in the text. */
static gboolean
strict_text_check(const char *data, gsize len, guint64 *colons)
{
	gboolean in_string = FALSE;

	*colons = 0;
	for (gsize i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (in_string) {
			if (c < 0x20)
				return FALSE; /* raw control character */
			if (c == '"') {
				in_string = FALSE;
			} else if (c == '\\') {
				int u, lo;

				if (i + 1 >= len)
					return FALSE;
				if (data[++i] != 'u')
					continue;
				if (i + 4 >= len || (u = hex4(data + i + 1)) < 0)
					return FALSE;
				i += 4;
				if (u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
					return FALSE; /* NUL, or a low surrogate alone */
				if (u >= 0xD800 && u <= 0xDBFF) {
					if (i + 6 >= len || data[i + 1] != '\\' ||
					    data[i + 2] != 'u' ||
					    (lo = hex4(data + i + 3)) < 0xDC00 || lo > 0xDFFF)
						return FALSE; /* a high surrogate alone */
					i += 6;
				}
			}
			continue;
		}
		switch (c) {
		case '"':
			in_string = TRUE;
			break;
		case ':':
			(*colons)++;
			break;
		case '.':
			if (i + 1 >= len || !g_ascii_isdigit(data[i + 1]))
				return FALSE; /* "1." */
			break;
		default:
			/* Literals true, false, null and numbers only: no NaN, no Infinity,
			 * no single quote. */
			if (strchr(" \t\r\n{}[],-+0123456789eEtrufalsn", c) == NULL || c == '\0')
				return FALSE;
			break;
		}
	}
	return !in_string;
}

static JsonNode *
from_jsonc(struct json_object *o, guint64 *members)
{
	JsonNode *node = NULL;

	if (o == NULL || json_object_is_type(o, json_type_null))
		return json_node_init_null(json_node_alloc());
	if (json_object_is_type(o, json_type_boolean)) {
		node = json_node_init_boolean(json_node_alloc(), json_object_get_boolean(o));
	} else if (json_object_is_type(o, json_type_int)) {
		gint64 v = json_object_get_int64(o);

		/* json-c clamps what does not fit to the extremes: refuse them. */
		if (v == G_MAXINT64 || v == G_MININT64)
			return NULL;
		node = json_node_init_int(json_node_alloc(), v);
	} else if (json_object_is_type(o, json_type_double)) {
		double v = json_object_get_double(o);

		if (!isfinite(v))
			return NULL;
		node = json_node_init_double(json_node_alloc(), v);
	} else if (json_object_is_type(o, json_type_string)) {
		const char *s = json_object_get_string(o);
		int len = json_object_get_string_len(o);

		if (len < 0 || memchr(s, '\0', (gsize)len) != NULL ||
		    !g_utf8_validate(s, len, NULL))
			return NULL;
		node = json_node_init_string(json_node_alloc(), s);
	} else if (json_object_is_type(o, json_type_array)) {
		gsize n = json_object_array_length(o);
		JsonArray *a = json_array_sized_new((guint)MIN(n, G_MAXUINT));

		node = json_node_init_array(json_node_alloc(), a);
		json_array_unref(a);
		for (gsize i = 0; i < n; i++) {
			JsonNode *child = from_jsonc(json_object_array_get_idx(o, i), members);

			if (child == NULL) {
				json_node_unref(node);
				return NULL;
			}
			json_array_add_element(a, child);
		}
	} else if (json_object_is_type(o, json_type_object)) {
		JsonObject *obj = json_object_new();

		node = json_node_init_object(json_node_alloc(), obj);
		json_object_unref(obj);
		json_object_object_foreach(o, key, val)
		{
			JsonNode *child;

			if (!g_utf8_validate(key, -1, NULL) ||
			    (child = from_jsonc(val, members)) == NULL) {
				json_node_unref(node);
				return NULL;
			}
			json_object_set_member(obj, key, child);
			(*members)++;
		}
	}
	return node;
}

JsonNode *
sdr_bridge_json_parse_object(const char *data, gsize len, GError **error)
{
	struct json_tokener *tok;
	struct json_object *tree;
	enum json_tokener_error jerr;
	gsize end;
	guint64 colons = 0, members = 0;
	JsonNode *root;

	if (data == NULL || len == 0 || len > G_MAXINT) {
		JSON_BAD(error);
		return NULL;
	}
	/* json-c counts the root as one level: depth + 1 allows depth containers. */
	tok = json_tokener_new_ex(SDR_BRIDGE_JSON_MAX_DEPTH + 1);
	if (tok == NULL) {
		JSON_BAD(error);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	tree = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok); /* its buffer may be as large as the largest string */
	if (jerr == json_tokener_error_depth) {
		json_object_put(tree);
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The JSON request is nested too deeply"));
		return NULL;
	}
	/* "continue" = the text ended inside a value; end < len = bytes after the root. */
	if (tree == NULL || jerr != json_tokener_success || end != len) {
		json_object_put(tree);
		JSON_BAD(error);
		return NULL;
	}
	if (!json_object_is_type(tree, json_type_object)) {
		json_object_put(tree);
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The request must be a JSON object"));
		return NULL;
	}
	if (!strict_text_check(data, len, &colons)) {
		json_object_put(tree);
		JSON_BAD(error);
		return NULL;
	}
	root = from_jsonc(tree, &members);
	json_object_put(tree);
	if (root == NULL) {
		JSON_BAD(error);
		return NULL;
	}
	if (members != colons) {
		/* json-c keeps the last of two equal names: a member was dropped. */
		json_node_unref(root);
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The JSON request repeats a member name"));
		return NULL;
	}
	return root;
}

gboolean
sdr_bridge_json_check_members(JsonObject *object, const char *const *allowed, const char *where,
                              GError **error)
{
	JsonObjectIter iter;
	const char *name;
	JsonNode *node;

	json_object_iter_init(&iter, object);
	while (json_object_iter_next(&iter, &name, &node)) {
		if (!g_strv_contains(allowed, name)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Unknown field “%s” in %s"), name, where);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
sdr_bridge_base64_check(const char *text, guint64 max_decoded, guint64 *decoded_size,
                        GError **error)
{
	/* The agent's one validator (sdr-json.h), without line breaks in JSON fields. */
	return sdr_json_base64_check(text, FALSE, max_decoded, decoded_size, error);
}

guint
sdr_bridge_status_for_error(int code)
{
	switch (code) {
	case SDR_ERROR_BAD_REQUEST:
		return 400;
	case SDR_ERROR_ORIGIN_DENIED:
	case SDR_ERROR_POLICY:
	case SDR_ERROR_CONSENT_DENIED:
	case SDR_ERROR_CANCELLED:
	case SDR_ERROR_PIN_INCORRECT:
	case SDR_ERROR_PIN_LOCKED:
	case SDR_ERROR_PIN_FINAL_TRY:
		return 403;
	case SDR_ERROR_NOT_FOUND:
		return 404;
	case SDR_ERROR_TIMEOUT:
		return 408;
	case SDR_ERROR_BUSY:
	case SDR_ERROR_ALREADY_SIGNED:
		return 409;
	case SDR_ERROR_TOO_LARGE:
		return 413;
	case SDR_ERROR_HOST_DENIED:
		return 421;
	case SDR_ERROR_PARSE:
	case SDR_ERROR_PROFILE:
	case SDR_ERROR_UNSUPPORTED:
	case SDR_ERROR_CERT_EXPIRED:
	case SDR_ERROR_CERT_USAGE:
	case SDR_ERROR_INVALID_SIGNATURE:
	case SDR_ERROR_INDETERMINATE:
	case SDR_ERROR_LEVEL_NOT_REACHED:
		return 422;
	case SDR_ERROR_NETWORK:
		return 502;
	case SDR_ERROR_NO_READER:
	case SDR_ERROR_NO_CARD:
	case SDR_ERROR_NO_MODULE:
	case SDR_ERROR_MODULE_LOAD:
	case SDR_ERROR_CARD_REMOVED:
		return 503;
	default:
		return 500;
	}
}

struct _SdrBridgeApprovals {
	GMutex lock;
	GHashTable *origins;
};

SdrBridgeApprovals *
sdr_bridge_approvals_new(void)
{
	SdrBridgeApprovals *a = g_new0(SdrBridgeApprovals, 1);

	g_mutex_init(&a->lock);
	a->origins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return a;
}

void
sdr_bridge_approvals_free(SdrBridgeApprovals *approvals)
{
	if (approvals == NULL)
		return;
	g_hash_table_unref(approvals->origins);
	g_mutex_clear(&approvals->lock);
	g_free(approvals);
}

gboolean
sdr_bridge_approvals_has(SdrBridgeApprovals *approvals, const char *origin)
{
	gboolean has;

	if (origin == NULL)
		return FALSE;
	g_mutex_lock(&approvals->lock);
	has = g_hash_table_contains(approvals->origins, origin);
	g_mutex_unlock(&approvals->lock);
	return has;
}

void
sdr_bridge_approvals_add(SdrBridgeApprovals *approvals, const char *origin)
{
	g_mutex_lock(&approvals->lock);
	g_hash_table_add(approvals->origins, g_strdup(origin));
	g_mutex_unlock(&approvals->lock);
}
