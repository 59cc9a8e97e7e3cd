/* sdr-gui.c - the application: registration on the session bus, handler calls on
 * worker threads, refresh on token events, expiry and key notifications. */
#include "sdr-gui-private.h"

#include <glib/gi18n-lib.h>

#define REFRESH_DELAY_MS 400
#define PERIODIC_REFRESH_S (6 * 3600)

/* ---- Notifications ---------------------------------------------------------------------- */

static void
notify(SdrGui *gui, const char *id, const char *title, const char *body, gboolean urgent)
{
	g_autoptr(GNotification) n = g_notification_new(title);

	if (body != NULL)
		g_notification_set_body(n, body);
	g_notification_set_priority(n, urgent ? G_NOTIFICATION_PRIORITY_URGENT
	                                      : G_NOTIFICATION_PRIORITY_NORMAL);
	g_notification_set_default_action(n, "app.show");
	g_application_send_notification(G_APPLICATION(gui->app), id, n);
}

static void
check_expiry(SdrGui *gui)
{
	JsonArray *a = sdr_gui_json_array(gui->certs, "certificates");
	gboolean changed = FALSE;

	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *c = json_array_get_object_element(a, i);
		g_autofree char *key = NULL;
		g_autofree char *holder = NULL;
		g_autofree char *body = NULL;
		g_autofree char *id = NULL;
		gint64 days;
		int threshold;

		if (c == NULL || !json_object_has_member(c, "days_left"))
			continue;
		days = json_object_get_int_member(c, "days_left");
		key = sdr_gui_cert_key(sdr_gui_json_string(c, "issuer_dn"),
		                       sdr_gui_json_string(c, "serial"));
		threshold = sdr_gui_expiry_memory_check(gui->expiry, key, days, gui->warn_days,
		                                        gui->n_warn_days);
		if (threshold < 0)
			continue;
		changed = TRUE;
		holder = sdr_gui_outside_text(sdr_gui_json_string(c, "subject_cn"), 80);
		if (days < 0)
			body = g_strdup_printf(_("The certificate of %s has expired: ask for a new "
			                         "one."),
			                       holder != NULL ? holder : "?");
		else
			body = g_strdup_printf(
			        g_dngettext(GETTEXT_PACKAGE,
			                    "The certificate of %s expires in %d day: "
			                    "ask for its renewal.",
			                    "The certificate of %s expires in %d days: "
			                    "ask for its renewal.",
			                    (gulong)days),
			        holder != NULL ? holder : "?", (int)days);
		id = g_strdup_printf("expiry-%s", key);
		notify(gui, id, _("Certificate expiring"), body, days <= SDR_GUI_CRITICAL_DAYS);
	}
	if (changed)
		(void)sdr_gui_expiry_memory_save(gui->expiry, NULL);
}

/* ---- Refresh ---------------------------------------------------------------------------- */

static void refresh_now(SdrGui *gui);

static void
refresh_finish(SdrGui *gui)
{
	gui->refreshing = FALSE;
	sdr_gui_window_update(gui);
	sdr_gui_tray_update(gui);
	check_expiry(gui);
	if (gui->refresh_again) {
		gui->refresh_again = FALSE;
		refresh_now(gui);
	}
}

static void
on_doctor(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	g_clear_pointer(&gui->doctor, json_node_unref);
	if (answer != NULL)
		gui->doctor = json_node_ref(answer);
	refresh_finish(gui);
}

static void
on_tokens(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	JsonArray *a;

	g_clear_pointer(&gui->tokens, json_node_unref);
	if (answer != NULL)
		gui->tokens = json_node_ref(answer);
	a = sdr_gui_json_array(gui->certs, "certificates");
	if (a == NULL || json_array_get_length(a) == 0) {
		sdr_gui_run_async(gui, "doctor", NULL, on_doctor, NULL);
		return;
	}
	refresh_finish(gui);
}

