/* fuzz-ca-issuers.c - what an AIA caIssuers URL answers (formats/sdr-revocation.c):
 * a DER or PEM certificate or a PKCS#7 certs-only bundle, through
 * sdr_revocation_parse_certs(); every certificate it returns is used once. */
#include "sdr-revocation.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GPtrArray) certs = sdr_revocation_parse_certs(data, size);

	if (certs->len > 16)
		abort();
	for (guint i = 0; i < certs->len; i++) {
		X509 *c = g_ptr_array_index(certs, i);

		(void)X509_check_issued(c, c);
	}
	return 0;
}
