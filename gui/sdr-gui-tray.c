/* sdr-gui-tray.c - the tray icon (Ayatana AppIndicator, a StatusNotifierItem):
 * state icon, title with holder and days left, menu. Without the library, or with
 * no StatusNotifierWatcher on the bus, the window and notifications still work. */
#include "sdr-gui-private.h"

#include <glib/gi18n-lib.h>

#ifdef SDR_HAVE_APPINDICATOR
#include <libayatana-appindicator/app-indicator.h>
#endif

static void
on_open(GtkMenuItem *item, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_WINDOW);
}

static void
on_sign(GtkMenuItem *item, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_SIGN);
}

static void
on_verify(GtkMenuItem *item, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_VERIFY);
}

static void
on_s2low(GtkMenuItem *item, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_S2LOW);
}

static void
on_doctor(GtkMenuItem *item, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_DOCTOR);
}

static void
on_quit(GtkMenuItem *item, gpointer data)
{
	SdrGui *gui = data;

	if (gui->options.quit != NULL)
		gui->options.quit(gui->options.quit_data);
}

static void
add_item(GtkWidget *menu, const char *label, GCallback cb, SdrGui *gui)
{
	GtkWidget *item = gtk_menu_item_new_with_mnemonic(label);

	g_signal_connect(item, "activate", cb, gui);
	gtk_menu_shell_append(GTK_MENU_SHELL(menu), item);
}

void
sdr_gui_tray_init(SdrGui *gui)
{
#ifdef SDR_HAVE_APPINDICATOR
	AppIndicator *ind;
	GtkWidget *menu;

	/* No session bus (the application runs non-unique): no StatusNotifierItem. */
	if (g_application_get_dbus_connection(G_APPLICATION(gui->app)) == NULL)
		return;
	menu = gtk_menu_new();

	add_item(menu, _("_Open sinadur"), G_CALLBACK(on_open), gui);
	add_item(menu, _("_Sign files…"), G_CALLBACK(on_sign), gui);
	add_item(menu, _("_Verify a file…"), G_CALLBACK(on_verify), gui);
	add_item(menu, _("Send to the prefecture / the Treasury (S²_LOW)…"), G_CALLBACK(on_s2low),
	         gui);
	add_item(menu, _("_Diagnostics"), G_CALLBACK(on_doctor), gui);
	gtk_menu_shell_append(GTK_MENU_SHELL(menu), gtk_separator_menu_item_new());
	add_item(menu, _("_Quit"), G_CALLBACK(on_quit), gui);
	gtk_widget_show_all(menu);
	gui->tray_menu = g_object_ref_sink(menu);

	ind = app_indicator_new("sinadur", sdr_gui_tray_icon_name(SDR_GUI_TRAY_NO_KEY),
	                        APP_INDICATOR_CATEGORY_APPLICATION_STATUS);
	app_indicator_set_status(ind, APP_INDICATOR_STATUS_ACTIVE);
	app_indicator_set_menu(ind, GTK_MENU(menu));
	gui->tray = ind;
	sdr_gui_tray_update(gui);
#else
	(void)add_item;
	(void)on_open;
	(void)on_sign;
	(void)on_verify;
	(void)on_doctor;
	(void)on_quit;
#endif
}

void
sdr_gui_tray_update(SdrGui *gui)
{
	JsonArray *a = sdr_gui_json_array(gui->certs, "certificates");
	guint n = a != NULL ? json_array_get_length(a) : 0;
	gint64 min_days = G_MAXINT64;
	gboolean expired = FALSE;
	const char *holder = NULL;
	g_autofree char *title = NULL;
	SdrGuiTrayState state;

	/* The certificate that expires first speaks for the key. */
	for (guint i = 0; i < n; i++) {
		JsonObject *c = json_array_get_object_element(a, i);
		gint64 d;

		if (c == NULL || !json_object_has_member(c, "days_left"))
			continue;
		d = json_object_get_int_member(c, "days_left");
		if (d < min_days) {
			min_days = d;
			holder = sdr_gui_json_string(c, "subject_cn");
		}
		expired = expired || (json_object_has_member(c, "expired") &&
		                      json_object_get_boolean_member(c, "expired"));
	}
	state = sdr_gui_tray_state(gui->busy > 0, n, min_days, expired);
	{
		g_autofree char *h = holder != NULL ? sdr_gui_sanitize(holder, 80) : NULL;

		title = sdr_gui_tray_title(state, h, min_days);
	}
#ifdef SDR_HAVE_APPINDICATOR
	if (gui->tray != NULL) {
		app_indicator_set_icon_full(gui->tray, sdr_gui_tray_icon_name(state), title);
		app_indicator_set_title(gui->tray, title);
	}
#endif
}

void
sdr_gui_tray_free(SdrGui *gui)
{
	g_clear_object(&gui->tray);
	g_clear_object(&gui->tray_menu);
}