static void
on_certificates(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	g_clear_pointer(&gui->certs, json_node_unref);
	g_clear_pointer(&gui->last_error, g_free);
	if (answer != NULL)
		gui->certs = json_node_ref(answer);
	else if (error != NULL)
		gui->last_error = g_strdup(error->message);
	sdr_gui_run_async(gui, "tokens", NULL, on_tokens, NULL);
}

static void
refresh_now(SdrGui *gui)
{
	if (gui->refreshing) {
		gui->refresh_again = TRUE;
		return;
	}
	gui->refreshing = TRUE;
	sdr_gui_run_async(gui, "certificates", NULL, on_certificates, NULL);
}

static gboolean
refresh_timeout(gpointer data)
{
	SdrGui *gui = data;

	gui->refresh_source = 0;
	refresh_now(gui);
	return G_SOURCE_REMOVE;
}

void
sdr_gui_refresh(SdrGui *gui)
{
	/* PC/SC events come in bursts (reader, then card): one refresh per burst. */
	if (gui->refresh_source != 0)
		g_source_remove(gui->refresh_source);
	gui->refresh_source = g_timeout_add(REFRESH_DELAY_MS, refresh_timeout, gui);
}

static gboolean
periodic_refresh(gpointer data)
{
	refresh_now(data);
	return G_SOURCE_CONTINUE;
}

void
sdr_gui_token_event(SdrGui *gui, const char *kind)
{
	if (gui == NULL)
		return;
	if (g_strcmp0(kind, "token-inserted") == 0)
		notify(gui, "token", _("Key inserted"), _("sinadur reads its certificates."),
		       FALSE);
	else if (g_strcmp0(kind, "token-removed") == 0)
		notify(gui, "token", _("Key removed"), NULL, FALSE);
	sdr_gui_refresh(gui);
}

void
sdr_gui_s2low_send(SdrGui *gui, JsonObject *send)
{
	SdrGuiS2lowSend s = { 0 };
	g_autofree char *title = NULL;
	g_autofree char *body = NULL;
	g_autofree char *id = NULL;
	gboolean urgent;

	if (gui == NULL || send == NULL)
		return;
	s.id = json_object_get_int_member_with_default(send, "id", 0);
	s.kind = sdr_gui_json_string(send, "kind");
	s.state = sdr_gui_json_string(send, "state");
	s.number = sdr_gui_json_string(send, "number");
	s.status_label = sdr_gui_json_string(send, "status_label");
	s.message = sdr_gui_json_string(send, "message");
	s.has_status = json_object_has_member(send, "status");
	s.status = json_object_get_int_member_with_default(send, "status", 0);
	urgent = sdr_gui_s2low_notice(&s, &title, &body);
	id = g_strdup_printf("s2low-%lld", (long long)s.id);
	notify(gui, id, title, body, urgent);
	sdr_gui_navigate(gui, SDR_GUI_NAV_S2LOW_CHANGED);
}

/* ---- Application -------------------------------------------------------------------------- */

static void
on_activate(GApplication *app, gpointer data)
{
	SdrGui *gui = data;

	sdr_gui_window_show(gui);
	refresh_now(gui);
}

static void
on_open(GApplication *app, GFile **files, int n_files, const char *hint, gpointer data)
{
	if (g_strcmp0(hint, "verify") == 0) {
		if (n_files > 0)
			sdr_gui_verify_window_show_files(data, files, n_files);
		return;
	}
	sdr_gui_sign_window_show_files(data, files, n_files);
}

static GFile **
files_of(char **paths, int *n)
{
	GFile **files = g_new0(GFile *, g_strv_length(paths) + 1);

	*n = 0;
	for (guint i = 0; paths[i] != NULL; i++)
		files[(*n)++] = g_file_new_for_commandline_arg(paths[i]);
	return files;
}

static void
files_free(GFile **files, int n)
{
	for (int i = 0; i < n; i++)
		g_object_unref(files[i]);
	g_free(files);
}

