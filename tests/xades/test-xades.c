/* test-xades.c - unit tests of sdr-xml, sdr-xmldsig and sdr-xades: safe parsing,
 * canonicalisation of subtrees, sign/verify round trips with in-memory keys,
 * tampering, wrapping, missing content, and the verdicts of the shared corpus. */
#include "sdr-error.h"
#include "sdr-signer.h"
#include "sdr-verify-report.h"
#include "sdr-xades-verify.h"
#include "sdr-xades.h"
#include "sdr-xml.h"
#include "sdr-xmldsig.h"

#include <glib/gstdio.h>
#include <libxml/c14n.h>
#include <openssl/pem.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* ---- fixtures ---------------------------------------------------------------- */

typedef struct {
	EVP_PKEY *key;
	X509 *cert;
	X509_STORE *trust;
} Pki;

static Pki rsa_pki, ec_pki;

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"FR", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static void
pki_init(Pki *p, EVP_PKEY *key, const char *cn)
{
	p->key = key;
	p->cert = self_signed(key, cn);
	p->trust = X509_STORE_new();
	X509_STORE_add_cert(p->trust, p->cert);
}

static int
setup_all(void **state)
{
	pki_init(&rsa_pki, EVP_RSA_gen(2048), "Jean DUPONT");
	pki_init(&ec_pki, EVP_EC_gen("P-256"), "Jeanne MARTIN");
	return 0;
}

static int
teardown_all(void **state)
{
	Pki *all[] = { &rsa_pki, &ec_pki };

	for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
		EVP_PKEY_free(all[i]->key);
		X509_free(all[i]->cert);
		X509_STORE_free(all[i]->trust);
	}
	return 0;
}

static SdrSigner *
signer_of(Pki *p)
{
	return sdr_signer_new_from_key(p->key, p->cert, NULL);
}

static GBytes *
bytes_of(const char *s)
{
	return g_bytes_new(s, strlen(s));
}

static SdrSignatureResult *
only_result(SdrVerifyReport *report)
{
	assert_non_null(report);
	assert_int_equal(report->signatures->len, 1);
	return g_ptr_array_index(report->signatures, 0);
}

static gboolean
has_reason(SdrSignatureResult *r, SdrReasonCode code)
{
	for (guint i = 0; i < r->reasons->len; i++) {
		SdrReason *reason = g_ptr_array_index(r->reasons, i);

		if (reason->code == code)
			return TRUE;
	}
	return FALSE;
}

/* ---- safe parsing -------------------------------------------------------------- */

static void
expect_parse_error(const char *xml, int code)
{
	g_autoptr(GError) error = NULL;
	xmlDoc *doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), "t.xml", NULL, &error);

	assert_null(doc);
	assert_non_null(error);
	assert_true(g_error_matches(error, SDR_ERROR, code));
}

static void
test_parse_billion_laughs(void **state)
{
	GString *s = g_string_new("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	                          "<!ENTITY lol \"lol\">\n");

	for (int i = 1; i < 10; i++) {
		g_string_append_printf(s, "<!ENTITY lol%d \"", i);
		for (int j = 0; j < 10; j++) {
			if (i == 1)
				g_string_append(s, "&lol;");
			else
				g_string_append_printf(s, "&lol%d;", i - 1);
		}
		g_string_append(s, "\">\n");
	}
	g_string_append(s, "]>\n<lolz>&lol9;</lolz>\n");
	expect_parse_error(s->str, SDR_ERROR_PARSE);
	g_string_free(s, TRUE);
}

static void
test_parse_xxe(void **state)
{
	expect_parse_error("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM "
	                   "\"file:///etc/passwd\">]><a>&x;</a>",
	                   SDR_ERROR_PARSE);
	expect_parse_error("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY % p SYSTEM "
	                   "\"http://127.0.0.1:1/x.dtd\"> %p;]><a/>",
	                   SDR_ERROR_PARSE);
	expect_parse_error("<!DOCTYPE a [<!ATTLIST a foo ID #IMPLIED>]><a foo=\"x\"/>",
	                   SDR_ERROR_PARSE);
}

static void
test_parse_limits(void **state)
{
	GString *deep = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	SdrXmlLimits small = { 16, 0, FALSE };
	xmlDoc *doc;

	for (int i = 0; i < 300; i++)
		g_string_append(deep, "<a>");
	for (int i = 0; i < 300; i++)
		g_string_append(deep, "</a>");
	doc = sdr_xml_parse((const guint8 *)deep->str, deep->len, NULL, NULL, &error);
	assert_null(doc);
	assert_non_null(error);
	g_string_free(deep, TRUE);
	g_clear_error(&error);

	doc = sdr_xml_parse((const guint8 *)"<a>0123456789012345</a>", 23, NULL, &small, &error);
	assert_null(doc);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));

	expect_parse_error("<a><b></a>", SDR_ERROR_PARSE);
	expect_parse_error("", SDR_ERROR_PARSE);
	expect_parse_error("\xff\xfe garbage", SDR_ERROR_PARSE);
}

