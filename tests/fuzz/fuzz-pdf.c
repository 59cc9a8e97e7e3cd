/* fuzz-pdf.c - the PDF reading and verification path on in-memory bytes: the raw
 * signature scanner, the revision/object scanners, qpdf's reader as used for signing
 * and the whole PAdES verifier; and, for inputs qpdf opens, the signing path (update
 * writer, field/widget/page rewriting) with an in-memory EC key: our own signature in
 * the output must never verify INVALID. */
#include "sdr-pades-verify.h"
#include "sdr-pades.h"
#include "sdr-pdf.h"
#include "sdr-signer.h"
#include "sdr-verify-report.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A throw-away self-signed P-256 certificate, made once. */
static SdrSigner *
fuzz_signer(void)
{
	static SdrSigner *signer;
	EVP_PKEY *key;
	X509 *cert;
	X509_NAME *name;

	if (signer != NULL) {
		return signer;
	}
	key = EVP_EC_gen("P-256");
	cert = X509_new();
	if (key == NULL || cert == NULL) {
		abort();
	}
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1,
	                           0);
	X509_set_issuer_name(cert, name);
	X509_set_pubkey(cert, key);
	if (X509_sign(cert, key, EVP_sha256()) <= 0) {
		abort();
	}
	signer = sdr_signer_new_from_key(key, cert, NULL);
	EVP_PKEY_free(key);
	X509_free(cert);
	if (signer == NULL) {
		abort();
	}
	return signer;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GBytes) bytes = g_bytes_new(data, size);
	g_autoptr(GPtrArray) sigs = sdr_pdf_scan_signatures(data, size);
	g_autoptr(GArray) revs = sdr_pdf_scan_revisions(data, size);
	g_autoptr(GPtrArray) objs = sdr_pdf_scan_objects(data, size, 0, size);
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autoptr(SdrPdfDoc) doc = NULL;
	const int pages[] = { 0, -1 };
	SdrVerifyOptions options = { 0 };

	doc = sdr_pdf_doc_open_memory(data, size, pages, &error);
	g_clear_error(&error);
	report = sdr_pades_verify_bytes(bytes, "fuzz.pdf", &options, &error);
	g_clear_error(&error);
	if (doc != NULL) {
		g_autoptr(GBytes) out = sdr_pades_sign_bytes(fuzz_signer(), bytes, NULL, &error);

		if (out != NULL) {
			g_autoptr(SdrVerifyReport) again =
			        sdr_pades_verify_bytes(out, "signed.pdf", &options, &error);
			gboolean ours = FALSE;

			/* Our signature covers the whole output: it may be INDETERMINATE (no
			 * trust anchors), never INVALID. */
			for (guint i = 0; again != NULL && i < again->signatures->len; i++) {
				SdrSignatureResult *r = g_ptr_array_index(again->signatures, i);
				const char *whole =
				        r->details != NULL
				                ? g_hash_table_lookup(r->details,
				                                      "covers_whole_document")
				                : NULL;

				if (g_strcmp0(whole, "true") == 0 && r->signer != NULL) {
					ours = TRUE;
					if (r->verdict == SDR_VERDICT_INVALID) {
						abort();
					}
				}
			}
			if (!ours) {
				abort();
			}
		}
	}
	return 0;
}
