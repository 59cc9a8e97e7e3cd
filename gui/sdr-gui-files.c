/* sdr-gui-files.c - "Signer des fichiers" and "Vérifier un fichier": file
 * choosers, purpose, progress and per-document results, through the "sign" and
 * "verify" handlers. */
#include "sdr-gui-private.h"

#include <glib/gi18n-lib.h>

typedef struct {
	SdrGui *gui;
	GtkWidget *dialog;
	GtkWidget *files_label;
	GtkWidget *purpose;
	GtkWidget *spinner;
	GtkWidget *results;
	GtkWidget *go;
	GPtrArray *paths;
	gboolean verify;
	gboolean running;
} FilesWindow;

static void
fw_free(gpointer data)
{
	FilesWindow *fw = data;

	g_ptr_array_unref(fw->paths);
	g_free(fw);
}

static void
show_paths(FilesWindow *fw)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < fw->paths->len; i++) {
		g_autofree char *base = g_path_get_basename(g_ptr_array_index(fw->paths, i));
		g_autofree char *safe = sdr_gui_outside_text(base, 100);

		g_string_append_printf(s, "%s%s", i > 0 ? "\n" : "", safe);
	}
	gtk_label_set_text(GTK_LABEL(fw->files_label),
	                   s->len > 0 ? s->str : _("No file chosen yet."));
	gtk_widget_set_sensitive(fw->go, fw->paths->len > 0 && !fw->running);
	g_string_free(s, TRUE);
}

static void
on_choose(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;
	GtkWidget *chooser = gtk_file_chooser_dialog_new(
	        fw->verify ? _("File to verify") : _("Files to sign"), GTK_WINDOW(fw->dialog),
	        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Open"),
	        GTK_RESPONSE_ACCEPT, NULL);

	gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(chooser), !fw->verify);
	gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(chooser), TRUE);
	if (gtk_dialog_run(GTK_DIALOG(chooser)) == GTK_RESPONSE_ACCEPT) {
		GSList *list = gtk_file_chooser_get_filenames(GTK_FILE_CHOOSER(chooser));

		if (fw->verify)
			g_ptr_array_set_size(fw->paths, 0);
		for (GSList *l = list; l != NULL; l = l->next)
			g_ptr_array_add(fw->paths, l->data);
		g_slist_free(list);
		show_paths(fw);
	}
	gtk_widget_destroy(chooser);
}

static const char *
verdict_label(const char *v)
{
	if (g_strcmp0(v, "VALID") == 0)
		return _("valid signature");
	if (g_strcmp0(v, "INVALID") == 0)
		return _("INVALID signature");
	return _("signature not checked to the end (indeterminate)");
}

static void
on_done(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	FilesWindow *fw = data;
	GString *s = g_string_new(NULL);
	JsonArray *a = sdr_gui_json_array(answer, fw->verify ? "files" : "results");

	fw->running = FALSE;
	if (!fw->verify) {
		g_atomic_int_add(&gui->own_requests, -1);
		gui->busy--;
		sdr_gui_tray_update(gui);
	}
	gtk_spinner_stop(GTK_SPINNER(fw->spinner));
	if (answer == NULL)
		g_string_append(s, error != NULL ? error->message : "?");
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *r = json_array_get_object_element(a, i);
		const char *name = sdr_gui_json_string(r, fw->verify ? "file" : "name");
		g_autofree char *safe = sdr_gui_outside_text(name, 100);

		if (fw->verify) {
			JsonArray *sigs = json_object_has_member(r, "signatures")
			                          ? json_object_get_array_member(r, "signatures")
			                          : NULL;

			g_string_append_printf(s, "%s\n", safe != NULL ? safe : "?");
			if (sigs == NULL || json_array_get_length(sigs) == 0)
				g_string_append_printf(s, "  %s\n", _("no signature found"));
			for (guint k = 0; sigs != NULL && k < json_array_get_length(sigs); k++) {
				JsonObject *g = json_array_get_object_element(sigs, k);
				JsonObject *signer =
				        json_object_has_member(g, "signer") &&
				                        JSON_NODE_HOLDS_OBJECT(
				                                json_object_get_member(g, "signer"))
				                ? json_object_get_object_member(g, "signer")
				                : NULL;
				g_autofree char *who = sdr_gui_outside_text(
				        sdr_gui_json_string(signer, "subject_cn"), 80);

				g_string_append_printf(
				        s, "  • %s — %s\n",
				        verdict_label(sdr_gui_json_string(g, "verdict")),
				        who != NULL ? who : "?");
			}
		} else {
			const char *status = sdr_gui_json_string(r, "status");
			JsonObject *e = json_object_has_member(r, "error") &&
			                                JSON_NODE_HOLDS_OBJECT(
			                                        json_object_get_member(r, "error"))
			                        ? json_object_get_object_member(r, "error")
			                        : NULL;

			if (g_strcmp0(status, "ok") == 0)
				g_string_append_printf(s, "✔ %s : %s\n", safe, _("signed"));
			else
				g_string_append_printf(
				        s, "✘ %s : %s\n", safe,
				        e != NULL && sdr_gui_json_string(e, "message")
				                ? sdr_gui_json_string(e, "message")
				                : _("not signed"));
		}
	}
	{
		g_autofree char *clean = sdr_gui_sanitize(s->str, 20000);

		gtk_label_set_text(GTK_LABEL(fw->results), clean);
	}
	g_string_free(s, TRUE);
	show_paths(fw);
}

