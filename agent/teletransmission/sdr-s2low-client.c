/* sdr-s2low-client.c - HTTPS to S²LOW with TLS client authentication by the
 * token's key (libcurl + OpenSSL through CURLOPT_SSL_CTX_FUNCTION: never the curl
 * engine path, which hides a wrong PIN). The intermediate CAs go into the
 * handshake (SSL_CTX_add1_chain_cert): S²LOW's RGS check only sees what we send. */
#include "sdr-s2low.h"

#include "sdr-error.h"
#include "sdr-token.h"

#include <curl/curl.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#define SDR_S2LOW_ANSWER_MAX (32u * 1024u * 1024u)

struct _SdrS2lowClient {
	char *url; /* without trailing '/' */
	char *ca_file;
	char *proxy;
	char *login;
	char *password;
	char *classification_cache;
	X509 *cert;
	EVP_PKEY *key;
	GPtrArray *chain;
	long timeout_s;
	CURL *curl;
	gboolean ctx_failed;
	gboolean not_sent; /* the last request certainly never reached the service */
};

/* ---- Certificates ----------------------------------------------------------------- */

gboolean
sdr_s2low_check_auth_cert(X509 *cert, GError **error)
{
	uint32_t ku, xku;
	g_autofree char *cn = NULL;
	X509_NAME *name = X509_get_subject_name(cert);
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	if (idx >= 0) {
		unsigned char *u = NULL;
		if (ASN1_STRING_to_UTF8(
		            &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx))) >= 0) {
			cn = g_strdup((const char *)u);
			OPENSSL_free(u);
		}
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED,
		            _("The certificate of %s has expired: S²LOW will refuse it. Ask your "
		              "certification authority for a new one."),
		            cn != NULL ? cn : "?");
		return FALSE;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED,
		            _("The certificate of %s is not valid yet."), cn != NULL ? cn : "?");
		return FALSE;
	}
	ku = X509_get_key_usage(cert);
	xku = X509_get_extended_key_usage(cert);
	if (!(ku & KU_DIGITAL_SIGNATURE) || !(xku & XKU_SSL_CLIENT)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
		            _("The certificate of %s is not an authentication certificate: it "
		              "cannot connect to S²LOW. Choose the authentication certificate of "
		              "the key ([s2low] certificate)."),
		            cn != NULL ? cn : "?");
		return FALSE;
	}
	return TRUE;
}

static gboolean
is_self_signed(X509 *c)
{
	return X509_check_issued(c, c) == X509_V_OK;
}

GPtrArray *
sdr_s2low_build_chain(X509 *cert, const char *chain_file, GPtrArray *candidates, GError **error)
{
	g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	X509 *cur = cert;

	if (chain_file != NULL && *chain_file != '\0') {
		BIO *bio = BIO_new_file(chain_file, "r");
		X509 *c;

		if (bio == NULL) {
			ERR_clear_error();
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("[s2low] chain_file: %s cannot be read."), chain_file);
			return NULL;
		}
		while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			g_ptr_array_add(pool, c);
		ERR_clear_error();
		BIO_free(bio);
		if (pool->len == 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("[s2low] chain_file: %s holds no PEM certificate."),
			            chain_file);
			return NULL;
		}
	}
	for (guint i = 0; candidates != NULL && i < candidates->len; i++) {
		X509_up_ref(candidates->pdata[i]);
		g_ptr_array_add(pool, candidates->pdata[i]);
	}
	/* Walk up: issuer of cur among the pool, until a self-signed root (not sent). */
	for (guint depth = 0; depth < 8 && !is_self_signed(cur); depth++) {
		X509 *issuer = NULL;
		for (guint i = 0; i < pool->len && issuer == NULL; i++) {
			X509 *c = pool->pdata[i];
			if (c != cur && X509_check_issued(c, cur) == X509_V_OK)
				issuer = c;
		}
		if (issuer == NULL || is_self_signed(issuer))
			break;
		X509_up_ref(issuer);
		g_ptr_array_add(chain, issuer);
		cur = issuer;
	}
	return g_steal_pointer(&chain);
}

/* ---- curl ------------------------------------------------------------------------- */