static void
test_parse_plain_doctype_ok(void **state)
{
	const char *xml = "<?xml version=\"1.0\"?><!DOCTYPE a><a xml:id=\"z\" Id=\"y\">t</a>";
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), NULL, NULL, &error);

	assert_non_null(doc);
	/* nothing is an ID until we say so */
	assert_null(sdr_xml_find_id(doc, "z"));
	assert_null(sdr_xml_find_id(doc, "y"));
	assert_true(sdr_xml_register_ids(doc, NULL, "Id", NULL, &error));
	assert_non_null(sdr_xml_find_id(doc, "y"));
}

static void
test_register_duplicate_ids(void **state)
{
	const char *xml = "<r><a Id=\"x\"/><b><c Id=\"x\"/></b></r>";
	g_autoptr(GError) error = NULL;
	g_autofree char *dup = NULL;
	g_autoptr(xmlDoc) doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), NULL, NULL, &error);

	assert_non_null(doc);
	assert_false(sdr_xml_register_ids(doc, NULL, NULL, &dup, &error));
	assert_string_equal(dup, "x");
}

/* ---- canonicalisation ------------------------------------------------------------ */

/* Our subtree c14n must equal libxml2's node-set c14n of the XML-DSig
 * expression for "#Id" (the way xmlsec1 computes it). */
static void
compare_subtree_c14n(const char *xml, const char *id, int mode, SdrC14nMethod method)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), NULL, NULL, &error);
	xmlNode *target;
	xmlXPathContext *xp;
	xmlXPathObject *res;
	g_autofree char *expr = NULL;
	xmlChar *ref = NULL;
	int ref_len;
	g_autoptr(GBytes) ours = NULL;

	assert_non_null(doc);
	assert_true(sdr_xml_register_ids(doc, NULL, "Id", NULL, &error));
	target = sdr_xml_find_id(doc, id);
	assert_non_null(target);
	xp = xmlXPathNewContext(doc);
	expr = g_strdup_printf("(//. | //@* | //namespace::*)[ancestor-or-self::*[@Id='%s']]", id);
	res = xmlXPathEvalExpression(BAD_CAST expr, xp);
	assert_non_null(res);
	ref_len = xmlC14NDocDumpMemory(doc, res->nodesetval, mode, NULL, 0, &ref);
	assert_true(ref_len > 0);
	ours = sdr_xmldsig_c14n_to_bytes(doc, target, NULL, method, NULL, 1 << 20, &error);
	assert_non_null(ours);
	assert_int_equal(g_bytes_get_size(ours), (gsize)ref_len);
	assert_memory_equal(g_bytes_get_data(ours, NULL), ref, (gsize)ref_len);
	xmlFree(ref);
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(xp);
}

static void
test_c14n_subtree(void **state)
{
	const char *xml = "<?xml version=\"1.0\"?>\n"
	                  "<r xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:u=\"urn:unused\" "
	                  "xml:lang=\"fr\">\n"
	                  "  <x/><a:B Id=\"t1\" z=\"1\" a:y=\"2\"><!-- c --><C>é &amp; &lt;</C>"
	                  "<a:D xmlns:e=\"urn:e\" e:k=\"v\"/></a:B>\n  <after/>\n</r>";

	compare_subtree_c14n(xml, "t1", XML_C14N_EXCLUSIVE_1_0, SDR_C14N_EXCLUSIVE);
	compare_subtree_c14n(xml, "t1", XML_C14N_1_0, SDR_C14N_INCLUSIVE_10);
}

static void
test_c14n_tree_restored(void **state)
{
	const char *xml = "<r><a Id=\"t\">x</a><b/></r>";
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), NULL, NULL, &error);
	g_autoptr(GBytes) whole = NULL;
	xmlNode *root;

	assert_true(sdr_xml_register_ids(doc, NULL, "Id", NULL, &error));
	root = xmlDocGetRootElement(doc);
	g_bytes_unref(sdr_xmldsig_c14n_to_bytes(doc, sdr_xml_find_id(doc, "t"), NULL,
	                                        SDR_C14N_EXCLUSIVE, NULL, 1024, &error));
	assert_ptr_equal(doc->children, root);
	whole = sdr_xmldsig_c14n_to_bytes(doc, NULL, NULL, SDR_C14N_EXCLUSIVE, NULL, 1024, &error);
	assert_int_equal(g_bytes_get_size(whole), strlen("<r><a Id=\"t\">x</a><b></b></r>"));
	/* size cap */
	assert_null(sdr_xmldsig_c14n_to_bytes(doc, NULL, NULL, SDR_C14N_EXCLUSIVE, NULL, 4, NULL));
}

