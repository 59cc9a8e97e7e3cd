/* sdr-gui-s2low.c - "Envoyer à la préfecture / au comptable (S²LOW)": the form of a
 * send (an act for the prefecture with its ACTES fields, or a PES for the Treasury)
 * given to the "send-actes" / "send-pes" handlers, which queue it; the "Envois" view
 * of the queue (the "status" handler, offline: no PIN, no network) with the French
 * labels of the states; the S²LOW password ("s2low-login": the prompt's password
 * dialog, the keyring). No teletransmission logic here: the handlers check and send. */
#include "sdr-gui-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

typedef struct {
	SdrGui *gui;
	GtkWidget *dialog;
	GtkWidget *notebook;
	GtkWidget *kind_actes, *kind_pes;
	GtkWidget *file;
	GtkWidget *actes_grid;
	GtkWidget *nature, *classification, *number, *date, *subject, *type_acte;
	GtkWidget *send_button, *send_result;
	GtkWidget *list; /* GtkListBox of the sends */
	GtkWidget *list_state;
	gboolean sending, listing;
	gboolean destroyed; /* the window was closed while a call ran (it holds a ref) */
} S2lowWindow;

static void
sw_free(gpointer data)
{
	g_free(data);
}

/* ---- The "Envois" view ------------------------------------------------------------ */

static void
clear_list(S2lowWindow *sw)
{
	GList *rows = gtk_container_get_children(GTK_CONTAINER(sw->list));

	for (GList *l = rows; l != NULL; l = l->next)
		gtk_widget_destroy(l->data);
	g_list_free(rows);
}

/* One row: "Envoi 3 — Acte 2026-042 : en attente d'envoi", S²LOW's status and
 * message under it (outside text). */
static GtkWidget *
send_row(JsonObject *s)
{
	gint64 id = json_object_get_int_member_with_default(s, "id", 0);
	gboolean pes = g_strcmp0(sdr_gui_json_string(s, "kind"), "pes") == 0;
	g_autofree char *number = sdr_gui_outside_text(sdr_gui_json_string(s, "number"), 40);
	g_autofree char *state = sdr_gui_sanitize(sdr_gui_json_string(s, "state_label"), 80);
	g_autofree char *status = sdr_gui_sanitize(sdr_gui_json_string(s, "status_label"), 120);
	g_autofree char *message = sdr_gui_outside_text(sdr_gui_json_string(s, "message"), 300);
	g_autofree char *what = NULL;
	GString *text = g_string_new(NULL);
	GtkWidget *label;

	if (pes)
		what = g_strdup(_("PES flow"));
	else if (number != NULL && *number != '\0')
		what = g_strdup_printf(_("Act %s"), number);
	else
		what = g_strdup(_("Act"));
	g_string_append_printf(text, _("Send %lld — %s: %s"), (long long)id, what,
	                       state != NULL ? state : "?");
	if (status != NULL && *status != '\0')
		g_string_append_printf(text, "\n%s", status);
	if (message != NULL && *message != '\0')
		g_string_append_printf(text, "\n%s", message);
	label = sdr_gui_value_label(text->str);
	gtk_widget_set_margin_top(label, 6);
	gtk_widget_set_margin_bottom(label, 6);
	gtk_widget_set_margin_start(label, 6);
	g_string_free(text, TRUE);
	return label;
}

static void
on_list_done(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	S2lowWindow *sw = data;
	JsonArray *a = sdr_gui_json_array(answer, "sends");
	guint n = a != NULL ? json_array_get_length(a) : 0;

	sw->listing = FALSE;
	if (sw->destroyed)
		goto out;
	clear_list(sw);
	if (answer == NULL) {
		g_autofree char *msg = sdr_gui_sanitize(error != NULL ? error->message : "?", 300);

		gtk_label_set_text(GTK_LABEL(sw->list_state), msg);
		goto out;
	}
	/* Newest first. */
	for (guint i = n; i > 0; i--)
		gtk_list_box_insert(GTK_LIST_BOX(sw->list),
		                    send_row(json_array_get_object_element(a, i - 1)), -1);
	gtk_widget_show_all(sw->list);
	if (n == 0)
		gtk_label_set_text(GTK_LABEL(sw->list_state), _("Nothing was sent yet."));
	else {
		g_autofree char *t =
		        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u send in the queue.",
		                                    "%u sends in the queue.", n),
		                        n);

		gtk_label_set_text(GTK_LABEL(sw->list_state), t);
	}
