/* sdr-http.h - the one HTTP(S) client of formats/ (libcurl), shared by the TSA
 * client (sdr-tsa.c), revocation (sdr-revocation.c) and the agent's trusted-list
 * downloads (conditional GET). Defined in sdr-http.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Response size caps. */
#define SDR_HTTP_TSA_MAX ((gsize)1024 * 1024)
#define SDR_HTTP_OCSP_MAX ((gsize)1024 * 1024)
#define SDR_HTTP_CRL_MAX ((gsize)32 * 1024 * 1024)

/* HTTP(S) GET (body == NULL) or POST of body with content_type; the answer must be
 * a 200 of at most max bytes. SDR_ERROR_NETWORK / SDR_ERROR_TOO_LARGE otherwise. */
GBytes *sdr_http_fetch(const char *url, const char *content_type, GBytes *body, gsize max,
                       GError **error);

/* ---- Conditional GET (trusted lists) ------------------------------------------- */

typedef struct {
	const char *etag;          /* sent as If-None-Match, may be NULL */
	const char *last_modified; /* sent as If-Modified-Since, may be NULL */
} SdrHttpConditional;

typedef struct {
	GBytes *body;          /* the 200's body; NULL when not_modified */
	gboolean not_modified; /* the server answered 304 to a conditional request */
	char *etag; /* the answer's ETag / Last-Modified (printable ASCII), may be NULL */
	char *last_modified;
} SdrHttpResponse;

/* GET url with If-None-Match / If-Modified-Since from cond (may be NULL); a 200 of
 * at most max bytes or a 304 (only when cond is given) succeed, within timeout_s
 * seconds (1..3600). The proxy is libcurl's from the environment. resp is
 * overwritten: clear it with sdr_http_response_clear(). */
gboolean sdr_http_get_conditional(const char *url, const SdrHttpConditional *cond, gsize max,
                                  guint timeout_s, SdrHttpResponse *resp, GError **error);
void sdr_http_response_clear(SdrHttpResponse *resp);

/* Parses one response header line "Name: value" (CRLF allowed) for name
 * (case-insensitive): TRUE with *value (g_free) when it is that header and its value
 * is non-empty printable ASCII of at most 512 bytes in all. For the header callback
 * and its fuzz harness. */
gboolean sdr_http_header_value(const char *line, gsize len, const char *name, char **value);

G_END_DECLS
