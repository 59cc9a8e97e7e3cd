/* sdr-gui-window.c - the main window: keys, certificates, validity, renewal;
 * "Insérez votre clé" and the doctor's advice when no key is present. Also the
 * diagnostics window. Built from the handlers' JSON only. */
#include "sdr-gui-private.h"

#include <glib/gi18n-lib.h>

static void
add_row(GtkGrid *grid, int row, const char *name, GtkWidget *value)
{
	GtkWidget *l = gtk_label_new(name);

	gtk_label_set_xalign(GTK_LABEL(l), 1.0f);
	gtk_widget_set_valign(l, GTK_ALIGN_START);
	gtk_style_context_add_class(gtk_widget_get_style_context(l), "dim-label");
	gtk_grid_attach(grid, l, 0, row, 1, 1);
	gtk_widget_set_hexpand(value, TRUE);
	gtk_grid_attach(grid, value, 1, row, 1, 1);
}

static void
add_text_row(GtkGrid *grid, int row, const char *name, const char *outside)
{
	g_autofree char *safe = sdr_gui_outside_text(outside, SDR_GUI_TEXT_MAX);

	add_row(grid, row, name, sdr_gui_value_label(safe));
}

/* The token entry of a certificate (by label), for its PIN state. */
static JsonObject *
token_of(SdrGui *gui, const char *label)
{
	JsonArray *a = sdr_gui_json_array(gui->tokens, "tokens");

	for (guint i = 0; a != NULL && label != NULL && i < json_array_get_length(a); i++) {
		JsonObject *t = json_array_get_object_element(a, i);

		if (t != NULL && g_strcmp0(sdr_gui_json_string(t, "label"), label) == 0)
			return t;
	}
	return NULL;
}

static gboolean
json_true(JsonObject *o, const char *member)
{
	return o != NULL && json_object_has_member(o, member) &&
	       json_object_get_boolean_member(o, member);
}

