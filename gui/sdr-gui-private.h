/* sdr-gui-private.h - shared between the files of gui/. */
#pragma once

#include "sdr-gui-logic.h"
#include "sdr-gui-text.h"
#include "sdr-gui.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SDR_GUI_MAX_WARN_DAYS 8

struct _SdrGui {
	SdrGuiOptions options;
	GtkApplication *app;
	GtkWidget *window;  /* main window, NULL until first shown */
	GtkWidget *content; /* its box, rebuilt on each refresh */
	gpointer tray;      /* AppIndicator, or NULL */
	GtkWidget *tray_menu;

	JsonNode *certs;  /* last "certificates" answer */
	JsonNode *tokens; /* last "tokens" answer */
	JsonNode *doctor; /* last "doctor" answer, when no key */
	char *last_error;
	gboolean refreshing, refresh_again;
	guint refresh_source;
	guint periodic_source;
	int busy;         /* signatures running */
	int own_requests; /* GUI-initiated sign requests running (their consent is implicit) */

	int warn_days[SDR_GUI_MAX_WARN_DAYS];
	gsize n_warn_days;
	SdrGuiExpiryMemory *expiry;

	GtkWidget *notice; /* the notices of the operation running (sdr_prompt_notify) */
	GtkWidget *notice_box;
	guint notice_timeout;
};

/* sdr-gui-util.c. Navigation: actions of the GApplication that sdr-gui.c installs;
 * a window asks for another with sdr_gui_navigate(gui, SDR_GUI_NAV_...). */
#define SDR_GUI_NAV_WINDOW "open-window" /* main window, refreshed */
#define SDR_GUI_NAV_SIGN "sign-files"
#define SDR_GUI_NAV_VERIFY "verify-file"
#define SDR_GUI_NAV_DOCTOR "doctor"
#define SDR_GUI_NAV_STATE "state-changed"         /* busy count changed: the tray follows */
#define SDR_GUI_NAV_S2LOW "s2low"                 /* send to S²LOW, the sends */
#define SDR_GUI_NAV_S2LOW_CHANGED "s2low-changed" /* the queue moved: the view re-reads it */
void sdr_gui_navigate(SdrGui *gui, const char *action);
/* Runs handler on a GTask thread; done(gui, answer or NULL, error, data) on the main loop. */
typedef void (*SdrGuiDoneFunc)(SdrGui *gui, JsonNode *answer, const GError *error, gpointer data);
void sdr_gui_run_async(SdrGui *gui, const char *name, JsonObject *request, SdrGuiDoneFunc done,
                       gpointer data);
/* The same with a cancellable (may be NULL) and progress(done, total, current, data)
 * called on the main loop, before done. */
void sdr_gui_run_async_full(SdrGui *gui, const char *name, JsonObject *request,
                            GCancellable *cancellable, SdrGuiProgressFunc progress,
                            SdrGuiDoneFunc done, gpointer data);

/* sdr-gui-window.c */
void sdr_gui_window_show(SdrGui *gui);
void sdr_gui_window_update(SdrGui *gui);
void sdr_gui_show_doctor(SdrGui *gui);
/* sdr-gui-prompt.c: the operation the notices were about has ended: closes them
 * (main thread). */
void sdr_gui_notice_end(SdrGui *gui);
/* sdr-gui-tray.c */
void sdr_gui_tray_init(SdrGui *gui);
void sdr_gui_tray_update(SdrGui *gui);
void sdr_gui_tray_free(SdrGui *gui);
/* sdr-gui-files.c */
void sdr_gui_sign_window_show(SdrGui *gui);
/* The same, with these files already chosen (GFile*). */
void sdr_gui_sign_window_show_files(SdrGui *gui, GFile **files, int n_files);
/* The "verify a file" window with these files chosen (a signature, or a detached
 * signature and its document), verification started. */
void sdr_gui_verify_window_show_files(SdrGui *gui, GFile **files, int n_files);
void sdr_gui_verify_window_show(SdrGui *gui);

/* sdr-gui-s2low.c: "Envoyer à la préfecture / au comptable (S²LOW)" and the sends. */
void sdr_gui_s2low_window_show(SdrGui *gui);
/* The queue changed (a send reached its final state): the open view re-reads it. */
void sdr_gui_s2low_window_changed(SdrGui *gui);

/* JSON helpers */
const char *sdr_gui_json_string(JsonObject *o, const char *member);
JsonArray *sdr_gui_json_array(JsonNode *node, const char *member);
/* A label with the given text (may be NULL: "—"), selectable, wrapping. */
GtkWidget *sdr_gui_value_label(const char *text);
/* A dd/mm/yyyy date of an ISO 8601 text (NULL: "—"). */
char *sdr_gui_date_text(const char *iso);

G_END_DECLS
