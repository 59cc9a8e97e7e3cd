/* sdr-prompt.c - dispatch to the prompt implementation. */
#include "sdr-prompt.h"

#include "sdr-error.h"
#include "sdr-sanitize.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static void
set_no_prompt(GError **error)
{
	g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
	            _("Nobody can be asked: no prompt is available."));
}

gboolean
sdr_prompt_ask_consent(SdrPrompt *prompt, const SdrConsentRequest *request, GError **error)
{
	if (prompt == NULL || prompt->klass->ask_consent == NULL) {
		set_no_prompt(error);
		return FALSE;
	}
	return prompt->klass->ask_consent(prompt, request, error);
}

SdrSecret *
sdr_prompt_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	if (prompt == NULL || prompt->klass->ask_pin == NULL) {
		set_no_prompt(error);
		return NULL;
	}
	return prompt->klass->ask_pin(prompt, request, error);
}

gboolean
sdr_prompt_confirm_final_try(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	if (prompt == NULL || prompt->klass->confirm_final_try == NULL) {
		set_no_prompt(error);
		return FALSE;
	}
	return prompt->klass->confirm_final_try(prompt, request, error);
}

gint
sdr_prompt_choose_certificate(SdrPrompt *prompt, const SdrCertChoiceRequest *request,
                              GError **error)
{
	if (prompt == NULL || prompt->klass->choose_certificate == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("This prompt cannot offer a choice of certificate."));
		return -1;
	}
	return prompt->klass->choose_certificate(prompt, request, error);
}

SdrSecret *
sdr_prompt_ask_password(SdrPrompt *prompt, const SdrPasswordPromptRequest *request, GError **error)
{
	if (prompt == NULL || prompt->klass->ask_password == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("This window cannot ask for a password: use the command "
		              "“sinadur s2low login” in a terminal."));
		return NULL;
	}
	return prompt->klass->ask_password(prompt, request, error);
}

void
sdr_prompt_notify(SdrPrompt *prompt, const char *message)
{
	if (prompt != NULL && prompt->klass->notify != NULL)
		prompt->klass->notify(prompt, message);
}

void
sdr_prompt_free(SdrPrompt *prompt)
{
	if (prompt != NULL && prompt->klass->free != NULL)
		prompt->klass->free(prompt);
}

/* ---- The consent question as text ------------------------------------------ */

#define SHOW_ORIGIN_MAX 200
#define SHOW_NAME_MAX 120
#define SHOW_TYPE_MAX 80
#define SHOW_VALUE_MAX 300

static void
append_certificate(GString *s, const SdrConsentRequest *r)
{
	g_autofree char *subject = sdr_sanitize_for_display(
	        r->cert_subject != NULL ? r->cert_subject : "?", SHOW_NAME_MAX);
	g_autofree char *issuer = sdr_sanitize_for_display(
	        r->cert_issuer != NULL ? r->cert_issuer : "?", SHOW_NAME_MAX);

	g_string_append_printf(s, _("Certificate: %s (issued by %s)\n"), subject, issuer);
}

static void
append_documents(GString *s, const SdrConsentRequest *r)
{
	for (gsize i = 0; i < r->n_documents; i++) {
		const SdrConsentDocument *d = &r->documents[i];
		g_autofree char *name = sdr_sanitize_for_display(d->name, SHOW_NAME_MAX);
		g_autofree char *type = sdr_sanitize_for_display(
		        d->mime_type != NULL ? d->mime_type : "?", SHOW_TYPE_MAX);
		g_autofree char *sha = sdr_sanitize_for_display(d->sha256_short, 16);

		g_string_append_printf(s, "  - %s (%s, %" G_GUINT64_FORMAT " o, SHA-256 %s…)\n",
		                       name, type, d->size, sha);
	}
}

