/* sdr-gui-prompt.c - the GTK prompter: consent, PIN, final-try confirmation,
 * choice of certificate, notices. The SdrPrompt methods run on worker threads; each builds its
 * dialog on the main loop (g_main_context_invoke) and waits on a GCond for the answer. GTK objects
 * are created, shown and destroyed only on the main thread.
 *
 * The one file that knows SdrPromptClass (agent/sdr-prompt.h): adapt it here when
 * the interface grows. */
#include "sdr-gui-private.h"
#include "sdr-gui-secure-buffer.h"

#include "sdr-error.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>

#define PIN_TIMEOUT_S 300
#define NOTICE_TIMEOUT_S 120
#define CHOICES_MAX 20

typedef enum { CALL_CONSENT, CALL_PIN, CALL_CONFIRM, CALL_CHOOSE, CALL_PASSWORD } CallKind;

typedef struct {
	SdrGui *gui;
	CallKind kind;
	const SdrConsentRequest *consent;         /* borrowed: the worker waits */
	const SdrPinPromptRequest *pin_req;       /* borrowed: the worker waits */
	const SdrCertChoiceRequest *choice;       /* borrowed: the worker waits */
	const SdrPasswordPromptRequest *password; /* borrowed: the worker waits */
	gint chosen;

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
	GtkWidget *radios[CHOICES_MAX];
	GtkEntryBuffer *buffer;
	SdrGuiPinText text;
	guint timeout_id;
	gboolean final_confirmed;
	gboolean waiting_notice; /* "a site's request is waiting" sent, withdrawn at the end */
} Call;

typedef struct {
	SdrPrompt parent;
	SdrGui *gui;
	gint final_confirmed; /* confirm_final_try said yes; the next ask_pin needs no more */
	gint reask_confirmed; /* ... and still holds when that PIN was refused locally */
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
	if (call->waiting_notice) {
		g_application_withdraw_notification(G_APPLICATION(call->gui->app),
		                                    "portal-request");
		call->waiting_notice = FALSE;
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
		            len, call->pin_req->min_len, call->pin_req->max_len))
			return;
		/* Into the secret at once; the buffer is wiped by call_finish(). */
		pin = sdr_secret_new_from_data(t, len);
		call_finish(call, pin != NULL, pin,
		            pin != NULL ? NULL
		                        : g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                              _("PIN entry was cancelled.")));
		return;
	}
	if (call->kind == CALL_PASSWORD && response == GTK_RESPONSE_OK) {
		gsize len = gtk_entry_buffer_get_bytes(call->buffer);
		SdrSecret *secret;

		if (len == 0)
			return;
		/* Into the secret at once; the buffer is wiped by call_finish(). */
		secret = sdr_secret_new_from_data(gtk_entry_buffer_get_text(call->buffer), len);
		call_finish(call, secret != NULL, secret,
		            secret != NULL ? NULL
		                           : g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                                 _("No password was given.")));
		return;
	}
	if (call->kind == CALL_CHOOSE && response == GTK_RESPONSE_OK) {
		for (gsize i = 0; i < call->choice->n_choices && i < CHOICES_MAX; i++)
			if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(call->radios[i])))
				call->chosen = (gint)i;
		call_finish(call, call->chosen >= 0, NULL,
		            call->chosen >= 0
		                    ? NULL
		                    : g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                          _("No certificate was chosen.")));
		return;
	}
	if (response == GTK_RESPONSE_ACCEPT || response == GTK_RESPONSE_OK) {
		call_finish(call, TRUE, NULL, NULL);
		return;
	}
	if (call->kind == CALL_CONSENT) {
		GError *e = NULL;

		sdr_prompt_set_refused(call->consent, &e);
		call_finish(call, FALSE, NULL, e);
	} else if (call->kind == CALL_CHOOSE)
		call_finish(call, FALSE, NULL,
		            g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                _("No certificate was chosen.")));
	else if (call->kind == CALL_PASSWORD)
		call_finish(call, FALSE, NULL,
		            g_error_new_literal(SDR_ERROR, SDR_ERROR_CANCELLED,
		                                _("No password was given.")));
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
	gtk_label_set_line_wrap_mode(GTK_LABEL(l), PANGO_WRAP_WORD_CHAR);
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
add_heading(GtkWidget *box, const char *text)
{
	GtkWidget *l = text_label(text, NULL);

	gtk_style_context_add_class(gtk_widget_get_style_context(l), "sdr-heading");
	gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
}

