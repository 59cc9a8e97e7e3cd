/* sdr-context.h - what handlers (and the CLI/agent) need from an SdrContext
 * beyond sdr-handler.h: the configuration, the lazily created token manager,
 * the trust store, the prompt, and the CLI-only file signer.
 *
 * Thread use: a context may be shared by threads; the token manager is created
 * under a lock, but the token itself is used by one thread at a time (the
 * caller serialises handlers with needs_token, as sdr-handler.h says).
 */
#pragma once

#include "sdr-handler.h"
#include "sdr-signer.h"
#include "sdr-token.h"

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

SdrConfig *sdr_context_get_config(SdrContext *ctx);         /* never NULL */
SdrPrompt *sdr_context_get_prompt(SdrContext *ctx);         /* may be NULL */
const char *sdr_context_get_origin(SdrContext *ctx);        /* NULL for the CLI/GUI */
GCancellable *sdr_context_get_cancellable(SdrContext *ctx); /* may be NULL */

/* The token manager, created on first use with the options of the configuration
 * ([tokens] modules, ignore_modules) and --module. Borrowed. */
SdrTokenManager *sdr_context_get_token_manager(SdrContext *ctx, GError **error);
/* Forgets the token manager (after a PC/SC event, or to unload modules); the next
 * call to sdr_context_get_token_manager() enumerates again. */
void sdr_context_reset_tokens(SdrContext *ctx);

/* The trust store: system CAs + [signature] trust_anchors. Borrowed. */
X509_STORE *sdr_context_get_trust(SdrContext *ctx, GError **error);
/* Certificates of [signature] trust_anchors (X509* borrowed, may be empty). */
GPtrArray *sdr_context_get_anchor_certs(SdrContext *ctx);

/* CLI only (tests, demo without a token): sign with a PEM key and certificate.
 * Once set, "sign" uses this instead of a token and "certificates" lists it. */
gboolean sdr_context_set_signer_files(SdrContext *ctx, const char *key_pem, const char *cert_pem,
                                      const char *chain_pem, GError **error);
SdrSigner *sdr_context_get_file_signer(SdrContext *ctx); /* borrowed, may be NULL */

/* The [expiry] warn_days thresholds, largest first (default 90, 30). */
const int *sdr_context_get_warn_days(SdrContext *ctx, gsize *n);

/* Audit log path override (tests); NULL = $XDG_STATE_HOME/sinadur/audit.log. */
void sdr_context_set_audit_path(SdrContext *ctx, const char *path);
const char *sdr_context_get_audit_path(SdrContext *ctx);

G_END_DECLS
