/* sdr-handlers-s2low.c - "s2low-test", "send-actes", "send-pes", "status": the
 * S²LOW teletransmission actions (agent/teletransmission does the work).
 *
 * One login per handler call (one PIN entry), through the same token login as
 * "sign" (sdr_token_session_login with the prompt: PIN checks, final-try
 * confirmation, protected path). The key goes to TLS as an EVP_PKEY over that
 * session: never the curl engine path. */
#include "sdr-context.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-handlers-private.h"
#include "sdr-json.h"
#include "sdr-send-queue.h"
#include "sdr-s2low.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* Test facility and admin override: the queue database ($SINADUR_S2LOW_DB). */
static char *
queue_path(void)
{
	const char *env = g_getenv("SINADUR_S2LOW_DB");
	return env != NULL && *env != '\0' ? g_strdup(env) : NULL;
}

/* The classification cache of this platform and login:
 * $XDG_CACHE_HOME/sinadur/s2low-classification-<16 hex of SHA-256(url, login)>.xml
 * (a classification is per authority; the account is url + login). NULL without url. */
static char *
classification_cache_path(SdrConfig *config)
{
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	g_autofree char *login = sdr_config_get_string(config, "s2low", "login", NULL);
	g_autofree char *key = NULL;
	g_autofree char *hash = NULL;
	g_autofree char *name = NULL;

	if (url == NULL || *url == '\0')
		return NULL;
	key = g_strconcat(url, "\n", login != NULL ? login : "", NULL);
	hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
	hash[16] = '\0';
	name = g_strdup_printf("s2low-classification-%s.xml", hash);
	return g_build_filename(g_get_user_cache_dir(), "sinadur", name, NULL);
}

/* ---- Connection: certificate, login, client ---------------------------------------- */

/* A connection: the logged-in token session, its key for TLS, the client. Kept in
 * the context between calls (sdr_context_keep) while the session stays logged in:
 * the agent's background polls ask the PIN once, not at every poll. */
typedef struct {
	SdrTokenSession *session;
	EVP_PKEY *key;
	SdrS2lowClient *client;
	SdrCertInfo *cert; /* borrowed from the session */
} S2lowConn;

#define S2LOW_KEPT "s2low"
/* The request comes from a person at a terminal or window ("interactive": the CLI
 * without --json): a choice of certificate may be asked. */
#define MAY_ASK(request) sdr_json_get_bool((request), "interactive", FALSE)

static void
conn_free(S2lowConn *c)
{
	if (c == NULL)
		return;
	sdr_s2low_client_free(c->client); /* before the key and the session it uses */
	EVP_PKEY_free(c->key);
	sdr_token_session_free(c->session);
	g_free(c);
}

/* Several certificates fit: the person chooses through the prompt (never under
 * the token lock). NULL with *error when declined or no prompt can choose. */
static SdrCertInfo *
ask_auth_cert(SdrContext *ctx, GPtrArray *fit, GError **error)
{
	g_autofree SdrCertChoice *choices = g_new0(SdrCertChoice, fit->len);
	g_autoptr(GPtrArray) dates = g_ptr_array_new_with_free_func(g_free);
	SdrCertChoiceRequest req = { 0 };
	guint depth;
	gint k;

	for (guint i = 0; i < fit->len; i++) {
		SdrCertInfo *c = fit->pdata[i];
		char *d =
		        c->not_after != NULL ? g_date_time_format(c->not_after, "%d/%m/%Y") : NULL;

		g_ptr_array_add(dates, d);
		choices[i].id = c->id;
		choices[i].subject = c->subject_cn != NULL ? c->subject_cn : c->subject_dn;
		choices[i].issuer = c->issuer_cn != NULL ? c->issuer_cn : c->issuer_dn;
		choices[i].not_after = d;
		choices[i].token_label = c->token != NULL ? c->token->label : NULL;
	}
	req.origin = NULL;
	req.choices = choices;
	req.n_choices = fit->len;
	depth = sdr_context_suspend_token();
	k = sdr_prompt_choose_certificate(sdr_context_get_prompt(ctx), &req, error);
	sdr_context_resume_token(ctx, depth);
	if (k < 0 || (guint)k >= fit->len) {
		if (k >= 0)
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED,
			                    _("No certificate was chosen."));
		return NULL;
	}
	return fit->pdata[k];
}

/* The authentication certificate: [s2low] certificate, or the single fitting one;
 * several fit: asked when may_ask (an interactive command), else a clear error. */
static SdrCertInfo *
choose_auth_cert(SdrContext *ctx, GPtrArray *all, gboolean may_ask, GError **error)
{
	g_autoptr(GPtrArray) fit = g_ptr_array_new();
	g_autofree char *wanted =
	        sdr_config_get_string(sdr_context_get_config(ctx), "s2low", "certificate", NULL);
	g_autoptr(GError) last = NULL;
	SdrCertInfo *found = NULL;
	guint fitting = 0;
	g_autoptr(GString) ids = g_string_new(NULL);

	for (guint i = 0; i < all->len; i++) {
		SdrCertInfo *c = all->pdata[i];
		g_autoptr(GError) e = NULL;

		if (!c->has_private_key)
			continue;
		if (wanted != NULL && *wanted != '\0') {
			if (g_ascii_strncasecmp(c->id, wanted, strlen(wanted)) != 0)
				continue;
			if (!sdr_s2low_check_auth_cert(c->cert, error))
				return NULL;
			return c;
		}
		if (!sdr_s2low_check_auth_cert(c->cert, &e)) {
			/* Remember why an authentication certificate cannot be used. */
			if (c->usage & SDR_CERT_USAGE_AUTHENTICATION || last == NULL)
				g_set_error_literal(&last, e->domain, e->code, e->message);
			continue;
		}
		fitting++;
		found = c;
		g_ptr_array_add(fit, c);
		g_string_append_printf(ids, "%s%s (%s)", ids->len > 0 ? ", " : "", c->id,
		                       c->subject_cn != NULL ? c->subject_cn : "?");
	}
	if (wanted != NULL && *wanted != '\0') {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("[s2low] certificate %s is not on any key present."), wanted);
		return NULL;
	}
	if (fitting == 1)
		return found;
	if (fitting > 1 && may_ask)
		return ask_auth_cert(ctx, fit, error);
	if (fitting > 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Several certificates can connect to S²LOW: choose one with "
		              "[s2low] certificate = ID in the configuration (%s)."),
		            ids->str);
		return NULL;
	}
	if (last != NULL) {
		g_propagate_error(error, g_steal_pointer(&last));
		return NULL;
	}
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
	                    _("No authentication certificate on the keys present: plug in the key "
	                      "that connects to S²LOW."));
	return NULL;
}

