/* sdr-agent-main.c - sinadur-agent: the long-running user process.
 *
 * One GLib main loop. The bridge serves HTTP on its own threads (one per
 * connection, token work serialised); the PC/SC watcher and the expiry check are
 * sources on this loop; the expiry check's token work runs in a GTask thread.
 * Idle, nothing here wakes up more than every few hours (the watcher blocks in
 * SCardGetStatusChange, the HTTP daemons in poll()).
 */
#include "sdr-agent-s2low.h"
#include "sdr-agent-tl.h"
#include "sdr-agent-update.h"
#include "sdr-bridge-private.h"
#include "sdr-bridge.h"
#include "sdr-config-build.h"
#include "sdr-deploy.h"
#include "sdr-error.h"
#include "sdr-i18n.h"
#include "sdr-prompt.h"
#include "sdr-token.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef SDR_HAVE_GUI
#include "sdr-gui.h"
#endif

#define EXPIRY_FIRST_S 1
#define EXPIRY_PERIOD_S (6 * 3600)

typedef struct {
	GMainLoop *loop;
	SdrBridge *bridge;
	SdrConfig *config;
	int *warn_days;
	gsize n_warn_days;
	gboolean expiry_running;
	GHashTable *warned; /* "id:threshold" already announced */
	SdrAgentUpdate *update;
	gboolean reexec;   /* the executable was replaced: execv() it after shutdown */
	gboolean quiesced; /* we hold the bridge's interactive lock (shutting down to re-exec) */
#ifdef SDR_HAVE_GUI
	SdrGui *gui;
#endif
} Agent;

static gboolean
on_signal(gpointer data)
{
	Agent *agent = data;

	g_main_loop_quit(agent->loop);
	return G_SOURCE_CONTINUE;
}

static void
on_pcsc(const SdrPcscEvent *event, gpointer user_data)
{
	Agent *agent = user_data;
	const char *kind = NULL;

	switch (event->kind) {
	case SDR_PCSC_EVENT_CARD_INSERTED:
		kind = "token-inserted";
		break;
	case SDR_PCSC_EVENT_CARD_REMOVED:
		kind = "token-removed";
		break;
	case SDR_PCSC_EVENT_READER_ADDED:
		kind = "reader-added";
		break;
	case SDR_PCSC_EVENT_READER_REMOVED:
		kind = "reader-removed";
		break;
	case SDR_PCSC_EVENT_SERVICE_UP:
		kind = "service-up";
		break;
	case SDR_PCSC_EVENT_SERVICE_DOWN:
		kind = "service-down";
		break;
	default:
		return;
	}
	sdr_bridge_token_event(agent->bridge, kind, event->reader);
#ifdef SDR_HAVE_GUI
	sdr_gui_token_event(agent->gui, kind);
#endif
}

#ifdef SDR_HAVE_GUI
/* The GUI's actions: the handler table under the bridge's token lock, as the
 * bridge's own requests (no origin). Called on the GUI's worker threads. */
static JsonNode *
gui_run(const char *name, JsonObject *request, GCancellable *cancellable,
        SdrGuiProgressFunc progress, gpointer progress_data, gpointer data, GError **error)
{
	Agent *agent = data;

	return sdr_bridge_run_handler_full(agent->bridge, NULL, name, request, cancellable,
	                                   progress, progress_data, error);
}

/* The poller's announcements: a notification. Main loop. */
static void
gui_s2low_send(JsonObject *send, gpointer data)
{
	Agent *agent = data;

	sdr_gui_s2low_send(agent->gui, send);
}

static void
gui_quit(gpointer data)
{
	Agent *agent = data;

	g_main_loop_quit(agent->loop);
}
#endif

/* ---- Expiry check ---------------------------------------------------------- */

static void
expiry_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	Agent *agent = data;
	JsonNode *certs = sdr_bridge_get_certificates(agent->bridge, TRUE, NULL);

	if (certs == NULL)
		g_task_return_pointer(task, NULL, NULL);
	else
		g_task_return_pointer(task, certs, (GDestroyNotify)json_node_unref);
}