/* One row per document (name, type, size, fingerprint), 50 at most; the next row. */
static int
add_document_rows(GtkGrid *grid, int row, const SdrConsentRequest *r)
{
	for (gsize i = 0; i < r->n_documents && i < 50; i++) {
		const SdrConsentDocument *d = &r->documents[i];
		g_autofree char *name = sdr_gui_outside_text(d->name, 80);
		g_autofree char *type = sdr_gui_outside_text(d->mime_type, 60);
		g_autofree char *size = g_format_size(d->size);
		g_autofree char *hash = sdr_gui_outside_text(d->sha256_short, 16);
		g_autofree char *value = g_strdup_printf(
		        _("%s\n%s, %s, fingerprint %s"), name != NULL ? name : "?",
		        type != NULL ? type : _("unknown type"), size, hash != NULL ? hash : "?");

		add_grid_row(grid, row++, _("Document"), value);
	}
	if (r->n_documents > 50) {
		g_autofree char *more =
		        g_strdup_printf(_("and %u more documents"), (guint)(r->n_documents - 50));
		add_grid_row(grid, row++, "", more);
	}
	return row;
}

/* What the person consents to, from the same request as the terminal's text
 * (sdr_prompt_consent_text()): what is asked, by whom, the documents or the
 * digest, the certificate and every detail the requester chose. */
/* A site's request waits (seen even when the window manager keeps the dialog behind
 * the browser); withdrawn by call_finish. */
static void
waiting_notification(Call *call, gboolean listing, const char *shown)
{
	g_autoptr(GNotification) n = g_notification_new(_("A site's request is waiting"));
	g_autofree char *body = g_strdup_printf(
	        listing ? _("%s asks to see your certificates: answer in the sinadur "
	                    "window.")
	                : _("%s asks for your signature: answer in the sinadur window."),
	        shown != NULL ? shown : "?");

	g_notification_set_body(n, body);
	g_notification_set_priority(n, G_NOTIFICATION_PRIORITY_HIGH);
	g_application_send_notification(G_APPLICATION(call->gui->app), "portal-request", n);
	call->waiting_notice = TRUE;
}

