/* fuzz-cms.c - CMS verification on arbitrary bytes: parse, walk every SignerInfo,
 * peek the digest algorithm, and the DER OCSP extraction. Must never crash. */
#include "sdr-cms-private.h"
#include "sdr-cms-verify.h"
#include "sdr-cms.h"
#include "sdr-verify-report.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GBytes *b = g_bytes_new_static(data, size);
	GBytes *content = g_bytes_new_static("Hello World", 11);
	GInputStream *in = g_memory_input_stream_new_from_bytes(content);
	SdrVerifyReport *rep;
	SdrSignatureResult *r = sdr_signature_result_new("PAdES");
	GPtrArray *ocsp;
	SdrHashAlg alg;
	guint8 digest[32] = { 0 };

	rep = sdr_cms_verify(b, in, "fuzz.p7s", NULL, NULL);
	sdr_verify_report_free(rep);
	(void)sdr_cms_peek_digest_alg(b, &alg, NULL);
	(void)sdr_cms_verify_digest(b, SDR_HASH_SHA256, digest, sizeof digest, NULL, r, NULL);
	ocsp = sdr_cms_der_get_ocsp(data, size);
	g_ptr_array_unref(ocsp);
	sdr_signature_result_free(r);
	g_object_unref(in);
	g_bytes_unref(content);
	g_bytes_unref(b);
	return 0;
}
