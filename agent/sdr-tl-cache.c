/* sdr-tl-cache.c - the trusted lists' cache: download, compare, store (sdr-tl-cache.h). */
#include "sdr-tl-cache.h"

#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-http.h"
#include "sdr-time.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define TL_TIMEOUT_S 120
#define LOTL_GROUP "LOTL"
#define LOTL_FILE "lotl.xml"
#define MAX_COUNTRIES 64

/* ---- configuration --------------------------------------------------------------- */

void
sdr_tl_cache_config_free(SdrTlCacheConfig *cc)
{
	if (cc == NULL)
		return;
	g_free(cc->lotl_url);
	g_ptr_array_unref(cc->signers);
	g_ptr_array_unref(cc->countries);
	g_free(cc->dir);
	g_free(cc);
}

static gboolean
is_territory(const char *t)
{
	return t != NULL && g_ascii_isalpha(t[0]) && g_ascii_isalpha(t[1]) && t[2] == '\0';
}

static gboolean
read_signers(const char *path, GPtrArray *out, GError **error)
{
	BIO *bio = BIO_new_file(path, "r");
	guint before = out->len;
	X509 *x;

	if (bio == NULL) {
		ERR_clear_error();
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("[trust] lotl_signer_certs: cannot read %s."), path);
		return FALSE;
	}
	while (out->len < before + 100 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		g_ptr_array_add(out, x);
	BIO_free(bio);
	ERR_clear_error();
	if (out->len == before) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("[trust] lotl_signer_certs: %s holds no PEM certificate."), path);
		return FALSE;
	}
	return TRUE;
}

SdrTlCacheConfig *
sdr_tl_cache_config_new(const SdrConfig *config, const char *dir, GError **error)
{
	g_autoptr(SdrTlCacheConfig) cc = g_new0(SdrTlCacheConfig, 1);
	g_auto(GStrv) signers = sdr_config_get_strv(config, "trust", "lotl_signer_certs");
	g_auto(GStrv) countries = sdr_config_get_strv(config, "trust", "countries");
	gint64 hours =
	        sdr_config_get_int(config, "trust", "refresh_hours", SDR_TL_DEFAULT_REFRESH_HOURS);

	cc->lotl_url = sdr_config_get_string(config, "trust", "lotl_url", SDR_TL_DEFAULT_LOTL_URL);
	cc->signers = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	cc->countries = g_ptr_array_new_with_free_func(g_free);
	cc->refresh_hours = (guint)CLAMP(hours, 1, 720);
	cc->dir = dir != NULL ? g_strdup(dir)
	                      : g_build_filename(g_get_user_cache_dir(), "sinadur", "tl", NULL);
	for (gsize i = 0; signers != NULL && signers[i] != NULL; i++) {
		g_strstrip(signers[i]);
		if (signers[i][0] != '\0' && !read_signers(signers[i], cc->signers, error))
			return NULL;
	}
	for (gsize i = 0; countries != NULL && countries[i] != NULL; i++) {
		g_strstrip(countries[i]);
		if (countries[i][0] == '\0')
			continue;
		if (!g_str_equal(countries[i], "*") && !is_territory(countries[i])) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("[trust] countries: “%s” is not a country code (FR, BE…) "
			              "nor “*”."),
			            countries[i]);
			return NULL;
		}
		if (cc->countries->len < MAX_COUNTRIES)
			g_ptr_array_add(cc->countries, g_ascii_strup(countries[i], -1));
	}
	if (countries == NULL)
		g_ptr_array_add(cc->countries, g_strdup("FR"));
	return g_steal_pointer(&cc);
}

gboolean
sdr_tl_cache_configured(const SdrTlCacheConfig *cc)
{
	return cc != NULL && cc->lotl_url != NULL && cc->lotl_url[0] != '\0' &&
	       cc->signers->len > 0;
}

/* ---- state.ini ------------------------------------------------------------------- */

static char *
state_path(const SdrTlCacheConfig *cc)
{
	return g_build_filename(cc->dir, "state.ini", NULL);
}

