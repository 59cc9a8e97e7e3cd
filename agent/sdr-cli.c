/* sdr-cli.c - the `sinadur` command: tokens, certs, sign, verify, extend, doctor, version.
 *
 * Builds a request for the handler table (sdr-handler.h), prints the answer as
 * French text (English with LANG=C) or as JSON (--json). Exit codes: see
 * docs/sinadur.1 (sdr_error_exit_code(), plus 6/7 for INVALID/INDETERMINATE
 * verification results). A PIN never comes from argv or the environment: the
 * terminal, or --pin-fd N.
 */
#include "sdr-audit.h"
#include "sdr-cli-s2low.h"
#include "sdr-cli-trust.h"
#include "sdr-config-build.h"
#include "sdr-context.h"
#include "sdr-deploy.h"
#include "sdr-error.h"
#include "sdr-i18n.h"
#include "sdr-json.h"
#include "sdr-sanitize.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct {
	char *module;
	char *config_file;
	gboolean json;
	int pin_fd;
	char *prompt_script;
	/* sign */
	char *format;
	gboolean detached, attached, enveloped, enveloping;
	char *level;
	char *hash;
	char *cert;
	char *output;
	char *output_dir;
	gboolean in_place;
	gboolean overwrite;
	gboolean visible;
	int page;
	char *rect;
	char *reason;
	char *location;
	char *image;
	char **bordereaux;
	gboolean pades;
	gboolean cades;
	char *key_file;
	char *cert_file;
	char *chain_file;
	gboolean all;
	/* verify */
	char *content;
	char *tsa; /* extend */
	gboolean renew;
	char *at;
	char *report;
	char **tl;
	gboolean offline;
	gboolean version;
} CliOptions;

/* Every line a person reads goes through the one sanitiser: certificate and token
 * names, document names and messages carry strings from tokens and files (a
 * control or bidi character is shown visibly, never sent raw to the terminal).
 * Our own text is unchanged by it. */
static void G_GNUC_PRINTF(2, 3) say(FILE *f, const char *format, ...)
{
	g_autofree char *text = NULL;
	g_autofree char *safe = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	safe = sdr_sanitize_for_display_full(text, -1, 0, SDR_SANITIZE_KEEP_NEWLINES);
	fputs(safe, f);
}

static void
cli_options_clear(CliOptions *o)
{
	g_free(o->module);
	g_free(o->config_file);
	g_free(o->prompt_script);
	g_free(o->format);
	g_free(o->level);
	g_free(o->hash);
	g_free(o->cert);
	g_free(o->output);
	g_free(o->output_dir);
	g_free(o->rect);
	g_free(o->reason);
	g_free(o->location);
	g_free(o->image);
	g_strfreev(o->bordereaux);
	g_free(o->key_file);
	g_free(o->cert_file);
	g_free(o->chain_file);
	g_free(o->content);
	g_free(o->tsa);
	g_free(o->at);
	g_free(o->report);
	g_strfreev(o->tl);
}

static gboolean verbose;

static int
fail(const CliOptions *o, const GError *error)
{
	int code = sdr_error_exit_code(error);
	g_autofree char *detail = NULL;
	g_autofree char *message = sdr_error_split_detail(error->message, &detail);

	if (o != NULL && o->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonGenerator) gen = json_generator_new();
		g_autoptr(JsonNode) root = NULL;
		g_autofree char *text = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "error");
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "code");
		json_builder_add_string_value(b, error->domain == SDR_ERROR
		                                         ? sdr_error_code_name(error->code)
		                                         : "SDR_ERROR_FAILED");
		json_builder_set_member_name(b, "message");
		json_builder_add_string_value(b, message);
		if (detail != NULL) {
			json_builder_set_member_name(b, "detail");
			json_builder_add_string_value(b, detail);
		}
		json_builder_set_member_name(b, "exit_code");
		json_builder_add_int_value(b, code);
		json_builder_end_object(b);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		json_generator_set_root(gen, root);
		json_generator_set_pretty(gen, TRUE);
		text = json_generator_to_data(gen, NULL);
		say(stdout, "%s\n", text);
	}
	say(stderr, "sinadur: %s\n", message);
	if (detail != NULL && verbose)
		say(stderr, _("  detail: %s\n"), detail);
	return code;
}

static void
print_json(JsonNode *node)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_root(gen, node);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	say(stdout, "%s\n", text);
}

static const char *
str_or(JsonObject *o, const char *member, const char *fallback)
{
	const char *s = sdr_json_get_string(o, member, NULL);

	return s != NULL ? s : fallback;
}

/* ---- Text output ---------------------------------------------------------------- */

static char *
format_date(const char *iso)
{
	g_autoptr(GDateTime) t = NULL;

	if (iso == NULL)
		return g_strdup("?");
	t = g_date_time_new_from_iso8601(iso, NULL);
	if (t == NULL)
		return g_strdup(iso);
	return sdr_time_format_date(t);
}

static char *
format_datetime(const char *iso)
{
	g_autoptr(GDateTime) t = NULL;

	if (iso == NULL)
		return NULL;
	t = g_date_time_new_from_iso8601(iso, NULL);
	if (t == NULL)
		return g_strdup(iso);
	return sdr_time_format_datetime(t);
}

/* Exit code of a listing: 3 when it lists nothing (docs/sinadur.1). */
static int
list_exit_code(JsonObject *answer, const char *member)
{
	JsonArray *a = json_object_get_array_member(answer, member);

	return a != NULL && json_array_get_length(a) > 0 ? SDR_EXIT_OK : SDR_EXIT_NOT_FOUND;
}

