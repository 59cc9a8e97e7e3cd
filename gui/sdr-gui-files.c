/* sdr-gui-files.c - "Signer des fichiers" and "Vérifier un fichier": file
 * choosers, purpose, progress and per-document results, through the "sign" and
 * "verify" handlers. */
#include "sdr-gui-private.h"
#include "sdr-gui-preview.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <unistd.h>

typedef struct {
	SdrGui *gui;
	GtkWidget *dialog;
	GtkWidget *files_label;
	GtkWidget *purpose;
	GtkWidget *cert;
	GtkWidget *spinner;
	GtkWidget *progress; /* sign: documents done / total */
	GtkWidget *cancel;   /* sign: "Annuler" while the batch runs */
	GtkWidget *summary;  /* sign: the counts and why it stopped */
	GtkWidget *results;
	GtkWidget *open_folder; /* sign: "Ouvrir le dossier" of the signed files */
	GtkWidget *report_row;  /* verify: "Ouvrir le rapport", "Enregistrer le rapport…" */
	char *report;           /* verify: the HTML report the handler wrote (cache folder) */
	GtkWidget *go;
	GCancellable *cancellable; /* the batch running, NULL otherwise */
	GPtrArray *outputs;        /* URIs of the files the last batch signed */
	SdrGuiPreview *preview;    /* PDF page and visible stamp (sign window) */
	guint cert_retry;          /* fills the certificate choice once the refresh ends */
	GPtrArray *paths;
	gboolean verify;
	gboolean running;
} FilesWindow;

static void
fw_free(gpointer data)
{
	FilesWindow *fw = data;

	if (fw->cert_retry != 0)
		g_source_remove(fw->cert_retry);
	g_clear_object(&fw->cancellable);
	if (fw->report != NULL)
		(void)g_unlink(fw->report);
	g_free(fw->report);
	g_ptr_array_unref(fw->outputs);
	g_ptr_array_unref(fw->paths);
	g_free(fw);
}

/* The first PDF of the list when the chosen use signs PDFs as PDFs (PAdES; a
 * public procurement document that is a PDF). */
static const char *
preview_path(FilesWindow *fw)
{
	const char *id;

	if (fw->preview == NULL)
		return NULL;
	id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(fw->purpose));
	if (g_strcmp0(id, "pades") != 0 && g_strcmp0(id, "marche") != 0)
		return NULL;
	for (guint i = 0; i < fw->paths->len; i++) {
		const char *path = g_ptr_array_index(fw->paths, i);
		g_autofree char *lower = g_ascii_strdown(path, -1);

		if (g_str_has_suffix(lower, ".pdf"))
			return path;
	}
	return NULL;
}

static void
update_preview(FilesWindow *fw)
{
	if (fw->preview != NULL)
		(void)sdr_gui_preview_set_file(fw->preview, preview_path(fw));
}

static void
on_purpose(GtkComboBox *c, gpointer data)
{
	update_preview(data);
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
	update_preview(fw);
}

static void on_go(GtkButton *b, gpointer data);

static gboolean
destroy_later(gpointer data)
{
	gtk_widget_destroy(data);
	g_object_unref(data);
	return G_SOURCE_REMOVE;
}

static void
on_chooser_response(GtkDialog *chooser, int response, gpointer data)
{
	FilesWindow *fw = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GSList *list = gtk_file_chooser_get_filenames(GTK_FILE_CHOOSER(chooser));

		if (fw->verify)
			g_ptr_array_set_size(fw->paths, 0);
		for (GSList *l = list; l != NULL; l = l->next) {
			if (fw->paths->len < (fw->verify ? 2 : 100))
				g_ptr_array_add(fw->paths, l->data);
			else
				g_free(l->data);
		}
		g_slist_free(list);
		show_paths(fw);
	}
	/* Destroyed once the events in flight (its completion popup's) are handled. */
	gtk_widget_hide(GTK_WIDGET(chooser));
	g_idle_add(destroy_later, g_object_ref(chooser));
}