/* The intermediate CAs for cert: from the token, the trust store, or chain_file. */
static GPtrArray *
auth_chain(SdrContext *ctx, SdrCertInfo *cert, GPtrArray *all, GError **error)
{
	g_autofree char *chain_file =
	        sdr_config_get_string(sdr_context_get_config(ctx), "s2low", "chain_file", NULL);
	g_autoptr(GPtrArray) candidates = g_ptr_array_new();
	GPtrArray *anchors = sdr_context_get_anchor_certs(ctx);
	X509_STORE *trust = sdr_context_get_trust(ctx, NULL);
	STACK_OF(X509) *store_certs = NULL;
	GPtrArray *chain;

	for (guint i = 0; i < all->len; i++)
		g_ptr_array_add(candidates, ((SdrCertInfo *)all->pdata[i])->cert);
	for (guint i = 0; anchors != NULL && i < anchors->len; i++)
		g_ptr_array_add(candidates, anchors->pdata[i]);
	if (trust != NULL) {
		store_certs = X509_STORE_get1_all_certs(trust);
		for (int i = 0; store_certs != NULL && i < sk_X509_num(store_certs); i++)
			g_ptr_array_add(candidates, sk_X509_value(store_certs, i));
	}
	chain = sdr_s2low_build_chain(cert->cert, chain_file, candidates, error);
	sk_X509_pop_free(store_certs, X509_free);
	return chain;
}

/* The HTTP Basic password when [s2low] login is set (a certificate shared by several
 * accounts): from the desktop keyring, before any PIN. NULL without a login. */
static gboolean
basic_password(SdrConfig *config, const char *url, char **login, SdrSecret **password,
               GError **error)
{
	*login = sdr_config_get_string(config, "s2low", "login", NULL);
	*password = NULL;
	if (*login == NULL || **login == '\0') {
		g_clear_pointer(login, g_free);
		return TRUE;
	}
	*password = sdr_s2low_keyring_lookup(url, *login, error);
	return *password != NULL;
}

/* long: the connection's set-up in order (address, password, certificate, chain,
 * login with the PIN, key, client, login check), each step a few lines. */
static S2lowConn *
conn_open(SdrContext *ctx, gboolean may_ask, GError **error)
{
	SdrConfig *config = sdr_context_get_config(ctx);
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	g_autofree char *ca_file = sdr_config_get_string(config, "s2low", "ca_file", NULL);
	g_autofree char *proxy = sdr_config_get_string(config, "s2low", "proxy", NULL);
	g_autofree char *cache = classification_cache_path(config);
	g_autofree char *login = NULL;
	g_autoptr(SdrSecret) password = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) chain = NULL;
	SdrS2lowClientOptions o = { 0 };
	S2lowConn *conn = NULL;
	SdrTokenManager *tm;
	SdrCertInfo *cert;
	gboolean ok;

	if (url == NULL || *url == '\0') {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONFIG,
		                    _("The address of S²LOW is not set: [s2low] url in the "
		                      "configuration (ask your IT department)."));
		return NULL;
	}
	if (!basic_password(config, url, &login, &password, error))
		return NULL;
	tm = sdr_context_get_token_manager(ctx, error);
	if (tm == NULL)
		return NULL;
	all = sdr_token_manager_list_certificates(tm, error);
	/* Before any connection and any PIN: expired or not for authentication. */
	cert = all != NULL ? choose_auth_cert(ctx, all, may_ask, error) : NULL;
	if (cert == NULL) {
		/* The key may come back without a PC/SC event (no reader: a software or
		 * USB-only token): the next call enumerates again. */
		if (all == NULL || g_error_matches(*error, SDR_ERROR, SDR_ERROR_NOT_FOUND))
			sdr_context_reset_tokens(ctx);
		return NULL;
	}
	chain = auth_chain(ctx, cert, all, error);
	if (chain == NULL)
		return NULL;

	conn = g_new0(S2lowConn, 1);
	conn->session = sdr_token_session_open(tm, cert->id, error);
	if (conn->session == NULL)
		goto fail;
	/* The PIN prompt releases the token lock: keep this manager meanwhile. */
	sdr_context_hold_token(ctx, TRUE);
	ok = sdr_token_session_login(conn->session, sdr_handlers_pin_from_prompt, ctx, error);
	sdr_context_hold_token(ctx, FALSE);
	if (!ok) {
		if (g_error_matches(*error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT))
			g_prefix_error(error, _("Wrong PIN, nothing was sent. "));
		else if (g_error_matches(*error, SDR_ERROR, SDR_ERROR_PIN_LOCKED))
			g_prefix_error(error, _("The key is blocked, nothing was sent. "));
		goto fail;
	}
	conn->cert = (SdrCertInfo *)sdr_token_session_get_cert(conn->session);
	conn->key = sdr_token_session_get_pkey(conn->session, error);
	if (conn->key == NULL)
		goto fail;
	o.url = url;
	o.ca_file = ca_file;
	o.proxy = proxy;
	o.login = login;
	o.password = password != NULL ? sdr_secret_get(password) : NULL;
	o.cert = conn->cert->cert;
	o.key = conn->key;
	o.chain = chain;
	o.timeout_s = 60;
	o.classification_cache = cache;
	conn->client = sdr_s2low_client_new(&o, error);
	if (conn->client == NULL)
		goto fail;
	/* A wrong login or password is told now, before anything is sent (and the
	 * agent's poller stops there instead of trying it again and again). */
	if (login != NULL && !sdr_s2low_check_connection(conn->client, error))
		goto fail;
	return conn;
fail:
	conn_free(conn);
	return NULL;
}

/* The kept connection while its session is still logged in (the key still in and
 * not logged out), else a new one (one PIN entry). */
static S2lowConn *
conn_get(SdrContext *ctx, gboolean may_ask, GError **error)
{
	S2lowConn *c = sdr_context_take_kept(ctx, S2LOW_KEPT);

	if (c != NULL) {
		if (sdr_token_session_is_logged_in(c->session) &&
		    sdr_s2low_check_auth_cert(c->cert->cert, NULL))
			return c;
		conn_free(c);
		/* The key went (or was logged out) without a PC/SC event: list it again. */
		sdr_context_reset_tokens(ctx);
	}
	return conn_open(ctx, may_ask, error);
}

/* Hands the connection back to the context for the next call, while logged in. */
static void
conn_put(SdrContext *ctx, S2lowConn *c)
{
	if (c == NULL)
		return;
	if (!sdr_token_session_is_logged_in(c->session)) {
		conn_free(c);
		return;
	}
	sdr_context_keep(ctx, S2LOW_KEPT, c, (GDestroyNotify)conn_free);
}

/* ---- JSON ----------------------------------------------------------------------- */