static int
print_tokens(JsonObject *answer)
{
	JsonArray *a = json_object_get_array_member(answer, "tokens");
	guint n = a != NULL ? json_array_get_length(a) : 0;

	if (n == 0) {
		say(stdout, "%s\n",
		    _("No key found. Is it plugged in? Run “sinadur doctor” to see why."));
		return SDR_EXIT_NOT_FOUND;
	}
	for (guint i = 0; i < n; i++) {
		JsonObject *t = json_array_get_object_element(a, i);

		say(stdout, _("Key “%s”\n"), str_or(t, "label", "?"));
		say(stdout, _("  Manufacturer: %s, model %s, serial number %s\n"),
		    str_or(t, "manufacturer", "?"), str_or(t, "model", "?"),
		    str_or(t, "serial", "?"));
		say(stdout, _("  Module: %s\n"), str_or(t, "module", "?"));
		if (sdr_json_get_bool(t, "pin_locked", FALSE))
			say(stdout, "  %s\n",
			    _("PIN BLOCKED: unblock it with the PUK or ask your "
			      "certification authority."));
		else if (sdr_json_get_bool(t, "pin_final_try", FALSE))
			say(stdout, "  %s\n", _("Last PIN try: a wrong PIN will block the key."));
		else if (sdr_json_get_bool(t, "pin_count_low", FALSE))
			say(stdout, "  %s\n", _("Wrong PINs were entered: few tries left."));
		if (sdr_json_get_bool(t, "protected_auth_path", FALSE))
			say(stdout, "  %s\n",
			    _("The PIN is typed in the key's own window or pad."));
	}
	return SDR_EXIT_OK;
}

static int
print_certs(JsonObject *answer)
{
	JsonArray *a = json_object_get_array_member(answer, "certificates");
	guint n = a != NULL ? json_array_get_length(a) : 0;

	if (n == 0) {
		say(stdout, "%s\n",
		    _("No certificate found. Is the key plugged in? Run “sinadur "
		      "doctor” to see why."));
		return SDR_EXIT_NOT_FOUND;
	}
	for (guint i = 0; i < n; i++) {
		JsonObject *c = json_array_get_object_element(a, i);
		JsonArray *usage = json_object_get_array_member(c, "usage");
		g_autofree char *nb = format_date(sdr_json_get_string(c, "not_before", NULL));
		g_autofree char *na = format_date(sdr_json_get_string(c, "not_after", NULL));
		gint64 days = sdr_json_get_int(c, "days_left", 0);
		g_autoptr(GString) u = g_string_new(NULL);

		for (guint k = 0; usage != NULL && k < json_array_get_length(usage); k++) {
			const char *s = json_array_get_string_element(usage, k);
			if (u->len > 0)
				g_string_append(u, ", ");
			g_string_append(u, g_str_equal(s, "signature") ? _("signature")
			                                               : _("authentication"));
		}
		if (i > 0)
			say(stdout, "\n");
		say(stdout, _("Certificate %s\n"), str_or(c, "id", "?"));
		say(stdout, _("  Holder: %s"), str_or(c, "subject_cn", "?"));
		if (sdr_json_get_string(c, "organization", NULL) != NULL)
			say(stdout, " (%s)", sdr_json_get_string(c, "organization", NULL));
		say(stdout, "\n");
		say(stdout, _("  Issuer: %s\n"), str_or(c, "issuer_cn", "?"));
		say(stdout, _("  Serial number: %s\n"), str_or(c, "serial", "?"));
		if (sdr_json_get_bool(c, "expired", FALSE))
			say(stdout, _("  Valid from %s to %s: EXPIRED\n"), nb, na);
		else if (sdr_json_get_bool(c, "not_yet_valid", FALSE))
			say(stdout, _("  Valid from %s to %s: NOT YET VALID (from %s)\n"), nb, na,
			    nb);
		else
			say(stdout,
			    g_dngettext(GETTEXT_PACKAGE, "  Valid from %s to %s (%lld day left)\n",
			                "  Valid from %s to %s (%lld days left)\n",
			                (gulong)MAX(days, 0)),
			    nb, na, (long long)days);
		say(stdout, _("  Usage: %s\n"), u->len > 0 ? u->str : "?");
		if (g_strcmp0(sdr_json_get_string(c, "expiry_status", NULL), "critical") == 0)
			say(stdout, "  %s\n",
			    _("! Expires very soon: order the renewal from your "
			      "certification authority now."));
		else if (g_strcmp0(sdr_json_get_string(c, "expiry_status", NULL), "warning") == 0)
			say(stdout, "  %s\n", _("! Expires soon: plan the renewal."));
		if (sdr_json_get_string(c, "token_label", NULL) != NULL)
			say(stdout, _("  Key: %s\n"), sdr_json_get_string(c, "token_label", NULL));
	}
	return SDR_EXIT_OK;
}

static const char *
verdict_text(const char *verdict)
{
	if (g_strcmp0(verdict, "VALID") == 0)
		return _("VALID");
	if (g_strcmp0(verdict, "INVALID") == 0)
		return _("INVALID");
	return _("INDETERMINATE");
}

static void
print_reasons(JsonArray *a, const char *prefix)
{
	for (guint k = 0; a != NULL && k < json_array_get_length(a); k++) {
		JsonObject *r = json_array_get_object_element(a, k);
		const char *code = str_or(r, "code", "");

		/* A note without a reason code (NONE) is shown without one. */
		if (*code == '\0' || g_str_equal(code, "NONE"))
			say(stdout, "%s%s\n", prefix, str_or(r, "message", ""));
		else
			say(stdout, "%s%s (%s)\n", prefix, str_or(r, "message", ""), code);
	}
}

/* 0 all VALID, 6 some INVALID, 7 otherwise; when no file could be read as a
 * signature at all, the exit code of the first file's error. */
static int
verify_exit_code(JsonObject *answer)
{
	JsonArray *files = json_object_get_array_member(answer, "files");
	const char *overall = sdr_json_get_string(answer, "verdict", "INDETERMINATE");

	/* Nothing could be read as a signature at all: the reason's own exit code. */
	if (files != NULL && json_array_get_length(files) > 0) {
		int first = 0;
		guint n_err = 0;

		for (guint i = 0; i < json_array_get_length(files); i++) {
			JsonObject *f = json_array_get_object_element(files, i);
			if (json_object_has_member(f, "error")) {
				if (n_err++ == 0)
					first = (int)sdr_json_get_int(
					        json_object_get_object_member(f, "error"),
					        "exit_code", 7);
			}
		}
		if (n_err == json_array_get_length(files) && first != 0)
			return first;
	}
	if (g_strcmp0(overall, "VALID") == 0)
		return 0;
	return g_strcmp0(overall, "INVALID") == 0 ? 6 : 7;
}

