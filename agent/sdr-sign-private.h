/* sdr-sign-private.h - the "sign" batch: the engine (sdr-engine.c) and the format
 * adapters (sdr-sign-formats.c) share these, and the outputs (sdr-sign-output.c),
 * which both use (agent/ only).
 *
 * The engine reads each document once, runs the preflight, asks one consent and one
 * login, then calls the adapter of the request's format for each document and
 * publishes its output atomically. An adapter knows one format: its options, what it
 * checks before the PIN, how it signs and its default output name.
 */
#pragma once

#include "sdr-cms.h"
#include "sdr-handlers-private.h"
#include "sdr-pades.h"
#include "sdr-signer.h"

#include <openssl/evp.h>

G_BEGIN_DECLS

#define SDR_SIGN_MAX_NAME 255

typedef struct {
	char *name; /* base name shown to people */
	char *path; /* input file (CLI), or NULL */
	char *mime;
	GBytes *data; /* bridge input, or NULL */
	guint64 size;
	/* The first bytes, from the hashing pass: what decides "is this a PDF". */
	guint8 head[SDR_PDF_MAGIC_WINDOW];
	gsize head_len;
	char sha256[65];
	/* Digest of the content with the signature's hash, from the same pass that
	 * computed sha256: a detached CMS signs exactly what the consent showed. */
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize digest_len;
	/* A file: the same digest's state before it was finalised, so that PAdES
	 * continues it over the incremental update instead of reading the file again. */
	EVP_MD_CTX *state;
	/* Planned before any prompt (see "Preflight"). */
	GError *refused;       /* cannot be signed: said before the PIN, never signed */
	char *signed_output;   /* an output of an earlier run signs it already: skipped */
	char *out_path;        /* CLI: the name wanted (default, --output or the input) */
	char *out_tmp;         /* CLI: reserved temporary file next to out_path */
	gboolean out_replace;  /* --in-place or --overwrite: out_path may be replaced */
	gboolean out_numbered; /* a default name: the next free number when taken */
} SignDoc;

typedef struct {
	SdrContext *ctx;
	const char *format;
	const char *mode; /* "detached", "attached", "enveloped", "enveloping" or NULL */
	SdrHashAlg hash;
	SdrTargetLevel level;
	char *tsa_url;
	X509_STORE *trust;
	JsonObject *options; /* borrowed: the request's "options" (never NULL) */
	const char *output;
	const char *output_dir;
	gboolean in_place;
	gboolean overwrite;
	SdrSigner *signer; /* borrowed */
	const SdrCertInfo *cert;
	char *signer_name;
	/* A token (not the CLI's file signer): token work takes the core's token
	 * lock, only around listing, login and each signature; held = the token
	 * manager stays loaded between them (sdr_context_hold_token). */
	gboolean uses_token;
	gboolean held;
} SignJob;

/* What a document becomes: decides the default output name, the checks made before
 * the PIN and the format code called (sdr_sign_one). */
typedef enum {
	KIND_CADES_DETACHED,
	KIND_CADES_ATTACHED,
	KIND_ACTES_PEM,
	KIND_PADES,
	KIND_XADES_DETACHED,
	KIND_XADES_ENVELOPED,
	KIND_XADES_ENVELOPING,
	KIND_PES,
} SignKind;

/* ---- The one pass over a document (sdr-sign-hash.c), for the engine ---- */

/* Reads doc->path (a reader thread ahead of the hash) or doc->data once: fills size,
 * head, sha256, digest (with hash) and, for a file, state. Cancellable between two
 * buffers (G_IO_ERROR_CANCELLED). */
gboolean sdr_sign_hash_doc(SignDoc *doc, SdrHashAlg hash, GCancellable *cancellable,
                           GError **error);

/* ---- Shared by the engine and the adapters (sdr-sign-output.c) ---- */

/* A fresh stream over the document (its file or its bytes). */
GInputStream *sdr_sign_doc_open(SignDoc *doc, GError **error);
/* The n-th (n >= 2) free-name candidate for a default output name that is taken. */
char *sdr_sign_numbered_path(const char *path, guint n);
/* Publishes doc->out_tmp (written by the format) under doc->out_path: see there. */
gboolean sdr_sign_publish_path(const char *tmp, const char *path, gboolean numbered,
                               gboolean replace, char **dest_out, GError **error);
gboolean sdr_sign_publish_output(SignDoc *doc, JsonObject *result, GError **error);
/* Gives out: written atomically and published (CLI) or put in result as base64 under
 * member, with name as "output_name" (bridge). */
gboolean sdr_sign_emit_output(SignJob *job, SignDoc *doc, const char *member, const char *name,
                              GBytes *out, JsonObject *result, GError **error);
/* A [signature] configuration string, or NULL when absent or empty (g_free). */
char *sdr_sign_config_string(SignJob *job, const char *key);

/* ---- The adapters (sdr-sign-formats.c), for the engine ---- */

/* What doc becomes with the job's format and mode: SDR_ERROR_BAD_REQUEST for a mode the
 * format does not take (the whole request), another code for this document only (not a
 * PDF for PAdES, a ".pdf" that is not a PDF: formats/ owns that rule, sdr_pades_check_is_pdf
 * and the tender choice sdr_marche_choose_format). */
gboolean sdr_sign_doc_kind(SignJob *job, SignDoc *doc, SignKind *kind, GError **error);
/* The default output file name (no folder) of a document named name. */
char *sdr_sign_default_output_name(SignKind kind, const char *name);
/* --in-place is refused for formats that do not sign inside the document. */
gboolean sdr_sign_check_in_place(SignJob *job, GError **error);
/* The preflight of the format: what it checks on the content before the PIN. */
gboolean sdr_sign_check_content(SignJob *job, SignDoc *doc, SignKind kind, GError **error);
/* TRUE for a format that has an adapter (cades, xades, pades, pes, actes, marche). */
gboolean sdr_sign_format_known(const char *format);
/* Signs one document with the adapter of job->format (after the login). */
gboolean sdr_sign_one(SignJob *job, SignDoc *doc, JsonObject *result, GError **error);

G_END_DECLS
