/* sdr-deploy-nss.c - p11-kit's proxy in the user's NSS databases, for TLS login with
 * the key in Chromium and Chrome (sdr-deploy.h). modutil does the writing: NSS's own
 * tool keeps pkcs11.txt consistent with the databases; we only read pkcs11.txt to
 * know what is there (modutil -list would load every module). */
#include "sdr-deploy.h"

#include "sdr-error.h"
#include "sdr-sanitize.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#define MAX_PKCS11_TXT (1024 * 1024)

static void
nss_item_free(gpointer p)
{
	SdrNssItem *it = p;

	g_free(it->dbdir);
	g_free(it);
}

static GPtrArray *
nss_items_new(void)
{
	return g_ptr_array_new_with_free_func(nss_item_free);
}

/* ~/.pki/nssdb always; $XDG_DATA_HOME/pki/nssdb (newer Chrome) when it exists. */
static GPtrArray *
nss_dbdirs(void)
{
	GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
	char *xdg = g_build_filename(g_get_user_data_dir(), "pki", "nssdb", NULL);

	g_ptr_array_add(dirs, g_build_filename(g_get_home_dir(), ".pki", "nssdb", NULL));
	if (g_file_test(xdg, G_FILE_TEST_IS_DIR) && g_strcmp0(xdg, g_ptr_array_index(dirs, 0)) != 0)
		g_ptr_array_add(dirs, xdg);
	else
		g_free(xdg);
	return dirs;
}

static gboolean
is_opensc(const char *base)
{
	return g_str_equal(base, "opensc-pkcs11.so") ||
	       g_str_equal(base, "onepin-opensc-pkcs11.so");
}

/* What pkcs11.txt lists: PRESENT (a p11-kit proxy), OTHER (OpenSC), else ABSENT;
 * *ours: our own entry (by name) is there. */
static SdrNssState
nss_registered(const char *dbdir, gboolean *ours)
{
	g_autofree char *path = g_build_filename(dbdir, "pkcs11.txt", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	gsize len = 0;
	SdrNssState state = SDR_NSS_ABSENT;

	*ours = FALSE;
	if (!g_file_get_contents(path, &text, &len, NULL) || len > MAX_PKCS11_TXT)
		return SDR_NSS_ABSENT;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *l = g_strstrip(lines[i]);

		if (g_str_has_prefix(l, "name=") && g_str_equal(l + 5, SDR_DEPLOY_NSS_NAME))
			*ours = TRUE;
		if (g_str_has_prefix(l, "library=") && l[8] != '\0') {
			g_autofree char *base = g_path_get_basename(l + 8);

			if (g_str_equal(base, "p11-kit-proxy.so"))
				state = SDR_NSS_PRESENT;
			else if (is_opensc(base) && state == SDR_NSS_ABSENT)
				state = SDR_NSS_OTHER;
		}
	}
	return state;
}

static gboolean
modutil(const char *modutil_path, const char *dbdir, const char *const *args, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GError) e = NULL;
	int status = 0;

	g_ptr_array_add(argv, g_strdup(modutil_path));
	g_ptr_array_add(argv, g_strdup("-dbdir"));
	g_ptr_array_add(argv, g_strconcat("sql:", dbdir, NULL));
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	/* No question asked (modutil would ask to close the browser). */
	g_ptr_array_add(argv, g_strdup("-force"));
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
	                  &out, &err, &status, &e) ||
	    !g_spawn_check_wait_status(status, &e)) {
		const char *why = err != NULL ? g_strstrip(err) : "";
		g_autofree char *shown = NULL;

		if (why[0] == '\0' && out != NULL)
			why = g_strstrip(out);
		/* modutil's own words (it may echo a module's): sanitised, capped. */
		shown = sdr_sanitize_for_display(why[0] != '\0' ? why : e->message, 300);
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED,
		            _("modutil could not change the NSS database %s: %s"), dbdir, shown);
		return FALSE;
	}
	return TRUE;
}

