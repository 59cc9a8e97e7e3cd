/* fuzz-http-header.c - the response header lines a trusted-list server sends
 * (formats/sdr-http.c: ETag, Last-Modified kept for conditional requests): each
 * line of the input through sdr_http_header_value(); a value must come out
 * non-empty, printable ASCII, no longer than the line. */
#include "sdr-http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_value(const char *value, size_t line_len)
{
	size_t n = strlen(value);

	if (n == 0 || n > line_len)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "ETag", "Last-Modified", "X" };
	size_t start = 0;

	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl != NULL ? (size_t)(nl - (data + start)) + 1 : size - start;

		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
			char *v = NULL;

			if (sdr_http_header_value((const char *)data + start, len, names[k], &v)) {
				check_value(v, len);
				g_free(v);
			}
		}
		start += len;
	}
	return 0;
}
