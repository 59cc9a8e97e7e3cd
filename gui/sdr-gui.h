/* sdr-gui.h - the GTK face of sinadur-agent (tray, certificate window, PIN and
 * consent dialogs, notifications), run in the agent's own main loop.
 *
 * The GUI calls actions only through the run function it is given (the agent
 * runs the handler table, agent/sdr-handler.h, under its token lock) and only
 * on worker threads; it reads the handlers' JSON answers and holds no token or
 * format logic. GApplication "fr.sinadur.Agent" on the session bus makes it
 * single-instance: a second "sinadur-agent --show" (or sinadur-gui) asks the
 * running one to open its window. See gui/README.md. */
#pragma once

#include "sdr-config.h"
#include "sdr-prompt.h"

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SDR_GUI_APP_ID "fr.sinadur.Agent"

/* Progress of a batch (the handlers' SdrProgressFunc, agent/sdr-handler.h): done of
 * total documents finished, current = the one about to be signed (NULL at the end).
 * Called on the worker thread that runs the handler. */
typedef void (*SdrGuiProgressFunc)(guint done, guint total, const char *current, gpointer data);

/* Runs the handler `name` (called on a worker thread, never on the main loop), with
 * the call's cancellable (may be NULL: a cancelled "sign" batch still answers, the
 * documents not reached "not_signed") and progress function (may be NULL).
 * Returns the answer (new reference) or NULL with *error. */
typedef JsonNode *(*SdrGuiRunFunc)(const char *name, JsonObject *request, GCancellable *cancellable,
                                   SdrGuiProgressFunc progress, gpointer progress_data,
                                   gpointer data, GError **error);

typedef struct {
	SdrConfig *config; /* borrowed, outlives the GUI */
	SdrGuiRunFunc run;
	gpointer run_data;
	void (*quit)(gpointer data); /* the tray's "Quitter" */
	gpointer quit_data;
	gboolean show_window; /* open the main window at start */
	char **sign_files;    /* open the "sign files" window with these (NULL = none) */
	gboolean verify;      /* ... the "verify a file" window instead */
} SdrGuiOptions;

typedef struct _SdrGui SdrGui;

/* TRUE when a display can be opened (initialises GTK). */
gboolean sdr_gui_display_available(void);
/* Registers the application on the session bus. When another agent already owns
 * it, asks that one to show its window (if options->show_window) or to open
 * options->sign_files in its "sign files" window, sets
 * *already_running and returns NULL. NULL with *error when the bus is missing. */
SdrGui *sdr_gui_new(const SdrGuiOptions *options, gboolean *already_running, GError **error);
/* The GTK prompter (sdr-gui-prompt.c); the GUI must outlive it. */
SdrPrompt *sdr_gui_prompt_new(SdrGui *gui);
/* PC/SC event ("token-inserted", "token-removed", ...): refreshes the window. */
void sdr_gui_token_event(SdrGui *gui, const char *kind);
/* A send of the S²LOW queue reached a final state (the agent's poller; send is the
 * "status" handler's JSON for it): a notification. Main loop. */
void sdr_gui_s2low_send(SdrGui *gui, JsonObject *send);
/* Re-reads the certificates (on a worker thread). */
void sdr_gui_refresh(SdrGui *gui);
/* TRUE while one of its windows is shown (sinadur-agent does not restart then). */
gboolean sdr_gui_has_window(SdrGui *gui);
void sdr_gui_free(SdrGui *gui);

G_END_DECLS
