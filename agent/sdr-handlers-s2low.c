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

/* The authentication certificate: [s2low] certificate, or the single fitting one. */
static SdrCertInfo *
choose_auth_cert(SdrContext *ctx, GPtrArray *all, GError **error)
{
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
conn_open(SdrContext *ctx, GError **error)
{
	SdrConfig *config = sdr_context_get_config(ctx);
	g_autofree char *url = sdr_config_get_string(config, "s2low", "url", NULL);
	g_autofree char *ca_file = sdr_config_get_string(config, "s2low", "ca_file", NULL);
	g_autofree char *proxy = sdr_config_get_string(config, "s2low", "proxy", NULL);
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
	cert = all != NULL ? choose_auth_cert(ctx, all, error) : NULL;
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
conn_get(SdrContext *ctx, GError **error)
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
	return conn_open(ctx, error);
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

/* Processes the send (and answers it). */
static JsonNode *
enqueue_and_process(SdrContext *ctx, SdrSendKind kind, const char *request_json, const char *number,
                    GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(path, error);
	g_autoptr(SdrSend) s = NULL;
	g_autoptr(GError) net = NULL;
	S2lowConn *conn;
	JsonObject *o;
	gint64 id;

	if (q == NULL)
		return NULL;
	id = sdr_send_queue_add(q, kind, request_json, number, error);
	if (id == 0)
		return NULL;
	conn = conn_get(ctx, &net);
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
	conn = conn_get(ctx, error);
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

JsonNode *
sdr_handle_send_actes(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autoptr(SdrActesFields) f = sdr_actes_fields_new();
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	JsonArray *annexes = NULL;
	const char *nature;

	if (refuse_origin(ctx, error))
		return NULL;
	nature = sdr_json_get_string(request, "nature", NULL);
	f->nature = sdr_actes_nature_from_string(nature);
	f->classification = g_strdup(sdr_json_get_string(request, "classification", NULL));
	f->number = g_strdup(sdr_json_get_string(request, "number", NULL));
	f->date = g_strdup(sdr_json_get_string(request, "date", NULL));
	f->subject = g_strdup(sdr_json_get_string(request, "subject", NULL));
	f->type_acte = g_strdup(sdr_json_get_string(request, "type_acte", NULL));
	f->acte_path = g_strdup(sdr_json_get_string(request, "acte", NULL));
	if (json_object_has_member(request, "annexes"))
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
	/* S²LOW's rules first: nothing is queued that it would refuse. */
	if (!sdr_actes_fields_check(f, NULL, error))
		return NULL;
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "nature");
	json_builder_add_int_value(b, f->nature);
	json_builder_set_member_name(b, "classification");
	json_builder_add_string_value(b, f->classification);
	json_builder_set_member_name(b, "number");
	json_builder_add_string_value(b, f->number);
	json_builder_set_member_name(b, "date");
	json_builder_add_string_value(b, f->date);
	json_builder_set_member_name(b, "subject");
	json_builder_add_string_value(b, f->subject);
	json_builder_set_member_name(b, "type_acte");
	json_builder_add_string_value(b, f->type_acte);
	{
		g_autofree char *spooled = sdr_send_queue_spool(q, f->acte_path, error);
		if (spooled == NULL)
			return NULL;
		json_builder_set_member_name(b, "acte");
		json_builder_add_string_value(b, spooled);
	}
	json_builder_set_member_name(b, "annexes");
	json_builder_begin_array(b);
	for (guint i = 0; i < f->annexes->len; i++) {
		SdrActesFile *a = f->annexes->pdata[i];
		g_autofree char *spooled = sdr_send_queue_spool(q, a->path, error);
		if (spooled == NULL)
			return NULL;
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "path");
		json_builder_add_string_value(b, spooled);
		json_builder_set_member_name(b, "type_pj");
		json_builder_add_string_value(b, a->type_pj);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json = json_generator_to_data(gen, NULL);
	g_clear_pointer(&q, sdr_send_queue_free);
	return enqueue_and_process(ctx, SDR_SEND_ACTES, json, f->number, error);
}

JsonNode *
sdr_handle_send_pes(SdrContext *ctx, JsonObject *request, GError **error)
{
	const char *file = sdr_json_get_string(request, "file", NULL);
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autofree char *data = NULL;
	g_autofree char *spooled = NULL;
	g_autofree char *base = NULL;
	g_autofree char *json = NULL;
	g_autoptr(JsonObject) o = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) e = NULL;
	gsize len = 0;

	if (refuse_origin(ctx, error))
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
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	spooled = sdr_send_queue_spool(q, file, error);
	if (spooled == NULL)
		return NULL;
	base = g_path_get_basename(file);
	json_object_set_string_member(o, "path", spooled);
	json_object_set_string_member(o, "name", base);
	node = json_node_init_object(json_node_alloc(), o);
	json = json_to_string(node, FALSE);
	g_clear_pointer(&q, sdr_send_queue_free);
	return enqueue_and_process(ctx, SDR_SEND_PES, json, NULL, error);
}

JsonNode *
sdr_handle_status(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(path, error);
	gint64 only = sdr_json_get_int(request, "id", 0);
	gboolean offline = sdr_json_get_bool(request, "offline", FALSE);
	g_autoptr(GPtrArray) sends = NULL;
	g_autoptr(GError) net = NULL;
	S2lowConn *conn = NULL;
	JsonObject *o;
	JsonArray *a;

	if (q == NULL)
		return NULL;
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
			conn = conn_get(ctx, &net);
		if (conn == NULL)
			break;
		if (!sdr_send_queue_process(q, s->id, sdr_send_ops_client(), conn->client,
		                            g_get_real_time() / G_USEC_PER_SEC, &net))
			g_clear_error(&net);
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

JsonNode *
sdr_handle_s2low_ar(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autofree char *path = queue_path();
	g_autoptr(SdrSendQueue) q = NULL;
	g_autoptr(SdrSend) s = NULL;
	g_autoptr(GBytes) xml = NULL;
	g_autofree char *output = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *tmp = NULL;
	gint64 id = sdr_json_get_int(request, "id", 0);
	const char *wanted = sdr_json_get_string(request, "output", NULL);
	S2lowConn *conn;
	SdrPublishResult pub;
	JsonObject *o;
	gsize len = 0;
	const char *d;

	if (refuse_origin(ctx, error))
		return NULL;
	q = sdr_send_queue_open(path, error);
	if (q == NULL)
		return NULL;
	s = sdr_send_queue_get(q, id, error);
	if (s == NULL)
		return NULL;
	if (s->kind != SDR_SEND_ACTES || s->remote_id == NULL || !s->has_status ||
	    s->status == -1 || !sdr_s2low_actes_status_is_final(s->status)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("Send %lld has no acknowledgement of the prefecture (ARActe) yet: "
		              "see “sinadur status %lld”."),
		            (long long)id, (long long)id);
		return NULL;
	}
	if (wanted != NULL && *wanted != '\0') {
		output = g_strdup(wanted);
	} else {
		g_autofree char *name = g_strdup_printf(
		        "ARActe-%s.xml", s->number != NULL ? s->number : s->remote_id);
		g_autofree char *safe = sdr_s2low_safe_file_name(name);
		output = g_strdup(safe);
	}
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
	conn = conn_get(ctx, error);
	if (conn != NULL)
		xml = sdr_s2low_actes_get_aracte(conn->client, s->remote_id, error);
	conn_put(ctx, conn);
	if (xml == NULL)
		goto fail;
	d = g_bytes_get_data(xml, &len);
	if (len == 0 || g_strstr_len(d, (gssize)MIN(len, 4096), "ARActe") == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("S²LOW did not answer with an acknowledgement (ARActe)."));
		goto fail;
	}
	if (!write_temp(tmp, xml, error))
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
	json_object_set_string_member(o, "file", output);
	json_object_set_int_member(o, "bytes", (gint64)len);
	return sdr_json_node_take(o);
fail:
	(void)g_unlink(tmp);
	return NULL;
}
