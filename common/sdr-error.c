/* sdr-error.c - SDR_ERROR domain, code names and exit codes. */
#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <string.h>

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

/* English causes seen in library messages, and what to tell a person. */
static const struct {
	const char *needle; /* lower case */
	const char *cause;
} known_causes[] = {
	{ "could not resolve", N_("server name unknown (check the address and the network)") },
	{ "couldn't resolve", N_("server name unknown (check the address and the network)") },
	{ "connection refused", N_("the server refused the connection") },
	{ "couldn't connect", N_("the server cannot be reached") },
	{ "failed to connect", N_("the server cannot be reached") },
	{ "could not connect", N_("the server cannot be reached") },
	{ "timed out", N_("no answer in time") },
	{ "timeout", N_("no answer in time") },
	{ "ssl certificate problem", N_("the server's certificate is not trusted") },
	{ "certificate verify failed", N_("the certificate could not be verified") },
	{ "bad decrypt", N_("wrong password") },
	{ "no start line", N_("not a PEM file") },
	{ "wrong tag", N_("invalid DER data") },
	{ "header too long", N_("invalid DER data") },
	{ "nested asn1 error", N_("invalid DER data") },
	{ "unexpected eof", N_("the file is truncated") },
	{ "end of file", N_("the file is truncated") },
	{ "startxref", N_("the table of objects is missing or damaged") },
	{ "xref", N_("the table of objects is missing or damaged") },
	{ "ck_rv", N_("the key reported an error") },
};

static gboolean
is_ascii(const char *s, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		if ((guchar)s[i] >= 0x80)
			return FALSE;
	}
	return TRUE;
}

/* The translated cause for a library's English text, NULL when unknown. */
static const char *
known_cause(const char *raw)
{
	g_autofree char *low = g_ascii_strdown(raw, -1);

	for (gsize i = 0; i < G_N_ELEMENTS(known_causes); i++) {
		if (strstr(low, known_causes[i].needle) != NULL)
			return _(known_causes[i].cause);
	}
	return NULL;
}

static gboolean
looks_technical(const char *s, gsize n)
{
	g_autofree char *t = g_strndup(s, n);

	return is_ascii(s, n) && (strstr(t, "0x") != NULL || strstr(t, "error:") != NULL ||
	                          g_str_has_prefix(t, "C_") || strstr(t, "routines") != NULL ||
	                          strstr(t, "SSL") != NULL);
}

char *
sdr_error_split_detail(const char *message, char **detail)
{
	gsize len;
	const char *open, *colon;
	g_autofree char *raw = NULL;
	g_autofree char *head = NULL;

	if (detail != NULL)
		*detail = NULL;
	if (message == NULL)
		return g_strdup("");
	len = strlen(message);
	/* 1. "… (technical)" or "… (technical)." at the end. */
	if (len > 2) {
		gsize end = message[len - 1] == '.' ? len - 1 : len;

		open = end > 0 && message[end - 1] == ')'
		               ? g_strrstr_len(message, (gssize)end, " (")
		               : NULL;
		if (open != NULL &&
		    looks_technical(open + 2, (gsize)(message + end - 1 - (open + 2)))) {
			raw = g_strndup(open + 2, (gsize)(message + end - 1 - (open + 2)));
			head = g_strndup(message, (gsize)(open - message));
		}
	}
	/* 2. A translated message ending with ": English library text". */
	if (raw == NULL) {
		colon = g_strrstr(message, ": ");
		if (colon != NULL && !is_ascii(message, (gsize)(colon - message)) &&
		    is_ascii(colon + 2, strlen(colon + 2)) && known_cause(colon + 2) != NULL) {
			raw = g_strdup(colon + 2);
			head = g_strndup(message, (gsize)(colon - message));
			/* French puts a (no-break) space before ':'. */
			while (g_str_has_suffix(head, "\u00a0") || g_str_has_suffix(head, " ")) {
				gsize cut = g_str_has_suffix(head, " ") ? 1 : strlen("\u00a0");
				head[strlen(head) - cut] = '\0';
			}
		}
	}
	if (raw == NULL)
		return g_strdup(message);
	{
		const char *cause = known_cause(raw);
		char *out;

		if (cause != NULL)
			/* TRANSLATORS: a message and its cause */
			out = g_strdup_printf(C_("message-cause", "%s: %s"), head, cause);
		else if (!g_str_has_suffix(head, ".") && g_str_has_suffix(message, "."))
			out = g_strconcat(head, ".", NULL);
		else
			out = g_strdup(head);
		if (detail != NULL)
			*detail = g_steal_pointer(&raw);
		return out;
	}
}
