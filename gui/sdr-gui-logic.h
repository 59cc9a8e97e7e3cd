/* sdr-gui-logic.h - the GUI's decisions as plain functions, tested without a
 * display (tests/gui/test-gui-logic.c): validity colours and wording, PIN dialog
 * wording and final-try gating, expiry-notification memory, tray state, origin
 * display. No GTK here. */
#pragma once

#include "sdr-prompt.h"

#include <glib.h>

G_BEGIN_DECLS

/* ---- Certificate validity ------------------------------------------------------ */

typedef enum {
	SDR_GUI_VALIDITY_OK,       /* more than 90 days left */
	SDR_GUI_VALIDITY_WARNING,  /* 90 days or less */
	SDR_GUI_VALIDITY_CRITICAL, /* 7 days or less */
	SDR_GUI_VALIDITY_EXPIRED,
	SDR_GUI_VALIDITY_NOT_YET, /* not_before is in the future */
} SdrGuiValidity;

#define SDR_GUI_WARNING_DAYS 90
#define SDR_GUI_CRITICAL_DAYS 7

SdrGuiValidity sdr_gui_validity(gint64 days_left, gboolean expired, GDateTime *not_before,
                                GDateTime *now);
/* Share of the validity period still ahead, 0..1 (0 when expired or unknown). */
double sdr_gui_validity_fraction(GDateTime *not_before, GDateTime *not_after, GDateTime *now);
/* CSS class of the level bar: "sdr-ok", "sdr-warning" (also not yet valid),
 * "sdr-critical" (7 days or less, expired). */
const char *sdr_gui_validity_css_class(SdrGuiValidity validity);
/* "Expire dans 42 jours", "Expiré depuis 3 jours", "Pas encore valide"... */
char *sdr_gui_validity_text(SdrGuiValidity validity, gint64 days_left);

/* ---- PIN dialog ------------------------------------------------------------------ */

typedef struct {
	char *title;
	char *message;               /* who and which key */
	char *warning;               /* tries-left wording; NULL when none */
	gboolean danger;             /* the warning is shown in red (final try) */
	gboolean needs_confirmation; /* the entry stays disabled until confirmed */
	gboolean show_entry;         /* FALSE for a protected authentication path */
	char *rejected;              /* why the previous answer was refused locally; NULL */
	char *hint;                  /* "Code de 4 à 8 caractères."; NULL when unknown */
} SdrGuiPinText;

/* label and holder are shown as given: pass them through sdr_gui_outside_text(). */
void sdr_gui_pin_text(const SdrPinPromptRequest *request, const char *label, const char *holder,
                      gboolean protected_path, SdrGuiPinText *out);
void sdr_gui_pin_text_clear(SdrGuiPinText *text);
/* The entry accepts typing only when no confirmation is needed or it was given. */
gboolean sdr_gui_pin_entry_enabled(const SdrGuiPinText *text, gboolean confirmed);
/* "Valider" is sensitive when the entry is enabled and the PIN length fits
 * (min_len/max_len 0 = no bound). */
gboolean sdr_gui_pin_can_submit(const SdrGuiPinText *text, gboolean confirmed, gsize len,
                                gsize min_len, gsize max_len);
/* The PIN length the key accepts, for a person ("4 à 8 caractères"), from
 * SdrPinPromptRequest.min_len/max_len (0 = unknown); NULL when both unknown. */
char *sdr_gui_pin_length_hint(gulong min_len, gulong max_len);
/* What to tell about a blocked key. */
const char *sdr_gui_locked_advice(void);

/* ---- Expiry notifications -------------------------------------------------------- */

/* [expiry] warn_days: parsed, sorted descending, at most max; default 90, 30, 7, 1. */
gsize sdr_gui_parse_warn_days(char **values, int *out, gsize max);

typedef struct _SdrGuiExpiryMemory SdrGuiExpiryMemory;

/* Loads the thresholds already announced from path (a missing or unreadable file
 * is an empty memory). */
SdrGuiExpiryMemory *sdr_gui_expiry_memory_load(const char *path);
void sdr_gui_expiry_memory_free(SdrGuiExpiryMemory *memory);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrGuiExpiryMemory, sdr_gui_expiry_memory_free)
/* The threshold to announce now for the certificate (the smallest reached and not
 * announced yet), or -1. Records it and every larger threshold reached.
 * warn_days sorted descending. */
int sdr_gui_expiry_memory_check(SdrGuiExpiryMemory *memory, const char *cert_key, gint64 days_left,
                                const int *warn_days, gsize n_warn_days);
/* Writes the memory atomically (common/sdr-file.h); creates the folder. */
gboolean sdr_gui_expiry_memory_save(SdrGuiExpiryMemory *memory, GError **error);
/* A stable key for a certificate: issuer DN and serial (hashed). */
char *sdr_gui_cert_key(const char *issuer_dn, const char *serial);

/* Days left of a certificate offered in a choice (SdrCertChoice.not_after,
 * "31/12/2028" or "2028-12-31"), counted as common/sdr-time.h sdr_time_days_left()
 * does; FALSE when the date cannot be read. */
gboolean sdr_gui_choice_days_left(const char *not_after, GDateTime *now, gint64 *days_left);

/* ---- Tray ------------------------------------------------------------------------ */

typedef enum {
	SDR_GUI_TRAY_NO_KEY,
	SDR_GUI_TRAY_KEY,
	SDR_GUI_TRAY_EXPIRING,
	SDR_GUI_TRAY_EXPIRED,
	SDR_GUI_TRAY_BUSY,
} SdrGuiTrayState;