out:
	g_object_unref(sw->dialog); /* held while the call ran; sw may go with it */
}

/* The queue as it is (offline: no PIN, no network); ask_server: the status handler
 * asks S²LOW for what is pending first (one login). */
static void
list_refresh(S2lowWindow *sw, gboolean ask_server)
{
	g_autoptr(JsonObject) req = json_object_new();

	if (sw->listing)
		return;
	sw->listing = TRUE;
	if (!ask_server)
		json_object_set_boolean_member(req, "offline", TRUE);
	gtk_label_set_text(GTK_LABEL(sw->list_state),
	                   ask_server ? _("Asking S²LOW…") : _("Reading the queue…"));
	g_object_ref(sw->dialog);
	sdr_gui_run_async(sw->gui, "status", req, on_list_done, sw);
}

static void
on_refresh(GtkButton *b, gpointer data)
{
	list_refresh(data, FALSE);
}

static void
on_ask_server(GtkButton *b, gpointer data)
{
	list_refresh(data, TRUE);
}

/* ---- The S²LOW password ------------------------------------------------------------ */

static void
on_login_done(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	S2lowWindow *sw = data;
	g_autofree char *msg = NULL;

	if (answer != NULL)
		msg = g_strdup(_("Password kept in your session's keyring."));
	else
		msg = sdr_gui_sanitize(error != NULL ? error->message : "?", 300);
	if (!sw->destroyed)
		gtk_label_set_text(GTK_LABEL(sw->send_result), msg);
	g_object_unref(sw->dialog);
}

static void
on_password(GtkButton *b, gpointer data)
{
	S2lowWindow *sw = data;

	g_object_ref(sw->dialog);
	sdr_gui_run_async(sw->gui, "s2low-login", NULL, on_login_done, sw);
}

/* ---- The send form ------------------------------------------------------------------ */

static const char *
entry_text(GtkWidget *e)
{
	const char *t = gtk_entry_get_text(GTK_ENTRY(e));

	return t != NULL && *t != '\0' ? t : NULL;
}

static void
update_form(S2lowWindow *sw)
{
	gboolean actes, ready;

	if (sw->send_button == NULL)
		return; /* still being built */
	actes = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(sw->kind_actes));
	ready = entry_text(sw->file) != NULL;
	gtk_widget_set_sensitive(sw->actes_grid, actes);
	if (actes)
		ready = ready && entry_text(sw->classification) != NULL &&
		        entry_text(sw->number) != NULL && entry_text(sw->date) != NULL &&
		        entry_text(sw->subject) != NULL && entry_text(sw->type_acte) != NULL;
	gtk_widget_set_sensitive(sw->send_button, ready && !sw->sending);
}

static void
on_form_changed(GtkWidget *w, gpointer data)
{
	update_form(data);
}

static void
on_send_done(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	S2lowWindow *sw = data;
	JsonObject *o = answer != NULL && JSON_NODE_HOLDS_OBJECT(answer)
	                        ? json_node_get_object(answer)
	                        : NULL;
	g_autofree char *msg = NULL;

	sw->sending = FALSE;
	gui->busy--;
	sdr_gui_navigate(gui, SDR_GUI_NAV_STATE);
	if (sw->destroyed) {
		g_object_unref(sw->dialog);
		return;
	}
	if (o != NULL) {
		g_autofree char *state =
		        sdr_gui_sanitize(sdr_gui_json_string(o, "state_label"), 80);
		g_autofree char *net =
		        sdr_gui_sanitize(sdr_gui_json_string(o, "network_error"), 300);

		msg = net != NULL
		              ? g_strdup_printf(
		                        _("Send %lld queued: %s. Not sent yet (%s): it will "
		                          "be sent again by itself."),
		                        (long long)json_object_get_int_member_with_default(o, "id",
		                                                                           0),
		                        state != NULL ? state : "?", net)
		              : g_strdup_printf(_("Send %lld: %s."),
		                                (long long)json_object_get_int_member_with_default(
		                                        o, "id", 0),
		                                state != NULL ? state : "?");
		gtk_notebook_set_current_page(GTK_NOTEBOOK(sw->notebook), 1);
	} else {
		msg = sdr_gui_sanitize(error != NULL ? error->message : "?", 400);
	}
	gtk_label_set_text(GTK_LABEL(sw->send_result), msg);
	update_form(sw);
	list_refresh(sw, FALSE);
	g_object_unref(sw->dialog);
}

