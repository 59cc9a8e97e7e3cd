/* sdr-context.c - the state handlers share: configuration, token manager
 * (created on first use), trust store, prompt, file signer. */
#include "sdr-context.h"

#include "sdr-audit.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-trust.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#define SDR_MAX_WARN_DAYS 8

struct _SdrContext {
	SdrConfig *config; /* borrowed or owned_config */
	SdrConfig *owned_config;
	SdrPrompt *prompt;
	char *only_module;
	char *origin;
	GCancellable *cancellable;

	GMutex lock;
	SdrTokenManager *tokens;
	X509_STORE *trust;
	GPtrArray *anchor_certs; /* X509* */
	gboolean anchors_loaded;
	SdrSigner *file_signer;
	int warn_days[SDR_MAX_WARN_DAYS];
	gsize n_warn_days;
	char *audit_path;
	SdrContextApprovedFunc approved_func;
	gpointer approved_data;
	SdrProgressFunc progress;
	gpointer progress_data;
	/* Token lock only: the held context whose token manager this one uses for
	 * the current token work (another context's batch keeps its session open). */
	SdrContext *lender;
	/* sdr_context_keep: a logged-in connection over ctx->tokens. */
	char *kept_kind;
	gpointer kept;
	GDestroyNotify kept_free;
};

/* ---- The token lock: one per process ------------------------------------------
 * PKCS#11 modules are initialised once per process and a token is used by one
 * thread at a time, so token work of every context takes this lock (recursive for
 * the thread holding it). One context's token manager is loaded at a time: taking
 * the lock for another context resets the previous one's, unless a batch holds it
 * (its session stays open between two signatures): the other context then uses the
 * held manager (lender) until it unlocks. */
static GMutex token_mutex;
static GCond token_cond;
static GThread *token_owner;
static guint token_depth;
static SdrContext *token_active;
static guint token_holds;
static gint tokens_stale;

static void
token_activate_locked(SdrContext *ctx)
{
	gboolean stale;

	if (token_holds > 0 && token_active != NULL && token_active != ctx) {
		ctx->lender = token_active;
		return;
	}
	stale = token_holds == 0 && g_atomic_int_compare_and_exchange(&tokens_stale, TRUE, FALSE);
	if (token_active != NULL && (token_active != ctx || stale))
		sdr_context_reset_tokens(token_active);
	token_active = ctx;
}

static gboolean
token_acquire(SdrContext *ctx, gboolean wait, guint depth)
{
	GThread *self = g_thread_self();

	g_mutex_lock(&token_mutex);
	if (token_owner != self) {
		while (token_owner != NULL) {
			if (!wait) {
				g_mutex_unlock(&token_mutex);
				return FALSE;
			}
			g_cond_wait(&token_cond, &token_mutex);
		}
		token_owner = self;
	}
	if (token_depth == 0 && ctx != NULL)
		token_activate_locked(ctx);
	token_depth += depth;
	g_mutex_unlock(&token_mutex);
	return TRUE;
}

void
sdr_context_lock_token(SdrContext *ctx)
{
	(void)token_acquire(ctx, TRUE, 1);
}

gboolean
sdr_context_trylock_token(SdrContext *ctx)
{
	return token_acquire(ctx, FALSE, 1);
}

static void
token_release(guint depth)
{
	g_mutex_lock(&token_mutex);
	g_assert(token_owner == g_thread_self() && token_depth >= depth);
	token_depth -= depth;
	if (token_depth == 0) {
		token_owner = NULL;
		g_cond_broadcast(&token_cond);
	}
	g_mutex_unlock(&token_mutex);
}

void
sdr_context_unlock_token(SdrContext *ctx)
{
	g_mutex_lock(&token_mutex);
	if (token_depth == 1)
		ctx->lender = NULL;
	g_mutex_unlock(&token_mutex);
	token_release(1);
}

SdrContext *
sdr_context_lock_token_shared(SdrContext *fallback, gboolean nowait)
{
	SdrContext *ctx;

	if (!token_acquire(NULL, !nowait, 1))
		return NULL;
	g_mutex_lock(&token_mutex);
	ctx = token_active != NULL ? token_active : fallback;
	if (token_depth == 1)
		token_activate_locked(ctx);
	g_mutex_unlock(&token_mutex);
	return ctx;
}

