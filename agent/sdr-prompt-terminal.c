/* sdr-prompt-terminal.c - the CLI's prompter: the controlling terminal, or a
 * PIN file descriptor (--pin-fd) read once. */
#include "sdr-prompt.h"

#include "sdr-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

typedef struct {
	SdrPrompt parent;
	GMutex lock;
	int pin_fd;
	gboolean pin_fd_used;
	gboolean assume_yes;
} SdrTerminalPrompt;

static FILE *
open_tty(GError **error)
{
	FILE *tty = fopen("/dev/tty", "r+e");

	if (tty == NULL)
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		            _("No terminal to ask on (use --pin-fd to give the PIN)."));
	return tty;
}

/* Reads a line from tty; yes is "o", "oui", "y", "yes" (any case). */
static gboolean
read_yes(FILE *tty)
{
	char line[32];

	if (fgets(line, sizeof line, tty) == NULL)
		return FALSE;
	g_strstrip(line);
	return g_ascii_strcasecmp(line, "o") == 0 || g_ascii_strcasecmp(line, "oui") == 0 ||
	       g_ascii_strcasecmp(line, "y") == 0 || g_ascii_strcasecmp(line, "yes") == 0;
}

static gboolean
terminal_ask_consent(SdrPrompt *prompt, const SdrConsentRequest *request, GError **error)
{
	SdrTerminalPrompt *self = (SdrTerminalPrompt *)prompt;
	FILE *tty;
	gboolean yes;

	if (self->assume_yes)
		return TRUE;
	tty = open_tty(error);
	if (tty == NULL)
		return FALSE;
	if (request->origin != NULL)
		fprintf(tty, _("The site %s asks for a signature.\n"), request->origin);
	fprintf(tty, _("Sign %zu document(s) (%s) with the certificate of %s?\n"),
	        request->n_documents, request->format != NULL ? request->format : "",
	        request->cert_subject != NULL ? request->cert_subject : "?");
	for (gsize i = 0; i < request->n_documents; i++) {
		const SdrConsentDocument *d = &request->documents[i];

		fprintf(tty, "  - %s (%s, %" G_GUINT64_FORMAT " o, SHA-256 %s…)\n", d->name,
		        d->mime_type != NULL ? d->mime_type : "?", d->size, d->sha256_short);
	}
	fputs(_("Sign? [y/N] "), tty);
	fflush(tty);
	yes = read_yes(tty);
	fclose(tty);
	if (!yes) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
		            _("The signature was refused."));
		return FALSE;
	}
	return TRUE;
}

static SdrSecret *
read_pin_tty(const SdrPinPromptRequest *request, GError **error)
{
	FILE *tty = open_tty(error);
	struct termios old, noecho;
	gboolean restore = FALSE;
	SdrSecret *pin;
	int c;

	if (tty == NULL)
		return NULL;
	if (request->previous_incorrect)
		fputs(_("Wrong PIN.\n"), tty);
	if (request->count_low)
		fputs(_("Warning: wrong PINs were entered before on this key.\n"), tty);
	fprintf(tty, _("PIN of the key “%s” (%s): "),
	        request->token_label != NULL ? request->token_label : "",
	        request->cert_subject != NULL ? request->cert_subject : "");
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		noecho.c_lflag |= ICANON;
		restore = tcsetattr(fileno(tty), TCSAFLUSH, &noecho) == 0;
	}
	pin = sdr_secret_new();
	/* Byte by byte on the descriptor: no stdio buffer keeps a copy of the PIN. */
	for (;;) {
		char ch;
		ssize_t n = read(fileno(tty), &ch, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c = EOF;
			break;
		}
		c = (unsigned char)ch;
		if (c == '\n' || c == '\r')
			break;
		if (!sdr_secret_append_byte(pin, ch))
			break;
	}
	if (restore)
		(void)tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (c == EOF && sdr_secret_len(pin) == 0) {
		sdr_secret_free(pin);
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED, _("No PIN entered."));
		return NULL;
	}
	return pin;
}