static void
on_send(GtkButton *b, gpointer data)
{
	S2lowWindow *sw = data;
	gboolean actes = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(sw->kind_actes));
	g_autoptr(JsonObject) req = json_object_new();

	if (actes) {
		json_object_set_string_member(
		        req, "nature", gtk_combo_box_get_active_id(GTK_COMBO_BOX(sw->nature)));
		json_object_set_string_member(req, "classification",
		                              entry_text(sw->classification));
		json_object_set_string_member(req, "number", entry_text(sw->number));
		json_object_set_string_member(req, "date", entry_text(sw->date));
		json_object_set_string_member(req, "subject", entry_text(sw->subject));
		json_object_set_string_member(req, "type_acte", entry_text(sw->type_acte));
		json_object_set_string_member(req, "acte", entry_text(sw->file));
	} else {
		json_object_set_string_member(req, "file", entry_text(sw->file));
	}
	sw->sending = TRUE;
	sw->gui->busy++;
	sdr_gui_navigate(sw->gui, SDR_GUI_NAV_STATE);
	update_form(sw);
	gtk_label_set_text(GTK_LABEL(sw->send_result), _("Sending…"));
	g_object_ref(sw->dialog);
	sdr_gui_run_async(sw->gui, actes ? "send-actes" : "send-pes", req, on_send_done, sw);
}

static void
on_chooser_response(GtkDialog *chooser, int response, gpointer data)
{
	S2lowWindow *sw = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));

		if (path != NULL)
			gtk_entry_set_text(GTK_ENTRY(sw->file), path);
	}
	gtk_widget_destroy(GTK_WIDGET(chooser));
}

static void
on_choose(GtkButton *b, gpointer data)
{
	S2lowWindow *sw = data;
	GtkWidget *chooser = gtk_file_chooser_dialog_new(
	        _("Signed file to send"), GTK_WINDOW(sw->dialog), GTK_FILE_CHOOSER_ACTION_OPEN,
	        _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Open"), GTK_RESPONSE_ACCEPT, NULL);

	gtk_window_set_modal(GTK_WINDOW(chooser), TRUE);
	gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(chooser), TRUE);
	gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(chooser), g_get_home_dir());
	gtk_window_set_destroy_with_parent(GTK_WINDOW(chooser), TRUE);
	g_signal_connect(chooser, "response", G_CALLBACK(on_chooser_response), sw);
	gtk_widget_show(chooser);
}

/* A row of the form: a label with its mnemonic pointing at the field. */
static GtkWidget *
form_row(GtkGrid *grid, int row, const char *mnemonic, GtkWidget *field, S2lowWindow *sw)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(mnemonic);

	g_autofree char *name = g_strdup(gtk_label_get_text(GTK_LABEL(l)));

	/* The field's accessible name: its label without the colon. */
	g_strchomp(name);
	if (g_str_has_suffix(name, ":"))
		name[strlen(name) - 1] = '\0';
	g_strchomp(name);
	atk_object_set_name(gtk_widget_get_accessible(field), name);
	gtk_label_set_xalign(GTK_LABEL(l), 1.0f);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), field);
	gtk_widget_set_hexpand(field, TRUE);
	gtk_grid_attach(grid, l, 0, row, 1, 1);
	gtk_grid_attach(grid, field, 1, row, 1, 1);
	if (GTK_IS_ENTRY(field))
		g_signal_connect(field, "changed", G_CALLBACK(on_form_changed), sw);
	return field;
}

static GtkWidget *
form_entry(const char *placeholder, int max_len)
{
	GtkWidget *e = gtk_entry_new();

	if (placeholder != NULL)
		gtk_entry_set_placeholder_text(GTK_ENTRY(e), placeholder);
	gtk_entry_set_max_length(GTK_ENTRY(e), max_len);
	return e;
}