static int
print_verify(JsonObject *answer)
{
	JsonArray *files = json_object_get_array_member(answer, "files");

	for (guint i = 0; files != NULL && i < json_array_get_length(files); i++) {
		JsonObject *f = json_array_get_object_element(files, i);
		JsonArray *sigs = json_object_get_array_member(f, "signatures");
		guint n = sigs != NULL ? json_array_get_length(sigs) : 0;

		if (json_object_has_member(f, "error")) {
			JsonObject *e = json_object_get_object_member(f, "error");
			say(stdout, _("%s: %s — %s\n"), str_or(f, "file", "?"),
			    verdict_text("INDETERMINATE"), str_or(e, "message", ""));
			if (verbose && sdr_json_get_string(e, "detail", NULL) != NULL)
				say(stdout, _("  detail: %s\n"),
				    sdr_json_get_string(e, "detail", NULL));
			continue;
		}
		say(stdout,
		    g_dngettext(GETTEXT_PACKAGE, "%s: %s (%s, %u signature)\n",
		                "%s: %s (%s, %u signatures)\n", n),
		    str_or(f, "file", "?"), verdict_text(sdr_json_get_string(f, "verdict", NULL)),
		    str_or(f, "format", "?"), n);
		for (guint k = 0; k < n; k++) {
			JsonObject *s = json_array_get_object_element(sigs, k);
			JsonObject *signer =
			        json_object_has_member(s, "signer") &&
			                        JSON_NODE_HOLDS_OBJECT(
			                                json_object_get_member(s, "signer"))
			                ? json_object_get_object_member(s, "signer")
			                : NULL;
			g_autofree char *claimed =
			        format_datetime(sdr_json_get_string(s, "claimed_time", NULL));
			g_autofree char *ts =
			        format_datetime(sdr_json_get_string(s, "timestamp_time", NULL));

			say(stdout, _("  Signature %u: %s, level %s\n"), k + 1,
			    verdict_text(sdr_json_get_string(s, "verdict", NULL)),
			    g_strcmp0(sdr_json_get_string(s, "level", NULL), "none") == 0
			            ? C_("signature level", "none")
			            : str_or(s, "level", "?"));
			if (signer != NULL)
				say(stdout, _("    Signed by: %s (%s)\n"),
				    str_or(signer, "subject_cn", "?"),
				    str_or(signer, "issuer_cn", "?"));
			if (signer != NULL && sdr_json_get_string(signer, "category", NULL) != NULL)
				say(stdout, _("    Certificate category: %s\n"),
				    sdr_json_get_string(signer, "category", NULL));
			if (claimed != NULL)
				say(stdout, _("    Claimed signing time: %s\n"), claimed);
			if (ts != NULL)
				say(stdout, _("    Timestamp: %s\n"), ts);
			print_reasons(json_object_get_array_member(s, "reasons"), "    ✘ ");
			print_reasons(json_object_get_array_member(s, "warnings"), "    ! ");
		}
		print_reasons(json_object_get_array_member(f, "notes"), "  ! ");
	}
	if (sdr_json_get_string(answer, "report", NULL) != NULL)
		say(stdout, _("Report written to %s\n"),
		    sdr_json_get_string(answer, "report", NULL));
	return verify_exit_code(answer);
}

/* The sign answer: one line per document, a count when not everything was signed,
 * and how to finish a batch that stopped. Exit code: the stopping error's, else the
 * first failed document's, else 0 (documents skipped as already signed are fine). */
static int
sign_exit_code(JsonObject *answer, gboolean print)
{
	JsonArray *a = json_object_get_array_member(answer, "results");
	JsonObject *stop = json_object_has_member(answer, "error")
	                           ? json_object_get_object_member(answer, "error")
	                           : NULL;
	guint n = a != NULL ? json_array_get_length(a) : 0;
	int code = 0;

	for (guint i = 0; i < n; i++) {
		JsonObject *r = json_array_get_object_element(a, i);
		const char *status = sdr_json_get_string(r, "status", "");
		const char *name = str_or(r, "name", "?");

		if (g_str_equal(status, "ok")) {
			if (print && sdr_json_get_string(r, "existing_kept", NULL) != NULL)
				say(stdout, _("✔ %s → %s (%s already exists: kept as it was)\n"),
				    name, str_or(r, "output", ""),
				    sdr_json_get_string(r, "existing_kept", NULL));
			else if (print)
				say(stdout, _("✔ %s → %s\n"), name,
				    str_or(r, "output", str_or(r, "output_name", "")));
		} else if (g_str_equal(status, "skipped")) {
			if (print)
				say(stdout, _("= already signed: %s (%s)\n"), name,
				    str_or(r, "output", ""));
		} else if (g_str_equal(status, "not_signed")) {
			if (print)
				say(stdout, _("· %s: not signed\n"), name);
		} else {
			JsonObject *e = json_object_has_member(r, "error")
			                        ? json_object_get_object_member(r, "error")
			                        : NULL;
			if (print)
				say(stdout, _("✘ %s: %s\n"), name, str_or(e, "message", status));
			if (code == 0)
				code = (int)sdr_json_get_int(e, "exit_code", 1);
		}
	}
	if (stop != NULL)
		code = (int)sdr_json_get_int(stop, "exit_code", 1);
	if (print && n > 1 && (stop != NULL || code != 0)) {
		gint64 ok = sdr_json_get_int(answer, "signed", 0);

		say(stdout,
		    g_dngettext(GETTEXT_PACKAGE, "%lld document signed out of %u.\n",
		                "%lld documents signed out of %u.\n", (gulong)ok),
		    (long long)ok, n);
	}
	if (print && stop != NULL) {
		say(stderr, "sinadur: %s\n", str_or(stop, "message", ""));
		say(stdout, "%s\n",
		    _("The documents signed are complete; the others were not touched. "
		      "To finish, fix the problem (plug the key back in) and run the same "
		      "command again: only the documents left will be signed."));
	}
	return code;
}

/* After signing: the certificate's expiry warning, as `certs` gives it (stderr, so
 * scripts reading the results are not disturbed). */
