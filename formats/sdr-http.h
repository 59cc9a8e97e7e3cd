/* sdr-http.h - the one HTTP(S) client of formats/ (libcurl), shared by the TSA
 * client (sdr-tsa.c) and revocation (sdr-revocation.c). Defined in sdr-http.c.
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

G_END_DECLS