static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *data)
{
	SdrS2lowClient *c = data;
	SSL_CTX *ctx = sslctx;

	(void)curl;
	if (c->ca_file != NULL &&
	    X509_STORE_load_file(SSL_CTX_get_cert_store(ctx), c->ca_file) != 1) {
		c->ctx_failed = TRUE;
		return CURLE_SSL_CACERT_BADFILE;
	}
	if (SSL_CTX_use_certificate(ctx, c->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, c->key) != 1) {
		c->ctx_failed = TRUE;
		return CURLE_SSL_CERTPROBLEM;
	}
	for (guint i = 0; i < c->chain->len; i++) {
		if (SSL_CTX_add1_chain_cert(ctx, c->chain->pdata[i]) != 1) {
			c->ctx_failed = TRUE;
			return CURLE_SSL_CERTPROBLEM;
		}
	}
	return CURLE_OK;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *data)
{
	GByteArray *buf = data;
	size_t n = size * nmemb;

	if (buf->len + n > SDR_S2LOW_ANSWER_MAX)
		return 0;
	g_byte_array_append(buf, (const guint8 *)ptr, (guint)n);
	return n;
}

SdrS2lowClient *
sdr_s2low_client_new(const SdrS2lowClientOptions *o, GError **error)
{
	SdrS2lowClient *c;
	static gsize curl_once = 0;

	if (o->url == NULL || !g_str_has_prefix(o->url, "https://")) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONFIG,
		                    _("[s2low] url: give the https:// address of S²LOW (e.g. "
		                      "https://s2low.example.fr)."));
		return NULL;
	}
	if (o->cert == NULL || o->key == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		                    _("No authentication certificate for S²LOW."));
		return NULL;
	}
	if (!sdr_s2low_check_auth_cert(o->cert, error))
		return NULL;
	if (g_once_init_enter(&curl_once)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&curl_once, 1);
	}
	c = g_new0(SdrS2lowClient, 1);
	c->url = g_strdup(o->url);
	while (g_str_has_suffix(c->url, "/"))
		c->url[strlen(c->url) - 1] = '\0';
	c->ca_file = o->ca_file != NULL && *o->ca_file != '\0' ? g_strdup(o->ca_file) : NULL;
	c->proxy = o->proxy != NULL && *o->proxy != '\0' ? g_strdup(o->proxy) : NULL;
	c->login = o->login != NULL && *o->login != '\0' ? g_strdup(o->login) : NULL;
	c->password = o->password != NULL ? g_strdup(o->password) : NULL;
	c->classification_cache = g_strdup(o->classification_cache);
	X509_up_ref(o->cert);
	c->cert = o->cert;
	EVP_PKEY_up_ref(o->key);
	c->key = o->key;
	c->chain = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	for (guint i = 0; o->chain != NULL && i < o->chain->len; i++) {
		X509_up_ref(o->chain->pdata[i]);
		g_ptr_array_add(c->chain, o->chain->pdata[i]);
	}
	c->timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
	c->curl = curl_easy_init();
	return c;
}

void
sdr_s2low_client_free(SdrS2lowClient *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	g_free(c->url);
	g_free(c->ca_file);
	g_free(c->proxy);
	g_free(c->login);
	g_free(c->classification_cache);
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		g_free(c->password);
	}
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	g_ptr_array_unref(c->chain);
	g_free(c);
}

gboolean
sdr_s2low_client_last_not_sent(SdrS2lowClient *c)
{
	return c->not_sent;
}

