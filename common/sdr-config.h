/* sdr-config.h - configuration: GLib key files (INI), in layers.
 *
 * Lowest first:
 *   1. SYSCONFDIR/sinadur.conf   administrator defaults (the user may override them)
 *   2. the user file             ~/.config/sinadur/sinadur.conf, or the --config FILE
 *   3. SYSCONFDIR/policy.conf    administrator policy: every key set there is locked
 * SYSCONFDIR is /etc/sinadur unless $SINADUR_SYSCONFDIR names another folder (tests,
 * packaging checks). A missing file is an empty layer; a malformed one is an error
 * (SDR_ERROR_CONFIG, naming the file and the line).
 *
 * Keys in use (documented in docs/admin-guide.md):
 *   [tokens] modules (list), ignore_modules (list), protected_auth (bool)
 *   [signature] tsa_url, level, hash, trust_anchors (list of PEM files), city, postal_code,
 *               country, role, pes_policy_hash, pes_policy_uri
 *   [bridge] port, allowed_origins (list), test_origins (list, loopback http: tests only),
 *            max_body_mb, nexu (bool), consent_timeout_s
 *   [expiry] warn_days (list of ints)
 *   [trust] tl_dir, lotl_url, lotl_signer_certs (list), countries (list), refresh_hours
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdrConfig SdrConfig;

/* Loads the three layers; user_file NULL means the XDG default. */
SdrConfig *sdr_config_load(const char *user_file, GError **error);
/* Same with explicit paths; any may be NULL (empty layer). */
SdrConfig *sdr_config_load_files(const char *defaults_file, const char *user_file,
                                 const char *policy_file, GError **error);
/* An empty configuration (every getter returns its fallback). */
SdrConfig *sdr_config_new(void);
/* Parses one layer from memory (fuzzing, tests); layer 0..2 as above. */
gboolean sdr_config_load_data(SdrConfig *config, int layer, const char *data, gsize len,
                              GError **error);

/* The folder of the administrator files (honours $SINADUR_SYSCONFDIR). */
const char *sdr_config_sysconfdir(void);
/* The user file in use. */
const char *sdr_config_user_file(const SdrConfig *config);

char *sdr_config_get_string(const SdrConfig *config, const char *group, const char *key,
                            const char *fallback);
/* NULL when absent. */
char **sdr_config_get_strv(const SdrConfig *config, const char *group, const char *key);
gint64 sdr_config_get_int(const SdrConfig *config, const char *group, const char *key,
                          gint64 fallback);
gboolean sdr_config_get_bool(const SdrConfig *config, const char *group, const char *key,
                             gboolean fallback);
/* TRUE when the administrator policy sets this key. */
gboolean sdr_config_is_locked(const SdrConfig *config, const char *group, const char *key);

/* Sets a key in the user file (written atomically). SDR_ERROR_POLICY if locked. */
gboolean sdr_config_set_user_string(SdrConfig *config, const char *group, const char *key,
                                    const char *value, GError **error);

void sdr_config_free(SdrConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrConfig, sdr_config_free)

G_END_DECLS
