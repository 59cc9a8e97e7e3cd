/* sdr-cli-s2low.c - `sinadur s2low test`, `sinadur send actes|pes`, `sinadur status`:
 * the teletransmission commands (handlers "s2low-test", "send-actes", "send-pes",
 * "status"). Same conventions as sdr-cli.c: French text or --json, exit codes of
 * docs/sinadur.1 (sdr_error_exit_code), PIN from the terminal or --pin-fd. */
#include "sdr-cli-s2low.h"

#include "sdr-context.h"
#include "sdr-error.h"
#include "sdr-i18n.h"
#include "sdr-json.h"
#include "sdr-sanitize.h"

#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char *config_file, *module, *prompt_script, *output, *output_dir, *cert;
	gboolean json, verbose, offline, sign, en_attente, mark_read;
	int pin_fd, password_fd;
	char *nature, *classification, *number, *date, *subject, *type_acte;
	char **annexes, **types_pj;
} S2lowOptions;

static void
options_clear(S2lowOptions *o)
{
	g_free(o->config_file);
	g_free(o->module);
	g_free(o->prompt_script);
	g_free(o->output);
	g_free(o->output_dir);
	g_free(o->cert);
	g_free(o->nature);
	g_free(o->classification);
	g_free(o->number);
	g_free(o->date);
	g_free(o->subject);
	g_free(o->type_acte);
	g_strfreev(o->annexes);
	g_strfreev(o->types_pj);
}

static void
print_node(JsonNode *node)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_root(gen, node);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
}

static int
fail(const S2lowOptions *o, const GError *error)
{
	int code = sdr_error_exit_code(error);
	g_autofree char *detail = NULL;
	g_autofree char *message = sdr_error_split_detail(error->message, &detail);
	g_autofree char *safe = sdr_sanitize_for_display(message, 0);

	if (o->json) {
		g_autoptr(JsonObject) e = json_object_new();
		g_autoptr(JsonObject) root = json_object_new();
		g_autoptr(JsonNode) node = NULL;

		json_object_set_string_member(e, "code",
		                              error->domain == SDR_ERROR
		                                      ? sdr_error_code_name(error->code)
		                                      : "SDR_ERROR_FAILED");
		json_object_set_string_member(e, "message", message);
		if (detail != NULL)
			json_object_set_string_member(e, "detail", detail);
		json_object_set_int_member(e, "exit_code", code);
		json_object_set_object_member(root, "error", json_object_ref(e));
		node = json_node_init_object(json_node_alloc(), root);
		print_node(node);
	}
	fprintf(stderr, "sinadur: %s\n", safe);
	if (detail != NULL && o->verbose) {
		g_autofree char *d = sdr_sanitize_for_display(detail, 0);
		fprintf(stderr, _("  detail: %s\n"), d);
	}
	return code;
}

/* One send, in French. Every outside string (S²LOW's messages) sanitised. */
static void
print_send(JsonObject *s)
{
	g_autofree char *msg =
	        sdr_sanitize_for_display(sdr_json_get_string(s, "message", NULL), 300);
	g_autofree char *label =
	        sdr_sanitize_for_display(sdr_json_get_string(s, "status_label", ""), 80);
	const char *kind = sdr_json_get_string(s, "kind", "actes");
	const char *tr = sdr_json_get_string(s, "transaction", NULL);
	g_autofree char *safe_tr = tr != NULL ? sdr_sanitize_for_display(tr, 40) : NULL;

	printf(_("Send %lld (%s): %s"), (long long)sdr_json_get_int(s, "id", 0),
	       g_str_equal(kind, "pes") ? _("PES to the Treasury") : _("act to the prefecture"),
	       sdr_json_get_string(s, "state_label", ""));
	if (safe_tr != NULL)
		printf(_(", S²LOW transaction %s"), safe_tr);
	if (json_object_has_member(s, "status"))
		printf(_(", status: %s"), label);
	printf("\n");
	if (msg != NULL && *msg != '\0')
		printf("  %s\n", msg);
}

/* Exit code of a send: refused by S²LOW = 8 (document), to reconcile = 0 (not an
 * error: already received), network trouble on a queued send = 10. */
