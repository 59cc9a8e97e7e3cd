/* sdr-bridge-nexu.c - NexU-compatible endpoints, so that DSS-based portals work
 * unchanged: GET /nexu-info, POST /rest/certificates, POST /rest/sign.
 * Off by default; [bridge] nexu=true in the policy turns them on. The same
 * security rules as API v1 apply (the HTTP layer has already checked Host, Origin,
 * Content-Type and size); signing goes through the "sign" handler in digest mode,
 * so consent and PIN are asked exactly as for /v1/sign. */
#include "sdr-bridge-private.h"

#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-handlers-private.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#define NEXU_VERSION "1.22"
#define TO_BE_SIGNED_MAX (1024 * 1024)

static const char *const cert_members[] = { "certificateFilter", "closeToken", NULL };
static const char *const sign_members[] = { "tokenId",         "keyId",      "toBeSigned",
	                                    "digestAlgorithm", "closeToken", NULL };
static const char *const token_members[] = { "id", NULL };
static const char *const tbs_members[] = { "bytes", NULL };

static void
nexu_error(SdrBridgeReply *reply, const GError *error)
{
	int code = (error != NULL && error->domain == SDR_ERROR) ? error->code : SDR_ERROR_FAILED;
	g_autoptr(JsonObject) o = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_object_set_boolean_member(o, "success", FALSE);
	json_object_set_string_member(o, "error", sdr_error_code_name(code));
	json_object_set_string_member(o, "errorMessage", error != NULL ? error->message : "");
	json_node_set_object(n, o);
	sdr_bridge_reply_json(reply, sdr_bridge_status_for_error(code), n);
}

static void
nexu_success(SdrBridgeReply *reply, JsonObject *response)
{
	JsonObject *o = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_object_set_boolean_member(o, "success", TRUE);
	json_object_set_object_member(o, "response", response);
	json_object_set_null_member(o, "feedback");
	json_node_take_object(n, o);
	sdr_bridge_reply_json(reply, 200, n);
}

static JsonObject *
parse_body(const SdrBridgeRequest *r, const char *const *members, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *o;

	/* NexU clients may post an empty body to /rest/certificates. */
	if (r->body_len == 0 && members == cert_members)
		return json_object_new();
	root = sdr_bridge_json_parse_object(r->body != NULL ? r->body : "", r->body_len, error);
	if (root == NULL)
		return NULL;
	o = json_node_get_object(root);
	if (!sdr_bridge_json_check_members(o, members, "request", error))
		return NULL;
	return json_object_ref(o);
}

typedef struct {
	char *id;
	char *token_id;
	char *cert_b64;
	const char *algorithm;
} ChosenCert;

static void
chosen_cert_free(ChosenCert *c)
{
	if (c == NULL)
		return;
	g_free(c->id);
	g_free(c->token_id);
	g_free(c->cert_b64);
	g_free(c);
}

/* The first valid signature certificate (NexU would show a chooser). */
static gpointer
choose_cert(SdrContext *ctx, gpointer data, GError **error)
{
	g_autoptr(GPtrArray) certs = sdr_context_list_signing_certs(ctx, error);
	g_autoptr(GDateTime) now = sdr_time_now();
	const SdrCertInfo *best = NULL;
	ChosenCert *c;
	unsigned char *der = NULL;
	int len;

	if (certs == NULL)
		return NULL;
	for (guint i = 0; i < certs->len; i++) {
		const SdrCertInfo *ci = g_ptr_array_index(certs, i);
		gboolean valid =
		        ci->not_after != NULL && g_date_time_compare(ci->not_after, now) > 0;

		if ((ci->usage & SDR_CERT_USAGE_SIGNATURE) && valid) {
			best = ci;
			break;
		}
	}
	if (best == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("No valid signature certificate was found: is the key plugged in?"));
		return NULL;
	}
	len = i2d_X509(best->cert, &der);
	if (len <= 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO, _("Cannot encode the certificate"));
		return NULL;
	}
	c = g_new0(ChosenCert, 1);
	c->id = g_strdup(best->id);
	c->token_id =
	        g_strdup(best->token != NULL && best->token->serial != NULL ? best->token->serial
	                                                                    : "sinadur");
	c->cert_b64 = g_base64_encode(der, (gsize)len);
	c->algorithm = best->key_scheme == SDR_SIG_ECDSA ? "ECDSA" : "RSA";
	OPENSSL_free(der);
	return c;
}

static void
handle_certificates(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) req = parse_body(r, cert_members, &error);
	ChosenCert *c;
	JsonObject *resp, *token;
	JsonArray *chain;

	if (req == NULL || !sdr_bridge_approve_listing(bridge, r->origin, &error)) {
		nexu_error(reply, error);
		return;
	}
	c = sdr_bridge_with_context(bridge, r->origin, choose_cert, NULL, &error);
	if (c == NULL) {
		nexu_error(reply, error);
		return;
	}
	resp = json_object_new();
	token = json_object_new();
	json_object_set_string_member(token, "id", c->token_id);
	json_object_set_object_member(resp, "tokenId", token);
	json_object_set_string_member(resp, "keyId", c->id);
	json_object_set_string_member(resp, "certificate", c->cert_b64);
	chain = json_array_new();
	json_array_add_string_element(chain, c->cert_b64);
	json_object_set_array_member(resp, "certificateChain", chain);
	json_object_set_string_member(resp, "encryptionAlgorithm", c->algorithm);
	chosen_cert_free(c);
	nexu_success(reply, resp);
}

