/* sdr-file.h - outputs are written atomically: a temporary file in the same
 * folder, fsync, rename, fsync of the folder. A failure leaves the destination
 * as it was and no temporary file behind.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdrAtomicFile SdrAtomicFile;

/* Opens a temporary file next to path (mode 0644 unless the destination exists:
 * then its mode is kept). */
SdrAtomicFile *sdr_atomic_file_new(const char *path, GError **error);
gboolean sdr_atomic_file_write(SdrAtomicFile *file, const void *data, gsize len, GError **error);
/* The temporary file's descriptor, for code that writes by itself. */
int sdr_atomic_file_get_fd(SdrAtomicFile *file);
/* fsync + rename over path. After success or failure the object only needs freeing. */
gboolean sdr_atomic_file_commit(SdrAtomicFile *file, GError **error);
/* Removes the temporary file unless committed. Accepts NULL. */
void sdr_atomic_file_free(SdrAtomicFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrAtomicFile, sdr_atomic_file_free)

/* All of data to path, atomically. */
gboolean sdr_file_write_atomic(const char *path, const void *data, gsize len, GError **error);

/* Reads a whole file, refusing files over max_size bytes (SDR_ERROR_TOO_LARGE). */
GBytes *sdr_file_read(const char *path, gsize max_size, GError **error);

G_END_DECLS
