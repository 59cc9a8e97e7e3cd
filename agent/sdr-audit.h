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

/* The audit log is best effort for the signing code (a full disk must not block a
 * signature), but a line that could not be written is remembered here so that the
 * front end can say so: returns the message of the first failure since the last
 * call (NULL when none) and forgets it. Thread-safe. */
char *sdr_audit_take_failure(void);

G_END_DECLS