static void
on_choose(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;
	GtkWidget *chooser = gtk_file_chooser_dialog_new(
	        fw->verify ? _("File to verify") : _("Files to sign"), GTK_WINDOW(fw->dialog),
	        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Open"),
	        GTK_RESPONSE_ACCEPT, NULL);

	gtk_window_set_modal(GTK_WINDOW(chooser), TRUE);
	/* Verify: the signature, and its document for a detached one. */
	gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(chooser), TRUE);
	gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(chooser), TRUE);
	/* Opens where the last file chosen is, else in the home folder (not "Récents"). */
	{
		g_autofree char *dir = fw->paths->len > 0 ? g_path_get_dirname(g_ptr_array_index(
		                                                    fw->paths, fw->paths->len - 1))
		                                          : g_strdup(g_get_home_dir());

		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(chooser), dir);
	}
	gtk_dialog_set_default_response(GTK_DIALOG(chooser), GTK_RESPONSE_ACCEPT);
	/* The window lives on if the files window closes meanwhile: the chooser is
	 * modal and destroyed with it. */
	gtk_window_set_destroy_with_parent(GTK_WINDOW(chooser), TRUE);
	g_signal_connect(chooser, "response", G_CALLBACK(on_chooser_response), fw);
	gtk_widget_show(chooser);
	gtk_window_present(GTK_WINDOW(chooser));
}

/* Files dropped on the window (text/uri-list): added to the batch (sign), or
 * replacing the file to verify and verified at once (a signature, or a
 * signature with its document). */
static void
on_drag_data_received(GtkWidget *w, GdkDragContext *ctx, gint x, gint y, GtkSelectionData *sel,
                      guint info, guint time, gpointer data)
{
	FilesWindow *fw = data;
	g_auto(GStrv) uris = gtk_selection_data_get_uris(sel);
	GPtrArray *dropped = sdr_gui_dropped_paths(uris, fw->verify ? 2 : 100);

	if (dropped->len > 0 && !fw->running) {
		if (fw->verify)
			g_ptr_array_set_size(fw->paths, 0);
		for (guint i = 0; i < dropped->len && fw->paths->len < 100; i++)
			g_ptr_array_add(fw->paths, g_strdup(g_ptr_array_index(dropped, i)));
		show_paths(fw);
		if (fw->verify)
			on_go(NULL, fw);
	}
	gtk_drag_finish(ctx, dropped->len > 0, FALSE, time);
	g_ptr_array_unref(dropped);
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

/* Why a signature is not valid: the verifier's own French messages (at most 6). */
static void
reason_lines(JsonObject *g, GString *s)
{
	JsonArray *r = json_object_has_member(g, "reasons") &&
	                               JSON_NODE_HOLDS_ARRAY(json_object_get_member(g, "reasons"))
	                       ? json_object_get_array_member(g, "reasons")
	                       : NULL;

	for (guint i = 0; r != NULL && i < json_array_get_length(r) && i < 6; i++) {
		JsonNode *n = json_array_get_element(r, i);
		JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
		const char *m = sdr_gui_json_string(o, "message");
		g_autofree char *safe =
		        sdr_gui_sanitize(m != NULL ? m : sdr_gui_json_string(o, "code"), 300);

		if (safe != NULL && *safe != '\0')
			g_string_append_printf(s, "      %s\n", safe);
	}
}

/* The verify handler's answer: one block per file, a line per signature. */
static void
verify_results(JsonArray *a, GString *s)
{
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *r = json_array_get_object_element(a, i);
		const char *name = sdr_gui_json_string(r, "file");
		g_autofree char *base = name != NULL ? g_path_get_basename(name) : NULL;
		g_autofree char *safe = sdr_gui_outside_text(base, 100);
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
			g_autofree char *who =
			        sdr_gui_outside_text(sdr_gui_json_string(signer, "subject_cn"), 80);

			g_string_append_printf(s, "  • %s — %s\n",
			                       verdict_label(sdr_gui_json_string(g, "verdict")),
			                       who != NULL ? who : "?");
			if (g_strcmp0(sdr_gui_json_string(g, "verdict"), "VALID") != 0)
				reason_lines(g, s);
		}
	}
}