static void
build_consent(Call *call)
{
	const SdrConsentRequest *r = call->consent;
	gboolean listing = r->action == SDR_CONSENT_LIST_CERTIFICATES;
	gboolean data = r->action == SDR_CONSENT_SIGN_DATA;
	gboolean send = r->action == SDR_CONSENT_S2LOW_SEND;
	GtkWidget *box, *grid, *refuse;
	g_autofree char *origin = sdr_gui_origin_display(r->origin);
	g_autofree char *shown = sdr_gui_outside_text(origin != NULL ? origin : r->origin, 120);
	g_autofree char *head = NULL;
	const char *advice;
	int row = 0;

	call->dialog = new_dialog(call, listing ? _("Access to your certificates")
	                                : send  ? _("Send to S²LOW")
	                                        : _("Signature request"));
	box = gtk_dialog_get_content_area(GTK_DIALOG(call->dialog));
	gtk_box_set_spacing(GTK_BOX(box), 10);
	if (listing)
		head = g_strdup_printf(_("The site %s asks to see the certificates of your key."),
		                       shown != NULL ? shown : "?");
	else if (send)
		head = g_strdup_printf(_("The site %s asks to send to S²LOW:"),
		                       shown != NULL ? shown : "?");
	else if (data && shown != NULL)
		head = g_strdup_printf(_("The site %s asks to sign data it prepared itself."),
		                       shown);
	else if (data)
		head = g_strdup(_("sinadur is asked to sign data prepared elsewhere."));
	else if (shown != NULL)
		head = g_strdup_printf(_("The site %s asks you to sign:"), shown);
	else
		head = g_strdup(_("sinadur asks you to sign:"));
	gtk_box_pack_start(GTK_BOX(box), text_label(head, "sdr-big"), FALSE, FALSE, 0);

	grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	if (send) {
		g_autofree char *dest = sdr_gui_outside_text(r->destination, 120);

		add_grid_row(GTK_GRID(grid), row++, _("Destination"), dest != NULL ? dest : "?");
	}
	if (r->action == SDR_CONSENT_SIGN_DOCUMENTS || send)
		row = add_document_rows(GTK_GRID(grid), row, r);
	if (data) {
		g_autofree char *alg =
		        sdr_gui_outside_text(r->digest_alg != NULL ? r->digest_alg : "?", 16);
		g_autofree char *hex =
		        sdr_gui_outside_text(r->digest_hex != NULL ? r->digest_hex : "?", 160);
		g_autofree char *alg_up = g_ascii_strup(alg, -1);

		add_grid_row(GTK_GRID(grid), row++, _("Hash algorithm"), alg_up);
		add_grid_row(GTK_GRID(grid), row++, _("Digest"), hex);
	}
	if (!listing && r->format != NULL)
		add_grid_row(GTK_GRID(grid), row++, _("Format"), sdr_gui_format_label(r->format));
	if (!listing && r->cert_subject != NULL) {
		g_autofree char *subject = sdr_gui_outside_text(r->cert_subject, 80);
		g_autofree char *issuer = sdr_gui_outside_text(r->cert_issuer, 80);
		g_autofree char *cert = g_strdup_printf(_("%s (issued by %s)"), subject,
		                                        issuer != NULL ? issuer : "?");

		add_grid_row(GTK_GRID(grid), row++, _("Certificate"), cert);
	}
	gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
	if (!listing && r->n_details > 0) {
		GtkWidget *details = gtk_grid_new();

		gtk_grid_set_row_spacing(GTK_GRID(details), 4);
		gtk_grid_set_column_spacing(GTK_GRID(details), 12);
		add_heading(box,
		            send ? _("Sent with these fields:")
		                 : _("Written into the signature at the request of the site:"));
		for (gsize i = 0; i < r->n_details && i < 50; i++) {
			g_autofree char *label = sdr_gui_sanitize(r->details[i].label, 60);
			g_autofree char *value = sdr_gui_outside_text(
			        r->details[i].value != NULL ? r->details[i].value : "", 300);

			add_grid_row(GTK_GRID(details), (int)i, label, value);
		}
		gtk_box_pack_start(GTK_BOX(box), details, FALSE, FALSE, 0);
	}
	if (listing)
		advice = _("It will learn the names, issuers and validity dates of your "
		           "certificates. Nothing is signed now: each signature will be asked "
		           "separately.");
	else if (data)
		advice = _("The document behind it cannot be shown here: sign only if you have "
		           "just asked this site for a signature.");
	else if (send)
		advice = _("Send only what you have just signed for this site: check the names, "
		           "the fields and the address.");
	else
		advice = _("Sign only documents you expected: check their names and the site.");
	gtk_box_pack_start(GTK_BOX(box), text_label(advice, data ? "sdr-warning" : NULL), FALSE,
	                   FALSE, 0);

	refuse = gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Refuse"), GTK_RESPONSE_REJECT);
	gtk_dialog_add_button(GTK_DIALOG(call->dialog),
	                      listing ? _("_Allow")
	                      : send  ? _("S_end")
	                              : _("_Sign"),
	                      GTK_RESPONSE_ACCEPT);
	gtk_dialog_set_default_response(GTK_DIALOG(call->dialog), GTK_RESPONSE_REJECT);
	gtk_widget_grab_default(refuse);
	gtk_widget_grab_focus(refuse);
	show_dialog(call, r->timeout_s);
	gtk_widget_grab_focus(refuse);
	if (r->origin != NULL)
		waiting_notification(call, listing, shown);
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
		        sdr_gui_pin_can_submit(
		                &call->text, confirmed,
		                call->buffer != NULL ? gtk_entry_buffer_get_bytes(call->buffer) : 0,
		                call->pin_req->min_len, call->pin_req->max_len));
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
	if (call->text.rejected != NULL && !confirm_only)
		gtk_box_pack_start(GTK_BOX(box), text_label(call->text.rejected, "sdr-warning"),
		                   FALSE, FALSE, 0);
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
	if (call->pin_req->max_len > 0)
		gtk_entry_set_max_length(GTK_ENTRY(call->entry), (gint)call->pin_req->max_len);
	gtk_box_pack_start(GTK_BOX(box), call->entry, FALSE, FALSE, 0);
	if (call->text.hint != NULL)
		gtk_box_pack_start(GTK_BOX(box), text_label(call->text.hint, "dim-label"), FALSE,
		                   FALSE, 0);
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

