/* sdr-context.h - what handlers (and the CLI/agent) need from an SdrContext
 * beyond sdr-handler.h: the configuration, the lazily created token manager,
 * the trust store, the prompt, and the CLI-only file signer.
 *
 * Thread use: a context may be shared by threads; the token manager is created
 * under a lock, and token work takes the core's token lock (below): the handler
 * runner takes it for tokens/certificates/doctor, the sign engine only around
 * listing, login and each signature (never around a prompt).
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

/* Where progress goes (SdrContextOptions.progress), may be NULL. */
SdrProgressFunc sdr_context_get_progress(SdrContext *ctx, gpointer *data);

/* The token lock, one per process (PKCS#11 modules are loaded once per process),
 * recursive for its holder. Taking it for ctx makes ctx's token manager the loaded
 * one (the previous context's is reset), unless a batch holds the token
 * (sdr_context_hold_token): ctx then uses that batch's manager until it unlocks. */
void sdr_context_lock_token(SdrContext *ctx);
gboolean sdr_context_trylock_token(SdrContext *ctx);
void sdr_context_unlock_token(SdrContext *ctx);
/* Locks (or, nowait, tries: NULL when busy) and returns the context whose token
 * manager is loaded, or fallback when none is: token work that does not depend on
 * the origin (the bridge's certificate list) never reloads the modules. Unlock
 * with sdr_context_unlock_token(returned). */
SdrContext *sdr_context_lock_token_shared(SdrContext *fallback, gboolean nowait);
/* Called by the token lock's holder: keeps ctx's token manager loaded (a session
 * open) while the lock is released between two signatures or for a prompt. */
void sdr_context_hold_token(SdrContext *ctx, gboolean hold);
/* For a prompt: releases the lock fully when this thread holds it; returns the
 * depth to give back to sdr_context_resume_token (0: it was not held). */
guint sdr_context_suspend_token(void);
void sdr_context_resume_token(SdrContext *ctx, guint depth);
/* A PC/SC insertion or removal: the next token work (with no batch holding the
 * token) enumerates again. Any thread. */
void sdr_context_tokens_changed(void);

/* A logged-in connection kept between handler calls (the S²LOW client over its token
 * session: one PIN entry while the key stays in). Used under the token lock only.
 * It goes (free_func, before the token manager it uses) when the token manager does:
 * sdr_context_reset_tokens, a PC/SC event, another context's token work, the
 * context's end; and before any signing login (sdr_context_drop_kept): a kept login
 * must never let a signature through without its own PIN. Not kept (freed at once)
 * while ctx borrows another context's held token manager. */
void sdr_context_keep(SdrContext *ctx, const char *kind, gpointer data, GDestroyNotify free_func);
/* The kept connection of this kind, handed back to the caller (keep it again after
 * use), or NULL. */
gpointer sdr_context_take_kept(SdrContext *ctx, const char *kind);
void sdr_context_drop_kept(SdrContext *ctx);

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

/* Whether the person approved the context's origin (first use: "this site may
 * see my certificates"); set by the bridge, which keeps the approvals. Until
 * then no answer to that origin may say anything about the certificates or
 * keys, not even how many there are. */
typedef gboolean (*SdrContextApprovedFunc)(gpointer data, const char *origin);
void sdr_context_set_approved_func(SdrContext *ctx, SdrContextApprovedFunc func, gpointer data);
/* TRUE without an origin (CLI, GUI); with one, only once it is approved (FALSE
 * when nobody set an approval function). */
gboolean sdr_context_may_reveal_certificates(SdrContext *ctx);

G_END_DECLS
