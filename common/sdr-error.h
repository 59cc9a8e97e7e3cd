/* sdr-error.h - the one error domain of sinadur.
 *
 * Every foreign error space (CK_RV, SCARD_*, the OpenSSL queue, libxml2, curl) is
 * converted into this domain in exactly one function of the module that owns it.
 * The codes are stable: the bridge sends their names (sdr_error_code_name()) to
 * web portals and the CLI maps them to documented exit codes. Append only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SDR_ERROR (sdr_error_quark())

typedef enum {
	SDR_ERROR_FAILED = 1,        /* anything not listed below */
	SDR_ERROR_NO_READER,         /* no smart card reader / PC/SC service */
	SDR_ERROR_NO_CARD,           /* reader present, no card or token */
	SDR_ERROR_NO_MODULE,         /* no usable PKCS#11 module */
	SDR_ERROR_MODULE_LOAD,       /* a module failed to load or initialise */
	SDR_ERROR_CARD_REMOVED,      /* the token was pulled during an operation */
	SDR_ERROR_PIN_INCORRECT,     /* wrong PIN, tries remain */
	SDR_ERROR_PIN_LOCKED,        /* PIN blocked: the token must be unblocked */
	SDR_ERROR_PIN_FINAL_TRY,     /* one try left and the caller did not confirm */
	SDR_ERROR_CANCELLED,         /* the user or the caller cancelled */
	SDR_ERROR_CONSENT_DENIED,    /* the user refused to sign */
	SDR_ERROR_TIMEOUT,           /* a prompt or a peer did not answer in time */
	SDR_ERROR_BAD_REQUEST,       /* malformed request or arguments */
	SDR_ERROR_ORIGIN_DENIED,     /* bridge: origin not allowed */
	SDR_ERROR_HOST_DENIED,       /* bridge: Host header not ours (DNS rebinding) */
	SDR_ERROR_TOO_LARGE,         /* an input is over its size cap */
	SDR_ERROR_PARSE,             /* input document cannot be parsed */
	SDR_ERROR_UNSUPPORTED,       /* valid input we do not handle (algorithm, PDF feature...) */
	SDR_ERROR_CRYPTO,            /* a cryptographic operation failed */
	SDR_ERROR_NETWORK,           /* TSA, OCSP, CRL, S2LOW unreachable or bad answer */
	SDR_ERROR_IO,                /* file system */
	SDR_ERROR_NOT_FOUND,         /* certificate, key, document or object not found */
	SDR_ERROR_CERT_EXPIRED,      /* certificate expired or not yet valid */
	SDR_ERROR_CERT_USAGE,        /* certificate not usable for this (key usage) */
	SDR_ERROR_BUSY,              /* the token is used by another request */
	SDR_ERROR_CONFIG,            /* configuration file invalid */
	SDR_ERROR_POLICY,            /* forbidden by the administrator's policy */
	SDR_ERROR_LEVEL_NOT_REACHED, /* B-T/B-LT/B-LTA asked but cannot be produced */
	SDR_ERROR_PROFILE,           /* document breaks a profile rule (PES, ACTES...) */
	SDR_ERROR_INVALID_SIGNATURE, /* verification found an invalid signature */
	SDR_ERROR_INDETERMINATE,     /* verification could not conclude */
	SDR_ERROR_ALREADY_SIGNED,    /* nothing to sign: everything already signed */
} SdrErrorCode;

GQuark sdr_error_quark(void);

/* "SDR_ERROR_PIN_LOCKED" for SDR_ERROR_PIN_LOCKED; "SDR_ERROR_FAILED" for unknown. */
const char *sdr_error_code_name(int code);

/* The exit codes of the `sinadur` command: the table of docs/sinadur.1 ("CODES DE
 * RETOUR"), which tests/agent/test-exit-codes.c checks against
 * sdr_error_exit_code() and tests/agent/test-cli-exit.sh row by row. */
typedef enum {
	SDR_EXIT_OK = 0,
	SDR_EXIT_FAILED = 1,        /* anything else (crypto, busy, already signed...) */
	SDR_EXIT_USAGE = 2,         /* bad arguments or request */
	SDR_EXIT_NOT_FOUND = 3,     /* no reader, card, module, certificate or file; certs and
	                             * tokens that list nothing */
	SDR_EXIT_PIN = 4,           /* PIN wrong, blocked, final try not confirmed */
	SDR_EXIT_CANCELLED = 5,     /* cancelled, refused, timed out */
	SDR_EXIT_INVALID = 6,       /* verify: a signature is INVALID */
	SDR_EXIT_INDETERMINATE = 7, /* verify: INDETERMINATE (none INVALID) */
	SDR_EXIT_DOCUMENT = 8,      /* document unreadable, unsupported, against its profile */
	SDR_EXIT_CERT = 9,          /* certificate expired, not yet valid, or not for signing */
	SDR_EXIT_NETWORK = 10,      /* TSA, OCSP, CRL; level not reached */
	SDR_EXIT_CONFIG = 11,       /* configuration invalid, policy forbids */
	SDR_EXIT_FILES = 12,        /* file system: cannot write the output, disk full... */
	SDR_EXIT_PROBLEMS = 13,     /* doctor reported at least one problem */
} SdrExitCode;

#define SDR_EXIT_MAX SDR_EXIT_PROBLEMS

/* The CLI exit code for an error (SdrExitCode; documented in docs/sinadur.1).
 * G_IO_ERROR / G_FILE_ERROR: "not found" = 3, others = 12. */
int sdr_error_exit_code(const GError *error);

/* Splits a message into what a person reads and the raw technical detail that
 * libraries append: a technical " (…)" at the end (PKCS#11 "(C_Sign: 0x00000032)",
 * OpenSSL "(error:…)"), or, after ": " in a translated message, qpdf's or libcurl's
 * English text when it is a common cause, which is then translated ("… : pas de
 * réponse dans le délai"). *detail gets the raw text (NULL when nothing was
 * split off). Returns a new string. */
char *sdr_error_split_detail(const char *message, char **detail);

/* Sets *error from the OpenSSL error queue (and clears the queue). */
void sdr_error_set_openssl(GError **error, int code, const char *what);

G_END_DECLS
