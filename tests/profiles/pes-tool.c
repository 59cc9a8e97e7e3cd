/* pes-tool.c - test driver over the profiles API (used by the shell tests and the
 * benchmark):
 *   pes-tool sign KEY CERT IN OUT [--bordereau ID]... [--city C] [--postal P]
 *                 [--country N] [--role R] [--raw N]
 *   pes-tool verify FILE ANCHOR.pem [--online]
 *                                        prints "<id> <VERDICT> <reasons>" per signature,
 *                                        "NOTE <code>" per note; exit 0 when all VALID;
 *                                        --online: revocation asked of the AIA / CDP
 *   pes-tool actes KEY CERT FILE OUT.pem [--pades]   (--pades: OUT is the signed PDF)
 *   pes-tool verify-any FILE ANCHOR.pem [--online]  same output as verify, any format
 *   pes-tool report OUT.html ANCHOR.pem [--online] FILE...
 *   pes-tool marche KEY CERT [--cades] FILE...  prints "OUT <path>" per output
 *   pes-tool raw KEY CERT N              N raw signatures of a digest (benchmark baseline)
 */
#include "sdr-actes.h"
#include "sdr-error.h"
#include "sdr-i18n.h"
#include "sdr-marche.h"
#include "sdr-pades-verify.h"
#include "sdr-pades.h"
#include "sdr-pes-verify.h"
#include "sdr-pes.h"
#include "sdr-report.h"
#include "sdr-trust.h"
#include "sdr-verify.h"
#include "sdr-xades-verify.h"
#include "sdr-xades.h"

#include <stdio.h>
#include <string.h>

static int
fail(GError *error)
{
	fprintf(stderr, "error: %s (%s)\n", error->message, sdr_error_code_name(error->code));
	return error->code == SDR_ERROR_PROFILE ? 3 : 2;
}

static int
cmd_sign(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	g_autoptr(SdrPesSignResult) result = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	SdrPesOptions o;

	if (argc < 6)
		return 64;
	sdr_pes_options_init(&o);
	for (int i = 6; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--bordereau") == 0)
			g_ptr_array_add(ids, argv[i + 1]);
		else if (strcmp(argv[i], "--city") == 0)
			o.city = argv[i + 1];
		else if (strcmp(argv[i], "--postal") == 0)
			o.postal_code = argv[i + 1];
		else if (strcmp(argv[i], "--country") == 0)
			o.country_name = argv[i + 1];
		else if (strcmp(argv[i], "--role") == 0)
			o.claimed_role = argv[i + 1];
		else
			return 64;
	}
	if (ids->len > 0) {
		g_ptr_array_add(ids, NULL);
		o.bordereaux = (const char *const *)ids->pdata;
	}
	signer = sdr_signer_new_from_files(argv[2], argv[3], NULL, &error);
	if (signer == NULL)
		return fail(error);
	if (!sdr_pes_sign_file(signer, argv[4], argv[5], &o, &result, &error))
		return fail(error);
	for (guint i = 0; i < result->signed_ids->len; i++)
		printf("SIGNED %s\n", (const char *)g_ptr_array_index(result->signed_ids, i));
	for (guint i = 0; i < result->skipped_ids->len; i++)
		printf("SKIPPED %s\n", (const char *)g_ptr_array_index(result->skipped_ids, i));
	return 0;
}

static X509_STORE *
store_for(const char *anchor, GError **error)
{
	const char *anchors[] = { anchor, NULL };

	return sdr_trust_store_new(anchors, FALSE, error);
}

/* Routes by content, as the dispatcher should (PES, PDF, XML, CMS). */
static SdrVerifyReport *
verify_any(const char *path, const SdrVerifyOptions *vo, GError **error)
{
	char head[4096] = { 0 };
	gsize n = 0;
	FILE *f = fopen(path, "rb");

	if (f != NULL) {
		n = fread(head, 1, sizeof(head) - 1, f);
		fclose(f);
	}
	if (sdr_pes_detect((const guint8 *)head, n))
		return sdr_pes_verify_file(path, vo, error);
	if (n >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return sdr_pades_verify_file(path, vo, error);
	if (n > 0 && (head[0] == '<' || memcmp(head, "\xef\xbb\xbf<", 4) == 0))
		return sdr_xades_verify_file(path, vo, error);
	return sdr_verify_file(path, vo, error);
}

static int
cmd_verify(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	SdrVerifyOptions vo = { 0 };
	int rc = 0;

	if (argc < 4)
		return 64;
	vo.online = argc > 4 && strcmp(argv[4], "--online") == 0;
	vo.trust = store_for(argv[3], &error);
	if (vo.trust == NULL)
		return fail(error);
	report = strcmp(argv[1], "verify-any") == 0 ? verify_any(argv[2], &vo, &error)
	                                            : sdr_pes_verify_file(argv[2], &vo, &error);
	X509_STORE_free(vo.trust);
	if (report == NULL)
		return fail(error);
	for (guint i = 0; i < report->signatures->len; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);
		const char *v = r->verdict == SDR_VERDICT_VALID     ? "VALID"
		                : r->verdict == SDR_VERDICT_INVALID ? "INVALID"
		                                                    : "INDETERMINATE";

		printf("%s %s %s", r->id,
		       (const char *)g_hash_table_lookup(r->details, "bordereau"), v);
		for (guint j = 0; j < r->reasons->len; j++) {
			SdrReason *reason = g_ptr_array_index(r->reasons, j);

			printf(" %s(%s)", sdr_reason_code_name(reason->code), reason->message);
		}
		printf("\n");
		if (r->verdict != SDR_VERDICT_VALID)
			rc = 1;
	}
	for (guint i = 0; i < report->notes->len; i++) {
		SdrReason *n = g_ptr_array_index(report->notes, i);

		printf("NOTE %s %s\n", sdr_reason_code_name(n->code), n->message);
	}
	return rc;
}

