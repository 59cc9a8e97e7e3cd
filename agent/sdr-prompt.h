/* sdr-prompt.h - how the agent asks the person in front of the screen.
 *
 * Implemented by the GUI (GTK dialogs), the terminal (CLI) and a scripted
 * prompter for tests (--prompt-script FILE: lines "consent yes", "consent no",
 * "pin 1234", "confirm yes", "choose 2"...). Every method is called from a worker thread and
 * may block until the person answers; an implementation bound to a main loop
 * marshals to it. A method returns FALSE/NULL with *error set to
 * SDR_ERROR_CANCELLED, SDR_ERROR_CONSENT_DENIED or SDR_ERROR_TIMEOUT.
 */
#pragma once

#include "sdr-secret.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	const char *name;      /* file or document name */
	const char *mime_type; /* may be NULL */
	guint64 size;
	const char *sha256_short; /* first 16 hex digits of the SHA-256 */
} SdrConsentDocument;

typedef struct {
	const char *origin;       /* web origin of the request; NULL for the CLI/GUI */
	const char *action;       /* "sign", "list-certificates" (first use of an origin) */
	const char *format;       /* "cades", "xades", "pades", "pes", "actes", "marche" */
	const char *cert_subject; /* holder name */
	const char *cert_issuer;
	const SdrConsentDocument *documents;
	gsize n_documents;
	guint timeout_s; /* 0 = no timeout */
} SdrConsentRequest;

typedef struct {
	const char *token_label;
	const char *cert_subject;
	guint attempt;
	gboolean count_low;
	gboolean final_try;
	gboolean previous_incorrect;
} SdrPinPromptRequest;

/* One certificate offered to choose from (strings borrowed). */
typedef struct {
	const char *id;          /* the certificate's id (for the answer) */
	const char *subject;     /* holder name */
	const char *issuer;      /* issuer name */
	const char *not_after;   /* "31/12/2028", may be NULL */
	const char *token_label; /* the key it lives on, may be NULL */
} SdrCertChoice;

typedef struct {
	const char *origin; /* web origin asking; NULL for the CLI/GUI */
	const SdrCertChoice *choices;
	gsize n_choices; /* >= 2 */
	guint timeout_s; /* 0 = no timeout */
} SdrCertChoiceRequest;

typedef struct _SdrPrompt SdrPrompt;

typedef struct {
	gboolean (*ask_consent)(SdrPrompt *prompt, const SdrConsentRequest *request,
	                        GError **error);
	SdrSecret *(*ask_pin)(SdrPrompt *prompt, const SdrPinPromptRequest *request,
	                      GError **error);
	/* "One try left: a wrong PIN locks the key. Continue?" */
	gboolean (*confirm_final_try)(SdrPrompt *prompt, const SdrPinPromptRequest *request,
	                              GError **error);
	/* Informs, without waiting (e.g. "sign on the key's own PIN pad"); may be NULL. */
	void (*notify)(SdrPrompt *prompt, const char *message);
	void (*free)(SdrPrompt *prompt);
	/* Several certificates fit: the index of the one chosen in request->choices,
	 * or -1 with *error (SDR_ERROR_CANCELLED when the person declines). May be
	 * NULL: sdr_prompt_choose_certificate() then fails with SDR_ERROR_UNSUPPORTED. */
	gint (*choose_certificate)(SdrPrompt *prompt, const SdrCertChoiceRequest *request,
	                           GError **error);
} SdrPromptClass;

struct _SdrPrompt {
	const SdrPromptClass *klass;
};

gboolean sdr_prompt_ask_consent(SdrPrompt *prompt, const SdrConsentRequest *request,
                                GError **error);
SdrSecret *sdr_prompt_ask_pin(SdrPrompt *prompt, const SdrPinPromptRequest *request,
                              GError **error);
gboolean sdr_prompt_confirm_final_try(SdrPrompt *prompt, const SdrPinPromptRequest *request,
                                      GError **error);
gint sdr_prompt_choose_certificate(SdrPrompt *prompt, const SdrCertChoiceRequest *request,
                                   GError **error);
void sdr_prompt_notify(SdrPrompt *prompt, const char *message);
void sdr_prompt_free(SdrPrompt *prompt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPrompt, sdr_prompt_free)

/* The terminal prompter: PIN without echo from /dev/tty, or from pin_fd when >= 0
 * (read once; a second PIN request fails). Consent asked on the terminal unless
 * assume_yes (the CLI's own files, given on its command line, are consent). */
SdrPrompt *sdr_prompt_terminal_new(int pin_fd, gboolean assume_yes);
/* The scripted prompter (tests; see above). Thread-safe. */
SdrPrompt *sdr_prompt_script_new(const char *path, GError **error);

G_END_DECLS
