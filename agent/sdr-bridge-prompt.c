/* sdr-bridge-prompt.c - the bridge's deadline around any prompter.
 *
 * A web request must not wait forever for a person who is away: every prompt
 * asked on behalf of the bridge (consent, PIN, last-try confirmation) runs the
 * real prompter on its own thread, and the request gives up after the consent
 * timeout ([bridge] consent_timeout_s, or the request's own timeout_s) with
 * SDR_ERROR_TIMEOUT, or at once with SDR_ERROR_CANCELLED when the bridge stops.
 * A late answer is discarded (a late PIN is wiped). Requests are deep-copied so
 * the abandoned thread never reads freed memory. */
#include "sdr-bridge-private.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define WAIT_SLICE_US (200 * 1000)

typedef enum {
	JOB_CONSENT,
	JOB_PIN,
	JOB_CONFIRM,
	JOB_CHOOSE,
	JOB_PASSWORD,
} JobKind;

typedef struct {
	gint ref;
	GMutex lock;
	GCond cond;
	gboolean done, abandoned;
	JobKind kind;
	SdrPrompt *inner;
	GStringChunk *strings;
	SdrConsentRequest consent;
	SdrConsentDocument *docs;
	SdrConsentDetail *details;
	SdrPinPromptRequest pin_req;
	SdrCertChoiceRequest choice_req;
	SdrCertChoice *choices;
	SdrPasswordPromptRequest password_req;
	gint chosen;
	gboolean ok;
	SdrSecret *pin;
	GError *error;
} Job;

typedef struct {
	SdrPrompt parent;
	SdrPrompt *inner;          /* borrowed */
	GCancellable *cancellable; /* the bridge's: cancelled on stop */
	guint default_timeout_s;
} DeadlinePrompt;

static const char *
keep(Job *job, const char *s)
{
	return s != NULL ? g_string_chunk_insert(job->strings, s) : NULL;
}

static void
job_unref(Job *job)
{
	if (!g_atomic_int_dec_and_test(&job->ref))
		return;
	sdr_secret_free(job->pin);
	g_clear_error(&job->error);
	g_free(job->docs);
	g_free(job->details);
	g_free(job->choices);
	g_string_chunk_free(job->strings);
	g_mutex_clear(&job->lock);
	g_cond_clear(&job->cond);
	g_free(job);
}

static Job *
job_new(JobKind kind, SdrPrompt *inner)
{
	Job *job = g_new0(Job, 1);

	job->ref = 2; /* the waiter and the worker */
	job->kind = kind;
	job->inner = inner;
	job->strings = g_string_chunk_new(256);
	g_mutex_init(&job->lock);
	g_cond_init(&job->cond);
	return job;
}

static gpointer
job_run(gpointer data)
{
	Job *job = data;
	GError *error = NULL;
	gboolean ok = FALSE;
	SdrSecret *pin = NULL;
	gint chosen = -1;

	switch (job->kind) {
	case JOB_CONSENT:
		ok = sdr_prompt_ask_consent(job->inner, &job->consent, &error);
		break;
	case JOB_PIN:
		pin = sdr_prompt_ask_pin(job->inner, &job->pin_req, &error);
		ok = pin != NULL;
		break;
	case JOB_CONFIRM:
		ok = sdr_prompt_confirm_final_try(job->inner, &job->pin_req, &error);
		break;
	case JOB_CHOOSE:
		chosen = sdr_prompt_choose_certificate(job->inner, &job->choice_req, &error);
		ok = chosen >= 0;
		break;
	case JOB_PASSWORD:
		pin = sdr_prompt_ask_password(job->inner, &job->password_req, &error);
		ok = pin != NULL;
		break;
	}
	g_mutex_lock(&job->lock);
	if (job->abandoned) {
		sdr_secret_free(pin);
		g_clear_error(&error);
	} else {
		job->ok = ok;
		job->chosen = chosen;
		job->pin = pin;
		job->error = error;
	}
	job->done = TRUE;
	g_cond_broadcast(&job->cond);
	g_mutex_unlock(&job->lock);
	job_unref(job);
	return NULL;
}

