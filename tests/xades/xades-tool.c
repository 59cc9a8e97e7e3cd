/* xades-tool.c - a test driver for formats/sdr-xades (file keys only).
 *
 *   xades-tool sign KEY CERT CHAIN|- MODE INPUT [OUTPUT|-] [options]
 *       MODE: detached | enveloped | enveloping
 *       --level B|T|LT  --tsa URL  --trust PEM  --pss  --hash sha256|sha384|sha512
 *       --role TEXT --city TEXT --policy URN --policy-hash B64 --commitment URI
 *       --element ID (enveloped: sign that element, signature appended to it)
 *       --v111 (XAdES 1.1.1, prefix xad: the PES profile's forms) --sig-id ID
 *       prints the path written
 *   xades-tool verify FILE [--content DATA] [--trust PEM] [--at ISO8601] [--online]
 *       prints one line per signature: VERDICT LEVEL CODE,CODE... ; exit 0 when
 *       every signature is VALID, 1 INVALID, 2 INDETERMINATE, 3 error
 */
#include "sdr-error.h"
#include "sdr-signer.h"
#include "sdr-time.h"
#include "sdr-trust.h"
#include "sdr-verify-report.h"
#include "sdr-xades-verify.h"
#include "sdr-xades.h"
#include "sdr-xml.h"

#include <stdio.h>
#include <string.h>

static const char *
opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	}
	return NULL;
}

static gboolean
flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return TRUE;
	}
	return FALSE;
}

static X509_STORE *
trust_from(const char *pem, GError **error)
{
	const char *anchors[] = { pem, NULL };

	if (pem == NULL)
		return NULL;
	return sdr_trust_store_new(anchors, FALSE, error);
}

/* Enveloped signature of one element (the PES way), through sdr_xades_sign_node. */
static gboolean
sign_element(SdrSigner *signer, const char *input, const char *id, const SdrXadesOptions *o,
             const char *output, char **out_path, GError **error)
{
	SdrXmlLimits limits = { 0, 0, TRUE };
	g_autoptr(xmlDoc) doc = sdr_xml_parse_file(input, &limits, error);
	g_autoptr(GBytes) bytes = NULL;
	xmlNode *target;

	if (doc == NULL || !sdr_xml_register_ids(doc, NULL, "Id", NULL, error))
		return FALSE;
	target = sdr_xml_find_id(doc, id);
	if (target == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, "no element with Id %s", id);
		return FALSE;
	}
	if (sdr_xades_sign_node(signer, doc, target, target, o, error) == NULL)
		return FALSE;
	bytes = sdr_xml_serialize(doc, error);
	if (bytes == NULL || output == NULL ||
	    !g_file_set_contents(output, g_bytes_get_data(bytes, NULL),
	                         (gssize)g_bytes_get_size(bytes), NULL))
		return FALSE;
	*out_path = g_strdup(output);
	return TRUE;
}

