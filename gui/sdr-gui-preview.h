/* sdr-gui-preview.h - the page preview of "Signer des fichiers" where the visible
 * stamp of a PDF signature is placed and sized (poppler-glib), with the page, reason
 * and place. Gives the sign request's options; knows nothing of PDF signing. */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _SdrGuiPreview SdrGuiPreview;

/* The preview's widget, hidden until a PDF is set; the SdrGuiPreview is freed with it. */
GtkWidget *sdr_gui_preview_new(SdrGuiPreview **preview);
/* Shows path's first page (the stamp kept where it was when the page size allows);
 * NULL or a file poppler cannot open hides the preview. Returns TRUE when shown. */
gboolean sdr_gui_preview_set_file(SdrGuiPreview *preview, const char *path);
/* A PDF is shown and the visible stamp is asked for. */
gboolean sdr_gui_preview_active(SdrGuiPreview *preview);
/* Adds "visible", "page", "rect" (user space points), "reason", "location". */
void sdr_gui_preview_fill_options(SdrGuiPreview *preview, JsonObject *options);

G_END_DECLS