static void
test_signed_info_string(void **state)
{
	SdrDsigReference ref = { .uri = "#b1", .hash = SDR_HASH_SHA256, .digest_len = 32 };
	g_autofree char *s = NULL;

	ref.transforms[0] = SDR_DSIG_ENVELOPED;
	ref.transforms[1] = SDR_DSIG_EXC_C14N;
	ref.n_transforms = 2;
	s = sdr_xmldsig_signed_info_string(
	        "ds", SDR_C14N_EXCLUSIVE,
	        sdr_dsig_signature_method_uri(SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256), &ref, 1);
	assert_non_null(
	        strstr(s, "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"));
	assert_non_null(strstr(s, "URI=\"#b1\""));
	assert_non_null(strstr(s, "rsa-sha256"));
}

/* ---- sign / verify --------------------------------------------------------------- */

static SdrVerifyReport *
verify_bytes(GBytes *sig, GBytes *content, X509_STORE *trust, const char *base_dir)
{
	g_autoptr(GError) error = NULL;
	SdrVerifyOptions vo = { 0 };
	SdrVerifyReport *report;

	vo.trust = trust;
	vo.content = content;
	report = sdr_xades_verify_data(sig, "sig.xml", base_dir, &vo, &error);
	if (report == NULL) {
		gsize n = g_bytes_get_size(sig);

		print_message("[%" G_GSIZE_FORMAT "] ...%.*s\n", n, (int)MIN(n, 200),
		              (const char *)g_bytes_get_data(sig, NULL) + n - MIN(n, 200));
		fail_msg("verify: %s", error->message);
	}
	return report;
}

static void
round_trip(Pki *p, SdrXadesMode mode, const char *data_text, gboolean pss)
{
	g_autoptr(SdrSigner) signer = signer_of(p);
	g_autoptr(GBytes) data = bytes_of(data_text);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) sig = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	SdrSignatureResult *r;

	if (pss)
		assert_true(sdr_signer_set_scheme(signer, SDR_SIG_RSA_PSS, &error));
	sig = sdr_xades_sign_data(signer, data, "délib 42.txt", mode, NULL, &error);
	if (sig == NULL)
		fail_msg("sign: %s", error->message);
	report = verify_bytes(sig, mode == SDR_XADES_DETACHED ? data : NULL, p->trust, NULL);
	r = only_result(report);
	if (r->verdict != SDR_VERDICT_VALID) {
		for (guint i = 0; i < r->reasons->len; i++)
			print_message("reason: %s\n",
			              ((SdrReason *)g_ptr_array_index(r->reasons, i))->message);
	}
	assert_int_equal(r->verdict, SDR_VERDICT_VALID);
	assert_int_equal(r->level, SDR_LEVEL_B_B);
	assert_non_null(r->signer);
	assert_non_null(r->claimed_signing_time);
	assert_string_equal(g_hash_table_lookup(r->details, "packaging"),
	                    mode == SDR_XADES_DETACHED    ? "detached"
	                    : mode == SDR_XADES_ENVELOPED ? "enveloped"
	                                                  : "enveloping");

	/* a byte changed in the signed data -> INVALID DIGEST_MISMATCH */
	if (mode == SDR_XADES_DETACHED) {
		g_autofree char *changed = g_strdup(data_text);
		g_autoptr(GBytes) bad = NULL;
		g_autoptr(SdrVerifyReport) r2 = NULL;

		changed[0] ^= 1;
		bad = bytes_of(changed);
		r2 = verify_bytes(sig, bad, p->trust, NULL);
		assert_int_equal(only_result(r2)->verdict, SDR_VERDICT_INVALID);
		assert_true(has_reason(only_result(r2), SDR_REASON_DIGEST_MISMATCH));
	} else {
		gsize len;
		const char *s = g_bytes_get_data(sig, &len);
		g_autofree char *copy = g_strndup(s, len);
		char *at = strstr(copy, "42.00");
		g_autoptr(GBytes) bad = NULL;
		g_autoptr(SdrVerifyReport) r2 = NULL;

		if (at == NULL) /* binary enveloping: first base64 character of the data */
			at = strstr(strstr(copy, "<ds:Object Id="), ">") + 1;
		assert_non_null(at);
		at[0] = at[0] == 'A' ? 'B' : 'A';
		bad = g_bytes_new(copy, len);
		r2 = verify_bytes(bad, NULL, p->trust, NULL);
		assert_int_equal(only_result(r2)->verdict, SDR_VERDICT_INVALID);
		assert_true(has_reason(only_result(r2), SDR_REASON_DIGEST_MISMATCH));
	}
}

