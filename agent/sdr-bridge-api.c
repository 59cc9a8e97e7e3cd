/* sdr-bridge-api.c - API v1 of the bridge: the handlers of the rows /v1/info,
 * /v1/certificates, /v1/events, /v1/sign and /v1/verify of the route table
 * (sdr-bridge-routes.c). Maps HTTP bodies to the handler table through the core
 * (never signs or lists by itself) and checks the shape of every body first:
 * unknown members are refused, base64 fields are size-checked before anything
 * decodes them. */
#include "sdr-bridge-routes.h"

#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-sanitize.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define DIGEST_MAX 64
#define DATA_TO_SIGN_MAX (1024 * 1024)
#define NAME_MAX_LEN 255
#define TYPE_MAX_LEN 127

static const char *const sign_members[] = { "format", "certificate", "options", "documents", "mode",
	                                    "digest", "data",        "hash",    NULL };
/* The CLI's options a web page may use ("image" names a local file: CLI only;
 * "allow_any_usage" would sign with an authentication certificate: CLI only). */
static const char *const sign_options[] = { "hash",       "level", "mode",   "visible",
	                                    "page",       "rect",  "reason", "location",
	                                    "bordereaux", "pades", "cades",  NULL };
static const char *const doc_members[] = { "name", "type", "data", NULL };
static const char *const verify_members[] = { "documents", "content", "at", "online", NULL };
static const char *const content_members[] = { "name", "type", "data", NULL };

static gboolean
bad(GError **error, const char *message)
{
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, message);
	return FALSE;
}

static gboolean
check_string_member(JsonObject *o, const char *name, gsize max, gboolean required, GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL)
		return required ? bad(error, _("A required field is missing")) : TRUE;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return bad(error, _("A field has the wrong type"));
	if (strlen(json_node_get_string(n)) > max) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("A field is too long"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_base64_member(JsonObject *o, const char *name, guint64 max, gboolean required, GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL)
		return required ? bad(error, _("A required field is missing")) : TRUE;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return bad(error, _("A field has the wrong type"));
	return sdr_bridge_base64_check(json_node_get_string(n), max, NULL, error);
}

static gboolean
check_documents(JsonObject *req, const char *member, guint64 max, GError **error)
{
	JsonNode *n = json_object_get_member(req, member);
	JsonArray *a;

	if (n == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return bad(error, _("“documents” must be an array"));
	a = json_node_get_array(n);
	if (json_array_get_length(a) > 1000) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("Too many documents in one request"));
		return FALSE;
	}
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonNode *e = json_array_get_element(a, i);
		JsonObject *d;

		if (!JSON_NODE_HOLDS_OBJECT(e))
			return bad(error, _("Each document must be an object"));
		d = json_node_get_object(e);
		if (!sdr_bridge_json_check_members(d, doc_members, "documents", error) ||
		    !check_string_member(d, "name", NAME_MAX_LEN, TRUE, error) ||
		    !check_string_member(d, "type", TYPE_MAX_LEN, FALSE, error) ||
		    !check_base64_member(d, "data", max, TRUE, error))
			return FALSE;
		/* Shown to the person: a sane name, a real media type (RFC 6838). */
		if (!sdr_sanitize_is_clean(json_object_get_string_member(d, "name")))
			return bad(error,
			           _("A document name holds control or invisible characters"));
		if (json_object_has_member(d, "type") &&
		    !sdr_sanitize_is_media_type(json_object_get_string_member(d, "type")))
			return bad(error, _("A document type is not a media type (RFC 6838)"));
	}
	return TRUE;
}

