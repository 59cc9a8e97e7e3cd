/* sdr-audit.h - one line per signature in the audit log: time, origin,
 * certificate id, document SHA-256s, result. Never content, never a PIN. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* $XDG_STATE_HOME/sinadur/audit.log */
char *sdr_audit_default_path(void);
/* Appends one line with a single write(2) on an O_APPEND descriptor.
 * doc_sha256: hex digests (NULL-terminated). result: "ok" or an error code name. */
gboolean sdr_audit_append(const char *path, const char *origin, const char *format,
                          const char *cert_id, const char *const *doc_sha256, const char *result,
                          GError **error);

G_END_DECLS
