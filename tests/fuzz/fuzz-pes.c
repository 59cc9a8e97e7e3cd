/* fuzz-pes.c - the PES path: checks, byte scanner, streaming parse, exclusive C14N,
 * signing (EC key made once) and verification of the input and of what was signed. */
#include "sdr-pes-verify.h"
#include "sdr-pes.h"
#include "sdr-verify-report.h"

#include <openssl/ec.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SdrSigner *
fuzz_signer(void)
{
	static SdrSigner *signer;

	if (signer == NULL) {
		EVP_PKEY *key = EVP_EC_gen("P-256");
		X509 *cert = X509_new();
		X509_NAME *name = X509_get_subject_name(cert);

		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"fuzz",
		                           -1, -1, 0);
		X509_set_issuer_name(cert, name);
		ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
		X509_gmtime_adj(X509_getm_notBefore(cert), 0);
		X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
		X509_set_pubkey(cert, key);
		X509_sign(cert, key, EVP_sha256());
		signer = sdr_signer_new_from_key(key, cert, NULL);
		EVP_PKEY_free(key);
		X509_free(cert);
	}
	return signer;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GBytes) in = g_bytes_new(data, size);
	g_autoptr(GBytes) out = NULL;
	g_autoptr(SdrVerifyReport) r1 = NULL;
	g_autoptr(SdrVerifyReport) r2 = NULL;
	g_autoptr(SdrPesSignResult) result = NULL;
	SdrPesOptions o;

	(void)sdr_pes_check(data, size, NULL);
	r1 = sdr_pes_verify_bytes(in, "fuzz.xml", NULL, NULL);
	sdr_pes_options_init(&o);
	o.city = "Plouézec";
	out = sdr_pes_sign_bytes(fuzz_signer(), in, &o, &result, NULL);
	if (out != NULL) {
		r2 = sdr_pes_verify_bytes(out, "fuzz.xml", NULL, NULL);
		/* What we signed must parse and verify back (chain aside). */
		if (r2 == NULL)
			__builtin_trap();
		for (guint i = 0; i < r2->signatures->len; i++) {
			SdrSignatureResult *s = g_ptr_array_index(r2->signatures, i);
			const char *target = g_hash_table_lookup(s->details, "bordereau");
			gboolean ours = FALSE;

			/* Only the signatures made now: the input may carry broken ones. */
			for (guint j = 0; target != NULL && j < result->signed_ids->len; j++)
				ours |= g_strcmp0(g_ptr_array_index(result->signed_ids, j),
				                  target) == 0;
			if (ours && s->verdict == SDR_VERDICT_INVALID)
				__builtin_trap();
		}
	}
	return 0;
}
