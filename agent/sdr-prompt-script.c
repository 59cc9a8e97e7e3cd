/* sdr-prompt-script.c - the scripted prompter, a TEST FACILITY.
 *
 * The script is a text file read once; each prompt consumes the next line:
 *   consent yes | consent no     answer a consent request
 *   pin DIGITS                   answer a PIN request
 *   confirm yes | confirm no     answer "one try left, continue?"
 *   choose N | choose no         pick the Nth certificate offered (from 1), or decline
 *   password TEXT                answer a password request (S²LOW login)
 *   timeout                      the next prompt (of any kind) times out
 *   hold PATH                    the next prompt creates PATH.held, waits until PATH
 *                                exists (at most HOLD_MAX_S), then takes the following
 *                                step: a prompt kept open while a test does something
 *   record PATH                  (anywhere, not a step) append to PATH what each
 *                                consent showed: the text a person would read
 *                                (sdr_prompt_consent_text), its question, then
 *                                "=> yes", "=> no" or "=> timeout" and a "----" line
 * Blank lines and lines starting with '#' are ignored. A prompt whose next line
 * is of another kind, or an exhausted script, fails with SDR_ERROR_CANCELLED.
 * Thread-safe (one lock around the cursor). The file holds PINs: keep it private.
 */
#include "sdr-prompt.h"

#include "sdr-error.h"
#include "sdr-file.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SDR_SCRIPT_MAX (64 * 1024)
#define HOLD_MAX_S 120
#define HOLD_SLICE_US (50 * 1000)

typedef enum {
	STEP_CONSENT,
	STEP_PIN,
	STEP_CONFIRM,
	STEP_TIMEOUT,
	STEP_CHOOSE,
	STEP_PASSWORD,
	STEP_HOLD,
} StepKind;

typedef struct {
	StepKind kind;
	gboolean yes;
	SdrSecret *pin;
	guint choice; /* STEP_CHOOSE: 1-based, 0 = decline */
	char *path;   /* STEP_HOLD */
} Step;

typedef struct {
	SdrPrompt parent;
	GMutex lock;
	GArray *steps; /* Step */
	guint next;
	char *record; /* or NULL */
} SdrScriptPrompt;

static void
step_clear(gpointer p)
{
	Step *s = p;

	sdr_secret_clear(&s->pin);
	g_clear_pointer(&s->path, g_free);
}

/* Called with the lock held; returns with it held. */
static void
hold(SdrScriptPrompt *self, const char *path)
{
	gint64 end = g_get_monotonic_time() + HOLD_MAX_S * G_USEC_PER_SEC;
	g_autofree char *held = g_strconcat(path, ".held", NULL);

	g_mutex_unlock(&self->lock);
	(void)g_file_set_contents(held, "", 0, NULL);
	while (!g_file_test(path, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < end)
		g_usleep(HOLD_SLICE_US);
	g_mutex_lock(&self->lock);
}

static gboolean
parse_yes_no(const char *word, gboolean *yes)
{
	if (g_str_equal(word, "yes") || g_str_equal(word, "oui")) {
		*yes = TRUE;
		return TRUE;
	}
	if (g_str_equal(word, "no") || g_str_equal(word, "non")) {
		*yes = FALSE;
		return TRUE;
	}
	return FALSE;
}

/* Takes the next step, which must be of kind want (a timeout step matches any). */
static gboolean
take_step(SdrScriptPrompt *self, StepKind want, Step *out, GError **error)
{
	gboolean ok = FALSE;

	g_mutex_lock(&self->lock);
	if (self->next >= self->steps->len) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		            _("The prompt script has no answer left."));
		goto out;
	}
	Step *s = &g_array_index(self->steps, Step, self->next);
	while (s->kind == STEP_HOLD) {
		g_autofree char *path = g_strdup(s->path);

		self->next++;
		hold(self, path);
		if (self->next >= self->steps->len) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
			            _("The prompt script has no answer left."));
			goto out;
		}
		s = &g_array_index(self->steps, Step, self->next);
	}
	if (s->kind == STEP_TIMEOUT) {
		self->next++;
		g_set_error(error, SDR_ERROR, SDR_ERROR_TIMEOUT,
		            _("Nobody answered in time (scripted timeout)."));
		goto out;
	}
	if (s->kind != want) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		            _("The prompt script does not answer this question (line %u)."),
		            self->next + 1);
		goto out;
	}
	self->next++;
	*out = *s;
	s->pin = NULL; /* ownership moves to the caller */
	ok = TRUE;