static GtkWidget *
certificate_box(SdrGui *gui, JsonObject *c)
{
	GtkWidget *frame = gtk_frame_new(NULL);
	GtkWidget *grid = gtk_grid_new();
	GtkWidget *bar, *vbox, *days;
	JsonArray *usage = json_object_has_member(c, "usage")
	                           ? json_object_get_array_member(c, "usage")
	                           : NULL;
	GString *u = g_string_new(NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GDateTime) nb = NULL;
	g_autoptr(GDateTime) na = NULL;
	g_autofree char *from = sdr_gui_date_text(sdr_gui_json_string(c, "not_before"));
	g_autofree char *to = sdr_gui_date_text(sdr_gui_json_string(c, "not_after"));
	g_autofree char *days_text = NULL;
	g_autofree char *title = NULL;
	g_autofree char *label = sdr_gui_outside_text(sdr_gui_json_string(c, "token_label"), 80);
	gint64 days_left = json_object_has_member(c, "days_left")
	                           ? json_object_get_int_member(c, "days_left")
	                           : -1;
	SdrGuiValidity v;
	JsonObject *token = token_of(gui, sdr_gui_json_string(c, "token_label"));
	int row = 0;

	if (sdr_gui_json_string(c, "not_before") != NULL)
		nb = g_date_time_new_from_iso8601(sdr_gui_json_string(c, "not_before"), NULL);
	if (sdr_gui_json_string(c, "not_after") != NULL)
		na = g_date_time_new_from_iso8601(sdr_gui_json_string(c, "not_after"), NULL);
	v = sdr_gui_validity(days_left, json_true(c, "expired"), nb, now);

	title = g_strdup_printf(_("Key %s"), label != NULL ? label : "?");
	gtk_frame_set_label(GTK_FRAME(frame), title);
	gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	gtk_container_set_border_width(GTK_CONTAINER(grid), 10);
	gtk_container_add(GTK_CONTAINER(frame), grid);

	add_text_row(GTK_GRID(grid), row++, _("Holder"), sdr_gui_json_string(c, "subject_cn"));
	add_text_row(GTK_GRID(grid), row++, _("Organisation"),
	             sdr_gui_json_string(c, "organization"));
	add_text_row(GTK_GRID(grid), row++, _("Issuer"), sdr_gui_json_string(c, "issuer_cn"));
	for (guint i = 0; usage != NULL && i < json_array_get_length(usage); i++) {
		if (u->len > 0)
			g_string_append(u, ", ");
		g_string_append(u, sdr_gui_usage_label(json_array_get_string_element(usage, i)));
	}
	add_row(GTK_GRID(grid), row++, _("Usage"), sdr_gui_value_label(u->len ? u->str : NULL));
	g_string_free(u, TRUE);
	add_row(GTK_GRID(grid), row++, _("Valid from"), sdr_gui_value_label(from));
	add_row(GTK_GRID(grid), row++, _("Valid until"), sdr_gui_value_label(to));

	vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	bar = gtk_level_bar_new_for_interval(0.0, 1.0);
	gtk_level_bar_set_mode(GTK_LEVEL_BAR(bar), GTK_LEVEL_BAR_MODE_CONTINUOUS);
	/* Our own colours, not the theme's low/high offsets. */
	gtk_level_bar_remove_offset_value(GTK_LEVEL_BAR(bar), GTK_LEVEL_BAR_OFFSET_LOW);
	gtk_level_bar_remove_offset_value(GTK_LEVEL_BAR(bar), GTK_LEVEL_BAR_OFFSET_HIGH);
	gtk_level_bar_remove_offset_value(GTK_LEVEL_BAR(bar), GTK_LEVEL_BAR_OFFSET_FULL);
	gtk_level_bar_set_value(
	        GTK_LEVEL_BAR(bar),
	        v == SDR_GUI_VALIDITY_NOT_YET ? 1.0 : sdr_gui_validity_fraction(nb, na, now));
	gtk_style_context_add_class(gtk_widget_get_style_context(bar),
	                            sdr_gui_validity_css_class(v));
	days_text = sdr_gui_validity_text(v, days_left);
	days = sdr_gui_value_label(days_text);
	if (v != SDR_GUI_VALIDITY_OK)
		gtk_style_context_add_class(gtk_widget_get_style_context(days),
		                            v == SDR_GUI_VALIDITY_WARNING ||
		                                            v == SDR_GUI_VALIDITY_NOT_YET
		                                    ? "sdr-warning"
		                                    : "sdr-danger");
	atk_object_set_name(gtk_widget_get_accessible(bar), days_text);
	gtk_box_pack_start(GTK_BOX(vbox), bar, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), days, FALSE, FALSE, 0);
	add_row(GTK_GRID(grid), row++, _("Validity"), vbox);

	if (json_true(token, "pin_locked")) {
		/* What to do, then whom to call (the policy's support text). */
		g_autofree char *support =
		        sdr_config_get_string(gui->options.config, "support", "text", NULL);
		g_autofree char *safe =
		        support != NULL && *support != '\0' ? sdr_gui_sanitize(support, 400) : NULL;
		g_autofree char *text =
		        safe != NULL ? g_strdup_printf("%s\n%s", sdr_gui_locked_advice(), safe)
		                     : g_strdup(sdr_gui_locked_advice());
		GtkWidget *l = sdr_gui_value_label(text);

		gtk_style_context_add_class(gtk_widget_get_style_context(l), "sdr-danger");
		add_row(GTK_GRID(grid), row++, _("PIN code"), l);
	} else if (json_true(token, "pin_final_try") || json_true(token, "pin_count_low")) {
		GtkWidget *l = sdr_gui_value_label(
		        json_true(token, "pin_final_try")
		                ? _("One try left: a wrong PIN code will block the key.")
		                : _("Few PIN tries left before the key is blocked."));

		gtk_style_context_add_class(gtk_widget_get_style_context(l), "sdr-danger");
		add_row(GTK_GRID(grid), row++, _("PIN code"), l);
	}

	if (v != SDR_GUI_VALIDITY_OK && v != SDR_GUI_VALIDITY_NOT_YET) {
		g_autofree char *url =
		        sdr_config_get_string(gui->options.config, "support", "renewal_url", NULL);

		if (url != NULL && g_str_has_prefix(url, "https://")) {
			GtkWidget *link =
			        gtk_link_button_new_with_label(url, _("Renew the certificate"));

			gtk_widget_set_halign(link, GTK_ALIGN_START);
			add_row(GTK_GRID(grid), row++, "", link);
		}
	}
	return frame;
}

