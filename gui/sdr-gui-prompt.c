/* sdr-gui-prompt.c - the GTK prompter: consent, PIN, final-try confirmation,
 * notices. The SdrPrompt methods run on worker threads; each builds its dialog on
 * the main loop (g_main_context_invoke) and waits on a GCond for the answer. GTK
 * objects are created, shown and destroyed only on the main thread.
 *
 * The one file that knows SdrPromptClass (agent/sdr-prompt.h): adapt it here when
 * the interface grows. */
#include "sdr-gui-private.h"
#include "sdr-gui-secure-buffer.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>

#define PIN_TIMEOUT_S 300
#define NOTICE_TIMEOUT_S 60

typedef enum { CALL_CONSENT, CALL_PIN, CALL_CONFIRM } CallKind;

typedef struct {
	SdrGui *gui;
	CallKind kind;
	const SdrConsentRequest *consent;   /* borrowed: the worker waits */
	const SdrPinPromptRequest *pin_req; /* borrowed: the worker waits */

	GMutex lock;
	GCond cond;
	gboolean done;
	gboolean ok;
	SdrSecret *pin;
	GError *error;

	/* main thread only */
	GtkWidget *dialog;
	GtkWidget *entry;
	GtkWidget *confirm;
	GtkWidget *ok_button;
	GtkEntryBuffer *buffer;
	SdrGuiPinText text;
	guint timeout_id;
	gboolean final_confirmed;
} Call;

typedef struct {
	SdrPrompt parent;
	SdrGui *gui;
	gint final_confirmed; /* confirm_final_try said yes; the next ask_pin needs no more */
} GuiPrompt;

/* ---- Main-thread side ------------------------------------------------------------ */

static void
call_finish(Call *call, gboolean ok, SdrSecret *pin, GError *error)
{
	if (call->timeout_id != 0) {
		g_source_remove(call->timeout_id);
		call->timeout_id = 0;
	}
	if (call->buffer != NULL) {
		sdr_gui_secure_buffer_wipe(SDR_GUI_SECURE_BUFFER(call->buffer));
		g_clear_object(&call->buffer);
	}
	if (call->dialog != NULL) {
		gtk_widget_destroy(call->dialog);
		call->dialog = NULL;
	}
	sdr_gui_pin_text_clear(&call->text);
	g_mutex_lock(&call->lock);
	call->ok = ok;
	call->pin = pin;
	call->error = error;
	call->done = TRUE;
	g_cond_signal(&call->cond);
	g_mutex_unlock(&call->lock);
}

static gboolean
on_timeout(gpointer data)
{
	Call *call = data;

	call->timeout_id = 0;
	call_finish(call, FALSE, NULL,
	            g_error_new_literal(SDR_ERROR, SDR_ERROR_TIMEOUT,
	                                _("No answer was given in time: nothing was signed.")));
	return G_SOURCE_REMOVE;
}

static void
on_response(GtkDialog *dialog, int response, gpointer data)
{
	Call *call = data;

	if (call->kind == CALL_PIN && response == GTK_RESPONSE_OK) {
		gsize len = 0;
		const char *t = gtk_entry_buffer_get_text(call->buffer);
		SdrSecret *pin;

		len = gtk_entry_buffer_get_bytes(call->buffer);
		if (!sdr_gui_pin_can_submit(
		            &call->text,
		            call->confirm == NULL ||
		                    gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(call->confirm)),
		            gtk_entry_buffer_get_length(call->buffer), 0, 0))
			return;
		/* Into the secret at once; the buffer is wiped by call_finish(). */
		pin = sdr_secret_new_from_data(t, len);
		call_finish(call, pin != NULL, pin,
		            pin != NULL ? NULL
		                        : g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                              _("PIN entry was cancelled.")));
		return;
	}
	if (response == GTK_RESPONSE_ACCEPT || response == GTK_RESPONSE_OK) {
		g_autofree char *label = NULL;

		/* A key with its own PIN pad or PIN window: say where to type. */
		if (call->kind == CALL_CONSENT &&
		    call->consent->action != SDR_CONSENT_LIST_CERTIFICATES &&
		    sdr_gui_cert_on_pin_pad(call->gui, NULL, call->consent->cert_subject,
		                            call->consent->cert_issuer, &label))
			sdr_gui_show_pin_pad_notice(call->gui, label);
		call_finish(call, TRUE, NULL, NULL);
		return;
	}
	if (call->kind == CALL_CONSENT)
		call_finish(call, FALSE, NULL,
		            g_error_new_literal(SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
		                                _("The signature was refused.")));
	else
		call_finish(call, FALSE, NULL,
		            g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                call->kind == CALL_PIN
		                                        ? _("PIN entry was cancelled.")
		                                        : _("The last PIN try was not confirmed: "
		                                            "the key was not used.")));
}

