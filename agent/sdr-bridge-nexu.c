/* sdr-bridge-nexu.c - NexU-compatible endpoints, so that DSS-based portals work
 * unchanged: the handlers of the NexU rows of the route table
 * (sdr-bridge-routes.c): GET /nexu-info, GET /nexu.js (sinadur's own client
 * script), POST /rest/certificates, POST /rest/sign (and NexU-shaped refusals
 * of /rest/identityInfo and /rest/authenticate).
 *
 * Off by default; [bridge] nexu=true in the policy turns the rows on. The same
 * security rules as API v1 apply (the transport has already checked Host, Origin,
 * Content-Type and size; only /nexu.js, which holds no data, may be loaded without
 * Origin). Answers follow NexU 1.22's classes field by field (Execution,
 * GetCertificateResponse, SignatureResponse, Feedback): what DSS binds. Signing goes
 * through the "sign" handler in digest mode, so consent and PIN are asked exactly
 * as for /v1/sign. The certificate is chosen by the person when several fit
 * (SdrPrompt.choose_certificate, outside the token lock), and remembered per origin
 * for the agent's lifetime. */
#include "sdr-bridge-routes.h"

#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-handlers-private.h"
#include "sdr-nexu-js.h"
#include "sdr-time.h"
#include "sdr-token-signer.h"

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/utsname.h>

#define NEXU_VERSION "1.22"
#define TO_BE_SIGNED_MAX (1024 * 1024)
#define NEXU_STRING_MAX 256

/* NexuRequest's fields, in every request. */
#define NEXU_REQUEST_MEMBERS "userLocale", "externalId", "requestSeal", "nonce"
static const char *const common_members[] = { NEXU_REQUEST_MEMBERS, NULL };
static const char *const cert_members[] = { NEXU_REQUEST_MEMBERS, "certificateFilter", "closeToken",
	                                    NULL };
static const char *const sign_members[] = {
	NEXU_REQUEST_MEMBERS, "tokenId",    "keyId", "toBeSigned",
	"digestAlgorithm",    "closeToken", NULL
};
static const char *const filter_members[] = { "purpose", "nonRepudiationBit", "certificateSHA1",
	                                      NULL };
static const char *const token_members[] = { "id", NULL };
static const char *const tbs_members[] = { "bytes", NULL };

/* ---- Answers ----------------------------------------------------------------- */

/* Feedback as NexU fills it for every answer: environment and version. */
static JsonObject *
feedback_new(const char *status)
{
	JsonObject *fb = json_object_new();
	JsonObject *info = json_object_new();
	struct utsname u;
	gboolean have_u = uname(&u) == 0;
	const char *m = have_u ? u.machine : "";

	if (status != NULL)
		json_object_set_string_member(fb, "feedbackStatus", status);
	json_object_set_string_member(info, "jreVendor", "NOT_RECOGNIZED");
	json_object_set_string_member(info, "osName", have_u ? u.sysname : "Linux");
	json_object_set_string_member(info, "osArch", g_str_equal(m, "x86_64") ? "amd64" : m);
	json_object_set_string_member(info, "osVersion", have_u ? u.release : "");
	json_object_set_string_member(info, "arch",
	                              g_str_equal(m, "x86_64") ? "AMD64"
	                              : g_str_has_prefix(m, "i") && strlen(m) == 4
	                                      ? "X86"
	                                      : "NOT_RECOGNIZED");
	json_object_set_string_member(info, "os", "LINUX");
	json_object_set_object_member(fb, "info", info);
	json_object_set_string_member(fb, "nexuVersion", NEXU_VERSION);
	return fb;
}

/* NexU's error codes (BasicOperationStatus, CoreOperationStatus). */
static const char *
nexu_code(int code)
{
	switch (code) {
	case SDR_ERROR_CANCELLED:
	case SDR_ERROR_CONSENT_DENIED:
	case SDR_ERROR_TIMEOUT:
	case SDR_ERROR_PIN_FINAL_TRY:
		return "user.cancel";
	case SDR_ERROR_NO_READER:
	case SDR_ERROR_NO_CARD:
	case SDR_ERROR_NO_MODULE:
	case SDR_ERROR_CARD_REMOVED:
		return "no.token";
	case SDR_ERROR_NOT_FOUND:
		return "no.key";
	default:
		return "exception";
	}
}