static void
test_detached_rsa(void **state)
{
	round_trip(&rsa_pki, SDR_XADES_DETACHED, "Délibération n° 42\n", FALSE);
}

static void
test_detached_ec(void **state)
{
	round_trip(&ec_pki, SDR_XADES_DETACHED, "Délibération n° 42\n", FALSE);
}

static void
test_detached_pss(void **state)
{
	round_trip(&rsa_pki, SDR_XADES_DETACHED, "Délibération n° 42\n", TRUE);
}

static const char facture[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<Facture xmlns=\"urn:facture\" Id=\"f1\">\n"
                              "  <Montant devise=\"EUR\">42.00</Montant>\n</Facture>\n";

static void
test_enveloped(void **state)
{
	round_trip(&rsa_pki, SDR_XADES_ENVELOPED, facture, FALSE);
	round_trip(&ec_pki, SDR_XADES_ENVELOPED, facture, FALSE);
}

static void
test_enveloped_twice_refused(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&ec_pki);
	g_autoptr(GBytes) data = bytes_of(facture);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) once =
	        sdr_xades_sign_data(signer, data, "f.xml", SDR_XADES_ENVELOPED, NULL, &error);
	GBytes *twice;

	assert_non_null(once);
	twice = sdr_xades_sign_data(signer, once, "f.xml", SDR_XADES_ENVELOPED, NULL, &error);
	assert_null(twice);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED));
}

static void
test_enveloping(void **state)
{
	round_trip(&ec_pki, SDR_XADES_ENVELOPING, "binary \x01\x02 data", FALSE);
	round_trip(&rsa_pki, SDR_XADES_ENVELOPING, facture, FALSE);
}

static void
test_detached_uri_escaping(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&ec_pki);
	g_autoptr(GBytes) data = bytes_of("x");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) sig = sdr_xades_sign_data(signer, data, "/tmp/Délib: n°1 (v2).txt",
	                                            SDR_XADES_DETACHED, NULL, &error);
	g_autofree char *text = NULL;

	assert_non_null(sig);
	text = g_strndup(g_bytes_get_data(sig, NULL), g_bytes_get_size(sig));
	assert_non_null(strstr(text, "URI=\"D%C3%A9lib%3A%20n%C2%B01%20(v2).txt\""));
}

/* sdr_xades_sign_file_digest(): the agent's consent digest in the reference, the file
 * not read again; the signature verifies against the file, and only against it. */
static void
test_detached_precomputed_digest(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&rsa_pki);
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("xades-XXXXXX", NULL);
	g_autofree char *in = g_build_filename(dir, "délib 7.txt", NULL);
	g_autofree char *out = g_build_filename(dir, "délib 7.txt - Signature 1.xml", NULL);
	g_autoptr(GBytes) sig = NULL, content = bytes_of("Délibération n° 7\n"), other = NULL;
	g_autoptr(SdrVerifyReport) good = NULL, bad = NULL;
	guint8 md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	gchar *text = NULL;
	gsize len = 0;

	assert_true(g_file_set_contents(in, g_bytes_get_data(content, NULL),
	                                (gssize)g_bytes_get_size(content), NULL));
	assert_true(EVP_Digest(g_bytes_get_data(content, NULL), g_bytes_get_size(content), md,
	                       &md_len, EVP_sha256(), NULL) == 1);
	/* A digest of another length than the hash's is refused. */
	assert_false(sdr_xades_sign_file_digest(signer, in, md, 20, NULL, out, NULL, &error));
	g_clear_error(&error);
	assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	if (!sdr_xades_sign_file_digest(signer, in, md, md_len, NULL, out, NULL, &error))
		fail_msg("sign: %s", error->message);
	assert_true(g_file_get_contents(out, &text, &len, NULL));
	sig = g_bytes_new_take(text, len);
	good = verify_bytes(sig, content, rsa_pki.trust, NULL);
	assert_int_equal(only_result(good)->verdict, SDR_VERDICT_VALID);
	other = bytes_of("Délibération n° 8\n");
	bad = verify_bytes(sig, other, rsa_pki.trust, NULL);
	assert_int_equal(only_result(bad)->verdict, SDR_VERDICT_INVALID);
	assert_true(has_reason(only_result(bad), SDR_REASON_DIGEST_MISMATCH));
	g_unlink(out);
	g_unlink(in);
	g_rmdir(dir);
}

