/* sdr-bridge-api-s2low.c - API v1 rows /v1/s2low/send and /v1/s2low/status/{id}:
 * a portal sends to S²LOW what the person has just signed there.
 *
 * The body is checked here (known members only, sizes, base64, clean names); the
 * documents are written into a private folder under the name the page gave
 * (made safe) and handed to the same "send-actes" / "send-pes" handlers the CLI
 * uses, which check S²LOW's rules, ask the person's consent naming the send and
 * queue it with the origin. The status row reads only the sends of that origin. */
#include "sdr-bridge-routes.h"

#include "sdr-error.h"
#include "sdr-s2low.h"
#include "sdr-sanitize.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#define FIELD_MAX 512
#define S2LOW_DOCUMENTS_MAX 100

static const char *const send_members[] = { "kind",      "nature",  "classification", "number",
	                                    "date",      "subject", "type_acte",      "en_attente",
	                                    "documents", NULL };
static const char *const doc_members[] = { "name", "type", "data", "type_pj", NULL };
static const char *const actes_fields[] = { "nature",  "classification", "number", "date",
	                                    "subject", "type_acte",      NULL };

static gboolean
bad(GError **error, const char *message)
{
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, message);
	return FALSE;
}

static gboolean
is_string(JsonObject *o, const char *name, gsize max)
{
	JsonNode *n = json_object_get_member(o, name);

	return n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
	       json_node_get_value_type(n) == G_TYPE_STRING &&
	       strlen(json_node_get_string(n)) <= max;
}

static gboolean
check_document(JsonObject *d, gboolean annex, guint64 max, GError **error)
{
	const char *name;

	if (!sdr_bridge_json_check_members(d, doc_members, "documents", error))
		return FALSE;
	if (!is_string(d, "name", 255) || !is_string(d, "data", G_MAXSIZE) ||
	    (json_object_has_member(d, "type") && !is_string(d, "type", 127)) ||
	    (json_object_has_member(d, "type_pj") && !is_string(d, "type_pj", 16)))
		return bad(error, _("A field has the wrong type"));
	if (annex != json_object_has_member(d, "type_pj"))
		return bad(error, annex ? _("Each annex needs its “type_pj”")
		                        : _("Only annexes have a “type_pj”"));
	name = json_object_get_string_member(d, "name");
	if (!sdr_sanitize_is_clean(name))
		return bad(error, _("A document name holds control or invisible characters"));
	/* A file name, never a path: the bridge writes it into its own folder. */
	if (*name == '\0' || strchr(name, '/') != NULL || strchr(name, '\\') != NULL ||
	    g_str_equal(name, ".") || g_str_equal(name, ".."))
		return bad(error, _("A document name is a file name, not a path"));
	return sdr_bridge_base64_check(json_object_get_string_member(d, "data"), max, NULL, error);
}

/* The shape of a /v1/s2low/send body (S²LOW's own rules are the handlers'). */
gboolean
sdr_bridge_api_s2low_check_send(SdrBridge *bridge, JsonObject *req, gboolean *pes, GError **error)
{
	guint64 max = MIN(sdr_bridge_policy_get_max_body(bridge->policy),
	                  (guint64)SDR_HANDLER_MAX_DOCUMENT_SIZE);
	const char *kind;
	JsonNode *docs;
	JsonArray *a;
	guint n;

	if (!sdr_bridge_json_check_members(req, send_members, "request", error))
		return FALSE;
	if (!is_string(req, "kind", 8))
		return bad(error, _("“kind” is “actes” or “pes”"));
	kind = json_object_get_string_member(req, "kind");
	if (!g_str_equal(kind, "actes") && !g_str_equal(kind, "pes"))
		return bad(error, _("“kind” is “actes” or “pes”"));
	*pes = g_str_equal(kind, "pes");
	for (guint i = 0; actes_fields[i] != NULL; i++) {
		gboolean has = json_object_has_member(req, actes_fields[i]);

		if (*pes && has)
			return bad(error, _("A PES is sent without ACTES fields"));
		if (!*pes && !is_string(req, actes_fields[i], FIELD_MAX))
			return bad(error, _("An ACTES field is missing or has the wrong type"));
		if (!*pes &&
		    !sdr_sanitize_is_clean(json_object_get_string_member(req, actes_fields[i])))
			return bad(error, _("A field holds control or invisible characters"));
	}
	if (json_object_has_member(req, "en_attente") &&
	    (*pes || !JSON_NODE_HOLDS_VALUE(json_object_get_member(req, "en_attente")) ||
	     json_node_get_value_type(json_object_get_member(req, "en_attente")) != G_TYPE_BOOLEAN))
		return bad(error, _("A field has the wrong type"));
	docs = json_object_get_member(req, "documents");
	if (docs == NULL || !JSON_NODE_HOLDS_ARRAY(docs))
		return bad(error, _("“documents” must be an array"));
	a = json_node_get_array(docs);
	n = json_array_get_length(a);
	if (n == 0 || (*pes && n != 1))
		return bad(error, *pes ? _("A PES send holds exactly one document")
		                       : _("An ACTES send holds the act, then its annexes"));
	if (n > S2LOW_DOCUMENTS_MAX) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("Too many documents in one request"));
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		JsonNode *e = json_array_get_element(a, i);

		if (!JSON_NODE_HOLDS_OBJECT(e))
			return bad(error, _("Each document must be an object"));
		if (!check_document(json_node_get_object(e), !*pes && i > 0, max, error))
			return FALSE;
	}
	return TRUE;
}