/* The one place where a curl code becomes a GError. */
static void
set_curl_error(SdrS2lowClient *c, GError **error, CURLcode rc, const char *errbuf)
{
	g_autoptr(GError) token = sdr_token_pkey_take_error();
	const char *detail = errbuf != NULL && errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
	gboolean not_sent = FALSE;
	const char *what;

	if (token != NULL) {
		c->not_sent = TRUE; /* failed in the handshake, before any request */
		g_set_error(error, token->domain, token->code,
		            _("The key could not authenticate the connection to S²LOW: %s"),
		            token->message);
		return;
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		not_sent = TRUE;
		what = _("S²LOW cannot be reached (network, address or proxy)");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		not_sent = TRUE;
		what = _("the server is not the S²LOW it claims to be (its certificate is not "
		         "trusted: see [s2low] ca_file)");
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		not_sent = TRUE;
		what = c->ctx_failed ? _("the authentication certificate or key cannot be used")
		                     : _("the secure connection failed (is the certificate "
		                         "accepted by S²LOW?)");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		what = _("no answer in time");
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* TLS 1.3: the server checks our certificate after our side of the handshake,
		 * and answers with an alert. */
		if (strstr(detail, "alert") != NULL) {
			what = _(
			        "S²LOW refused the secure connection (the certificate or its chain "
			        "is not accepted: see [s2low] chain_file)");
			break;
		}
		what = _("the connection broke off");
		break;
	case CURLE_GOT_NOTHING:
		/* The platform closes the connection without a word when it refuses the
		 * certificate's authority after the handshake (or loses an answer). */
		what = _("the platform closed the connection without answering (is the "
		         "certificate accepted by S²LOW? its authority may be unknown to the "
		         "platform)");
		break;
	default:
		what = _("the connection broke off");
		break;
	}
	c->not_sent = not_sent;
	g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK, _("S²LOW: %s (%s)"), what, detail);
}

/* S²LOW's answer when the certificate is shared by several accounts and no (or a
 * wrong) HTTP Basic login came with it: "KO\nLa connexion n'a pas pu être établie"
 * (escaped, in ISO-8859-1, or worse), from every api=1 endpoint. */
static gboolean
auth_refused(GByteArray *body)
{
	g_autofree char *text = NULL;

	if (body->len < 3 || body->len > 512 || memcmp(body->data, "KO\n", 3) != 0)
		return FALSE;
	text = sdr_s2low_decode_text(body->data, body->len);
	return strstr(text, "La connexion n'a pas pu") != NULL;
}

/* One request. mime: POST multipart, or NULL for GET. Returns the body of a 200. */
static GBytes *
request(SdrS2lowClient *c, const char *path, curl_mime *mime, GError **error)
{
	g_autofree char *url = g_strconcat(c->url, path, NULL);
	g_autoptr(GByteArray) body = g_byte_array_new();
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(c->curl, CURLOPT_SSL_CTX_DATA, c);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "sinadur");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->proxy != NULL)
		curl_easy_setopt(c->curl, CURLOPT_PROXY, c->proxy);
	if (c->login != NULL && c->password != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->login);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->password);
	}
	if (mime != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, mime);
		/* A send never goes over a reused connection: libcurl silently sends a
		 * request again when a reused connection closes without an answer, and
		 * S²LOW may have stored the first one (a lost answer must be reconciled,
		 * never resent). */
		curl_easy_setopt(c->curl, CURLOPT_FRESH_CONNECT, 1L);
	}
	c->ctx_failed = FALSE;
	c->not_sent = FALSE;
	{
		GError *stale = sdr_token_pkey_take_error();
		g_clear_error(&stale);
	}
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		set_curl_error(c, error, rc, errbuf);
		return NULL;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 302 || code == 301 || code == 303) {
		g_set_error_literal(
		        error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
		        _("S²LOW did not recognise the certificate (no account is linked "
		          "to it, or the request was too large): ask the S²LOW "
		          "administrator of your authority."));
		return NULL;
	}
	if (code == 401) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
		                    _("S²LOW asks for a login and a password for this certificate "
		                      "([s2low] login)."));
		return NULL;
	}
	if (code != 200) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("S²LOW answered with the HTTP error %ld."), code);
		return NULL;
	}
	if (auth_refused(body)) {
		/* User::authenticate() refused: nothing was looked at, nothing stored. */
		c->not_sent = TRUE;
		if (c->login != NULL)
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("S²LOW refused the login “%s” or its password: nothing was "
			              "sent. Type it again with “sinadur s2low login”."),
			            c->login);
		else
			g_set_error_literal(
			        error, SDR_ERROR, SDR_ERROR_CONFIG,
			        _("This certificate is shared by several S²LOW accounts: S²LOW "
			          "also asks for a login. Set [s2low] login in the configuration, "
			          "then run “sinadur s2low login” (the password goes to the "
			          "desktop keyring)."));
		return NULL;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&body));
}

static char *
escape(const char *s)
{
	g_autofree char *e = g_uri_escape_string(s, NULL, FALSE);
	return g_steal_pointer(&e);
}