/* Execution with success false: HTTP 500 as NexU (jQuery's error callback). */
static void
nexu_error(SdrBridgeReply *reply, const GError *error)
{
	int code = (error != NULL && error->domain == SDR_ERROR) ? error->code : SDR_ERROR_FAILED;
	const char *ncode = nexu_code(code);
	JsonObject *o = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_object_set_boolean_member(o, "success", FALSE);
	json_object_set_string_member(o, "error", ncode);
	json_object_set_string_member(o, "errorMessage",
	                              error != NULL ? error->message : _("Internal error"));
	json_object_set_object_member(
	        o, "feedback", feedback_new(g_str_equal(ncode, "exception") ? "EXCEPTION" : NULL));
	json_node_take_object(n, o);
	sdr_bridge_reply_json(reply, 500, n);
}

/* Execution with success true (Gson leaves out null error/errorMessage). */
static void
nexu_success(SdrBridgeReply *reply, JsonObject *response)
{
	JsonObject *o = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_object_set_boolean_member(o, "success", TRUE);
	json_object_set_object_member(o, "response", response);
	json_object_set_object_member(o, "feedback", feedback_new(NULL));
	json_node_take_object(n, o);
	sdr_bridge_reply_json(reply, 200, n);
}

/* ---- Requests ----------------------------------------------------------------- */

static gboolean
bad_field(const char *name, GError **error)
{
	g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Invalid field “%s”"), name);
	return FALSE;
}

/* NexuRequest's strings: string or null, short. */
static gboolean
check_common(JsonObject *o, GError **error)
{
	for (const char *const *m = common_members; *m != NULL; m++) {
		JsonNode *n = json_object_get_member(o, *m);

		if (n == NULL || JSON_NODE_HOLDS_NULL(n))
			continue;
		if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING ||
		    strlen(json_node_get_string(n)) > NEXU_STRING_MAX)
			return bad_field(*m, error);
	}
	if (json_object_has_member(o, "closeToken")) {
		JsonNode *n = json_object_get_member(o, "closeToken");

		if (!JSON_NODE_HOLDS_NULL(n) &&
		    (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN))
			return bad_field("closeToken", error);
	}
	return TRUE;
}

static JsonObject *
parse_body(const SdrBridgeRequest *r, const char *const *members, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *o;

	/* NexU's own client posts an empty body to /rest/certificates. */
	if (r->body_len == 0 && members != sign_members)
		return json_object_new();
	root = sdr_bridge_json_parse_object(r->body != NULL ? r->body : "", r->body_len, error);
	if (root == NULL)
		return NULL;
	o = json_node_get_object(root);
	if (!sdr_bridge_json_check_members(o, members, "request", error) || !check_common(o, error))
		return NULL;
	return json_object_ref(o);
}

static const char *
string_member(JsonObject *o, const char *name, gsize max, GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING || strlen(json_node_get_string(n)) > max) {
		bad_field(name, error);
		return NULL;
	}
	return json_node_get_string(n);
}

/* An optional object member (absent or null: *out = NULL). */
static gboolean
sub_object(JsonObject *o, const char *name, const char *const *members, gboolean required,
           JsonObject **out, GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	*out = NULL;
	if (n == NULL || JSON_NODE_HOLDS_NULL(n)) {
		if (!required)
			return TRUE;
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("“%s” must be an object"),
		            name);
		return FALSE;
	}
	if (!JSON_NODE_HOLDS_OBJECT(n)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("“%s” must be an object"),
		            name);
		return FALSE;
	}
	*out = json_node_get_object(n);
	return sdr_bridge_json_check_members(*out, members, name, error);
}

/* ---- Certificates and the choice ------------------------------------------------ */

typedef struct {
	GPtrArray *certs;      /* SdrCertInfo (owned): certificates with a private key */
	GPtrArray *candidates; /* X509 (owned refs): token certificates and trust anchors */
} TokenView;

