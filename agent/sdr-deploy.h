/* sdr-deploy.h - browser policies made from the administrator's policy.
 *
 * "sinadur deploy browsers" (run as root by the package's postinst, and by IT
 * after editing /etc/sinadur/policy.conf) writes, under a root folder ("/" in
 * production, a temporary tree in tests):
 *   etc/chromium/policies/managed/sinadur.json
 *   etc/opt/chrome/policies/managed/sinadur.json
 *       {"LocalNetworkAccessAllowedForUrls": [origins],
 *        "LoopbackNetworkAllowedForUrls": [origins]}  (the portals may reach the
 *       agent on loopback without a prompt); removed when no origin is allowed.
 *   etc/firefox/policies/policies.json
 *       merged, never overwritten: policies.SecurityDevices.Add.sinadur = the
 *       p11-kit proxy module (TLS login with the key); every other entry kept.
 * Origins: [bridge] allowed_origins of sinadur.conf and policy.conf (never the
 * user's file: browser policies are for every user). Writes are atomic.
 */
#pragma once

#include "sdr-config.h"

#include <glib.h>

G_BEGIN_DECLS

/* The name of our entry in Firefox's SecurityDevices.Add and of our Chromium files. */
#define SDR_DEPLOY_NAME "sinadur"

typedef enum {
	SDR_DEPLOY_CHROMIUM,
	SDR_DEPLOY_CHROME,
	SDR_DEPLOY_FIREFOX,
	SDR_DEPLOY_N_BROWSERS,
} SdrDeployBrowser;

typedef enum {
	SDR_DEPLOY_STATE_OK,       /* in place and matching the policy */
	SDR_DEPLOY_STATE_MISSING,  /* should exist and does not */
	SDR_DEPLOY_STATE_STALE,    /* exists but differs from the policy */
	SDR_DEPLOY_STATE_NONE,     /* nothing to deploy (no origins) and nothing there */
	SDR_DEPLOY_STATE_LEFTOVER, /* nothing to deploy, but our file is still there */
	SDR_DEPLOY_STATE_INVALID,  /* the file is unreadable or not JSON */
} SdrDeployState;

typedef struct {
	SdrDeployBrowser browser;
	char *path; /* full path (root included) */
	SdrDeployState state;
	char *action; /* after deploy: "written", "unchanged", "removed", "merged", NULL */
} SdrDeployItem;

/* "Chromium", "Google Chrome", "Firefox". */
const char *sdr_deploy_browser_name(SdrDeployBrowser browser);
/* The p11-kit proxy module registered in Firefox. */
const char *sdr_deploy_p11kit_proxy(void);

/* The system-wide configuration (defaults + policy, no user layer) under root
 * (NULL or "/": the real one; $SINADUR_SYSCONFDIR wins when set). */
SdrConfig *sdr_deploy_load_system_config(const char *root, GError **error);

/* The allowed origins, checked (https://host[:port], nothing else); a bad one is
 * SDR_ERROR_CONFIG naming it. An empty array when none. */
GPtrArray *sdr_deploy_origins(const SdrConfig *config, GError **error);

/* Writes or updates the three policies; SdrDeployItem array (free with
 * g_ptr_array_unref). SDR_ERROR_IO/SDR_ERROR_POLICY on a write failure, SDR_ERROR_PARSE
 * when Firefox's policies.json exists but is not a JSON object (left untouched). */
GPtrArray *sdr_deploy_browsers(const SdrConfig *config, const char *root, GError **error);
/* What is in place compared with the policy (nothing written). */
GPtrArray *sdr_deploy_browsers_check(const SdrConfig *config, const char *root, GError **error);
/* Removes what deploy made: our two Chromium files, our Firefox entry (and the
 * containers it leaves empty; the file itself when nothing else is left). */
GPtrArray *sdr_deploy_browsers_remove(const char *root, GError **error);

/* ---- per-user NSS registration (sdr-deploy-nss.c) --------------------------------
 * Chromium and Chrome have no PKCS#11 policy: TLS login with the key needs the module
 * in the user's NSS database. "sinadur deploy nss" (and the agent at login when
 * [browsers] nss_register is true) adds p11-kit's proxy to ~/.pki/nssdb (made when
 * missing) and to $XDG_DATA_HOME/pki/nssdb when that exists, with modutil, unless a
 * proxy or OpenSC's module is registered there already (OpenSC's pkcs11-register):
 * the key would then show twice. Idempotent. */

/* The name of our module in the NSS databases. */
#define SDR_DEPLOY_NSS_NAME "sinadur (p11-kit)"

typedef enum {
	SDR_NSS_ADDED,   /* registered now */
	SDR_NSS_PRESENT, /* p11-kit's proxy was registered already */
	SDR_NSS_OTHER,   /* OpenSC's module is registered: the proxy is not added */
	SDR_NSS_REMOVED, /* --remove: our entry deleted */
	SDR_NSS_ABSENT,  /* --remove: nothing of ours / check: nothing registered */
} SdrNssState;

typedef struct {
	char *dbdir; /* folder of the database (without "sql:") */
	SdrNssState state;
} SdrNssItem;

/* Registers (or, remove = TRUE, unregisters our own entry) in the user's databases;
 * SdrNssItem array. SDR_ERROR_NOT_FOUND when modutil or the proxy is missing,
 * SDR_ERROR_FAILED with modutil's message when it fails. */
GPtrArray *sdr_deploy_nss(gboolean remove, GError **error);
/* What is registered now (nothing changed): PRESENT, OTHER or ABSENT per database;
 * ~/.pki/nssdb is listed even when missing. */
GPtrArray *sdr_deploy_nss_check(void);
/* [browsers] nss_register (default false; the package's sinadur.conf sets it). */
gboolean sdr_deploy_nss_enabled(const SdrConfig *config);
/* The agent at start-up: when enabled, sdr_deploy_nss() in a worker thread; what it
 * did goes to stderr (the journal). */
void sdr_deploy_nss_at_login(const SdrConfig *config);

G_END_DECLS