static int
cmd_actes(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	SdrActesOptions o;

	if (argc < 6)
		return 64;
	sdr_actes_options_init(&o);
	o.pades = argc > 6 && strcmp(argv[6], "--pades") == 0;
	signer = sdr_signer_new_from_files(argv[2], argv[3], NULL, &error);
	if (signer == NULL)
		return fail(error);
	if (!sdr_actes_sign_file(signer, argv[4], argv[5], &o, &error))
		return fail(error);
	return 0;
}

static int
cmd_report(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) reports =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sdr_verify_report_free);
	SdrVerifyOptions vo = { 0 };
	gboolean ok;
	int first;

	if (argc < 5)
		return 64;
	vo.trust = store_for(argv[3], &error);
	if (vo.trust == NULL)
		return fail(error);
	first = 4;
	if (strcmp(argv[4], "--online") == 0) {
		vo.online = TRUE;
		first = 5;
	}
	for (int i = first; i < argc; i++) {
		g_autoptr(GError) e = NULL;
		SdrVerifyReport *r = verify_any(argv[i], &vo, &e);

		if (r == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], e != NULL ? e->message : "?");
			r = sdr_verify_report_new(argv[i], "?");
			sdr_verify_report_note(r, SDR_REASON_FORMAT, "%s",
			                       e != NULL ? e->message : "?");
		}
		g_ptr_array_add(reports, r);
	}
	ok = sdr_report_write_html(reports, argv[2], &error);
	X509_STORE_free(vo.trust);
	return ok ? 0 : fail(error);
}

static int
cmd_marche(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	g_autoptr(GPtrArray) inputs = g_ptr_array_new();
	g_autoptr(GPtrArray) outs = NULL;
	SdrMarcheOptions o;
	gboolean ok;

	if (argc < 5)
		return 64;
	sdr_marche_options_init(&o);
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--cades") == 0)
			o.cades = TRUE;
		else
			g_ptr_array_add(inputs, argv[i]);
	}
	g_ptr_array_add(inputs, NULL);
	signer = sdr_signer_new_from_files(argv[2], argv[3], NULL, &error);
	if (signer == NULL)
		return fail(error);
	ok = sdr_marche_sign_files(signer, (const char *const *)inputs->pdata, &o, &outs, &error);
	for (guint i = 0; outs != NULL && i < outs->len; i++)
		printf("OUT %s\n", (const char *)g_ptr_array_index(outs, i));
	return ok ? 0 : fail(error);
}

static int
cmd_raw(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	guint8 digest[32] = { 1, 2, 3 };
	long n;

	if (argc < 5)
		return 64;
	n = strtol(argv[4], NULL, 10);
	signer = sdr_signer_new_from_files(argv[2], argv[3], NULL, &error);
	if (signer == NULL)
		return fail(error);
	for (long i = 0; i < n; i++) {
		g_autoptr(GBytes) s = NULL;

		digest[31] = (guint8)i;
		s = sdr_signer_sign_digest(signer, SDR_HASH_SHA256, digest, 32, &error);
		if (s == NULL)
			return fail(error);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	sdr_i18n_init();
	if (argc < 2)
		return 64;
	if (strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc, argv);
	if (strcmp(argv[1], "verify") == 0 || strcmp(argv[1], "verify-any") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(argv[1], "actes") == 0)
		return cmd_actes(argc, argv);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc, argv);
	if (strcmp(argv[1], "marche") == 0)
		return cmd_marche(argc, argv);
	if (strcmp(argv[1], "raw") == 0)
		return cmd_raw(argc, argv);
	return 64;
}