static void
expiry_done(GObject *source, GAsyncResult *result, gpointer data)
{
	Agent *agent = data;
	g_autoptr(JsonNode) certs = g_task_propagate_pointer(G_TASK(result), NULL);
	JsonArray *a;

	agent->expiry_running = FALSE;
	if (certs == NULL || !JSON_NODE_HOLDS_OBJECT(certs))
		return;
	a = json_object_get_array_member(json_node_get_object(certs), "certificates");
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *c = json_array_get_object_element(a, i);
		gint64 days;
		int threshold = -1;
		g_autofree char *key = NULL;
		g_autoptr(JsonNode) ev = NULL;

		if (c == NULL || !json_object_has_member(c, "days_left") ||
		    !json_object_has_member(c, "id"))
			continue;
		days = json_object_get_int_member(c, "days_left");
		/* The smallest threshold reached, whatever the order of warn_days. */
		for (gsize k = 0; k < agent->n_warn_days; k++) {
			if (days <= agent->warn_days[k] &&
			    (threshold < 0 || agent->warn_days[k] < threshold))
				threshold = agent->warn_days[k];
		}
		if (threshold < 0)
			continue;
		key = g_strdup_printf("%s:%d", json_object_get_string_member(c, "id"), threshold);
		if (g_hash_table_contains(agent->warned, key))
			continue;
		g_hash_table_add(agent->warned, g_steal_pointer(&key));
		ev = json_node_new(JSON_NODE_OBJECT);
		{
			JsonObject *o = json_object_new();

			json_object_set_string_member(o, "id",
			                              json_object_get_string_member(c, "id"));
			if (json_object_has_member(c, "subject_cn") &&
			    !json_object_get_null_member(c, "subject_cn"))
				json_object_set_string_member(
				        o, "subject_cn",
				        json_object_get_string_member(c, "subject_cn"));
			if (json_object_has_member(c, "not_after") &&
			    !json_object_get_null_member(c, "not_after"))
				json_object_set_string_member(
				        o, "not_after",
				        json_object_get_string_member(c, "not_after"));
			json_object_set_int_member(o, "days_left", days);
			json_object_set_boolean_member(o, "expired", days < 0);
			json_node_take_object(ev, o);
		}
		sdr_bridge_events_publish(sdr_bridge_get_events(agent->bridge), "expiry-warning",
		                          ev);
	}
}

static gboolean
expiry_check(gpointer data)
{
	Agent *agent = data;
	g_autoptr(GTask) task = NULL;

	if (agent->expiry_running)
		return G_SOURCE_CONTINUE;
	agent->expiry_running = TRUE;
	task = g_task_new(NULL, NULL, expiry_done, agent);
	g_task_set_task_data(task, agent, NULL);
	g_task_run_in_thread(task, expiry_thread);
	return G_SOURCE_CONTINUE;
}

static gboolean
expiry_first(gpointer data)
{
	expiry_check(data);
	return G_SOURCE_REMOVE;
}

static void
load_warn_days(Agent *agent)
{
	g_auto(GStrv) list = sdr_config_get_strv(agent->config, "expiry", "warn_days");
	gsize n = list != NULL ? g_strv_length(list) : 0;

	if (n == 0) {
		agent->warn_days = g_new(int, 2);
		agent->warn_days[0] = 90;
		agent->warn_days[1] = 30;
		agent->n_warn_days = 2;
		return;
	}
	n = MIN(n, 16);
	agent->warn_days = g_new0(int, n);
	for (gsize i = 0; i < n; i++) {
		gint64 v = g_ascii_strtoll(list[i], NULL, 10);
		agent->warn_days[agent->n_warn_days++] = (int)CLAMP(v, 0, 3650);
	}
}

/* ---- Restart after an upgrade (sdr-agent-update.h) ------------------------- */

/* Idle: no window shown, no expiry check, and, holding the interactive lock (a
 * consent, a signature or an S²LOW poll in progress holds it; new ones now get
 * BUSY until the new process answers), no handler running. */