/* The ACTES fields, French labels; S²LOW's own rules are checked by the handler. */
static GtkWidget *
actes_fields(S2lowWindow *sw)
{
	static const struct {
		const char *code;
		const char *label;
	} natures[] = {
		{ "DE", N_("Deliberation") },     { "AR", N_("Regulatory order") },
		{ "AI", N_("Individual order") }, { "CC", N_("Contract or agreement") },
		{ "BF", N_("Budget documents") }, { "AU", N_("Other") },
	};
	GtkWidget *grid = gtk_grid_new();
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *today = g_date_time_format(now, "%Y-%m-%d");
	int row = 0;

	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	sw->nature = gtk_combo_box_text_new();
	for (gsize i = 0; i < G_N_ELEMENTS(natures); i++)
		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(sw->nature), natures[i].code,
		                          _(natures[i].label));
	gtk_combo_box_set_active(GTK_COMBO_BOX(sw->nature), 0);
	form_row(GTK_GRID(grid), row++, _("_Nature of the act:"), sw->nature, sw);
	sw->classification =
	        form_row(GTK_GRID(grid), row++, _("_Classification:"), form_entry("1.1", 20), sw);
	sw->number = form_row(GTK_GRID(grid), row++, _("Act _number:"),
	                      form_entry(_("e.g. 2026-042"), 15), sw);
	sw->date = form_row(GTK_GRID(grid), row++, _("_Date of the decision:"),
	                    form_entry(_("YYYY-MM-DD"), 10), sw);
	gtk_entry_set_text(GTK_ENTRY(sw->date), today);
	sw->subject = form_row(GTK_GRID(grid), row++, _("_Subject:"), form_entry(NULL, 500), sw);
	sw->type_acte = form_row(GTK_GRID(grid), row++, _("_Type of document:"),
	                         form_entry(_("e.g. 99_DE"), 5), sw);
	return grid;
}

static GtkWidget *
send_page(S2lowWindow *sw)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *grid = gtk_grid_new();
	GtkWidget *row, *choose, *buttons, *password;

	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	sw->kind_actes =
	        gtk_radio_button_new_with_mnemonic(NULL, _("An _act for the prefecture (ACTES)"));
	sw->kind_pes = gtk_radio_button_new_with_mnemonic_from_widget(
	        GTK_RADIO_BUTTON(sw->kind_actes), _("A _PES flow for the Treasury (Hélios)"));
	g_signal_connect(sw->kind_actes, "toggled", G_CALLBACK(on_form_changed), sw);
	gtk_box_pack_start(GTK_BOX(box), sw->kind_actes, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), sw->kind_pes, FALSE, FALSE, 0);

	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	sw->file = form_entry(_("signed act (PDF) or PES (XML)"), 4096);
	gtk_box_pack_start(GTK_BOX(row), sw->file, TRUE, TRUE, 0);
	choose = gtk_button_new_with_mnemonic(_("C_hoose…"));
	g_signal_connect(choose, "clicked", G_CALLBACK(on_choose), sw);
	gtk_box_pack_start(GTK_BOX(row), choose, FALSE, FALSE, 0);
	form_row(GTK_GRID(grid), 0, _("_File:"), row, sw);
	gtk_label_set_mnemonic_widget(GTK_LABEL(gtk_grid_get_child_at(GTK_GRID(grid), 0, 0)),
	                              sw->file);
	g_signal_connect(sw->file, "changed", G_CALLBACK(on_form_changed), sw);
	atk_object_set_name(gtk_widget_get_accessible(sw->file), _("File"));
	gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);

	sw->actes_grid = actes_fields(sw);
	gtk_box_pack_start(GTK_BOX(box), sw->actes_grid, FALSE, FALSE, 0);
	sw->send_result = sdr_gui_value_label("");
	gtk_box_pack_start(GTK_BOX(box), sw->send_result, FALSE, FALSE, 0);

	buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
	gtk_box_set_spacing(GTK_BOX(buttons), 6);
	password = gtk_button_new_with_mnemonic(_("S²LOW _password…"));
	gtk_widget_set_tooltip_text(password, _("For a certificate shared by several S²LOW "
	                                        "accounts ([s2low] login)"));
	g_signal_connect(password, "clicked", G_CALLBACK(on_password), sw);
	gtk_container_add(GTK_CONTAINER(buttons), password);
	sw->send_button = gtk_button_new_with_mnemonic(_("_Send"));
	g_signal_connect(sw->send_button, "clicked", G_CALLBACK(on_send), sw);
	gtk_container_add(GTK_CONTAINER(buttons), sw->send_button);
	gtk_box_pack_end(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	return box;
}