static int
send_exit_code(JsonObject *s)
{
	const char *state = sdr_json_get_string(s, "state", "");

	if (g_str_equal(state, "failed"))
		return SDR_EXIT_DOCUMENT;
	if ((g_str_equal(state, "queued") || g_str_equal(state, "sending")) &&
	    json_object_has_member(s, "network_error"))
		return SDR_EXIT_NETWORK;
	return SDR_EXIT_OK;
}

static int
print_classification(const S2lowOptions *o, JsonObject *a)
{
	JsonArray *codes = json_object_get_array_member(a, "codes");

	if (o->json)
		return SDR_EXIT_OK;
	if (json_object_has_member(a, "previous_date"))
		printf(_("The classification of S²LOW changed: %s (the cache had %s).\n"),
		       sdr_json_get_string(a, "date", ""),
		       sdr_json_get_string(a, "previous_date", ""));
	else
		printf(_("Classification of S²LOW of %s:\n"), sdr_json_get_string(a, "date", ""));
	for (guint i = 0; codes != NULL && i < json_array_get_length(codes); i++) {
		JsonObject *c = json_array_get_object_element(codes, i);
		g_autofree char *code =
		        sdr_sanitize_for_display(sdr_json_get_string(c, "code", ""), 40);
		g_autofree char *label =
		        sdr_sanitize_for_display(sdr_json_get_string(c, "label", ""), 200);
		printf("  %-10s %s\n", code, label);
	}
	return SDR_EXIT_OK;
}

static int
print_retours(const S2lowOptions *o, JsonObject *a)
{
	JsonArray *list = json_object_get_array_member(a, "retours");
	guint n = list != NULL ? json_array_get_length(list) : 0;

	if (!o->json) {
		if (n == 0)
			printf(_("No unread PES return in S²LOW.\n"));
		for (guint i = 0; i < n; i++) {
			JsonObject *r = json_array_get_object_element(list, i);
			g_autofree char *name =
			        sdr_sanitize_for_display(sdr_json_get_string(r, "name", ""), 120);
			g_autofree char *date =
			        sdr_sanitize_for_display(sdr_json_get_string(r, "date", ""), 40);
			g_autofree char *id =
			        sdr_sanitize_for_display(sdr_json_get_string(r, "id", ""), 20);
			printf(_("Return %s: %s (%s)"), id, name, date);
			if (json_object_has_member(r, "file"))
				printf(_(", saved to %s"), sdr_json_get_string(r, "file", ""));
			if (sdr_json_get_bool(r, "marked_read", FALSE))
				printf(_(", marked read"));
			printf("\n");
		}
		if (n > 0 && !o->mark_read && o->output_dir != NULL)
			printf(_("The returns stay unread in S²LOW (add --mark-read once they are "
			         "handled).\n"));
	}
	if (json_object_has_member(a, "network_error")) {
		g_autofree char *m =
		        sdr_sanitize_for_display(sdr_json_get_string(a, "network_error", ""), 300);
		fprintf(stderr, "sinadur: %s\n", m);
		return SDR_EXIT_NETWORK;
	}
	return SDR_EXIT_OK;
}

static gboolean
has_arg(char **argv, const char *a)
{
	for (int i = 1; argv[i] != NULL; i++) {
		if (g_str_equal(argv[i], a))
			return TRUE;
	}
	return FALSE;
}

gboolean
sdr_cli_s2low_wants(int argc, char **argv)
{
	static const char *const with_value[] = {
		"--config", "--module", "--pin-fd",     "--password-fd", "--prompt-script",
		"--output", "-o",       "--output-dir", "--cert",        NULL
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-') {
			if (g_strv_contains(with_value, a))
				i++;
			continue;
		}
		return g_str_equal(a, "s2low") || g_str_equal(a, "send") ||
		       g_str_equal(a, "status") || g_str_equal(a, "ar") ||
		       g_str_equal(a, "bordereau") || g_str_equal(a, "cancel") ||
		       g_str_equal(a, "retours");
	}
	(void)has_arg;
	return FALSE;
}

/* long: the option table and dispatch of the S²LOW commands (s2low test, send actes,
 * send pes, status, ar): one flat list of options read once. */
