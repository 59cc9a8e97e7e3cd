/* sdr-prompt.c - dispatch to the prompt implementation. */
#include "sdr-prompt.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>

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
