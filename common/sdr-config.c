/* sdr-config.c - layered key files; the policy layer locks. */
#include "sdr-config.h"

#include "sdr-config-build.h"
#include "sdr-error.h"
#include "sdr-file.h"

#include <glib/gi18n-lib.h>

#define SDR_CONFIG_MAX_SIZE (1024 * 1024)
#define N_LAYERS 3

struct _SdrConfig {
	GKeyFile *layers[N_LAYERS];
	char *user_file;
};

SdrConfig *
sdr_config_new(void)
{
	SdrConfig *c = g_new0(SdrConfig, 1);

	for (int i = 0; i < N_LAYERS; i++)
		c->layers[i] = g_key_file_new();
	return c;
}

void
sdr_config_free(SdrConfig *config)
{
	if (config == NULL)
		return;
	for (int i = 0; i < N_LAYERS; i++)
		g_key_file_unref(config->layers[i]);
	g_free(config->user_file);
	g_free(config);
}

const char *
sdr_config_sysconfdir(void)
{
	const char *dir = g_getenv("SINADUR_SYSCONFDIR");

	return dir != NULL && dir[0] != '\0' ? dir : SDR_SYSCONFDIR;
}

const char *
sdr_config_user_file(const SdrConfig *config)
{
	return config->user_file;
}

gboolean
sdr_config_load_data(SdrConfig *config, int layer, const char *data, gsize len, GError **error)
{
	GError *local = NULL;

	g_return_val_if_fail(config != NULL && layer >= 0 && layer < N_LAYERS, FALSE);
	if (len > SDR_CONFIG_MAX_SIZE) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("The configuration is too large."));
		return FALSE;
	}
	if (!g_key_file_load_from_data(config->layers[layer], data, len, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG, "%s", local->message);
		g_error_free(local);
		return FALSE;
	}
	return TRUE;
}

static gboolean
load_layer(SdrConfig *config, int layer, const char *path, GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	GError *local = NULL;
	gsize len;
	const char *data;

	if (path == NULL)
		return TRUE;
	bytes = sdr_file_read(path, SDR_CONFIG_MAX_SIZE, &local);
	if (bytes == NULL) {
		if (g_error_matches(local, SDR_ERROR, SDR_ERROR_NOT_FOUND)) {
			g_error_free(local);
			return TRUE;
		}
		g_propagate_error(error, local);
		return FALSE;
	}
	data = g_bytes_get_data(bytes, &len);
	if (!sdr_config_load_data(config, layer, data != NULL ? data : "", len, &local)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
		            _("The configuration file %s is invalid: %s"), path, local->message);
		g_error_free(local);
		return FALSE;
	}
	return TRUE;
}

SdrConfig *
sdr_config_load_files(const char *defaults_file, const char *user_file, const char *policy_file,
                      GError **error)
{
	g_autoptr(SdrConfig) c = sdr_config_new();

	c->user_file = g_strdup(user_file);
	if (!load_layer(c, 0, defaults_file, error) || !load_layer(c, 1, user_file, error) ||
	    !load_layer(c, 2, policy_file, error))
		return NULL;
	return g_steal_pointer(&c);
}

SdrConfig *
sdr_config_load(const char *user_file, GError **error)
{
	g_autofree char *defaults = g_build_filename(sdr_config_sysconfdir(), "sinadur.conf", NULL);
	g_autofree char *policy = g_build_filename(sdr_config_sysconfdir(), "policy.conf", NULL);
	g_autofree char *user = NULL;

	if (user_file != NULL)
		user = g_strdup(user_file);
	else
		user = g_build_filename(g_get_user_config_dir(), "sinadur", "sinadur.conf", NULL);
	return sdr_config_load_files(defaults, user, policy, error);
}

/* The layer that decides a key: the policy first, then the user, then defaults. */
static GKeyFile *
deciding_layer(const SdrConfig *config, const char *group, const char *key)
{
	g_return_val_if_fail(config != NULL, NULL);
	for (int i = N_LAYERS - 1; i >= 0; i--)
		if (g_key_file_has_key(config->layers[i], group, key, NULL))
			return config->layers[i];
	return NULL;
}

char *
sdr_config_get_string(const SdrConfig *config, const char *group, const char *key,
                      const char *fallback)
{
	GKeyFile *kf = deciding_layer(config, group, key);
	char *v;

	if (kf == NULL)
		return g_strdup(fallback);
	v = g_key_file_get_string(kf, group, key, NULL);
	return v != NULL ? v : g_strdup(fallback);
}

char **
sdr_config_get_strv(const SdrConfig *config, const char *group, const char *key)
{
	GKeyFile *kf = deciding_layer(config, group, key);

	if (kf == NULL)
		return NULL;
	return g_key_file_get_string_list(kf, group, key, NULL, NULL);
}

gint64
sdr_config_get_int(const SdrConfig *config, const char *group, const char *key, gint64 fallback)
{
	GKeyFile *kf = deciding_layer(config, group, key);
	GError *local = NULL;
	gint64 v;

	if (kf == NULL)
		return fallback;
	v = g_key_file_get_int64(kf, group, key, &local);
	if (local != NULL) {
		g_error_free(local);
		return fallback;
	}
	return v;
}

gboolean
sdr_config_get_bool(const SdrConfig *config, const char *group, const char *key, gboolean fallback)
{
	GKeyFile *kf = deciding_layer(config, group, key);
	GError *local = NULL;
	gboolean v;

	if (kf == NULL)
		return fallback;
	v = g_key_file_get_boolean(kf, group, key, &local);
	if (local != NULL) {
		g_error_free(local);
		return fallback;
	}
	return v;
}

gboolean
sdr_config_is_locked(const SdrConfig *config, const char *group, const char *key)
{
	g_return_val_if_fail(config != NULL, FALSE);
	return g_key_file_has_key(config->layers[N_LAYERS - 1], group, key, NULL);
}

gboolean
sdr_config_set_user_string(SdrConfig *config, const char *group, const char *key, const char *value,
                           GError **error)
{
	g_autofree char *data = NULL;
	g_autofree char *dir = NULL;
	gsize len;

	g_return_val_if_fail(config != NULL, FALSE);
	if (sdr_config_is_locked(config, group, key)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_POLICY,
		            _("The setting %s.%s is locked by your administrator."), group, key);
		return FALSE;
	}
	if (config->user_file == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG, _("No user configuration file."));
		return FALSE;
	}
	g_key_file_set_string(config->layers[1], group, key, value);
	data = g_key_file_to_data(config->layers[1], &len, NULL);
	dir = g_path_get_dirname(config->user_file);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s"), dir);
		return FALSE;
	}
	return sdr_file_write_atomic(config->user_file, data, len, error);
}