char *
sdr_prompt_consent_text(const SdrConsentRequest *r)
{
	GString *s = g_string_new(NULL);
	g_autofree char *origin = sdr_sanitize_for_display(r->origin, SHOW_ORIGIN_MAX);

	switch (r->action) {
	case SDR_CONSENT_LIST_CERTIFICATES:
		if (r->origin != NULL)
			g_string_append_printf(
			        s, _("The site %s asks to see the certificates of your keys.\n"),
			        origin);
		g_string_append(s, _("It will learn the names, issuers and validity dates of your "
		                     "certificates. Nothing is signed now: each signature will be "
		                     "asked separately.\n"));
		break;
	case SDR_CONSENT_SIGN_DATA:
		if (r->origin != NULL)
			g_string_append_printf(
			        s, _("The site %s asks to sign data it prepared itself.\n"),
			        origin);
		g_string_append(s, _("The document behind it cannot be shown here: sign only if "
		                     "you have just asked this site for a signature.\n"));
		{
			g_autofree char *alg = sdr_sanitize_for_display(
			        r->digest_alg != NULL ? r->digest_alg : "?", 16);
			const char *h = r->digest_hex != NULL ? r->digest_hex : "?";
			/* The first 32 hex digits, then "…" below. */
			g_autofree char *hex = sdr_sanitize_for_display_full(
			        h, (gssize)MIN(strlen(h), 32), 0, SDR_SANITIZE_DEFAULT);

			g_string_append_printf(s, _("Data to sign: %s digest %s…\n"), alg, hex);
		}
		append_certificate(s, r);
		break;
	case SDR_CONSENT_S2LOW_SEND: {
		g_autofree char *dest = sdr_sanitize_for_display(
		        r->destination != NULL ? r->destination : "?", SHOW_ORIGIN_MAX);
		g_autofree char *format =
		        sdr_sanitize_for_display(r->format != NULL ? r->format : "?", 16);

		if (r->origin != NULL)
			g_string_append_printf(s, _("The site %s asks to send to S²LOW.\n"),
			                       origin);
		g_string_append_printf(s, _("Send to S²LOW (%s), at %s:\n"), format, dest);
		append_documents(s, r);
		break;
	}
	case SDR_CONSENT_SIGN_DOCUMENTS:
	default: {
		g_autofree char *format =
		        sdr_sanitize_for_display(r->format != NULL ? r->format : "?", 16);

		if (r->origin != NULL)
			g_string_append_printf(s, _("The site %s asks for a signature.\n"), origin);
		g_string_append_printf(s,
		                       g_dngettext(GETTEXT_PACKAGE, "Sign %zu document (%s):\n",
		                                   "Sign %zu documents (%s):\n", r->n_documents),
		                       r->n_documents, format);
		append_documents(s, r);
		append_certificate(s, r);
		break;
	}
	}
	if (r->n_details > 0 && r->action != SDR_CONSENT_LIST_CERTIFICATES) {
		g_string_append(s, r->action == SDR_CONSENT_S2LOW_SEND
		                           ? _("Sent with these fields:\n")
		                           : _("Written into the signature at the request of the "
		                               "site:\n"));
		for (gsize i = 0; i < r->n_details; i++) {
			g_autofree char *label =
			        sdr_sanitize_for_display(r->details[i].label, SHOW_NAME_MAX);
			g_autofree char *value =
			        sdr_sanitize_for_display(r->details[i].value, SHOW_VALUE_MAX);

			g_string_append_printf(s, _("  %s: %s\n"), label, value);
		}
	}
	return g_string_free(s, FALSE);
}

const char *
sdr_prompt_consent_question(const SdrConsentRequest *request)
{
	if (request->action == SDR_CONSENT_LIST_CERTIFICATES)
		return _("Allow this site? [y/N] ");
	if (request->action == SDR_CONSENT_S2LOW_SEND)
		return _("Send to S²LOW? [y/N] ");
	return _("Sign? [y/N] ");
}

void
sdr_prompt_set_refused(const SdrConsentRequest *request, GError **error)
{
	if (request->action == SDR_CONSENT_LIST_CERTIFICATES)
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
		                    _("The site was not allowed to see the certificates."));
	else if (request->action == SDR_CONSENT_S2LOW_SEND)
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
		                    _("The send to S²LOW was refused: nothing was sent."));
	else
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
		                    _("The signature was refused."));
}
