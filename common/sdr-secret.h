/* sdr-secret.h - a buffer for PINs: locked in memory, excluded from core dumps,
 * wiped on free. A secret moves by ownership (steal the pointer); it never enters
 * JSON, logs, GString, GVariant or argv.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdrSecret SdrSecret;

#define SDR_SECRET_MAX 256 /* bytes; PINs are far shorter */

/* An empty secret. Never returns NULL. The memory is locked when the system
 * allows it (silently not locked otherwise). */
SdrSecret *sdr_secret_new(void);
/* A copy of len bytes of data (len <= SDR_SECRET_MAX, else NULL). */
SdrSecret *sdr_secret_new_from_data(const void *data, gsize len);
/* Appends one byte; FALSE when full. */
gboolean sdr_secret_append_byte(SdrSecret *secret, char c);
/* Removes the last byte (for a backspace). */
void sdr_secret_pop(SdrSecret *secret);
/* Reads one line (without its newline) from fd, up to SDR_SECRET_MAX bytes. */
SdrSecret *sdr_secret_read_fd(int fd, GError **error);
/* NUL-terminated view, valid while the secret lives. */
const char *sdr_secret_get(const SdrSecret *secret);
gsize sdr_secret_len(const SdrSecret *secret);
/* Wipes and frees; accepts NULL. */
void sdr_secret_free(SdrSecret *secret);
/* Frees *secret and sets it to NULL. */
void sdr_secret_clear(SdrSecret **secret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrSecret, sdr_secret_free)

G_END_DECLS
