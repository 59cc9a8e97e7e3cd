/* sdr-bridge-core.c - the bridge's shared core, beneath the routes: the handler
 * runner and the token lock, the per-origin contexts, the certificate cache and
 * the first-use approvals. */
#include "sdr-bridge-core.h"

#include "sdr-context.h"
#include "sdr-error.h"
#include "sdr-handlers-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* ---- Replies ------------------------------------------------------------------ */

static char *
error_text(int code, const char *message)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "error");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "code");
	json_builder_add_string_value(b, sdr_error_code_name(code));
	json_builder_set_member_name(b, "message");
	json_builder_add_string_value(b, message != NULL ? message : "");
	json_builder_end_object(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_to_string(root, FALSE);
}

void
sdr_bridge_reply_error_code(SdrBridgeReply *reply, guint status, int code, const char *message)
{
	g_free(reply->body);
	reply->status = status;
	reply->body = error_text(code, message);
	reply->stream = NULL;
}

void
sdr_bridge_reply_error(SdrBridgeReply *reply, const GError *error)
{
	int code = (error != NULL && error->domain == SDR_ERROR) ? error->code : SDR_ERROR_FAILED;

	sdr_bridge_reply_error_code(reply, sdr_bridge_status_for_error(code), code,
	                            error != NULL ? error->message : _("Internal error"));
}

void
sdr_bridge_reply_json(SdrBridgeReply *reply, guint status, JsonNode *node)
{
	g_free(reply->body);
	reply->status = status;
	reply->body = json_to_string(node, FALSE);
	reply->stream = NULL;
	json_node_unref(node);
}

/* ---- Token work ------------------------------------------------------------ */

static gboolean
origin_approved(gpointer approvals, const char *origin)
{
	return sdr_bridge_approvals_has(approvals, origin);
}

/* Any thread; contexts live as long as the bridge. */
static SdrContext *
context_for(SdrBridge *bridge, const char *origin)
{
	const char *key = origin != NULL ? origin : "";
	SdrContext *ctx;

	g_mutex_lock(&bridge->contexts_lock);
	ctx = g_hash_table_lookup(bridge->contexts, key);

	if (ctx == NULL) {
		SdrContextOptions o = { 0 };

		o.config = bridge->config;
		o.prompt = bridge->prompt;
		o.origin = origin;
		o.cancellable = bridge->cancellable;
		ctx = sdr_context_new(&o);
		/* The one place the approvals reach the handlers (see
		 * sdr_context_may_reveal_certificates). */
		sdr_context_set_approved_func(ctx, origin_approved, bridge->approvals);
		g_hash_table_insert(bridge->contexts, g_strdup(key), ctx);
	}
	g_mutex_unlock(&bridge->contexts_lock);
	return ctx;
}

/* Handlers take the core's token lock themselves (sdr_handler_run: tokens,
 * certificates, doctor whole; sign only around listing, login and each signature,
 * never around a prompt), which also keeps one token manager loaded at a time. */
JsonNode *
sdr_bridge_run_handler(SdrBridge *bridge, const char *origin, const char *name, JsonObject *request,
                       GError **error)
{
	JsonNode *answer;

	g_atomic_int_inc(&bridge->handlers_running);
	answer = sdr_handler_run(context_for(bridge, origin), name, request, error);
	(void)g_atomic_int_dec_and_test(&bridge->handlers_running);
	return answer;
}

JsonNode *
sdr_bridge_run_handler_full(SdrBridge *bridge, const char *origin, const char *name,
                            JsonObject *request, GCancellable *cancellable,
                            SdrProgressFunc progress, gpointer progress_data, GError **error)
{
	JsonNode *answer;

	g_atomic_int_inc(&bridge->handlers_running);
	answer = sdr_handler_run_full(context_for(bridge, origin), name, request, cancellable,
	                              progress, progress_data, error);
	(void)g_atomic_int_dec_and_test(&bridge->handlers_running);
	return answer;
}

gpointer
sdr_bridge_with_context(SdrBridge *bridge, const char *origin, SdrBridgeContextFunc func,
                        gpointer data, GError **error)
{
	gpointer ret;
	SdrContext *ctx = context_for(bridge, origin);

	g_atomic_int_inc(&bridge->handlers_running);
	sdr_context_lock_token(ctx);
	ret = func(ctx, data, error);
	sdr_context_unlock_token(ctx);
	(void)g_atomic_int_dec_and_test(&bridge->handlers_running);
	return ret;
}