int
sdr_cli_s2low_main(int argc, char **argv)
{
	S2lowOptions o = { 0 };
	const GOptionEntry entries[] = {
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &o.config_file,
		  N_("Read this configuration file instead of ~/.config/sinadur/sinadur.conf"),
		  N_("FILE") },
		{ "module", 0, 0, G_OPTION_ARG_FILENAME, &o.module,
		  N_("Use only this PKCS#11 module"), N_("PATH") },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o.json, N_("Print JSON (for scripts)"), NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose,
		  N_("Also print the technical detail of errors"), NULL },
		{ "pin-fd", 0, 0, G_OPTION_ARG_INT, &o.pin_fd,
		  N_("Read the PIN from this file descriptor (one line)"), N_("N") },
		{ "password-fd", 0, 0, G_OPTION_ARG_INT, &o.password_fd,
		  N_("s2low login: read the password from this file descriptor (one line)"),
		  N_("N") },
		{ "prompt-script", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &o.prompt_script,
		  N_("Test facility: answer prompts from FILE"), N_("FILE") },
		{ "nature", 0, 0, G_OPTION_ARG_STRING, &o.nature,
		  N_("send actes: DE, AR, AI, CC, BF or AU"), N_("CODE") },
		{ "classification", 0, 0, G_OPTION_ARG_STRING, &o.classification,
		  N_("send actes: classification, e.g. 1.1"), N_("N.N") },
		{ "number", 0, 0, G_OPTION_ARG_STRING, &o.number,
		  N_("send actes: the act's number (unique)"), N_("NUMBER") },
		{ "date", 0, 0, G_OPTION_ARG_STRING, &o.date,
		  N_("send actes: date of the decision"), N_("YYYY-MM-DD") },
		{ "subject", 0, 0, G_OPTION_ARG_STRING, &o.subject, N_("send actes: subject"),
		  N_("TEXT") },
		{ "type-acte", 0, 0, G_OPTION_ARG_STRING, &o.type_acte,
		  N_("send actes: type of the act, e.g. 99_DE"), N_("CODE") },
		{ "annexe", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.annexes,
		  N_("send actes: an annex (repeatable, each with --type-pj)"), N_("FILE") },
		{ "type-pj", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.types_pj,
		  N_("send actes: type of the annex, in the order of --annexe"), N_("CODE") },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
		  N_("ar: write the acknowledgement to FILE (never replaced)"), N_("FILE") },
		{ "offline", 0, 0, G_OPTION_ARG_NONE, &o.offline,
		  N_("status, s2low classification: only show what is kept here, do not connect"),
		  NULL },
		{ "sign", 0, 0, G_OPTION_ARG_NONE, &o.sign,
		  N_("send actes|pes: sign first (ACTES: a detached signature of every file; PES: "
		     "the bordereaux), with the same PIN entry as the connection"),
		  NULL },
		{ "cert", 0, 0, G_OPTION_ARG_STRING, &o.cert,
		  N_("send --sign: the signing certificate (id or its beginning)"), N_("ID") },
		{ "en-attente", 0, 0, G_OPTION_ARG_NONE, &o.en_attente,
		  N_("send actes: S²LOW keeps the act waiting (status 17) until it is confirmed "
		     "in S²LOW"),
		  NULL },
		{ "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.output_dir,
		  N_("retours: save the returns into DIR (never over a file)"), N_("DIR") },
		{ "mark-read", 0, 0, G_OPTION_ARG_NONE, &o.mark_read,
		  N_("retours: mark each saved return read in S²LOW (other software of the "
		     "authority will no longer see it)"),
		  NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) oc =
	        g_option_context_new(_("s2low test | s2low login | s2low logout | s2low "
	                               "classification | send actes ACT.pdf | send pes FILE.xml | "
	                               "status [ID] | ar ID | bordereau ID | cancel ID | retours "
	                               "[ID]"));
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) config = NULL;
	g_autoptr(SdrPrompt) prompt = NULL;
	g_autoptr(SdrContext) ctx = NULL;
	g_autoptr(JsonObject) req = json_object_new();
	g_autoptr(JsonNode) answer = NULL;
	g_auto(GStrv) args = g_strdupv(argv);
	SdrContextOptions copts = { 0 };
	const char *handler = NULL;
	guint nargs;
	int ret = 0;

	(void)argc;
	o.pin_fd = -1;
	o.password_fd = -1;
	g_option_context_add_main_entries(oc, entries, GETTEXT_PACKAGE);
	g_option_context_set_translation_domain(oc, GETTEXT_PACKAGE);
	if (!g_option_context_parse_strv(oc, &args, &error)) {
		g_autoptr(GError) e =
		        g_error_new(SDR_ERROR, SDR_ERROR_BAD_REQUEST, "%s", error->message);
		ret = fail(&o, e);
		goto out;
	}
	nargs = g_strv_length(args);
	if (nargs >= 3 && g_str_equal(args[1], "s2low") && g_str_equal(args[2], "test") &&
	    nargs == 3) {
		handler = "s2low-test";
	} else if (nargs == 3 && g_str_equal(args[1], "s2low") && g_str_equal(args[2], "login")) {
		handler = "s2low-login";
	} else if (nargs == 3 && g_str_equal(args[1], "s2low") && g_str_equal(args[2], "logout")) {
		handler = "s2low-logout";
	} else if (nargs >= 3 && g_str_equal(args[1], "send") && g_str_equal(args[2], "actes")) {
		guint na = o.annexes != NULL ? g_strv_length(o.annexes) : 0;
		guint nt = o.types_pj != NULL ? g_strv_length(o.types_pj) : 0;
		JsonArray *an = json_array_new();

		if (nargs != 4) {
			g_set_error_literal(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			                    _("send actes: name one act file (PDF); annexes go "
			                      "with --annexe FILE --type-pj CODE."));
			json_array_unref(an);
			ret = fail(&o, error);
			goto out;
		}
		if (na != nt) {
			g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("send actes: %u annexes but %u --type-pj: give one type per "
			              "annex."),
			            na, nt);
			json_array_unref(an);
			ret = fail(&o, error);
			goto out;
		}
		handler = "send-actes";