static gboolean
update_idle(gpointer data)
{
	Agent *agent = data;

#ifdef SDR_HAVE_GUI
	if (agent->gui != NULL && sdr_gui_has_window(agent->gui))
		return FALSE;
#endif
	if (agent->expiry_running || !sdr_bridge_interactive_begin(agent->bridge, NULL))
		return FALSE;
	if (sdr_bridge_is_busy(agent->bridge)) {
		sdr_bridge_interactive_end(agent->bridge);
		return FALSE;
	}
	agent->quiesced = TRUE;
	return TRUE;
}

static void
update_ready(gpointer data)
{
	Agent *agent = data;

	agent->reexec = TRUE;
	g_main_loop_quit(agent->loop);
}

/* The same process options again; not the one-shot requests (--show, --verify, files). */
static int
reexec(Agent *agent, gboolean headless, const char *config_file, const char *script)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();

	g_ptr_array_add(args, (gpointer)sdr_agent_update_get_path(agent->update));
	if (headless)
		g_ptr_array_add(args, "--headless");
	if (config_file != NULL) {
		g_ptr_array_add(args, "--config");
		g_ptr_array_add(args, (gpointer)config_file);
	}
	if (script != NULL) {
		g_ptr_array_add(args, "--prompt-script");
		g_ptr_array_add(args, (gpointer)script);
	}
	g_ptr_array_add(args, NULL);
	sdr_agent_update_exec(agent->update, (char **)args->pdata);
	g_clear_pointer(&agent->update, sdr_agent_update_free);
	/* Not 1 or 2: the user unit restarts this exit (Restart=on-failure). */
	return 3;
}

/* ---- main ------------------------------------------------------------------- */

/* long: the agent's start-up in order (options, configuration, bridge, PC/SC
 * watcher, expiry check, S²LOW queue, GUI, main loop, shutdown), each step a few lines. */
int
main(int argc, char **argv)
{
	gboolean headless = FALSE, version = FALSE, show = FALSE, verify = FALSE;
	g_autofree char *config_file = NULL;
	g_autofree char *script = NULL;
	g_auto(GStrv) files = NULL;
	GOptionEntry entries[] = {
		{ "headless", 0, 0, G_OPTION_ARG_NONE, &headless,
		  N_("Run without a display (prompts on the terminal)"), NULL },
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
		  N_("Use FILE instead of the user configuration file"), N_("FILE") },
		{ "prompt-script", 0, 0, G_OPTION_ARG_FILENAME, &script,
		  N_("Answer prompts from FILE (test facility)"), N_("FILE") },
		{ "show", 0, 0, G_OPTION_ARG_NONE, &show,
		  N_("Open the window of the running agent (or start it with its window)"), NULL },
		{ "verify", 0, 0, G_OPTION_ARG_NONE, &verify,
		  N_("Verify the FILE given in the “verify a file” window"), NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
		  N_("Files to sign (opens the “sign files” window)"), N_("[FILE…]") },
		{ NULL },
	};
	g_autoptr(GOptionContext) octx = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) config = NULL;
	g_autoptr(SdrPrompt) prompt = NULL;
	SdrBridgePolicy *policy;
	Agent agent = { 0 };
	SdrPcscWatcher *watcher = NULL;
	SdrAgentS2low *s2low = NULL;
	SdrAgentTl *tl = NULL;

	sdr_i18n_init();
	octx = g_option_context_new(NULL);
	g_option_context_set_summary(octx,
	                             _("The sinadur signing agent and its local web bridge."));
	g_option_context_add_main_entries(octx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(octx, &argc, &argv, &error)) {
		g_printerr("sinadur-agent: %s\n", error->message);
		return 2;
	}
	if (version) {
		g_print("sinadur-agent %s\n", SDR_VERSION);
		return 0;
	}
	config = sdr_config_load(config_file, &error);
	if (config == NULL) {
		g_printerr("sinadur-agent: %s\n", error->message);
		return 2;
	}
	policy = sdr_bridge_policy_new_from_config(config, &error);
	if (policy == NULL) {
		g_printerr("sinadur-agent: %s\n", error->message);
		return 2;
	}