static JsonObject *
send_to_json(const SdrSend *s)
{
	JsonObject *o = json_object_new();

	json_object_set_int_member(o, "id", s->id);
	json_object_set_string_member(o, "kind", s->kind == SDR_SEND_PES ? "pes" : "actes");
	json_object_set_string_member(o, "state", sdr_send_state_name(s->state));
	json_object_set_string_member(o, "state_label", sdr_send_state_label(s->state));
	if (s->number != NULL)
		json_object_set_string_member(o, "number", s->number);
	if (s->remote_id != NULL)
		json_object_set_string_member(o, "transaction", s->remote_id);
	if (s->has_status) {
		json_object_set_int_member(o, "status", s->status);
		json_object_set_string_member(o, "status_label",
		                              s->kind == SDR_SEND_PES
		                                      ? sdr_s2low_helios_status_label(s->status)
		                                      : sdr_s2low_actes_status_label(s->status));
	}
	if (s->message != NULL && *s->message != '\0')
		json_object_set_string_member(o, "message", s->message);
	json_object_set_int_member(o, "attempts", s->attempts);
	if (s->next_try > 0 && (s->state == SDR_SEND_QUEUED || s->state == SDR_SEND_SENDING))
		json_object_set_int_member(o, "next_try", s->next_try);
	if (s->request != NULL && strstr(s->request, "\"cancel_of\"") != NULL) {
		g_autoptr(JsonParser) p = json_parser_new();
		if (json_parser_load_from_data(p, s->request, -1, NULL) &&
		    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
			json_object_set_int_member(
			        o, "cancel_of",
			        sdr_json_get_int(json_node_get_object(json_parser_get_root(p)),
			                         "cancel_of", 0));
	}
	return o;
}

static gboolean
refuse_origin(SdrContext *ctx, GError **error)
{
	if (sdr_context_get_origin(ctx) == NULL)
		return FALSE;
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_ORIGIN_DENIED,
	                    _("A web page may not send files to S²LOW through sinadur."));
	return TRUE;
}

/* ---- A web page's send (the bridge's POST /v1/s2low/send) ---------------------- */

/* What a web page may not do here: sign inside the send (it signs through /v1/sign
 * first, with its own consent), name files of its own (the bridge writes them). */
static gboolean
refuse_web_request(SdrContext *ctx, JsonObject *request, GError **error)
{
	if (sdr_context_get_origin(ctx) == NULL || !sdr_json_get_bool(request, "sign", FALSE))
		return FALSE;
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
	                    _("A web page signs through /v1/sign first, then sends the signed "
	                      "files."));
	return TRUE;
}

/* The consent of the person to a web page's send: the destination, each file as
 * it will go (name, size, short SHA-256) and the fields (every outside string
 * through the sanitiser in sdr_prompt_consent_text and the GUI). Nothing is
 * queued before a yes. */
static gboolean
web_send_consent(SdrContext *ctx, const char *format, GPtrArray *paths, GArray *details,
                 GError **error)
{
	SdrConfig *config = sdr_context_get_config(ctx);
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	g_autofree SdrConsentDocument *docs = g_new0(SdrConsentDocument, MAX(paths->len, 1));
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
	SdrConsentRequest req = { 0 };
	guint depth;
	gboolean ok;

	for (guint i = 0; i < paths->len; i++) {
		g_autofree char *data = NULL;
		gsize len = 0;
		char *sha;

		if (!g_file_get_contents(paths->pdata[i], &data, &len, error))
			return FALSE;
		sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
		sha[16] = '\0';
		g_ptr_array_add(keep, sha);
		g_ptr_array_add(keep, g_path_get_basename(paths->pdata[i]));
		docs[i].name = keep->pdata[keep->len - 1];
		docs[i].size = len;
		docs[i].sha256_short = sha;
		docs[i].mime_type = g_str_has_suffix(docs[i].name, ".pdf")   ? "application/pdf"
		                    : g_str_has_suffix(docs[i].name, ".xml") ? "application/xml"
		                                                             : NULL;
	}
	req.action = SDR_CONSENT_S2LOW_SEND;
	req.origin = sdr_context_get_origin(ctx);
	req.format = format;
	req.destination = url;
	req.documents = docs;
	req.n_documents = paths->len;
	req.details = (const SdrConsentDetail *)(void *)details->data;
	req.n_details = details->len;
	req.timeout_s = (guint)CLAMP(sdr_config_get_int(config, "bridge", "consent_timeout_s", 120),
	                             0, 3600);
	depth = sdr_context_suspend_token();
	ok = sdr_prompt_ask_consent(sdr_context_get_prompt(ctx), &req, error);
	sdr_context_resume_token(ctx, depth);
	return ok;
}

static void
add_detail(GArray *details, const char *label, const char *value)
{
	SdrConsentDetail d = { label, value != NULL ? value : "" };

	g_array_append_val(details, d);
}

/* The ACTES fields shown in the consent, as the page gave them. */
static gboolean
actes_web_consent(SdrContext *ctx, JsonObject *request, const SdrActesFields *f, GError **error)
{
	g_autoptr(GArray) details = g_array_new(FALSE, FALSE, sizeof(SdrConsentDetail));
	g_autoptr(GPtrArray) paths = g_ptr_array_new();
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);

	add_detail(details, _("Nature"), sdr_json_get_string(request, "nature", NULL));
	add_detail(details, _("Classification"), f->classification);
	add_detail(details, _("Number"), f->number);
	add_detail(details, _("Decision date"), f->date);
	add_detail(details, _("Subject"), f->subject);
	add_detail(details, _("Type of act"), f->type_acte);
	if (f->en_attente)
		add_detail(details, _("On hold"), _("yes"));
	g_ptr_array_add(paths, f->acte_path);
	for (guint i = 0; i < f->annexes->len; i++) {
		SdrActesFile *a = f->annexes->pdata[i];
		char *base = g_path_get_basename(a->path);

		g_ptr_array_add(paths, a->path);
		g_ptr_array_add(keep, g_strdup_printf("%s: %s", base, a->type_pj));
		g_free(base);
		add_detail(details, _("Annex type"), keep->pdata[keep->len - 1]);
	}
	return web_send_consent(ctx, "actes", paths, details, error);
}

/* Queues the send and processes it (and answers it). conn: the connection already
 * open (taken), or NULL to open one. */
static JsonNode *
enqueue_and_process(SdrContext *ctx, SdrSendKind kind, const char *request_json, const char *number,
                    S2lowConn *conn, gboolean may_ask, GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(path, error);
	g_autoptr(SdrSend) s = NULL;
	g_autoptr(GError) net = NULL;
	JsonObject *o;
	gint64 id;

	if (q == NULL) {
		conn_put(ctx, conn);
		return NULL;
	}
	id = sdr_send_queue_add(q, kind, request_json, number, error);
	if (id == 0) {
		conn_put(ctx, conn);
		return NULL;
	}
	if (conn == NULL)
		conn = conn_get(ctx, may_ask, &net);
	if (conn != NULL)
		sdr_send_queue_process(q, id, sdr_send_ops_client(), conn->client,
		                       g_get_real_time() / G_USEC_PER_SEC, &net);
	conn_put(ctx, conn);
	s = sdr_send_queue_get(q, id, error);
	if (s == NULL)
		return NULL;
	if (net != NULL && s->state == SDR_SEND_QUEUED && s->attempts == 0) {
		/* Nothing went out (no key, wrong PIN, no address): say why, keep it queued. */
		if (g_error_matches(net, SDR_ERROR, SDR_ERROR_CANCELLED) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_PIN_INCORRECT) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_PIN_LOCKED) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_CONFIG) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_CERT_EXPIRED) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_CERT_USAGE) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_NOT_FOUND) ||
		    g_error_matches(net, SDR_ERROR, SDR_ERROR_BAD_REQUEST)) {
			/* Not even tried: drop it, the person fixes and sends again. */
			sdr_send_queue_move(q, id, SDR_SEND_QUEUED, SDR_SEND_FAILED, NULL, -10000,
			                    net->message, 0, NULL);
			g_propagate_error(error, g_steal_pointer(&net));
			return NULL;
		}
	}
	o = send_to_json(s);
	if (net != NULL)
		json_object_set_string_member(o, "network_error", net->message);
	else if ((s->state == SDR_SEND_QUEUED || s->state == SDR_SEND_SENDING) &&
	         s->message != NULL && *s->message != '\0')
		/* Tried and not through (unreachable, server error, answer lost): kept. */
		json_object_set_string_member(o, "network_error", s->message);
	return sdr_json_node_take(o);
}