static void
token_view_free(TokenView *v)
{
	if (v == NULL)
		return;
	if (v->certs != NULL)
		g_ptr_array_unref(v->certs);
	if (v->candidates != NULL)
		g_ptr_array_unref(v->candidates);
	g_free(v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TokenView, token_view_free)

static void
x509_unref(gpointer p)
{
	X509_free(p);
}

/* Token lock held: copies what the choice and the chain need, then lets go. */
static gpointer
read_tokens(SdrContext *ctx, gpointer data, GError **error)
{
	TokenView *v = g_new0(TokenView, 1);
	GPtrArray *anchors;

	(void)data;
	v->certs = sdr_context_list_signing_certs(ctx, error);
	if (v->certs == NULL) {
		token_view_free(v);
		return NULL;
	}
	v->candidates = g_ptr_array_new_with_free_func(x509_unref);
	if (sdr_context_get_file_signer(ctx) == NULL) {
		SdrTokenManager *tm = sdr_context_get_token_manager(ctx, NULL);
		g_autoptr(GPtrArray) all =
		        tm != NULL ? sdr_token_manager_list_certificates(tm, NULL) : NULL;

		for (guint i = 0; all != NULL && i < all->len; i++) {
			X509 *x = ((SdrCertInfo *)g_ptr_array_index(all, i))->cert;

			if (x != NULL && X509_up_ref(x) == 1)
				g_ptr_array_add(v->candidates, x);
		}
	}
	anchors = sdr_context_get_anchor_certs(ctx);
	for (guint i = 0; anchors != NULL && i < anchors->len; i++) {
		X509 *x = g_ptr_array_index(anchors, i);

		if (X509_up_ref(x) == 1)
			g_ptr_array_add(v->candidates, x);
	}
	return v;
}

static char *
cert_b64(X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	char *b64;

	if (len <= 0)
		return NULL;
	b64 = g_base64_encode(der, (gsize)len);
	OPENSSL_free(der);
	return b64;
}

static gboolean
sha1_matches(X509 *x, const guchar *want, gsize want_len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	return X509_digest(x, EVP_sha1(), md, &len) == 1 && len == want_len &&
	       memcmp(md, want, len) == 0;
}

/* certificateFilter: purpose (SIGNATURE, AUTHENTICATION), nonRepudiationBit,
 * certificateSHA1 (base64). Without a filter: valid signature certificates. */
static GPtrArray *
filter_certs(GPtrArray *certs, JsonObject *filter, GError **error)
{
	g_autoptr(GDateTime) now = sdr_time_now();
	const char *purpose = NULL;
	gboolean non_repudiation = FALSE;
	g_autofree guchar *sha1 = NULL;
	gsize sha1_len = 0;
	GPtrArray *out;

	if (filter != NULL) {
		JsonNode *n = json_object_get_member(filter, "purpose");

		if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
			purpose = string_member(filter, "purpose", 32, error);
			if (purpose == NULL)
				return NULL;
			if (!g_str_equal(purpose, "SIGNATURE") &&
			    !g_str_equal(purpose, "AUTHENTICATION")) {
				bad_field("purpose", error);
				return NULL;
			}
		}
		n = json_object_get_member(filter, "nonRepudiationBit");
		if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
			if (!JSON_NODE_HOLDS_VALUE(n) ||
			    json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
				bad_field("nonRepudiationBit", error);
				return NULL;
			}
			non_repudiation = json_node_get_boolean(n);
		}
		n = json_object_get_member(filter, "certificateSHA1");
		if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
			const char *b64 = string_member(filter, "certificateSHA1", 64, error);

			if (b64 == NULL || !sdr_bridge_base64_check(b64, 64, NULL, error))
				return NULL;
			sha1 = g_base64_decode(b64, &sha1_len);
		}
	}
	out = g_ptr_array_new();
	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *c = g_ptr_array_index(certs, i);
		gboolean valid =
		        c->not_after != NULL && g_date_time_compare(c->not_after, now) > 0 &&
		        (c->not_before == NULL || g_date_time_compare(c->not_before, now) <= 0);
		SdrCertUsage want = g_strcmp0(purpose, "AUTHENTICATION") == 0
		                            ? SDR_CERT_USAGE_AUTHENTICATION
		                            : SDR_CERT_USAGE_SIGNATURE;

		if (!valid || !(c->usage & want))
			continue;
		if (non_repudiation && !(c->usage & SDR_CERT_USAGE_SIGNATURE))
			continue;
		if (sha1 != NULL && !sha1_matches(c->cert, sha1, sha1_len))
			continue;
		g_ptr_array_add(out, c);
	}
	return out;
}

static const char *
remembered_choice(SdrBridge *bridge, const char *origin, char **copy)
{
	g_mutex_lock(&bridge->nexu_lock);
	*copy = g_strdup(g_hash_table_lookup(bridge->nexu_choices, origin != NULL ? origin : ""));
	g_mutex_unlock(&bridge->nexu_lock);
	return *copy;
}