#ifdef SDR_HAVE_GUI
	if (!headless && sdr_gui_display_available()) {
		SdrGuiOptions go = { 0 };
		gboolean running = FALSE;
		g_autoptr(GError) gerror = NULL;

		go.config = config;
		go.run = gui_run;
		go.run_data = &agent;
		go.quit = gui_quit;
		go.quit_data = &agent;
		go.show_window = show;
		go.sign_files = files;
		go.verify = verify;
		agent.gui = sdr_gui_new(&go, &running, &gerror);
		if (running) {
			/* One agent per session: the running one shows its window. */
			sdr_bridge_policy_free(policy);
			return 0;
		}
		if (agent.gui == NULL)
			g_printerr("sinadur-agent: %s\n", gerror->message);
	}
#else
	(void)show;
	(void)verify;
#endif
	if (script != NULL) {
		prompt = sdr_prompt_script_new(script, &error);
		if (prompt == NULL) {
			g_printerr("sinadur-agent: %s\n", error->message);
			sdr_bridge_policy_free(policy);
			return 2;
		}
	}
#ifdef SDR_HAVE_GUI
	else if (agent.gui != NULL)
		prompt = sdr_gui_prompt_new(agent.gui);
#endif
	else {
		/* With --headless or without a display, the terminal asks. */
		prompt = sdr_prompt_terminal_new(-1, FALSE);
	}

	agent.config = config;
	agent.bridge = sdr_bridge_new(config, prompt, policy);
	agent.warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	load_warn_days(&agent);
	if (!sdr_bridge_start(agent.bridge, &error)) {
		g_printerr("sinadur-agent: %s\n", error->message);
		sdr_bridge_free(agent.bridge);
		g_hash_table_unref(agent.warned);
		g_free(agent.warn_days);
		return 1;
	}
	g_print("listening on 127.0.0.1:%u\n", sdr_bridge_get_port(agent.bridge));
	if (sdr_bridge_has_ipv6(agent.bridge))
		g_print("listening on [::1]:%u\n", sdr_bridge_get_port(agent.bridge));
	fflush(stdout);

	agent.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_signal, &agent);
	g_unix_signal_add(SIGINT, on_signal, &agent);
	watcher = sdr_pcsc_watcher_new(NULL, on_pcsc, &agent);
	g_timeout_add_seconds(EXPIRY_FIRST_S, expiry_first, &agent);
	g_timeout_add_seconds(EXPIRY_PERIOD_S, expiry_check, &agent);
	s2low = sdr_agent_s2low_start(agent.bridge, config); /* the S²LOW send queue */
	tl = sdr_agent_tl_start(config);                     /* the trusted lists' cache */
#ifdef SDR_HAVE_GUI
	if (agent.gui != NULL)
		sdr_agent_s2low_set_notify(s2low, gui_s2low_send, &agent);
#endif
	sdr_deploy_nss_at_login(config); /* the key in the user's NSS database, if asked */
	agent.update = sdr_agent_update_start(update_idle, update_ready, &agent);

	g_main_loop_run(agent.loop);

	sdr_agent_s2low_stop(s2low);
	sdr_agent_tl_stop(tl);

	sdr_pcsc_watcher_free(watcher);
	sdr_bridge_stop(agent.bridge); /* the listening sockets closed: the new process binds */
	if (agent.quiesced)
		sdr_bridge_interactive_end(agent.bridge);
#ifdef SDR_HAVE_GUI
	g_clear_pointer(&agent.gui, sdr_gui_free);
#endif
	/* A running expiry task holds the agent: let it finish. */
	while (agent.expiry_running)
		g_main_context_iteration(NULL, TRUE);
	sdr_bridge_free(agent.bridge);
	g_main_loop_unref(agent.loop);
	g_hash_table_unref(agent.warned);
	g_free(agent.warn_days);
	if (agent.reexec)
		return reexec(&agent, headless, config_file, script);
	sdr_agent_update_free(agent.update);
	return 0;
}