static SdrS2lowAnswer *
request_answer(SdrS2lowClient *c, const char *path, curl_mime *mime, GError **error)
{
	g_autoptr(GBytes) b = request(c, path, mime, error);
	gsize len = 0;
	const guint8 *d;

	if (b == NULL)
		return NULL;
	d = g_bytes_get_data(b, &len);
	return sdr_s2low_answer_parse(d, len, error);
}

gboolean
sdr_s2low_check_connection(SdrS2lowClient *c, GError **error)
{
	g_autoptr(SdrS2lowAnswer) a =
	        request_answer(c, "/api/test-connexion.php?api=1", NULL, error);

	if (a == NULL)
		return FALSE;
	if (!a->ok) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
		            _("S²LOW refused the connection: %s"), a->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_s2low_test(SdrS2lowClient *c, gboolean *rgs_ok, GError **error)
{
	g_autoptr(GBytes) rgs = NULL;

	if (!sdr_s2low_check_connection(c, error))
		return FALSE;
	rgs = request(c, "/api/test-rgs.php", NULL, error);
	if (rgs == NULL)
		return FALSE;
	{
		gsize len = 0;
		const char *d = g_bytes_get_data(rgs, &len);
		g_autofree char *t = g_strstrip(g_strndup(d, len));
		*rgs_ok = g_str_equal(t, "OK");
	}
	return TRUE;
}

/* A file part: data from the file, name in ISO-8859-1 as the server expects. */
static gboolean
add_file(curl_mime *mime, const char *field, const char *path, GError **error)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	g_autofree char *safe = sdr_s2low_safe_file_name(path);
	g_autofree char *latin =
	        g_convert_with_fallback(safe, -1, "ISO-8859-1", "UTF-8", "_", NULL, NULL, NULL);

	curl_mime_name(part, field);
	if (curl_mime_filedata(part, path) != CURLE_OK) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("%s cannot be read."), path);
		return FALSE;
	}
	curl_mime_filename(part, latin != NULL ? latin : "document");
	return TRUE;
}

static void
add_field(curl_mime *mime, const char *name, const char *value)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	curl_mime_name(part, name);
	curl_mime_data(part, value, CURL_ZERO_TERMINATED);
}

gboolean
sdr_s2low_actes_create(SdrS2lowClient *c, const SdrActesFields *f, char **id,
                       gboolean *duplicate_number, GError **error)
{
	curl_mime *mime = NULL;
	g_autoptr(SdrS2lowAnswer) a = NULL;
	g_autofree char *subject = NULL;
	g_auto(GStrv) classif = NULL;
	char buf[16];
	gboolean ok = FALSE;

	*duplicate_number = FALSE;
	if (!sdr_actes_fields_check(f, NULL, error))
		return FALSE;
	subject = sdr_s2low_to_latin1(f->subject, error);
	if (subject == NULL)
		return FALSE;
	mime = curl_mime_init(c->curl);
	add_field(mime, "api", "1");
	g_snprintf(buf, sizeof buf, "%d", f->nature);
	add_field(mime, "nature_code", buf);
	/* Only the levels used: an empty classifN makes the server fail. */
	classif = g_strsplit(f->classification, ".", 5);
	for (guint i = 0; classif[i] != NULL; i++) {
		g_snprintf(buf, sizeof buf, "classif%u", i + 1);
		add_field(mime, buf, classif[i]);
	}
	add_field(mime, "number", f->number);
	add_field(mime, "decision_date", f->date);
	add_field(mime, "subject", subject);
	add_field(mime, "type_acte", f->type_acte);
	if (f->en_attente)
		add_field(mime, "en_attente", "1");
	if (!add_file(mime, "acte_pdf_file", f->acte_path, error))
		goto out;
	if (f->acte_sign_path != NULL &&
	    !add_file(mime, "acte_pdf_file_sign", f->acte_sign_path, error))
		goto out;
	for (guint i = 0; i < f->annexes->len; i++) {
		const SdrActesFile *an = f->annexes->pdata[i];
		if (!add_file(mime, "acte_attachments[]", an->path, error))
			goto out;
		add_field(mime, "type_pj[]", an->type_pj);
	}
	/* One signature per annex, in the annexes' order. */
	for (guint i = 0; i < f->annexes->len; i++) {
		const SdrActesFile *an = f->annexes->pdata[i];
		if (an->sign_path != NULL &&
		    !add_file(mime, "acte_attachments_sign[]", an->sign_path, error))
			goto out;
	}
	a = request_answer(c, "/modules/actes/actes_transac_create.php", mime, error);
	if (a == NULL)
		goto out;
	if (!a->ok) {
		g_autofree char *low = g_utf8_strdown(a->message, -1);
		*duplicate_number =
		        strstr(low, "même numéro") != NULL || strstr(low, "meme numero") != NULL;
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE, _("S²LOW refused the act: %s"),
		            a->message);
		goto out;
	}
	if (a->lines[0] == NULL || *a->lines[0] == '\0') {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("S²LOW accepted the act without giving its number."));
		goto out;
	}
	*id = g_strdup(a->lines[0]);
	ok = TRUE;
