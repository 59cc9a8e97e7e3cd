/* sdr-audit.c - the audit log: one line per signature, appended atomically
 * (one write(2) on an O_APPEND descriptor). Never content, never a PIN. */
#include "sdr-audit.h"

#include "sdr-error.h"
#include "sdr-time.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define SDR_AUDIT_LINE_MAX (64 * 1024)

static GMutex failure_lock;
static char *failure; /* first unreported failure */

static void
remember_failure(const GError *e)
{
	g_mutex_lock(&failure_lock);
	if (failure == NULL)
		failure = g_strdup(e->message);
	g_mutex_unlock(&failure_lock);
}

char *
sdr_audit_take_failure(void)
{
	char *out;

	g_mutex_lock(&failure_lock);
	out = g_steal_pointer(&failure);
	g_mutex_unlock(&failure_lock);
	return out;
}

char *
sdr_audit_default_path(void)
{
	return g_build_filename(g_get_user_state_dir(), "sinadur", "audit.log", NULL);
}

/* Keeps only printable ASCII without spaces or quotes (origins, ids). */
static void
append_token(GString *line, const char *value)
{
	if (value == NULL || value[0] == '\0') {
		g_string_append_c(line, '-');
		return;
	}
	for (const char *p = value; *p != '\0' && p - value < 512; p++) {
		char c = *p;

		g_string_append_c(line, (c > 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '_');
	}
}

static gboolean
append_line(const char *path, const char *origin, const char *format, const char *cert_id,
            const char *const *doc_sha256, const char *result, GError **error)
{
	g_autoptr(GDateTime) now = sdr_time_now();
	g_autofree char *when = sdr_time_to_iso8601(now);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GString) line = g_string_new(NULL);
	gssize written;
	int fd;

	g_string_append_printf(line, "%s origin=", when);
	append_token(line, origin);
	g_string_append(line, " format=");
	append_token(line, format);
	g_string_append(line, " cert=");
	append_token(line, cert_id);
	g_string_append(line, " sha256=");
	for (gsize i = 0; doc_sha256 != NULL && doc_sha256[i] != NULL; i++) {
		if (line->len > SDR_AUDIT_LINE_MAX)
			break;
		if (i > 0)
			g_string_append_c(line, ',');
		append_token(line, doc_sha256[i]);
	}
	if (doc_sha256 == NULL || doc_sha256[0] == NULL)
		g_string_append_c(line, '-');
	g_string_append(line, " result=");
	append_token(line, result);
	g_string_append_c(line, '\n');

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s: %s"), dir,
		            g_strerror(e));
		return FALSE;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot write %s: %s"), path,
		            g_strerror(e));
		return FALSE;
	}
	do {
		written = write(fd, line->str, line->len);
	} while (written < 0 && errno == EINTR);
	if (written < 0 || (gsize)written != line->len) {
		int e = written < 0 ? errno : EIO;
		close(fd);
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot write %s: %s"), path,
		            g_strerror(e));
		return FALSE;
	}
	if (close(fd) != 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot write %s: %s"), path,
		            g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_audit_append(const char *path, const char *origin, const char *format, const char *cert_id,
                 const char *const *doc_sha256, const char *result, GError **error)
{
	g_autoptr(GError) e = NULL;

	if (append_line(path, origin, format, cert_id, doc_sha256, result, &e))
		return TRUE;
	remember_failure(e);
	g_propagate_error(error, g_steal_pointer(&e));
	return FALSE;
}
