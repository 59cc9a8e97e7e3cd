/* fuzz-probe-report.c - the report sinadur-p11-probe sends the token layer
 * (pkcs11/sdr-probe-report.c), parsed by sdr_probe_report_parse() from whatever a
 * module left in the probe's output. A report accepted must format back to exactly
 * the input (the format is canonical) and its text fields must be UTF-8 without
 * control characters within their size; an input over SDR_PROBE_REPORT_MAX is
 * always refused. */
#include "sdr-probe-report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max || !g_utf8_validate(s, (gssize)n, NULL))
		abort();
	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SdrProbeReport report;
	GError *error = NULL;
	char *again;

	memset(&report, 0x5a, sizeof report);
	if (!sdr_probe_report_parse((const char *)data, size, &report, &error)) {
		if (error == NULL)
			abort();
		g_error_free(error);
		return 0;
	}
	if (size > SDR_PROBE_REPORT_MAX || (guint)report.stage >= SDR_PROBE_N_STAGES ||
	    report.slots > SDR_PROBE_SLOTS_MAX || report.cryptoki_major > 255 ||
	    report.cryptoki_minor > 255)
		abort();
	check_text(report.manufacturer, SDR_PROBE_NAME_MAX);
	check_text(report.description, SDR_PROBE_NAME_MAX);
	check_text(report.detail, SDR_PROBE_DETAIL_MAX);
	again = sdr_probe_report_format(&report);
	if (strlen(again) != size || memcmp(again, data, size) != 0)
		abort();
	g_free(again);
	return 0;
}
