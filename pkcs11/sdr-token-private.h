/* sdr-token-private.h - internals shared by sdr-module.c and sdr-token.c (and the
 * unit tests). Not part of the contract; nothing outside pkcs11/ and tests/pkcs11/
 * includes it.
 */
#pragma once

#include "sdr-error.h"
#include "sdr-token.h"

#include <libp11.h>
#include <p11-kit/pkcs11.h>

G_BEGIN_DECLS

/* How long a module may take to initialise in sinadur-p11-probe. */
#define SDR_MODULE_PROBE_TIMEOUT_MS 15000

/* A module loaded in this process. Shared (reference counted) by every manager
 * of the process that uses the same file: a PKCS#11 module is initialised once
 * per process, and finalising it for one manager would break the others. */
typedef struct {
	char *path;         /* as first given */
	char *real_path;    /* registry key */
	char *manufacturer; /* CK_INFO */
	char *description;
	gint refs;
	void *dl;                /* our own dlopen() reference */
	CK_FUNCTION_LIST_PTR fl; /* the module's function list (raw calls) */
	PKCS11_CTX *ctx;         /* libp11 context (enumeration) */
	PKCS11_SLOT *slots;      /* current enumeration, or NULL */
	unsigned int nslots;
	char *present; /* tokens seen by the enumeration: "slot:label:serial;"... */
} SdrModule;

/* Discovery: SdrModuleInfo elements (not loaded yet), deduplicated by real path,
 * in the order of the contract (option, config, p11-kit, known, ATR). */
GPtrArray *sdr_module_discover(const SdrTokenOptions *options);

/* Runs dlopen + C_GetFunctionList + C_Initialize + C_GetInfo + C_GetSlotList +
 * C_Finalize in sinadur-p11-probe (posix_spawn, report on a pipe, timeout_ms for
 * all). FALSE with SDR_ERROR_MODULE_LOAD when the module is not a PKCS#11
 * library, fails, crashes, exits or hangs, or the probe program is missing. */
gboolean sdr_module_probe(const char *path, guint timeout_ms, GError **error);

/* Loads and initialises a module in this process (libp11 + raw function list),
 * or takes a reference on it when it is already loaded. Fills info->loaded,
 * manufacturer, description. */
SdrModule *sdr_module_load(SdrModuleInfo *info, GError **error);
/* TRUE when the file is already loaded in this process (no probe needed). */
gboolean sdr_module_is_loaded(const char *path);
/* Drops a reference; the last one finalises and unloads the module. */
void sdr_module_unload(SdrModule *module);
/* Enumerates the slots again when the tokens present changed since the last
 * enumeration (or force): releases every slot (and what libp11 hangs on them)
 * and enumerates from scratch. Releasing makes libp11 call C_CloseAllSessions
 * on every slot of the module, which is why nothing happens when nothing changed. */
gboolean sdr_module_enumerate(SdrModule *module, gboolean force, GError **error);
void sdr_module_release_slots(SdrModule *module);

/* The one place where a CK_RV becomes a GError. what: the operation, for the
 * message (untranslated short English word, e.g. "C_Login"), may be NULL. */
void sdr_token_set_ckr_error(GError **error, CK_RV rv, const char *what);
/* The SDR_ERROR code a CK_RV maps to (exposed for tests). */
SdrErrorCode sdr_token_ckr_code(CK_RV rv);

/* Name of a known module by path or basename, or NULL. */
const char *sdr_module_known_name(const char *path);

/* One raw C_Sign with the session's private key (sdr-token-pkey.c). */
GBytes *sdr_token_session_sign_raw(SdrTokenSession *session, gulong mechanism, const guint8 *in,
                                   gsize in_len, GError **error);

G_END_DECLS