static void
on_choice_toggled(GtkToggleButton *b, gpointer data)
{
	Call *call = data;
	gboolean any = FALSE;

	for (gsize i = 0; i < call->choice->n_choices && i < CHOICES_MAX; i++)
		any = any || gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(call->radios[i]));
	gtk_widget_set_sensitive(call->ok_button, any);
}

/* One radio button per certificate: holder, issuer, end of validity and days
 * left, key. */
static void
build_choose(Call *call)
{
	const SdrCertChoiceRequest *r = call->choice;
	g_autofree char *origin = sdr_gui_origin_display(r->origin);
	g_autofree char *shown = sdr_gui_outside_text(origin != NULL ? origin : r->origin, 120);
	g_autofree char *head = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	GtkWidget *box, *cancel;
	GSList *group = NULL;

	call->chosen = -1;
	call->dialog = new_dialog(call, _("Choice of certificate"));
	box = gtk_dialog_get_content_area(GTK_DIALOG(call->dialog));
	gtk_box_set_spacing(GTK_BOX(box), 10);
	if (shown != NULL)
		head = g_strdup_printf(_("The site %s asks which certificate to use."), shown);
	else
		head = g_strdup(_("Which certificate should be used?"));
	gtk_box_pack_start(GTK_BOX(box), text_label(head, "sdr-big"), FALSE, FALSE, 0);
	for (gsize i = 0; i < r->n_choices && i < CHOICES_MAX; i++) {
		const SdrCertChoice *c = &r->choices[i];
		g_autofree char *subject =
		        sdr_gui_outside_text(c->subject != NULL ? c->subject : "?", 80);
		g_autofree char *issuer =
		        sdr_gui_outside_text(c->issuer != NULL ? c->issuer : "?", 80);
		g_autofree char *key = sdr_gui_outside_text(c->token_label, 60);
		g_autofree char *until = sdr_gui_sanitize(c->not_after, 20);
		g_autofree char *validity = NULL;
		g_autofree char *text = NULL;
		gint64 days = 0;

		if (c->not_after != NULL && sdr_gui_choice_days_left(c->not_after, now, &days)) {
			g_autofree char *left = sdr_gui_validity_text(
			        sdr_gui_validity(days, FALSE, NULL, NULL), days);

			char first[8] = { 0 };
			g_autofree char *lower = NULL;

			/* "(expire dans 20 jours)": mid-sentence. */
			g_unichar_to_utf8(g_unichar_tolower(g_utf8_get_char(left)), first);
			lower = g_strconcat(first, g_utf8_next_char(left), NULL);
			validity = g_strdup_printf(_("valid until %s (%s)"), until, lower);
		} else if (c->not_after != NULL) {
			validity = g_strdup_printf(_("valid until %s"), until);
		} else {
			validity = g_strdup(_("end of validity unknown"));
		}
		text = key != NULL ? g_strdup_printf(_("%s\nissued by %s\n%s, key %s"), subject,
		                                     issuer, validity, key)
		                   : g_strdup_printf(_("%s\nissued by %s\n%s"), subject, issuer,
		                                     validity);
		call->radios[i] = gtk_radio_button_new_with_label(group, text);
		group = gtk_radio_button_get_group(GTK_RADIO_BUTTON(call->radios[i]));
		g_signal_connect(call->radios[i], "toggled", G_CALLBACK(on_choice_toggled), call);
		gtk_box_pack_start(GTK_BOX(box), call->radios[i], FALSE, FALSE, 0);
	}
	cancel = gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
	call->ok_button =
	        gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("C_hoose"), GTK_RESPONSE_OK);
	gtk_dialog_set_default_response(GTK_DIALOG(call->dialog), GTK_RESPONSE_OK);
	on_choice_toggled(NULL, call);
	show_dialog(call, r->timeout_s);
	(void)cancel;
	if (call->radios[0] != NULL)
		gtk_widget_grab_focus(call->radios[0]);
}

