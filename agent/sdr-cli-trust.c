/* sdr-cli-trust.c - `sinadur trust update` and `sinadur trust status` (sdr-cli-trust.h).
 * Same conventions as sdr-cli.c: French text or --json, exit codes of
 * docs/sinadur.1. Operator names and messages come from downloaded lists: every
 * line goes through the sanitiser. */
#include "sdr-cli-trust.h"

#include "sdr-context.h"
#include "sdr-error.h"
#include "sdr-json.h"
#include "sdr-sanitize.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <stdarg.h>
#include <stdio.h>

typedef struct {
	char *config_file;
	gboolean json, verbose;
} TrustOptions;

static void G_GNUC_PRINTF(1, 2) say(const char *format, ...)
{
	g_autofree char *text = NULL;
	g_autofree char *safe = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	safe = sdr_sanitize_for_display_full(text, -1, 0, SDR_SANITIZE_KEEP_NEWLINES);
	fputs(safe, stdout);
}

static int
fail(const TrustOptions *o, const GError *error)
{
	int code = sdr_error_exit_code(error);
	g_autofree char *detail = NULL;
	g_autofree char *message = sdr_error_split_detail(error->message, &detail);
	g_autofree char *safe = sdr_sanitize_for_display(message, 0);

	if (o->json) {
		g_autoptr(JsonObject) e = json_object_new();
		g_autoptr(JsonObject) root = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		g_autoptr(JsonGenerator) gen = json_generator_new();
		g_autofree char *text = NULL;

		json_object_set_string_member(e, "code",
		                              error->domain == SDR_ERROR
		                                      ? sdr_error_code_name(error->code)
		                                      : "SDR_ERROR_FAILED");
		json_object_set_string_member(e, "message", message);
		json_object_set_int_member(e, "exit_code", code);
		json_object_set_object_member(root, "error", json_object_ref(e));
		node = json_node_init_object(json_node_alloc(), root);
		json_generator_set_root(gen, node);
		json_generator_set_pretty(gen, TRUE);
		text = json_generator_to_data(gen, NULL);
		printf("%s\n", text);
	}
	fprintf(stderr, "sinadur: %s\n", safe);
	if (detail != NULL && o->verbose) {
		g_autofree char *d = sdr_sanitize_for_display(detail, 0);

		fprintf(stderr, _("  detail: %s\n"), d);
	}
	return code;
}

static char *
date_of(JsonObject *o, const char *member)
{
	const char *iso = sdr_json_get_string(o, member, NULL);
	g_autoptr(GDateTime) t = iso != NULL ? sdr_time_parse_iso8601(iso) : NULL;

	return t != NULL ? sdr_time_format_datetime(t) : g_strdup("—");
}

static const char *
status_text(const char *status)
{
	if (g_strcmp0(status, "trusted") == 0)
		return _("signature valid, list current");
	if (g_strcmp0(status, "expired") == 0)
		return _("OUT OF DATE (next update past)");
	if (g_strcmp0(status, "unsigned") == 0)
		return _("NOT SIGNED");
	return _("SIGNATURE NOT VALID");
}

static const char *
result_text(const char *result)
{
	if (g_strcmp0(result, "updated") == 0)
		return _("updated");
	if (g_strcmp0(result, "not-modified") == 0)
		return _("unchanged");
	if (g_strcmp0(result, "refused") == 0)
		return _("refused, the cached list is kept");
	return _("not reached, the cached list is kept");
}

static void
print_status(JsonObject *st)
{
	JsonArray *lists = json_object_get_array_member(st, "lists");
	JsonArray *missing = json_object_get_array_member(st, "missing");
	guint n = lists != NULL ? json_array_get_length(lists) : 0;

	say(_("Trusted lists cache: %s\n"), sdr_json_get_string(st, "dir", ""));
	if (!sdr_json_get_bool(st, "configured", FALSE))
		say(_("Updates are not configured ([trust] lotl_signer_certs is empty).\n"));
	if (n == 0)
		say(_("No list in the cache: run “sinadur trust update”.\n"));
	for (guint i = 0; i < n; i++) {
		JsonObject *l = json_array_get_object_element(lists, i);
		g_autofree char *issued = date_of(l, "issued");
		g_autofree char *next = date_of(l, "next_update");
		g_autofree char *fetched = date_of(l, "fetched");
		const char *err = sdr_json_get_string(l, "last_error", NULL);
		const char *msg = sdr_json_get_string(l, "status_message", NULL);

		say("%s%s — %s\n", sdr_json_get_string(l, "territory", "?"),
		    sdr_json_get_bool(l, "lotl", FALSE) ? _(" (list of lists)") : "",
		    sdr_json_get_string(l, "operator", ""));
		say(_("  sequence number %lld, issued %s, next update %s\n"),
		    (long long)sdr_json_get_int(l, "sequence", 0), issued, next);
		say(_("  state: %s\n"), status_text(sdr_json_get_string(l, "status", NULL)));
		if (msg != NULL)
			say("  %s\n", msg);
		say(_("  source: %s (last reached %s)\n"), sdr_json_get_string(l, "url", "—"),
		    fetched);
		if (err != NULL)
			say(_("  last update: %s: %s\n"),
			    result_text(sdr_json_get_string(l, "last_result", NULL)), err);
	}
	for (guint i = 0; missing != NULL && i < json_array_get_length(missing); i++)
		say(_("%s: not in the cache\n"), json_array_get_string_element(missing, i));
	if (json_object_has_member(st, "next_refresh")) {
		g_autofree char *next = date_of(st, "next_refresh");

		say(_("Next refresh by the agent: %s\n"), next);
	}
}

