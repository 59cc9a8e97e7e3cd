/* sdr-secret.c - locked, wiped PIN buffer. */
#include "sdr-secret.h"

#include "sdr-error.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

struct _SdrSecret {
	gsize len;
	gboolean locked;
	char data[SDR_SECRET_MAX + 1];
};

SdrSecret *
sdr_secret_new(void)
{
	SdrSecret *s;
	long page = sysconf(_SC_PAGESIZE);
	size_t size = sizeof(SdrSecret);

	if (page > 0)
		size = ((size + (size_t)page - 1) / (size_t)page) * (size_t)page;
	s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		g_error("sinadur: cannot allocate a secret buffer");
	memset(s, 0, sizeof *s);
	s->locked = mlock(s, size) == 0;
#ifdef MADV_DONTDUMP
	(void)madvise(s, size, MADV_DONTDUMP);
#endif
	return s;
}

SdrSecret *
sdr_secret_new_from_data(const void *data, gsize len)
{
	SdrSecret *s;

	if (len > SDR_SECRET_MAX)
		return NULL;
	s = sdr_secret_new();
	if (len > 0)
		memcpy(s->data, data, len);
	s->len = len;
	s->data[len] = '\0';
	return s;
}

gboolean
sdr_secret_append_byte(SdrSecret *secret, char c)
{
	g_return_val_if_fail(secret != NULL, FALSE);
	if (secret->len >= SDR_SECRET_MAX)
		return FALSE;
	secret->data[secret->len++] = c;
	secret->data[secret->len] = '\0';
	return TRUE;
}

void
sdr_secret_pop(SdrSecret *secret)
{
	g_return_if_fail(secret != NULL);
	if (secret->len > 0)
		secret->data[--secret->len] = '\0';
}

SdrSecret *
sdr_secret_read_fd(int fd, GError **error)
{
	g_autoptr(SdrSecret) s = sdr_secret_new();
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
			            _("Cannot read the PIN from file descriptor %d: %s"), fd,
			            g_strerror(e));
			return NULL;
		}
		if (r == 0 || c == '\n')
			break;
		if (!sdr_secret_append_byte(s, c)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The PIN read is too long."));
			return NULL;
		}
	}
	/* One CR before the end of the line (CR LF files) is not part of the PIN; a CR
	 * elsewhere stays, and the token layer's PIN check refuses it. */
	if (s->len > 0 && s->data[s->len - 1] == '\r')
		sdr_secret_pop(s);
	return g_steal_pointer(&s);
}

const char *
sdr_secret_get(const SdrSecret *secret)
{
	g_return_val_if_fail(secret != NULL, NULL);
	return secret->data;
}

gsize
sdr_secret_len(const SdrSecret *secret)
{
	g_return_val_if_fail(secret != NULL, 0);
	return secret->len;
}

void
sdr_secret_free(SdrSecret *secret)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = sizeof(SdrSecret);

	gboolean locked;

	if (secret == NULL)
		return;
	if (page > 0)
		size = ((size + (size_t)page - 1) / (size_t)page) * (size_t)page;
	locked = secret->locked;
	explicit_bzero(secret, sizeof *secret);
	if (locked)
		(void)munlock(secret, size);
	(void)munmap(secret, size);
}

void
sdr_secret_clear(SdrSecret **secret)
{
	if (secret == NULL)
		return;
	sdr_secret_free(*secret);
	*secret = NULL;
}