out:
	curl_mime_free(mime);
	return ok;
}

gboolean
sdr_s2low_actes_status(SdrS2lowClient *c, const char *id, int *status, char **rest, GError **error)
{
	g_autofree char *e = escape(id);
	g_autofree char *path =
	        g_strdup_printf("/modules/actes/actes_transac_get_status.php?transaction=%s", e);
	g_autoptr(GBytes) b = request(c, path, NULL, error);
	gsize len = 0;
	const guint8 *d;

	if (b == NULL)
		return FALSE;
	d = g_bytes_get_data(b, &len);
	return sdr_s2low_actes_status_parse(d, len, status, rest, error);
}

GBytes *
sdr_s2low_actes_get_aracte(SdrS2lowClient *c, const char *id, GError **error)
{
	g_autofree char *e = escape(id);
	g_autofree char *path =
	        g_strdup_printf("/modules/actes/actes_transac_get_ARActe.php?id=%s", e);
	return request(c, path, NULL, error);
}

/* Pages of list_actes.php: on until an empty page (a service may give fewer than
 * asked), at most LIST_PAGES of them. */
#define LIST_LIMIT 500
#define LIST_PAGES 200

gboolean
sdr_s2low_actes_find_number(SdrS2lowClient *c, const char *number, char **id, GError **error)
{
	guint offset = 0;

	*id = NULL;
	for (guint page = 0; page < LIST_PAGES; page++) {
		g_autofree char *path = g_strdup_printf(
		        "/modules/actes/api/list_actes.php?offset=%u&limit=%u", offset, LIST_LIMIT);
		g_autoptr(GBytes) b = request(c, path, NULL, error);
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonNode *root;
		JsonArray *tr;
		guint n;
		gsize len = 0;
		const char *d;

		if (b == NULL)
			return FALSE;
		d = g_bytes_get_data(b, &len);
		if (!json_parser_load_from_data(parser, d, (gssize)len, NULL) ||
		    (root = json_parser_get_root(parser)) == NULL ||
		    !JSON_NODE_HOLDS_OBJECT(root) ||
		    !json_object_has_member(json_node_get_object(root), "transactions")) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
			                    _("The list of acts of S²LOW cannot be read."));
			return FALSE;
		}
		tr = json_object_get_array_member(json_node_get_object(root), "transactions");
		n = tr != NULL ? json_array_get_length(tr) : 0;
		if (n == 0)
			return TRUE; /* listed to the end: not there */
		for (guint i = 0; i < n; i++) {
			JsonNode *e = json_array_get_element(tr, i);
			JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
			const char *num = o != NULL && json_object_has_member(o, "number")
			                          ? json_object_get_string_member_with_default(
			                                    o, "number", NULL)
			                          : NULL;
			if (num != NULL && g_str_equal(num, number) &&
			    json_object_has_member(o, "id")) {
				JsonNode *idn = json_object_get_member(o, "id");
				if (json_node_get_value_type(idn) == G_TYPE_INT64)
					*id = g_strdup_printf("%" G_GINT64_FORMAT,
					                      json_node_get_int(idn));
				else if (json_node_get_value_type(idn) == G_TYPE_STRING)
					*id = g_strdup(json_node_get_string(idn));
				return TRUE;
			}
		}
		offset += n;
	}
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
	                    _("The list of acts of S²LOW cannot be read."));
	return FALSE;
}

