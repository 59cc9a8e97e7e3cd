/* sdr-prompt-terminal.c - the CLI's prompter: the controlling terminal, or a
 * PIN file descriptor (--pin-fd) read once. */
#include "sdr-prompt.h"

#include "sdr-error.h"
#include "sdr-sanitize.h"
#include "sdr-token.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <signal.h>
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
	g_autofree char *text = NULL;
	FILE *tty;
	gboolean yes;

	if (self->assume_yes)
		return TRUE;
	tty = open_tty(error);
	if (tty == NULL)
		return FALSE;
	/* Every outside string in it went through the sanitiser. */
	text = sdr_prompt_consent_text(request);
	fputs(text, tty);
	fputs(sdr_prompt_consent_question(request), tty);
	fflush(tty);
	yes = read_yes(tty);
	fclose(tty);
	if (!yes) {
		sdr_prompt_set_refused(request, error);
		return FALSE;
	}
	return TRUE;
}

/* ---- Reading without echo; the echo comes back whatever happens -------------- */

/* A signal that ends the process while the echo is off would leave the terminal
 * without echo: the handler restores it, puts the previous disposition back and
 * raises the signal again (so the process ends as it would have). */
static const int noecho_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
G_LOCK_DEFINE_STATIC(noecho); /* one no-echo read at a time in the process */
static int noecho_fd = -1;
static struct termios noecho_saved;
static volatile sig_atomic_t noecho_active;
static volatile sig_atomic_t noecho_signalled;
static struct sigaction noecho_old[G_N_ELEMENTS(noecho_signals)];

static void
noecho_on_signal(int sig)
{
	int saved_errno = errno;

	if (noecho_active)
		(void)tcsetattr(noecho_fd, TCSANOW, &noecho_saved);
	noecho_active = 0;
	noecho_signalled = 1;
	for (gsize i = 0; i < G_N_ELEMENTS(noecho_signals); i++) {
		if (noecho_signals[i] == sig)
			(void)sigaction(sig, &noecho_old[i], NULL);
	}
	(void)raise(sig); /* delivered when this handler returns */
	errno = saved_errno;
}

/* Turns the echo off on fd (when it is a terminal). Takes the lock. */
static void
noecho_begin(int fd)
{
	struct termios t;
	struct sigaction sa;

	G_LOCK(noecho);
	noecho_signalled = 0;
	noecho_active = 0;
	if (tcgetattr(fd, &t) != 0)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = noecho_on_signal;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: read() returns EINTR */
	for (gsize i = 0; i < G_N_ELEMENTS(noecho_signals); i++)
		(void)sigaction(noecho_signals[i], &sa, &noecho_old[i]);
	noecho_fd = fd;
	noecho_saved = t;
	noecho_active = 1;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &t) != 0)
		noecho_active = 0;
}

static void
noecho_end(void)
{
	if (noecho_fd >= 0) {
		if (noecho_active)
			(void)tcsetattr(noecho_fd, TCSAFLUSH, &noecho_saved);
		noecho_active = 0;
		for (gsize i = 0; i < G_N_ELEMENTS(noecho_signals); i++)
			(void)sigaction(noecho_signals[i], &noecho_old[i], NULL);
	}
	noecho_fd = -1;
	G_UNLOCK(noecho);
}

/* Prints the question, then reads one line without echo from the terminal into a
 * secret, byte by byte on the descriptor (no stdio buffer keeps a copy). The
 * echo goes off (flushing older type-ahead) before the question is shown, so
 * nothing typed after it is lost. NULL with *error on end of input, a signal, or
 * a line over SDR_SECRET_MAX (never truncated). */
static SdrSecret *
read_line_noecho(FILE *tty, const char *question, GError **error)
{
	g_autoptr(SdrSecret) line = sdr_secret_new();
	gboolean too_long = FALSE, eof = FALSE;
	int fd = fileno(tty);

	noecho_begin(fd);
	fputs(question, tty);
	fflush(tty);
	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);

		if (n < 0 && errno == EINTR && !noecho_signalled)
			continue;
		if (n <= 0) {
			eof = TRUE;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (!too_long && !sdr_secret_append_byte(line, ch))
			too_long = TRUE;
	}
	noecho_end();
	fputc('\n', tty);
	fflush(tty);
	if (too_long) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("What was typed is too long to be a PIN; nothing was sent to the "
		              "key."));
		return NULL;
	}
	if (eof && (noecho_signalled || sdr_secret_len(line) == 0)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED, _("No PIN entered."));
		return NULL;
	}
	return g_steal_pointer(&line);
}