/* ---- Handlers --------------------------------------------------------------------- */

JsonNode *
sdr_handle_s2low_test(SdrContext *ctx, JsonObject *request, GError **error)
{
	S2lowConn *conn;
	gboolean rgs = FALSE;
	JsonObject *o = NULL;
	g_autofree char *login =
	        sdr_config_get_string(sdr_context_get_config(ctx), "s2low", "login", NULL);

	(void)request;
	conn = conn_get(ctx, MAY_ASK(request), error);
	if (conn == NULL)
		return NULL;
	if (sdr_s2low_test(conn->client, &rgs, error)) {
		o = json_object_new();
		json_object_set_boolean_member(o, "connected", TRUE);
		json_object_set_boolean_member(o, "rgs", rgs);
		json_object_set_string_member(o, "certificate", conn->cert->id);
		if (conn->cert->subject_cn != NULL)
			json_object_set_string_member(o, "subject", conn->cert->subject_cn);
		if (login != NULL && *login != '\0')
			json_object_set_string_member(o, "login", login);
	}
	conn_put(ctx, conn);
	return o != NULL ? sdr_json_node_take(o) : NULL;
}

/* "s2low-login": asks the HTTP Basic password of [s2low] login (through the prompt,
 * never echoed) and keeps it in the desktop keyring. No token, no connection. */
JsonNode *
sdr_handle_s2low_login(SdrContext *ctx, JsonObject *request, GError **error)
{
	SdrConfig *config = sdr_context_get_config(ctx);
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	g_autofree char *login = sdr_config_get_string(config, "s2low", "login", NULL);
	g_autoptr(SdrSecret) password = NULL;
	SdrPasswordPromptRequest p = { 0 };
	JsonObject *o;

	(void)request;
	if (refuse_origin(ctx, error))
		return NULL;
	if (url == NULL || *url == '\0' || login == NULL || *login == '\0') {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONFIG,
		                    _("Set [s2low] url and [s2low] login in the configuration "
		                      "first (the login S²LOW gave you for this certificate)."));
		return NULL;
	}
	p.service = "S²LOW";
	p.url = url;
	p.login = login;
	password = sdr_prompt_ask_password(sdr_context_get_prompt(ctx), &p, error);
	if (password == NULL)
		return NULL;
	if (!sdr_s2low_keyring_store(url, login, password, error))
		return NULL;
	/* The connection kept so far used the old password. */
	sdr_context_drop_kept(ctx);
	o = json_object_new();
	json_object_set_boolean_member(o, "stored", TRUE);
	json_object_set_string_member(o, "url", url);
	json_object_set_string_member(o, "login", login);
	return sdr_json_node_take(o);
}

/* "s2low-logout": forgets the password of [s2low] login in the keyring. */
JsonNode *
sdr_handle_s2low_logout(SdrContext *ctx, JsonObject *request, GError **error)
{
	SdrConfig *config = sdr_context_get_config(ctx);
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	g_autofree char *login = sdr_config_get_string(config, "s2low", "login", NULL);
	gboolean removed = FALSE;
	JsonObject *o;

	(void)request;
	if (refuse_origin(ctx, error))
		return NULL;
	if (!sdr_s2low_keyring_clear(url, login, &removed, error))
		return NULL;
	sdr_context_drop_kept(ctx);
	o = json_object_new();
	json_object_set_boolean_member(o, "removed", removed);
	json_object_set_string_member(o, "login", login);
	return sdr_json_node_take(o);
}

/* ---- Signing before sending (--sign) ----------------------------------------------- */

/* Signs the spooled files with the "sign" handler (the one signing engine), each
 * signature beside its spooled copy; outputs[i] is the signature (or signed file)
 * of paths[i]. Called with the S²LOW connection open: when the signing certificate
 * is on the same key, its login is reused (one PIN for both). */
static gboolean
sign_spooled(SdrContext *ctx, const char *format, GPtrArray *paths, const char *certificate,
             GPtrArray *outputs, GError **error)
{
	g_autoptr(JsonObject) req = json_object_new();
	g_autoptr(JsonNode) answer = NULL;
	JsonArray *docs = json_array_new();
	JsonArray *results;
	JsonObject *a;

	for (guint i = 0; i < paths->len; i++) {
		JsonObject *d = json_object_new();
		json_object_set_string_member(d, "path", paths->pdata[i]);
		json_array_add_object_element(docs, d);
	}
	json_object_set_string_member(req, "format", format);
	json_object_set_array_member(req, "documents", docs);
	if (certificate != NULL)
		json_object_set_string_member(req, "certificate", certificate);
	/* The "sign" handler itself (sdr-engine.c), inside this call: its cancellable,
	 * its token lock (taken again in pieces, recursively), no second dispatch. */
	answer = sdr_handle_sign(ctx, req, error);
	if (answer == NULL)
		return FALSE;
	a = json_node_get_object(answer);
	results = json_object_has_member(a, "results") ? json_object_get_array_member(a, "results")
	                                               : NULL;
	for (guint i = 0; i < paths->len; i++) {
		JsonObject *r = results != NULL && i < json_array_get_length(results)
		                        ? json_array_get_object_element(results, i)
		                        : NULL;
		const char *out = r != NULL ? sdr_json_get_string(r, "output", NULL) : NULL;

		if (r == NULL || g_strcmp0(sdr_json_get_string(r, "status", NULL), "ok") != 0 ||
		    out == NULL) {
			JsonObject *e = r != NULL && json_object_has_member(r, "error")
			                        ? json_object_get_object_member(r, "error")
			                        : NULL;
			g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO,
			            _("%s was not signed, nothing was sent: %s"),
			            (const char *)paths->pdata[i],
			            e != NULL ? sdr_json_get_string(e, "message", "") : "");
			return FALSE;
		}
		g_ptr_array_add(outputs, g_strdup(out));
	}
	return TRUE;
}

/* The classification code checked against the cached classification, before
 * anything is queued (the queue checks it again against S²LOW's before the upload). */
static gboolean
classification_precheck(SdrContext *ctx, const char *code, GError **error)
{
	g_autofree char *cache = classification_cache_path(sdr_context_get_config(ctx));
	g_autoptr(SdrS2lowClassification) cl = sdr_s2low_classification_load(cache, NULL);

	if (cl == NULL || sdr_s2low_classification_has(cl, code))
		return TRUE;
	g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
	            _("The classification %s is not in the classification of S²LOW (%s): see "
	              "“sinadur s2low classification”."),
	            code, cl->date);
	return FALSE;
}