static GtkWidget *
new_dialog(Call *call, const char *title)
{
	GtkWidget *d = gtk_dialog_new();
	GtkWidget *parent = call->gui->window;

	gtk_window_set_title(GTK_WINDOW(d), title);
	gtk_window_set_icon_name(GTK_WINDOW(d), "sinadur");
	gtk_window_set_resizable(GTK_WINDOW(d), FALSE);
	gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
	gtk_window_set_position(GTK_WINDOW(d), GTK_WIN_POS_CENTER);
	if (parent != NULL && gtk_widget_get_visible(parent))
		gtk_window_set_transient_for(GTK_WINDOW(d), GTK_WINDOW(parent));
	gtk_application_add_window(call->gui->app, GTK_WINDOW(d));
	gtk_container_set_border_width(GTK_CONTAINER(d), 12);
	g_signal_connect(d, "response", G_CALLBACK(on_response), call);
	return d;
}

static GtkWidget *
text_label(const char *text, const char *css_class)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 60);
	if (css_class != NULL)
		gtk_style_context_add_class(gtk_widget_get_style_context(l), css_class);
	return l;
}

static void
show_dialog(Call *call, guint timeout_s)
{
	gtk_widget_show_all(call->dialog);
	gtk_window_present_with_time(GTK_WINDOW(call->dialog), GDK_CURRENT_TIME);
	if (timeout_s > 0)
		call->timeout_id = g_timeout_add_seconds(timeout_s, on_timeout, call);
}

static void
add_grid_row(GtkGrid *grid, int row, const char *name, const char *value)
{
	GtkWidget *n = gtk_label_new(name);
	GtkWidget *v = text_label(value != NULL ? value : "—", NULL);

	gtk_label_set_xalign(GTK_LABEL(n), 1.0f);
	gtk_widget_set_valign(n, GTK_ALIGN_START);
	gtk_style_context_add_class(gtk_widget_get_style_context(n), "dim-label");
	gtk_grid_attach(grid, n, 0, row, 1, 1);
	gtk_grid_attach(grid, v, 1, row, 1, 1);
}