static JsonObject *
object_member(JsonObject *o, const char *member)
{
	JsonNode *n = o != NULL && json_object_has_member(o, member)
	                      ? json_object_get_member(o, member)
	                      : NULL;

	return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* A blocked key: what to do, then whom to call (the policy's support text). */
static char *
locked_text(FilesWindow *fw)
{
	g_autofree char *support =
	        sdr_config_get_string(fw->gui->options.config, "support", "text", NULL);
	g_autofree char *safe =
	        support != NULL && *support != '\0' ? sdr_gui_sanitize(support, 400) : NULL;

	return safe != NULL ? g_strdup_printf("%s\n%s", sdr_gui_locked_advice(), safe)
	                    : g_strdup(sdr_gui_locked_advice());
}

/* "Signature terminée" / "Échec de la signature" (the window may be behind
 * another one while a long batch runs); the summary or the error as its body. */
static void
batch_notification(FilesWindow *fw, const char *body, gboolean failed)
{
	g_autoptr(GNotification) n =
	        g_notification_new(failed ? _("Signing failed") : _("Signing finished"));

	if (body != NULL)
		g_notification_set_body(n, body);
	g_notification_set_priority(n, failed ? G_NOTIFICATION_PRIORITY_HIGH
	                                      : G_NOTIFICATION_PRIORITY_NORMAL);
	g_notification_set_default_action(n, "app.show");
	g_application_send_notification(G_APPLICATION(fw->gui->app), "batch", n);
}

/* The sign handler's answer: the summary, one line per document (plain French,
 * sdr_gui_sign_result_line), the signed files kept for "Ouvrir le dossier". */
static void
sign_results(FilesWindow *fw, JsonNode *answer, GString *s)
{
	JsonArray *a = sdr_gui_json_array(answer, "results");
	JsonObject *top = answer != NULL && JSON_NODE_HOLDS_OBJECT(answer)
	                          ? json_node_get_object(answer)
	                          : NULL;
	const char *stop = sdr_gui_json_string(object_member(top, "error"), "code");
	gboolean locked = g_strcmp0(stop, "SDR_ERROR_PIN_LOCKED") == 0;
	guint n[4] = { 0 }; /* ok, failed, skipped, not signed */
	g_autofree char *summary = NULL;

	g_ptr_array_set_size(fw->outputs, 0);
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *r = json_array_get_object_element(a, i);
		JsonObject *e = object_member(r, "error");
		const char *name = sdr_gui_json_string(r, "name");
		g_autofree char *base = name != NULL ? g_path_get_basename(name) : NULL;
		g_autofree char *safe = sdr_gui_outside_text(base, 100);
		SdrGuiSignResult res = { safe, sdr_gui_json_string(r, "status"),
			                 sdr_gui_json_string(r, "output"),
			                 sdr_gui_json_string(e, "code"),
			                 sdr_gui_json_string(e, "message") };
		g_autofree char *line = sdr_gui_sign_result_line(&res, stop);

		locked = locked || g_strcmp0(res.code, "SDR_ERROR_PIN_LOCKED") == 0;
		if (g_strcmp0(res.status, "ok") == 0)
			n[0]++;
		else if (g_strcmp0(res.status, "skipped") == 0)
			n[2]++;
		else if (g_strcmp0(res.status, "not_signed") == 0)
			n[3]++;
		else
			n[1]++;
		if (res.output != NULL && g_path_is_absolute(res.output) &&
		    (g_strcmp0(res.status, "ok") == 0 || g_strcmp0(res.status, "skipped") == 0) &&
		    fw->outputs->len < 200) {
			char *uri = g_filename_to_uri(res.output, NULL, NULL);

			if (uri != NULL)
				g_ptr_array_add(fw->outputs, uri);
		}
		g_string_append_printf(s, "%s\n", line);
	}
	if (a != NULL)
		summary = sdr_gui_sign_summary(n[0], n[1], n[2], n[3], stop);
	if (summary != NULL && locked) {
		g_autofree char *advice = locked_text(fw);
		char *both = g_strdup_printf("%s\n%s", summary, advice);

		g_free(summary);
		summary = both;
	}
	gtk_label_set_text(GTK_LABEL(fw->summary), summary != NULL ? summary : "");
	gtk_widget_set_visible(fw->summary, summary != NULL);
	/* Failed: nothing signed, a document refused, or stopped by an error (not by Annuler).
	 * No answer at all is notified by on_done, with the error. */
	if (a != NULL)
		batch_notification(
		        fw, summary,
		        n[0] + n[2] == 0 || n[1] > 0 ||
		                (stop != NULL && g_strcmp0(stop, "SDR_ERROR_CANCELLED") != 0));
	gtk_widget_set_visible(fw->open_folder, fw->outputs->len > 0);
}

static void
on_done(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data)
{
	FilesWindow *fw = data;
	GString *s = g_string_new(NULL);

	fw->running = FALSE;
	if (!fw->verify) {
		g_atomic_int_add(&gui->own_requests, -1);
		gui->busy--;
		sdr_gui_notice_end(gui); /* "type the PIN in the key's window"... is over */
		sdr_gui_navigate(gui, SDR_GUI_NAV_STATE);
		g_clear_object(&fw->cancellable);
		gtk_widget_set_sensitive(fw->cancel, FALSE);
		gtk_widget_hide(fw->cancel);
		gtk_widget_hide(fw->progress);
	}
	gtk_spinner_stop(GTK_SPINNER(fw->spinner));
	if (answer == NULL) {
		g_autofree char *msg = sdr_gui_sanitize(error != NULL ? error->message : "?", 400);

		g_string_append(s, msg);
		if (!fw->verify && g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_LOCKED)) {
			g_autofree char *advice = locked_text(fw);

			g_string_append_printf(s, "\n%s", advice);
		}
		if (!fw->verify)
			batch_notification(fw, msg, TRUE);
	}
	if (fw->verify) {
		verify_results(sdr_gui_json_array(answer, "files"), s);
		gtk_widget_set_visible(fw->report_row,
		                       answer != NULL && fw->report != NULL &&
		                               g_file_test(fw->report, G_FILE_TEST_IS_REGULAR));
	} else
		sign_results(fw, answer, s);
	/* Every piece was sanitised on its own (the line breaks are ours). */
	gtk_label_set_text(GTK_LABEL(fw->results), s->str);
	g_string_free(s, TRUE);
	show_paths(fw);
}