static gboolean
sub_object(JsonObject *o, const char *name, const char *const *members, JsonObject **out,
           GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL || !JSON_NODE_HOLDS_OBJECT(n)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("“%s” must be an object"),
		            name);
		return FALSE;
	}
	*out = json_node_get_object(n);
	return sdr_bridge_json_check_members(*out, members, name, error);
}

static const char *
string_member(JsonObject *o, const char *name, gsize max, GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING || strlen(json_node_get_string(n)) > max) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Invalid field “%s”"), name);
		return NULL;
	}
	return json_node_get_string(n);
}

static void
handle_sign(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) req = parse_body(r, sign_members, &error);
	g_autoptr(JsonObject) sign = NULL;
	g_autoptr(JsonNode) answer = NULL;
	JsonObject *token, *tbs, *res, *value;
	const char *key_id, *bytes, *alg_name;
	g_autofree char *hash_name = NULL;
	g_autofree guchar *raw = NULL;
	g_autofree char *digest_b64 = NULL;
	g_autofree char *sig_alg = NULL;
	guint8 digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	gsize len = 0;
	SdrHashAlg alg;
	const EVP_MD *md;
	JsonArray *results;
	const char *sig, *scheme;

	if (req == NULL || !sub_object(req, "tokenId", token_members, &token, &error) ||
	    !sub_object(req, "toBeSigned", tbs_members, &tbs, &error) ||
	    (key_id = string_member(req, "keyId", 128, &error)) == NULL ||
	    (alg_name = string_member(req, "digestAlgorithm", 16, &error)) == NULL ||
	    (bytes = string_member(tbs, "bytes", (TO_BE_SIGNED_MAX / 3 + 1) * 4, &error)) == NULL ||
	    !sdr_bridge_base64_check(bytes, TO_BE_SIGNED_MAX, NULL, &error)) {
		nexu_error(reply, error);
		return;
	}
	hash_name = g_ascii_strdown(alg_name, -1);
	if (!sdr_hash_from_name(hash_name, &alg) || (md = sdr_hash_md(alg)) == NULL ||
	    sdr_hash_len(alg) < 32) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("Unsupported digest algorithm %s"), alg_name);
		nexu_error(reply, error);
		return;
	}
	raw = g_base64_decode(bytes, &len);
	if (EVP_Digest(raw, len, digest, &dlen, md, NULL) != 1) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_CRYPTO, _("Cannot hash the data to sign"));
		nexu_error(reply, error);
		return;
	}
	digest_b64 = g_base64_encode(digest, dlen);
	sign = json_object_new();
	json_object_set_string_member(sign, "mode", "digest");
	json_object_set_string_member(sign, "digest", digest_b64);
	json_object_set_string_member(sign, "hash", sdr_hash_name(alg));
	json_object_set_string_member(sign, "certificate", key_id);
	if (!g_mutex_trylock(&bridge->interactive_lock)) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BUSY,
		            _("The signing agent is busy with another request"));
		nexu_error(reply, error);
		return;
	}
	answer = sdr_bridge_run_handler(bridge, r->origin, "sign", sign, &error);
	g_mutex_unlock(&bridge->interactive_lock);
	if (answer == NULL) {
		nexu_error(reply, error);
		return;
	}
	results = JSON_NODE_HOLDS_OBJECT(answer)
	                  ? json_object_get_array_member(json_node_get_object(answer), "results")
	                  : NULL;
	res = results != NULL && json_array_get_length(results) > 0
	              ? json_array_get_object_element(results, 0)
	              : NULL;
	if (res == NULL || !json_object_has_member(res, "signature")) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_FAILED, _("No signature was produced"));
		nexu_error(reply, error);
		return;
	}
	scheme = json_object_has_member(res, "signature_algorithm")
	                 ? json_object_get_string_member(res, "signature_algorithm")
	                 : "rsa-pkcs1";
	/* DSS takes ECDSA signature values DER-encoded. */
	if (g_strcmp0(scheme, "ecdsa") == 0 && json_object_has_member(res, "signature_der"))
		sig = json_object_get_string_member(res, "signature_der");
	else
		sig = json_object_get_string_member(res, "signature");
	sig_alg = g_strdup_printf("%s_%s",
	                          g_strcmp0(scheme, "ecdsa") == 0     ? "ECDSA"
	                          : g_strcmp0(scheme, "rsa-pss") == 0 ? "RSA_SSA_PSS"
	                                                              : "RSA",
	                          alg_name);
	value = json_object_new();
	json_object_set_string_member(value, "algorithm", sig_alg);
	json_object_set_string_member(value, "value", sig);
	{
		JsonObject *resp = json_object_new();
		json_object_set_object_member(resp, "signatureValue", value);
		nexu_success(reply, resp);
	}
}

gboolean
sdr_bridge_nexu_handle(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	gboolean get = g_strcmp0(r->method, "GET") == 0;
	gboolean post = g_strcmp0(r->method, "POST") == 0;

	if (!sdr_bridge_policy_get_nexu(bridge->policy))
		return FALSE;
	if (g_strcmp0(r->path, "/nexu-info") == 0 && get) {
		JsonObject *o = json_object_new();
		JsonNode *n = json_node_new(JSON_NODE_OBJECT);

		json_object_set_string_member(o, "version", NEXU_VERSION);
		json_object_set_string_member(o, "implementation", "sinadur");
		json_node_take_object(n, o);
		sdr_bridge_reply_json(reply, 200, n);
		return TRUE;
	}
	if (g_strcmp0(r->path, "/rest/certificates") == 0 && post) {
		handle_certificates(bridge, r, reply);
		return TRUE;
	}
	if (g_strcmp0(r->path, "/rest/sign") == 0 && post) {
		handle_sign(bridge, r, reply);
		return TRUE;
	}
	return FALSE;
}