static void
action_show(GSimpleAction *action, GVariant *param, gpointer data)
{
	on_activate(NULL, data);
}

/* ---- Navigation: the windows ask for each other through these actions --------- */

static void
nav_window(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_window_show(data);
	sdr_gui_refresh(data);
}

static void
nav_sign(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_sign_window_show(data);
}

static void
nav_verify(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_verify_window_show(data);
}

static void
nav_doctor(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_show_doctor(data);
}

static void
nav_s2low(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_s2low_window_show(data);
}

static void
nav_s2low_changed(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_s2low_window_changed(data);
}

static void
nav_state(GSimpleAction *action, GVariant *param, gpointer data)
{
	sdr_gui_tray_update(data);
}

static void
add_navigation(SdrGui *gui)
{
	static const struct {
		const char *name;
		GCallback cb;
	} nav[] = {
		{ SDR_GUI_NAV_WINDOW, G_CALLBACK(nav_window) },
		{ SDR_GUI_NAV_SIGN, G_CALLBACK(nav_sign) },
		{ SDR_GUI_NAV_VERIFY, G_CALLBACK(nav_verify) },
		{ SDR_GUI_NAV_DOCTOR, G_CALLBACK(nav_doctor) },
		{ SDR_GUI_NAV_STATE, G_CALLBACK(nav_state) },
		{ SDR_GUI_NAV_S2LOW, G_CALLBACK(nav_s2low) },
		{ SDR_GUI_NAV_S2LOW_CHANGED, G_CALLBACK(nav_s2low_changed) },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(nav); i++) {
		g_autoptr(GSimpleAction) a = g_simple_action_new(nav[i].name, NULL);

		g_signal_connect(a, "activate", nav[i].cb, gui);
		g_action_map_add_action(G_ACTION_MAP(gui->app), G_ACTION(a));
	}
}

gboolean
sdr_gui_display_available(void)
{
	const char *x = g_getenv("DISPLAY");
	const char *w = g_getenv("WAYLAND_DISPLAY");

	if ((x == NULL || *x == '\0') && (w == NULL || *w == '\0'))
		return FALSE;
	/* The agent chose the locale (common/sdr-i18n.c: LC_NUMERIC stays "C"); GTK would
	 * set it all from the environment again, and a French decimal comma would then
	 * reach the numbers written into documents (a PDF stamp's /Rect). */
	gtk_disable_setlocale();
	return gtk_init_check(NULL, NULL);
}