static SdrActesFields *
actes_fields_from_request(JsonObject *request)
{
	SdrActesFields *f = sdr_actes_fields_new();
	JsonArray *annexes = NULL;

	f->nature = sdr_actes_nature_from_string(sdr_json_get_string(request, "nature", NULL));
	f->classification = g_strdup(sdr_json_get_string(request, "classification", NULL));
	f->number = g_strdup(sdr_json_get_string(request, "number", NULL));
	f->date = g_strdup(sdr_json_get_string(request, "date", NULL));
	f->subject = g_strdup(sdr_json_get_string(request, "subject", NULL));
	f->type_acte = g_strdup(sdr_json_get_string(request, "type_acte", NULL));
	f->acte_path = g_strdup(sdr_json_get_string(request, "acte", NULL));
	f->en_attente = sdr_json_get_bool(request, "en_attente", FALSE);
	if (json_object_has_member(request, "annexes") &&
	    JSON_NODE_HOLDS_ARRAY(json_object_get_member(request, "annexes")))
		annexes = json_object_get_array_member(request, "annexes");
	for (guint i = 0; annexes != NULL && i < json_array_get_length(annexes); i++) {
		JsonNode *n = json_array_get_element(annexes, i);
		JsonObject *a = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
		SdrActesFile *file = g_new0(SdrActesFile, 1);
		file->path = g_strdup(a != NULL ? sdr_json_get_string(a, "path", NULL) : NULL);
		file->type_pj =
		        g_strdup(a != NULL ? sdr_json_get_string(a, "type_pj", NULL) : NULL);
		g_ptr_array_add(f->annexes, file);
	}
	return f;
}

/* The queue's request: the fields, the spooled files and their signatures. */
static char *
actes_request_json(const SdrActesFields *f, const char *origin)
{
	g_autoptr(JsonObject) o = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	JsonArray *an = json_array_new();

	json_object_set_int_member(o, "nature", f->nature);
	json_object_set_string_member(o, "classification", f->classification);
	json_object_set_string_member(o, "number", f->number);
	json_object_set_string_member(o, "date", f->date);
	json_object_set_string_member(o, "subject", f->subject);
	json_object_set_string_member(o, "type_acte", f->type_acte);
	json_object_set_string_member(o, "acte", f->acte_path);
	if (f->acte_sign_path != NULL)
		json_object_set_string_member(o, "acte_sign", f->acte_sign_path);
	if (f->en_attente)
		json_object_set_boolean_member(o, "en_attente", TRUE);
	if (origin != NULL) /* the web page that asked: only it may read the status */
		json_object_set_string_member(o, "origin", origin);
	for (guint i = 0; i < f->annexes->len; i++) {
		SdrActesFile *a = f->annexes->pdata[i];
		JsonObject *j = json_object_new();
		json_object_set_string_member(j, "path", a->path);
		json_object_set_string_member(j, "type_pj", a->type_pj);
		if (a->sign_path != NULL)
			json_object_set_string_member(j, "sign", a->sign_path);
		json_array_add_object_element(an, j);
	}
	json_object_set_array_member(o, "annexes", an);
	node = json_node_init_object(json_node_alloc(), o);
	return json_to_string(node, FALSE);
}

/* "send-actes": S²LOW's rules checked, the files spooled, signed when asked
 * ("sign": the ACTES profile, a detached PEM signature per file), queued, sent. */
JsonNode *
sdr_handle_send_actes(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autoptr(SdrActesFields) f = NULL;
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autoptr(GPtrArray) spooled = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) sigs = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *json = NULL;
	gboolean sign = sdr_json_get_bool(request, "sign", FALSE);
	S2lowConn *conn = NULL;

	if (refuse_web_request(ctx, request, error))
		return NULL;
	f = actes_fields_from_request(request);
	/* S²LOW's rules first: nothing is queued that it would refuse. */
	if (!sdr_actes_fields_check(f, NULL, error) ||
	    !classification_precheck(ctx, f->classification, error))
		return NULL;
	/* A web page's send: the person's yes to this very send first. */
	if (sdr_context_get_origin(ctx) != NULL && !actes_web_consent(ctx, request, f, error))
		return NULL;
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	g_ptr_array_add(spooled, sdr_send_queue_spool(q, f->acte_path, error));
	for (guint i = 0; i < f->annexes->len && spooled->pdata[spooled->len - 1] != NULL; i++)
		g_ptr_array_add(spooled,
		                sdr_send_queue_spool(
		                        q, ((SdrActesFile *)f->annexes->pdata[i])->path, error));
	if (spooled->pdata[spooled->len - 1] == NULL)
		return NULL;
	g_free(f->acte_path);
	f->acte_path = g_strdup(spooled->pdata[0]);
	for (guint i = 0; i < f->annexes->len; i++) {
		SdrActesFile *a = f->annexes->pdata[i];
		g_free(a->path);
		a->path = g_strdup(spooled->pdata[i + 1]);
	}
	if (sign) {
		/* The S²LOW login first: the signature reuses it on the same key. */
		conn = conn_get(ctx, MAY_ASK(request), error);
		if (conn == NULL)
			return NULL;
		if (!sign_spooled(ctx, "actes", spooled,
		                  sdr_json_get_string(request, "sign_certificate", NULL), sigs,
		                  error)) {
			conn_put(ctx, conn);
			return NULL;
		}
		f->acte_sign_path = g_strdup(sigs->pdata[0]);
		for (guint i = 0; i < f->annexes->len; i++)
			((SdrActesFile *)f->annexes->pdata[i])->sign_path =
			        g_strdup(sigs->pdata[i + 1]);
	}
	json = actes_request_json(f, sdr_context_get_origin(ctx));
	g_clear_pointer(&q, sdr_send_queue_free);
	return enqueue_and_process(ctx, SDR_SEND_ACTES, json, f->number, conn, MAY_ASK(request),
	                           error);
}

