/* sdr-file.c - atomic output files. */
#include "sdr-file.h"

#include "sdr-error.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
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

char *
sdr_file_reserve_temp(const char *dir, guint mode, GError **error)
{
	g_autofree char *tmpl = g_build_filename(dir, ".sinadur-XXXXXX", NULL);
	int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		set_io_error(error, errno, _("Cannot write in the folder %s"), dir);
		return NULL;
	}
	if (fchmod(fd, (mode_t)(mode & 07777)) != 0) {
		int e = errno;

		close(fd);
		(void)g_unlink(tmpl);
		set_io_error(error, e, _("Cannot set the mode of %s"), tmpl);
		return NULL;
	}
	close(fd);
	return g_steal_pointer(&tmpl);
}

static void
sync_dir_of(const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

SdrPublishResult
sdr_file_publish(const char *tmp, const char *dest, gboolean replace, GError **error)
{
	if (replace) {
		if (rename(tmp, dest) != 0) {
			set_io_error(error, errno, _("Cannot write %s"), dest);
			return SDR_PUBLISH_ERROR;
		}
		sync_dir_of(dest);
		return SDR_PUBLISH_OK;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) != 0) {
		int e = errno;

		if (e == EEXIST)
			return SDR_PUBLISH_EXISTS;
		if (e != EINVAL && e != ENOSYS && e != ENOTSUP) {
			set_io_error(error, e, _("Cannot write %s"), dest);
			return SDR_PUBLISH_ERROR;
		}
		/* No RENAME_NOREPLACE here: link() never replaces either. */
		if (link(tmp, dest) != 0) {
			e = errno;
			if (e == EEXIST)
				return SDR_PUBLISH_EXISTS;
			set_io_error(error, e, _("Cannot write %s"), dest);
			return SDR_PUBLISH_ERROR;
		}
		(void)g_unlink(tmp);
	}
	sync_dir_of(dest);
	return SDR_PUBLISH_OK;
}

gboolean
sdr_file_is_same(const char *path, const char *input)
{
	struct stat a, b;
	g_autofree char *dir = NULL;
	g_autofree char *base = NULL;
	g_autofree char *rdir = NULL;
	g_autofree char *rin = NULL;
	g_autofree char *joined = NULL;

	if (stat(input, &b) != 0)
		return FALSE;
	if (stat(path, &a) == 0)
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	/* Not there yet: a dangling link or a name to create. */
	if (lstat(path, &a) == 0)
		return FALSE;
	dir = g_path_get_dirname(path);
	base = g_path_get_basename(path);
	rdir = realpath(dir, NULL);
	rin = realpath(input, NULL);
	if (rdir == NULL || rin == NULL)
		return FALSE;
	joined = g_build_filename(rdir, base, NULL);
	return g_str_equal(joined, rin);
}

gsize
sdr_file_name_max(const char *dir)
{
	long n = pathconf(dir, _PC_NAME_MAX);

	return n > 0 ? (gsize)n : 255;
}