static void
print_cert_expiry(JsonObject *answer)
{
	JsonObject *e = json_object_has_member(answer, "certificate_expiry")
	                        ? json_object_get_object_member(answer, "certificate_expiry")
	                        : NULL;
	const char *status = sdr_json_get_string(e, "expiry_status", "ok");
	gint64 days = sdr_json_get_int(e, "days_left", 0);
	g_autofree char *until = format_date(sdr_json_get_string(e, "not_after", NULL));

	if (g_str_equal(status, "critical") || g_str_equal(status, "warning"))
		say(stderr,
		    g_dngettext(GETTEXT_PACKAGE,
		                "! Your certificate expires in %lld day (on %s): %s\n",
		                "! Your certificate expires in %lld days (on %s): %s\n",
		                (gulong)MAX(days, 0)),
		    (long long)days, until,
		    g_str_equal(status, "critical")
		            ? _("order the renewal from your certification authority now.")
		            : _("plan the renewal."));
}

static int
print_doctor(JsonObject *answer)
{
	JsonArray *a = json_object_get_array_member(answer, "checks");
	gint64 problems = sdr_json_get_int(answer, "problems", 0);

	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *c = json_array_get_object_element(a, i);
		const char *status = str_or(c, "status", "info");
		const char *mark = g_str_equal(status, "ok")        ? "✔"
		                   : g_str_equal(status, "warning") ? "!"
		                   : g_str_equal(status, "error")   ? "✘"
		                                                    : "·";

		say(stdout, "%s %s\n", mark, str_or(c, "message", ""));
		if (sdr_json_get_string(c, "advice", NULL) != NULL && !g_str_equal(status, "ok"))
			say(stdout, _("    What to do: %s\n"),
			    sdr_json_get_string(c, "advice", NULL));
	}
	if (problems == 0)
		say(stdout, "%s\n", _("Everything looks fine."));
	else
		say(stdout,
		    g_dngettext(GETTEXT_PACKAGE, "%lld problem found.\n", "%lld problems found.\n",
		                (gulong)problems),
		    (long long)problems);
	return problems == 0 ? SDR_EXIT_OK : SDR_EXIT_PROBLEMS;
}

/* ---- Requests ------------------------------------------------------------------- */

static gboolean
build_sign_request(CliOptions *o, char **files, JsonObject *req, GError **error)
{
	JsonObject *opts = json_object_new();
	JsonArray *docs = json_array_new();
	int n_modes = (o->detached ? 1 : 0) + (o->attached ? 1 : 0) + (o->enveloped ? 1 : 0) +
	              (o->enveloping ? 1 : 0);

	json_object_set_object_member(req, "options", opts);
	json_object_set_array_member(req, "documents", docs);
	if (files == NULL || files[0] == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("sign: name at least one file to sign."));
		return FALSE;
	}
	if (n_modes > 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("sign: choose only one of --detached, --attached, --enveloped, "
		              "--enveloping."));
		return FALSE;
	}
	if ((o->output != NULL) + (o->output_dir != NULL) + (o->in_place ? 1 : 0) > 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("sign: choose only one of --output, --output-dir, --in-place."));
		return FALSE;
	}
	if ((o->key_file == NULL) != (o->cert_file == NULL)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("sign: --key and --cert-file go together."));
		return FALSE;
	}
	json_object_set_string_member(req, "format", o->format != NULL ? o->format : "cades");
	if (o->detached)
		json_object_set_string_member(opts, "mode", "detached");
	if (o->attached)
		json_object_set_string_member(opts, "mode", "attached");
	if (o->enveloped)
		json_object_set_string_member(opts, "mode", "enveloped");
	if (o->enveloping)
		json_object_set_string_member(opts, "mode", "enveloping");
	if (o->level != NULL)
		json_object_set_string_member(opts, "level", o->level);
	if (o->hash != NULL)
		json_object_set_string_member(opts, "hash", o->hash);
	if (o->visible)
		json_object_set_boolean_member(opts, "visible", TRUE);
	if (o->page != 0) {
		if (o->page < 1) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("sign: --page counts from 1."));
			return FALSE;
		}
		json_object_set_int_member(opts, "page", o->page);
	}
	if (o->rect != NULL) {
		g_auto(GStrv) parts = g_strsplit(o->rect, ",", -1);
		JsonArray *r = json_array_new();

		for (guint i = 0; parts[i] != NULL; i++) {
			char *end = NULL;
			double v = g_ascii_strtod(parts[i], &end);
			if (end == parts[i] || *end != '\0' || v < 0 || v > 100000) {
				json_array_unref(r);
				r = NULL;
				break;
			}
			json_array_add_double_element(r, v);
		}
		if (r == NULL || g_strv_length(parts) != 4) {
			if (r != NULL)
				json_array_unref(r);
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("sign: --rect is x,y,w,h in points (e.g. 50,50,200,60)."));
			return FALSE;
		}
		json_object_set_array_member(opts, "rect", r);
	}
	if (o->reason != NULL)
		json_object_set_string_member(opts, "reason", o->reason);
	if (o->location != NULL)
		json_object_set_string_member(opts, "location", o->location);
	if (o->image != NULL)
		json_object_set_string_member(opts, "image", o->image);
	if (o->bordereaux != NULL) {
		JsonArray *b = json_array_new();
		for (guint i = 0; o->bordereaux[i] != NULL; i++)
			json_array_add_string_element(b, o->bordereaux[i]);
		json_object_set_array_member(opts, "bordereaux", b);
	}
	if (o->pades)
		json_object_set_boolean_member(opts, "pades", TRUE);
	if (o->cades)
		json_object_set_boolean_member(opts, "cades", TRUE);
	if (o->cert != NULL)
		json_object_set_string_member(req, "certificate", o->cert);
	if (o->output != NULL)
		json_object_set_string_member(req, "output", o->output);
	if (o->output_dir != NULL)
		json_object_set_string_member(req, "output_dir", o->output_dir);
	if (o->in_place)
		json_object_set_boolean_member(req, "in_place", TRUE);
	if (o->overwrite)
		json_object_set_boolean_member(req, "overwrite", TRUE);
	for (guint i = 0; files[i] != NULL; i++) {
		JsonObject *d = json_object_new();
		json_object_set_string_member(d, "path", files[i]);
		json_array_add_object_element(docs, d);
	}
	return TRUE;
}