SdrHeliosImport *
sdr_s2low_helios_import(SdrS2lowClient *c, const char *path, const char *file_name, GError **error)
{
	curl_mime *mime = curl_mime_init(c->curl);
	curl_mimepart *part;
	g_autoptr(GBytes) b = NULL;
	g_autofree char *safe = sdr_s2low_safe_file_name(file_name != NULL ? file_name : path);
	g_autofree char *latin =
	        g_convert_with_fallback(safe, -1, "ISO-8859-1", "UTF-8", "_", NULL, NULL, NULL);
	SdrHeliosImport *r = NULL;
	gsize len = 0;
	const guint8 *d;

	part = curl_mime_addpart(mime);
	curl_mime_name(part, "enveloppe");
	if (curl_mime_filedata(part, path) != CURLE_OK) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("%s cannot be read."), path);
		curl_mime_free(mime);
		return NULL;
	}
	curl_mime_filename(part, latin != NULL ? latin : "pes.xml");
	curl_mime_type(part, "text/xml");
	b = request(c, "/modules/helios/api/helios_importer_fichier.php", mime, error);
	curl_mime_free(mime);
	if (b == NULL)
		return NULL;
	d = g_bytes_get_data(b, &len);
	r = sdr_s2low_helios_import_parse(d, len, error);
	return r;
}

gboolean
sdr_s2low_helios_status(SdrS2lowClient *c, const char *id, int *status, char **message,
                        GError **error)
{
	g_autofree char *e = escape(id);
	g_autofree char *path = g_strdup_printf(
	        "/modules/helios/api/helios_transac_get_status.php?transaction=%s", e);
	g_autoptr(GBytes) b = request(c, path, NULL, error);
	gsize len = 0;
	const guint8 *d;

	if (b == NULL)
		return FALSE;
	d = g_bytes_get_data(b, &len);
	return sdr_s2low_helios_status_parse(d, len, status, message, error);
}

/* ---- Downloads, cancel, classification, PES_Retour ------------------------------- */

/* GET path?name=<id>. */
static GBytes *
get_with_id(SdrS2lowClient *c, const char *path, const char *name, const char *id, GError **error)
{
	g_autofree char *e = escape(id);
	g_autofree char *full = g_strdup_printf("%s?%s=%s", path, name, e);
	return request(c, full, NULL, error);
}

GBytes *
sdr_s2low_actes_get_classification(SdrS2lowClient *c, GError **error)
{
	return request(c, "/modules/actes/actes_classification_fetch.php?api=1", NULL, error);
}

gboolean
sdr_s2low_actes_cancel(SdrS2lowClient *c, const char *id, char **cancel_id, GError **error)
{
	curl_mime *mime = curl_mime_init(c->curl);
	g_autoptr(SdrS2lowAnswer) a = NULL;
	gboolean ok = FALSE;

	add_field(mime, "api", "1");
	add_field(mime, "id", id);
	a = request_answer(c, "/modules/actes/actes_transac_cancel.php", mime, error);
	curl_mime_free(mime);
	if (a == NULL)
		return FALSE;
	if (!a->ok) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("S²LOW refused to cancel the act: %s"), a->message);
		return FALSE;
	}
	if (a->lines[0] == NULL || *a->lines[0] == '\0' ||
	    strspn(a->lines[0], "0123456789") != strlen(a->lines[0])) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK,
		                    _("S²LOW accepted the cancel without giving its number."));
		return FALSE;
	}
	*cancel_id = g_strdup(a->lines[0]);
	ok = TRUE;
	return ok;
}

GBytes *
sdr_s2low_actes_get_slip(SdrS2lowClient *c, const char *id, GError **error)
{
	return get_with_id(c, "/modules/actes/actes_create_pdf.php", "trans_id", id, error);
}

GBytes *
sdr_s2low_helios_get_acquit(SdrS2lowClient *c, const char *id, GError **error)
{
	return get_with_id(c, "/modules/helios/helios_download_acquit.php", "id", id, error);
}

GPtrArray *
sdr_s2low_helios_list_retours(SdrS2lowClient *c, GError **error)
{
	g_autoptr(GBytes) b = request(c, "/modules/helios/api/helios_get_list.php", NULL, error);
	gsize len = 0;
	const guint8 *d;

	if (b == NULL)
		return NULL;
	d = g_bytes_get_data(b, &len);
	return sdr_s2low_retour_list_parse(d, len, error);
}