static void
test_missing_content(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&rsa_pki);
	g_autoptr(GBytes) data = bytes_of("hello");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) sig =
	        sdr_xades_sign_data(signer, data, "absent.txt", SDR_XADES_DETACHED, NULL, &error);
	g_autofree char *dir = g_dir_make_tmp("xades-XXXXXX", NULL);
	g_autoptr(SdrVerifyReport) report = verify_bytes(sig, NULL, rsa_pki.trust, dir);
	SdrSignatureResult *r = only_result(report);

	assert_int_equal(r->verdict, SDR_VERDICT_INDETERMINATE);
	assert_true(has_reason(r, SDR_REASON_DATA_NOT_FOUND));
	g_rmdir(dir);
}

static void
test_untrusted_and_options(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&rsa_pki);
	g_autoptr(GBytes) data = bytes_of(facture);
	g_autoptr(GError) error = NULL;
	SdrXadesOptions o;
	g_autoptr(GBytes) sig = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	SdrSignatureResult *r;
	const char *s;

	sdr_xades_options_init(&o);
	o.signer_role = "Ordonnateur";
	o.city = "Brest";
	o.postal_code = "29200";
	o.country = "FR";
	o.policy_id = "urn:oid:1.2.250.1.131.1.5.18.21.1.7";
	o.policy_description = "Politique de signature Helios de la DGFiP";
	o.policy_hash_b64 = "roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=";
	o.policy_spuri = "https://example.invalid/ps.pdf";
	o.commitment_type = "http://uri.etsi.org/01903/v1.2.2#ProofOfApproval";
	o.hash = SDR_HASH_SHA384;
	sig = sdr_xades_sign_data(signer, data, "f.xml", SDR_XADES_ENVELOPED, &o, &error);
	assert_non_null(sig);
	s = g_bytes_get_data(sig, NULL);
	assert_non_null(g_strstr_len(s, -1, "SignerRoleV2"));
	assert_non_null(g_strstr_len(s, -1, "SignatureProductionPlaceV2"));
	assert_non_null(g_strstr_len(s, -1, "SigPolicyHash"));
	assert_non_null(g_strstr_len(s, -1, "CommitmentTypeIndication"));
	assert_non_null(g_strstr_len(s, -1, "rsa-sha384"));
	/* trusted by EC anchors only: INDETERMINATE CHAIN_NOT_TRUSTED */
	report = verify_bytes(sig, NULL, ec_pki.trust, NULL);
	r = only_result(report);
	assert_int_equal(r->verdict, SDR_VERDICT_INDETERMINATE);
	assert_true(has_reason(r, SDR_REASON_CHAIN_NOT_TRUSTED));
	assert_false(has_reason(r, SDR_REASON_DIGEST_MISMATCH));
}

