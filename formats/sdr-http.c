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

static gpointer
curl_init_once(gpointer data)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return NULL;
}

GBytes *
sdr_http_fetch(const char *url, const char *content_type, GBytes *body, gsize max, GError **error)
{
	static GOnce once = G_ONCE_INIT;
	CURL *curl;
	struct curl_slist *headers = NULL;
	HttpSink sink = { g_byte_array_new(), max, FALSE };
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
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "sinadur");
	if (body != NULL) {
		char *h = g_strdup_printf("Content-Type: %s", content_type);

		headers = curl_slist_append(headers, h);
		g_free(h);
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, g_bytes_get_data(body, NULL));
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)g_bytes_get_size(body));
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	} else {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (sink.too_large) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("The answer of %s is too large"), url);
	} else if (rc != CURLE_OK) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK, _("%s is unreachable: %s"), url,
		            errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	} else if (status != 200) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("%s answered with HTTP status %ld"), url, status);
	} else {
		result = g_byte_array_free_to_bytes(sink.buf);
		sink.buf = NULL;
	}
	if (sink.buf != NULL)
		g_byte_array_unref(sink.buf);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return result;
}
