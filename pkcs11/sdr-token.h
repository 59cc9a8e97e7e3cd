/* sdr-token.h - the token layer: PKCS#11 modules, slots, tokens, certificates,
 * login, signing a digest, PC/SC reader and card events.
 *
 * Knows tokens, never formats. Built on libp11 and pcsc-lite. Thread use: one
 * SdrTokenManager is used by one thread at a time (the agent serialises token work
 * on a worker thread); the PC/SC watcher runs its own thread and reports to a
 * GMainContext. See docs/internals/pkcs11.md for the contract.
 */
#pragma once

#include "sdr-crypto.h"
#include "sdr-secret.h"

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* ---- Modules ---------------------------------------------------------------- */

typedef enum {
	SDR_MODULE_SOURCE_OPTION = 0, /* --module PATH */
	SDR_MODULE_SOURCE_CONFIG,     /* [tokens] modules */
	SDR_MODULE_SOURCE_P11KIT,     /* registered with p11-kit */
	SDR_MODULE_SOURCE_KNOWN,      /* table of known vendor paths */
	SDR_MODULE_SOURCE_ATR,        /* named by the ATR of a card present */
} SdrModuleSource;

typedef struct {
	char *path; /* absolute path of the shared object */
	char *name; /* human name: "Idopte Smart Card Middleware", "OpenSC"... */
	SdrModuleSource source;
	gboolean loaded;    /* C_Initialize succeeded */
	GError *error;      /* why it did not load (never fatal), or NULL */
	char *manufacturer; /* CK_INFO, when loaded */
	char *description;
} SdrModuleInfo;

void sdr_module_info_free(SdrModuleInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrModuleInfo, sdr_module_info_free)

/* ---- Tokens and certificates -------------------------------------------------- */

typedef struct {
	char *module_path;
	gulong slot_id;
	char *slot_description;
	char *label;
	char *manufacturer;
	char *model;
	char *serial;
	gboolean login_required;
	gboolean protected_auth_path; /* the token/middleware asks its own PIN */
	gboolean pin_count_low;       /* CKF_USER_PIN_COUNT_LOW */
	gboolean pin_final_try;       /* CKF_USER_PIN_FINAL_TRY */
	gboolean pin_locked;          /* CKF_USER_PIN_LOCKED */
	gboolean pin_to_be_changed;
	gulong pin_min_len; /* ulMinPinLen in bytes, 0 = not reported */
	gulong pin_max_len; /* ulMaxPinLen in bytes, 0 = not reported */
} SdrTokenInfo;

void sdr_token_info_free(SdrTokenInfo *info);
/* A deep copy (NULL for NULL). */
SdrTokenInfo *sdr_token_info_copy(const SdrTokenInfo *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTokenInfo, sdr_token_info_free)

typedef enum {
	SDR_CERT_USAGE_SIGNATURE = 1 << 0, /* nonRepudiation (contentCommitment) */
	SDR_CERT_USAGE_AUTHENTICATION =
	        1 << 1, /* digitalSignature without nonRepudiation, or clientAuth EKU */
} SdrCertUsage;

typedef struct {
	char *id;            /* stable: hex SHA-256 of the DER certificate, first 16 bytes */
	SdrTokenInfo *token; /* owned copy */
	X509 *cert;          /* owned reference */
	GBytes *cka_id;      /* CKA_ID shared by the certificate and its private key */
	char *cka_label;
	gboolean has_private_key;
	SdrSigScheme key_scheme; /* SDR_SIG_RSA_PKCS1 for RSA keys, SDR_SIG_ECDSA for EC keys */
	guint key_bits;
	/* Decoded for display; UTF-8, NULL when absent. */
	char *subject_cn, *organization, *organizational_unit, *subject_serial_number;
	char *issuer_cn, *issuer_dn, *subject_dn;
	char *serial_hex; /* certificate serial number, upper-case hex */
	GDateTime *not_before, *not_after;
	guint key_usage_bits;      /* X509v3 KU bits as OpenSSL's X509_get_key_usage() */
	char **extended_key_usage; /* dotted OIDs / short names, NULL-terminated */
	char **policies;           /* certificate policy OIDs, NULL-terminated */
	SdrCertUsage usage;
} SdrCertInfo;

void sdr_cert_info_free(SdrCertInfo *info);
/* A deep copy (NULL for NULL). */
SdrCertInfo *sdr_cert_info_copy(const SdrCertInfo *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrCertInfo, sdr_cert_info_free)

