/* test-bridge-prompt.c - the bridge's deadline around a prompter: a person who
 * never answers gives SDR_ERROR_TIMEOUT in time, a stop gives SDR_ERROR_CANCELLED,
 * answers in time pass through, late answers are dropped safely. */
#include "sdr-bridge-private.h"
#include "sdr-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
	SdrPrompt parent;
	guint delay_ms;
	gboolean answer;
	gint calls;
} SlowPrompt;

static gboolean
slow_consent(SdrPrompt *p, const SdrConsentRequest *req, GError **error)
{
	SlowPrompt *self = (SlowPrompt *)p;

	g_atomic_int_inc(&self->calls);
	g_usleep((gulong)self->delay_ms * 1000);
	/* The request must still be readable after the waiter gave up. */
	g_assert(g_str_equal(req->origin, "https://portail.example.fr"));
	g_assert(req->n_documents == 1 && g_str_equal(req->documents[0].name, "a.pdf"));
	g_assert(req->action == SDR_CONSENT_SIGN_DOCUMENTS);
	g_assert(req->n_details == 1 && g_str_equal(req->details[0].label, "Reason") &&
	         g_str_equal(req->details[0].value, "Bon pour accord"));
	if (!self->answer)
		g_set_error(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED, "no");
	return self->answer;
}

static SdrSecret *
slow_pin(SdrPrompt *p, const SdrPinPromptRequest *req, GError **error)
{
	SlowPrompt *self = (SlowPrompt *)p;

	g_atomic_int_inc(&self->calls);
	g_usleep((gulong)self->delay_ms * 1000);
	return sdr_secret_new_from_data("1234", 4);
}

static const SdrPromptClass slow_class = { slow_consent, slow_pin, NULL, NULL, NULL, NULL };

static gboolean
consent(SdrPrompt *p, guint timeout_s, GError **error)
{
	char *origin = g_strdup("https://portail.example.fr");
	char *name = g_strdup("a.pdf");
	char *reason = g_strdup("Bon pour accord");
	SdrConsentDocument doc = { name, "application/pdf", 10, "0123456789abcdef" };
	SdrConsentDetail detail = { "Reason", reason };
	SdrConsentRequest req = { 0 };
	gboolean ok;

	req.origin = origin;
	req.action = SDR_CONSENT_SIGN_DOCUMENTS;
	req.documents = &doc;
	req.n_documents = 1;
	req.details = &detail;
	req.n_details = 1;
	req.timeout_s = timeout_s;
	ok = sdr_prompt_ask_consent(p, &req, error);
	/* Scribble over the caller's memory: the late worker must not see it. */
	memset(origin, 'X', strlen(origin));
	memset(name, 'X', strlen(name));
	memset(reason, 'X', strlen(reason));
	g_free(origin);
	g_free(name);
	g_free(reason);
	return ok;
}

static void
test_answers_pass(void **state)
{
	SlowPrompt inner = { { &slow_class }, 10, TRUE, 0 };
	g_autoptr(GCancellable) c = g_cancellable_new();
	SdrPrompt *p = sdr_bridge_prompt_new(&inner.parent, c, 5);
	g_autoptr(GError) error = NULL;
	SdrPinPromptRequest preq = { 0 };
	SdrSecret *pin;

	assert_true(consent(p, 0, NULL));
	inner.answer = FALSE;
	assert_false(consent(p, 0, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED));
	pin = sdr_prompt_ask_pin(p, &preq, NULL);
	assert_non_null(pin);
	assert_string_equal(sdr_secret_get(pin), "1234");
	sdr_secret_free(pin);
	sdr_prompt_free(p);
}

static void
test_timeout(void **state)
{
	SlowPrompt inner = { { &slow_class }, 1300, TRUE, 0 };
	g_autoptr(GCancellable) c = g_cancellable_new();
	SdrPrompt *p = sdr_bridge_prompt_new(&inner.parent, c, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) e2 = NULL;
	SdrPinPromptRequest preq = { 0 };
	gint64 t0 = g_get_monotonic_time();

	assert_false(consent(p, 1, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TIMEOUT));
	assert_true(g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC);
	/* A PIN that comes too late is wiped by the worker, never returned. */
	assert_null(sdr_prompt_ask_pin(p, &preq, &e2));
	assert_true(g_error_matches(e2, SDR_ERROR, SDR_ERROR_TIMEOUT));
	sdr_prompt_free(p);
	g_usleep(1500 * 1000); /* let the late workers finish (and check their copies) */
	assert_int_equal(g_atomic_int_get(&inner.calls), 2);
}

static gpointer
cancel_later(gpointer data)
{
	g_usleep(100 * 1000);
	g_cancellable_cancel(data);
	return NULL;
}

static void
test_cancel(void **state)
{
	SlowPrompt inner = { { &slow_class }, 700, TRUE, 0 };
	g_autoptr(GCancellable) c = g_cancellable_new();
	SdrPrompt *p = sdr_bridge_prompt_new(&inner.parent, c, 60);
	g_autoptr(GError) error = NULL;
	gint64 t0 = g_get_monotonic_time();
	GThread *t = g_thread_new("cancel", cancel_later, c);

	assert_false(consent(p, 60, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
	assert_true(g_get_monotonic_time() - t0 < G_USEC_PER_SEC);
	g_thread_join(t);
	sdr_prompt_free(p);
	g_usleep(700 * 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_pass),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
