/* fuzz-pdf.c - the PDF reading and verification path on in-memory bytes: the raw
 * signature scanner, the revision/object scanners, qpdf's reader as used for signing
 * and the whole PAdES verifier. */
#include "sdr-pades.h"
#include "sdr-pdf.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	return 0;
}