JsonNode *
sdr_handle_send_pes(SdrContext *ctx, JsonObject *request, GError **error)
{
	const char *file = sdr_json_get_string(request, "file", NULL);
	gboolean sign = sdr_json_get_bool(request, "sign", FALSE);
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autofree char *data = NULL;
	g_autofree char *spooled = NULL;
	g_autofree char *base = NULL;
	g_autofree char *json = NULL;
	g_autoptr(JsonObject) o = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) e = NULL;
	S2lowConn *conn = NULL;
	gsize len = 0;

	if (refuse_web_request(ctx, request, error))
		return NULL;
	if (file == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Name the PES file to send."));
		return NULL;
	}
	if (!g_file_get_contents(file, &data, &len, &e)) {
		g_set_error(error, SDR_ERROR,
		            g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)
		                    ? SDR_ERROR_NOT_FOUND
		                    : SDR_ERROR_IO,
		            _("%s cannot be read: %s"), file, e->message);
		return NULL;
	}
	/* What S²LOW checks after import (and would only tell as status -1). */
	if (!sdr_s2low_pes_check((const guint8 *)data, len, error)) {
		g_prefix_error(error, "%s: ", file);
		return NULL;
	}
	if (sdr_context_get_origin(ctx) != NULL) {
		g_autoptr(GPtrArray) paths = g_ptr_array_new();
		g_autoptr(GArray) details = g_array_new(FALSE, FALSE, sizeof(SdrConsentDetail));

		g_ptr_array_add(paths, (char *)file);
		if (!web_send_consent(ctx, "pes", paths, details, error))
			return NULL;
		json_object_set_string_member(o, "origin", sdr_context_get_origin(ctx));
	}
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	spooled = sdr_send_queue_spool(q, file, error);
	if (spooled == NULL)
		return NULL;
	if (sign) {
		g_autoptr(GPtrArray) in = g_ptr_array_new();
		g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
		g_autofree char *signed_data = NULL;

		g_ptr_array_add(in, spooled);
		conn = conn_get(ctx, MAY_ASK(request), error);
		if (conn == NULL)
			return NULL;
		if (!sign_spooled(ctx, "pes", in,
		                  sdr_json_get_string(request, "sign_certificate", NULL), out,
		                  error) ||
		    !g_file_get_contents(out->pdata[0], &signed_data, &len, error) ||
		    !sdr_s2low_pes_check((const guint8 *)signed_data, len, error)) {
			conn_put(ctx, conn);
			return NULL;
		}
		g_free(spooled);
		spooled = g_strdup(out->pdata[0]);
		json_object_set_boolean_member(o, "signed", TRUE);
	}
	base = g_path_get_basename(file);
	json_object_set_string_member(o, "path", spooled);
	json_object_set_string_member(o, "name", base);
	node = json_node_init_object(json_node_alloc(), o);
	json = json_to_string(node, FALSE);
	g_clear_pointer(&q, sdr_send_queue_free);
	return enqueue_and_process(ctx, SDR_SEND_PES, json, NULL, conn, MAY_ASK(request), error);
}

/* Whether the send id was asked by the web page origin (its stored request says so). */
static gboolean
send_is_of_origin(SdrSendQueue *q, gint64 id, const char *origin)
{
	g_autoptr(SdrSend) s = sdr_send_queue_get(q, id, NULL);
	g_autoptr(JsonParser) p = json_parser_new();

	if (s == NULL || s->request == NULL ||
	    !json_parser_load_from_data(p, s->request, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		return FALSE;
	return g_strcmp0(sdr_json_get_string(json_node_get_object(json_parser_get_root(p)),
	                                     "origin", NULL),
	                 origin) == 0;
}

JsonNode *
sdr_handle_status(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(path, error);
	gint64 only = sdr_json_get_int(request, "id", 0);
	gboolean offline = sdr_json_get_bool(request, "offline", FALSE);
	gboolean retry_now = sdr_json_get_bool(request, "retry_now", FALSE);
	const char *origin = sdr_context_get_origin(ctx);
	g_autoptr(GPtrArray) sends = NULL;
	g_autoptr(GError) net = NULL;
	S2lowConn *conn = NULL;
	JsonObject *o;
	JsonArray *a;

	if (q == NULL)
		return NULL;
	if (origin != NULL) {
		/* A web page: one of its own sends, as stored (no PIN asked by a page's
		 * poll: the agent's poller advances the queue). */
		if (only <= 0 || !send_is_of_origin(q, only, origin)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
			            _("There is no send number %lld in the queue."),
			            (long long)only);
			return NULL;
		}
		offline = TRUE;
		retry_now = FALSE;
	}
	if (only > 0) {
		SdrSend *s = sdr_send_queue_get(q, only, error);
		if (s == NULL)
			return NULL;
		sends = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_send_free);
		g_ptr_array_add(sends, s);
	} else {
		sends = sdr_send_queue_list(q, FALSE, error);
		if (sends == NULL)
			return NULL;
	}
	/* Advance what is pending (one login for all). */
	for (guint i = 0; !offline && i < sends->len; i++) {
		SdrSend *s = sends->pdata[i];
		if (s->state == SDR_SEND_FINAL || s->state == SDR_SEND_FAILED ||
		    s->state == SDR_SEND_TO_RECONCILE)
			continue;
		if (conn == NULL && net == NULL)
			conn = conn_get(ctx, MAY_ASK(request), &net);
		if (conn == NULL)
			break;
		/* The person asked now (`sinadur status`): no waiting for the backoff. */
		if (retry_now)
			sdr_send_queue_retry_now(q, s->id, NULL);
		if (!sdr_send_queue_process(q, s->id, sdr_send_ops_client(), conn->client,
		                            g_get_real_time() / G_USEC_PER_SEC, &net))
			g_clear_error(&net);
		if (net == NULL) {
			/* Tried and still not through (unreachable, server error): say so. */
			g_autoptr(SdrSend) now = sdr_send_queue_get(q, s->id, NULL);
			if (now != NULL &&
			    (now->state == SDR_SEND_QUEUED || now->state == SDR_SEND_SENDING) &&
			    now->message != NULL && *now->message != '\0')
				net = g_error_new_literal(SDR_ERROR, SDR_ERROR_NETWORK,
				                          now->message);
		}
	}
	conn_put(ctx, conn);
	o = json_object_new();
	a = json_array_new();
	for (guint i = 0; i < sends->len; i++) {
		SdrSend *old = sends->pdata[i];
		g_autoptr(SdrSend) s = sdr_send_queue_get(q, old->id, NULL);
		json_array_add_object_element(a, send_to_json(s != NULL ? s : old));
	}
	json_object_set_array_member(o, "sends", a);
	if (net != NULL) {
		json_object_set_string_member(o, "network_error", net->message);
		json_object_set_string_member(o, "error_code", sdr_error_code_name(net->code));
	}
	return sdr_json_node_take(o);
}

/* ---- ARActe ------------------------------------------------------------------------ */

/* Writes data to the reserved temporary file tmp (fsync included). */
static gboolean
write_temp(const char *tmp, GBytes *data, GError **error)
{
	gsize len = 0;
	const guint8 *d = g_bytes_get_data(data, &len);
	int fd = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
	gsize done = 0;

	if (fd < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, d + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (gsize)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return TRUE;
fail:
	if (fd >= 0)
		close(fd);
	g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot write %s: %s"), tmp,
	            g_strerror(errno));
	return FALSE;
}

/* What a download fetches for a send. */
typedef enum {
	DL_ARACTE, /* ACTES: the prefecture's acknowledgement (XML) */
	DL_SLIP,   /* ACTES: S²LOW's slip (bordereau, PDF) */
	DL_ACQUIT, /* Hélios: the Treasury's acquit (PES_ACQUIT XML) */
} Download;