static gboolean
build_verify_request(CliOptions *o, char **files, JsonObject *req, GError **error)
{
	JsonArray *a = json_array_new();

	json_object_set_array_member(req, "files", a);
	if (files == NULL || files[0] == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("verify: name at least one file to verify."));
		return FALSE;
	}
	for (guint i = 0; files[i] != NULL; i++) {
		JsonObject *f = json_object_new();
		json_object_set_string_member(f, "path", files[i]);
		json_array_add_object_element(a, f);
	}
	if (o->content != NULL)
		json_object_set_string_member(req, "content", o->content);
	if (o->at != NULL)
		json_object_set_string_member(req, "at", o->at);
	if (o->report != NULL)
		json_object_set_string_member(req, "report", o->report);
	if (o->offline)
		json_object_set_boolean_member(req, "offline", TRUE);
	if (o->tl != NULL) {
		JsonArray *tl = json_array_new();

		for (guint i = 0; o->tl[i] != NULL; i++)
			json_array_add_string_element(tl, o->tl[i]);
		json_object_set_array_member(req, "tl", tl);
	}
	return TRUE;
}

static gboolean
build_extend_request(CliOptions *o, char **files, JsonObject *req, GError **error)
{
	/* --renew alone means --level LTA */
	const char *level = o->level != NULL ? o->level : o->renew ? "LTA" : NULL;

	if (files == NULL || files[0] == NULL || level == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("extend: name one signature file and --level LT or LTA."));
		return FALSE;
	}
	json_object_set_string_member(req, "file", files[0]);
	json_object_set_string_member(req, "level", level);
	if (o->output != NULL)
		json_object_set_string_member(req, "output", o->output);
	if (o->overwrite)
		json_object_set_boolean_member(req, "overwrite", TRUE);
	if (o->content != NULL)
		json_object_set_string_member(req, "content", o->content);
	if (o->tsa != NULL)
		json_object_set_string_member(req, "tsa", o->tsa);
	if (o->renew)
		json_object_set_boolean_member(req, "renew", TRUE);
	return TRUE;
}

static int
print_extend(JsonObject *r)
{
	const char *file = str_or(r, "file", "");
	const char *out = str_or(r, "output", "");

	if (sdr_json_get_bool(r, "renewed", FALSE))
		say(stdout, _("+ archive timestamp renewed: %s -> %s (%s, %s)\n"), file, out,
		    str_or(r, "format", ""), str_or(r, "level", ""));
	else if (sdr_json_get_bool(r, "already", FALSE))
		say(stdout, _("= already at level %s: %s (nothing written)\n"),
		    str_or(r, "level", ""), file);
	else
		say(stdout, _("+ extended: %s -> %s (%s, %s -> %s)\n"), file, out,
		    str_or(r, "format", ""), str_or(r, "level_before", ""), str_or(r, "level", ""));
	return SDR_EXIT_OK;
}

/* ---- deploy browsers (administrators; run by the package's maintainer scripts) ---- */

static const char *
deploy_action_text(const SdrDeployItem *it)
{
	if (g_strcmp0(it->action, "written") == 0)
		return _("written");
	if (g_strcmp0(it->action, "merged") == 0)
		return _("updated (other policies kept)");
	if (g_strcmp0(it->action, "removed") == 0)
		return _("removed");
	return _("unchanged");
}

static const char *
nss_state_text(SdrNssState state)
{
	switch (state) {
	case SDR_NSS_ADDED:
		return _("key registered (p11-kit)");
	case SDR_NSS_PRESENT:
		return _("already registered (p11-kit)");
	case SDR_NSS_OTHER:
		return _(
		        "OpenSC is registered there already: p11-kit not added (the key would show "
		        "twice)");
	case SDR_NSS_REMOVED:
		return _("registration removed");
	case SDR_NSS_ABSENT:
	default:
		return _("nothing of sinadur's");
	}
}

/* sinadur deploy nss: the user's own NSS databases (Chromium/Chrome TLS login). */
static int
cli_deploy_nss(CliOptions *o, gboolean remove)
{
	static const char *const states[] = { "added", "present", "other", "removed", "absent" };
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) items = sdr_deploy_nss(remove, &error);

	if (items == NULL)
		return fail(o, error);
	if (o->json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
		JsonObject *out = json_object_new();
		JsonArray *a = json_array_new();

		for (guint i = 0; i < items->len; i++) {
			const SdrNssItem *it = g_ptr_array_index(items, i);
			JsonObject *e = json_object_new();

			json_object_set_string_member(e, "database", it->dbdir);
			json_object_set_string_member(e, "state", states[it->state]);
			json_array_add_object_element(a, e);
		}
		json_object_set_array_member(out, "nss", a);
		json_node_take_object(node, out);
		print_json(node);
		return SDR_EXIT_OK;
	}
	for (guint i = 0; i < items->len; i++) {
		const SdrNssItem *it = g_ptr_array_index(items, i);

		/* "NSS ~/.pki/nssdb: key registered (p11-kit)" */
		say(stdout, _("NSS %s: %s\n"), it->dbdir, nss_state_text(it->state));
	}
	return SDR_EXIT_OK;
}