GBytes *
sdr_s2low_helios_get_retour(SdrS2lowClient *c, const char *id, GError **error)
{
	g_autoptr(GBytes) b =
	        get_with_id(c, "/modules/helios/api/helios_get_retour.php", "id", id, error);
	gsize len = 0;
	const guint8 *d;

	if (b == NULL)
		return NULL;
	d = g_bytes_get_data(b, &len);
	/* A refusal is plain text ("KO\nAccès refusé"), a return is XML. */
	if (len >= 3 && memcmp(d, "KO\n", 3) == 0) {
		g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse(d, len, error);
		if (a != NULL)
			g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, _("S²LOW refused: %s"),
			            a->message);
		return NULL;
	}
	return g_steal_pointer(&b);
}

gboolean
sdr_s2low_helios_mark_read(SdrS2lowClient *c, const char *id, GError **error)
{
	g_autoptr(GBytes) b =
	        get_with_id(c, "/modules/helios/api/helios_change_status.php", "id", id, error);
	gsize len = 0;
	const char *d;

	if (b == NULL)
		return FALSE;
	d = g_bytes_get_data(b, &len);
	if (g_strstr_len(d, (gssize)len, "<resultat>OK</resultat>") == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PROFILE,
		                    _("S²LOW did not mark the return as read."));
		return FALSE;
	}
	return TRUE;
}

/* ---- The classification cache ------------------------------------------------------ */

SdrS2lowClassification *
sdr_s2low_classification_load(const char *cache_path, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (cache_path == NULL || !g_file_get_contents(cache_path, &data, &len, NULL)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		                    _("No classification of S²LOW in the cache yet."));
		return NULL;
	}
	return sdr_s2low_classification_parse((const guint8 *)data, len, error);
}

SdrS2lowClassification *
sdr_s2low_classification_refresh(SdrS2lowClient *c, const char *cache_path, gboolean *was_older,
                                 char **old_date, GError **error)
{
	g_autoptr(GBytes) b = sdr_s2low_actes_get_classification(c, error);
	g_autoptr(SdrS2lowClassification) fresh = NULL;
	g_autoptr(SdrS2lowClassification) cached = NULL;
	g_autofree char *dir = NULL;
	gsize len = 0;
	const guint8 *d;

	*was_older = FALSE;
	if (old_date != NULL)
		*old_date = NULL;
	if (b == NULL)
		return NULL;
	d = g_bytes_get_data(b, &len);
	fresh = sdr_s2low_classification_parse(d, len, error);
	if (fresh == NULL)
		return NULL;
	cached = sdr_s2low_classification_load(cache_path, NULL);
	/* "YYYY-MM-DD" compares as text. */
	if (cached != NULL && strcmp(cached->date, fresh->date) >= 0)
		return g_steal_pointer(&fresh);
	if (cached != NULL) {
		*was_older = TRUE;
		if (old_date != NULL)
			*old_date = g_strdup(cached->date);
	}
	dir = g_path_get_dirname(cache_path);
	if (g_mkdir_with_parents(dir, 0700) != 0 ||
	    !g_file_set_contents_full(cache_path, (const char *)d, (gssize)len,
	                              G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("The classification cannot be written to %s."), cache_path);
		return NULL;
	}
	return g_steal_pointer(&fresh);
}

gboolean
sdr_s2low_classification_check(SdrS2lowClient *c, const char *code, GError **error)
{
	g_autoptr(SdrS2lowClassification) cl = NULL;
	g_autofree char *old = NULL;
	gboolean older = FALSE;

	if (c->classification_cache == NULL)
		return TRUE;
	cl = sdr_s2low_classification_refresh(c, c->classification_cache, &older, &old, error);
	if (cl == NULL)
		return FALSE;
	if (older) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PROFILE,
		            _("The classification of S²LOW changed (%s, the cache had %s): the "
		              "cache is now up to date; check the classification %s and send the "
		              "act again."),
		            cl->date, old, code);
		return FALSE;
	}
	if (!sdr_s2low_classification_has(cl, code)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The classification %s is not in the classification of S²LOW (%s): "
		              "see “sinadur s2low classification”."),
		            code, cl->date);
		return FALSE;
	}
	return TRUE;
}
