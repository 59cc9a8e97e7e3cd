/* sdr-pades.h - PAdES baseline signatures (EN 319 142-1): signing PDF files with an
 * incremental update (B-B, B-T, B-LT with a /DSS, B-LTA with a document timestamp).
 * Verification is sdr-pades-verify.h.
 */
#pragma once

#include "sdr-cms.h"
#include "sdr-signer.h"

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef struct {
	SdrHashAlg hash;      /* SHA-256 by default */
	SdrTargetLevel level; /* B by default */
	const char *tsa_url;  /* needed from T */
	X509_STORE *trust;    /* chain building and revocation (LT, LTA) */
	/* Visible signature: on page (1-based) in rect {x, y, width, height} (points, page
	 * user space). Invisible signatures are attached to page (1 by default). */
	gboolean visible;
	int page;
	double rect[4];
	const char *reason;      /* /Reason and on the stamp; may be NULL */
	const char *location;    /* /Location and on the stamp; may be NULL */
	const char *image_path;  /* PNG drawn on the stamp; may be NULL */
	GBytes *image;           /* or in memory; image_path wins */
	const char *field_name;  /* NULL: "Signature1", "Signature2"... */
	GDateTime *signing_time; /* /M and the stamp date; NULL = now */
} SdrPadesOptions;

void sdr_pades_options_init(SdrPadesOptions *options);

/* ---- The one "is this a PDF" rule of the project (PAdES, the tender profile, the
 * sign engine) ---- */

/* "%PDF-" may come after other bytes, within the first 1024, as PDF readers accept. */
#define SDR_PDF_MAGIC_WINDOW 1024

/* TRUE when "%PDF-" lies within the first SDR_PDF_MAGIC_WINDOW bytes of head (len: what
 * is available, the first bytes of the document or all of a short one). */
gboolean sdr_pades_is_pdf(const guint8 *head, gsize len);

/* The bytes decide; name (a file name) and mime_type (a declared media type), either may
 * be NULL, are only hints checked against them. *is_pdf receives the bytes' answer. FALSE
 * with SDR_ERROR_UNSUPPORTED (French message naming name) when a hint says PDF (".pdf",
 * "application/pdf") and the bytes do not: such a document is refused, never signed as
 * something else. */
gboolean sdr_pades_check_is_pdf(const guint8 *head, gsize len, const char *name,
                                const char *mime_type, gboolean *is_pdf, GError **error);

/* "dir/NAME-signe.pdf" for "dir/NAME.pdf". */
char *sdr_pades_default_output(const char *input);

/* Signs input into output (NULL: sdr_pades_default_output(input); output == input signs in
 * place). The original bytes are copied unchanged and the signature is appended as an
 * incremental update; the output is written atomically (nothing is left on failure).
 * Memory use does not grow with the file size. *out_path (may be NULL) receives the path
 * written. */
gboolean sdr_pades_sign_file(SdrSigner *signer, const char *input, const SdrPadesOptions *options,
                             const char *output, char **out_path, GError **error);

/* sdr_pades_sign_file() for a caller that has hashed the whole input already (the
 * agent's consent pass): prefix is a digest context with options->hash fed exactly the
 * prefix_len bytes of input, not finalised (it is copied, not changed). The original
 * bytes are then only copied; a file whose size is no longer prefix_len is refused. */
gboolean sdr_pades_sign_file_prehashed(SdrSigner *signer, const char *input,
                                       const SdrPadesOptions *options, const EVP_MD_CTX *prefix,
                                       guint64 prefix_len, const char *output, char **out_path,
                                       GError **error);

/* What sdr_pades_sign_file() checks before signing, without signing (the agent calls it
 * before asking for the PIN): the options, and input opens as a PDF with the page of the
 * signature (SDR_ERROR_PARSE for an empty, truncated or broken file,
 * SDR_ERROR_UNSUPPORTED for an encrypted one, SDR_ERROR_BAD_REQUEST for a page out of
 * range). */
gboolean sdr_pades_check_file(const char *input, const SdrPadesOptions *options, GError **error);

/* Extends an already signed PDF (sinadur extend): incremental updates only, the input's
 * bytes are the output's prefix. Below options->current T: a document timestamp; below
 * LT: a /DSS with every signer's chain and OCSP/CRL (and the timestamps' TSA, best
 * effort); LTA: a document timestamp after it. Written atomically to output. */
gboolean sdr_pades_extend_file(const char *input, const SdrExtendOptions *options,
                               const char *output, GError **error);

/* The same on memory (bridge): returns the signed document. */
GBytes *sdr_pades_sign_bytes(SdrSigner *signer, GBytes *pdf, const SdrPadesOptions *options,
                             GError **error);

G_END_DECLS