static char *
replace_once(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	assert_non_null(at);
	return g_strdup_printf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void
test_wrapping(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&rsa_pki);
	g_autoptr(GError) error = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GBytes) signed_doc = NULL;
	xmlNode *sig;
	SdrXadesOptions o;

	/* sign element #b1 (PES-style, via sdr_xades_sign_node) */
	{
		const char *xml =
		        "<Doc><Bordereau Id=\"b1\"><Montant>10</Montant></Bordereau></Doc>";

		doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), NULL, NULL, &error);
		assert_true(sdr_xml_register_ids(doc, NULL, "Id", NULL, &error));
		sdr_xades_options_init(&o);
		o.signature_id = "S1";
		sig = sdr_xades_sign_node(signer, doc, sdr_xml_find_id(doc, "b1"),
		                          sdr_xml_find_id(doc, "b1"), &o, &error);
		assert_non_null(sig);
		signed_doc = sdr_xml_serialize(doc, &error);
	}
	{
		g_autoptr(SdrVerifyReport) ok = verify_bytes(signed_doc, NULL, rsa_pki.trust, NULL);

		assert_int_equal(only_result(ok)->verdict, SDR_VERDICT_VALID);
	}
	/* duplicate Id: another element claims b1 */
	{
		g_autofree char *text =
		        g_strndup(g_bytes_get_data(signed_doc, NULL), g_bytes_get_size(signed_doc));
		g_autofree char *dup =
		        replace_once(text, "<Doc>",
		                     "<Doc><Bordereau Id=\"b1\"><Montant>99999</Montant>"
		                     "</Bordereau>");
		g_autoptr(GBytes) b = bytes_of(dup);
		g_autoptr(SdrVerifyReport) r = verify_bytes(b, NULL, rsa_pki.trust, NULL);

		assert_int_equal(only_result(r)->verdict, SDR_VERDICT_INVALID);
		assert_true(has_reason(only_result(r), SDR_REASON_WRAPPING));
	}
	/* classic XSW: the signed original moved into a ds:Object, the document shows
	 * a forged bordereau without that Id */
	{
		g_autofree char *orig =
		        g_strndup(g_bytes_get_data(signed_doc, NULL), g_bytes_get_size(signed_doc));
		const char *start = strstr(orig, "<Bordereau Id=\"b1\">");
		const char *sig_start = strstr(orig, "<ds:Signature");
		const char *sig_end = strstr(orig, "</ds:Signature>");
		g_autofree char *inner = NULL;
		g_autofree char *forged = NULL;
		g_autoptr(GBytes) b = NULL;
		g_autoptr(SdrVerifyReport) r = NULL;

		assert_non_null(start);
		inner = g_strdup_printf("<Bordereau Id=\"b1\"><Montant>10</Montant></Bordereau>");
		forged = g_strdup_printf("%.*s<Bordereau Id=\"forged\"><Montant>99999</Montant>"
		                         "%.*s<ds:Object>%s</ds:Object>%s",
		                         (int)(start - orig), orig, (int)(sig_end - sig_start),
		                         sig_start, inner, sig_end);
		b = bytes_of(forged);
		r = verify_bytes(b, NULL, rsa_pki.trust, NULL);
		assert_int_equal(only_result(r)->verdict, SDR_VERDICT_INVALID);
		assert_true(has_reason(only_result(r), SDR_REASON_WRAPPING));
	}
}

static void
test_sign_node_id_clash(void **state)
{
	g_autoptr(SdrSigner) signer = signer_of(&ec_pki);
	g_autoptr(GError) error = NULL;
	const char *xml = "<Doc><B Id=\"b1\"/><C Id=\"S1_SP\"/></Doc>";
	g_autoptr(xmlDoc) doc = sdr_xml_parse((const guint8 *)xml, strlen(xml), NULL, NULL, &error);
	SdrXadesOptions o;
	xmlNode *b1;

	assert_true(sdr_xml_register_ids(doc, NULL, "Id", NULL, &error));
	b1 = sdr_xml_find_id(doc, "b1");
	sdr_xades_options_init(&o);
	o.signature_id = "S1";
	assert_null(sdr_xades_sign_node(signer, doc, b1, b1, &o, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
	g_clear_error(&error);
	/* an element without registered Id cannot be a target */
	assert_null(sdr_xades_sign_node(signer, doc, NULL, xmlDocGetRootElement(doc), &o, &error));
	g_clear_error(&error);
	/* nothing was left behind */
	assert_null(sdr_xml_first_child(b1, SDR_DSIG_NS, "Signature"));
	o.signature_id = "S2";
	assert_non_null(sdr_xades_sign_node(signer, doc, b1, b1, &o, &error));
}

static void
test_bad_inputs(void **state)
{
	g_autoptr(GError) error = NULL;
	GString *huge =
	        g_string_new("<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
	                     "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\""
	                     "http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
	                     "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/"
	                     "xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"\">"
	                     "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/"
	                     "xmlenc#sha256\"/><ds:DigestValue>");
	g_autoptr(GBytes) b = NULL;
	g_autoptr(SdrVerifyReport) r = NULL;
	SdrVerifyReport *none;

	for (int i = 0; i < 200000; i++)
		g_string_append(huge, "QUFBQUFB");
	g_string_append(huge,
	                "</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>");
	for (int i = 0; i < 200000; i++)
		g_string_append(huge, "QUFBQUFB");
	g_string_append(huge, "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
	for (int i = 0; i < 200000; i++)
		g_string_append(huge, "QUFBQUFB");
	g_string_append(huge, "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>");
	b = g_bytes_new(huge->str, huge->len);
	g_string_free(huge, TRUE);
	r = verify_bytes(b, NULL, NULL, NULL);
	assert_int_equal(only_result(r)->verdict, SDR_VERDICT_INVALID);

	{
		g_autoptr(GBytes) junk = bytes_of("<a>not a signature</a>");

		none = sdr_xades_verify_data(junk, "a.xml", NULL, NULL, &error);
		assert_null(none);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
		g_clear_error(&error);
	}
	{
		g_autoptr(GBytes) trunc =
		        bytes_of("<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/"
		                 "xmldsig#\"><ds:SignedInfo>");

		none = sdr_xades_verify_data(trunc, "t.xml", NULL, NULL, &error);
		assert_null(none);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PARSE));
		g_clear_error(&error);
	}
	{
		g_autoptr(GBytes) empty_sig =
		        bytes_of("<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>");
		g_autoptr(SdrVerifyReport) er = verify_bytes(empty_sig, NULL, NULL, NULL);

		assert_int_equal(only_result(er)->verdict, SDR_VERDICT_INVALID);
	}
}

/* ---- shared corpus (MANIFEST verdicts) ----------------------------------------------------- */

static char *
corpus_path(const char *rel)
{
	const char *shared = g_getenv("SINADUR_SHARED");

	return g_build_filename(shared != NULL ? shared : "../shared", "corpus", "ades", rel, NULL);
}

static SdrVerifyReport *
verify_corpus(const char *rel, const char *content_rel, GError **error)
{
	g_autofree char *path = corpus_path(rel);
	g_autofree char *anchor = corpus_path("selfmade/ca.pem");
	g_autofree char *content = content_rel != NULL ? corpus_path(content_rel) : NULL;
	SdrVerifyOptions vo = { 0 };
	SdrVerifyReport *report;
	BIO *bio = BIO_new_file(anchor, "r");
	X509 *ca = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		skip();
	vo.trust = X509_STORE_new();
	if (ca != NULL)
		X509_STORE_add_cert(vo.trust, ca);
	vo.content_path = content;
	report = sdr_xades_verify_file(path, &vo, error);
	X509_free(ca);
	BIO_free(bio);
	X509_STORE_free(vo.trust);
	return report;
}

static void
expect_corpus(const char *rel, SdrVerdict verdict, SdrReasonCode must, SdrReasonCode must_not)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) report = verify_corpus(rel, NULL, &error);
	SdrSignatureResult *r;

	if (report == NULL)
		fail_msg("%s: %s", rel, error->message);
	r = only_result(report);
	if (r->verdict != verdict)
		fail_msg("%s: verdict %d, expected %d", rel, r->verdict, verdict);
	if (must != SDR_REASON_NONE && !has_reason(r, must))
		fail_msg("%s: reason %s missing", rel, sdr_reason_code_name(must));
	if (must_not != SDR_REASON_NONE && has_reason(r, must_not))
		fail_msg("%s: unexpected reason %s", rel, sdr_reason_code_name(must_not));
}

