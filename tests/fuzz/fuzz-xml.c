/* fuzz-xml.c - XML signature verification (sdr_xades_verify_data) over the input
 * bytes: safe parsing, Id registration, references, KeyInfo, XAdES properties. */
#include "sdr-verify-report.h"
#include "sdr-xades-verify.h"
#include "sdr-xades.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GBytes) xml = g_bytes_new(data, size);
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	SdrVerifyOptions options = { 0 };

	/* No base_dir: detached references are never opened while fuzzing. */
	report = sdr_xades_verify_data(xml, "fuzz.xml", NULL, &options, &error);
	if (report != NULL)
		(void)sdr_verify_report_overall(report);
	return 0;
}