out:
	g_mutex_unlock(&self->lock);
	return ok;
}

/* Appends what the person was shown and the scripted answer to the record. */
static void
record_consent(SdrScriptPrompt *self, const SdrConsentRequest *request, const char *answer)
{
	g_autofree char *text = NULL;
	FILE *f;

	if (self->record == NULL)
		return;
	text = sdr_prompt_consent_text(request);
	g_mutex_lock(&self->lock);
	f = fopen(self->record, "ae");
	if (f != NULL) {
		fprintf(f, "%s%s\n=> %s\n----\n", text, sdr_prompt_consent_question(request),
		        answer);
		fclose(f);
	}
	g_mutex_unlock(&self->lock);
}

static gboolean
script_ask_consent(SdrPrompt *prompt, const SdrConsentRequest *request, GError **error)
{
	SdrScriptPrompt *self = (SdrScriptPrompt *)prompt;
	GError *local = NULL;
	Step s;

	if (!take_step(self, STEP_CONSENT, &s, &local)) {
		record_consent(self, request,
		               g_error_matches(local, SDR_ERROR, SDR_ERROR_TIMEOUT) ? "timeout"
		                                                                    : "none");
		g_propagate_error(error, local);
		return FALSE;
	}
	record_consent(self, request, s.yes ? "yes" : "no");
	if (!s.yes) {
		sdr_prompt_set_refused(request, error);
		return FALSE;
	}
	return TRUE;
}

static SdrSecret *
script_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	Step s;

	if (!take_step((SdrScriptPrompt *)prompt, STEP_PIN, &s, error))
		return NULL;
	return s.pin;
}

static gboolean
script_confirm(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	Step s;

	if (!take_step((SdrScriptPrompt *)prompt, STEP_CONFIRM, &s, error))
		return FALSE;
	if (!s.yes) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY,
		            _("Last PIN try not confirmed: nothing was attempted."));
		return FALSE;
	}
	return TRUE;
}

static gint
script_choose(SdrPrompt *prompt, const SdrCertChoiceRequest *request, GError **error)
{
	Step s;

	if (!take_step((SdrScriptPrompt *)prompt, STEP_CHOOSE, &s, error))
		return -1;
	if (s.choice == 0 || s.choice > request->n_choices) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED, _("No certificate was chosen."));
		return -1;
	}
	return (gint)s.choice - 1;
}

static SdrSecret *
script_ask_password(SdrPrompt *prompt, const SdrPasswordPromptRequest *request, GError **error)
{
	Step s;

	(void)request;
	if (!take_step((SdrScriptPrompt *)prompt, STEP_PASSWORD, &s, error))
		return NULL;
	return s.pin;
}

static void
script_free(SdrPrompt *prompt)
{
	SdrScriptPrompt *self = (SdrScriptPrompt *)prompt;

	g_array_unref(self->steps);
	g_free(self->record);
	g_mutex_clear(&self->lock);
	g_free(self);
}

static const SdrPromptClass script_class = {
	.ask_consent = script_ask_consent,
	.ask_pin = script_ask_pin,
	.confirm_final_try = script_confirm,
	.notify = NULL,
	.free = script_free,
	.choose_certificate = script_choose,
	.ask_password = script_ask_password,
};

