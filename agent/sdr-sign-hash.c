/* sdr-sign-hash.c - the one pass over each document of a "sign" batch
 * (sdr-sign-private.h): its SHA-256 (consent, audit), its digest with the signature's
 * hash, its first bytes (is it a PDF) and, for a file, the digest state PAdES continues.
 *
 * A file is read by a reader thread into a few buffers while this thread hashes the
 * previous ones: on two cores the copy out of the page cache (a third of the time of a
 * single-threaded "read then hash") overlaps the hashing. Bridge documents are hashed
 * in place.
 */
#include "sdr-sign-private.h"

#include "sdr-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

/* 4 x 128 KiB: each buffer stays in the cache between the copy and the hash; fewer and
 * larger measured slower (tests/bench/README.md, cli-sign). */
#define CHUNK_SIZE (128 * 1024)
#define N_CHUNKS 4

typedef struct {
	guint8 *data;
	gssize len; /* bytes read; 0 at the end; -1 on a read error (err) */
	int err;
} Chunk;

typedef struct {
	int fd;
	GAsyncQueue *empty; /* Chunk*: to fill */
	GAsyncQueue *full;  /* Chunk*: filled, in file order */
	gint stop;
} Reader;

/* Fills the empty chunks in order until the end of the file, an error or stop; the
 * last chunk given (len <= 0) says which. */
static gpointer
reader_run(gpointer p)
{
	Reader *r = p;

	for (;;) {
		Chunk *c = g_async_queue_pop(r->empty);
		gssize n = 0;

		if (!g_atomic_int_get(&r->stop)) {
			do
				n = read(r->fd, c->data, CHUNK_SIZE);
			while (n < 0 && errno == EINTR);
		}
		c->len = n;
		c->err = n < 0 ? errno : 0;
		g_async_queue_push(r->full, c);
		if (n <= 0)
			return NULL;
	}
}

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

/* The file at doc->path through a reader thread. */
static gboolean
hash_file(SignDoc *doc, Digests *d, GCancellable *cancellable, GError **error)
{
	Reader r = { 0 };
	Chunk chunks[N_CHUNKS];
	GThread *thread;
	gboolean ok = FALSE, crypto = FALSE;
	int read_err = 0;

	r.fd = open(doc->path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, e == ENOENT ? SDR_ERROR_NOT_FOUND : SDR_ERROR_IO,
		            _("Cannot read “%s”: %s"), doc->path, g_strerror(e));
		return FALSE;
	}
	(void)posix_fadvise(r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r.empty = g_async_queue_new();
	r.full = g_async_queue_new();
	for (guint i = 0; i < N_CHUNKS; i++) {
		chunks[i].data = g_malloc(CHUNK_SIZE);
		g_async_queue_push(r.empty, &chunks[i]);
	}
	thread = g_thread_new("sdr-read", reader_run, &r);
	for (;;) {
		Chunk *c = g_async_queue_pop(r.full);

		if (c->len <= 0) {
			ok = c->len == 0;
			read_err = c->err;
			break; /* the reader has returned */
		}
		crypto = !digests_update(d, doc, c->data, (gsize)c->len);
		if (crypto || g_cancellable_is_cancelled(cancellable)) {
			/* The reader stops at its next chunk: give it one. */
			g_atomic_int_set(&r.stop, 1);
			g_async_queue_push(r.empty, c);
			while ((c = g_async_queue_pop(r.full))->len > 0)
				;
			break;
		}
		g_async_queue_push(r.empty, c);
	}
	g_thread_join(thread);
	for (guint i = 0; i < N_CHUNKS; i++)
		g_free(chunks[i].data);
	g_async_queue_unref(r.empty);
	g_async_queue_unref(r.full);
	close(r.fd);
	if (crypto) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return FALSE;
	}
	if (!ok && read_err == 0) /* stopped: cancelled */
		return !g_cancellable_set_error_if_cancelled(cancellable, error);
	if (!ok) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read “%s”: %s"), doc->path,
		            g_strerror(read_err));
		return FALSE;
	}
	return TRUE;
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
