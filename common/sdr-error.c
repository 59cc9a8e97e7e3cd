/* sdr-error.c - SDR_ERROR domain, code names and exit codes. */
#include "sdr-error.h"

#include <openssl/err.h>

G_DEFINE_QUARK(sdr - error - quark, sdr_error)

static const char *const code_names[] = {
	[SDR_ERROR_FAILED] = "SDR_ERROR_FAILED",
	[SDR_ERROR_NO_READER] = "SDR_ERROR_NO_READER",
	[SDR_ERROR_NO_CARD] = "SDR_ERROR_NO_CARD",
	[SDR_ERROR_NO_MODULE] = "SDR_ERROR_NO_MODULE",
	[SDR_ERROR_MODULE_LOAD] = "SDR_ERROR_MODULE_LOAD",
	[SDR_ERROR_CARD_REMOVED] = "SDR_ERROR_CARD_REMOVED",
	[SDR_ERROR_PIN_INCORRECT] = "SDR_ERROR_PIN_INCORRECT",
	[SDR_ERROR_PIN_LOCKED] = "SDR_ERROR_PIN_LOCKED",
	[SDR_ERROR_PIN_FINAL_TRY] = "SDR_ERROR_PIN_FINAL_TRY",
	[SDR_ERROR_CANCELLED] = "SDR_ERROR_CANCELLED",
	[SDR_ERROR_CONSENT_DENIED] = "SDR_ERROR_CONSENT_DENIED",
	[SDR_ERROR_TIMEOUT] = "SDR_ERROR_TIMEOUT",
	[SDR_ERROR_BAD_REQUEST] = "SDR_ERROR_BAD_REQUEST",
	[SDR_ERROR_ORIGIN_DENIED] = "SDR_ERROR_ORIGIN_DENIED",
	[SDR_ERROR_HOST_DENIED] = "SDR_ERROR_HOST_DENIED",
	[SDR_ERROR_TOO_LARGE] = "SDR_ERROR_TOO_LARGE",
	[SDR_ERROR_PARSE] = "SDR_ERROR_PARSE",
	[SDR_ERROR_UNSUPPORTED] = "SDR_ERROR_UNSUPPORTED",
	[SDR_ERROR_CRYPTO] = "SDR_ERROR_CRYPTO",
	[SDR_ERROR_NETWORK] = "SDR_ERROR_NETWORK",
	[SDR_ERROR_IO] = "SDR_ERROR_IO",
	[SDR_ERROR_NOT_FOUND] = "SDR_ERROR_NOT_FOUND",
	[SDR_ERROR_CERT_EXPIRED] = "SDR_ERROR_CERT_EXPIRED",
	[SDR_ERROR_CERT_USAGE] = "SDR_ERROR_CERT_USAGE",
	[SDR_ERROR_BUSY] = "SDR_ERROR_BUSY",
	[SDR_ERROR_CONFIG] = "SDR_ERROR_CONFIG",
	[SDR_ERROR_POLICY] = "SDR_ERROR_POLICY",
	[SDR_ERROR_LEVEL_NOT_REACHED] = "SDR_ERROR_LEVEL_NOT_REACHED",
	[SDR_ERROR_PROFILE] = "SDR_ERROR_PROFILE",
	[SDR_ERROR_INVALID_SIGNATURE] = "SDR_ERROR_INVALID_SIGNATURE",
	[SDR_ERROR_INDETERMINATE] = "SDR_ERROR_INDETERMINATE",
	[SDR_ERROR_ALREADY_SIGNED] = "SDR_ERROR_ALREADY_SIGNED",
};

const char *
sdr_error_code_name(int code)
{
	if (code <= 0 || (gsize)code >= G_N_ELEMENTS(code_names) || code_names[code] == NULL)
		return "SDR_ERROR_FAILED";
	return code_names[code];
}

int
sdr_error_exit_code(const GError *error)
{
	if (error == NULL)
		return SDR_EXIT_OK;
	/* G_IO_ERROR without linking GIO into common/: its quark by name. */
	if (error->domain == g_quark_try_string("g-io-error-quark"))
		return error->code == 1 /* G_IO_ERROR_NOT_FOUND */ ? SDR_EXIT_NOT_FOUND
		                                                   : SDR_EXIT_FILES;
	if (error->domain == G_FILE_ERROR)
		return error->code == G_FILE_ERROR_NOENT ? SDR_EXIT_NOT_FOUND : SDR_EXIT_FILES;
	if (error->domain != SDR_ERROR)
		return SDR_EXIT_FAILED;
	switch (error->code) {
	case SDR_ERROR_BAD_REQUEST:
		return SDR_EXIT_USAGE;
	case SDR_ERROR_NO_READER:
	case SDR_ERROR_NO_CARD:
	case SDR_ERROR_NO_MODULE:
	case SDR_ERROR_MODULE_LOAD:
	case SDR_ERROR_CARD_REMOVED:
	case SDR_ERROR_NOT_FOUND:
		return SDR_EXIT_NOT_FOUND;
	case SDR_ERROR_PIN_INCORRECT:
	case SDR_ERROR_PIN_LOCKED:
	case SDR_ERROR_PIN_FINAL_TRY:
		return SDR_EXIT_PIN;
	case SDR_ERROR_CANCELLED:
	case SDR_ERROR_CONSENT_DENIED:
	case SDR_ERROR_TIMEOUT:
		return SDR_EXIT_CANCELLED;
	case SDR_ERROR_INVALID_SIGNATURE:
		return SDR_EXIT_INVALID;
	case SDR_ERROR_INDETERMINATE:
		return SDR_EXIT_INDETERMINATE;
	case SDR_ERROR_PARSE:
	case SDR_ERROR_UNSUPPORTED:
	case SDR_ERROR_PROFILE:
	case SDR_ERROR_TOO_LARGE:
		return SDR_EXIT_DOCUMENT;
	case SDR_ERROR_CERT_EXPIRED:
	case SDR_ERROR_CERT_USAGE:
		return SDR_EXIT_CERT;
	case SDR_ERROR_NETWORK:
	case SDR_ERROR_LEVEL_NOT_REACHED:
		return SDR_EXIT_NETWORK;
	case SDR_ERROR_CONFIG:
	case SDR_ERROR_POLICY:
		return SDR_EXIT_CONFIG;
	case SDR_ERROR_IO:
		return SDR_EXIT_FILES;
	default:
		return SDR_EXIT_FAILED;
	}
}

void
sdr_error_set_openssl(GError **error, int code, const char *what)
{
	unsigned long e;
	char buf[256] = "";

	/* Keep the last (innermost) reason: it is the one that explains. */
	while ((e = ERR_get_error()) != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	if (buf[0] != '\0')
		g_set_error(error, SDR_ERROR, code, "%s (%s)", what, buf);
	else
		g_set_error_literal(error, SDR_ERROR, code, what);
}
