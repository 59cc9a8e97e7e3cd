/* sdr-marche.h - public tenders (marchés publics, arrêté du 22 mars 2019): PAdES for
 * PDF files, a detached XAdES "jeton" "NAME - Signature 1.xml" for other files (or a
 * detached CAdES "NAME.p7s"), after checking that the certificate is valid today and
 * meant for signatures (keyUsage nonRepudiation).
 */
#pragma once

#include "sdr-cms.h"
#include "sdr-signer.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gboolean cades;       /* --cades: CAdES .p7s instead of XAdES for non-PDF files */
	SdrTargetLevel level; /* B by default */
	const char *tsa_url;  /* needed from T */
	X509_STORE *trust;    /* chain building for LT */
	GDateTime *now;       /* certificate check time; NULL = now */
} SdrMarcheOptions;

void sdr_marche_options_init(SdrMarcheOptions *options);

/* What a tender document is signed with. */
typedef enum {
	SDR_MARCHE_PADES, /* a PDF (sdr_pades_check_is_pdf): the signature inside it */
	SDR_MARCHE_XADES, /* any other file: a detached XAdES jeton */
	SDR_MARCHE_CADES, /* any other file with cades: a detached CAdES .p7s */
} SdrMarcheFormat;

/* The tender profile's one choice, for the sign engine (agent/) and the functions below:
 * head/len are the document's first bytes (up to SDR_PDF_MAGIC_WINDOW), name and
 * mime_type (may be NULL) the hints that sdr_pades_check_is_pdf checks against them
 * (its error when a ".pdf" is not a PDF). */
gboolean sdr_marche_choose_format(const guint8 *head, gsize len, const char *name,
                                  const char *mime_type, gboolean cades, SdrMarcheFormat *format,
                                  GError **error);

/* SDR_ERROR_CERT_EXPIRED when cert is not valid at now (NULL = now),
 * SDR_ERROR_CERT_USAGE when it is not a signature certificate (no keyUsage
 * nonRepudiation). French message. */
gboolean sdr_marche_check_certificate(X509 *cert, GDateTime *now, GError **error);

/* Signs several files with one certificate check; stops at the first error. Each
 * output is next to its input: "NAME-signe.pdf" (PAdES), "NAME - Signature N.xml"
 * (XAdES) or "NAME.p7s" (CAdES); *out_paths (may be NULL) receives the outputs
 * written (char*). */
gboolean sdr_marche_sign_files(SdrSigner *signer, const char *const *inputs,
                               const SdrMarcheOptions *options, GPtrArray **out_paths,
                               GError **error);

/* In memory (bridge): returns the signed PDF or the signature document; *out_name
 * (may be NULL) receives the file name to give it. */
GBytes *sdr_marche_sign_bytes(SdrSigner *signer, GBytes *document, const char *name,
                              const SdrMarcheOptions *options, char **out_name, GError **error);

G_END_DECLS
