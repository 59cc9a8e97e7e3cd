/* sdr-sign-hash.c - the one pass over each document of a "sign" batch
 * (sdr-sign-private.h): its SHA-256 (consent, audit), its digest with the signature's
 * hash, its first bytes (is it a PDF) and, for a file, the digest state PAdES continues.
 *
 * A file is read sequentially in 256 KiB buffers (a reader thread ahead of the hash was
 * faster on an idle machine but took 5-25 % more CPU, which a shared machine does not
 * have: tests/bench/README.md). Bridge documents are hashed in place.
 */
#include "sdr-sign-private.h"

#include "sdr-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

/* 256 KiB: the buffer stays in the cache between the copy out of the page cache and the
 * hash (fewer system calls than openssl dgst's 8 KiB, which costs it a few per cent of CPU;
 * 1 MiB and more measured slower). */
#define CHUNK_SIZE (256 * 1024)

typedef struct {
	EVP_MD_CTX *sha;   /* SHA-256 */
	EVP_MD_CTX *other; /* the signature's hash when it is not SHA-256, or NULL */
} Digests;

static gboolean
digests_update(Digests *d, SignDoc *doc, const guint8 *data, gsize len)
{
	if (doc->head_len < sizeof(doc->head)) {
		gsize n = MIN(len, sizeof(doc->head) - doc->head_len);

		memcpy(doc->head + doc->head_len, data, n);
		doc->head_len += n;
	}
	doc->size += len;
	return EVP_DigestUpdate(d->sha, data, len) == 1 &&
	       (d->other == NULL || EVP_DigestUpdate(d->other, data, len) == 1);
}

/* The file at doc->path, read sequentially. */
static gboolean
hash_file(SignDoc *doc, Digests *d, GCancellable *cancellable, GError **error)
{
	g_autofree guint8 *buf = NULL;
	gboolean ok = TRUE;
	int fd = open(doc->path, O_RDONLY | O_CLOEXEC);
	int e = 0;

	if (fd < 0) {
		e = errno;
		g_set_error(error, SDR_ERROR, e == ENOENT ? SDR_ERROR_NOT_FOUND : SDR_ERROR_IO,
		            _("Cannot read “%s”: %s"), doc->path, g_strerror(e));
		return FALSE;
	}
	/* Read-ahead for a file not in the page cache. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = g_malloc(CHUNK_SIZE);
	for (;;) {
		gssize n = read(fd, buf, CHUNK_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read “%s”: %s"),
			            doc->path, g_strerror(e));
			ok = FALSE;
			break;
		}
		if (n == 0)
			break;
		if (!digests_update(d, doc, buf, (gsize)n)) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
			ok = FALSE;
			break;
		}
		if (g_cancellable_set_error_if_cancelled(cancellable, error)) {
			ok = FALSE;
			break;
		}
	}
	close(fd);
	return ok;
}

gboolean
sdr_sign_hash_doc(SignDoc *doc, SdrHashAlg hash, GCancellable *cancellable, GError **error)
{
	Digests d = { EVP_MD_CTX_new(), NULL };
	guint8 md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	gboolean ok = FALSE;

	doc->size = 0;
	doc->head_len = 0;
	if (d.sha == NULL || EVP_DigestInit_ex(d.sha, EVP_sha256(), NULL) != 1)
		goto crypto;
	if (hash != SDR_HASH_SHA256) {
		d.other = EVP_MD_CTX_new();
		if (d.other == NULL || EVP_DigestInit_ex(d.other, sdr_hash_md(hash), NULL) != 1)
			goto crypto;
	}
	if (doc->path != NULL) {
		if (!hash_file(doc, &d, cancellable, error))
			goto out;
		doc->state = EVP_MD_CTX_new();
		if (doc->state == NULL ||
		    EVP_MD_CTX_copy_ex(doc->state, d.other != NULL ? d.other : d.sha) != 1)
			goto crypto;
	} else {
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(doc->data, &len);

		if (!digests_update(&d, doc, data != NULL ? data : (const guint8 *)"", len))
			goto crypto;
	}
	if (EVP_DigestFinal_ex(d.sha, md, &md_len) != 1)
		goto crypto;
	for (unsigned int i = 0; i < md_len && i < 32; i++)
		g_snprintf(doc->sha256 + 2 * i, 3, "%02x", md[i]);
	memcpy(doc->digest, md, md_len);
	doc->digest_len = md_len;
	if (d.other != NULL) {
		if (EVP_DigestFinal_ex(d.other, md, &md_len) != 1)
			goto crypto;
		memcpy(doc->digest, md, md_len);
		doc->digest_len = md_len;
	}
	ok = TRUE;
	goto out;
crypto:
	sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
out:
	EVP_MD_CTX_free(d.sha);
	EVP_MD_CTX_free(d.other);
	return ok;
}