static int
cli_deploy(int argc, char **argv)
{
	g_autofree char *root = NULL;
	gboolean remove = FALSE, json = FALSE;
	GOptionEntry entries[] = {
		{ "root", 0, 0, G_OPTION_ARG_FILENAME, &root,
		  N_("Write under DIR instead of / (tests, images)"), N_("DIR") },
		{ "remove", 0, 0, G_OPTION_ARG_NONE, &remove,
		  N_("Remove what deploy wrote (package purge)"), NULL },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON (for scripts)"), NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) oc = g_option_context_new(_("browsers | nss"));
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) config = NULL;
	g_autoptr(GPtrArray) items = NULL;
	CliOptions o = { 0 };

	g_option_context_add_main_entries(oc, entries, GETTEXT_PACKAGE);
	g_option_context_set_translation_domain(oc, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	        oc, _("browsers (root): write the browsers' managed policies from\n"
	              "/etc/sinadur/policy.conf: Chromium and Chrome let the allowed portals\n"
	              "reach the local agent, Firefox registers p11-kit's PKCS#11 module\n"
	              "(merged into policies.json).\n"
	              "nss (each user; the agent does it at login): register p11-kit's module\n"
	              "in the user's NSS database, for logging in with the key in Chromium\n"
	              "and Chrome."));
	if (!g_option_context_parse(oc, &argc, &argv, &error)) {
		g_autoptr(GError) e =
		        g_error_new(SDR_ERROR, SDR_ERROR_BAD_REQUEST, "%s", error->message);
		return fail(NULL, e);
	}
	o.json = json;
	if (argc == 2 && g_str_equal(argv[1], "nss") && root == NULL)
		return cli_deploy_nss(&o, remove);
	if (argc != 2 || !g_str_equal(argv[1], "browsers")) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Usage: sinadur deploy browsers [--root DIR] [--remove] | sinadur "
		              "deploy nss [--remove]"));
		return fail(&o, error);
	}
	if (remove) {
		items = sdr_deploy_browsers_remove(root, &error);
	} else {
		config = sdr_deploy_load_system_config(root, &error);
		if (config != NULL)
			items = sdr_deploy_browsers(config, root, &error);
	}
	if (items == NULL)
		return fail(&o, error);
	if (json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
		JsonObject *out = json_object_new();
		JsonArray *a = json_array_new();

		for (guint i = 0; i < items->len; i++) {
			SdrDeployItem *it = g_ptr_array_index(items, i);
			JsonObject *e = json_object_new();

			json_object_set_string_member(e, "browser",
			                              sdr_deploy_browser_name(it->browser));
			json_object_set_string_member(e, "path", it->path);
			json_object_set_string_member(e, "action", it->action);
			json_array_add_object_element(a, e);
		}
		json_object_set_array_member(out, "files", a);
		json_node_take_object(node, out);
		print_json(node);
		return SDR_EXIT_OK;
	}
	for (guint i = 0; i < items->len; i++) {
		SdrDeployItem *it = g_ptr_array_index(items, i);

		/* "Firefox: /etc/firefox/policies/policies.json written" */
		say(stdout, _("%s: %s %s\n"), sdr_deploy_browser_name(it->browser), it->path,
		    deploy_action_text(it));
	}
	return SDR_EXIT_OK;
}

/* ---- main ----------------------------------------------------------------------- */

static const char *const commands[] = { "tokens", "certs",   "sign", "verify", "extend",
	                                "doctor", "version", "help", NULL };

static GOptionContext *
make_option_context(CliOptions *o)
{
	const GOptionEntry entries[] = {
		{ "module", 0, 0, G_OPTION_ARG_FILENAME, &o->module,
		  N_("Use only this PKCS#11 module"), N_("PATH") },
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &o->config_file,
		  N_("Read this configuration file instead of ~/.config/sinadur/sinadur.conf"),
		  N_("FILE") },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o->json, N_("Print JSON (for scripts)"), NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		  N_("Also print the technical detail of errors"), NULL },
		{ "pin-fd", 0, 0, G_OPTION_ARG_INT, &o->pin_fd,
		  N_("Read the PIN from this file descriptor (one line)"), N_("N") },
		{ "prompt-script", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME,
		  &o->prompt_script, N_("Test facility: answer prompts from FILE"), N_("FILE") },
		{ "format", 'f', 0, G_OPTION_ARG_STRING, &o->format,
		  N_("sign: cades, xades, pades, pes, actes or marche"), N_("FORMAT") },
		{ "detached", 0, 0, G_OPTION_ARG_NONE, &o->detached, N_("sign: detached signature"),
		  NULL },
		{ "attached", 0, 0, G_OPTION_ARG_NONE, &o->attached,
		  N_("sign: CAdES with the document inside"), NULL },
		{ "enveloped", 0, 0, G_OPTION_ARG_NONE, &o->enveloped,
		  N_("sign: XAdES inside the XML document"), NULL },
		{ "enveloping", 0, 0, G_OPTION_ARG_NONE, &o->enveloping,
		  N_("sign: XAdES holding the document"), NULL },
		{ "level", 0, 0, G_OPTION_ARG_STRING, &o->level, N_("sign: B, T, LT or LTA"),
		  N_("LEVEL") },
		{ "hash", 0, 0, G_OPTION_ARG_STRING, &o->hash, N_("sign: sha256, sha384 or sha512"),
		  N_("HASH") },
		{ "cert", 0, 0, G_OPTION_ARG_STRING, &o->cert,
		  N_("sign: the certificate to use (id from “sinadur certs”)"), N_("ID") },
		{ "tsa", 0, 0, G_OPTION_ARG_STRING, &o->tsa,
		  N_("extend: the timestamping server (else [signature] tsa_url)"), N_("URL") },
		{ "renew", 0, 0, G_OPTION_ARG_NONE, &o->renew,
		  N_("extend: at LTA, add the last archive timestamp's validation data and a new "
		     "archive timestamp"),
		  NULL },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
		  N_("sign: output file (one document)"), N_("PATH") },
		{ "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->output_dir,
		  N_("sign: folder for the outputs"), N_("DIR") },
		{ "in-place", 0, 0, G_OPTION_ARG_NONE, &o->in_place,
		  N_("sign: replace the document (atomically)"), NULL },
		{ "overwrite", 0, 0, G_OPTION_ARG_NONE, &o->overwrite,
		  N_("sign: replace an existing output file (never the document)"), NULL },
		{ "visible", 0, 0, G_OPTION_ARG_NONE, &o->visible,
		  N_("sign (PDF): visible signature stamp"), NULL },
		{ "page", 0, 0, G_OPTION_ARG_INT, &o->page, N_("sign (PDF): page of the stamp"),
		  N_("N") },
		{ "rect", 0, 0, G_OPTION_ARG_STRING, &o->rect,
		  N_("sign (PDF): stamp rectangle in points"), N_("x,y,w,h") },
		{ "reason", 0, 0, G_OPTION_ARG_STRING, &o->reason, N_("sign (PDF): reason"),
		  N_("TEXT") },
		{ "location", 0, 0, G_OPTION_ARG_STRING, &o->location, N_("sign (PDF): place"),
		  N_("TEXT") },
		{ "image", 0, 0, G_OPTION_ARG_FILENAME, &o->image,
		  N_("sign (PDF): image in the stamp"), N_("PNG") },
		{ "bordereau", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->bordereaux,
		  N_("sign (PES): sign only this bordereau (repeatable)"), N_("ID") },
		{ "pades", 0, 0, G_OPTION_ARG_NONE, &o->pades,
		  N_("sign (ACTES): PAdES inside the PDF"), NULL },
		{ "cades", 0, 0, G_OPTION_ARG_NONE, &o->cades,
		  N_("sign (marche): CAdES .p7s for files that are not PDF"), NULL },
		{ "key", 0, 0, G_OPTION_ARG_FILENAME, &o->key_file,
		  N_("sign: tests and demo only — a PEM private key file instead of a token"),
		  N_("FILE") },
		{ "cert-file", 0, 0, G_OPTION_ARG_FILENAME, &o->cert_file,
		  N_("sign: tests and demo only — the PEM certificate of --key"), N_("FILE") },
		{ "chain-file", 0, 0, G_OPTION_ARG_FILENAME, &o->chain_file,
		  N_("sign: with --key, PEM CA certificates to embed"), N_("FILE") },
		{ "all", 0, 0, G_OPTION_ARG_NONE, &o->all,
		  N_("certs: also list CA certificates stored on the keys"), NULL },
		{ "content", 0, 0, G_OPTION_ARG_FILENAME, &o->content,
		  N_("verify: the signed document of a detached signature"), N_("DATA") },
		{ "at", 0, 0, G_OPTION_ARG_STRING, &o->at,
		  N_("verify: validate at this time (ISO 8601)"), N_("TIME") },
		{ "report", 0, 0, G_OPTION_ARG_FILENAME, &o->report,
		  N_("verify: write an HTML report"), N_("FILE") },
		{ "tl", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->tl,
		  N_("verify: a trusted list, LOTL signer certificate or folder (repeatable)"),
		  N_("FILE") },
		{ "offline", 0, 0, G_OPTION_ARG_NONE, &o->offline,
		  N_("verify: no network (no OCSP, CRL or issuer certificate fetched)"), NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &o->version, N_("Print the version"), NULL },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *oc = g_option_context_new(
	        _("COMMAND [FILE…] — tokens, certs, sign, verify, extend, doctor, version"));
	GOptionGroup *main_group = g_option_group_new(NULL, NULL, NULL, o, NULL);

	g_option_group_set_translation_domain(main_group, GETTEXT_PACKAGE);
	g_option_group_add_entries(main_group, entries);
	g_option_context_set_main_group(oc, main_group);
	g_option_context_set_translation_domain(oc, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	        oc, _("Sign and verify documents with an RGS certificate on a USB key.\n\n"
	              "Commands:\n"
	              "  tokens    list the keys (tokens)\n"
	              "  certs     list the certificates\n"
	              "  sign      sign files\n"
	              "  verify    verify signatures\n"
	              "  extend    add long-term validation data (LT, LTA) to a signature\n"
	              "  doctor    check the installation and say what to do\n"
	              "  version   print the version"));
	return oc;
}

