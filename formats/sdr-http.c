/* sdr-http.c - the one HTTP(S) client of formats/ (libcurl): TSA requests and
 * revocation fetches (OCSP, CRL). */
#include "sdr-http.h"

#include "sdr-error.h"

#include <curl/curl.h>
#include <glib/gi18n-lib.h>
#include <string.h>

typedef struct {
	GByteArray *buf;
	gsize max;
	gboolean too_large;
} HttpSink;

static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *user)
{
	HttpSink *sink = user;
	size_t n;

	if (nmemb != 0 && size > G_MAXSIZE / nmemb)
		return 0;
	n = size * nmemb;
	if (n > sink->max || sink->buf->len > sink->max - n) {
		sink->too_large = TRUE;
		return 0;
	}
	g_byte_array_append(sink->buf, (const guint8 *)ptr, (guint)n);
	return n;
}

/* Response headers kept for conditional requests (ETag, Last-Modified). */
typedef struct {
	char *etag;
	char *last_modified;
} HttpHeaders;

#define SDR_HTTP_HEADER_MAX 512

gboolean
sdr_http_header_value(const char *line, gsize len, const char *name, char **value)
{
	gsize n = strlen(name), start, end;

	if (len < n + 1 || len > SDR_HTTP_HEADER_MAX || g_ascii_strncasecmp(line, name, n) != 0 ||
	    line[n] != ':')
		return FALSE;
	start = n + 1;
	end = len;
	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
	                       line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	if (end == start)
		return FALSE;
	for (gsize i = start; i < end; i++) {
		/* printable ASCII only: the value goes back into a request header */
		if ((guchar)line[i] < 0x20 || (guchar)line[i] > 0x7e)
			return FALSE;
	}
	*value = g_strndup(line + start, end - start);
	return TRUE;
}

static size_t
http_header(char *ptr, size_t size, size_t nmemb, void *user)
{
	HttpHeaders *h = user;
	size_t n;
	char *v = NULL;

	if (nmemb != 0 && size > G_MAXSIZE / nmemb)
		return 0;
	n = size * nmemb;
	if (n >= 5 && g_ascii_strncasecmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (after a redirection): forget the previous headers */
		g_clear_pointer(&h->etag, g_free);
		g_clear_pointer(&h->last_modified, g_free);
	} else if (sdr_http_header_value(ptr, n, "ETag", &v)) {
		g_free(h->etag);
		h->etag = v;
	} else if (sdr_http_header_value(ptr, n, "Last-Modified", &v)) {
		g_free(h->last_modified);
		h->last_modified = v;
	}
	return n;
}

static gpointer
curl_init_once(gpointer data)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return NULL;
}

/* long: one libcurl transfer with every option set in one place (protocols, timeouts,
 * size cap, POST or GET with redirections, conditional headers), then its outcome
 * converted into the one error space. */
static GBytes *
http_perform(const char *url, const char *content_type, GBytes *body, gsize max, long timeout_s,
             const SdrHttpConditional *cond, SdrHttpResponse *resp, GError **error)
{
	static GOnce once = G_ONCE_INIT;
	CURL *curl;
	struct curl_slist *headers = NULL;
	HttpSink sink = { g_byte_array_new(), max, FALSE };
	HttpHeaders got = { NULL, NULL };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long status = 0;
	GBytes *result = NULL;

	g_once(&once, curl_init_once, NULL);
	if (url == NULL || (g_ascii_strncasecmp(url, "http://", 7) != 0 &&
	                    g_ascii_strncasecmp(url, "https://", 8) != 0)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK, _("Unsupported URL: %s"),
		            url != NULL ? url : "(null)");
		g_byte_array_unref(sink.buf);
		return NULL;
	}
	curl = curl_easy_init();
	if (curl == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK, "curl_easy_init");
		g_byte_array_unref(sink.buf);
		return NULL;
	}
	/* The proxy comes from the environment (http_proxy, https_proxy, no_proxy), as
	 * libcurl reads it by default. */
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, MIN(10L, timeout_s));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "sinadur");
	if (resp != NULL) {
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, &got);
	}
	if (cond != NULL && cond->etag != NULL && *cond->etag != '\0') {
		g_autofree char *h = g_strdup_printf("If-None-Match: %s", cond->etag);

		headers = curl_slist_append(headers, h);
	}
	if (cond != NULL && cond->last_modified != NULL && *cond->last_modified != '\0') {
		g_autofree char *h = g_strdup_printf("If-Modified-Since: %s", cond->last_modified);

		headers = curl_slist_append(headers, h);
	}
	if (body != NULL) {
		char *h = g_strdup_printf("Content-Type: %s", content_type);

		headers = curl_slist_append(headers, h);
		g_free(h);
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, g_bytes_get_data(body, NULL));
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)g_bytes_get_size(body));
	} else {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	if (headers != NULL)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (sink.too_large) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("The answer of %s is too large"), url);
	} else if (rc != CURLE_OK) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK, _("%s is unreachable: %s"), url,
		            errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	} else if (status == 304 && resp != NULL && cond != NULL) {
		resp->not_modified = TRUE;
		result = g_bytes_new(NULL, 0);
	} else if (status != 200) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("%s answered with HTTP status %ld"), url, status);
	} else {
		result = g_byte_array_free_to_bytes(sink.buf);
		sink.buf = NULL;
	}
	if (result != NULL && resp != NULL) {
		resp->etag = g_steal_pointer(&got.etag);
		resp->last_modified = g_steal_pointer(&got.last_modified);
	}
	g_free(got.etag);
	g_free(got.last_modified);
	if (sink.buf != NULL)
		g_byte_array_unref(sink.buf);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return result;
}

GBytes *
sdr_http_fetch(const char *url, const char *content_type, GBytes *body, gsize max, GError **error)
{
	return http_perform(url, content_type, body, max, 30L, NULL, NULL, error);
}

void
sdr_http_response_clear(SdrHttpResponse *resp)
{
	if (resp == NULL)
		return;
	g_clear_pointer(&resp->body, g_bytes_unref);
	g_clear_pointer(&resp->etag, g_free);
	g_clear_pointer(&resp->last_modified, g_free);
	resp->not_modified = FALSE;
}

gboolean
sdr_http_get_conditional(const char *url, const SdrHttpConditional *cond, gsize max,
                         guint timeout_s, SdrHttpResponse *resp, GError **error)
{
	GBytes *b;

	g_return_val_if_fail(resp != NULL, FALSE);
	memset(resp, 0, sizeof *resp);
	b = http_perform(url, NULL, NULL, max, (long)CLAMP(timeout_s, 1, 3600), cond, resp, error);
	if (b == NULL)
		return FALSE;
	if (resp->not_modified)
		g_bytes_unref(b);
	else
		resp->body = b;
	return TRUE;
}