static GKeyFile *
state_load(const SdrTlCacheConfig *cc)
{
	GKeyFile *kf = g_key_file_new();
	g_autofree char *path = state_path(cc);

	/* Our own file; a damaged one is forgotten (the lists are checked anyway). */
	(void)g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL);
	return kf;
}

static gboolean
state_save(const SdrTlCacheConfig *cc, GKeyFile *kf, GError **error)
{
	g_autofree char *path = state_path(cc);
	gsize len = 0;
	g_autofree char *data = g_key_file_to_data(kf, &len, NULL);

	return sdr_file_write_atomic(path, data, len, error);
}

static char *
state_get(GKeyFile *kf, const char *group, const char *key)
{
	char *v = g_key_file_get_string(kf, group, key, NULL);

	if (v != NULL && *v == '\0')
		g_clear_pointer(&v, g_free);
	return v;
}

static void
state_set(GKeyFile *kf, const char *group, const char *key, const char *value)
{
	if (value == NULL)
		(void)g_key_file_remove_key(kf, group, key, NULL);
	else
		g_key_file_set_string(kf, group, key, value);
}

static void
state_set_time(GKeyFile *kf, const char *group, const char *key, GDateTime *t)
{
	g_autofree char *s = sdr_time_to_iso8601(t);

	g_key_file_set_string(kf, group, key, s);
}

/* ---- one list ---------------------------------------------------------------------- */

static SdrTl *
read_cached(const char *path, const char *name)
{
	g_autoptr(GBytes) b = sdr_file_read(path, SDR_TL_MAX_SIZE, NULL);

	if (b == NULL)
		return NULL;
	return sdr_tl_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), name, NULL);
}

typedef struct {
	const SdrTlCacheConfig *cc;
	GKeyFile *state;
	GDateTime *now;
	JsonArray *out;
	guint updated, errors;
} Update;

static void
report(Update *u, const char *territory, const char *url, const char *result, const char *message,
       const SdrTl *tl)
{
	JsonObject *o = json_object_new();

	json_object_set_string_member(o, "territory", territory);
	if (url != NULL)
		json_object_set_string_member(o, "url", url);
	json_object_set_string_member(o, "result", result);
	if (message != NULL)
		json_object_set_string_member(o, "message", message);
	if (tl != NULL)
		json_object_set_int_member(o, "sequence", (gint64)tl->sequence);
	json_array_add_object_element(u->out, o);
	if (g_str_equal(result, "updated"))
		u->updated++;
	else if (g_str_equal(result, "error") || g_str_equal(result, "refused"))
		u->errors++;
}

/* Why a downloaded list may not replace the cached one (translated), or NULL. */
static char *
refusal(SdrTl *fresh, const char *expect_territory, GPtrArray *signers, const char *cached_path,
        gboolean want_lotl, GDateTime *now)
{
	g_autoptr(SdrTl) old = NULL;

	if (want_lotl != sdr_tl_is_lotl(fresh))
		return g_strdup(want_lotl ? _("This is not a list of trusted lists.")
		                          : _("This is a list of lists, not a national list."));
	if (expect_territory != NULL &&
	    (fresh->territory == NULL ||
	     g_ascii_strcasecmp(fresh->territory, expect_territory) != 0))
		return g_strdup_printf(_("The list is for territory “%s”, not %s."),
		                       fresh->territory != NULL ? fresh->territory : "?",
		                       expect_territory);
	if (sdr_tl_check(fresh, signers, now) != SDR_TL_TRUSTED)
		return g_strdup(fresh->status_detail != NULL ? fresh->status_detail
		                                             : sdr_tl_status_name(fresh->status));
	old = read_cached(cached_path, "cache");
	if (old != NULL && old->sequence > fresh->sequence)
		return g_strdup_printf(_("The list is older than the cached one (sequence number "
		                         "%llu < %llu)."),
		                       (unsigned long long)fresh->sequence,
		                       (unsigned long long)old->sequence);
	return NULL;
}

static gboolean
same_bytes(const char *path, GBytes *b)
{
	g_autoptr(GBytes) old = sdr_file_read(path, SDR_TL_MAX_SIZE, NULL);

	return old != NULL && g_bytes_equal(old, b);
}

/* long: one list's download, from the conditional request through the checks that may
 * refuse it to the atomic write, each outcome recorded in state.ini and the answer. */