static gboolean
check_options_for(const CliOptions *o, const char *cmd, GError **error)
{
	gboolean sign_opts =
	        o->format != NULL || o->detached || o->attached || o->enveloped || o->enveloping ||
	        o->level != NULL || o->hash != NULL || o->output != NULL || o->output_dir != NULL ||
	        o->in_place || o->visible || o->page != 0 || o->rect != NULL || o->reason != NULL ||
	        o->location != NULL || o->image != NULL || o->bordereaux != NULL || o->pades ||
	        o->cades || o->key_file != NULL || o->cert_file != NULL || o->chain_file != NULL;
	gboolean verify_opts = o->content != NULL || o->at != NULL || o->report != NULL ||
	                       o->tl != NULL || o->offline;

	sign_opts = sign_opts || o->overwrite;
	if (g_str_equal(cmd, "extend")) {
		/* extend takes --level, --output, --overwrite, --content, --tsa and --renew only */
		gboolean other = o->format != NULL || o->detached || o->attached || o->enveloped ||
		                 o->enveloping || o->hash != NULL || o->output_dir != NULL ||
		                 o->in_place || o->visible || o->page != 0 || o->rect != NULL ||
		                 o->reason != NULL || o->location != NULL || o->image != NULL ||
		                 o->bordereaux != NULL || o->pades || o->cades ||
		                 o->key_file != NULL || o->cert_file != NULL ||
		                 o->chain_file != NULL || o->at != NULL || o->report != NULL ||
		                 o->tl != NULL;

		if (other) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("extend: this option is not for “sinadur extend”."));
			return FALSE;
		}
		return TRUE;
	}
	if (o->tsa != NULL || o->renew) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("%s: this option is only for “sinadur extend”."), cmd);
		return FALSE;
	}
	if (sign_opts && !g_str_equal(cmd, "sign")) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("%s: this option is only for “sinadur sign”."), cmd);
		return FALSE;
	}
	if (verify_opts && !g_str_equal(cmd, "verify")) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("%s: this option is only for “sinadur verify”."), cmd);
		return FALSE;
	}
	return TRUE;
}

/* "Signature 12/300 : name" rewritten in place on stderr (a terminal), erased at
 * the end; batches of one document print nothing. */
static void
cli_progress(guint done, guint total, const char *current, gpointer data)
{
	(void)data;
	if (total < 2)
		return;
	if (current == NULL) {
		fputs("\r\033[K", stderr);
		return;
	}
	fputs("\r\033[K", stderr);
	say(stderr, _("Signing %u/%u: %s"), done + 1, total, current);
	fflush(stderr);
}

/* long: the command line's option table (every option of every command, one entry
 * each) and the dispatch to the handlers; no logic of its own. */