/* Parses the script text (exposed for the unit tests through the path API). */
static gboolean
parse_script(GArray *steps, char *text, gsize len, char **record, GError **error)
{
	char *line = text, *end = text + len;
	guint lineno = 0;

	while (line < end) {
		char *nl = memchr(line, '\n', (gsize)(end - line));
		char *word, *arg;
		Step s = { 0 };

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		lineno++;
		word = g_strstrip(line);
		line = nl + 1;
		if (word[0] == '\0' || word[0] == '#')
			continue;
		arg = strpbrk(word, " \t");
		if (arg != NULL) {
			*arg++ = '\0';
			arg = g_strstrip(arg);
		}
		if (g_str_equal(word, "consent") && arg != NULL && parse_yes_no(arg, &s.yes)) {
			s.kind = STEP_CONSENT;
		} else if (g_str_equal(word, "confirm") && arg != NULL &&
		           parse_yes_no(arg, &s.yes)) {
			s.kind = STEP_CONFIRM;
		} else if (g_str_equal(word, "pin") && arg != NULL && arg[0] != '\0' &&
		           strlen(arg) <= SDR_SECRET_MAX) {
			s.kind = STEP_PIN;
			s.pin = sdr_secret_new_from_data(arg, strlen(arg));
		} else if (g_str_equal(word, "password") && arg != NULL && arg[0] != '\0' &&
		           strlen(arg) <= SDR_SECRET_MAX) {
			s.kind = STEP_PASSWORD;
			s.pin = sdr_secret_new_from_data(arg, strlen(arg));
		} else if (g_str_equal(word, "choose") && arg != NULL &&
		           (g_str_equal(arg, "no") ||
		            (g_ascii_isdigit(arg[0]) && strlen(arg) <= 3 && atoi(arg) > 0))) {
			s.kind = STEP_CHOOSE;
			s.choice = g_str_equal(arg, "no") ? 0 : (guint)atoi(arg);
		} else if (g_str_equal(word, "timeout") && arg == NULL) {
			s.kind = STEP_TIMEOUT;
		} else if (g_str_equal(word, "hold") && arg != NULL && arg[0] != '\0') {
			s.kind = STEP_HOLD;
			s.path = g_strdup(arg);
		} else if (g_str_equal(word, "record") && arg != NULL && arg[0] != '\0') {
			g_free(*record);
			*record = g_strdup(arg);
			continue;
		} else {
			/* Never echo the line: it may hold a PIN. */
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Prompt script: line %u is not understood."), lineno);
			return FALSE;
		}
		g_array_append_val(steps, s);
	}
	return TRUE;
}

SdrPrompt *
sdr_prompt_script_new(const char *path, GError **error)
{
	g_autoptr(GBytes) bytes = sdr_file_read(path, SDR_SCRIPT_MAX, error);
	g_autoptr(GArray) steps = NULL;
	g_autofree char *record = NULL;
	SdrScriptPrompt *self;
	char *text;
	gsize len;
	gboolean ok;

	if (bytes == NULL)
		return NULL;
	steps = g_array_new(FALSE, TRUE, sizeof(Step));
	g_array_set_clear_func(steps, step_clear);
	len = g_bytes_get_size(bytes);
	text = g_malloc(len + 1);
	memcpy(text, g_bytes_get_data(bytes, NULL), len);
	text[len] = '\0';
	ok = parse_script(steps, text, len, &record, error);
	/* The text held PINs: wipe both copies. */
	memset(text, 0, len);
	g_free(text);
	memset((void *)g_bytes_get_data(bytes, NULL), 0, len);
	if (!ok)
		return NULL;
	self = g_new0(SdrScriptPrompt, 1);
	self->parent.klass = &script_class;
	g_mutex_init(&self->lock);
	self->steps = g_steal_pointer(&steps);
	self->record = g_steal_pointer(&record);
	return &self->parent;
}