/* Classifies a certificate by its key usage and EKU. */
SdrCertUsage sdr_cert_usage_from_x509(X509 *cert);
/* Fills the display fields of a certificate (also used for file certificates). */
SdrCertInfo *sdr_cert_info_new_from_x509(X509 *cert);

/* ---- The manager -------------------------------------------------------------- */

typedef struct _SdrTokenManager SdrTokenManager;

typedef struct {
	const char *only_module; /* --module PATH: use only this one */
	char **config_modules;   /* [tokens] modules */
	char **ignore_modules;   /* [tokens] ignore_modules */
	gboolean skip_p11kit;    /* tests: do not read p11-kit's registry */
	gboolean skip_known;     /* tests: do not probe vendor paths */
	gboolean isolate_init;   /* first C_Initialize of each module in sinadur-p11-probe,
	                          * so a module that crashes cannot take us down (default TRUE
	                          * through sdr_token_manager_new) */
} SdrTokenOptions;

/* Discovers and loads modules. Never fails because one module fails: each
 * outcome is in sdr_token_manager_get_modules(). Fails (SDR_ERROR_NO_MODULE) only
 * when only_module is given and cannot be loaded. */
SdrTokenManager *sdr_token_manager_new(const SdrTokenOptions *options, GError **error);
void sdr_token_manager_free(SdrTokenManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTokenManager, sdr_token_manager_free)

/* SdrModuleInfo elements, owned by the manager. */
GPtrArray *sdr_token_manager_get_modules(SdrTokenManager *manager);
/* Forgets every slot and enumerates again (after a removal or insertion event). */
gboolean sdr_token_manager_refresh(SdrTokenManager *manager, GError **error);
/* New arrays of SdrTokenInfo / SdrCertInfo (free functions set). */
GPtrArray *sdr_token_manager_list_tokens(SdrTokenManager *manager, GError **error);
GPtrArray *sdr_token_manager_list_certificates(SdrTokenManager *manager, GError **error);

/* ---- Sessions, login, signing -------------------------------------------------- */

typedef struct _SdrTokenSession SdrTokenSession;

typedef struct {
	const SdrCertInfo *cert;
	guint attempt;      /* 1 for the first prompt of this login */
	gboolean count_low; /* some wrong PINs were entered before */
	gboolean final_try; /* the next wrong PIN locks the token */
	gboolean previous_incorrect;
	/* The token or its middleware asks the PIN itself (PIN pad, the vendor's own
	 * PIN window): the callback must tell the person where to type it, BEFORE the
	 * login blocks, and return an empty SdrSecret to go ahead (its content is
	 * never sent), or NULL to give up. */
	gboolean protected_path;
	gulong min_len, max_len; /* PIN length the token accepts, in bytes; 0 = unknown */
	/* Set when the previous answer of this same login call was refused without
	 * reaching the token (empty, too short...): the reason, translated. The
	 * final-try confirmation obtained for that answer still stands. */
	const char *rejected;
} SdrPinRequest;

/* Returns the PIN (ownership passes to the token layer, which wipes it), or NULL
 * with *error set (SDR_ERROR_CANCELLED...). At final_try the callback must have
 * obtained an explicit confirmation from the user before returning a PIN (or,
 * on a protected path, the empty secret). */
typedef SdrSecret *(*SdrPinFunc)(const SdrPinRequest *request, gpointer user_data, GError **error);

/* How many times one login asks again after a PIN refused locally. */
#define SDR_PIN_MAX_ASKS 3

/* The check every PIN passes before C_Login (sdr_token_session_login calls it;
 * prompts may call it to refuse early): not empty, not only white space, no
 * control character (NUL, CR, LF...), and min_len <= length <= max_len (bytes;
 * 0 = no bound). FALSE with SDR_ERROR_BAD_REQUEST and a French reason that
 * states the accepted lengths. A PIN that fails can never be right, so sending
 * it would only burn a try. */
gboolean sdr_token_pin_check(const SdrSecret *pin, gulong min_len, gulong max_len, GError **error);
/* "4 à 8 caractères", "au moins 4 caractères"..., or NULL when nothing is known
 * (translated; free with g_free). For prompts. */
char *sdr_token_pin_length_hint(gulong min_len, gulong max_len);

/* Opens a session on the token holding the certificate with this id (SdrCertInfo.id). */
SdrTokenSession *sdr_token_session_open(SdrTokenManager *manager, const char *cert_id,
                                        GError **error);
/* The same for a certificate listed before (sdr_token_manager_list_certificates): no
 * second listing while its slot holds the same token (serial number and label), else
 * as sdr_token_session_open(manager, cert->id). */