static void
build_consent(Call *call)
{
	const SdrConsentRequest *r = call->consent;
	gboolean listing = r->action == SDR_CONSENT_LIST_CERTIFICATES;
	GtkWidget *box, *grid, *refuse, *accept;
	g_autofree char *origin = sdr_gui_origin_display(r->origin);
	g_autofree char *shown = sdr_gui_outside_text(origin != NULL ? origin : r->origin, 120);
	g_autofree char *head = NULL;
	int row = 0;

	call->dialog = new_dialog(call, listing ? _("Access to your certificates")
	                                        : _("Signature request"));
	box = gtk_dialog_get_content_area(GTK_DIALOG(call->dialog));
	gtk_box_set_spacing(GTK_BOX(box), 10);
	if (listing)
		head = g_strdup_printf(_("The site %s asks to see the certificates of your key."),
		                       shown != NULL ? shown : "?");
	else if (shown != NULL)
		head = g_strdup_printf(_("The site %s asks you to sign:"), shown);
	else
		head = g_strdup(_("sinadur asks you to sign:"));
	gtk_box_pack_start(GTK_BOX(box), text_label(head, "sdr-big"), FALSE, FALSE, 0);

	grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	for (gsize i = 0; !listing && i < r->n_documents && i < 50; i++) {
		const SdrConsentDocument *d = &r->documents[i];
		g_autofree char *name = sdr_gui_outside_text(d->name, 80);
		g_autofree char *type = sdr_gui_outside_text(d->mime_type, 60);
		g_autofree char *size = g_format_size(d->size);
		g_autofree char *hash = sdr_gui_outside_text(d->sha256_short, 16);
		g_autofree char *value = g_strdup_printf(
		        _("%s\n%s, %s, fingerprint %s"), name != NULL ? name : "?",
		        type != NULL ? type : _("unknown type"), size, hash != NULL ? hash : "?");

		add_grid_row(GTK_GRID(grid), row++, _("Document"), value);
	}
	if (!listing && r->n_documents > 50) {
		g_autofree char *more =
		        g_strdup_printf(_("and %u more documents"), (guint)(r->n_documents - 50));
		add_grid_row(GTK_GRID(grid), row++, "", more);
	}
	if (!listing)
		add_grid_row(GTK_GRID(grid), row++, _("Format"), sdr_gui_format_label(r->format));
	if (r->cert_subject != NULL) {
		g_autofree char *subject = sdr_gui_outside_text(r->cert_subject, 80);
		g_autofree char *issuer = sdr_gui_outside_text(r->cert_issuer, 80);
		g_autofree char *cert = g_strdup_printf(_("%s (issued by %s)"), subject,
		                                        issuer != NULL ? issuer : "?");

		add_grid_row(GTK_GRID(grid), row++, _("Certificate"), cert);
	}
	gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
	if (!listing)
		gtk_box_pack_start(GTK_BOX(box),
		                   text_label(_("Sign only documents you expected: check their "
		                                "names and the site."),
		                              NULL),
		                   FALSE, FALSE, 0);

	refuse = gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Refuse"), GTK_RESPONSE_REJECT);
	accept = gtk_dialog_add_button(GTK_DIALOG(call->dialog), listing ? _("_Allow") : _("_Sign"),
	                               GTK_RESPONSE_ACCEPT);
	(void)accept;
	gtk_dialog_set_default_response(GTK_DIALOG(call->dialog), GTK_RESPONSE_REJECT);
	gtk_widget_grab_default(refuse);
	gtk_widget_grab_focus(refuse);
	show_dialog(call, r->timeout_s);
	gtk_widget_grab_focus(refuse);
}

static void
update_pin_sensitivity(Call *call)
{
	gboolean confirmed = call->confirm == NULL ||
	                     gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(call->confirm));

	if (call->kind == CALL_CONFIRM) {
		gtk_widget_set_sensitive(call->ok_button, confirmed);
		return;
	}
	if (call->entry != NULL)
		gtk_widget_set_sensitive(call->entry,
		                         sdr_gui_pin_entry_enabled(&call->text, confirmed));
	if (call->ok_button != NULL)
		gtk_widget_set_sensitive(
		        call->ok_button,
		        sdr_gui_pin_can_submit(&call->text, confirmed,
		                               call->buffer != NULL
		                                       ? gtk_entry_buffer_get_length(call->buffer)
		                                       : 0,
		                               0, 0));
}

static void
on_pin_changed(GObject *o, GParamSpec *p, gpointer data)
{
	update_pin_sensitivity(data);
}

static void
on_confirm_toggled(GtkToggleButton *b, gpointer data)
{
	Call *call = data;

	update_pin_sensitivity(call);
	if (gtk_toggle_button_get_active(b) && call->entry != NULL)
		gtk_widget_grab_focus(call->entry);
}