/* A batch's step (main loop): the bar follows the documents done. */
static void
on_progress(guint done, guint total, const char *current, gpointer data)
{
	FilesWindow *fw = data;
	g_autofree char *text = NULL;

	if (!fw->running || fw->verify)
		return;
	text = sdr_gui_progress_text(done, total);
	gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(fw->progress),
	                              sdr_gui_progress_fraction(done, total));
	if (fw->cancellable == NULL || !g_cancellable_is_cancelled(fw->cancellable))
		gtk_progress_bar_set_text(GTK_PROGRESS_BAR(fw->progress), text);
	(void)current;
}

static void
on_cancel(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;

	if (fw->cancellable == NULL)
		return;
	g_cancellable_cancel(fw->cancellable);
	gtk_widget_set_sensitive(fw->cancel, FALSE);
	gtk_progress_bar_set_text(GTK_PROGRESS_BAR(fw->progress),
	                          _("Cancelling after the document being signed…"));
}

static void
show_items_done(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(GVariant) v = NULL;
	g_autoptr(GError) error = NULL;
	char *folder = data;

	v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (v == NULL) {
		/* No file manager on the bus: the folder opened by its default application. */
		g_autoptr(GError) e2 = NULL;

		if (!g_app_info_launch_default_for_uri(folder, NULL, &e2))
			g_warning("Ouvrir le dossier: %s", e2->message);
	}
	g_free(folder);
}

/* "Ouvrir le dossier": the file manager shows the signed files selected
 * (org.freedesktop.FileManager1), else the folder of the first one is opened. */
static void
on_open_folder(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;
	GDBusConnection *bus = g_application_get_dbus_connection(G_APPLICATION(fw->gui->app));
	g_autoptr(GFile) first = NULL;
	g_autoptr(GFile) parent = NULL;
	GVariantBuilder uris;

	if (fw->outputs->len == 0)
		return;
	first = g_file_new_for_uri(g_ptr_array_index(fw->outputs, 0));
	parent = g_file_get_parent(first);
	if (bus == NULL) {
		g_autofree char *folder = g_file_get_uri(parent);

		(void)g_app_info_launch_default_for_uri(folder, NULL, NULL);
		return;
	}
	g_variant_builder_init(&uris, G_VARIANT_TYPE("as"));
	for (guint i = 0; i < fw->outputs->len; i++)
		g_variant_builder_add(&uris, "s", (const char *)g_ptr_array_index(fw->outputs, i));
	g_dbus_connection_call(bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
	                       "org.freedesktop.FileManager1", "ShowItems",
	                       g_variant_new("(ass)", &uris, ""), NULL, G_DBUS_CALL_FLAGS_NONE,
	                       5000, NULL, show_items_done, g_file_get_uri(parent));
}