static gboolean
nss_register_one(const char *tool, const char *dbdir, SdrNssItem *it, GError **error)
{
	g_autofree char *cert9 = g_build_filename(dbdir, "cert9.db", NULL);
	gboolean ours;
	const char *create[] = { "-create", NULL };
	const char *add[] = { "-add", SDR_DEPLOY_NSS_NAME, "-libfile", sdr_deploy_p11kit_proxy(),
		              NULL };

	it->state = nss_registered(dbdir, &ours);
	if (it->state != SDR_NSS_ABSENT)
		return TRUE;
	if (!g_file_test(cert9, G_FILE_TEST_EXISTS)) {
		if (g_mkdir_with_parents(dbdir, 0700) != 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s: %s"),
			            dbdir, g_strerror(errno));
			return FALSE;
		}
		if (!modutil(tool, dbdir, create, error))
			return FALSE;
	}
	if (!modutil(tool, dbdir, add, error))
		return FALSE;
	it->state = SDR_NSS_ADDED;
	return TRUE;
}

static gboolean
nss_unregister_one(const char *tool, const char *dbdir, SdrNssItem *it, GError **error)
{
	gboolean ours;
	const char *del[] = { "-delete", SDR_DEPLOY_NSS_NAME, NULL };

	nss_registered(dbdir, &ours);
	it->state = SDR_NSS_ABSENT;
	if (!ours)
		return TRUE;
	if (!modutil(tool, dbdir, del, error))
		return FALSE;
	it->state = SDR_NSS_REMOVED;
	return TRUE;
}

GPtrArray *
sdr_deploy_nss(gboolean remove, GError **error)
{
	g_autofree char *tool = g_find_program_in_path("modutil");
	g_autoptr(GPtrArray) dirs = nss_dbdirs();
	g_autoptr(GPtrArray) items = nss_items_new();

	if (tool == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("modutil is not installed (package libnss3-tools): the key cannot be "
		              "registered for Chromium and Chrome."));
		return NULL;
	}
	if (!remove && !g_file_test(sdr_deploy_p11kit_proxy(), G_FILE_TEST_EXISTS)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("p11-kit's module %s is missing (package p11-kit-modules)."),
		            sdr_deploy_p11kit_proxy());
		return NULL;
	}
	for (guint i = 0; i < dirs->len; i++) {
		const char *dir = g_ptr_array_index(dirs, i);
		SdrNssItem *it = g_new0(SdrNssItem, 1);

		it->dbdir = g_strdup(dir);
		g_ptr_array_add(items, it);
		if (remove ? !nss_unregister_one(tool, dir, it, error)
		           : !nss_register_one(tool, dir, it, error))
			return NULL;
	}
	return g_steal_pointer(&items);
}

GPtrArray *
sdr_deploy_nss_check(void)
{
	g_autoptr(GPtrArray) dirs = nss_dbdirs();
	GPtrArray *items = nss_items_new();

	for (guint i = 0; i < dirs->len; i++) {
		SdrNssItem *it = g_new0(SdrNssItem, 1);
		gboolean ours;

		it->dbdir = g_strdup(g_ptr_array_index(dirs, i));
		it->state = nss_registered(it->dbdir, &ours);
		g_ptr_array_add(items, it);
	}
	return items;
}

gboolean
sdr_deploy_nss_enabled(const SdrConfig *config)
{
	return sdr_config_get_bool(config, "browsers", "nss_register", FALSE);
}

static void
nss_login_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) items = sdr_deploy_nss(FALSE, &e);

	(void)source;
	(void)data;
	(void)cancellable;
	if (items == NULL) {
		g_printerr("sinadur-agent: %s\n", e->message);
	} else {
		for (guint i = 0; i < items->len; i++) {
			const SdrNssItem *it = g_ptr_array_index(items, i);

			if (it->state == SDR_NSS_ADDED)
				g_printerr(
				        _("sinadur-agent: key registered for Chromium and Chrome "
				          "in %s\n"),
				        it->dbdir);
		}
	}
	g_task_return_boolean(task, TRUE);
}

void
sdr_deploy_nss_at_login(const SdrConfig *config)
{
	g_autoptr(GTask) task = NULL;

	if (!sdr_deploy_nss_enabled(config))
		return;
	task = g_task_new(NULL, NULL, NULL, NULL);
	g_task_run_in_thread(task, nss_login_thread);
}