static void
remember_choice(SdrBridge *bridge, const char *origin, const char *id)
{
	g_mutex_lock(&bridge->nexu_lock);
	g_hash_table_replace(bridge->nexu_choices, g_strdup(origin != NULL ? origin : ""),
	                     g_strdup(id));
	g_mutex_unlock(&bridge->nexu_lock);
}

/* One certificate among fit: the one remembered for the origin, the only one, or
 * the person's choice (asked without the token lock). Borrowed from fit. */
static SdrCertInfo *
choose(SdrBridge *bridge, const char *origin, GPtrArray *fit, GError **error)
{
	g_autofree char *kept = NULL;
	g_autofree SdrCertChoice *choices = NULL;
	g_autoptr(GPtrArray) dates = NULL;
	SdrCertChoiceRequest req = { 0 };
	gint k;

	if (fit->len == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("No valid signature certificate was found: is the key plugged in?"));
		return NULL;
	}
	if (remembered_choice(bridge, origin, &kept) != NULL) {
		for (guint i = 0; i < fit->len; i++) {
			SdrCertInfo *c = g_ptr_array_index(fit, i);

			if (g_strcmp0(c->id, kept) == 0)
				return c;
		}
	}
	if (fit->len == 1) {
		k = 0;
		goto chosen;
	}
	if (!sdr_bridge_interactive_begin(bridge, error))
		return NULL;
	choices = g_new0(SdrCertChoice, fit->len);
	dates = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < fit->len; i++) {
		SdrCertInfo *c = g_ptr_array_index(fit, i);
		char *until =
		        c->not_after != NULL ? g_date_time_format(c->not_after, "%d/%m/%Y") : NULL;

		g_ptr_array_add(dates, until);
		choices[i].id = c->id;
		choices[i].subject = c->subject_cn != NULL ? c->subject_cn : c->subject_dn;
		choices[i].issuer = c->issuer_cn != NULL ? c->issuer_cn : c->issuer_dn;
		choices[i].not_after = until;
		choices[i].token_label = c->token != NULL ? c->token->label : NULL;
	}
	req.origin = origin;
	req.choices = choices;
	req.n_choices = fit->len;
	req.timeout_s = sdr_bridge_policy_get_consent_timeout(bridge->policy);
	k = bridge->prompt != NULL ? sdr_prompt_choose_certificate(bridge->prompt, &req, error)
	                           : -1;
	if (bridge->prompt == NULL)
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		            _("Nobody can choose the certificate"));
	sdr_bridge_interactive_end(bridge);
	if (k < 0 || (guint)k >= fit->len) {
		if (k >= 0)
			g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
			            _("No certificate was chosen."));
		return NULL;
	}
chosen:
	remember_choice(bridge, origin, ((SdrCertInfo *)g_ptr_array_index(fit, (guint)k))->id);
	return g_ptr_array_index(fit, (guint)k);
}

/* The signer first, then its issuers among the token's certificates and the
 * trust anchors (NexU's certificateChain). */
static JsonArray *
chain_json(X509 *cert, GPtrArray *candidates)
{
	JsonArray *a = json_array_new();
	STACK_OF(X509) *sk = sdr_chain_build(cert, candidates);
	char *b64 = cert_b64(cert);

	if (b64 != NULL)
		json_array_add_string_element(a, b64);
	g_free(b64);
	for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
		b64 = cert_b64(sk_X509_value(sk, i));
		if (b64 != NULL)
			json_array_add_string_element(a, b64);
		g_free(b64);
	}
	sk_X509_pop_free(sk, X509_free);
	return a;
}

static const char *
token_id(const SdrCertInfo *c)
{
	return c->token != NULL && c->token->serial != NULL && c->token->serial[0] != '\0'
	               ? c->token->serial
	               : "sinadur";
}