static void
on_password_changed(GObject *o, GParamSpec *p, gpointer data)
{
	Call *call = data;

	gtk_widget_set_sensitive(call->ok_button, gtk_entry_buffer_get_bytes(call->buffer) > 0);
}

/* A service's password (S²LOW's HTTP Basic login): the account and the address,
 * one masked field in the secure buffer, "Valider" once something is typed. */
static void
build_password(Call *call)
{
	const SdrPasswordPromptRequest *r = call->password;
	g_autofree char *service = sdr_gui_sanitize(r->service != NULL ? r->service : "?", 40);
	g_autofree char *login = sdr_gui_outside_text(r->login != NULL ? r->login : "?", 80);
	g_autofree char *url = sdr_gui_outside_text(r->url != NULL ? r->url : "?", 120);
	g_autofree char *title = g_strdup_printf(_("%s password"), service);
	g_autofree char *head = g_strdup_printf(
	        _("%s asks for the password of the account %s (%s)."), service, login, url);
	GtkWidget *box, *grid, *label;

	call->dialog = new_dialog(call, title);
	box = gtk_dialog_get_content_area(GTK_DIALOG(call->dialog));
	gtk_box_set_spacing(GTK_BOX(box), 10);
	gtk_box_pack_start(GTK_BOX(box), text_label(head, NULL), FALSE, FALSE, 0);
	grid = gtk_grid_new();
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	label = gtk_label_new_with_mnemonic(_("_Password:"));
	gtk_label_set_xalign(GTK_LABEL(label), 1.0f);
	call->buffer = sdr_gui_secure_buffer_new();
	call->entry = gtk_entry_new_with_buffer(call->buffer);
	gtk_entry_set_visibility(GTK_ENTRY(call->entry), FALSE);
	gtk_entry_set_input_purpose(GTK_ENTRY(call->entry), GTK_INPUT_PURPOSE_PASSWORD);
	gtk_entry_set_activates_default(GTK_ENTRY(call->entry), TRUE);
	gtk_entry_set_max_length(GTK_ENTRY(call->entry), SDR_GUI_SECURE_BUFFER_MAX_CHARS);
	gtk_widget_set_hexpand(call->entry, TRUE);
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), call->entry);
	atk_object_set_name(gtk_widget_get_accessible(call->entry), _("Password"));
	gtk_grid_attach(GTK_GRID(grid), label, 0, 0, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), call->entry, 1, 0, 1, 1);
	gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box),
	                   text_label(_("It is kept in your session's keyring, never in a file."),
	                              "dim-label"),
	                   FALSE, FALSE, 0);
	g_signal_connect(call->buffer, "notify::length", G_CALLBACK(on_password_changed), call);
	gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
	call->ok_button =
	        gtk_dialog_add_button(GTK_DIALOG(call->dialog), _("_Validate"), GTK_RESPONSE_OK);
	gtk_dialog_set_default_response(GTK_DIALOG(call->dialog), GTK_RESPONSE_OK);
	gtk_widget_set_sensitive(call->ok_button, FALSE);
	show_dialog(call, PIN_TIMEOUT_S);
	gtk_widget_grab_focus(call->entry);
}