/* Whether the send has it yet (else a French error naming the next step). */
static gboolean
download_ready(const SdrSend *s, Download what, GError **error)
{
	gboolean ok;

	switch (what) {
	case DL_ARACTE:
		ok = s->kind == SDR_SEND_ACTES && s->remote_id != NULL && s->has_status &&
		     s->status != -1 && sdr_s2low_actes_status_is_final(s->status);
		break;
	case DL_SLIP:
		ok = s->kind == SDR_SEND_ACTES && s->remote_id != NULL;
		break;
	case DL_ACQUIT:
	default:
		ok = s->kind == SDR_SEND_PES && s->remote_id != NULL && s->has_status &&
		     s->status == 4;
		break;
	}
	if (ok)
		return TRUE;
	if (what == DL_SLIP)
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("Send %lld is not an act received by S²LOW: it has no slip "
		              "(bordereau). See “sinadur status %lld”."),
		            (long long)s->id, (long long)s->id);
	else if (what == DL_ACQUIT)
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("Send %lld has no acquit of the Treasury yet: see “sinadur status "
		              "%lld”."),
		            (long long)s->id, (long long)s->id);
	else
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("Send %lld has no acknowledgement of the prefecture (ARActe) yet: "
		              "see “sinadur status %lld”."),
		            (long long)s->id, (long long)s->id);
	return FALSE;
}

static char *
download_default_name(const SdrSend *s, Download what)
{
	const char *n = s->number != NULL ? s->number : s->remote_id;
	g_autofree char *name = what == DL_ARACTE ? g_strdup_printf("ARActe-%s.xml", n)
	                        : what == DL_SLIP
	                                ? g_strdup_printf("bordereau-%s.pdf", n)
	                                : g_strdup_printf("PES_Acquit-%s.xml", s->remote_id);
	return sdr_s2low_safe_file_name(name);
}

/* The bytes are what was asked for (S²LOW answers 302 or a page otherwise). */
static gboolean
download_check(GBytes *b, Download what, GError **error)
{
	gsize len = 0;
	const char *d = g_bytes_get_data(b, &len);
	gsize head = MIN(len, 4096);
	gboolean ok =
	        len > 0 && (what == DL_SLIP     ? len >= 5 && memcmp(d, "%PDF-", 5) == 0
	                    : what == DL_ARACTE ? g_strstr_len(d, (gssize)head, "ARActe") != NULL
	                                        : g_strstr_len(d, (gssize)head, "ACQUIT") != NULL);

	if (ok)
		return TRUE;
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
	                    what == DL_SLIP     ? _("S²LOW did not answer with a slip (PDF).")
	                    : what == DL_ARACTE ? _("S²LOW did not answer with an acknowledgement "
	                                            "(ARActe).")
	                                        : _("S²LOW did not answer with an acquit."));
	return FALSE;
}

/* long: one download in order (the send, its readiness, the output reserved before
 * the PIN, the request, the check, the atomic publish that never replaces). */
static JsonNode *
download(SdrContext *ctx, JsonObject *request, Download what, GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autoptr(SdrSend) s = NULL;
	g_autoptr(GBytes) data = NULL;
	g_autofree char *output = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *tmp = NULL;
	gint64 id = sdr_json_get_int(request, "id", 0);
	const char *wanted = sdr_json_get_string(request, "output", NULL);
	S2lowConn *conn;
	SdrPublishResult pub;
	JsonObject *o;

	if (refuse_origin(ctx, error))
		return NULL;
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	s = sdr_send_queue_get(q, id, error);
	if (s == NULL)
		return NULL;
	if (what == DL_ARACTE && s->kind == SDR_SEND_PES)
		what = DL_ACQUIT; /* `sinadur ar` of a PES: the acquit */
	if (!download_ready(s, what, error))
		return NULL;
	output = wanted != NULL && *wanted != '\0' ? g_strdup(wanted)
	                                           : download_default_name(s, what);
	/* Before any PIN: never replace a file, and the folder must be writable. */
	if (g_file_test(output, G_FILE_TEST_EXISTS)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("%s already exists: nothing was replaced (choose another name with "
		              "--output)."),
		            output);
		return NULL;
	}
	dir = g_path_get_dirname(output);
	tmp = sdr_file_reserve_temp(dir, 0644, error);
	if (tmp == NULL)
		return NULL;
	conn = conn_get(ctx, MAY_ASK(request), error);
	if (conn != NULL)
		data = what == DL_ARACTE
		               ? sdr_s2low_actes_get_aracte(conn->client, s->remote_id, error)
		       : what == DL_SLIP
		               ? sdr_s2low_actes_get_slip(conn->client, s->remote_id, error)
		               : sdr_s2low_helios_get_acquit(conn->client, s->remote_id, error);
	conn_put(ctx, conn);
	if (data == NULL || !download_check(data, what, error) || !write_temp(tmp, data, error))
		goto fail;
	pub = sdr_file_publish(tmp, output, FALSE, error);
	if (pub == SDR_PUBLISH_EXISTS) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("%s already exists: nothing was replaced (choose another name with "
		              "--output)."),
		            output);
		goto fail;
	}
	if (pub != SDR_PUBLISH_OK)
		goto fail;
	o = json_object_new();
	json_object_set_int_member(o, "id", s->id);
	json_object_set_string_member(o, "transaction", s->remote_id);
	json_object_set_string_member(o, "what",
	                              what == DL_ARACTE ? "aracte"
	                              : what == DL_SLIP ? "bordereau"
	                                                : "acquit");
	json_object_set_string_member(o, "file", output);
	json_object_set_int_member(o, "bytes", (gint64)g_bytes_get_size(data));
	return sdr_json_node_take(o);
fail:
	(void)g_unlink(tmp);
	return NULL;
}

/* "s2low-ar": the ARActe of an act, the acquit of a PES. */
JsonNode *
sdr_handle_s2low_ar(SdrContext *ctx, JsonObject *request, GError **error)
{
	return download(ctx, request, DL_ARACTE, error);
}

/* "s2low-bordereau": S²LOW's slip of an act (actes_create_pdf.php). */
JsonNode *
sdr_handle_s2low_bordereau(SdrContext *ctx, JsonObject *request, GError **error)
{
	return download(ctx, request, DL_SLIP, error);
}

/* ---- Cancel ------------------------------------------------------------------------- */

/* "s2low-cancel": asks S²LOW to cancel an acknowledged act (status 4, the TT
 * right); the cancel is a transaction of its own, queued to be followed to its
 * acknowledgement. */
JsonNode *
sdr_handle_s2low_cancel(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autoptr(SdrSend) s = NULL;
	g_autoptr(SdrSend) c = NULL;
	g_autofree char *cancel_id = NULL;
	g_autofree char *req = NULL;
	gint64 id = sdr_json_get_int(request, "id", 0);
	S2lowConn *conn;
	gint64 row;
	gboolean ok = FALSE;

	if (refuse_origin(ctx, error))
		return NULL;
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	s = sdr_send_queue_get(q, id, error);
	if (s == NULL)
		return NULL;
	if (s->kind != SDR_SEND_ACTES || s->remote_id == NULL || !s->has_status || s->status != 4) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Only an act acknowledged by the prefecture (status 4) can be "
		              "cancelled; send %lld is not: see “sinadur status %lld”."),
		            (long long)id, (long long)id);
		return NULL;
	}
	conn = conn_get(ctx, MAY_ASK(request), error);
	if (conn != NULL)
		ok = sdr_s2low_actes_cancel(conn->client, s->remote_id, &cancel_id, error);
	conn_put(ctx, conn);
	if (!ok)
		return NULL;
	req = g_strdup_printf("{\"cancel_of\":%lld,\"transaction\":\"%s\"}", (long long)s->id,
	                      s->remote_id);
	row = sdr_send_queue_add(q, SDR_SEND_ACTES, req, NULL, error);
	if (row == 0 || !sdr_send_queue_move(q, row, SDR_SEND_QUEUED, SDR_SEND_SENT, cancel_id,
	                                     -10000, "", 0, error))
		return NULL;
	c = sdr_send_queue_get(q, row, error);
	return c != NULL ? sdr_json_node_take(send_to_json(c)) : NULL;
}