/* min_days_left: of the certificates present (ignored when n_certs is 0). */
SdrGuiTrayState sdr_gui_tray_state(gboolean busy, guint n_certs, gint64 min_days_left,
                                   gboolean any_expired);
const char *sdr_gui_tray_icon_name(SdrGuiTrayState state);
/* "sinadur — Marie Dupont, 42 jours" / "sinadur — aucune clé". */
char *sdr_gui_tray_title(SdrGuiTrayState state, const char *holder, gint64 days_left);

/* ---- S²LOW sends ------------------------------------------------------------------ */

/* A send of the queue that reached a final state, as the agent announces it (the
 * "status" handler's JSON for one send; strings borrowed). */
typedef struct {
	gint64 id;
	const char *kind;  /* "actes" | "pes" */
	const char *state; /* "final" | "failed" | "to_reconcile" */
	const char *number;
	const char *status_label;
	const char *message; /* S²LOW's, outside text */
	gboolean has_status;
	gint64 status;
} SdrGuiS2lowSend;

/* The notification's title and body (outside strings sanitised); TRUE when urgent
 * (refused, error status -1, REFUSE 6). */
gboolean sdr_gui_s2low_notice(const SdrGuiS2lowSend *send, char **title, char **body);

/* ---- Batch of signatures ----------------------------------------------------------- */

/* One document of the "sign" handler's answer ("results"; strings borrowed). */
typedef struct {
	const char *name;    /* shown as given: pass it through sdr_gui_outside_text() */
	const char *status;  /* "ok", "skipped", "already_signed", "error", "not_signed" */
	const char *output;  /* the signed file, may be NULL */
	const char *code;    /* the document's error code ("SDR_ERROR_PARSE"), may be NULL */
	const char *message; /* its message (translated by the core), may be NULL */
} SdrGuiSignResult;

/* The line of a document in the results list, in plain French: "✔ a.pdf : signé
 * (a.pdf.p7s)", "✘ b.pdf : non signé — vous avez annulé la signature" (stop_code is
 * the batch's top-level error code, NULL when it ran to the end). */
char *sdr_gui_sign_result_line(const SdrGuiSignResult *result, const char *stop_code);
/* The summary above the list ("12 documents signés sur 40. Signature annulée : les 28
 * autres n'ont pas été signés."). */
char *sdr_gui_sign_summary(guint n_ok, guint n_failed, guint n_skipped, guint n_not_signed,
                           const char *stop_code);
/* Progress bar: fraction 0..1 and its text ("12 documents signés sur 40"). */
double sdr_gui_progress_fraction(guint done, guint total);
char *sdr_gui_progress_text(guint done, guint total);

/* ---- Texts ---------------------------------------------------------------------- */

/* scheme://host[:port] of a web origin (path, query, user info dropped), or NULL. */
char *sdr_gui_origin_display(const char *origin);
/* French label of a certificate usage ("signature", "authentication"). */
const char *sdr_gui_usage_label(const char *usage);

typedef struct {
	const char *format; /* the sign handler's "format" */
	const char *label;  /* French, for the person */
	gboolean needs_pdf; /* PAdES */
} SdrGuiPurpose;

/* NULL-terminated (label NULL) table of signing purposes. */
const SdrGuiPurpose *sdr_gui_purposes(void);
const char *sdr_gui_format_label(const char *format);
/* The signed file of a detached signature named after it ("X.p7s", "X.sig",
 * "X - Signature 1.xml" -> "X") when that file exists; else NULL. */
char *sdr_gui_detached_content(const char *signature_path);
/* Of two files given to "Vérifier un fichier", the index (0 or 1) of the detached
 * signature when exactly one of them is named as one (".p7s", ".sig", ".p7m",
 * " - Signature N.xml"), the other being its document; -1 otherwise. */
int sdr_gui_verify_pair(const char *a, const char *b);
/* The local paths of dropped URIs (text/uri-list: file:// only, regular files;
 * at most max), in order. */
GPtrArray *sdr_gui_dropped_paths(char **uris, guint max);

/* ---- Visible stamp on a PDF page ------------------------------------------------- */

/* A page as the preview shows it (what poppler reports): the displayed size in
 * points (after /Rotate, the crop box's), the crop box's lower-left corner in user
 * space and the page's rotation (0, 90, 180, 270, clockwise). */
typedef struct {
	double width, height;
	double crop_x, crop_y;
	int rotate;
} SdrGuiPage;

/* The stamp as the person sees it: [left, bottom, width, height] in points of the
 * displayed page, lower-left origin. */
#define SDR_GUI_STAMP_MIN_W 40.0
#define SDR_GUI_STAMP_MIN_H 20.0
/* Kept inside the page and at least the minimum size (moves it back, then shrinks). */
void sdr_gui_stamp_clamp(const SdrGuiPage *page, double shown[4]);
/* The sign request's "rect": [x, y, width, height] in the page's user space
 * (unrotated, lower-left corner), what the engine writes as the widget's /Rect. */
void sdr_gui_stamp_to_user(const SdrGuiPage *page, const double shown[4], double user[4]);
/* The rotation under which a rectangle of the unrotated page (crop-relative
 * [x1, y1, x2, y2]) is shown at shown_rect ([x1, y1, x2, y2], lower-left origin) on
 * a displayed page of width x height; -1 when none fits. */
int sdr_gui_rotation_fit(double width, double height, const double unrotated[4],
                         const double shown_rect[4]);
/* "Cachet de signature sur la page 2 sur 3 : à 300 points du bord gauche…" (French
 * through gettext), the preview's accessible description. */
char *sdr_gui_stamp_description(const double shown[4], int page, int n_pages);

G_END_DECLS