/* Writes a document into dir under its name made safe ("-2"... never over another). */
static char *
write_document(const char *dir, guint index, JsonObject *d, GError **error)
{
	g_autofree char *safe = sdr_s2low_safe_file_name(json_object_get_string_member(d, "name"));
	g_autofree char *sub = g_strdup_printf("%s/%u", dir, index);
	g_autofree char *path = g_build_filename(sub, safe, NULL);
	gsize len = 0;
	g_autofree guchar *data = g_base64_decode(json_object_get_string_member(d, "data"), &len);

	/* One folder per document: two documents of the same name keep it. */
	if (g_mkdir(sub, 0700) != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s: %s"), sub,
		            g_strerror(errno));
		return NULL;
	}
	if (!g_file_set_contents_full(path, (const char *)data, (gssize)len,
	                              G_FILE_SET_CONTENTS_NONE, 0600, error))
		return NULL;
	return g_steal_pointer(&path);
}

static void
remove_tree(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(dir, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			remove_tree(p);
		else
			(void)g_unlink(p);
	}
	(void)g_rmdir(dir);
}

/* The handler's request: the fields as given, the files written in dir. */
static JsonObject *
handler_request(JsonObject *req, gboolean pes, const char *dir, GError **error)
{
	g_autoptr(JsonObject) h = json_object_new();
	JsonArray *docs = json_object_get_array_member(req, "documents");
	JsonArray *annexes = json_array_new();

	json_object_set_array_member(h, "annexes", annexes);
	for (guint i = 0; !pes && actes_fields[i] != NULL; i++)
		json_object_set_string_member(h, actes_fields[i],
		                              json_object_get_string_member(req, actes_fields[i]));
	if (json_object_has_member(req, "en_attente"))
		json_object_set_boolean_member(h, "en_attente",
		                               json_object_get_boolean_member(req, "en_attente"));
	for (guint i = 0; i < json_array_get_length(docs); i++) {
		JsonObject *d = json_array_get_object_element(docs, i);
		g_autofree char *path = write_document(dir, i, d, error);
		JsonObject *an;

		if (path == NULL)
			return NULL;
		if (i == 0) {
			json_object_set_string_member(h, pes ? "file" : "acte", path);
			continue;
		}
		an = json_object_new();
		json_object_set_string_member(an, "path", path);
		json_object_set_string_member(an, "type_pj",
		                              json_object_get_string_member(d, "type_pj"));
		json_array_add_object_element(annexes, an);
	}
	return g_steal_pointer(&h);
}

/* Only an origin the person approved (first use) may send: the consent of each
 * send follows in the handler, under the interactive lock (BUSY meanwhile). */
void
sdr_bridge_api_s2low_send(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonObject) h = NULL;
	g_autofree char *dir = NULL;
	gboolean pes = FALSE;
	JsonNode *answer = NULL;

	if (r->origin == NULL || !sdr_bridge_approvals_has(bridge->approvals, r->origin)) {
		sdr_bridge_reply_error_code(
		        reply, 403, SDR_ERROR_CONSENT_DENIED,
		        _("List the certificates first: the user approves this site then"));
		return;
	}
	root = sdr_bridge_json_parse_object(r->body != NULL ? r->body : "", r->body_len, &error);
	if (root == NULL ||
	    !sdr_bridge_api_s2low_check_send(bridge, json_node_get_object(root), &pes, &error)) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	dir = g_dir_make_tmp("sinadur-web-send-XXXXXX", &error);
	if (dir != NULL)
		h = handler_request(json_node_get_object(root), pes, dir, &error);
	if (h != NULL)
		answer = sdr_bridge_run_interactive(bridge, r->origin,
		                                    pes ? "send-pes" : "send-actes", h, &error);
	/* The handler spooled its own copies. */
	if (dir != NULL)
		remove_tree(dir);
	if (answer == NULL) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	sdr_bridge_reply_json(reply, 200, answer);
}

#define STATUS_PREFIX "/v1/s2low/status/"

/* GET /v1/s2low/status/{id}: one send of this origin, as the queue has it (never
 * another origin's: the same 404 as an unknown id). */
void
sdr_bridge_api_s2low_status(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) h = json_object_new();
	const char *digits = r->path + strlen(STATUS_PREFIX);
	JsonNode *answer;
	JsonArray *sends;
	guint64 id = 0;

	if (r->origin == NULL) {
		sdr_bridge_reply_error_code(reply, 404, SDR_ERROR_NOT_FOUND, _("Unknown address"));
		return;
	}
	if (*digits == '\0' || strlen(digits) > 15 ||
	    strspn(digits, "0123456789") != strlen(digits) ||
	    !g_ascii_string_to_unsigned(digits, 10, 1, G_MAXINT64, &id, NULL)) {
		sdr_bridge_reply_error_code(reply, 400, SDR_ERROR_BAD_REQUEST,
		                            _("The send number is a positive integer"));
		return;
	}
	json_object_set_int_member(h, "id", (gint64)id);
	json_object_set_boolean_member(h, "offline", TRUE);
	answer = sdr_bridge_run_handler(bridge, r->origin, "status", h, &error);
	if (answer == NULL) {
		sdr_bridge_reply_error(reply, error);
		return;
	}
	sends = JSON_NODE_HOLDS_OBJECT(answer)
	                ? json_object_get_array_member(json_node_get_object(answer), "sends")
	                : NULL;
	if (sends == NULL || json_array_get_length(sends) != 1) {
		json_node_unref(answer);
		sdr_bridge_reply_error_code(reply, 404, SDR_ERROR_NOT_FOUND, _("Unknown address"));
		return;
	}
	sdr_bridge_reply_json(reply, 200, json_node_copy(json_array_get_element(sends, 0)));
	json_node_unref(answer);
}