static void
build_pin(Call *call, gboolean confirm_only)
{
	const SdrPinPromptRequest *r = call->pin_req;
	g_autofree char *label = sdr_gui_outside_text(r->token_label, 80);
	g_autofree char *holder = sdr_gui_outside_text(r->cert_subject, 80);
	GtkWidget *box;

	sdr_gui_pin_text(r, label, holder, FALSE, &call->text);
	if (!confirm_only && call->final_confirmed)
		call->text.needs_confirmation = FALSE; /* confirmed just before */

	call->dialog = new_dialog(call, call->text.title);
	box = gtk_dialog_get_content_area(GTK_DIALOG(call->dialog));
	gtk_box_set_spacing(GTK_BOX(box), 10);
	gtk_box_pack_start(GTK_BOX(box), text_label(call->text.message, NULL), FALSE, FALSE, 0);
	if (call->text.warning != NULL)
		gtk_box_pack_start(GTK_BOX(box),
		                   text_label(call->text.warning,
		                              call->text.danger ? "sdr-danger" : "sdr-warning"),
		                   FALSE, FALSE, 0);
	if (call->text.needs_confirmation) {
		call->confirm = gtk_check_button_new_with_mnemonic(
		        _("I _understand: I type my PIN code with care"));
		g_signal_connect(call->confirm, "toggled", G_CALLBACK(on_confirm_toggled), call);
		gtk_box_pack_start(GTK_BOX(box), call->confirm, FALSE, FALSE, 0);
	}
	gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
	if (confirm_only) {
		/* confirm_final_try: the confirmation is the answer. */
		call->ok_button = gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Continue"),
		                                        GTK_RESPONSE_ACCEPT);
		gtk_dialog_set_default_response(GTK_DIALOG(call->dialog), GTK_RESPONSE_CANCEL);
		update_pin_sensitivity(call);
		show_dialog(call, PIN_TIMEOUT_S);
		gtk_widget_grab_focus(call->confirm);
		return;
	}
	call->buffer = sdr_gui_secure_buffer_new();
	call->entry = gtk_entry_new_with_buffer(call->buffer);
	gtk_entry_set_visibility(GTK_ENTRY(call->entry), FALSE);
	gtk_entry_set_input_purpose(GTK_ENTRY(call->entry), GTK_INPUT_PURPOSE_PIN);
	gtk_entry_set_activates_default(GTK_ENTRY(call->entry), TRUE);
	atk_object_set_name(gtk_widget_get_accessible(call->entry), _("PIN code"));
	gtk_box_pack_start(GTK_BOX(box), call->entry, FALSE, FALSE, 0);
	g_signal_connect(call->buffer, "notify::length", G_CALLBACK(on_pin_changed), call);
	call->ok_button =
	        gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Validate"), GTK_RESPONSE_OK);
	gtk_dialog_set_default_response(GTK_DIALOG(call->dialog), GTK_RESPONSE_OK);
	update_pin_sensitivity(call);
	show_dialog(call, PIN_TIMEOUT_S);
	if (gtk_widget_get_sensitive(call->entry))
		gtk_widget_grab_focus(call->entry);
	else if (call->confirm != NULL)
		gtk_widget_grab_focus(call->confirm);
}

static gboolean
call_start(gpointer data)
{
	Call *call = data;

	switch (call->kind) {
	case CALL_CONSENT:
		build_consent(call);
		break;
	case CALL_PIN:
		build_pin(call, FALSE);
		break;
	case CALL_CONFIRM:
		build_pin(call, TRUE);
		break;
	}
	return G_SOURCE_REMOVE;
}

/* ---- Worker-thread side -------------------------------------------------------- */

static gboolean
call_run(Call *call, SdrSecret **pin, GError **error)
{
	gboolean ok;

	g_mutex_init(&call->lock);
	g_cond_init(&call->cond);
	if (g_main_context_is_owner(g_main_context_default())) {
		/* Never expected (prompts come from workers), but do not deadlock. */
		call_start(call);
		while (!call->done)
			g_main_context_iteration(NULL, TRUE);
	} else {
		g_main_context_invoke(NULL, call_start, call);
		g_mutex_lock(&call->lock);
		while (!call->done)
			g_cond_wait(&call->cond, &call->lock);
		g_mutex_unlock(&call->lock);
	}
	ok = call->ok;
	if (pin != NULL)
		*pin = call->pin;
	else
		sdr_secret_free(call->pin);
	if (call->error != NULL)
		g_propagate_error(error, call->error);
	g_mutex_clear(&call->lock);
	g_cond_clear(&call->cond);
	return ok;
}