#define SET(m, v)                                                                                  \
	if ((v) != NULL)                                                                           \
	json_object_set_string_member(req, m, v)
		SET("nature", o.nature);
		SET("classification", o.classification);
		SET("number", o.number);
		SET("date", o.date);
		SET("subject", o.subject);
		SET("type_acte", o.type_acte);
#undef SET
		json_object_set_string_member(req, "acte", args[3]);
		if (o.en_attente)
			json_object_set_boolean_member(req, "en_attente", TRUE);
		for (guint i = 0; i < na; i++) {
			JsonObject *a = json_object_new();
			json_object_set_string_member(a, "path", o.annexes[i]);
			json_object_set_string_member(a, "type_pj", o.types_pj[i]);
			json_array_add_object_element(an, a);
		}
		json_object_set_array_member(req, "annexes", an);
	} else if (nargs == 4 && g_str_equal(args[1], "send") && g_str_equal(args[2], "pes")) {
		handler = "send-pes";
		json_object_set_string_member(req, "file", args[3]);
	} else if (nargs == 3 && g_str_equal(args[1], "s2low") &&
	           g_str_equal(args[2], "classification")) {
		handler = "s2low-classification";
		if (o.offline)
			json_object_set_boolean_member(req, "offline", TRUE);
	} else if (nargs >= 2 && nargs <= 3 && g_str_equal(args[1], "retours")) {
		handler = "s2low-retours";
		if (nargs == 3)
			json_object_set_string_member(req, "id", args[2]);
		if (o.output_dir != NULL)
			json_object_set_string_member(req, "output_dir", o.output_dir);
		if (o.mark_read)
			json_object_set_boolean_member(req, "mark_read", TRUE);
	} else if (nargs == 3 &&
	           (g_str_equal(args[1], "bordereau") || g_str_equal(args[1], "cancel"))) {
		char *end = NULL;
		gint64 id = g_ascii_strtoll(args[2], &end, 10);

		if (end == args[2] || *end != '\0' || id <= 0) {
			g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("%s: “%s” is not a send number (see “sinadur status”)."),
			            args[1], args[2]);
			ret = fail(&o, error);
			goto out;
		}
		handler = g_str_equal(args[1], "cancel") ? "s2low-cancel" : "s2low-bordereau";
		json_object_set_int_member(req, "id", id);
		if (o.output != NULL)
			json_object_set_string_member(req, "output", o.output);
	} else if (nargs >= 2 && nargs <= 3 && g_str_equal(args[1], "status")) {
		handler = "status";
		/* The person asks now: pending sends are tried at once. */
		json_object_set_boolean_member(req, "retry_now", TRUE);
		if (nargs == 3) {
			char *end = NULL;
			gint64 id = g_ascii_strtoll(args[2], &end, 10);
			if (end == args[2] || *end != '\0' || id <= 0) {
				g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
				            _("status: “%s” is not a send number (see “sinadur "
				              "status”)."),
				            args[2]);
				ret = fail(&o, error);
				goto out;
			}
			json_object_set_int_member(req, "id", id);
		}
		if (o.offline)
			json_object_set_boolean_member(req, "offline", TRUE);
	} else if (nargs == 3 && g_str_equal(args[1], "ar")) {
		char *end = NULL;
		gint64 id = g_ascii_strtoll(args[2], &end, 10);

		if (end == args[2] || *end != '\0' || id <= 0) {
			g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("ar: “%s” is not a send number (see “sinadur "
			              "status”)."),
			            args[2]);
			ret = fail(&o, error);
			goto out;
		}
		handler = "s2low-ar";
		json_object_set_int_member(req, "id", id);
		if (o.output != NULL)
			json_object_set_string_member(req, "output", o.output);
	} else {
		g_set_error_literal(
		        &error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		        _("Usage: sinadur s2low test | sinadur s2low login | sinadur "
		          "s2low logout | sinadur s2low classification | sinadur send actes "
		          "[--sign] --nature … ACT.pdf | sinadur send pes [--sign] FILE.xml | "
		          "sinadur status [ID] | sinadur ar ID [--output FILE] | sinadur "
		          "bordereau ID [--output FILE] | sinadur cancel ID | sinadur retours "
		          "[ID] [--output-dir DIR [--mark-read]]"));
		ret = fail(&o, error);
		goto out;
	}
	if ((o.sign || o.cert != NULL) && !g_str_has_prefix(handler, "send-")) {
		g_set_error_literal(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("--sign and --cert go with “send actes” or “send pes”."));
		ret = fail(&o, error);
		goto out;
	}
	if (o.sign)
		json_object_set_boolean_member(req, "sign", TRUE);
	if (o.cert != NULL)
		json_object_set_string_member(req, "sign_certificate", o.cert);
	/* A person at the terminal may be asked to choose (not with --json). */
	if (!o.json)
		json_object_set_boolean_member(req, "interactive", TRUE);
	if (o.pin_fd != -1 && (o.pin_fd < 0 || fcntl(o.pin_fd, F_GETFD) < 0)) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("--pin-fd %d: this file descriptor is not open."), o.pin_fd);
		ret = fail(&o, error);
		goto out;
	}
	if (o.password_fd != -1 && (o.password_fd < 0 || fcntl(o.password_fd, F_GETFD) < 0 ||
	                            !g_str_equal(handler, "s2low-login"))) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("--password-fd %d: only for “s2low login”, with an open file "
		              "descriptor."),
		            o.password_fd);
		ret = fail(&o, error);
		goto out;
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
		/* s2low login asks no PIN: its descriptor gives the password. */
		prompt = sdr_prompt_terminal_new(o.password_fd >= 0 ? o.password_fd : o.pin_fd,
		                                 TRUE);
	}
	copts.config = config;
	copts.prompt = prompt;
	copts.only_module = o.module;
	ctx = sdr_context_new(&copts);
	answer = sdr_handler_run(ctx, handler, req, &error);
	if (answer == NULL) {
		ret = fail(&o, error);
		goto out;
	}
	if (o.json)
		print_node(answer);
	if (g_str_equal(handler, "s2low-test")) {
		JsonObject *a = json_node_get_object(answer);
		if (!o.json) {
			g_autofree char *who = sdr_sanitize_for_display(
			        sdr_json_get_string(a, "subject", "?"), 80);
			printf(_("Connected to S²LOW as %s.\n"), who);
			printf(sdr_json_get_bool(a, "rgs", FALSE)
			               ? _("RGS check: OK (the certificate chain is accepted).\n")
			               : _("RGS check: refused — S²LOW does not accept this "
			                   "certificate chain for ACTES and Hélios (is the "
			                   "intermediate CA sent? see [s2low] chain_file).\n"));
		}
		ret = sdr_json_get_bool(a, "rgs", FALSE) ? SDR_EXIT_OK : SDR_EXIT_CERT;
	} else if (g_str_equal(handler, "s2low-login")) {
		JsonObject *a = json_node_get_object(answer);
		g_autofree char *who =
		        sdr_sanitize_for_display(sdr_json_get_string(a, "login", ""), 80);
		if (!o.json)
			printf(_("The S²LOW password of %s is kept in the desktop keyring (never "
			         "in "
			         "a file).\n"),
			       who);
		ret = SDR_EXIT_OK;
	} else if (g_str_equal(handler, "s2low-logout")) {
		JsonObject *a = json_node_get_object(answer);
		g_autofree char *who =
		        sdr_sanitize_for_display(sdr_json_get_string(a, "login", ""), 80);
		if (!o.json)
			printf(sdr_json_get_bool(a, "removed", FALSE)
			               ? _("The S²LOW password of %s was removed from the desktop "
			                   "keyring.\n")
			               : _("No S²LOW password of %s was in the desktop keyring.\n"),
			       who);
		ret = SDR_EXIT_OK;
	} else if (g_str_equal(handler, "s2low-ar") || g_str_equal(handler, "s2low-bordereau")) {
		JsonObject *a = json_node_get_object(answer);
		const char *what = sdr_json_get_string(a, "what", "");
		if (!o.json)
			printf(g_str_equal(what, "acquit")
			               ? _("Acquit of the Treasury of send %lld written to %s.\n")
			       : g_str_equal(what, "bordereau")
			               ? _("Slip (bordereau) of send %lld written to %s.\n")
			               : _("Acknowledgement of the prefecture (ARActe) of send "
			                   "%lld "
			                   "written to %s.\n"),
			       (long long)sdr_json_get_int(a, "id", 0),
			       sdr_json_get_string(a, "file", ""));
		ret = SDR_EXIT_OK;
	} else if (g_str_equal(handler, "s2low-classification")) {
		ret = print_classification(&o, json_node_get_object(answer));
	} else if (g_str_equal(handler, "s2low-retours")) {
		ret = print_retours(&o, json_node_get_object(answer));
	} else if (g_str_equal(handler, "s2low-cancel")) {
		JsonObject *a = json_node_get_object(answer);
		if (!o.json) {
			printf(_("S²LOW received the cancel of send %lld.\n"),
			       (long long)sdr_json_get_int(a, "cancel_of", 0));
			print_send(a);
		}
		ret = SDR_EXIT_OK;
	} else if (g_str_equal(handler, "status")) {
		JsonObject *a = json_node_get_object(answer);
		JsonArray *sends = json_object_get_array_member(a, "sends");
		if (!o.json) {
			if (json_array_get_length(sends) == 0)
				printf(_("No send in the queue.\n"));
			for (guint i = 0; i < json_array_get_length(sends); i++)
				print_send(json_array_get_object_element(sends, i));
			if (json_object_has_member(a, "network_error")) {
				g_autofree char *n = sdr_sanitize_for_display(
				        sdr_json_get_string(a, "network_error", ""), 300);
				fprintf(stderr, _("sinadur: S²LOW could not be asked: %s\n"), n);
			}
		}
		ret = json_object_has_member(a, "network_error") ? SDR_EXIT_NETWORK : SDR_EXIT_OK;
	} else {
		JsonObject *s = json_node_get_object(answer);
		if (!o.json) {
			print_send(s);
			if (json_object_has_member(s, "network_error")) {
				g_autofree char *n = sdr_sanitize_for_display(
				        sdr_json_get_string(s, "network_error", ""), 300);
				fprintf(stderr,
				        _("sinadur: %s\n  The send stays in the queue: “sinadur "
				          "status” tries again.\n"),
				        n);
			}
		}
		ret = send_exit_code(s);
	}
out:
	options_clear(&o);
	return ret;
}