static void
test_corpus(void **state)
{
	expect_corpus("selfmade/xades-bb.xml", SDR_VERDICT_VALID, SDR_REASON_NONE, SDR_REASON_NONE);
	expect_corpus("selfmade/tampered-data.xml", SDR_VERDICT_INVALID, SDR_REASON_DIGEST_MISMATCH,
	              SDR_REASON_NONE);
	expect_corpus("selfmade/tampered-time.xml", SDR_VERDICT_INVALID, SDR_REASON_DIGEST_MISMATCH,
	              SDR_REASON_NONE);
	expect_corpus("selfmade/xades-wrongcertdigest.xml", SDR_VERDICT_INVALID,
	              SDR_REASON_SIGNING_CERT_REF, SDR_REASON_DIGEST_MISMATCH);
	expect_corpus("xades/dss/xades-sign-cert-v2-wrong-digest.xml", SDR_VERDICT_INVALID,
	              SDR_REASON_SIGNING_CERT_REF, SDR_REASON_NONE);
	expect_corpus("xades/dss/xades-tampered-reference.xml", SDR_VERDICT_INVALID,
	              SDR_REASON_DIGEST_MISMATCH, SDR_REASON_NONE);
	expect_corpus("xades/dss/dss-signed-altered-signedPropsRemoved.xml", SDR_VERDICT_INVALID,
	              SDR_REASON_NONE, SDR_REASON_NONE);
	/* crypto valid, chain not trusted here */
	expect_corpus("xades/dss/dss-signed.xml", SDR_VERDICT_INDETERMINATE,
	              SDR_REASON_CHAIN_NOT_TRUSTED, SDR_REASON_DIGEST_MISMATCH);
	expect_corpus("xades/dss/dss2011__xades-detached.xml", SDR_VERDICT_INDETERMINATE,
	              SDR_REASON_CHAIN_NOT_TRUSTED, SDR_REASON_DATA_NOT_FOUND);
}

static void
test_corpus_dtd_injection(void **state)
{
	g_autoptr(GError) error = NULL;
	SdrVerifyReport *report =
	        verify_corpus("xades/dss/xades-with-dtd-injection.xml", NULL, &error);

	assert_null(report);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PARSE));
}