static gboolean
cache_fresh(SdrBridge *bridge)
{
	return bridge->cert_cache != NULL &&
	       g_get_monotonic_time() - bridge->cert_cache_time < SDR_BRIDGE_CERT_CACHE_TTL_US;
}

/* Adapts the handler's certificate objects for web pages (token lock held):
 * adds "certificate" (base64 DER: portals building the data to sign need it) from
 * the core's own list, and drops "module" (a local file path). */
static void
web_certificates(SdrContext *ctx, JsonNode *answer)
{
	JsonArray *a =
	        JSON_NODE_HOLDS_OBJECT(answer)
	                ? json_object_get_array_member(json_node_get_object(answer), "certificates")
	                : NULL;
	g_autoptr(GPtrArray) certs = NULL;

	if (a == NULL)
		return;
	certs = sdr_context_list_signing_certs(ctx, NULL);
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);
		const char *id;

		if (o == NULL)
			continue;
		json_object_remove_member(o, "module");
		id = json_object_has_member(o, "id") ? json_object_get_string_member(o, "id")
		                                     : NULL;
		for (guint k = 0; id != NULL && certs != NULL && k < certs->len; k++) {
			const SdrCertInfo *c = g_ptr_array_index(certs, k);
			unsigned char *der = NULL;
			int len;

			if (g_strcmp0(c->id, id) != 0 || json_object_has_member(o, "certificate"))
				continue;
			len = i2d_X509(c->cert, &der);
			if (len > 0) {
				g_autofree char *b64 = g_base64_encode(der, (gsize)len);
				json_object_set_string_member(o, "certificate", b64);
			}
			OPENSSL_free(der);
		}
	}
}

static JsonNode *
get_certificates(SdrBridge *bridge, gboolean refresh, gboolean nowait, GError **error)
{
	JsonNode *answer;
	SdrContext *ctx;

	g_mutex_lock(&bridge->cache_lock);
	if (!refresh && cache_fresh(bridge)) {
		answer = json_node_ref(bridge->cert_cache);
		g_mutex_unlock(&bridge->cache_lock);
		return answer;
	}
	g_mutex_unlock(&bridge->cache_lock);

	/* The list does not depend on the origin: use the context that holds the
	 * token manager, so a refresh never reloads the modules. A signature in
	 * progress holds the token (a batch only during each signature): serve what
	 * we know meanwhile. */
	ctx = refresh ? NULL : sdr_context_lock_token_shared(context_for(bridge, NULL), TRUE);
	if (ctx == NULL && !refresh) {
		g_mutex_lock(&bridge->cache_lock);
		if (bridge->cert_cache != NULL) {
			answer = json_node_ref(bridge->cert_cache);
			g_mutex_unlock(&bridge->cache_lock);
			return answer;
		}
		g_mutex_unlock(&bridge->cache_lock);
		if (nowait)
			return NULL;
	}
	if (ctx == NULL)
		ctx = sdr_context_lock_token_shared(context_for(bridge, NULL), FALSE);
	{
		g_autoptr(JsonObject) req = json_object_new();

		g_atomic_int_inc(&bridge->handlers_running);
		answer = sdr_handler_run(ctx, "certificates", req, error);
		if (answer != NULL)
			web_certificates(ctx, answer);
		(void)g_atomic_int_dec_and_test(&bridge->handlers_running);
	}
	sdr_context_unlock_token(ctx);
	if (answer == NULL)
		return NULL;
	g_mutex_lock(&bridge->cache_lock);
	g_clear_pointer(&bridge->cert_cache, json_node_unref);
	g_clear_pointer(&bridge->cert_cache_text, g_free);
	bridge->cert_cache = json_node_ref(answer);
	bridge->cert_cache_text = json_to_string(answer, FALSE);
	bridge->cert_cache_time = g_get_monotonic_time();
	g_mutex_unlock(&bridge->cache_lock);
	return answer;
}

JsonNode *
sdr_bridge_get_certificates(SdrBridge *bridge, gboolean refresh, GError **error)
{
	return get_certificates(bridge, refresh, FALSE, error);
}

JsonNode *
sdr_bridge_peek_certificates(SdrBridge *bridge)
{
	return get_certificates(bridge, FALSE, TRUE, NULL);
}