static int
do_sign(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	g_autofree char *out_path = NULL;
	SdrXadesOptions o;
	SdrXadesMode mode;
	X509_STORE *trust = NULL;
	const char *level = opt(argc, argv, "--level");
	const char *hash = opt(argc, argv, "--hash");
	const char *output;
	gboolean ok;

	if (argc < 7) {
		fprintf(stderr, "usage: xades-tool sign KEY CERT CHAIN MODE INPUT [OUTPUT]\n");
		return 3;
	}
	signer = sdr_signer_new_from_files(argv[2], argv[3],
	                                   strcmp(argv[4], "-") == 0 ? NULL : argv[4], &error);
	if (signer == NULL)
		goto fail;
	if (flag(argc, argv, "--pss") && !sdr_signer_set_scheme(signer, SDR_SIG_RSA_PSS, &error))
		goto fail;
	if (strcmp(argv[5], "detached") == 0)
		mode = SDR_XADES_DETACHED;
	else if (strcmp(argv[5], "enveloped") == 0)
		mode = SDR_XADES_ENVELOPED;
	else
		mode = SDR_XADES_ENVELOPING;
	output = argc > 7 && argv[7][0] != '-' ? argv[7] : NULL;
	sdr_xades_options_init(&o);
	if (level != NULL && !sdr_target_level_from_name(level, &o.level)) {
		fprintf(stderr, "bad level %s\n", level);
		return 3;
	}
	if (hash != NULL && !sdr_hash_from_name(hash, &o.hash)) {
		fprintf(stderr, "bad hash %s\n", hash);
		return 3;
	}
	o.tsa_url = opt(argc, argv, "--tsa");
	o.signer_role = opt(argc, argv, "--role");
	o.city = opt(argc, argv, "--city");
	o.policy_id = opt(argc, argv, "--policy");
	o.policy_hash_b64 = opt(argc, argv, "--policy-hash");
	o.commitment_type = opt(argc, argv, "--commitment");
	if (opt(argc, argv, "--trust") != NULL) {
		trust = trust_from(opt(argc, argv, "--trust"), &error);
		if (trust == NULL)
			goto fail;
		o.trust = trust;
	}
	o.signature_id = opt(argc, argv, "--sig-id");
	if (flag(argc, argv, "--v111")) {
		o.version = SDR_XADES_V111;
		o.xades_prefix = "xad";
	}
	if (opt(argc, argv, "--element") != NULL)
		ok = sign_element(signer, argv[6], opt(argc, argv, "--element"), &o, output,
		                  &out_path, &error);
	else
		ok = sdr_xades_sign_file(signer, argv[6], mode, &o, output, &out_path, &error);
	X509_STORE_free(trust);
	if (!ok)
		goto fail;
	printf("%s\n", out_path);
	return 0;
fail:
	fprintf(stderr, "error: %s: %s\n", sdr_error_code_name(error->code), error->message);
	return 3;
}

static int
do_verify(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autoptr(GDateTime) at = NULL;
	SdrVerifyOptions vo = { 0 };
	const char *at_text = opt(argc, argv, "--at");
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: xades-tool verify FILE\n");
		return 3;
	}
	vo.content_path = opt(argc, argv, "--content");
	vo.online = flag(argc, argv, "--online");
	if (opt(argc, argv, "--trust") != NULL) {
		vo.trust = trust_from(opt(argc, argv, "--trust"), &error);
		if (vo.trust == NULL)
			goto fail;
	}
	if (at_text != NULL) {
		at = sdr_time_parse_iso8601(at_text);
		vo.at = at;
	}
	report = sdr_xades_verify_file(argv[2], &vo, &error);
	X509_STORE_free(vo.trust);
	if (report == NULL)
		goto fail;
	for (guint i = 0; i < report->signatures->len; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);
		const char *verdict = r->verdict == SDR_VERDICT_VALID     ? "VALID"
		                      : r->verdict == SDR_VERDICT_INVALID ? "INVALID"
		                                                          : "INDETERMINATE";
		GString *codes = g_string_new(NULL);

		for (guint j = 0; j < r->reasons->len; j++) {
			SdrReason *reason = g_ptr_array_index(r->reasons, j);

			g_string_append_printf(codes, "%s%s", j > 0 ? "," : "",
			                       sdr_reason_code_name(reason->code));
			fprintf(stderr, "  reason: %s\n", reason->message);
		}
		for (guint j = 0; j < r->warnings->len; j++) {
			SdrReason *reason = g_ptr_array_index(r->warnings, j);

			fprintf(stderr, "  warning: %s\n", reason->message);
		}
		printf("%s %s %s %s\n", verdict, sdr_level_name(r->level),
		       codes->len > 0 ? codes->str : "-", r->format);
		g_string_free(codes, TRUE);
		if (r->verdict == SDR_VERDICT_INVALID)
			rc = 1;
		else if (r->verdict == SDR_VERDICT_INDETERMINATE && rc == 0)
			rc = 2;
	}
	return rc;
fail:
	printf("ERROR %s\n", sdr_error_code_name(error->code));
	fprintf(stderr, "error: %s\n", error->message);
	return 3;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return do_sign(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return do_verify(argc, argv);
	fprintf(stderr, "usage: xades-tool sign|verify ...\n");
	return 3;
}