SdrTokenSession *sdr_token_session_open_cert(SdrTokenManager *manager, const SdrCertInfo *cert,
                                             GError **error);
void sdr_token_session_free(SdrTokenSession *session); /* logs out */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTokenSession, sdr_token_session_free)

const SdrCertInfo *sdr_token_session_get_cert(SdrTokenSession *session);

/* Logs in once. Reads the PIN flags before and after the attempt; never retries
 * C_Login by itself: a wrong PIN gives SDR_ERROR_PIN_INCORRECT and the caller
 * decides. A PIN that fails sdr_token_pin_check() never reaches the token: the
 * callback is asked again (request->rejected), at most SDR_PIN_MAX_ASKS times,
 * then SDR_ERROR_BAD_REQUEST. On a protected authentication path the callback is
 * still called (request->protected_path) so the person is told and, at the final
 * try, confirms; without a callback the final try is refused. SDR_ERROR_PIN_LOCKED
 * before any attempt when the PIN is blocked. */
gboolean sdr_token_session_login(SdrTokenSession *session, SdrPinFunc pin_func, gpointer user_data,
                                 GError **error);
gboolean sdr_token_session_is_logged_in(SdrTokenSession *session);
void sdr_token_session_logout(SdrTokenSession *session);

/* Signs a digest with the session's private key. RSA PKCS#1 v1.5 wraps the digest
 * in a DigestInfo; PSS uses MGF1(hash) and salt = hash length; ECDSA returns raw
 * r||s. SDR_ERROR_CARD_REMOVED when the token went away. */
GBytes *sdr_token_session_sign(SdrTokenSession *session, SdrSigScheme scheme, SdrHashAlg hash,
                               const guint8 *digest, gsize digest_len, GError **error);

/* An EVP_PKEY whose private operations are done by the token through this
 * session (for TLS client authentication: hand it to SSL_CTX_use_PrivateKey).
 * Public part from the session's certificate; RSA (PKCS#1 v1.5 and PSS through
 * CKM_RSA_X_509) and ECDSA. Log in first: the key never logs in or asks a PIN
 * by itself, so an operation without login fails instead of prompting. The
 * session must outlive the key (and every SSL_CTX holding it). */
EVP_PKEY *sdr_token_session_get_pkey(SdrTokenSession *session, GError **error);
/* Why the last private operation of such a key failed on this thread (card
 * removed, not logged in...), or NULL; the caller owns the error. */
GError *sdr_token_pkey_take_error(void);

/* ---- PC/SC ------------------------------------------------------------------- */

typedef enum {
	SDR_PCSC_EVENT_READER_ADDED,
	SDR_PCSC_EVENT_READER_REMOVED,
	SDR_PCSC_EVENT_CARD_INSERTED,
	SDR_PCSC_EVENT_CARD_REMOVED,
	SDR_PCSC_EVENT_SERVICE_UP,   /* pcscd (re)appeared */
	SDR_PCSC_EVENT_SERVICE_DOWN, /* pcscd absent or stopped: a state, not an error */
} SdrPcscEventKind;

typedef struct {
	SdrPcscEventKind kind;
	const char *reader; /* NULL for service events */
	const guint8 *atr;  /* card events */
	gsize atr_len;
} SdrPcscEvent;

typedef void (*SdrPcscEventFunc)(const SdrPcscEvent *event, gpointer user_data);

typedef struct _SdrPcscWatcher SdrPcscWatcher;

/* Starts a thread blocked in SCardGetStatusChange (no polling); events are
 * dispatched on context (NULL = the thread-default main context). */
SdrPcscWatcher *sdr_pcsc_watcher_new(GMainContext *context, SdrPcscEventFunc func,
                                     gpointer user_data);
void sdr_pcsc_watcher_free(SdrPcscWatcher *watcher); /* stops and joins */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPcscWatcher, sdr_pcsc_watcher_free)

typedef struct {
	char *name;
	gboolean card_present;
	GBytes *atr;
	char *atr_hex;     /* "3B DB 96 ..." */
	char *card_name;   /* from the ATR table, or NULL */
	char *module_hint; /* module the ATR table names for it, or NULL */
} SdrReaderInfo;

void sdr_reader_info_free(SdrReaderInfo *info);

/* Snapshot of the readers. SDR_ERROR_NO_READER when pcscd is not running. */
GPtrArray *sdr_pcsc_list_readers(GError **error);

/* ATR table lookup (ChamberSign, SafeNet, ...). Returns FALSE when unknown. */
gboolean sdr_atr_lookup(const guint8 *atr, gsize atr_len, const char **card_name,
                        const char **module_hint);

G_END_DECLS