static void
update_one(Update *u, const char *group, const char *territory, const char *url, const char *file,
           GPtrArray *signers, gboolean want_lotl)
{
	g_autofree char *path = g_build_filename(u->cc->dir, file, NULL);
	g_autofree char *old_url = state_get(u->state, group, "url");
	g_autofree char *etag = state_get(u->state, group, "etag");
	g_autofree char *lm = state_get(u->state, group, "last_modified");
	gboolean cached = g_file_test(path, G_FILE_TEST_IS_REGULAR);
	SdrHttpConditional cond = { NULL, NULL };
	SdrHttpResponse resp = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(SdrTl) fresh = NULL;
	g_autofree char *why = NULL;

	/* Conditional only for what the cache holds, from the same place. */
	if (cached && g_strcmp0(old_url, url) == 0) {
		cond.etag = etag;
		cond.last_modified = lm;
	}
	state_set(u->state, group, "url", url);
	state_set_time(u->state, group, "last_try", u->now);
	if (!sdr_http_get_conditional(url, &cond, SDR_TL_MAX_SIZE, TL_TIMEOUT_S, &resp, &e)) {
		state_set(u->state, group, "result", "error");
		state_set(u->state, group, "error", e->message);
		report(u, territory, url, "error", e->message, NULL);
		return;
	}
	if (resp.not_modified) {
		state_set_time(u->state, group, "fetched", u->now);
		state_set(u->state, group, "result", "not-modified");
		state_set(u->state, group, "error", NULL);
		report(u, territory, url, "not-modified", NULL, NULL);
		goto out;
	}
	fresh = sdr_tl_parse(g_bytes_get_data(resp.body, NULL), g_bytes_get_size(resp.body), file,
	                     &e);
	why = fresh == NULL ? g_strdup(e->message)
	                    : refusal(fresh, want_lotl ? NULL : territory, signers, path, want_lotl,
	                              u->now);
	if (why != NULL) {
		state_set(u->state, group, "result", "refused");
		state_set(u->state, group, "error", why);
		report(u, territory, url, "refused", why, fresh);
		goto out;
	}
	if (cached && same_bytes(path, resp.body)) {
		state_set(u->state, group, "result", "not-modified");
	} else if (!sdr_file_write_atomic(path, g_bytes_get_data(resp.body, NULL),
	                                  g_bytes_get_size(resp.body), &e)) {
		state_set(u->state, group, "result", "error");
		state_set(u->state, group, "error", e->message);
		report(u, territory, url, "error", e->message, fresh);
		goto out;
	} else {
		state_set(u->state, group, "result", "updated");
	}
	state_set(u->state, group, "etag", resp.etag);
	state_set(u->state, group, "last_modified", resp.last_modified);
	state_set_time(u->state, group, "fetched", u->now);
	state_set(u->state, group, "error", NULL);
	{
		g_autofree char *result = state_get(u->state, group, "result");

		report(u, territory, url, result, NULL, fresh);
	}
out:
	sdr_http_response_clear(&resp);
}

/* The XML pointer of the LOTL for territory (the LOTL also points to PDF copies). */
static SdrTlPointer *
find_pointer(SdrTl *lotl, const char *territory)
{
	for (guint i = 0; i < lotl->pointers->len; i++) {
		SdrTlPointer *p = g_ptr_array_index(lotl->pointers, i);
		gboolean xml = (p->mime != NULL && strstr(p->mime, "xml") != NULL) ||
		               (p->mime == NULL && p->location != NULL &&
		                g_str_has_suffix(p->location, ".xml"));

		if (xml && p->location != NULL && p->territory != NULL &&
		    g_ascii_strcasecmp(p->territory, territory) == 0)
			return p;
	}
	return NULL;
}

static gboolean
wanted(const SdrTlCacheConfig *cc, const char *territory)
{
	for (guint i = 0; i < cc->countries->len; i++) {
		const char *c = g_ptr_array_index(cc->countries, i);

		if (g_str_equal(c, "*") || g_ascii_strcasecmp(c, territory) == 0)
			return TRUE;
	}
	return FALSE;
}

