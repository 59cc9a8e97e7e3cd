/* sdr-gui-secure-buffer.c - GtkEntryBuffer in locked, wiped memory. */
#include "sdr-gui-secure-buffer.h"

#include <string.h>
#include <sys/mman.h>

/* Room for SDR_GUI_SECURE_BUFFER_MAX_CHARS characters of up to 4 bytes. */
#define CAPACITY (SDR_GUI_SECURE_BUFFER_MAX_CHARS * 4 + 1)

struct _SdrGuiSecureBuffer {
	GtkEntryBuffer parent;
	char *text; /* CAPACITY bytes, NUL-terminated */
	gsize bytes;
	guint chars;
	gboolean locked;
};

G_DEFINE_TYPE(SdrGuiSecureBuffer, sdr_gui_secure_buffer, GTK_TYPE_ENTRY_BUFFER)

static const char *
sb_get_text(GtkEntryBuffer *buffer, gsize *n_bytes)
{
	SdrGuiSecureBuffer *self = SDR_GUI_SECURE_BUFFER(buffer);

	if (n_bytes != NULL)
		*n_bytes = self->bytes;
	return self->text;
}

static guint
sb_get_length(GtkEntryBuffer *buffer)
{
	return SDR_GUI_SECURE_BUFFER(buffer)->chars;
}

static guint
sb_insert_text(GtkEntryBuffer *buffer, guint position, const char *chars, guint n_chars)
{
	SdrGuiSecureBuffer *self = SDR_GUI_SECURE_BUFFER(buffer);
	const char *end;
	gsize add, at;

	if (self->chars + n_chars > SDR_GUI_SECURE_BUFFER_MAX_CHARS)
		n_chars = SDR_GUI_SECURE_BUFFER_MAX_CHARS - self->chars;
	if (n_chars == 0)
		return 0;
	end = g_utf8_offset_to_pointer(chars, n_chars);
	add = (gsize)(end - chars);
	if (self->bytes + add >= CAPACITY)
		return 0;
	position = MIN(position, self->chars);
	at = (gsize)(g_utf8_offset_to_pointer(self->text, position) - self->text);
	memmove(self->text + at + add, self->text + at, self->bytes - at + 1);
	memcpy(self->text + at, chars, add);
	self->bytes += add;
	self->chars += n_chars;
	gtk_entry_buffer_emit_inserted_text(buffer, position, chars, n_chars);
	return n_chars;
}

static guint
sb_delete_text(GtkEntryBuffer *buffer, guint position, guint n_chars)
{
	SdrGuiSecureBuffer *self = SDR_GUI_SECURE_BUFFER(buffer);
	gsize start, stop;

	if (position > self->chars)
		position = self->chars;
	if (position + n_chars > self->chars)
		n_chars = self->chars - position;
	if (n_chars == 0)
		return 0;
	start = (gsize)(g_utf8_offset_to_pointer(self->text, position) - self->text);
	stop = (gsize)(g_utf8_offset_to_pointer(self->text, position + n_chars) - self->text);
	memmove(self->text + start, self->text + stop, self->bytes - stop + 1);
	self->bytes -= stop - start;
	self->chars -= n_chars;
	/* Wipe what the move left behind. */
	explicit_bzero(self->text + self->bytes, CAPACITY - self->bytes);
	gtk_entry_buffer_emit_deleted_text(buffer, position, n_chars);
	return n_chars;
}

static void
sb_finalize(GObject *object)
{
	SdrGuiSecureBuffer *self = SDR_GUI_SECURE_BUFFER(object);

	explicit_bzero(self->text, CAPACITY);
	if (self->locked)
		(void)munlock(self->text, CAPACITY);
	g_free(self->text);
	G_OBJECT_CLASS(sdr_gui_secure_buffer_parent_class)->finalize(object);
}

static void
sdr_gui_secure_buffer_class_init(SdrGuiSecureBufferClass *klass)
{
	GtkEntryBufferClass *eb = GTK_ENTRY_BUFFER_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = sb_finalize;
	eb->get_text = sb_get_text;
	eb->get_length = sb_get_length;
	eb->insert_text = sb_insert_text;
	eb->delete_text = sb_delete_text;
}

static void
sdr_gui_secure_buffer_init(SdrGuiSecureBuffer *self)
{
	self->text = g_malloc0(CAPACITY);
	self->locked = mlock(self->text, CAPACITY) == 0;
	gtk_entry_buffer_set_max_length(GTK_ENTRY_BUFFER(self), SDR_GUI_SECURE_BUFFER_MAX_CHARS);
}

GtkEntryBuffer *
sdr_gui_secure_buffer_new(void)
{
	return g_object_new(SDR_GUI_TYPE_SECURE_BUFFER, NULL);
}

void
sdr_gui_secure_buffer_wipe(SdrGuiSecureBuffer *buffer)
{
	gtk_entry_buffer_delete_text(GTK_ENTRY_BUFFER(buffer), 0, -1);
	explicit_bzero(buffer->text, CAPACITY);
}