static void
on_go(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;
	g_autoptr(JsonObject) req = json_object_new();
	JsonArray *docs = json_array_new();

	for (guint i = 0; i < fw->paths->len; i++) {
		JsonObject *d = json_object_new();

		json_object_set_string_member(d, "path", g_ptr_array_index(fw->paths, i));
		json_array_add_object_element(docs, d);
	}
	json_object_set_array_member(req, fw->verify ? "files" : "documents", docs);
	if (!fw->verify) {
		const char *id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(fw->purpose));

		json_object_set_string_member(req, "format", id != NULL ? id : "cades");
		g_atomic_int_inc(&fw->gui->own_requests);
		fw->gui->busy++;
		sdr_gui_tray_update(fw->gui);
	}
	fw->running = TRUE;
	gtk_widget_set_sensitive(fw->go, FALSE);
	gtk_label_set_text(GTK_LABEL(fw->results),
	                   fw->verify ? _("Verification in progress…") : _("Signing in progress…"));
	gtk_spinner_start(GTK_SPINNER(fw->spinner));
	sdr_gui_run_async(fw->gui, fw->verify ? "verify" : "sign", req, on_done, fw);
}

static gboolean
on_delete(GtkWidget *w, GdkEvent *e, gpointer data)
{
	FilesWindow *fw = data;

	/* A running request answers into this window: keep it until then. */
	return fw->running;
}

static void
on_response(GtkDialog *d, int response, gpointer data)
{
	FilesWindow *fw = data;

	if (response == GTK_RESPONSE_CLOSE && !fw->running)
		gtk_widget_destroy(GTK_WIDGET(d));
}

static void
files_window_show(SdrGui *gui, gboolean verify)
{
	FilesWindow *fw = g_new0(FilesWindow, 1);
	GtkWidget *box, *choose, *close, *scroll;

	fw->gui = gui;
	fw->verify = verify;
	fw->paths = g_ptr_array_new_with_free_func(g_free);
	fw->dialog = gtk_dialog_new();
	gtk_window_set_title(GTK_WINDOW(fw->dialog),
	                     verify ? _("sinadur — verify a file") : _("sinadur — sign files"));
	gtk_window_set_default_size(GTK_WINDOW(fw->dialog), 560, 420);
	gtk_application_add_window(gui->app, GTK_WINDOW(fw->dialog));
	g_object_set_data_full(G_OBJECT(fw->dialog), "sdr-files", fw, fw_free);
	box = gtk_dialog_get_content_area(GTK_DIALOG(fw->dialog));
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	gtk_box_set_spacing(GTK_BOX(box), 8);

	choose = gtk_button_new_with_mnemonic(verify ? _("_Choose the file…") : _("_Add files…"));
	g_signal_connect(choose, "clicked", G_CALLBACK(on_choose), fw);
	gtk_widget_set_halign(choose, GTK_ALIGN_START);
	gtk_box_pack_start(GTK_BOX(box), choose, FALSE, FALSE, 0);
	fw->files_label = sdr_gui_value_label(NULL);
	gtk_box_pack_start(GTK_BOX(box), fw->files_label, FALSE, FALSE, 0);
	if (!verify) {
		GtkWidget *l = gtk_label_new(_("What are you signing?"));

		gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
		gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
		fw->purpose = gtk_combo_box_text_new();
		for (const SdrGuiPurpose *p = sdr_gui_purposes(); p->format != NULL; p++)
			gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(fw->purpose), p->format,
			                          _(p->label));
		gtk_combo_box_set_active(GTK_COMBO_BOX(fw->purpose), 0);
		gtk_box_pack_start(GTK_BOX(box), fw->purpose, FALSE, FALSE, 0);
	}
	fw->spinner = gtk_spinner_new();
	gtk_box_pack_start(GTK_BOX(box), fw->spinner, FALSE, FALSE, 0);
	fw->results = sdr_gui_value_label("");
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_container_add(GTK_CONTAINER(scroll), fw->results);
	gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);

	close = gtk_dialog_add_button(GTK_DIALOG(fw->dialog), _("_Close"), GTK_RESPONSE_CLOSE);
	(void)close;
	fw->go = gtk_dialog_add_button(GTK_DIALOG(fw->dialog), verify ? _("_Verify") : _("_Sign"),
	                               GTK_RESPONSE_NONE);
	g_signal_connect(fw->go, "clicked", G_CALLBACK(on_go), fw);
	g_signal_connect(fw->dialog, "delete-event", G_CALLBACK(on_delete), fw);
	g_signal_connect(fw->dialog, "response", G_CALLBACK(on_response), fw);
	show_paths(fw);
	gtk_widget_show_all(fw->dialog);
	gtk_window_present(GTK_WINDOW(fw->dialog));
}

void
sdr_gui_sign_window_show(SdrGui *gui)
{
	files_window_show(gui, FALSE);
}

void
sdr_gui_verify_window_show(SdrGui *gui)
{
	files_window_show(gui, TRUE);
}
