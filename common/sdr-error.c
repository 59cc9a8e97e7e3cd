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
		return 0;
	if (error->domain != SDR_ERROR)
		return 1;
	switch (error->code) {
	case SDR_ERROR_BAD_REQUEST:
		return 2;
	case SDR_ERROR_NO_READER:
	case SDR_ERROR_NO_CARD:
	case SDR_ERROR_NO_MODULE:
	case SDR_ERROR_MODULE_LOAD:
	case SDR_ERROR_CARD_REMOVED:
	case SDR_ERROR_NOT_FOUND:
		return 3;
	case SDR_ERROR_PIN_INCORRECT:
	case SDR_ERROR_PIN_LOCKED:
	case SDR_ERROR_PIN_FINAL_TRY:
		return 4;
	case SDR_ERROR_CANCELLED:
	case SDR_ERROR_CONSENT_DENIED:
	case SDR_ERROR_TIMEOUT:
		return 5;
	case SDR_ERROR_INVALID_SIGNATURE:
		return 6;
	case SDR_ERROR_INDETERMINATE:
		return 7;
	case SDR_ERROR_PARSE:
	case SDR_ERROR_UNSUPPORTED:
	case SDR_ERROR_PROFILE:
	case SDR_ERROR_TOO_LARGE:
	case SDR_ERROR_IO:
		return 8;
	case SDR_ERROR_CERT_EXPIRED:
	case SDR_ERROR_CERT_USAGE:
		return 9;
	case SDR_ERROR_NETWORK:
	case SDR_ERROR_LEVEL_NOT_REACHED:
		return 10;
	case SDR_ERROR_CONFIG:
	case SDR_ERROR_POLICY:
		return 11;
	default:
		return 1;
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