/* rect: 4 numbers; bordereaux: up to 10000 short strings. */
static gboolean
check_option_array(const char *name, JsonArray *a, GError **error)
{
	gboolean rect = g_str_equal(name, "rect");
	guint n = json_array_get_length(a);

	if ((rect && n != 4) || n > 10000)
		return bad(error, _("A field has the wrong type"));
	for (guint i = 0; i < n; i++) {
		JsonNode *e = json_array_get_element(a, i);
		GType t;

		if (!JSON_NODE_HOLDS_VALUE(e))
			return bad(error, _("A field has the wrong type"));
		t = json_node_get_value_type(e);
		if (rect && t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
			return bad(error, _("A field has the wrong type"));
		if (!rect && (t != G_TYPE_STRING || strlen(json_node_get_string(e)) > 256))
			return bad(error, _("A field has the wrong type"));
	}
	return TRUE;
}

static gboolean
check_format(JsonObject *req, GError **error)
{
	static const char *const formats[] = { "cades", "xades",  "pades", "pes",
		                               "actes", "marche", NULL };
	JsonNode *n = json_object_get_member(req, "format");

	if (n == NULL || g_strv_contains(formats, json_node_get_string(n)))
		return TRUE;
	return bad(error, _("Unknown format (cades, xades, pades, pes, actes or marche)"));
}

/* Validates a /v1/sign body; in data mode, replaces "data" by its digest. */
static gboolean
check_sign_request(SdrBridge *bridge, JsonObject *req, GError **error)
{
	/* A document: within the body limit and the handlers' cap. */
	guint64 max = MIN(sdr_bridge_policy_get_max_body(bridge->policy),
	                  (guint64)SDR_HANDLER_MAX_DOCUMENT_SIZE);
	JsonNode *opts = json_object_get_member(req, "options");
	const char *mode;

	if (!sdr_bridge_json_check_members(req, sign_members, "request", error) ||
	    !check_string_member(req, "format", 32, FALSE, error) || !check_format(req, error) ||
	    !check_string_member(req, "certificate", 128, FALSE, error) ||
	    !check_string_member(req, "mode", 32, FALSE, error) ||
	    !check_string_member(req, "hash", 32, FALSE, error) ||
	    !check_base64_member(req, "digest", DIGEST_MAX, FALSE, error) ||
	    !check_base64_member(req, "data", DATA_TO_SIGN_MAX, FALSE, error) ||
	    !check_documents(req, "documents", max, error))
		return FALSE;
	if (opts != NULL) {
		JsonObjectIter it;
		const char *name;
		JsonNode *v;

		if (!JSON_NODE_HOLDS_OBJECT(opts))
			return bad(error, _("“options” must be an object"));
		if (!sdr_bridge_json_check_members(json_node_get_object(opts), sign_options,
		                                   "options", error))
			return FALSE;
		json_object_iter_init(&it, json_node_get_object(opts));
		while (json_object_iter_next(&it, &name, &v)) {
			if (JSON_NODE_HOLDS_ARRAY(v) &&
			    (g_str_equal(name, "rect") || g_str_equal(name, "bordereaux"))) {
				if (!check_option_array(name, json_node_get_array(v), error))
					return FALSE;
				continue;
			}
			if (!JSON_NODE_HOLDS_VALUE(v))
				return bad(error, _("A field has the wrong type"));
			if (json_node_get_value_type(v) == G_TYPE_STRING &&
			    strlen(json_node_get_string(v)) > 256) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
				            _("A field is too long"));
				return FALSE;
			}
		}
	}
	mode = json_object_has_member(req, "mode") ? json_object_get_string_member(req, "mode")
	                                           : NULL;
	if (g_strcmp0(mode, "data") == 0) {
		/* Data-to-sign (DSS, Libersign): hash the bytes here, sign the digest. */
		const char *hash_name = json_object_has_member(req, "hash")
		                                ? json_object_get_string_member(req, "hash")
		                                : "sha256";
		SdrHashAlg alg;
		g_autofree char *b64 = NULL;

		if (!json_object_has_member(req, "data") || json_object_has_member(req, "digest") ||
		    json_object_has_member(req, "documents"))
			return bad(error,
			           _("Data-to-sign mode takes “data” and nothing else to sign"));
		if (!sdr_hash_from_name(hash_name, &alg) || sdr_hash_md(alg) == NULL)
			return bad(error, _("Unknown hash"));
		b64 = sdr_bridge_hash_data_to_sign(json_object_get_string_member(req, "data"), alg,
		                                   error);
		if (b64 == NULL)
			return FALSE;
		json_object_remove_member(req, "data");
		json_object_set_string_member(req, "digest", b64);
		json_object_set_string_member(req, "mode", "digest");
	} else if (g_strcmp0(mode, "digest") == 0) {
		if (!json_object_has_member(req, "digest") ||
		    json_object_has_member(req, "documents"))
			return bad(error, _("Digest mode takes “digest” and nothing else to sign"));
	} else if (mode != NULL) {
		return bad(error, _("Unknown mode (“data” or “digest”)"));
	} else {
		if (json_object_has_member(req, "digest") || json_object_has_member(req, "data"))
			return bad(error, _("“digest” and “data” need a mode"));
		if (!json_object_has_member(req, "format") ||
		    !json_object_has_member(req, "documents"))
			return bad(error, _("A signature request needs “format” and “documents”"));
	}
	return TRUE;
}