guint
sdr_context_suspend_token(void)
{
	guint depth = 0;

	g_mutex_lock(&token_mutex);
	if (token_owner == g_thread_self())
		depth = token_depth;
	g_mutex_unlock(&token_mutex);
	if (depth > 0)
		token_release(depth);
	return depth;
}

void
sdr_context_resume_token(SdrContext *ctx, guint depth)
{
	if (depth == 0)
		return;
	/* No activation: the caller holds its context (sdr_context_hold_token). */
	(void)token_acquire(NULL, TRUE, depth);
	(void)ctx;
}

void
sdr_context_hold_token(SdrContext *ctx, gboolean hold)
{
	g_mutex_lock(&token_mutex);
	g_assert(token_owner == g_thread_self());
	if (hold)
		token_holds++;
	else if (token_holds > 0)
		token_holds--;
	g_mutex_unlock(&token_mutex);
	(void)ctx;
}

void
sdr_context_tokens_changed(void)
{
	g_atomic_int_set(&tokens_stale, TRUE);
}

static int
cmp_int_desc(gconstpointer a, gconstpointer b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

static void
load_warn_days(SdrContext *ctx)
{
	g_auto(GStrv) days = sdr_config_get_strv(ctx->config, "expiry", "warn_days");

	ctx->n_warn_days = 0;
	for (gsize i = 0; days != NULL && days[i] != NULL; i++) {
		gint64 v = 0;

		if (ctx->n_warn_days >= SDR_MAX_WARN_DAYS)
			break;
		if (!g_ascii_string_to_signed(g_strstrip(days[i]), 10, 0, 3650, &v, NULL))
			continue;
		ctx->warn_days[ctx->n_warn_days++] = (int)v;
	}
	if (ctx->n_warn_days == 0) {
		ctx->warn_days[0] = 90;
		ctx->warn_days[1] = 30;
		ctx->n_warn_days = 2;
	}
	qsort(ctx->warn_days, ctx->n_warn_days, sizeof(int), cmp_int_desc);
}

SdrContext *
sdr_context_new(const SdrContextOptions *options)
{
	SdrContext *ctx = g_new0(SdrContext, 1);
	g_autofree char *crl_dir = NULL;

	g_mutex_init(&ctx->lock);
	if (options != NULL) {
		ctx->config = options->config;
		ctx->prompt = options->prompt;
		ctx->only_module = g_strdup(options->only_module);
		ctx->origin = g_strdup(options->origin);
		if (options->cancellable != NULL)
			ctx->cancellable = g_object_ref(options->cancellable);
		ctx->progress = options->progress;
		ctx->progress_data = options->progress_data;
	}
	if (ctx->config == NULL) {
		ctx->owned_config = sdr_config_new();
		ctx->config = ctx->owned_config;
	}
	load_warn_days(ctx);
	ctx->audit_path = sdr_audit_default_path();
	/* CRLs fetched from distribution points are kept until their nextUpdate
	 * (formats/sdr-revocation.c); the folder is the same for every context. */
	crl_dir = g_build_filename(g_get_user_cache_dir(), "sinadur", "crl", NULL);
	sdr_revocation_set_crl_cache(crl_dir);
	return ctx;
}

void
sdr_context_free(SdrContext *ctx)
{
	if (ctx == NULL)
		return;
	g_mutex_lock(&token_mutex);
	if (token_active == ctx)
		token_active = NULL;
	g_mutex_unlock(&token_mutex);
	sdr_context_drop_kept(ctx);
	sdr_token_manager_free(ctx->tokens);
	if (ctx->trust != NULL)
		X509_STORE_free(ctx->trust);
	if (ctx->anchor_certs != NULL)
		g_ptr_array_unref(ctx->anchor_certs);
	sdr_signer_free(ctx->file_signer);
	sdr_config_free(ctx->owned_config);
	g_clear_object(&ctx->cancellable);
	g_free(ctx->only_module);
	g_free(ctx->origin);
	g_free(ctx->audit_path);
	g_mutex_clear(&ctx->lock);
	g_free(ctx);
}

SdrConfig *
sdr_context_get_config(SdrContext *ctx)
{
	return ctx->config;
}

SdrPrompt *
sdr_context_get_prompt(SdrContext *ctx)
{
	return ctx->prompt;
}

const char *
sdr_context_get_origin(SdrContext *ctx)
{
	return ctx->origin;
}

GCancellable *
sdr_context_get_cancellable(SdrContext *ctx)
{
	return ctx->cancellable;
}

SdrProgressFunc
sdr_context_get_progress(SdrContext *ctx, gpointer *data)
{
	if (data != NULL)
		*data = ctx->progress_data;
	return ctx->progress;
}

SdrTokenManager *
sdr_context_get_token_manager(SdrContext *ctx, GError **error)
{
	SdrTokenManager *tokens;

	if (ctx->lender != NULL)
		return sdr_context_get_token_manager(ctx->lender, error);
	g_mutex_lock(&ctx->lock);
	if (ctx->tokens == NULL) {
		g_auto(GStrv) modules = sdr_config_get_strv(ctx->config, "tokens", "modules");
		g_auto(GStrv) ignore = sdr_config_get_strv(ctx->config, "tokens", "ignore_modules");
		SdrTokenOptions opts = { 0 };

		opts.only_module = ctx->only_module;
		opts.config_modules = modules;
		opts.ignore_modules = ignore;
		opts.isolate_init = TRUE;
		/* Tests: $SINADUR_TEST_NO_DISCOVERY=1 keeps the host's modules out. */
		if (g_strcmp0(g_getenv("SINADUR_TEST_NO_DISCOVERY"), "1") == 0) {
			opts.skip_p11kit = TRUE;
			opts.skip_known = TRUE;
		}
		/* Some modules (OpenSC) reset the process locale in C_Initialize: keep
		 * ours, or the messages fall back to English. */
		g_autofree char *locale = g_strdup(setlocale(LC_ALL, NULL));

		ctx->tokens = sdr_token_manager_new(&opts, error);
		if (locale != NULL && g_strcmp0(setlocale(LC_ALL, NULL), locale) != 0)
			(void)setlocale(LC_ALL, locale);
	}
	tokens = ctx->tokens;
	g_mutex_unlock(&ctx->lock);
	return tokens;
}

/* Takes the kept connection out (ctx->lock held); the caller frees it unlocked. */
static gpointer
kept_steal_locked(SdrContext *ctx, GDestroyNotify *free_func)
{
	gpointer data = g_steal_pointer(&ctx->kept);

	*free_func = ctx->kept_free;
	ctx->kept_free = NULL;
	g_clear_pointer(&ctx->kept_kind, g_free);
	return data;
}

void
sdr_context_reset_tokens(SdrContext *ctx)
{
	GDestroyNotify free_func = NULL;
	gpointer kept;

	g_mutex_lock(&ctx->lock);
	kept = kept_steal_locked(ctx, &free_func);
	g_mutex_unlock(&ctx->lock);
	/* Its session lives on the manager: it goes first. */
	if (kept != NULL && free_func != NULL)
		free_func(kept);
	g_mutex_lock(&ctx->lock);
	g_clear_pointer(&ctx->tokens, sdr_token_manager_free);
	g_mutex_unlock(&ctx->lock);
}

void
sdr_context_drop_kept(SdrContext *ctx)
{
	GDestroyNotify free_func = NULL;
	gpointer kept;

	g_mutex_lock(&ctx->lock);
	kept = kept_steal_locked(ctx, &free_func);
	g_mutex_unlock(&ctx->lock);
	if (kept != NULL && free_func != NULL)
		free_func(kept);
}

void
sdr_context_keep(SdrContext *ctx, const char *kind, gpointer data, GDestroyNotify free_func)
{
	sdr_context_drop_kept(ctx);
	if (data == NULL)
		return;
	if (ctx->lender != NULL) {
		/* Over another context's manager: it may go without telling us. */
		free_func(data);
		return;
	}
	g_mutex_lock(&ctx->lock);
	ctx->kept_kind = g_strdup(kind);
	ctx->kept = data;
	ctx->kept_free = free_func;
	g_mutex_unlock(&ctx->lock);
}

gpointer
sdr_context_take_kept(SdrContext *ctx, const char *kind)
{
	gpointer data = NULL;

	g_mutex_lock(&ctx->lock);
	if (ctx->kept != NULL && g_strcmp0(ctx->kept_kind, kind) == 0) {
		data = g_steal_pointer(&ctx->kept);
		ctx->kept_free = NULL;
		g_clear_pointer(&ctx->kept_kind, g_free);
	}
	g_mutex_unlock(&ctx->lock);
	return data;
}

static void
x509_unref(gpointer p)
{
	X509_free(p);
}

/* Called with the lock held. */
static void
load_anchor_certs(SdrContext *ctx)
{
	g_auto(GStrv) anchors = NULL;

	if (ctx->anchors_loaded)
		return;
	ctx->anchors_loaded = TRUE;
	ctx->anchor_certs = g_ptr_array_new_with_free_func(x509_unref);
	anchors = sdr_config_get_strv(ctx->config, "signature", "trust_anchors");
	for (gsize i = 0; anchors != NULL && anchors[i] != NULL; i++) {
		BIO *bio = BIO_new_file(anchors[i], "r");
		X509 *x;

		if (bio == NULL)
			continue;
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			g_ptr_array_add(ctx->anchor_certs, x);
		BIO_free(bio);
	}
	ERR_clear_error();
}

GPtrArray *
sdr_context_get_anchor_certs(SdrContext *ctx)
{
	GPtrArray *certs;

	g_mutex_lock(&ctx->lock);
	load_anchor_certs(ctx);
	certs = ctx->anchor_certs;
	g_mutex_unlock(&ctx->lock);
	return certs;
}

X509_STORE *
sdr_context_get_trust(SdrContext *ctx, GError **error)
{
	X509_STORE *store;

	g_mutex_lock(&ctx->lock);
	if (ctx->trust == NULL) {
		g_auto(GStrv) anchors =
		        sdr_config_get_strv(ctx->config, "signature", "trust_anchors");
		gboolean system =
		        sdr_config_get_bool(ctx->config, "signature", "system_trust", TRUE);

		ctx->trust = sdr_trust_store_new((const char *const *)anchors, system, error);
	}
	store = ctx->trust;
	g_mutex_unlock(&ctx->lock);
	return store;
}

gboolean
sdr_context_set_signer_files(SdrContext *ctx, const char *key_pem, const char *cert_pem,
                             const char *chain_pem, GError **error)
{
	SdrSigner *signer = sdr_signer_new_from_files(key_pem, cert_pem, chain_pem, error);

	if (signer == NULL)
		return FALSE;
	g_mutex_lock(&ctx->lock);
	sdr_signer_free(ctx->file_signer);
	ctx->file_signer = signer;
	g_mutex_unlock(&ctx->lock);
	return TRUE;
}

SdrSigner *
sdr_context_get_file_signer(SdrContext *ctx)
{
	return ctx->file_signer;
}

const int *
sdr_context_get_warn_days(SdrContext *ctx, gsize *n)
{
	*n = ctx->n_warn_days;
	return ctx->warn_days;
}

void
sdr_context_set_audit_path(SdrContext *ctx, const char *path)
{
	g_free(ctx->audit_path);
	ctx->audit_path = g_strdup(path);
}

const char *
sdr_context_get_audit_path(SdrContext *ctx)
{
	return ctx->audit_path;
}

void
sdr_context_set_approved_func(SdrContext *ctx, SdrContextApprovedFunc func, gpointer data)
{
	ctx->approved_func = func;
	ctx->approved_data = data;
}

gboolean
sdr_context_may_reveal_certificates(SdrContext *ctx)
{
	if (ctx->origin == NULL)
		return TRUE;
	return ctx->approved_func != NULL && ctx->approved_func(ctx->approved_data, ctx->origin);
}