static void
print_update(JsonObject *a)
{
	JsonArray *lists = json_object_get_array_member(a, "lists");

	for (guint i = 0; lists != NULL && i < json_array_get_length(lists); i++) {
		JsonObject *l = json_array_get_object_element(lists, i);
		const char *msg = sdr_json_get_string(l, "message", NULL);

		say("%s: %s%s%s\n", sdr_json_get_string(l, "territory", "?"),
		    result_text(sdr_json_get_string(l, "result", NULL)), msg != NULL ? " — " : "",
		    msg != NULL ? msg : "");
	}
	say("\n");
	print_status(json_object_get_object_member(a, "status"));
}

gboolean
sdr_cli_trust_wants(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (g_str_equal(argv[i], "--config"))
				i++;
			continue;
		}
		return g_str_equal(argv[i], "trust");
	}
	return FALSE;
}

int
sdr_cli_trust_main(int argc, char **argv)
{
	TrustOptions o = { 0 };
	const GOptionEntry entries[] = {
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &o.config_file,
		  N_("Read this configuration file instead of ~/.config/sinadur/sinadur.conf"),
		  N_("FILE") },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o.json, N_("Print JSON (for scripts)"), NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose,
		  N_("Also print the technical detail of errors"), NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) oc = g_option_context_new(_("trust update|status"));
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) config = NULL;
	g_autoptr(SdrContext) ctx = NULL;
	g_autoptr(JsonNode) answer = NULL;
	SdrContextOptions copts = { 0 };
	const char *handler;
	int ret = SDR_EXIT_OK;

	g_option_context_add_main_entries(oc, entries, GETTEXT_PACKAGE);
	g_option_context_set_translation_domain(oc, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	        oc, _("Trusted lists (eIDAS): “update” downloads the EU list of lists and the "
	              "national lists of [trust] countries into the cache, “status” says what "
	              "the cache holds."));
	if (!g_option_context_parse(oc, &argc, &argv, &error)) {
		g_autoptr(GError) e =
		        g_error_new(SDR_ERROR, SDR_ERROR_BAD_REQUEST, "%s", error->message);
		ret = fail(&o, e);
		goto out;
	}
	if (argc != 3 || !g_str_equal(argv[1], "trust") ||
	    (!g_str_equal(argv[2], "update") && !g_str_equal(argv[2], "status"))) {
		g_set_error(&error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Usage: sinadur trust update|status [--json]"));
		ret = fail(&o, error);
		goto out;
	}
	handler = g_str_equal(argv[2], "update") ? "trust-update" : "trust-status";
	config = sdr_config_load(o.config_file, &error);
	if (config == NULL) {
		ret = fail(&o, error);
		goto out;
	}
	copts.config = config;
	ctx = sdr_context_new(&copts);
	answer = sdr_handler_run(ctx, handler, NULL, &error);
	if (answer == NULL) {
		ret = fail(&o, error);
		goto out;
	}
	if (g_str_equal(handler, "trust-update") &&
	    sdr_json_get_int(json_node_get_object(answer), "errors", 0) > 0)
		ret = SDR_EXIT_NETWORK;
	if (o.json) {
		g_autoptr(JsonGenerator) gen = json_generator_new();
		g_autofree char *text = NULL;

		json_generator_set_root(gen, answer);
		json_generator_set_pretty(gen, TRUE);
		text = json_generator_to_data(gen, NULL);
		printf("%s\n", text);
	} else if (g_str_equal(handler, "trust-update")) {
		print_update(json_node_get_object(answer));
	} else {
		print_status(json_node_get_object(answer));
	}
out:
	g_free(o.config_file);
	return ret;
}
