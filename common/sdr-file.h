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

/* ---- Outputs that never replace a file by accident --------------------------------
 * The sign handler reserves a private temporary file in the output folder before any
 * PIN is asked (that also proves the folder is writable), lets the format write its
 * output there, then publishes it under the final name without replacing anything
 * that appeared meanwhile (renameat2(RENAME_NOREPLACE), or link() + unlink() on file
 * systems without it). */

/* Creates an empty "DIR/.sinadur-XXXXXX" (mode & 07777) and returns its path, or NULL
 * with SDR_ERROR_IO (unwritable or missing folder). */
char *sdr_file_reserve_temp(const char *dir, guint mode, GError **error);

typedef enum {
	SDR_PUBLISH_OK,     /* dest now names the file; tmp is gone */
	SDR_PUBLISH_EXISTS, /* dest exists (only without replace): nothing changed */
	SDR_PUBLISH_ERROR,  /* *error set (SDR_ERROR_IO): nothing changed */
} SdrPublishResult;

/* Moves tmp to dest in the same folder. replace: rename(2) (dest replaced
 * atomically); otherwise never replaces an existing dest. Syncs the folder. */
SdrPublishResult sdr_file_publish(const char *tmp, const char *dest, gboolean replace,
                                  GError **error);

/* TRUE when path names the file input (same st_dev/st_ino, through links, "..", hard
 * links), or, when path does not exist yet, when its resolved folder and name are
 * input's. */
gboolean sdr_file_is_same(const char *path, const char *input);

/* NAME_MAX of the folder dir (255 when unknown). */
gsize sdr_file_name_max(const char *dir);

/* Reads a whole file, refusing files over max_size bytes (SDR_ERROR_TOO_LARGE). */
GBytes *sdr_file_read(const char *path, gsize max_size, GError **error);

G_END_DECLS