/* The territories to fetch, in the configured order ("*": every XML pointer after). */
static GPtrArray *
territories(const SdrTlCacheConfig *cc, SdrTl *lotl)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < cc->countries->len; i++) {
		const char *c = g_ptr_array_index(cc->countries, i);

		if (!g_str_equal(c, "*"))
			g_ptr_array_add(out, g_strdup(c));
	}
	for (guint i = 0; lotl != NULL && i < lotl->pointers->len; i++) {
		SdrTlPointer *p = g_ptr_array_index(lotl->pointers, i);
		g_autofree char *up = p->territory != NULL ? g_ascii_strup(p->territory, -1) : NULL;
		gboolean seen = FALSE;

		if (up == NULL || !is_territory(up) || !wanted(cc, up) ||
		    (lotl->territory != NULL && g_ascii_strcasecmp(up, lotl->territory) == 0))
			continue;
		for (guint j = 0; j < out->len && !seen; j++)
			seen = g_str_equal(g_ptr_array_index(out, j), up);
		if (!seen && out->len < 100)
			g_ptr_array_add(out, g_steal_pointer(&up));
	}
	return out;
}

static int
lock_dir(const SdrTlCacheConfig *cc, GError **error)
{
	g_autofree char *path = g_build_filename(cc->dir, ".lock", NULL);
	int fd;

	if (g_mkdir_with_parents(cc->dir, 0700) != 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		int err = errno;

		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("The trusted lists cache %s cannot be used: %s"), cc->dir,
		            g_strerror(err));
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	return fd;
}

JsonObject *
sdr_tl_cache_update(const SdrTlCacheConfig *cc, GDateTime *now, GError **error)
{
	g_autoptr(GKeyFile) state = NULL;
	g_autoptr(SdrTl) lotl = NULL;
	g_autoptr(GPtrArray) terr = NULL;
	g_autofree char *lotl_path = NULL;
	Update u = { 0 };
	JsonObject *answer;
	int fd;

	if (!sdr_tl_cache_configured(cc)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONFIG,
		                    _("Trusted lists are not configured: [trust] lotl_url and "
		                      "lotl_signer_certs are needed."));
		return NULL;
	}
	fd = lock_dir(cc, error);
	if (fd < 0)
		return NULL;
	state = state_load(cc);
	u.cc = cc;
	u.state = state;
	u.now = now;
	u.out = json_array_new();
	update_one(&u, LOTL_GROUP, "EU", cc->lotl_url, LOTL_FILE, cc->signers, TRUE);
	/* The national lists come from the cached LOTL (new or kept), checked again. */
	lotl_path = g_build_filename(cc->dir, LOTL_FILE, NULL);
	lotl = read_cached(lotl_path, LOTL_FILE);
	if (lotl != NULL && sdr_tl_check(lotl, cc->signers, now) != SDR_TL_TRUSTED)
		g_clear_pointer(&lotl, sdr_tl_free);
	terr = territories(cc, lotl);
	for (guint i = 0; i < terr->len; i++) {
		const char *t = g_ptr_array_index(terr, i);
		SdrTlPointer *p = lotl != NULL ? find_pointer(lotl, t) : NULL;
		g_autofree char *file = g_strdup_printf("%s.xml", t);

		if (p == NULL) {
			report(&u, t, NULL, "error",
			       lotl == NULL ? _("No trusted list of lists to find it in.")
			                    : _("The list of lists has no XML list for this "
			                        "territory."),
			       NULL);
			continue;
		}
		update_one(&u, t, t, p->location, file, p->certs, FALSE);
	}
	{
		g_autoptr(GError) e = NULL;

		if (!state_save(cc, state, &e))
			report(&u, "EU", NULL, "error", e->message, NULL);
	}
	close(fd); /* releases the lock */
	answer = json_object_new();
	json_object_set_array_member(answer, "lists", u.out);
	json_object_set_int_member(answer, "updated", u.updated);
	json_object_set_int_member(answer, "errors", u.errors);
	json_object_set_string_member(answer, "dir", cc->dir);
	return answer;
}