/* The signing certificates still valid, the one that lasts longest first chosen
 * (combo filled again when empty: the first refresh may end after the window opens). */
static void
fill_cert_combo(GtkWidget *combo, SdrGui *gui)
{
	JsonArray *a = sdr_gui_json_array(gui->certs, "certificates");
	gint64 best = G_MININT64;
	const char *best_id = NULL;

	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *c = json_array_get_object_element(a, i);
		JsonArray *usage = c != NULL && json_object_has_member(c, "usage")
		                           ? json_object_get_array_member(c, "usage")
		                           : NULL;
		gboolean sign = FALSE;
		const char *id = sdr_gui_json_string(c, "id");
		gint64 days;
		g_autofree char *holder = NULL;
		g_autofree char *until = NULL;
		g_autofree char *text = NULL;

		for (guint k = 0; usage != NULL && k < json_array_get_length(usage); k++)
			sign = sign ||
			       g_strcmp0(json_array_get_string_element(usage, k), "signature") == 0;
		if (!sign || id == NULL || !json_object_has_member(c, "days_left") ||
		    (json_object_has_member(c, "expired") &&
		     json_object_get_boolean_member(c, "expired")))
			continue;
		days = json_object_get_int_member(c, "days_left");
		holder = sdr_gui_sanitize(sdr_gui_json_string(c, "subject_cn"), 80);
		until = sdr_gui_date_text(sdr_gui_json_string(c, "not_after"));
		text = g_strdup_printf(_("%s (valid until %s)"), holder, until);
		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), id, text);
		if (days > best) {
			best = days;
			best_id = id;
		}
	}
	if (best_id != NULL)
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), best_id);
}

static gboolean
on_focus_in(GtkWidget *w, GdkEvent *e, gpointer data)
{
	FilesWindow *fw = data;

	if (fw->cert != NULL && gtk_combo_box_get_active_id(GTK_COMBO_BOX(fw->cert)) == NULL)
		fill_cert_combo(fw->cert, fw->gui);
	return FALSE;
}

static gboolean
on_cert_retry(gpointer data)
{
	FilesWindow *fw = data;

	(void)on_focus_in(NULL, NULL, fw);
	if (gtk_combo_box_get_active_id(GTK_COMBO_BOX(fw->cert)) == NULL && fw->gui->certs == NULL)
		return G_SOURCE_CONTINUE;
	fw->cert_retry = 0;
	return G_SOURCE_REMOVE;
}

/* A fresh report file in the cache folder (the previous one removed). */
static void
set_report_path(FilesWindow *fw)
{
	static guint counter;
	g_autofree char *dir = g_build_filename(g_get_user_cache_dir(), "sinadur", NULL);
	g_autofree char *name = g_strdup_printf("rapport-%d-%u.html", (int)getpid(), ++counter);

	if (fw->report != NULL)
		(void)g_unlink(fw->report);
	g_free(fw->report);
	(void)g_mkdir_with_parents(dir, 0700);
	fw->report = g_build_filename(dir, name, NULL);
}

/* "Ouvrir le rapport": the HTML report in the default browser. */
static void
on_open_report(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;
	g_autofree char *uri =
	        fw->report != NULL ? g_filename_to_uri(fw->report, NULL, NULL) : NULL;
	g_autoptr(GError) e = NULL;

	if (uri != NULL && !g_app_info_launch_default_for_uri(uri, NULL, &e)) {
		g_autofree char *msg = sdr_gui_sanitize(e->message, 300);
		g_autofree char *text =
		        g_strdup_printf(_("The report could not be opened: %s"), msg);

		gtk_label_set_text(GTK_LABEL(fw->summary), text);
		gtk_widget_show(fw->summary);
	}
}

static void
on_save_response(GtkDialog *chooser, int response, gpointer data)
{
	FilesWindow *fw = data;

	if (response == GTK_RESPONSE_ACCEPT && fw->report != NULL) {
		g_autoptr(GFile) from = g_file_new_for_path(fw->report);
		g_autoptr(GFile) to = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser));
		g_autoptr(GError) e = NULL;
		g_autofree char *text = NULL;

		if (to != NULL &&
		    g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &e)) {
			g_autofree char *name = g_file_get_basename(to);
			g_autofree char *safe = sdr_gui_outside_text(name, 100);

			text = g_strdup_printf(_("Report saved: %s"), safe);
		} else {
			g_autofree char *msg = sdr_gui_sanitize(e != NULL ? e->message : "?", 300);

			text = g_strdup_printf(_("The report could not be saved: %s"), msg);
		}
		gtk_label_set_text(GTK_LABEL(fw->summary), text);
		gtk_widget_show(fw->summary);
	}
	gtk_widget_hide(GTK_WIDGET(chooser));
	g_idle_add(destroy_later, g_object_ref(chooser));
}

