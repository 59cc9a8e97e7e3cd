/* sdr-gui-secure-buffer.h - a GtkEntryBuffer whose text lives in locked memory
 * (mlock, excluded from core dumps) and is wiped on every change and on
 * finalisation. For the PIN entry only. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SDR_GUI_TYPE_SECURE_BUFFER (sdr_gui_secure_buffer_get_type())
G_DECLARE_FINAL_TYPE(SdrGuiSecureBuffer, sdr_gui_secure_buffer, SDR_GUI, SECURE_BUFFER,
                     GtkEntryBuffer)

#define SDR_GUI_SECURE_BUFFER_MAX_CHARS 64

GtkEntryBuffer *sdr_gui_secure_buffer_new(void);
/* Wipes the text (the entry shows nothing). */
void sdr_gui_secure_buffer_wipe(SdrGuiSecureBuffer *buffer);

G_END_DECLS