int
main(int argc, char **argv)
{
	CliOptions o = { 0 };
	g_autoptr(GOptionContext) oc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) config = NULL;
	g_autoptr(SdrPrompt) prompt = NULL;
	g_autoptr(SdrContext) ctx = NULL;
	g_autoptr(JsonObject) req = json_object_new();
	g_autoptr(JsonNode) answer = NULL;
	g_auto(GStrv) args = NULL;
	g_autofree char *audit_failure = NULL;
	SdrContextOptions copts = { 0 };
	const char *cmd, *handler;
	char **files;
	int ret = 0;

	sdr_i18n_init();
	if (sdr_cli_s2low_wants(argc, argv))
		return sdr_cli_s2low_main(argc, argv);
	if (sdr_cli_trust_wants(argc, argv))
		return sdr_cli_trust_main(argc, argv);
	if (argc > 1 && g_str_equal(argv[1], "deploy"))
		return cli_deploy(argc - 1, argv + 1);
	o.pin_fd = -1;
	oc = make_option_context(&o);
	args = g_strdupv(argv);
	{
		int n = argc;
		char **copy = args;
		if (!g_option_context_parse_strv(oc, &args, &error)) {
			g_autoptr(GError) e =
			        g_error_new(SDR_ERROR, SDR_ERROR_BAD_REQUEST, "%s", error->message);
			(void)n;
			(void)copy;
			ret = fail(NULL, e);
			goto out;
		}
	}
	if (o.version) {
		say(stdout, "sinadur %s\n", SDR_VERSION);
		goto out;
	}
	cmd = args[1];
	if (cmd == NULL || g_str_equal(cmd, "help")) {
		g_autofree char *help = g_option_context_get_help(oc, TRUE, NULL);
		/* g_print: transliterated when the terminal is not UTF-8 (sdr-i18n.h) */
		if (cmd == NULL) {
			g_printerr("%s", help);
			ret = 2;
		} else {
			g_print("%s", help);
		}
		goto out;
	}
	if (!g_strv_contains(commands, cmd)) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Unknown command “%s” (tokens, certs, sign, verify, extend, doctor, "
		              "version)."),
		            cmd);
		ret = fail(&o, error);
		goto out;
	}
	if (g_str_equal(cmd, "version")) {
		if (o.json)
			say(stdout, "{\n  \"name\" : \"sinadur\",\n  \"version\" : \"%s\"\n}\n",
			    SDR_VERSION);
		else
			say(stdout, "sinadur %s\n", SDR_VERSION);
		goto out;
	}
	files = &args[2];
	if (!check_options_for(&o, cmd, &error)) {
		ret = fail(&o, error);
		goto out;
	}
	if (files[0] != NULL && !g_str_equal(cmd, "sign") && !g_str_equal(cmd, "verify") &&
	    !(g_str_equal(cmd, "extend") && files[1] == NULL)) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("%s: unexpected argument “%s”."), cmd, files[0]);
		ret = fail(&o, error);
		goto out;
	}
	if (o.pin_fd != -1 && (o.pin_fd < 0 || fcntl(o.pin_fd, F_GETFD) < 0)) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("--pin-fd %d: this file descriptor is not open."), o.pin_fd);
		ret = fail(&o, error);
		goto out;
	}

	if (g_str_equal(cmd, "sign")) {
		if (!build_sign_request(&o, files, req, &error)) {
			ret = fail(&o, error);
			goto out;
		}
		handler = "sign";
	} else if (g_str_equal(cmd, "verify")) {
		if (!build_verify_request(&o, files, req, &error)) {
			ret = fail(&o, error);
			goto out;
		}
		handler = "verify";
	} else if (g_str_equal(cmd, "extend")) {
		if (!build_extend_request(&o, files, req, &error)) {
			ret = fail(&o, error);
			goto out;
		}
		handler = "extend";
	} else if (g_str_equal(cmd, "certs")) {
		if (o.all)
			json_object_set_boolean_member(req, "all", TRUE);
		handler = "certificates";
	} else {
		handler = cmd;
	}

	config = sdr_config_load(o.config_file, &error);
	if (config == NULL) {
		ret = fail(&o, error);
		goto out;
	}
	if (o.prompt_script != NULL) {
		prompt = sdr_prompt_script_new(o.prompt_script, &error);
		if (prompt == NULL) {
			ret = fail(&o, error);
			goto out;
		}
	} else {
		/* The files named on the command line are the consent. */
		prompt = sdr_prompt_terminal_new(o.pin_fd, TRUE);
	}
	copts.config = config;
	copts.prompt = prompt;
	copts.only_module = o.module;
	/* A progress line for batches, only for a person watching the terminal. */
	if (g_str_equal(cmd, "sign") && isatty(STDERR_FILENO))
		copts.progress = cli_progress;
	ctx = sdr_context_new(&copts);
	if (o.key_file != NULL && g_str_equal(cmd, "sign")) {
		if (!sdr_context_set_signer_files(ctx, o.key_file, o.cert_file, o.chain_file,
		                                  &error)) {
			ret = fail(&o, error);
			goto out;
		}
	}

	answer = sdr_handler_run(ctx, handler, req, &error);
	if (copts.progress != NULL)
		fputs("\r\033[K", stderr); /* a batch stopped midway: no progress line left */
	audit_failure = sdr_audit_take_failure();
	if (audit_failure != NULL) {
		/* Signing went on (the log is best effort), but the person must know. */
		say(stderr,
		    _("sinadur: warning: the audit log could not be written (%s): this "
		      "operation is not recorded in it.\n"),
		    audit_failure);
		if (answer != NULL && JSON_NODE_HOLDS_OBJECT(answer))
			json_object_set_string_member(json_node_get_object(answer), "audit_error",
			                              audit_failure);
	}
	if (answer == NULL) {
		ret = fail(&o, error);
		goto out;
	}
	if (o.json) {
		print_json(answer);
		if (g_str_equal(handler, "verify")) {
			ret = verify_exit_code(json_node_get_object(answer));
		} else if (g_str_equal(handler, "sign")) {
			ret = sign_exit_code(json_node_get_object(answer), FALSE);
		} else if (g_str_equal(handler, "tokens")) {
			ret = list_exit_code(json_node_get_object(answer), "tokens");
		} else if (g_str_equal(handler, "certificates")) {
			ret = list_exit_code(json_node_get_object(answer), "certificates");
		} else if (g_str_equal(handler, "doctor")) {
			ret = sdr_json_get_int(json_node_get_object(answer), "problems", 0) == 0
			              ? SDR_EXIT_OK
			              : SDR_EXIT_PROBLEMS;
		}
		goto out;
	}
	if (g_str_equal(handler, "tokens"))
		ret = print_tokens(json_node_get_object(answer));
	else if (g_str_equal(handler, "certificates"))
		ret = print_certs(json_node_get_object(answer));
	else if (g_str_equal(handler, "sign")) {
		print_cert_expiry(json_node_get_object(answer));
		ret = sign_exit_code(json_node_get_object(answer), TRUE);
	} else if (g_str_equal(handler, "verify"))
		ret = print_verify(json_node_get_object(answer));
	else if (g_str_equal(handler, "doctor"))
		ret = print_doctor(json_node_get_object(answer));
	else if (g_str_equal(handler, "extend"))
		ret = print_extend(json_node_get_object(answer));
out:
	cli_options_clear(&o);
	return ret;
}