/* "Enregistrer le rapport…": a copy of the HTML report where the person says, by
 * default next to the verified file. */
static void
on_save_report(GtkButton *b, gpointer data)
{
	FilesWindow *fw = data;
	GtkWidget *chooser = gtk_file_chooser_dialog_new(
	        _("Save the report"), GTK_WINDOW(fw->dialog), GTK_FILE_CHOOSER_ACTION_SAVE,
	        _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Save"), GTK_RESPONSE_ACCEPT, NULL);
	g_autofree char *dir = fw->paths->len > 0
	                               ? g_path_get_dirname(g_ptr_array_index(fw->paths, 0))
	                               : g_strdup(g_get_home_dir());

	gtk_window_set_modal(GTK_WINDOW(chooser), TRUE);
	gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(chooser), TRUE);
	gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(chooser), dir);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), _("verification-report.html"));
	gtk_dialog_set_default_response(GTK_DIALOG(chooser), GTK_RESPONSE_ACCEPT);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(chooser), TRUE);
	g_signal_connect(chooser, "response", G_CALLBACK(on_save_response), fw);
	gtk_widget_show(chooser);
	gtk_window_present(GTK_WINDOW(chooser));
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
	if (fw->verify && fw->paths->len == 2) {
		/* A detached signature and its document, dropped or chosen together. */
		int sig = sdr_gui_verify_pair(g_ptr_array_index(fw->paths, 0),
		                              g_ptr_array_index(fw->paths, 1));

		if (sig >= 0) {
			JsonObject *d = json_object_new();

			json_array_unref(docs);
			docs = json_array_new();
			json_object_set_string_member(d, "path", g_ptr_array_index(fw->paths, sig));
			json_array_add_object_element(docs, d);
			json_object_set_string_member(req, "content",
			                              g_ptr_array_index(fw->paths, 1 - sig));
		}
	}
	json_object_set_array_member(req, fw->verify ? "files" : "documents", docs);
	if (fw->verify && fw->paths->len == 1) {
		g_autofree char *content =
		        sdr_gui_detached_content(g_ptr_array_index(fw->paths, 0));

		if (content != NULL)
			json_object_set_string_member(req, "content", content);
	}
	if (!fw->verify) {
		const char *id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(fw->purpose));
		JsonObject *options = json_object_new();
		const char *cert;

		(void)on_focus_in(NULL, NULL, fw);
		cert = gtk_combo_box_get_active_id(GTK_COMBO_BOX(fw->cert));

		json_object_set_string_member(req, "format", id != NULL ? id : "cades");
		sdr_gui_preview_fill_options(fw->preview, options);
		if (json_object_get_size(options) > 0)
			json_object_set_object_member(req, "options", options);
		else
			json_object_unref(options);
		if (cert != NULL)
			json_object_set_string_member(req, "certificate", cert);
		g_atomic_int_inc(&fw->gui->own_requests);
		fw->gui->busy++;
		sdr_gui_navigate(fw->gui, SDR_GUI_NAV_STATE);
	}
	fw->running = TRUE;
	gtk_widget_set_sensitive(fw->go, FALSE);
	gtk_label_set_text(GTK_LABEL(fw->results),
	                   fw->verify ? _("Verification in progress…") : _("Signing in progress…"));
	if (fw->verify) {
		set_report_path(fw);
		json_object_set_string_member(req, "report", fw->report);
		gtk_widget_hide(fw->report_row);
		gtk_spinner_start(GTK_SPINNER(fw->spinner));
		sdr_gui_run_async(fw->gui, "verify", req, on_done, fw);
		return;
	}
	gtk_widget_hide(fw->summary);
	gtk_widget_hide(fw->open_folder);
	gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(fw->progress), 0.0);
	{
		g_autofree char *text = sdr_gui_progress_text(0, fw->paths->len);

		gtk_progress_bar_set_text(GTK_PROGRESS_BAR(fw->progress), text);
	}
	gtk_widget_show(fw->progress);
	gtk_widget_set_sensitive(fw->cancel, TRUE);
	gtk_widget_show(fw->cancel);
	g_clear_object(&fw->cancellable);
	fw->cancellable = g_cancellable_new();
	sdr_gui_run_async_full(fw->gui, "sign", req, fw->cancellable, on_progress, on_done, fw);
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

