/* sdr-actes.h - ACTES (acts sent to the prefecture through S²LOW): a detached
 * PKCS#7/CMS signature in PEM per file, as S²LOW takes in acte_pdf_file_sign and
 * acte_attachments_sign[] and checks with
 * `openssl smime -verify -inform PEM -noverify -in SIG -content FILE`.
 */
#pragma once

#include "sdr-signer.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	SdrHashAlg hash; /* SHA-256 by default */
	gboolean pades;  /* --pades: a PAdES signature inside the PDF instead */
} SdrActesOptions;

void sdr_actes_options_init(SdrActesOptions *options);

/* "acte.pdf" -> "acte.pdf.sig" (g_free). */
char *sdr_actes_default_output(const char *in_path);

/* PEM ("-----BEGIN PKCS7-----") detached CMS over content. */
GBytes *sdr_actes_sign_bytes(SdrSigner *signer, GBytes *content, const SdrActesOptions *options,
                             GError **error);

/* Streams in_path (any size) and writes the PEM signature to out_path atomically
 * (NULL = sdr_actes_default_output(in_path)). With options->pades: signs the PDF
 * with PAdES into out_path (NULL = "NAME-signe.pdf"). */
gboolean sdr_actes_sign_file(SdrSigner *signer, const char *in_path, const char *out_path,
                             const SdrActesOptions *options, GError **error);

/* PEM armour of a DER CMS (also used by tests). */
char *sdr_actes_pem_armour(GBytes *der);

G_END_DECLS
