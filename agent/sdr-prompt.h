/* sdr-prompt.h - how the agent asks the person in front of the screen.
 *
 * Implemented by the GUI (GTK dialogs), the terminal (CLI) and a scripted
 * prompter for tests (--prompt-script FILE: lines "consent yes", "consent no",
 * "pin 1234", "confirm yes", "choose 2", "password X"...). Every method is called from a worker
 * thread and may block until the person answers; an implementation bound to a main loop marshals to
 * it. A method returns FALSE/NULL with *error set to SDR_ERROR_CANCELLED, SDR_ERROR_CONSENT_DENIED
 * or SDR_ERROR_TIMEOUT.
 */
#pragma once

#include "sdr-secret.h"

#include <glib.h>

G_BEGIN_DECLS

/* Every string below that a page, a file or a token supplied is shown only
 * through sdr_sanitize_for_display() (common/sdr-sanitize.h). */
typedef struct {
	const char *name;      /* file or document name */
	const char *mime_type; /* may be NULL */
	guint64 size;
	const char *sha256_short; /* first 16 hex digits of the SHA-256 */
} SdrConsentDocument;

/* What the person is asked to allow. */
typedef enum {
	SDR_CONSENT_SIGN_DOCUMENTS = 0, /* sign documents (listed) */
	SDR_CONSENT_LIST_CERTIFICATES,  /* first use of an origin: show it the certificates */
	SDR_CONSENT_SIGN_DATA,          /* sign a digest the page computed (no document shown) */
	SDR_CONSENT_S2LOW_SEND, /* send documents to S²LOW (listed, with the ACTES fields) */
} SdrConsentAction;

/* A value the requester chose that ends up in the signature (PAdES reason,
 * location, visible stamp, PES bordereaux...): label is ours (translated), value
 * is outside text. */
typedef struct {
	const char *label;
	const char *value;
} SdrConsentDetail;

typedef struct {
	SdrConsentAction action;
	const char *origin;       /* web origin of the request; NULL for the CLI/GUI */
	const char *format;       /* "cades", "xades", "pades", "pes", "actes", "marche" */
	const char *cert_subject; /* holder name */
	const char *cert_issuer;
	const SdrConsentDocument *documents; /* SDR_CONSENT_SIGN_DOCUMENTS */
	gsize n_documents;
	const SdrConsentDetail *details; /* every requester-chosen value signed in */
	gsize n_details;
	const char *digest_alg;  /* SDR_CONSENT_SIGN_DATA: "sha256"... */
	const char *digest_hex;  /* SDR_CONSENT_SIGN_DATA: the digest, in hex */
	const char *destination; /* SDR_CONSENT_S2LOW_SEND: the S²LOW address (configuration) */
	guint timeout_s;         /* 0 = no timeout */
} SdrConsentRequest;

typedef struct {
	const char *token_label;
	const char *cert_subject;
	guint attempt;
	gboolean count_low;
	gboolean final_try;
	gboolean previous_incorrect;
	gboolean protected_path; /* the key asks the PIN itself: confirm_final_try only */
	gulong min_len, max_len; /* PIN length the key accepts (bytes); 0 = unknown */
	/* Why the previous answer was refused without reaching the key (translated),
	 * or NULL. A prompt shows it and asks again; a PIN file descriptor fails. */
	const char *rejected;
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

/* A password for a service (S²LOW's HTTP Basic login for a certificate shared by
 * several accounts); strings borrowed, url and login from the configuration. */
typedef struct {
	const char *service; /* what it is for, translated ("S²LOW") */
	const char *url;
	const char *login;
} SdrPasswordPromptRequest;

typedef struct _SdrPrompt SdrPrompt;

typedef struct {
	gboolean (*ask_consent)(SdrPrompt *prompt, const SdrConsentRequest *request,
	                        GError **error);
	SdrSecret *(*ask_pin)(SdrPrompt *prompt, const SdrPinPromptRequest *request,
	                      GError **error);
	/* "One try left: a wrong PIN locks the key. Continue?" */
	gboolean (*confirm_final_try)(SdrPrompt *prompt, const SdrPinPromptRequest *request,
	                              GError **error);
	/* Informs, without waiting (e.g. "type the PIN in the key's own window", said
	 * before a protected-path login blocks); may be NULL. message NULL: the
	 * operation these notices were about has ended (the core says it once, at the
	 * end of a handler call that notified): a window showing them closes. */
	void (*notify)(SdrPrompt *prompt, const char *message);
	void (*free)(SdrPrompt *prompt);
	/* Several certificates fit: the index of the one chosen in request->choices,
	 * or -1 with *error (SDR_ERROR_CANCELLED when the person declines). May be
	 * NULL: sdr_prompt_choose_certificate() then fails with SDR_ERROR_UNSUPPORTED. */
	gint (*choose_certificate)(SdrPrompt *prompt, const SdrCertChoiceRequest *request,
	                           GError **error);
	/* A password, never echoed (into a secret). May be NULL:
	 * sdr_prompt_ask_password() then fails with SDR_ERROR_UNSUPPORTED. */
	SdrSecret *(*ask_password)(SdrPrompt *prompt, const SdrPasswordPromptRequest *request,
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
SdrSecret *sdr_prompt_ask_password(SdrPrompt *prompt, const SdrPasswordPromptRequest *request,
                                   GError **error);
void sdr_prompt_notify(SdrPrompt *prompt, const char *message);
void sdr_prompt_free(SdrPrompt *prompt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPrompt, sdr_prompt_free)

/* The consent question as text for a person (terminal, scripted record), every
 * outside string sanitised: what is asked (listing or signing, documents or a
 * digest), by whom, with which certificate, and each detail signed in. Ends
 * with a newline; the yes/no question itself is not included. */
char *sdr_prompt_consent_text(const SdrConsentRequest *request);
/* The yes/no question that follows it ("Sign? [y/N] ", "Allow? [y/N] "). */
const char *sdr_prompt_consent_question(const SdrConsentRequest *request);
/* Sets SDR_ERROR_CONSENT_DENIED with the message for a "no" to this request. */
void sdr_prompt_set_refused(const SdrConsentRequest *request, GError **error);

/* The terminal prompter: PIN without echo from /dev/tty (echo restored on SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT before the signal goes on), or from pin_fd when >= 0
 * (read once; a second PIN request or a PIN refused locally fails; the final try
 * is refused). A password is read the same way (without echo, or once from pin_fd). The final-try
 * question is read without echo and only "oui"/"o"/ "yes"/"y" is yes. Consent asked on the terminal
 * unless assume_yes (the CLI's own files, given on its command line, are consent). */
SdrPrompt *sdr_prompt_terminal_new(int pin_fd, gboolean assume_yes);
/* The scripted prompter (tests; see above). Thread-safe. */
SdrPrompt *sdr_prompt_script_new(const char *path, GError **error);

G_END_DECLS