/* Runs the job on a thread and waits for it, the deadline or the bridge's stop.
 * Returns TRUE when the prompter answered (its own result in job). */
static gboolean
job_wait(DeadlinePrompt *self, Job *job, guint timeout_s, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	gboolean answered;
	GThread *t = g_thread_try_new("sdr-prompt", job_run, job, error);

	if (t == NULL) {
		job_unref(job); /* the worker's reference */
		return FALSE;
	}
	g_thread_unref(t);
	g_mutex_lock(&job->lock);
	while (!job->done) {
		gint64 now = g_get_monotonic_time();

		if (now >= deadline || g_cancellable_is_cancelled(self->cancellable))
			break;
		g_cond_wait_until(&job->cond, &job->lock, MIN(deadline, now + WAIT_SLICE_US));
	}
	answered = job->done;
	if (!answered)
		job->abandoned = TRUE;
	g_mutex_unlock(&job->lock);
	if (!answered) {
		if (g_cancellable_is_cancelled(self->cancellable))
			g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED,
			            _("The signing agent is stopping"));
		else
			g_set_error(error, SDR_ERROR, SDR_ERROR_TIMEOUT,
			            _("Nobody answered in time: the request is cancelled"));
	}
	return answered;
}

static gboolean
deadline_ask_consent(SdrPrompt *prompt, const SdrConsentRequest *request, GError **error)
{
	DeadlinePrompt *self = (DeadlinePrompt *)prompt;
	Job *job = job_new(JOB_CONSENT, self->inner);
	guint timeout = request->timeout_s > 0 ? request->timeout_s : self->default_timeout_s;
	gboolean ok = FALSE;

	job->consent = *request;
	job->consent.origin = keep(job, request->origin);
	job->consent.format = keep(job, request->format);
	job->consent.cert_subject = keep(job, request->cert_subject);
	job->consent.cert_issuer = keep(job, request->cert_issuer);
	job->consent.digest_alg = keep(job, request->digest_alg);
	job->consent.digest_hex = keep(job, request->digest_hex);
	job->details = g_new0(SdrConsentDetail, MAX(request->n_details, 1));
	for (gsize i = 0; i < request->n_details; i++) {
		job->details[i].label = keep(job, request->details[i].label);
		job->details[i].value = keep(job, request->details[i].value);
	}
	job->consent.details = job->details;
	job->docs = g_new0(SdrConsentDocument, MAX(request->n_documents, 1));
	for (gsize i = 0; i < request->n_documents; i++) {
		job->docs[i] = request->documents[i];
		job->docs[i].name = keep(job, request->documents[i].name);
		job->docs[i].mime_type = keep(job, request->documents[i].mime_type);
		job->docs[i].sha256_short = keep(job, request->documents[i].sha256_short);
	}
	job->consent.documents = job->docs;
	if (job_wait(self, job, timeout, error)) {
		ok = job->ok;
		if (!ok)
			g_propagate_error(error, g_steal_pointer(&job->error));
	}
	job_unref(job);
	return ok;
}

static Job *
pin_job(DeadlinePrompt *self, JobKind kind, const SdrPinPromptRequest *request)
{
	Job *job = job_new(kind, self->inner);

	job->pin_req = *request;
	job->pin_req.token_label = keep(job, request->token_label);
	job->pin_req.cert_subject = keep(job, request->cert_subject);
	job->pin_req.rejected = keep(job, request->rejected);
	return job;
}

static SdrSecret *
deadline_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	DeadlinePrompt *self = (DeadlinePrompt *)prompt;
	Job *job = pin_job(self, JOB_PIN, request);
	SdrSecret *pin = NULL;

	if (job_wait(self, job, self->default_timeout_s, error)) {
		pin = g_steal_pointer(&job->pin);
		if (pin == NULL)
			g_propagate_error(error, g_steal_pointer(&job->error));
	}
	job_unref(job);
	return pin;
}