/* ---- Notices: one non-modal window, lines added until the operation ends ------- */

static void
notice_close(SdrGui *gui)
{
	if (gui->notice_timeout != 0) {
		g_source_remove(gui->notice_timeout);
		gui->notice_timeout = 0;
	}
	if (gui->notice != NULL) {
		GtkWidget *w = gui->notice;

		gui->notice = NULL;
		gui->notice_box = NULL;
		gtk_widget_destroy(w);
	}
}

static gboolean
on_notice_timeout(gpointer data)
{
	SdrGui *gui = data;

	gui->notice_timeout = 0;
	notice_close(gui);
	return G_SOURCE_REMOVE;
}

static void
on_notice_response(GtkDialog *d, int response, gpointer data)
{
	notice_close(data);
}

/* message is shown as given (ours, translated, outside parts already sanitised). */
static void
notice_add(SdrGui *gui, const char *title, const char *message)
{
	GtkWidget *l;

	if (gui->notice == NULL) {
		GtkWidget *d = gtk_dialog_new();
		GtkWidget *box = gtk_dialog_get_content_area(GTK_DIALOG(d));

		gtk_window_set_icon_name(GTK_WINDOW(d), "sinadur");
		gtk_window_set_resizable(GTK_WINDOW(d), FALSE);
		gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
		gtk_window_set_position(GTK_WINDOW(d), GTK_WIN_POS_CENTER);
		gtk_window_set_accept_focus(GTK_WINDOW(d), FALSE); /* never takes the typing */
		gtk_container_set_border_width(GTK_CONTAINER(d), 12);
		gtk_box_set_spacing(GTK_BOX(box), 8);
		gtk_application_add_window(gui->app, GTK_WINDOW(d));
		gtk_dialog_add_button(GTK_DIALOG(d), _("_Close"), GTK_RESPONSE_CLOSE);
		g_signal_connect(d, "response", G_CALLBACK(on_notice_response), gui);
		gui->notice = d;
		gui->notice_box = box;
	}
	gtk_window_set_title(GTK_WINDOW(gui->notice), title);
	atk_object_set_name(gtk_widget_get_accessible(gui->notice), title);
	l = text_label(message, NULL);
	gtk_box_pack_start(GTK_BOX(gui->notice_box), l, FALSE, FALSE, 0);
	gtk_widget_show_all(gui->notice);
	gtk_window_present(GTK_WINDOW(gui->notice));
	if (gui->notice_timeout != 0)
		g_source_remove(gui->notice_timeout);
	gui->notice_timeout = g_timeout_add_seconds(NOTICE_TIMEOUT_S, on_notice_timeout, gui);
}

void
sdr_gui_notice_end(SdrGui *gui)
{
	notice_close(gui);
}

