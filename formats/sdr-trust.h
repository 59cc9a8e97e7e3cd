/* sdr-trust.h - trust anchors: the system store plus configured RGS bundles. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* A store with the system CAs (unless system is FALSE) and every PEM file in
 * anchors (certificates, bundles). */
X509_STORE *sdr_trust_store_new(const char *const *anchors, gboolean system, GError **error);

G_END_DECLS