/* "Ouvrir le rapport", "Enregistrer le rapport…" (verify), hidden until a
 * verification answered. */
static GtkWidget *
report_row_new(FilesWindow *fw)
{
	GtkWidget *b;

	fw->report_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	b = gtk_button_new_with_mnemonic(_("Open the _report"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_open_report), fw);
	gtk_box_pack_start(GTK_BOX(fw->report_row), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic(_("S_ave the report…"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_save_report), fw);
	gtk_box_pack_start(GTK_BOX(fw->report_row), b, FALSE, FALSE, 0);
	gtk_widget_show_all(fw->report_row);
	gtk_widget_set_no_show_all(fw->report_row, TRUE);
	gtk_widget_hide(fw->report_row);
	return fw->report_row;
}

static FilesWindow *
files_window_show(SdrGui *gui, gboolean verify)
{
	FilesWindow *fw = g_new0(FilesWindow, 1);
	GtkWidget *content, *box, *choose, *close, *scroll;

	fw->gui = gui;
	fw->verify = verify;
	fw->paths = g_ptr_array_new_with_free_func(g_free);
	fw->outputs = g_ptr_array_new_with_free_func(g_free);
	fw->dialog = gtk_dialog_new();
	gtk_window_set_title(GTK_WINDOW(fw->dialog),
	                     verify ? _("sinadur — verify a file") : _("sinadur — sign files"));
	gtk_window_set_default_size(GTK_WINDOW(fw->dialog), verify ? 560 : 900, verify ? 420 : 600);
	gtk_application_add_window(gui->app, GTK_WINDOW(fw->dialog));
	g_object_set_data_full(G_OBJECT(fw->dialog), "sdr-files", fw, fw_free);
	box = gtk_dialog_get_content_area(GTK_DIALOG(fw->dialog));
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	/* The choices on the left, the page preview (PDF) on the right. */
	content = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 18);
	gtk_box_pack_start(GTK_BOX(box), content, TRUE, TRUE, 0);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_box_pack_start(GTK_BOX(content), box, TRUE, TRUE, 0);

	choose = gtk_button_new_with_mnemonic(verify ? _("_Choose the file…") : _("_Add files…"));
	g_signal_connect(choose, "clicked", G_CALLBACK(on_choose), fw);
	gtk_widget_set_halign(choose, GTK_ALIGN_START);
	gtk_box_pack_start(GTK_BOX(box), choose, FALSE, FALSE, 0);
	{
		GtkWidget *hint = sdr_gui_value_label(
		        verify ? _("…or drop the signed file here (with its document for a "
		                   "detached signature).")
		               : _("…or drop the files on this window."));

		gtk_style_context_add_class(gtk_widget_get_style_context(hint), "dim-label");
		gtk_box_pack_start(GTK_BOX(box), hint, FALSE, FALSE, 0);
	}
	fw->files_label = sdr_gui_value_label(NULL);
	/* A batch of 40 files scrolls instead of growing the window. */
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scroll), TRUE);
	gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scroll), 160);
	gtk_container_add(GTK_CONTAINER(scroll), fw->files_label);
	gtk_box_pack_start(GTK_BOX(box), scroll, FALSE, FALSE, 0);
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
		l = gtk_label_new(_("With which certificate?"));
		gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
		gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
		fw->cert = gtk_combo_box_text_new();
		fill_cert_combo(fw->cert, gui);
		g_signal_connect(fw->dialog, "focus-in-event", G_CALLBACK(on_focus_in), fw);
		if (gui->certs == NULL)
			fw->cert_retry = g_timeout_add(500, on_cert_retry, fw);
		gtk_box_pack_start(GTK_BOX(box), fw->cert, FALSE, FALSE, 0);
		gtk_box_pack_start(GTK_BOX(content), sdr_gui_preview_new(&fw->preview), TRUE, TRUE,
		                   0);
		g_signal_connect(fw->purpose, "changed", G_CALLBACK(on_purpose), fw);
	}
	fw->spinner = gtk_spinner_new();
	gtk_box_pack_start(GTK_BOX(box), fw->spinner, FALSE, FALSE, 0);
	{
		/* The batch's progress and its Cancel (sign), hidden while idle. */
		GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);

		fw->progress = gtk_progress_bar_new();
		gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(fw->progress), TRUE);
		gtk_widget_set_valign(fw->progress, GTK_ALIGN_CENTER);
		atk_object_set_name(gtk_widget_get_accessible(fw->progress), _("Progress"));
		gtk_box_pack_start(GTK_BOX(row), fw->progress, TRUE, TRUE, 0);
		fw->cancel = gtk_button_new_with_mnemonic(_("_Cancel"));
		g_signal_connect(fw->cancel, "clicked", G_CALLBACK(on_cancel), fw);
		gtk_box_pack_start(GTK_BOX(row), fw->cancel, FALSE, FALSE, 0);
		gtk_widget_set_no_show_all(fw->progress, TRUE);
		gtk_widget_set_no_show_all(fw->cancel, TRUE);
		gtk_widget_set_visible(row, !verify);
		gtk_widget_set_no_show_all(row, verify);
		gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	}
	fw->summary = sdr_gui_value_label("");
	gtk_widget_set_no_show_all(fw->summary, TRUE);
	gtk_box_pack_start(GTK_BOX(box), fw->summary, FALSE, FALSE, 0);
	fw->results = sdr_gui_value_label("");
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 120);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_container_add(GTK_CONTAINER(scroll), fw->results);
	gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);
	fw->open_folder = gtk_button_new_with_mnemonic(_("_Open the folder"));
	g_signal_connect(fw->open_folder, "clicked", G_CALLBACK(on_open_folder), fw);
	gtk_widget_set_halign(fw->open_folder, GTK_ALIGN_START);
	gtk_widget_set_no_show_all(fw->open_folder, TRUE);
	gtk_box_pack_start(GTK_BOX(box), fw->open_folder, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), report_row_new(fw), FALSE, FALSE, 0);

	close = gtk_dialog_add_button(GTK_DIALOG(fw->dialog), _("_Close"), GTK_RESPONSE_CLOSE);
	(void)close;
	fw->go = gtk_dialog_add_button(GTK_DIALOG(fw->dialog), verify ? _("_Verify") : _("_Sign"),
	                               GTK_RESPONSE_NONE);
	g_signal_connect(fw->go, "clicked", G_CALLBACK(on_go), fw);
	g_signal_connect(fw->dialog, "delete-event", G_CALLBACK(on_delete), fw);
	gtk_drag_dest_set(fw->dialog, GTK_DEST_DEFAULT_ALL, NULL, 0, GDK_ACTION_COPY);
	gtk_drag_dest_add_uri_targets(fw->dialog);
	g_signal_connect(fw->dialog, "drag-data-received", G_CALLBACK(on_drag_data_received), fw);
	g_signal_connect(fw->dialog, "response", G_CALLBACK(on_response), fw);
	show_paths(fw);
	gtk_widget_show_all(fw->dialog);
	gtk_window_present(GTK_WINDOW(fw->dialog));
	return fw;
}

void
sdr_gui_sign_window_show(SdrGui *gui)
{
	(void)files_window_show(gui, FALSE);
}

void
sdr_gui_sign_window_show_files(SdrGui *gui, GFile **files, int n_files)
{
	FilesWindow *fw = files_window_show(gui, FALSE);

	for (int i = 0; i < n_files && i < 100; i++) {
		char *path = g_file_get_path(files[i]);

		if (path != NULL)
			g_ptr_array_add(fw->paths, path);
	}
	show_paths(fw);
}

void
sdr_gui_verify_window_show(SdrGui *gui)
{
	(void)files_window_show(gui, TRUE);
}

void
sdr_gui_verify_window_show_files(SdrGui *gui, GFile **files, int n_files)
{
	FilesWindow *fw = files_window_show(gui, TRUE);

	/* A signature, or a detached signature and its document. */
	for (int i = 0; i < n_files && i < 2; i++) {
		char *path = g_file_get_path(files[i]);

		if (path != NULL)
			g_ptr_array_add(fw->paths, path);
	}
	if (fw->paths->len == 0)
		return;
	show_paths(fw);
	on_go(NULL, fw);
}