SdrGui *
sdr_gui_new(const SdrGuiOptions *options, gboolean *already_running, GError **error)
{
	SdrGui *gui = g_new0(SdrGui, 1);
	g_autoptr(GSimpleAction) show = g_simple_action_new("show", NULL);
	g_auto(GStrv) warn = NULL;
	g_autofree char *state = NULL;
	GtkCssProvider *css;

	*already_running = FALSE;
	gui->options = *options;
	gui->app = gtk_application_new(SDR_GUI_APP_ID, G_APPLICATION_HANDLES_OPEN);
	g_signal_connect(gui->app, "activate", G_CALLBACK(on_activate), gui);
	g_signal_connect(gui->app, "open", G_CALLBACK(on_open), gui);
	g_signal_connect(show, "activate", G_CALLBACK(action_show), gui);
	g_action_map_add_action(G_ACTION_MAP(gui->app), G_ACTION(show));
	add_navigation(gui);
	if (!g_application_register(G_APPLICATION(gui->app), NULL, error)) {
		g_object_unref(gui->app);
		g_free(gui);
		return NULL;
	}
	if (g_application_get_is_remote(G_APPLICATION(gui->app))) {
		*already_running = TRUE;
		if (options->sign_files != NULL && options->sign_files[0] != NULL) {
			int n = 0;
			GFile **files = files_of(options->sign_files, &n);

			g_application_open(G_APPLICATION(gui->app), files, n,
			                   options->verify ? "verify" : "sign");
			files_free(files, n);
		} else if (options->show_window) {
			g_application_activate(G_APPLICATION(gui->app));
		}
		/* Flush the call before leaving. */
		g_dbus_connection_flush_sync(
		        g_application_get_dbus_connection(G_APPLICATION(gui->app)), NULL, NULL);
		g_object_unref(gui->app);
		g_free(gui);
		return NULL;
	}
	g_application_hold(G_APPLICATION(gui->app));

	warn = sdr_config_get_strv(options->config, "expiry", "warn_days");
	gui->n_warn_days = sdr_gui_parse_warn_days(warn, gui->warn_days, SDR_GUI_MAX_WARN_DAYS);
	state = g_build_filename(g_get_user_state_dir(), "sinadur", "gui-expiry.ini", NULL);
	gui->expiry = sdr_gui_expiry_memory_load(state);

	css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(
	        css,
	        "levelbar.sdr-ok block.filled { background-color: #2e7d32; border-color: #1b5e20; "
	        "}\n"
	        "levelbar.sdr-warning block.filled { background-color: #ef8f00; border-color: "
	        "#b86e00; }\n"
	        "levelbar.sdr-critical block.filled { background-color: #c62828; border-color: "
	        "#8e0000; }\n"
	        /* An expired certificate's bar is empty: its frame says red. */
	        "levelbar.sdr-critical trough { border-color: #c62828; }\n"
	        "levelbar.sdr-ok block, levelbar.sdr-warning block, levelbar.sdr-critical block"
	        " { min-height: 10px; }\n"
	        "label.sdr-danger { color: #c62828; font-weight: bold; }\n"
	        "label.sdr-warning { color: #a45c00; font-weight: bold; }\n"
	        "label.sdr-big { font-size: 140%; font-weight: bold; }\n"
	        "label.sdr-heading { font-weight: bold; }\n",
	        -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
	                                          GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);

	sdr_gui_tray_init(gui);
	gui->periodic_source = g_timeout_add_seconds(PERIODIC_REFRESH_S, periodic_refresh, gui);
	if (options->show_window)
		sdr_gui_window_show(gui);
	if (options->sign_files != NULL && options->sign_files[0] != NULL) {
		int n = 0;
		GFile **files = files_of(options->sign_files, &n);

		on_open(NULL, files, n, options->verify ? "verify" : "sign", gui);
		files_free(files, n);
	}
	gui->options.sign_files = NULL; /* borrowed only for the call */
	/* On the main loop, once the agent runs it (its bridge is up by then). */
	sdr_gui_refresh(gui);
	return gui;
}

gboolean
sdr_gui_has_window(SdrGui *gui)
{
	for (GList *l = gtk_application_get_windows(gui->app); l != NULL; l = l->next) {
		if (gtk_widget_get_visible(GTK_WIDGET(l->data)))
			return TRUE;
	}
	return FALSE;
}

void
sdr_gui_free(SdrGui *gui)
{
	if (gui == NULL)
		return;
	/* Worker threads still running hold gui: let them land. */
	while (gui->refreshing)
		g_main_context_iteration(NULL, TRUE);
	if (gui->refresh_source != 0)
		g_source_remove(gui->refresh_source);
	if (gui->periodic_source != 0)
		g_source_remove(gui->periodic_source);
	sdr_gui_tray_free(gui);
	sdr_gui_notice_end(gui);
	if (gui->window != NULL)
		gtk_widget_destroy(gui->window);
	g_application_release(G_APPLICATION(gui->app));
	g_object_unref(gui->app);
	g_clear_pointer(&gui->certs, json_node_unref);
	g_clear_pointer(&gui->tokens, json_node_unref);
	g_clear_pointer(&gui->doctor, json_node_unref);
	g_free(gui->last_error);
	sdr_gui_expiry_memory_free(gui->expiry);
	g_free(gui);
}