void
sdr_bridge_nexu_certificates(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) req = parse_body(r, cert_members, &error);
	g_autoptr(TokenView) view = NULL;
	g_autoptr(GPtrArray) fit = NULL;
	g_autofree char *b64 = NULL;
	JsonObject *filter = NULL, *resp, *token;
	JsonArray *digests;
	SdrCertInfo *c;

	if (req == NULL ||
	    !sub_object(req, "certificateFilter", filter_members, FALSE, &filter, &error) ||
	    !sdr_bridge_approve_listing(bridge, r->origin, &error)) {
		nexu_error(reply, error);
		return;
	}
	view = sdr_bridge_with_context(bridge, r->origin, read_tokens, NULL, &error);
	if (view == NULL || (fit = filter_certs(view->certs, filter, &error)) == NULL ||
	    (c = choose(bridge, r->origin, fit, &error)) == NULL) {
		nexu_error(reply, error);
		return;
	}
	b64 = cert_b64(c->cert);
	resp = json_object_new();
	token = json_object_new();
	json_object_set_string_member(token, "id", token_id(c));
	json_object_set_object_member(resp, "tokenId", token);
	json_object_set_string_member(resp, "keyId", c->id);
	json_object_set_string_member(resp, "certificate", b64 != NULL ? b64 : "");
	json_object_set_array_member(resp, "certificateChain",
	                             chain_json(c->cert, view->candidates));
	json_object_set_string_member(resp, "encryptionAlgorithm",
	                              c->key_scheme == SDR_SIG_ECDSA ? "ECDSA" : "RSA");
	digests = json_array_new();
	json_array_add_string_element(digests, "SHA256");
	json_array_add_string_element(digests, "SHA384");
	json_array_add_string_element(digests, "SHA512");
	json_object_set_array_member(resp, "supportedDigests", digests);
	json_object_set_string_member(resp, "preferredDigest", "SHA256");
	nexu_success(reply, resp);
}

/* DSS's DigestAlgorithm names: SHA1, SHA224, SHA256, SHA384, SHA512, SHA3_256... */
static gboolean
digest_from_nexu(const char *name, SdrHashAlg *alg, GError **error)
{
	g_autofree char *lower = g_ascii_strdown(name, -1);

	if (g_str_equal(lower, "sha1") || g_str_equal(lower, "sha224")) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("The site asks for a %s signature: this digest is too weak for a "
		              "legal signature (RGS, eIDAS). Choose SHA-256 in the site's form."),
		            name);
		return FALSE;
	}
	if (!sdr_hash_from_name(lower, alg) || sdr_hash_md(*alg) == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("Unsupported digest algorithm %s (SHA256, SHA384 or SHA512)"), name);
		return FALSE;
	}
	return TRUE;
}

static const char *
dss_signature_algorithm(const char *scheme, SdrHashAlg alg)
{
	static const char *const ecdsa[] = { "ECDSA_SHA256", "ECDSA_SHA384", "ECDSA_SHA512" };
	static const char *const pss[] = { "RSA_SSA_PSS_SHA256_MGF1", "RSA_SSA_PSS_SHA384_MGF1",
		                           "RSA_SSA_PSS_SHA512_MGF1" };
	static const char *const rsa[] = { "RSA_SHA256", "RSA_SHA384", "RSA_SHA512" };
	guint i = alg == SDR_HASH_SHA384 ? 1 : alg == SDR_HASH_SHA512 ? 2 : 0;

	if (g_strcmp0(scheme, "ecdsa") == 0)
		return ecdsa[i];
	if (g_strcmp0(scheme, "rsa-pss") == 0)
		return pss[i];
	return rsa[i];
}