/* ---- reading the cache ------------------------------------------------------------- */

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* lotl.xml first, then the CC.xml files in name order. */
static GPtrArray *
cached_files(const SdrTlCacheConfig *cc)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(cc->dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *n;

	if (d == NULL)
		return out;
	while ((n = g_dir_read_name(d)) != NULL) {
		if (strlen(n) == 6 && g_str_has_suffix(n, ".xml") && g_ascii_isupper(n[0]) &&
		    g_ascii_isupper(n[1]))
			g_ptr_array_add(names, g_strdup(n));
	}
	g_ptr_array_sort(names, cmp_names);
	if (g_file_test(cc->dir, G_FILE_TEST_IS_DIR))
		g_ptr_array_add(out, g_strdup(LOTL_FILE));
	for (guint i = 0; i < names->len; i++)
		g_ptr_array_add(out, g_strdup(g_ptr_array_index(names, i)));
	return out;
}

/* The cached lists (names: the file of each list, in the set's order). */
static SdrTlSet *
load_set(const SdrTlCacheConfig *cc, GDateTime *now, GPtrArray *names)
{
	g_autoptr(SdrTlSet) set = NULL;
	g_autoptr(GPtrArray) files = NULL;
	g_autofree char *lotl_path = g_build_filename(cc->dir, LOTL_FILE, NULL);

	if (!g_file_test(lotl_path, G_FILE_TEST_IS_REGULAR))
		return NULL;
	set = sdr_tl_set_new();
	for (guint i = 0; i < cc->signers->len; i++)
		sdr_tl_set_add_anchor(set, g_ptr_array_index(cc->signers, i));
	files = cached_files(cc);
	for (guint i = 0; i < files->len; i++) {
		const char *name = g_ptr_array_index(files, i);
		g_autofree char *path = g_build_filename(cc->dir, name, NULL);
		g_autoptr(GBytes) b = sdr_file_read(path, SDR_TL_MAX_SIZE, NULL);

		/* A damaged cached file is skipped: the next update replaces it. */
		if (b != NULL &&
		    sdr_tl_set_add_list(set, g_bytes_get_data(b, NULL), g_bytes_get_size(b), name,
		                        NULL) &&
		    names != NULL)
			g_ptr_array_add(names, g_strdup(name));
	}
	sdr_tl_set_check(set, now);
	return g_steal_pointer(&set);
}

SdrTlSet *
sdr_tl_cache_load(const SdrTlCacheConfig *cc, GDateTime *now, GError **error)
{
	(void)error;
	return load_set(cc, now, NULL);
}

/* ---- status -------------------------------------------------------------------------- */

static void
set_time(JsonObject *o, const char *member, GDateTime *t)
{
	if (t != NULL) {
		g_autofree char *s = sdr_time_to_iso8601(t);

		json_object_set_string_member(o, member, s);
	}
}

