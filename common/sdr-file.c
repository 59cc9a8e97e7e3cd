/* sdr-file.c - atomic output files. */
#include "sdr-file.h"

#include "sdr-error.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _SdrAtomicFile {
	char *path;
	char *tmp_path;
	int fd;
	gboolean committed;
};

static void set_io_error(GError **error, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
set_io_error(GError **error, int err, const char *fmt, ...)
{
	g_autofree char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, SDR_ERROR, SDR_ERROR_IO, "%s: %s", what, g_strerror(err));
}

SdrAtomicFile *
sdr_atomic_file_new(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *tmpl = NULL;
	SdrAtomicFile *f;
	struct stat st;
	mode_t mode = 0644;
	int fd;

	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
			            _("%s exists and is not a regular file"), path);
			return NULL;
		}
		mode = st.st_mode & 07777;
	}
	tmpl = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_io_error(error, errno, _("Cannot create a temporary file in %s"), dir);
		return NULL;
	}
	if (fchmod(fd, mode) != 0) {
		int e = errno;

		close(fd);
		(void)g_unlink(tmpl);
		set_io_error(error, e, _("Cannot set the mode of %s"), tmpl);
		return NULL;
	}
	f = g_new0(SdrAtomicFile, 1);
	f->path = g_strdup(path);
	f->tmp_path = g_steal_pointer(&tmpl);
	f->fd = fd;
	return f;
}

gboolean
sdr_atomic_file_write(SdrAtomicFile *file, const void *data, gsize len, GError **error)
{
	const char *p = data;

	g_return_val_if_fail(file != NULL && file->fd >= 0, FALSE);
	while (len > 0) {
		ssize_t w = write(file->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			set_io_error(error, errno, _("Cannot write %s"), file->path);
			return FALSE;
		}
		p += w;
		len -= (gsize)w;
	}
	return TRUE;
}

int
sdr_atomic_file_get_fd(SdrAtomicFile *file)
{
	g_return_val_if_fail(file != NULL, -1);
	return file->fd;
}

gboolean
sdr_atomic_file_commit(SdrAtomicFile *file, GError **error)
{
	g_autofree char *dir = NULL;
	int dfd;

	g_return_val_if_fail(file != NULL && file->fd >= 0, FALSE);
	if (fsync(file->fd) != 0) {
		set_io_error(error, errno, _("Cannot write %s"), file->path);
		return FALSE;
	}
	if (close(file->fd) != 0) {
		file->fd = -1;
		set_io_error(error, errno, _("Cannot write %s"), file->path);
		return FALSE;
	}
	file->fd = -1;
	if (rename(file->tmp_path, file->path) != 0) {
		set_io_error(error, errno, _("Cannot write %s"), file->path);
		return FALSE;
	}
	file->committed = TRUE;
	dir = g_path_get_dirname(file->path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return TRUE;
}

void
sdr_atomic_file_free(SdrAtomicFile *file)
{
	if (file == NULL)
		return;
	if (file->fd >= 0)
		close(file->fd);
	if (!file->committed && file->tmp_path != NULL)
		(void)g_unlink(file->tmp_path);
	g_free(file->path);
	g_free(file->tmp_path);
	g_free(file);
}

gboolean
sdr_file_write_atomic(const char *path, const void *data, gsize len, GError **error)
{
	g_autoptr(SdrAtomicFile) f = sdr_atomic_file_new(path, error);

	if (f == NULL)
		return FALSE;
	if (!sdr_atomic_file_write(f, data, len, error))
		return FALSE;
	return sdr_atomic_file_commit(f, error);
}

GBytes *
sdr_file_read(const char *path, gsize max_size, GError **error)
{
	g_autoptr(GMappedFile) map = NULL;
	GError *local = NULL;
	struct stat st;

	if (stat(path, &st) != 0) {
		int e = errno;

		g_set_error(error, SDR_ERROR, e == ENOENT ? SDR_ERROR_NOT_FOUND : SDR_ERROR_IO,
		            _("Cannot read %s: %s"), path, g_strerror(e));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("%s is not a regular file"), path);
		return NULL;
	}
	if ((guint64)st.st_size > max_size) {
		g_autofree char *limit = g_format_size(max_size);

		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("%s is too large (limit %s)"),
		            path, limit);
		return NULL;
	}
	map = g_mapped_file_new(path, FALSE, &local);
	if (map == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read %s: %s"), path,
		            local->message);
		g_error_free(local);
		return NULL;
	}
	/* Copy: the file may change under a mapping. */
	return g_bytes_new(g_mapped_file_get_contents(map), g_mapped_file_get_length(map));
}