static gboolean
check_verify_request(SdrBridge *bridge, JsonObject *req, GError **error)
{
	/* A document: within the body limit and the handlers' cap. */
	guint64 max = MIN(sdr_bridge_policy_get_max_body(bridge->policy),
	                  (guint64)SDR_HANDLER_MAX_DOCUMENT_SIZE);
	JsonNode *content = json_object_get_member(req, "content");
	JsonNode *online = json_object_get_member(req, "online");

	if (!sdr_bridge_json_check_members(req, verify_members, "request", error) ||
	    !check_string_member(req, "at", 64, FALSE, error) ||
	    !check_documents(req, "documents", max, error))
		return FALSE;
	if (!json_object_has_member(req, "documents"))
		return bad(error, _("No document to verify"));
	if (online != NULL &&
	    (!JSON_NODE_HOLDS_VALUE(online) || json_node_get_value_type(online) != G_TYPE_BOOLEAN))
		return bad(error, _("A field has the wrong type"));
	if (content != NULL) {
		JsonObject *c;

		if (!JSON_NODE_HOLDS_OBJECT(content))
			return bad(error, _("“content” must be an object"));
		c = json_node_get_object(content);
		if (!sdr_bridge_json_check_members(c, content_members, "content", error) ||
		    !check_string_member(c, "name", NAME_MAX_LEN, FALSE, error) ||
		    !check_string_member(c, "type", TYPE_MAX_LEN, FALSE, error) ||
		    !check_base64_member(c, "data", max, TRUE, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
sdr_bridge_api_check_body(SdrBridge *bridge, const char *path, JsonObject *req, GError **error)
{
	if (g_strcmp0(path, "/v1/sign") == 0)
		return check_sign_request(bridge, req, error);
	if (g_strcmp0(path, "/v1/verify") == 0)
		return check_verify_request(bridge, req, error);
	if (g_strcmp0(path, "/v1/s2low/send") == 0) {
		gboolean pes;
		return sdr_bridge_api_s2low_check_send(bridge, req, &pes, error);
	}
	return bad(error, _("Unknown address"));
}

void
sdr_bridge_api_info(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	JsonNode *info = sdr_bridge_run_handler(bridge, r->origin, "info", NULL, &error);
	g_autoptr(JsonNode) certs = NULL;
	JsonObject *o, *state;
	gint64 n = -1;

	if (info == NULL || !JSON_NODE_HOLDS_OBJECT(info)) {
		sdr_bridge_reply_error(reply, error);
		g_clear_pointer(&info, json_node_unref);
		return;
	}
	o = json_node_get_object(info);
	json_object_set_int_member(o, "api_version", SDR_BRIDGE_API_VERSION);
	state = json_object_new();
	/* Not even how many certificates there are before the user approved the origin. */
	if (r->origin != NULL && sdr_bridge_approvals_has(bridge->approvals, r->origin))
		certs = sdr_bridge_peek_certificates(bridge); /* never waits for the token */
	if (certs != NULL && JSON_NODE_HOLDS_OBJECT(certs) &&
	    json_object_has_member(json_node_get_object(certs), "certificates")) {
		JsonArray *a =
		        json_object_get_array_member(json_node_get_object(certs), "certificates");
		n = a != NULL ? json_array_get_length(a) : 0;
	}
	json_object_set_boolean_member(state, "tokens_present", n > 0);
	json_object_set_int_member(state, "certificates", n);
	json_object_set_boolean_member(state, "nexu", sdr_bridge_policy_get_nexu(bridge->policy));
	json_object_set_boolean_member(state, "ipv6", sdr_bridge_has_ipv6(bridge));
	json_object_set_object_member(o, "state", state);
	sdr_bridge_reply_json(reply, 200, info);
}

void
sdr_bridge_api_certificates(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	char *text;

	if (!sdr_bridge_approve_listing(bridge, r->origin, &error)) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	text = sdr_bridge_certificates_text(bridge, &error);
	if (text == NULL) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	reply->status = 200;
	reply->body = text;
}

/* /v1/sign and /v1/verify: strict JSON, shape checks, then the handler (a
 * signature under the interactive lock: BUSY while another one is pending). */
static void
handle_post(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply,
            const char *handler, gboolean interactive)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *req;
	JsonNode *answer;

	root = sdr_bridge_json_parse_object(r->body != NULL ? r->body : "", r->body_len, &error);
	if (root == NULL) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	/* The parser's tree is ours and mutable: rewritten in place, never copied. */
	req = json_node_get_object(root);
	if (!sdr_bridge_api_check_body(bridge, r->path, req, &error)) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	answer = interactive ? sdr_bridge_run_interactive(bridge, r->origin, handler, req, &error)
	                     : sdr_bridge_run_handler(bridge, r->origin, handler, req, &error);
	if (answer == NULL) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	sdr_bridge_reply_json(reply, 200, answer);
}

void
sdr_bridge_api_events(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	/* Events name certificates: only for origins the user approved. */
	if (!sdr_bridge_approvals_has(bridge->approvals, r->origin)) {
		sdr_bridge_reply_error_code(
		        reply, 403, SDR_ERROR_CONSENT_DENIED,
		        _("List the certificates first: the user approves this site then"));
		return;
	}
	reply->status = 200;
	reply->stream = bridge->events;
}

void
sdr_bridge_api_sign(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	handle_post(bridge, r, reply, "sign", TRUE);
}

void
sdr_bridge_api_verify(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	handle_post(bridge, r, reply, "verify", FALSE);
}