static gboolean
call_start(gpointer data)
{
	Call *call = data;

	switch (call->kind) {
	case CALL_CONSENT:
		/* A new operation: the notices of the last one are over. */
		notice_close(call->gui);
		build_consent(call);
		break;
	case CALL_PIN:
		build_pin(call, FALSE);
		break;
	case CALL_CONFIRM:
		build_pin(call, TRUE);
		break;
	case CALL_CHOOSE:
		notice_close(call->gui);
		build_choose(call);
		break;
	case CALL_PASSWORD:
		build_password(call);
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

typedef struct {
	SdrGui *gui;
	char *title;
	char *message;
} Notice;

static gboolean
notice_show(gpointer data)
{
	Notice *n = data;

	notice_add(n->gui, n->title, n->message);
	g_free(n->title);
	g_free(n->message);
	g_free(n);
	return G_SOURCE_REMOVE;
}

static void
notice_post(SdrGui *gui, const char *title, const char *message)
{
	Notice *n = g_new0(Notice, 1);

	n->gui = gui;
	n->title = g_strdup(title);
	n->message = g_strdup(message);
	g_main_context_invoke(NULL, notice_show, n);
}

static gboolean gp_confirm_final_try(SdrPrompt *prompt, const SdrPinPromptRequest *request,
                                     GError **error);

static SdrSecret *
gp_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Call call = { 0 };
	SdrSecret *pin = NULL;

	if (request->final_try && request->rejected == NULL) {
		gboolean confirmed =
		        g_atomic_int_compare_and_exchange(&self->final_confirmed, 1, 0);

		g_atomic_int_set(&self->reask_confirmed, confirmed);
		call.final_confirmed = confirmed;
	} else if (request->final_try) {
		call.final_confirmed = g_atomic_int_get(&self->reask_confirmed);
	}
	if (request->protected_path) {
		/* The key asks the PIN itself (its window or the reader's keypad): no
		 * field here, a notice until the operation ends; the final try is
		 * confirmed first. */
		SdrGuiPinText text;
		g_autofree char *label = sdr_gui_outside_text(request->token_label, 80);

		if (request->final_try && !call.final_confirmed &&
		    !gp_confirm_final_try(prompt, request, error))
			return NULL;
		g_atomic_int_set(&self->final_confirmed, 0);
		sdr_gui_pin_text(request, label, NULL, TRUE, &text);
		notice_post(self->gui, text.title, text.message);
		sdr_gui_pin_text_clear(&text);
		return sdr_secret_new();
	}
	call.gui = self->gui;
	call.kind = CALL_PIN;
	call.pin_req = request;
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
	r.rejected = NULL;
	call.gui = self->gui;
	call.kind = CALL_CONFIRM;
	call.pin_req = &r;
	g_atomic_int_set(&self->final_confirmed, 0);
	if (!call_run(&call, NULL, error))
		return FALSE;
	g_atomic_int_set(&self->final_confirmed, 1);
	return TRUE;
}

static gint
gp_choose_certificate(SdrPrompt *prompt, const SdrCertChoiceRequest *request, GError **error)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Call call = { 0 };

	if (request->n_choices == 0) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		                    _("No certificate was chosen."));
		return -1;
	}
	call.gui = self->gui;
	call.kind = CALL_CHOOSE;
	call.choice = request;
	call.chosen = -1;
	if (!call_run(&call, NULL, error))
		return -1;
	return call.chosen;
}

static SdrSecret *
gp_ask_password(SdrPrompt *prompt, const SdrPasswordPromptRequest *request, GError **error)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	Call call = { 0 };
	SdrSecret *secret = NULL;

	call.gui = self->gui;
	call.kind = CALL_PASSWORD;
	call.password = request;
	if (!call_run(&call, &secret, error)) {
		sdr_secret_free(secret);
		return NULL;
	}
	return secret;
}

static gboolean
notice_end_idle(gpointer data)
{
	notice_close(data);
	return G_SOURCE_REMOVE;
}

/* message NULL: the operation ended (the core's last word on a call that notified). */
static void
gp_notify(SdrPrompt *prompt, const char *message)
{
	GuiPrompt *self = (GuiPrompt *)prompt;
	g_autofree char *text = NULL;

	if (message == NULL) {
		g_main_context_invoke(NULL, notice_end_idle, self->gui);
		return;
	}
	text = sdr_gui_sanitize(message, 400);
	notice_post(self->gui, _("sinadur — information"), text);
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
	.choose_certificate = gp_choose_certificate,
	.ask_password = gp_ask_password,
};

SdrPrompt *
sdr_gui_prompt_new(SdrGui *gui)
{
	GuiPrompt *self = g_new0(GuiPrompt, 1);

	self->parent.klass = &gui_prompt_class;
	self->gui = gui;
	return &self->parent;
}