static GtkWidget *
sends_page(S2lowWindow *sw)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL);
	GtkWidget *buttons, *b;

	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	sw->list_state = sdr_gui_value_label("");
	gtk_box_pack_start(GTK_BOX(box), sw->list_state, FALSE, FALSE, 0);
	sw->list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(sw->list), GTK_SELECTION_NONE);
	atk_object_set_name(gtk_widget_get_accessible(sw->list), _("Sends"));
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_container_add(GTK_CONTAINER(scroll), sw->list);
	gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);
	buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
	gtk_box_set_spacing(GTK_BOX(buttons), 6);
	b = gtk_button_new_with_mnemonic(_("_Ask S²LOW"));
	gtk_widget_set_tooltip_text(b, _("Asks S²LOW where the pending sends are (uses the key)"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_ask_server), sw);
	gtk_container_add(GTK_CONTAINER(buttons), b);
	b = gtk_button_new_with_mnemonic(_("_Refresh"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_refresh), sw);
	gtk_container_add(GTK_CONTAINER(buttons), b);
	gtk_box_pack_start(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	return box;
}

/* Closing hides (as the main window): the form and the list stay for next time,
 * and a call in flight answers into a live window. */
static void
on_response(GtkDialog *d, int response, gpointer data)
{
	gtk_widget_hide(GTK_WIDGET(d));
}

static gboolean
on_delete(GtkWidget *w, GdkEvent *e, gpointer data)
{
	gtk_widget_hide(w);
	return TRUE;
}

static void
on_destroy(GtkWidget *w, gpointer data)
{
	S2lowWindow *sw = data;

	sw->destroyed = TRUE;
}

static S2lowWindow *
s2low_window_find(SdrGui *gui)
{
	for (GList *l = gtk_application_get_windows(gui->app); l != NULL; l = l->next) {
		S2lowWindow *sw = g_object_get_data(G_OBJECT(l->data), "sdr-s2low");

		if (sw != NULL && !sw->destroyed)
			return sw;
	}
	return NULL;
}

void
sdr_gui_s2low_window_show(SdrGui *gui)
{
	S2lowWindow *sw = s2low_window_find(gui);
	GtkWidget *box;

	if (sw != NULL) {
		gtk_widget_show(sw->dialog);
		gtk_window_present(GTK_WINDOW(sw->dialog));
		list_refresh(sw, FALSE);
		return;
	}
	sw = g_new0(S2lowWindow, 1);
	sw->gui = gui;
	sw->dialog = gtk_dialog_new();
	gtk_window_set_title(GTK_WINDOW(sw->dialog), _("sinadur — send to S²LOW"));
	gtk_window_set_default_size(GTK_WINDOW(sw->dialog), 620, 560);
	gtk_window_set_icon_name(GTK_WINDOW(sw->dialog), "sinadur");
	gtk_application_add_window(gui->app, GTK_WINDOW(sw->dialog));
	g_object_set_data_full(G_OBJECT(sw->dialog), "sdr-s2low", sw, sw_free);
	box = gtk_dialog_get_content_area(GTK_DIALOG(sw->dialog));
	sw->notebook = gtk_notebook_new();
	gtk_notebook_append_page(GTK_NOTEBOOK(sw->notebook), send_page(sw),
	                         gtk_label_new_with_mnemonic(_("_New send")));
	gtk_notebook_append_page(GTK_NOTEBOOK(sw->notebook), sends_page(sw),
	                         gtk_label_new_with_mnemonic(_("S_ends")));
	gtk_box_pack_start(GTK_BOX(box), sw->notebook, TRUE, TRUE, 0);
	gtk_dialog_add_button(GTK_DIALOG(sw->dialog), _("_Close"), GTK_RESPONSE_CLOSE);
	g_signal_connect(sw->dialog, "response", G_CALLBACK(on_response), sw);
	g_signal_connect(sw->dialog, "delete-event", G_CALLBACK(on_delete), sw);
	g_signal_connect(sw->dialog, "destroy", G_CALLBACK(on_destroy), sw);
	gtk_widget_show_all(sw->dialog);
	update_form(sw);
	gtk_window_present(GTK_WINDOW(sw->dialog));
	list_refresh(sw, FALSE);
}

void
sdr_gui_s2low_window_changed(SdrGui *gui)
{
	S2lowWindow *sw = s2low_window_find(gui);

	if (sw != NULL && gtk_widget_get_visible(sw->dialog))
		list_refresh(sw, FALSE);
}