static SdrSecret *
terminal_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	SdrTerminalPrompt *self = (SdrTerminalPrompt *)prompt;
	SdrSecret *pin = NULL;
	GError *local = NULL;

	if (self->pin_fd < 0)
		return read_pin_tty(request, error);
	g_mutex_lock(&self->lock);
	if (self->pin_fd_used) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		            _("The PIN given with --pin-fd was already used; "
		              "it is read only once."));
		goto out;
	}
	self->pin_fd_used = TRUE;
	pin = sdr_secret_read_fd(self->pin_fd, &local);
	if (pin == NULL) {
		g_propagate_error(error, local);
		goto out;
	}
	if (sdr_secret_len(pin) == 0) {
		sdr_secret_clear(&pin);
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("No PIN could be read from file descriptor %d."), self->pin_fd);
	}
out:
	g_mutex_unlock(&self->lock);
	return pin;
}

static gboolean
terminal_confirm(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	SdrTerminalPrompt *self = (SdrTerminalPrompt *)prompt;
	FILE *tty;
	gboolean yes;

	if (self->pin_fd >= 0) {
		/* A PIN from a file descriptor cannot confirm for a person. */
		g_set_error(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY,
		            _("Only one PIN try is left on this key: a wrong PIN would lock it. "
		              "Run the command on a terminal to confirm."));
		return FALSE;
	}
	tty = open_tty(error);
	if (tty == NULL)
		return FALSE;
	fputs(_("Only one PIN try is left: a wrong PIN locks the key. Continue? [y/N] "), tty);
	fflush(tty);
	yes = read_yes(tty);
	fclose(tty);
	if (!yes) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY,
		            _("Last PIN try not confirmed: nothing was attempted."));
		return FALSE;
	}
	return TRUE;
}

static gint
terminal_choose(SdrPrompt *prompt, const SdrCertChoiceRequest *request, GError **error)
{
	FILE *tty = open_tty(error);
	char line[32];
	char *end = NULL;
	long n;

	if (tty == NULL)
		return -1;
	if (request->origin != NULL)
		fprintf(tty, _("The site %s asks which certificate to use.\n"), request->origin);
	else
		fputs(_("Which certificate should be used?\n"), tty);
	for (gsize i = 0; i < request->n_choices; i++) {
		const SdrCertChoice *c = &request->choices[i];

		fprintf(tty, "  %zu. %s (%s", i + 1, c->subject != NULL ? c->subject : "?",
		        c->issuer != NULL ? c->issuer : "?");
		if (c->not_after != NULL)
			fprintf(tty, _(", valid until %s"), c->not_after);
		if (c->token_label != NULL)
			fprintf(tty, _(", key “%s”"), c->token_label);
		fputs(")\n", tty);
	}
	fprintf(tty, _("Number of the certificate (1-%zu, empty to cancel): "), request->n_choices);
	fflush(tty);
	if (fgets(line, sizeof line, tty) == NULL)
		line[0] = '\0';
	fclose(tty);
	g_strstrip(line);
	n = strtol(line, &end, 10);
	if (line[0] == '\0' || end == NULL || *end != '\0' || n < 1 ||
	    (gsize)n > request->n_choices) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED, _("No certificate was chosen."));
		return -1;
	}
	return (gint)n - 1;
}

static void
terminal_notify(SdrPrompt *prompt, const char *message)
{
	fprintf(stderr, "%s\n", message);
}

static void
terminal_free(SdrPrompt *prompt)
{
	SdrTerminalPrompt *self = (SdrTerminalPrompt *)prompt;

	g_mutex_clear(&self->lock);
	g_free(self);
}

static const SdrPromptClass terminal_class = {
	.ask_consent = terminal_ask_consent,
	.ask_pin = terminal_ask_pin,
	.confirm_final_try = terminal_confirm,
	.notify = terminal_notify,
	.free = terminal_free,
	.choose_certificate = terminal_choose,
};

SdrPrompt *
sdr_prompt_terminal_new(int pin_fd, gboolean assume_yes)
{
	SdrTerminalPrompt *self = g_new0(SdrTerminalPrompt, 1);

	self->parent.klass = &terminal_class;
	g_mutex_init(&self->lock);
	self->pin_fd = pin_fd;
	self->assume_yes = assume_yes;
	return &self->parent;
}