static void
test_corpus_detached_without_content(void **state)
{
	g_autofree char *src = corpus_path("xades/dss/dss2011__xades-detached.xml");
	g_autofree char *dir = g_dir_make_tmp("xades-XXXXXX", NULL);
	g_autofree char *copy = g_build_filename(dir, "sig.xml", NULL);
	g_autofree char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	SdrSignatureResult *r;

	if (!g_file_get_contents(src, &data, &len, NULL))
		skip();
	assert_true(g_file_set_contents(copy, data, (gssize)len, NULL));
	report = sdr_xades_verify_file(copy, NULL, &error);
	r = only_result(report);
	assert_int_equal(r->verdict, SDR_VERDICT_INDETERMINATE);
	assert_true(has_reason(r, SDR_REASON_DATA_NOT_FOUND));
	g_unlink(copy);
	g_rmdir(dir);
	/* and with --content pointing at the data: no DATA_NOT_FOUND */
	{
		g_autoptr(SdrVerifyReport) with = verify_corpus(
		        "xades/dss/dss2011__xades-detached.xml", "xades/dss/sample.xml", &error);

		assert_false(has_reason(only_result(with), SDR_REASON_DATA_NOT_FOUND));
		assert_false(has_reason(only_result(with), SDR_REASON_DIGEST_MISMATCH));
	}
}

/* The one escaper: XML / HTML text, and the ASCII-only form of PES (ISO-8859-1 files). */
static void
test_escape(void **state)
{
	g_autoptr(GString) s = g_string_new(NULL);

	sdr_xml_append_escaped(s, "a&b<c>d\"e'f é", SDR_XML_ESCAPE_DEFAULT);
	assert_string_equal(s->str, "a&amp;b&lt;c&gt;d&quot;e'f é");
	g_string_truncate(s, 0);
	sdr_xml_append_escaped(s, "'é'", SDR_XML_ESCAPE_APOS);
	assert_string_equal(s->str, "&#39;é&#39;");
	g_string_truncate(s, 0);
	sdr_xml_append_escaped(s, "Béziers & co\t'", SDR_XML_ESCAPE_ASCII);
	assert_string_equal(s->str, "B&#xE9;ziers &amp; co&#x9;'");
	g_string_truncate(s, 0);
	sdr_xml_append_escaped(s, NULL, SDR_XML_ESCAPE_ASCII);
	assert_string_equal(s->str, "");
}

/* The one libxml2 error handler keeps the first error and never prints. */
static void
test_error_handler(void **state)
{
	SdrXmlFirstError first = { 0 };
	static const char bad[] = "<a>\n<b></a>";
	xmlDoc *doc;

	xmlSetStructuredErrorFunc(&first, sdr_xml_error_handler);
	doc = xmlReadMemory(bad, (int)strlen(bad), "bad.xml", NULL, XML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	assert_null(doc);
	assert_non_null(first.message);
	assert_int_equal(first.line, 2);
	assert_false(g_ascii_isspace(first.message[strlen(first.message) - 1]));
	sdr_xml_first_error_clear(&first);
	assert_null(first.message);
	/* NULL context: silenced, nothing kept anywhere */
	xmlSetStructuredErrorFunc(NULL, sdr_xml_error_handler);
	doc = xmlReadMemory(bad, (int)strlen(bad), "bad.xml", NULL, XML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	assert_null(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_billion_laughs),
		cmocka_unit_test(test_parse_xxe),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_plain_doctype_ok),
		cmocka_unit_test(test_register_duplicate_ids),
		cmocka_unit_test(test_c14n_subtree),
		cmocka_unit_test(test_c14n_tree_restored),
		cmocka_unit_test(test_signed_info_string),
		cmocka_unit_test(test_detached_rsa),
		cmocka_unit_test(test_detached_ec),
		cmocka_unit_test(test_detached_pss),
		cmocka_unit_test(test_enveloped),
		cmocka_unit_test(test_enveloped_twice_refused),
		cmocka_unit_test(test_enveloping),
		cmocka_unit_test(test_detached_uri_escaping),
		cmocka_unit_test(test_detached_precomputed_digest),
		cmocka_unit_test(test_missing_content),
		cmocka_unit_test(test_untrusted_and_options),
		cmocka_unit_test(test_wrapping),
		cmocka_unit_test(test_sign_node_id_clash),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_corpus_dtd_injection),
		cmocka_unit_test(test_corpus_detached_without_content),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_error_handler),
	};

	return cmocka_run_group_tests_name("xades", tests, setup_all, teardown_all);
}