static GtkWidget *
no_key_box(SdrGui *gui)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *big = gtk_label_new(_("Insert your key"));
	JsonArray *checks = sdr_gui_json_array(gui->doctor, "checks");

	gtk_style_context_add_class(gtk_widget_get_style_context(big), "sdr-big");
	gtk_box_pack_start(GTK_BOX(box), big, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box),
	                   sdr_gui_value_label(_("No certificate was found: plug in your USB key "
	                                         "(or insert your card in the reader).")),
	                   FALSE, FALSE, 0);
	if (gui->last_error != NULL) {
		g_autofree char *e = sdr_gui_sanitize(gui->last_error, 400);

		gtk_box_pack_start(GTK_BOX(box), sdr_gui_value_label(e), FALSE, FALSE, 0);
	}
	for (guint i = 0; checks != NULL && i < json_array_get_length(checks); i++) {
		JsonObject *k = json_array_get_object_element(checks, i);
		g_autofree char *msg = NULL;

		if (k == NULL || g_strcmp0(sdr_gui_json_string(k, "status"), "ok") == 0)
			continue;
		{
			/* Reader and module names come from outside. */
			g_autofree char *m =
			        sdr_gui_sanitize(sdr_gui_json_string(k, "message"), 400);
			g_autofree char *a =
			        sdr_gui_sanitize(sdr_gui_json_string(k, "advice"), 400);

			msg = g_strdup_printf("• %s%s%s", m, *a != '\0' ? "\n  " : "", a);
		}
		gtk_box_pack_start(GTK_BOX(box), sdr_gui_value_label(msg), FALSE, FALSE, 0);
	}
	return box;
}

void
sdr_gui_window_update(SdrGui *gui)
{
	JsonArray *a = sdr_gui_json_array(gui->certs, "certificates");
	g_autofree char *support = NULL;

	if (gui->content == NULL)
		return;
	gtk_container_foreach(GTK_CONTAINER(gui->content),
	                      (GtkCallback)(void (*)(void))gtk_widget_destroy, NULL);
	if (a == NULL || json_array_get_length(a) == 0) {
		gtk_box_pack_start(GTK_BOX(gui->content), no_key_box(gui), FALSE, FALSE, 0);
	} else {
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonObject *c = json_array_get_object_element(a, i);

			if (c != NULL)
				gtk_box_pack_start(GTK_BOX(gui->content), certificate_box(gui, c),
				                   FALSE, FALSE, 0);
		}
	}
	support = sdr_config_get_string(gui->options.config, "support", "text", NULL);
	if (support != NULL && *support != '\0') {
		g_autofree char *s = sdr_gui_sanitize(support, 400);

		gtk_box_pack_start(GTK_BOX(gui->content), sdr_gui_value_label(s), FALSE, FALSE, 0);
	}
	gtk_widget_show_all(gui->content);
}

static void
on_sign_clicked(GtkButton *b, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_SIGN);
}

static void
on_verify_clicked(GtkButton *b, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_VERIFY);
}

static void
on_s2low_clicked(GtkButton *b, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_S2LOW);
}

static void
on_doctor_clicked(GtkButton *b, gpointer data)
{
	sdr_gui_navigate(data, SDR_GUI_NAV_DOCTOR);
}

static gboolean
on_delete(GtkWidget *w, GdkEvent *e, gpointer data)
{
	/* Closing hides: the agent keeps running (tray). */
	gtk_widget_hide(w);
	return TRUE;
}

void
sdr_gui_window_show(SdrGui *gui)
{
	GtkWidget *vbox, *scroll, *buttons, *b;

	if (gui->window != NULL) {
		gtk_window_present(GTK_WINDOW(gui->window));
		return;
	}
	gui->window = gtk_application_window_new(gui->app);
	gtk_window_set_title(GTK_WINDOW(gui->window), _("sinadur — my keys and certificates"));
	gtk_window_set_default_size(GTK_WINDOW(gui->window), 620, 560);
	gtk_window_set_icon_name(GTK_WINDOW(gui->window), "sinadur");
	g_signal_connect(gui->window, "delete-event", G_CALLBACK(on_delete), gui);

	vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
	gtk_container_add(GTK_CONTAINER(gui->window), vbox);
	b = gtk_label_new(_("Your keys and certificates"));
	gtk_label_set_xalign(GTK_LABEL(b), 0.0f);
	gtk_style_context_add_class(gtk_widget_get_style_context(b), "sdr-big");
	gtk_box_pack_start(GTK_BOX(vbox), b, FALSE, FALSE, 0);
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(scroll, TRUE);
	gui->content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_container_add(GTK_CONTAINER(scroll), gui->content);
	gtk_box_pack_start(GTK_BOX(vbox), scroll, TRUE, TRUE, 0);

	buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
	gtk_box_set_spacing(GTK_BOX(buttons), 6);
	b = gtk_button_new_with_mnemonic(_("_Diagnostics"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_doctor_clicked), gui);
	gtk_container_add(GTK_CONTAINER(buttons), b);
	b = gtk_button_new_with_mnemonic(_("_Verify a file…"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_verify_clicked), gui);
	gtk_container_add(GTK_CONTAINER(buttons), b);
	b = gtk_button_new_with_mnemonic(_("Send to the prefecture / the Treasury (S²_LOW)…"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_s2low_clicked), gui);
	gtk_container_add(GTK_CONTAINER(buttons), b);
	b = gtk_button_new_with_mnemonic(_("_Sign files…"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_sign_clicked), gui);
	gtk_container_add(GTK_CONTAINER(buttons), b);
	gtk_box_pack_start(GTK_BOX(vbox), buttons, FALSE, FALSE, 0);

	sdr_gui_window_update(gui);
	gtk_widget_show_all(gui->window);
	gtk_window_present(GTK_WINDOW(gui->window));
}

