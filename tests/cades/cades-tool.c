/* cades-tool.c - test driver for the CAdES engine: sign and verify from the
 * shell so integration tests can compare with openssl and ades-lint.
 *
 *   cades-tool sign KEY CERT CHAIN IN OUT [--hash H] [--pss] [--attached]
 *                   [--level B|T|LT] [--tsa URL] [--trust PEM] [--no-signing-time]
 *   cades-tool verify FILE [--content F] [--trust PEM] [--online] [--at ISO]
 *       prints "verdict=... level=... reasons=CODE,CODE ..." per signature
 *   cades-tool verify-digest FILE CONTENT [--trust PEM]  (sdr_cms_verify_digest)
 */
#include "sdr-cms-verify.h"
#include "sdr-cms.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-time.h"
#include "sdr-trust.h"
#include "sdr-verify.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

static const char *
verdict_name(SdrVerdict v)
{
	return v == SDR_VERDICT_VALID     ? "VALID"
	       : v == SDR_VERDICT_INVALID ? "INVALID"
	                                  : "INDETERMINATE";
}

static void
print_result(const SdrSignatureResult *r)
{
	printf("verdict=%s level=%s digest=%s", verdict_name(r->verdict), sdr_level_name(r->level),
	       r->digest_algorithm != NULL ? r->digest_algorithm : "-");
	printf(" reasons=");
	for (guint i = 0; i < r->reasons->len; i++) {
		const SdrReason *x = g_ptr_array_index(r->reasons, i);

		printf("%s%s", i ? "," : "", sdr_reason_code_name(x->code));
	}
	printf(" warnings=");
	for (guint i = 0; i < r->warnings->len; i++) {
		const SdrReason *x = g_ptr_array_index(r->warnings, i);

		printf("%s%s", i ? "," : "", sdr_reason_code_name(x->code));
	}
	printf(" signing_time=%s timestamp=%s signer=%s\n", r->claimed_signing_time ? "yes" : "no",
	       r->timestamp_time ? "yes" : "no", r->signer != NULL ? "yes" : "no");
	for (guint i = 0; i < r->reasons->len; i++) {
		const SdrReason *x = g_ptr_array_index(r->reasons, i);

		fprintf(stderr, "  reason: %s\n", x->message);
	}
	for (guint i = 0; i < r->warnings->len; i++) {
		const SdrReason *x = g_ptr_array_index(r->warnings, i);

		fprintf(stderr, "  warning: %s\n", x->message);
	}
}

static const char *
opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static gboolean
flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return TRUE;
	return FALSE;
}

static int
fail(GError *error)
{
	fprintf(stderr, "error: %s: %s\n", sdr_error_code_name(error->code), error->message);
	g_error_free(error);
	return 2;
}

static int run(int argc, char **argv, X509_STORE *store);

int
main(int argc, char **argv)
{
	GError *error = NULL;
	X509_STORE *store = NULL;
	const char *trust;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: cades-tool sign|verify ...\n");
		return 64;
	}
	trust = opt(argc, argv, "--trust");
	if (trust != NULL) {
		const char *anchors[] = { trust, NULL };

		store = sdr_trust_store_new(anchors, FALSE, &error);
		if (store == NULL)
			return fail(error);
	}
	rc = run(argc, argv, store);
	X509_STORE_free(store);
	return rc;
}

static int
run(int argc, char **argv, X509_STORE *store)
{
	GError *error = NULL;

	if (strcmp(argv[1], "sign") == 0 && argc >= 7) {
		g_autoptr(SdrSigner) signer =
		        sdr_signer_new_from_files(argv[2], argv[3], argv[4], &error);
		SdrCmsOptions o;
		g_autoptr(GFile) f = g_file_new_for_path(argv[5]);
		g_autoptr(GInputStream) in = NULL;
		g_autoptr(GBytes) out = NULL;
		const char *h = opt(argc, argv, "--hash");
		const char *lvl = opt(argc, argv, "--level");

		if (signer == NULL)
			return fail(error);
		sdr_cms_options_init(&o);
		if (h != NULL && !sdr_hash_from_name(h, &o.hash))
			return 64;
		if (lvl != NULL && !sdr_target_level_from_name(lvl, &o.level))
			return 64;
		o.tsa_url = opt(argc, argv, "--tsa");
		o.trust = store;
		o.signing_time = !flag(argc, argv, "--no-signing-time");
		if (flag(argc, argv, "--pss") &&
		    !sdr_signer_set_scheme(signer, SDR_SIG_RSA_PSS, &error))
			return fail(error);
		in = G_INPUT_STREAM(g_file_read(f, NULL, &error));
		if (in == NULL)
			return fail(error);
		out = sdr_cms_sign_stream(signer, in, flag(argc, argv, "--attached"), &o, NULL,
		                          &error);
		if (out == NULL)
			return fail(error);
		if (!sdr_file_write_atomic(argv[6], g_bytes_get_data(out, NULL),
		                           g_bytes_get_size(out), &error))
			return fail(error);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0) {
		SdrVerifyOptions o = { 0 };
		g_autoptr(SdrVerifyReport) rep = NULL;
		g_autoptr(GDateTime) at = NULL;
		const char *ats = opt(argc, argv, "--at");

		o.trust = store;
		o.content_path = opt(argc, argv, "--content");
		o.online = flag(argc, argv, "--online");
		if (ats != NULL) {
			at = sdr_time_parse_iso8601(ats);
			o.at = at;
		}
		rep = sdr_verify_file(argv[2], &o, &error);
		if (rep == NULL)
			return fail(error);
		for (guint i = 0; i < rep->signatures->len; i++)
			print_result(g_ptr_array_index(rep->signatures, i));
		for (guint i = 0; i < rep->notes->len; i++)
			fprintf(stderr, "  note: %s\n",
			        ((SdrReason *)g_ptr_array_index(rep->notes, i))->message);
		printf("overall=%s\n", verdict_name(sdr_verify_report_overall(rep)));
		return 0;
	}
	if (strcmp(argv[1], "verify-digest") == 0 && argc >= 4) {
		SdrVerifyOptions o = { 0 };
		g_autoptr(GBytes) cms = sdr_file_read(argv[2], 64 * 1024 * 1024, &error);
		g_autoptr(SdrSignatureResult) r = sdr_signature_result_new("CAdES");
		g_autoptr(GFile) f = g_file_new_for_path(argv[3]);
		g_autoptr(GInputStream) in = NULL;
		SdrHashAlg alg;
		guint8 d[64];
		gsize dl = 0;

		o.trust = store;
		if (cms == NULL || !sdr_cms_peek_digest_alg(cms, &alg, &error))
			return fail(error);
		in = G_INPUT_STREAM(g_file_read(f, NULL, &error));
		if (in == NULL || !sdr_digest_stream(in, alg, d, &dl, NULL, &error))
			return fail(error);
		if (!sdr_cms_verify_digest(cms, alg, d, dl, &o, r, &error))
			return fail(error);
		print_result(r);
		return 0;
	}
	fprintf(stderr, "usage: cades-tool sign|verify ...\n");
	return 64;
}