static SdrSecret *
read_pin_tty(const SdrPinPromptRequest *request, GError **error)
{
	FILE *tty = open_tty(error);
	g_autofree char *label = NULL, *subject = NULL; /* token-supplied */
	g_autofree char *hint = NULL;
	g_autofree char *question = NULL;
	SdrSecret *pin;

	if (tty == NULL)
		return NULL;
	if (request->rejected != NULL)
		fprintf(tty, "%s\n", request->rejected);
	else if (request->previous_incorrect)
		fputs(_("Wrong PIN.\n"), tty);
	if (request->count_low)
		fputs(_("Warning: wrong PINs were entered before on this key.\n"), tty);
	label = sdr_sanitize_for_display(request->token_label, 64);
	subject = sdr_sanitize_for_display(request->cert_subject, 120);
	hint = sdr_token_pin_length_hint(request->min_len, request->max_len);
	if (hint != NULL)
		question =
		        g_strdup_printf(_("PIN of the key “%s” (%s, %s): "), label, subject, hint);
	else
		question = g_strdup_printf(_("PIN of the key “%s” (%s): "), label, subject);
	pin = read_line_noecho(tty, question, error);
	fclose(tty);
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
	if (request->rejected != NULL) {
		/* The PIN of the descriptor was refused before reaching the key. */
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("%s (--pin-fd %d)"),
		            request->rejected, self->pin_fd);
		goto out;
	}
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
	g_autoptr(SdrSecret) answer = NULL;
	gboolean yes = FALSE;
	FILE *tty;

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
	fputs(_("Only one PIN try is left: a wrong PIN locks the key.\n"), tty);
	if (request->protected_path)
		fputs(_("The PIN will then be asked by the key itself (its own window or the "
		        "reader's keypad).\n"),
		      tty);
	/* Without echo: a PIN typed here by mistake is neither shown nor taken as
	 * yes (only the words below are), and it is wiped. */
	answer = read_line_noecho(tty,
	                          _("Continue? Type “yes” then Enter (not the PIN; what you "
	                            "type is not shown) [y/N] "),
	                          NULL);
	if (answer != NULL) {
		char word[8] = { 0 };

		if (sdr_secret_len(answer) < sizeof word) {
			memcpy(word, sdr_secret_get(answer), sdr_secret_len(answer));
			g_strstrip(word);
			yes = g_ascii_strcasecmp(word, "o") == 0 ||
			      g_ascii_strcasecmp(word, "oui") == 0 ||
			      g_ascii_strcasecmp(word, "y") == 0 ||
			      g_ascii_strcasecmp(word, "yes") == 0;
		}
		explicit_bzero(word, sizeof word);
	}
	/* Say what was understood, never what was typed. */
	fprintf(tty, "%s\n", yes ? _("Answer: yes.") : _("Answer: no."));
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

static SdrSecret *
terminal_ask_password(SdrPrompt *prompt, const SdrPasswordPromptRequest *request, GError **error)
{
	SdrTerminalPrompt *self = (SdrTerminalPrompt *)prompt;
	g_autofree char *login = sdr_sanitize_for_display(request->login, 80);
	g_autofree char *url = sdr_sanitize_for_display(request->url, 200);
	g_autofree char *question = NULL;
	g_autoptr(GError) local = NULL;
	SdrSecret *password = NULL;
	FILE *tty;

	if (self->pin_fd >= 0) {
		g_mutex_lock(&self->lock);
		if (!self->pin_fd_used) {
			self->pin_fd_used = TRUE;
			password = sdr_secret_read_fd(self->pin_fd, &local);
		}
		g_mutex_unlock(&self->lock);
		if (password != NULL && sdr_secret_len(password) > 0)
			return password;
		sdr_secret_clear(&password);
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("No password could be read from file descriptor %d."), self->pin_fd);
		return NULL;
	}
	tty = open_tty(error);
	if (tty == NULL)
		return NULL;
	question = g_strdup_printf(_("Password of “%s” on %s (not shown): "), login, url);
	password = read_line_noecho(tty, question, &local);
	fclose(tty);
	if (password == NULL) {
		if (g_error_matches(local, SDR_ERROR, SDR_ERROR_TOO_LARGE))
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			                    _("The password is too long."));
		else
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED,
			                    _("No password entered."));
	}
	return password;
}

static void
terminal_notify(SdrPrompt *prompt, const char *message)
{
	if (message == NULL)
		return; /* the operation ended: nothing stays on a terminal */
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
	.ask_password = terminal_ask_password,
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