static gboolean
gp_ask_consent(SdrPrompt *prompt, const SdrConsentRequest *request, GError **error)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Call call = { 0 };

	/* The GUI's own "Signer des fichiers" window: the person chose the files and
	 * the purpose there (as the CLI's files on its command line). */
	if (request->origin == NULL && g_atomic_int_get(&self->gui->own_requests) > 0)
		return TRUE;
	call.gui = self->gui;
	call.kind = CALL_CONSENT;
	call.consent = request;
	return call_run(&call, NULL, error);
}

static SdrSecret *
gp_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Call call = { 0 };
	SdrSecret *pin = NULL;

	call.gui = self->gui;
	call.kind = CALL_PIN;
	call.pin_req = request;
	call.final_confirmed = request->final_try &&
	                       g_atomic_int_compare_and_exchange(&self->final_confirmed, 1, 0);
	if (!call_run(&call, &pin, error)) {
		sdr_secret_free(pin);
		return NULL;
	}
	return pin;
}

static gboolean
gp_confirm_final_try(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Call call = { 0 };
	SdrPinPromptRequest r = *request;

	r.final_try = TRUE;
	call.gui = self->gui;
	call.kind = CALL_CONFIRM;
	call.pin_req = &r;
	if (!call_run(&call, NULL, error))
		return FALSE;
	g_atomic_int_set(&self->final_confirmed, 1);
	return TRUE;
}

typedef struct {
	SdrGui *gui;
	char *title; /* NULL = "sinadur" */
	char *message;
} Notice;

static gboolean
notice_close(gpointer data)
{
	GtkWidget *w = data;

	gtk_widget_destroy(w);
	g_object_unref(w);
	return G_SOURCE_REMOVE;
}

static gboolean
notice_show(gpointer data)
{
	Notice *n = data;
	g_autofree char *text = sdr_gui_sanitize(n->message, 400);
	GtkWidget *w =
	        gtk_message_dialog_new(NULL, 0, GTK_MESSAGE_INFO, GTK_BUTTONS_CLOSE, "%s", text);

	gtk_window_set_title(GTK_WINDOW(w), n->title != NULL ? n->title : "sinadur");
	/* Screen readers say the title, not "Information". */
	atk_object_set_name(gtk_widget_get_accessible(w), n->title != NULL ? n->title : "sinadur");
	gtk_window_set_keep_above(GTK_WINDOW(w), TRUE);
	gtk_application_add_window(n->gui->app, GTK_WINDOW(w));
	g_signal_connect(w, "response", G_CALLBACK(gtk_widget_hide), NULL);
	gtk_widget_show_all(w);
	gtk_window_present(GTK_WINDOW(w));
	g_timeout_add_seconds(NOTICE_TIMEOUT_S, notice_close, g_object_ref(w));
	g_free(n->title);
	g_free(n->message);
	g_free(n);
	return G_SOURCE_REMOVE;
}

void
sdr_gui_show_pin_pad_notice(SdrGui *gui, const char *token_label)
{
	g_autofree char *label = sdr_gui_outside_text(token_label, 80);
	SdrGuiPinText text;
	Notice *n = g_new0(Notice, 1);

	sdr_gui_pin_text(NULL, label, NULL, TRUE, &text);
	n->gui = gui;
	n->title = g_steal_pointer(&text.title);
	n->message = g_steal_pointer(&text.message);
	sdr_gui_pin_text_clear(&text);
	notice_show(n);
}

static void
gp_notify(SdrPrompt *prompt, const char *message)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Notice *n = g_new0(Notice, 1);

	n->gui = self->gui;
	n->message = g_strdup(message != NULL ? message : "");
	g_main_context_invoke(NULL, notice_show, n);
}

static void
gp_free(SdrPrompt *prompt)
{
	g_free(prompt);
}

static const SdrPromptClass gui_prompt_class = {
	.ask_consent = gp_ask_consent,
	.ask_pin = gp_ask_pin,
	.confirm_final_try = gp_confirm_final_try,
	.notify = gp_notify,
	.free = gp_free,
};

SdrPrompt *
sdr_gui_prompt_new(SdrGui *gui)
{
	GuiPrompt *self = g_new0(GuiPrompt, 1);

	self->parent.klass = &gui_prompt_class;
	self->gui = gui;
	return &self->parent;
}