void
sdr_bridge_nexu_sign(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) req = parse_body(r, sign_members, &error);
	g_autoptr(JsonObject) sign = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(TokenView) view = NULL;
	g_autoptr(GPtrArray) fit = NULL;
	JsonObject *token = NULL, *tbs = NULL, *res, *resp;
	const char *key_id = NULL, *bytes, *alg_name, *sig, *scheme;
	g_autofree char *digest_b64 = NULL;
	g_autofree char *chosen_id = NULL;
	SdrHashAlg alg;
	JsonArray *results;
	SdrCertInfo *cert = NULL;

	if (req == NULL || !sub_object(req, "tokenId", token_members, FALSE, &token, &error) ||
	    !sub_object(req, "toBeSigned", tbs_members, TRUE, &tbs, &error) ||
	    (token != NULL && json_object_has_member(token, "id") &&
	     string_member(token, "id", 128, &error) == NULL) ||
	    (json_object_has_member(req, "keyId") &&
	     !JSON_NODE_HOLDS_NULL(json_object_get_member(req, "keyId")) &&
	     (key_id = string_member(req, "keyId", 128, &error)) == NULL) ||
	    (alg_name = string_member(req, "digestAlgorithm", 16, &error)) == NULL ||
	    (bytes = string_member(tbs, "bytes", (TO_BE_SIGNED_MAX / 3 + 1) * 4, &error)) == NULL ||
	    !sdr_bridge_base64_check(bytes, TO_BE_SIGNED_MAX, NULL, &error) ||
	    !digest_from_nexu(alg_name, &alg, &error)) {
		nexu_error(reply, error);
		return;
	}
	/* The certificate: keyId as returned by /rest/certificates, else the one
	 * chosen for this site (nexu_sign without token infos). */
	view = sdr_bridge_with_context(bridge, r->origin, read_tokens, NULL, &error);
	if (view == NULL) {
		nexu_error(reply, error);
		return;
	}
	if (key_id != NULL) {
		for (guint i = 0; i < view->certs->len && cert == NULL; i++) {
			SdrCertInfo *c = g_ptr_array_index(view->certs, i);

			if (g_strcmp0(c->id, key_id) == 0)
				cert = c;
		}
		/* An unknown keyId goes on to the sign handler, which answers it as it
		 * answers every certificate question: without details to an origin the
		 * user has not approved (the same bytes as any other such refusal). */
	} else {
		if (!sdr_bridge_approve_listing(bridge, r->origin, &error) ||
		    (fit = filter_certs(view->certs, NULL, &error)) == NULL ||
		    (cert = choose(bridge, r->origin, fit, &error)) == NULL) {
			nexu_error(reply, error);
			return;
		}
	}
	chosen_id = g_strdup(cert != NULL ? cert->id : key_id);
	digest_b64 = sdr_bridge_hash_data_to_sign(bytes, alg, &error);
	if (digest_b64 == NULL) {
		nexu_error(reply, error);
		return;
	}
	sign = json_object_new();
	json_object_set_string_member(sign, "mode", "digest");
	json_object_set_string_member(sign, "digest", digest_b64);
	json_object_set_string_member(sign, "hash", sdr_hash_name(alg));
	json_object_set_string_member(sign, "certificate", chosen_id);
	answer = sdr_bridge_run_interactive(bridge, r->origin, "sign", sign, &error);
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
	if (res == NULL || !json_object_has_member(res, "signature") || cert == NULL) {
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
	/* SignatureResponse: byte[] signatureValue, SignatureAlgorithm, CertificateToken
	 * certificate, CertificateToken[] certificateChain (Gson: base64 strings). */
	resp = json_object_new();
	json_object_set_string_member(resp, "signatureValue", sig);
	json_object_set_string_member(resp, "signatureAlgorithm",
	                              dss_signature_algorithm(scheme, alg));
	{
		g_autofree char *b64 = cert_b64(cert->cert);
		json_object_set_string_member(resp, "certificate", b64 != NULL ? b64 : "");
	}
	json_object_set_array_member(resp, "certificateChain",
	                             chain_json(cert->cert, view->candidates));
	nexu_success(reply, resp);
}

void
sdr_bridge_nexu_unsupported(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) req = parse_body(r, common_members, &error);

	(void)bridge;
	if (req != NULL)
		g_set_error(&error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("sinadur signs with certificates; it does not read identity cards "
		              "nor authenticate for the site"));
	nexu_error(reply, error);
}

/* The client script, with the agent's port for pages that insert its text. */
void
sdr_bridge_nexu_script(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	g_autofree char *port = g_strdup_printf("%u", (guint)bridge->port);
	g_autoptr(GString) s = g_string_new(sdr_nexu_js);

	(void)r;
	g_string_replace(s, "@SINADUR_PORT@", port, 0);
	g_free(reply->body);
	reply->status = 200;
	reply->body = g_string_free(g_steal_pointer(&s), FALSE);
	reply->content_type = "application/javascript; charset=utf-8";
	reply->public_script = TRUE;
}

void
sdr_bridge_nexu_info(SdrBridge *bridge, const SdrBridgeRequest *r, SdrBridgeReply *reply)
{
	JsonObject *o = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	(void)bridge;
	(void)r;
	json_object_set_string_member(o, "version", NEXU_VERSION);
	json_object_set_string_member(o, "implementation", "sinadur");
	json_node_take_object(n, o);
	sdr_bridge_reply_json(reply, 200, n);
}