/* ---- Classification ---------------------------------------------------------------- */

static int
cmp_codes(gconstpointer a, gconstpointer b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	/* Level by level as numbers: 1.2 < 1.10 < 2. */
	while (*x != '\0' && *y != '\0') {
		gint64 u = g_ascii_strtoll(x, (char **)&x, 10);
		gint64 v = g_ascii_strtoll(y, (char **)&y, 10);
		if (u != v)
			return u < v ? -1 : 1;
		if (*x == '.')
			x++;
		if (*y == '.')
			y++;
	}
	return (*x != '\0') - (*y != '\0');
}

/* "s2low-classification": fetches the authority's classification, caches it, lists
 * its codes ("offline": the cache only). */
JsonNode *
sdr_handle_s2low_classification(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autofree char *cache = classification_cache_path(sdr_context_get_config(ctx));
	g_autoptr(SdrS2lowClassification) cl = NULL;
	g_autoptr(GPtrArray) keys = NULL;
	g_autofree char *old = NULL;
	gboolean older = FALSE;
	JsonObject *o;
	JsonArray *a;

	if (refuse_origin(ctx, error))
		return NULL;
	if (cache == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONFIG,
		                    _("The address of S²LOW is not set: [s2low] url in the "
		                      "configuration (ask your IT department)."));
		return NULL;
	}
	if (sdr_json_get_bool(request, "offline", FALSE)) {
		cl = sdr_s2low_classification_load(cache, error);
	} else {
		S2lowConn *conn = conn_get(ctx, MAY_ASK(request), error);
		if (conn != NULL)
			cl = sdr_s2low_classification_refresh(conn->client, cache, &older, &old,
			                                      error);
		conn_put(ctx, conn);
	}
	if (cl == NULL)
		return NULL;
	o = json_object_new();
	json_object_set_string_member(o, "date", cl->date);
	json_object_set_string_member(o, "cache", cache);
	if (old != NULL)
		json_object_set_string_member(o, "previous_date", old);
	a = json_array_new();
	keys = g_ptr_array_new();
	{
		GHashTableIter it;
		gpointer k;
		g_hash_table_iter_init(&it, cl->codes);
		while (g_hash_table_iter_next(&it, &k, NULL))
			g_ptr_array_add(keys, k);
	}
	g_ptr_array_sort(keys, cmp_codes);
	for (guint i = 0; i < keys->len; i++) {
		JsonObject *e = json_object_new();
		const char *label = g_hash_table_lookup(cl->codes, keys->pdata[i]);
		json_object_set_string_member(e, "code", keys->pdata[i]);
		json_object_set_string_member(e, "label", label != NULL ? label : "");
		json_array_add_object_element(a, e);
	}
	json_object_set_array_member(o, "codes", a);
	return sdr_json_node_take(o);
}

/* ---- PES_Retour ---------------------------------------------------------------------- */

/* Writes one return into dir under its own (sanitised) name, never over a file:
 * a name taken gets "-2", "-3"... The path written, or NULL. */
static char *
save_retour(const char *dir, const SdrPesRetour *r, GBytes *data, GError **error)
{
	g_autofree char *base =
	        sdr_s2low_safe_file_name(r->name != NULL && *r->name != '\0' ? r->name : r->id);
	g_autofree char *tmp = sdr_file_reserve_temp(dir, 0644, error);

	if (tmp == NULL)
		return NULL;
	if (!write_temp(tmp, data, error))
		goto fail;
	for (guint n = 1; n < 1000; n++) {
		g_autofree char *name = n == 1 ? g_strdup(base) : g_strdup_printf("%u-%s", n, base);
		g_autofree char *dest = g_build_filename(dir, name, NULL);
		SdrPublishResult pub = sdr_file_publish(tmp, dest, FALSE, error);

		if (pub == SDR_PUBLISH_OK)
			return g_steal_pointer(&dest);
		if (pub != SDR_PUBLISH_EXISTS)
			goto fail;
		g_clear_error(error);
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot write %s: %s"), base,
	            g_strerror(EEXIST));
fail:
	(void)g_unlink(tmp);
	return NULL;
}

/* "s2low-retours": the unread PES_Retour of the authority; with "output_dir", each
 * (or only "id") fetched into it; marked read ONLY with "mark_read" (other clients
 * of the same authority no longer see a return marked read). */
JsonNode *
sdr_handle_s2low_retours(SdrContext *ctx, JsonObject *request, GError **error)
{
	const char *dir = sdr_json_get_string(request, "output_dir", NULL);
	const char *only = sdr_json_get_string(request, "id", NULL);
	gboolean mark = sdr_json_get_bool(request, "mark_read", FALSE);
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GError) stop = NULL;
	S2lowConn *conn;
	JsonObject *o;
	JsonArray *a;

	if (refuse_origin(ctx, error))
		return NULL;
	if (mark && dir == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("--mark-read only with --output-dir: a return is marked read "
		                      "once it is saved."));
		return NULL;
	}
	if (dir != NULL && g_mkdir_with_parents(dir, 0755) != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s: %s"), dir,
		            g_strerror(errno));
		return NULL;
	}
	conn = conn_get(ctx, MAY_ASK(request), error);
	if (conn == NULL)
		return NULL;
	list = sdr_s2low_helios_list_retours(conn->client, error);
	if (list == NULL) {
		conn_put(ctx, conn);
		return NULL;
	}
	o = json_object_new();
	a = json_array_new();
	for (guint i = 0; i < list->len; i++) {
		SdrPesRetour *r = list->pdata[i];
		JsonObject *e;

		if (only != NULL && !g_str_equal(only, r->id))
			continue;
		e = json_object_new();
		json_object_set_string_member(e, "id", r->id);
		json_object_set_string_member(e, "name", r->name != NULL ? r->name : "");
		json_object_set_string_member(e, "date", r->date != NULL ? r->date : "");
		if (dir != NULL && stop == NULL) {
			g_autoptr(GBytes) b =
			        sdr_s2low_helios_get_retour(conn->client, r->id, &stop);
			g_autofree char *file = b != NULL ? save_retour(dir, r, b, &stop) : NULL;

			if (file != NULL)
				json_object_set_string_member(e, "file", file);
			if (file != NULL && mark &&
			    sdr_s2low_helios_mark_read(conn->client, r->id, &stop))
				json_object_set_boolean_member(e, "marked_read", TRUE);
		}
		json_array_add_object_element(a, e);
	}
	conn_put(ctx, conn);
	json_object_set_array_member(o, "retours", a);
	if (stop != NULL) {
		json_object_set_string_member(o, "network_error", stop->message);
		json_object_set_string_member(o, "error_code", sdr_error_code_name(stop->code));
	}
	return sdr_json_node_take(o);
}