/* ---- Diagnostics ---------------------------------------------------------------------- */

static void
on_copy(GtkButton *b, gpointer data)
{
	GtkTextBuffer *buf = data;
	GtkTextIter s, e;
	g_autofree char *text = NULL;

	gtk_text_buffer_get_bounds(buf, &s, &e);
	text = gtk_text_buffer_get_text(buf, &s, &e, FALSE);
	gtk_clipboard_set_text(gtk_clipboard_get(GDK_SELECTION_CLIPBOARD), text, -1);
}

static void
on_doctor_report(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	GtkTextBuffer *buf = data;
	JsonArray *checks = sdr_gui_json_array(answer, "checks");
	GString *s = g_string_new(NULL);

	if (answer == NULL) {
		g_autofree char *e = sdr_gui_sanitize(error != NULL ? error->message : "?", 400);

		g_string_append(s, e);
	}
	for (guint i = 0; checks != NULL && i < json_array_get_length(checks); i++) {
		JsonObject *k = json_array_get_object_element(checks, i);
		const char *st = sdr_gui_json_string(k, "status");
		g_autofree char *msg = sdr_gui_sanitize(sdr_gui_json_string(k, "message"), 400);
		g_autofree char *advice =
		        sdr_gui_json_string(k, "advice") != NULL
		                ? sdr_gui_sanitize(sdr_gui_json_string(k, "advice"), 400)
		                : NULL;

		g_string_append_printf(s, "%s %s\n",
		                       g_strcmp0(st, "ok") == 0        ? "✔"
		                       : g_strcmp0(st, "warning") == 0 ? "⚠"
		                                                       : "✘",
		                       msg);
		if (advice != NULL)
			g_string_append_printf(s, "    → %s\n", advice);
	}
	/* Every piece was sanitised on its own (the line breaks are ours). */
	gtk_text_buffer_set_text(buf, s->str, -1);
	g_string_free(s, TRUE);
	g_object_unref(buf);
}

void
sdr_gui_show_doctor(SdrGui *gui)
{
	GtkWidget *w = gtk_dialog_new_with_buttons(
	        _("sinadur — diagnostics"), gui->window != NULL ? GTK_WINDOW(gui->window) : NULL,
	        GTK_DIALOG_DESTROY_WITH_PARENT, _("_Close"), GTK_RESPONSE_CLOSE, NULL);
	GtkWidget *area = gtk_dialog_get_content_area(GTK_DIALOG(w));
	GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL);
	GtkWidget *view = gtk_text_view_new();
	GtkWidget *copy = gtk_button_new_with_mnemonic(_("C_opy the report"));
	GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));

	gtk_window_set_default_size(GTK_WINDOW(w), 640, 420);
	gtk_text_view_set_editable(GTK_TEXT_VIEW(view), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(view), GTK_WRAP_WORD_CHAR);
	gtk_text_buffer_set_text(buf, _("Diagnosis in progress…"), -1);
	gtk_container_add(GTK_CONTAINER(scroll), view);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_box_pack_start(GTK_BOX(area), scroll, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(area), copy, FALSE, FALSE, 6);
	g_signal_connect(copy, "clicked", G_CALLBACK(on_copy), buf);
	g_signal_connect(w, "response", G_CALLBACK(gtk_widget_destroy), NULL);
	gtk_widget_show_all(w);
	gtk_window_present(GTK_WINDOW(w));
	sdr_gui_run_async(gui, "doctor", NULL, on_doctor_report, g_object_ref(buf));
}