char *
sdr_bridge_certificates_text(SdrBridge *bridge, GError **error)
{
	g_autoptr(JsonNode) node = NULL;
	char *text = NULL;

	g_mutex_lock(&bridge->cache_lock);
	if (cache_fresh(bridge))
		text = g_strdup(bridge->cert_cache_text);
	g_mutex_unlock(&bridge->cache_lock);
	if (text != NULL)
		return text;
	node = sdr_bridge_get_certificates(bridge, FALSE, error);
	if (node == NULL)
		return NULL;
	return json_to_string(node, FALSE);
}

gboolean
sdr_bridge_approve_listing(SdrBridge *bridge, const char *origin, GError **error)
{
	SdrConsentRequest req = { 0 };
	gboolean ok;

	if (origin == NULL || sdr_bridge_approvals_has(bridge->approvals, origin))
		return TRUE;
	if (!sdr_bridge_interactive_begin(bridge, error))
		return FALSE;
	req.origin = origin;
	req.action = SDR_CONSENT_LIST_CERTIFICATES;
	req.timeout_s = sdr_bridge_policy_get_consent_timeout(bridge->policy);
	ok = bridge->prompt != NULL && sdr_prompt_ask_consent(bridge->prompt, &req, error);
	if (bridge->prompt == NULL)
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
		            _("Nobody can approve this request"));
	if (ok)
		sdr_bridge_approvals_add(bridge->approvals, origin);
	sdr_bridge_interactive_end(bridge);
	return ok;
}

void
sdr_bridge_token_event(SdrBridge *bridge, const char *kind, const char *reader)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) data = NULL;

	g_mutex_lock(&bridge->cache_lock);
	g_clear_pointer(&bridge->cert_cache, json_node_unref);
	g_clear_pointer(&bridge->cert_cache_text, g_free);
	g_mutex_unlock(&bridge->cache_lock);
	/* Forget the token manager before the next token work (a request using the
	 * token now meets CARD_REMOVED by itself). */
	sdr_context_tokens_changed();
	json_builder_begin_object(b);
	if (reader != NULL) {
		json_builder_set_member_name(b, "reader");
		json_builder_add_string_value(b, reader);
	}
	json_builder_end_object(b);
	data = json_builder_get_root(b);
	sdr_bridge_events_publish(bridge->events, kind, data);
}

/* ---- Interactive requests ----------------------------------------------------- */

gboolean
sdr_bridge_interactive_begin(SdrBridge *bridge, GError **error)
{
	if (g_mutex_trylock(&bridge->interactive_lock))
		return TRUE;
	g_set_error(error, SDR_ERROR, SDR_ERROR_BUSY,
	            _("The signing agent is busy with another request"));
	return FALSE;
}

void
sdr_bridge_interactive_end(SdrBridge *bridge)
{
	g_mutex_unlock(&bridge->interactive_lock);
}

gboolean
sdr_bridge_is_busy(SdrBridge *bridge)
{
	return g_atomic_int_get(&bridge->handlers_running) > 0;
}

JsonNode *
sdr_bridge_run_interactive(SdrBridge *bridge, const char *origin, const char *name,
                           JsonObject *request, GError **error)
{
	JsonNode *answer;

	if (!sdr_bridge_interactive_begin(bridge, error))
		return NULL;
	answer = sdr_bridge_run_handler(bridge, origin, name, request, error);
	sdr_bridge_interactive_end(bridge);
	return answer;
}

/* ---- Data to sign -------------------------------------------------------------- */

char *
sdr_bridge_hash_data_to_sign(const char *b64, SdrHashAlg alg, GError **error)
{
	const EVP_MD *md = sdr_hash_md(alg);
	g_autofree guchar *raw = NULL;
	gsize len = 0;
	guint8 digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	raw = g_base64_decode(b64, &len);
	if (md == NULL || EVP_Digest(raw, len, digest, &dlen, md, NULL) != 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO, _("Cannot hash the data to sign"));
		return NULL;
	}
	return g_base64_encode(digest, dlen);
}

/* ---- Accessors ----------------------------------------------------------------- */

guint16
sdr_bridge_get_port(SdrBridge *bridge)
{
	return bridge->port;
}

gboolean
sdr_bridge_has_ipv6(SdrBridge *bridge)
{
	return bridge->ipv6;
}

SdrBridgeEvents *
sdr_bridge_get_events(SdrBridge *bridge)
{
	return bridge->events;
}

const SdrBridgePolicy *
sdr_bridge_get_policy(SdrBridge *bridge)
{
	return bridge->policy;
}