static void
copy_state(JsonObject *o, GKeyFile *kf, const char *group)
{
	static const char *const keys[][2] = {
		{ "url", "url" },           { "fetched", "fetched" },
		{ "last_try", "last_try" }, { "result", "last_result" },
		{ "error", "last_error" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_autofree char *v = state_get(kf, group, keys[i][0]);

		if (v != NULL && !json_object_has_member(o, keys[i][1]))
			json_object_set_string_member(o, keys[i][1], v);
	}
}

static JsonObject *
list_status(SdrTl *tl, const char *file, GKeyFile *kf, GDateTime *now)
{
	JsonObject *o = json_object_new();
	gboolean lotl = g_str_equal(file, LOTL_FILE);
	g_autofree char *group = lotl ? g_strdup(LOTL_GROUP) : g_strndup(file, 2);

	json_object_set_string_member(o, "territory",
	                              tl->territory != NULL ? tl->territory : group);
	json_object_set_string_member(o, "file", file);
	json_object_set_boolean_member(o, "lotl", lotl);
	if (tl->name != NULL)
		json_object_set_string_member(o, "operator", tl->name);
	json_object_set_int_member(o, "sequence", (gint64)tl->sequence);
	set_time(o, "issued", tl->issued);
	set_time(o, "next_update", tl->next_update);
	json_object_set_string_member(o, "status", sdr_tl_status_name(tl->status));
	if (tl->status_detail != NULL)
		json_object_set_string_member(o, "status_message", tl->status_detail);
	json_object_set_boolean_member(o, "stale",
	                               tl->next_update == NULL ||
	                                       g_date_time_compare(tl->next_update, now) <= 0);
	copy_state(o, kf, group);
	return o;
}

JsonObject *
sdr_tl_cache_status(const SdrTlCacheConfig *cc, GDateTime *now)
{
	JsonObject *out = json_object_new();
	JsonArray *lists = json_array_new(), *countries = json_array_new(),
	          *missing = json_array_new();
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(SdrTlSet) set = load_set(cc, now, names);
	g_autoptr(GKeyFile) kf = state_load(cc);
	gint64 due = sdr_tl_cache_due_in(cc, now);

	json_object_set_string_member(out, "dir", cc->dir);
	json_object_set_string_member(out, "lotl_url", cc->lotl_url);
	json_object_set_boolean_member(out, "configured", sdr_tl_cache_configured(cc));
	json_object_set_int_member(out, "signers", cc->signers->len);
	json_object_set_int_member(out, "refresh_hours", cc->refresh_hours);
	json_object_set_boolean_member(out, "present", set != NULL);
	for (guint i = 0; i < cc->countries->len; i++)
		json_array_add_string_element(countries, g_ptr_array_index(cc->countries, i));
	for (guint i = 0; set != NULL && i < set->lists->len; i++) {
		SdrTl *tl = g_ptr_array_index(set->lists, i);

		json_array_add_object_element(
		        lists, list_status(tl, g_ptr_array_index(names, i), kf, now));
	}
	for (guint i = 0; i < cc->countries->len; i++) {
		const char *c = g_ptr_array_index(cc->countries, i);
		gboolean found = g_str_equal(c, "*");

		for (guint j = 0; set != NULL && !found && j < set->lists->len; j++) {
			SdrTl *tl = g_ptr_array_index(set->lists, j);

			found = !sdr_tl_is_lotl(tl) && tl->territory != NULL &&
			        g_ascii_strcasecmp(tl->territory, c) == 0;
		}
		if (!found)
			json_array_add_string_element(missing, c);
	}
	if (sdr_tl_cache_configured(cc)) {
		g_autoptr(GDateTime) next = g_date_time_add_seconds(now, (gdouble)due);

		set_time(out, "next_refresh", next);
	}
	json_object_set_array_member(out, "countries", countries);
	json_object_set_array_member(out, "lists", lists);
	json_object_set_array_member(out, "missing", missing);
	return out;
}

gint64
sdr_tl_cache_due_in(const SdrTlCacheConfig *cc, GDateTime *now)
{
	g_autoptr(GKeyFile) kf = state_load(cc);
	g_autofree char *fetched = state_get(kf, LOTL_GROUP, "fetched");
	g_autoptr(GDateTime) last = fetched != NULL ? sdr_time_parse_iso8601(fetched) : NULL;
	g_autoptr(SdrTlSet) set = NULL;
	gint64 due;

	if (last == NULL)
		return 0;
	due = g_date_time_difference(last, now) / G_TIME_SPAN_SECOND +
	      (gint64)cc->refresh_hours * 3600;
	set = sdr_tl_cache_load(cc, now, NULL);
	if (set == NULL)
		return 0;
	for (guint i = 0; i < set->lists->len; i++) {
		SdrTl *tl = g_ptr_array_index(set->lists, i);

		if (tl->next_update != NULL)
			due = MIN(due, g_date_time_difference(tl->next_update, now) /
			                       G_TIME_SPAN_SECOND);
	}
	for (guint i = 0; i < cc->countries->len; i++) {
		const char *c = g_ptr_array_index(cc->countries, i);
		gboolean found = g_str_equal(c, "*");

		for (guint j = 0; !found && j < set->lists->len; j++) {
			SdrTl *tl = g_ptr_array_index(set->lists, j);

			found = !sdr_tl_is_lotl(tl) && tl->territory != NULL &&
			        g_ascii_strcasecmp(tl->territory, c) == 0;
		}
		if (!found)
			return 0;
	}
	return MAX(due, 0);
}