static gboolean
deadline_confirm(SdrPrompt *prompt, const SdrPinPromptRequest *request, GError **error)
{
	DeadlinePrompt *self = (DeadlinePrompt *)prompt;
	Job *job = pin_job(self, JOB_CONFIRM, request);
	gboolean ok = FALSE;

	if (job_wait(self, job, self->default_timeout_s, error)) {
		ok = job->ok;
		if (!ok)
			g_propagate_error(error, g_steal_pointer(&job->error));
	}
	job_unref(job);
	return ok;
}

static gint
deadline_choose(SdrPrompt *prompt, const SdrCertChoiceRequest *request, GError **error)
{
	DeadlinePrompt *self = (DeadlinePrompt *)prompt;
	Job *job = job_new(JOB_CHOOSE, self->inner);
	guint timeout = request->timeout_s > 0 ? request->timeout_s : self->default_timeout_s;
	gint chosen = -1;

	job->choice_req = *request;
	job->choice_req.origin = keep(job, request->origin);
	job->choices = g_new0(SdrCertChoice, MAX(request->n_choices, 1));
	for (gsize i = 0; i < request->n_choices; i++) {
		job->choices[i].id = keep(job, request->choices[i].id);
		job->choices[i].subject = keep(job, request->choices[i].subject);
		job->choices[i].issuer = keep(job, request->choices[i].issuer);
		job->choices[i].not_after = keep(job, request->choices[i].not_after);
		job->choices[i].token_label = keep(job, request->choices[i].token_label);
	}
	job->choice_req.choices = job->choices;
	if (job_wait(self, job, timeout, error)) {
		chosen = job->chosen;
		if (chosen < 0)
			g_propagate_error(error, g_steal_pointer(&job->error));
	}
	job_unref(job);
	return chosen;
}

/* A password (S²LOW's login): as a PIN, a late answer is wiped. */
static SdrSecret *
deadline_ask_password(SdrPrompt *prompt, const SdrPasswordPromptRequest *request, GError **error)
{
	DeadlinePrompt *self = (DeadlinePrompt *)prompt;
	Job *job = job_new(JOB_PASSWORD, self->inner);
	SdrSecret *secret = NULL;

	job->password_req.service = keep(job, request->service);
	job->password_req.url = keep(job, request->url);
	job->password_req.login = keep(job, request->login);
	if (job_wait(self, job, self->default_timeout_s, error)) {
		secret = g_steal_pointer(&job->pin);
		if (secret == NULL)
			g_propagate_error(error, g_steal_pointer(&job->error));
	}
	job_unref(job);
	return secret;
}

static void
deadline_notify(SdrPrompt *prompt, const char *message)
{
	sdr_prompt_notify(((DeadlinePrompt *)prompt)->inner, message);
}

static void
deadline_free(SdrPrompt *prompt)
{
	DeadlinePrompt *self = (DeadlinePrompt *)prompt;

	g_clear_object(&self->cancellable);
	g_free(self);
}

static const SdrPromptClass deadline_class = {
	deadline_ask_consent, deadline_ask_pin, deadline_confirm,      deadline_notify,
	deadline_free,        deadline_choose,  deadline_ask_password,
};

SdrPrompt *
sdr_bridge_prompt_new(SdrPrompt *inner, GCancellable *cancellable, guint timeout_s)
{
	DeadlinePrompt *self;

	if (inner == NULL)
		return NULL;
	self = g_new0(DeadlinePrompt, 1);
	self->parent.klass = &deadline_class;
	self->inner = inner;
	self->cancellable = g_object_ref(cancellable);
	self->default_timeout_s = timeout_s > 0 ? timeout_s : SDR_BRIDGE_CONSENT_TIMEOUT_DEFAULT;
	return &self->parent;
}
