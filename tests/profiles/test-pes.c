/* test-pes.c - unit tests of the PES V2 profile: exclusive C14N against libxml2's,
 * signing in memory, verification, tampering, and every refusal. */
#include "sdr-actes.h"
#include "sdr-error.h"
#include "sdr-i18n.h"
#include "sdr-marche.h"
#include "sdr-pes-private.h"
#include "sdr-pes-verify.h"
#include "sdr-report.h"
#include "sdr-verify.h"

#include <glib/gstdio.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static EVP_PKEY *test_key;
static X509 *test_cert;

static X509 *
make_cert(EVP_PKEY *key)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"FR", -1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	                           (const unsigned char *)"Commune de Plouézec", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"Hélène <Test> & Co", -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, name);
	X509_NAME_free(name);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
	X509_set_pubkey(cert, key);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,nonRepudiation,keyCertSign");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(cert, key, EVP_sha256());
	return cert;
}

static int
setup_all(void **state)
{
	test_key = EVP_RSA_gen(2048);
	test_cert = make_cert(test_key);
	return test_key != NULL && test_cert != NULL ? 0 : -1;
}

static int
teardown_all(void **state)
{
	EVP_PKEY_free(test_key);
	X509_free(test_cert);
	return 0;
}

/* A small PES_Aller in ISO-8859-1 (accents as Latin-1 bytes). */
static GBytes *
make_pes(guint n_bordereaux, gboolean ids, const char *entete_extra, const char *codcol)
{
	GString *s = g_string_new("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
	                          "<n:PES_Aller xmlns:n=\"http://www.minefi.gouv.fr/cp/helios/"
	                          "pes_v2/Rev0/aller\" Id=\"ROOT1\">\n"
	                          "<Enveloppe><Parametres><NomFic V=\"F1\"/></Parametres>"
	                          "</Enveloppe>\n<EnTetePES><IdColl V=\"21290001200011\"/>");

	g_string_append_printf(s, "<CodCol V=\"%s\"/>%s</EnTetePES>\n<PES_DepenseAller>\n", codcol,
	                       entete_extra != NULL ? entete_extra : "");
	for (guint i = 0; i < n_bordereaux; i++) {
		if (ids)
			g_string_append_printf(s, "\t<Bordereau Id=\"B%u\">", i + 1);
		else
			g_string_append(s, "\t<Bordereau>");
		g_string_append_printf(
		        s,
		        "\n\t\t<Piece><Obj V=\"Caf\xe9 n\xb0%u &amp; &lt;tarte&gt;\"/>"
		        "<!-- note --><Mt V=\"%u.00\"/></Piece>\n\t</Bordereau>\n",
		        i, 100 + i);
	}
	g_string_append(s, "</PES_DepenseAller>\n<PES_PJ><PJ><Contenu><Fichier>QUJD</Fichier>"
	                   "</Contenu></PJ></PES_PJ>\n</n:PES_Aller>\n");
	return g_string_free_to_bytes(s);
}

/* ---- exclusive C14N against libxml2's implementation ---- */

static void
check_c14n_same(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
	xmlChar *ref = NULL;
	int ref_len;
	g_autoptr(GString) mine = g_string_new(NULL);
	g_autoptr(GError) error = NULL;

	assert_non_null(doc);
	ref_len = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, &ref);
	assert_true(ref_len >= 0);
	assert_true(sdr_pes_c14n(xmlDocGetRootElement(doc), NULL, NULL, mine, &error));
	assert_string_equal(mine->str, (const char *)ref);
	xmlFree(ref);
	xmlFreeDoc(doc);
}

static void
test_c14n_matches_libxml2(void **state)
{
	check_c14n_same("<a xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:unused=\"urn:u\" b=\"2\" "
	                "x:a=\"1\" a=\"0\"><x:b>t&amp;&lt;&gt;\r</x:b><c xmlns=\"\"/>"
	                "<d attr=\"&quot;&#9;&#10;&#13;\"/><?pi data?><!-- c --></a>");
	check_c14n_same("<r><s xmlns:p=\"urn:p\"><p:t p:z=\"1\" q=\"2\" xml:lang=\"fr\"/>"
	                "<u><![CDATA[<cdata & more>]]></u></s><p:v xmlns:p=\"urn:other\"/></r>");
	check_c14n_same("<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
	                "<ds:SignedInfo Id=\"x\"><ds:Reference URI=\"#a\" Type=\"t\"/>"
	                "</ds:SignedInfo></ds:Signature>");
}

static void
test_c14n_subtree_and_skip(void **state)
{
	const char *xml = "<n:R xmlns:n=\"urn:n\" xmlns:ds=\"urn:ds\"><B Id=\"1\"><n:x/>"
	                  "<ds:S><ds:v/></ds:S></B></n:R>";
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, 0);
	xmlNodePtr b = xmlDocGetRootElement(doc)->children;
	g_autoptr(GString) out = g_string_new(NULL);

	assert_true(sdr_pes_c14n(b, b->children->next, NULL, out, NULL));
	assert_string_equal(out->str, "<B Id=\"1\"><n:x xmlns:n=\"urn:n\"></n:x></B>");
	/* Inside the removed signature: nothing (enveloped-signature over a SignedProperties). */
	g_string_truncate(out, 0);
	assert_true(sdr_pes_c14n(b->children->next->children, b->children->next, NULL, out, NULL));
	assert_int_equal(out->len, 0);
	xmlFreeDoc(doc);
}

/* ---- signing and verification in memory ---- */

static void
assert_no_error_report(GError *error)
{
	if (error != NULL)
		fail_msg("unexpected error: %s", error->message);
}

static SdrVerifyReport *
verify(GBytes *signed_pes)
{
	SdrVerifyOptions vo = { 0 };
	SdrVerifyReport *report;
	g_autoptr(GError) error = NULL;

	vo.trust = X509_STORE_new();
	X509_STORE_add_cert(vo.trust, test_cert);
	report = sdr_pes_verify_bytes(signed_pes, "t.xml", &vo, &error);
	X509_STORE_free(vo.trust);
	assert_no_error_report(error);
	return report;
}

static GBytes *
strip_signatures(GBytes *signed_pes)
{
	gsize len;
	const char *d = g_bytes_get_data(signed_pes, &len);
	GString *s = g_string_new(NULL);
	const char *p = d, *end = d + len;

	while (p < end) {
		const char *start = memmem(p, (gsize)(end - p), "<ds:Signature ", 14);
		const char *stop;

		if (start == NULL)
			break;
		stop = memmem(start, (gsize)(end - start), "</ds:Signature>", 15);
		assert_non_null(stop);
		g_string_append_len(s, p, start - p);
		p = stop + 15;
	}
	g_string_append_len(s, p, end - p);
	return g_string_free_to_bytes(s);
}

static void
test_sign_verify_bordereaux(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) pes = make_pes(3, TRUE, NULL, "012");
	g_autoptr(GBytes) out = NULL;
	g_autoptr(GBytes) stripped = NULL;
	g_autoptr(SdrPesSignResult) result = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autoptr(GError) error = NULL;
	SdrPesOptions o;

	sdr_pes_options_init(&o);
	o.city = "Plouézec";
	o.postal_code = "22470";
	o.country_name = "France";
	out = sdr_pes_sign_bytes(signer, pes, &o, &result, &error);
	assert_no_error_report(error);
	assert_non_null(out);
	assert_false(result->root);
	assert_int_equal(result->signed_ids->len, 3);
	assert_int_equal(result->skipped_ids->len, 0);

	/* Everything outside the inserted signatures is byte-identical. */
	stripped = strip_signatures(out);
	assert_true(g_bytes_equal(stripped, pes));
	/* Non-ASCII in the signature is written as character references. */
	assert_non_null(g_strstr_len(g_bytes_get_data(out, NULL), (gssize)g_bytes_get_size(out),
	                             "Plou&#xE9;zec"));

	report = verify(out);
	assert_int_equal(report->signatures->len, 3);
	for (guint i = 0; i < 3; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);

		assert_int_equal(r->verdict, SDR_VERDICT_VALID);
		assert_string_equal(g_hash_table_lookup(r->details, "role"), "Ordonnateur");
		assert_string_equal(g_hash_table_lookup(r->details, "city"), "Plouézec");
		assert_non_null(r->claimed_signing_time);
	}
	assert_int_equal(report->notes->len, 0);

	/* The HTML report escapes certificate names. */
	{
		g_autoptr(GPtrArray) reps = g_ptr_array_new();
		g_autofree char *html = NULL;

		g_ptr_array_add(reps, report);
		html = sdr_report_html(reps);
		assert_non_null(strstr(html, "Hélène &lt;Test&gt; &amp; Co"));
		assert_null(strstr(html, "<Test>"));
	}
}

static void
test_tamper_one_bordereau(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) pes = make_pes(3, TRUE, NULL, "012");
	g_autoptr(GBytes) out = sdr_pes_sign_bytes(signer, pes, NULL, NULL, NULL);
	g_autoptr(GBytes) bad = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	gsize len;
	char *copy;
	char *hit;

	assert_non_null(out);
	{
		const void *data = g_bytes_get_data(out, &len);

		copy = g_memdup2(data, len);
	}
	hit = memmem(copy, len, "101.00", 6); /* bordereau B2's amount */
	assert_non_null(hit);
	hit[0] = '9';
	bad = g_bytes_new_take(copy, len);
	report = verify(bad);
	assert_int_equal(report->signatures->len, 3);
	for (guint i = 0; i < 3; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);

		assert_int_equal(r->verdict, i == 1 ? SDR_VERDICT_INVALID : SDR_VERDICT_VALID);
	}
}

static void
test_filter_and_already_signed(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) pes = make_pes(3, TRUE, NULL, "012");
	g_autoptr(GBytes) one = NULL;
	g_autoptr(GBytes) all = NULL;
	g_autoptr(GBytes) again = NULL;
	g_autoptr(SdrPesSignResult) r1 = NULL;
	g_autoptr(SdrPesSignResult) r2 = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autoptr(GError) error = NULL;
	const char *only[] = { "B2", NULL };
	const char *missing[] = { "B9", NULL };
	SdrPesOptions o;

	sdr_pes_options_init(&o);
	o.bordereaux = only;
	one = sdr_pes_sign_bytes(signer, pes, &o, &r1, &error);
	assert_non_null(one);
	assert_int_equal(r1->signed_ids->len, 1);
	assert_string_equal(g_ptr_array_index(r1->signed_ids, 0), "B2");

	/* Unsigned bordereaux get a note. */
	report = verify(one);
	assert_int_equal(report->signatures->len, 1);
	assert_int_equal(report->notes->len, 2);

	/* The formats dispatcher routes PES_Aller files here. */
	{
		g_autofree char *path = NULL;
		int fd = g_file_open_tmp("pes-XXXXXX.xml", &path, NULL);
		g_autoptr(SdrVerifyReport) via = NULL;

		assert_true(fd >= 0);
		close(fd);
		assert_true(g_file_set_contents(path, g_bytes_get_data(one, NULL),
		                                (gssize)g_bytes_get_size(one), NULL));
		via = sdr_verify_file(path, NULL, &error);
		g_unlink(path);
		assert_no_error_report(error);
		assert_string_equal(via->format, "PES");
		assert_int_equal(via->signatures->len, 1);
	}

	all = sdr_pes_sign_bytes(signer, one, NULL, &r2, &error);
	assert_non_null(all);
	assert_int_equal(r2->signed_ids->len, 2);
	assert_int_equal(r2->skipped_ids->len, 1);
	assert_string_equal(g_ptr_array_index(r2->skipped_ids, 0), "B2");

	again = sdr_pes_sign_bytes(signer, all, NULL, NULL, &error);
	assert_null(again);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED));
	g_clear_error(&error);

	o.bordereaux = missing;
	assert_null(sdr_pes_sign_bytes(signer, pes, &o, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NOT_FOUND));
}

static void
test_profile_checks(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) pes = make_pes(1, TRUE, NULL, "012");
	g_autoptr(GBytes) out = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	SdrSignatureResult *r;
	gboolean profile = FALSE;
	SdrPesOptions o;

	sdr_pes_options_init(&o);
	o.policy_identifier = "urn:oid:1.2.3.4";
	out = sdr_pes_sign_bytes(signer, pes, &o, NULL, NULL);
	assert_non_null(out);
	report = verify(out);
	assert_int_equal(report->signatures->len, 1);
	r = g_ptr_array_index(report->signatures, 0);
	assert_int_equal(r->verdict, SDR_VERDICT_INVALID);
	for (guint i = 0; i < r->reasons->len; i++)
		profile |=
		        ((SdrReason *)g_ptr_array_index(r->reasons, i))->code == SDR_REASON_PROFILE;
	assert_true(profile);
}

static void
test_root_mode(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) pes = make_pes(2, FALSE, NULL, "012");
	g_autoptr(SdrPesSignResult) result = NULL;
	g_autoptr(GBytes) out = sdr_pes_sign_bytes(signer, pes, NULL, &result, NULL);
	g_autoptr(SdrVerifyReport) report = NULL;

	assert_non_null(out);
	assert_true(result->root);
	assert_string_equal(g_ptr_array_index(result->signed_ids, 0), "ROOT1");
	report = verify(out);
	assert_int_equal(report->signatures->len, 1);
	assert_int_equal(((SdrSignatureResult *)g_ptr_array_index(report->signatures, 0))->verdict,
	                 SDR_VERDICT_VALID);
	assert_int_equal(report->notes->len, 0);
}

/* Root mode is canonicalised from the reader's events; verification uses the tree:
 * they must agree on CDATA, PIs, comments, default namespaces, entities. */
static void
test_root_mode_streaming_edges(void **state)
{
	static const char xml[] =
	        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!-- before -->\n<?pi before?>\n"
	        "<n:PES_Aller xmlns:n=\"urn:pes\" xmlns:unused=\"urn:u\" Id=\"R1\" "
	        "xml:lang=\"fr\">\n<Enveloppe><Parametres><NomFic V=\"a&amp;b\"/></Parametres>"
	        "</Enveloppe>\n<PES_DepenseAller>\n<Bordereau><X xmlns=\"urn:d\" a=\"1&#9;2\" "
	        "b='q\"q'><Y xmlns=\"\"><![CDATA[<c> & \xe9]]></Y><?pi in?><!-- c --></X>"
	        "</Bordereau>\r\n<Bordereau Id=\"B2\"><Z/></Bordereau>\n</PES_DepenseAller>\n"
	        "<PES_PJ><Fichier>QUJD&#xD;</Fichier></PES_PJ>\n</n:PES_Aller>\n<!-- after -->\n";
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) pes = g_bytes_new_static(xml, sizeof(xml) - 1);
	g_autoptr(SdrPesSignResult) result = NULL;
	g_autoptr(GBytes) out = sdr_pes_sign_bytes(signer, pes, NULL, &result, NULL);
	g_autoptr(SdrVerifyReport) report = NULL;

	assert_non_null(out);
	assert_true(result->root);
	report = verify(out);
	assert_int_equal(report->signatures->len, 1);
	assert_int_equal(((SdrSignatureResult *)g_ptr_array_index(report->signatures, 0))->verdict,
	                 SDR_VERDICT_VALID);
}

/* ---- refusals ---- */

static void
expect_refusal(const char *xml, gssize len, int code)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) in = g_bytes_new(xml, len < 0 ? strlen(xml) : (gsize)len);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) out = sdr_pes_sign_bytes(signer, in, NULL, NULL, &error);

	assert_null(out);
	assert_non_null(error);
	if (error->code != code)
		fail_msg("expected %s, got %s: %s", sdr_error_code_name(code),
		         sdr_error_code_name(error->code), error->message);
}

static char *
replace(GBytes *b, const char *from, const char *to)
{
	g_autofree char *s = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
	g_auto(GStrv) parts = g_strsplit(s, from, 2);

	return g_strjoinv(to, parts);
}

static void
test_refusals(void **state)
{
	g_autoptr(GBytes) good = make_pes(2, TRUE, NULL, "012");
	g_autoptr(GBytes) long_codcol = make_pes(2, TRUE, NULL, "0123");
	g_autofree char *not_pes = replace(good, "PES_Aller", "PES_Retour");
	g_autofree char *utf8 = replace(good, "ISO-8859-1", "UTF-8");
	g_autofree char *no_nomfic = replace(good, "NomFic", "NomFichier");
	g_autofree char *long_idcoll = replace(good, "21290001200011", "212900012000112");
	g_autofree char *dup = replace(good, "Id=\"B2\"", "Id=\"B1\"");
	g_autofree char *dup_root = replace(good, "Id=\"B2\"", "Id=\"ROOT1\"");
	g_autofree char *xxe = replace(good, "<n:PES_Aller",
	                               "<!DOCTYPE n:PES_Aller [<!ENTITY x SYSTEM "
	                               "\"file:///etc/passwd\">]><n:PES_Aller");
	g_autofree char *big_attr = NULL;

	expect_refusal(not_pes, -1, SDR_ERROR_PROFILE);
	expect_refusal(utf8, -1, SDR_ERROR_PROFILE);
	expect_refusal(no_nomfic, -1, SDR_ERROR_PROFILE);
	expect_refusal(g_bytes_get_data(long_codcol, NULL), (gssize)g_bytes_get_size(long_codcol),
	               SDR_ERROR_PROFILE);
	expect_refusal(long_idcoll, -1, SDR_ERROR_PROFILE);
	expect_refusal(dup, -1, SDR_ERROR_PROFILE);
	expect_refusal(dup_root, -1, SDR_ERROR_PROFILE);
	expect_refusal(xxe, -1, SDR_ERROR_PROFILE);
	expect_refusal("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><n:PES_Aller>", -1,
	               SDR_ERROR_PARSE);
	expect_refusal(g_bytes_get_data(good, NULL), (gssize)g_bytes_get_size(good) - 20,
	               SDR_ERROR_PARSE);
	expect_refusal("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a><b></a></b>", -1,
	               SDR_ERROR_PROFILE);
	{
		g_autofree char *mismatch = replace(good, "</Piece>", "</Piec>");

		expect_refusal(mismatch, -1, SDR_ERROR_PARSE);
	}
	expect_refusal("", 0, SDR_ERROR_PROFILE);
	{
		/* Well-formed for the scanner, broken for libxml2. */
		g_autofree char *broken =
		        replace(good, "<Mt V=\"100.00\"/>", "<Mt V=\"1\" V=\"2\"/>");

		expect_refusal(broken, -1, SDR_ERROR_PARSE);
	}
	{
		g_autofree char *huge = g_strnfill(SDR_PES_MAX_ATTR + 10, 'A');
		g_autofree char *attr = g_strdup_printf("<Mt V=\"%s\"/>", huge);

		big_attr = replace(good, "<Mt V=\"100.00\"/>", attr);
		expect_refusal(big_attr, -1, SDR_ERROR_TOO_LARGE);
	}
}

static void
test_marche_actes_bytes(void **state)
{
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(test_key, test_cert, NULL);
	g_autoptr(GBytes) doc = g_bytes_new_static("offre technique\n", 16);
	g_autoptr(GBytes) xades = NULL;
	g_autoptr(GBytes) cades = NULL;
	g_autoptr(GBytes) pem = NULL;
	g_autofree char *name1 = NULL;
	g_autofree char *name2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDateTime) later = g_date_time_new_utc(2100, 1, 1, 0, 0, 0);
	SdrMarcheOptions o;

	sdr_marche_options_init(&o);
	xades = sdr_marche_sign_bytes(signer, doc, "/tmp/offre.odt", &o, &name1, &error);
	assert_no_error_report(error);
	assert_string_equal(name1, "offre.odt - Signature 1.xml");
	assert_non_null(g_strstr_len(g_bytes_get_data(xades, NULL), (gssize)g_bytes_get_size(xades),
	                             "SignedProperties"));
	o.cades = TRUE;
	cades = sdr_marche_sign_bytes(signer, doc, "offre.odt", &o, &name2, &error);
	assert_no_error_report(error);
	assert_string_equal(name2, "offre.odt.p7s");
	assert_int_equal(((const guint8 *)g_bytes_get_data(cades, NULL))[0], 0x30);

	/* Certificate checks: expired at that date; no signature key usage. */
	assert_false(sdr_marche_check_certificate(test_cert, later, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED));
	g_clear_error(&error);
	{
		X509 *auth = X509_dup(test_cert);
		int idx = X509_get_ext_by_NID(auth, NID_key_usage, -1);
		X509_EXTENSION *ext;

		X509_EXTENSION_free(X509_delete_ext(auth, idx));
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,digitalSignature");
		X509_add_ext(auth, ext, -1);
		X509_EXTENSION_free(ext);
		X509_sign(auth, test_key, EVP_sha256());
		assert_false(sdr_marche_check_certificate(auth, NULL, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CERT_USAGE));
		g_clear_error(&error);
		X509_free(auth);
	}

	/* The format by the bytes (sdr_pades_check_is_pdf): a PDF under any name is
	 * PAdES, a ".pdf" that is not a PDF is refused, not given a XAdES jeton. */
	{
		static const guint8 pdf_head[] = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj";
		SdrMarcheFormat f = SDR_MARCHE_XADES;
		g_autoptr(GBytes) none = NULL;
		char *no_name = NULL;

		assert_true(sdr_marche_choose_format(pdf_head, sizeof pdf_head - 1, "offre.bin",
		                                     NULL, TRUE, &f, &error));
		assert_int_equal(f, SDR_MARCHE_PADES);
		assert_true(sdr_marche_choose_format((const guint8 *)"offre", 5, "offre.odt",
		                                     "application/vnd.oasis.opendocument.text",
		                                     FALSE, &f, &error));
		assert_int_equal(f, SDR_MARCHE_XADES);
		assert_true(sdr_marche_choose_format((const guint8 *)"offre", 5, "offre.odt", NULL,
		                                     TRUE, &f, &error));
		assert_int_equal(f, SDR_MARCHE_CADES);
		assert_false(sdr_marche_choose_format((const guint8 *)"offre", 5, "offre.pdf", NULL,
		                                      FALSE, &f, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
		g_clear_error(&error);
		o.cades = FALSE;
		none = sdr_marche_sign_bytes(signer, doc, "offre.pdf", &o, &no_name, &error);
		assert_null(none);
		assert_null(no_name);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
		g_clear_error(&error);
	}

	pem = sdr_actes_sign_bytes(signer, doc, NULL, &error);
	assert_no_error_report(error);
	assert_true(g_str_has_prefix(g_bytes_get_data(pem, NULL), "-----BEGIN PKCS7-----\n"));
}

static void
test_verify_not_pes(void **state)
{
	g_autoptr(GBytes) b = g_bytes_new_static("<a/>", 4);
	g_autoptr(GError) error = NULL;

	assert_null(sdr_pes_verify_bytes(b, "a.xml", NULL, &error));
	assert_non_null(error);
	assert_true(sdr_pes_detect((const guint8 *)"<?xml?><n:PES_Aller>", 20));
	assert_true(
	        sdr_pes_detect((const guint8 *)"<?xml?>\n<!-- x -->\n<PES_Aller Id=\"a\">", 37));
	assert_false(sdr_pes_detect((const guint8 *)"<doc>PES_Aller</doc>", 20));
	assert_false(sdr_pes_detect((const guint8 *)"<a/>", 4));
}

static X509 *
policy_cert(const char *policies, gboolean qc)
{
	X509 *cert = X509_new();
	X509_EXTENSION *ext;

	X509_set_version(cert, 2);
	X509_set_pubkey(cert, test_key);
	if (policies != NULL) {
		CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
		g_auto(GStrv) oids = g_strsplit(policies, ",", -1);

		for (guint i = 0; oids[i] != NULL; i++) {
			POLICYINFO *pi = POLICYINFO_new();

			pi->policyid = OBJ_txt2obj(oids[i], 1);
			assert_non_null(pi->policyid);
			sk_POLICYINFO_push(pols, pi);
		}
		assert_int_equal(X509_add1_ext_i2d(cert, NID_certificate_policies, pols, 0, 0), 1);
		CERTIFICATEPOLICIES_free(pols);
	}
	if (qc) {
		/* QCStatements: SEQUENCE { SEQUENCE { id-etsi-qcs-QcCompliance } } */
		static const unsigned char der[] = { 0x30, 0x0a, 0x30, 0x08, 0x06, 0x06,
			                             0x04, 0x00, 0x8e, 0x46, 0x01, 0x01 };
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

		ASN1_OCTET_STRING_set(os, der, sizeof der);
		ext = X509_EXTENSION_create_by_NID(NULL, NID_qcStatements, 0, os);
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(os);
	}
	return cert;
}

/* The certificate category of the report: known policies by name, the ANSSI's arc,
 * anything else as "policy OID"; in French with a French locale. */
static void
test_policy_category(void **state)
{
	X509 *c = policy_cert("0.4.0.194112.1.2,1.2.250.1.223.9.1,1.2.250.1.999.1.1.2.3", TRUE);
	X509 *none = policy_cert(NULL, FALSE);
	g_autofree char *en = sdr_report_certificate_category(c);
	g_autofree char *en_none = sdr_report_certificate_category(none);
	g_autofree char *unknown = sdr_report_policy_text("1.2.3.4");
	g_autofree char *ncp = sdr_report_policy_text("0.4.0.2042.1.2");
	g_autofree char *fr = NULL;
	g_autofree char *fr_unknown = NULL;
	g_autofree char *fr_none = NULL;

	assert_string_equal(en, "Qualified certificate (eIDAS) ; QCP-n-qscd: qualified "
	                        "certificate for a natural person, key in a qualified device "
	                        "(0.4.0.194112.1.2) ; policy of the ANSSI 1.2.250.1.223.9.1 ; "
	                        "policy 1.2.250.1.999.1.1.2.3");
	assert_string_equal(en_none, "not stated by the certificate");
	assert_string_equal(unknown, "policy 1.2.3.4");
	assert_non_null(strstr(ncp, "NCP+"));
	assert_non_null(strstr(ncp, "(0.4.0.2042.1.2)"));

	g_unsetenv("LC_ALL");
	g_unsetenv("LC_MESSAGES");
	g_unsetenv("LANGUAGE");
	g_setenv("LANG", "fr_FR.UTF-8", TRUE);
	sdr_i18n_init();
	fr = sdr_report_certificate_category(c);
	fr_unknown = sdr_report_policy_text("1.2.3.4");
	fr_none = sdr_report_certificate_category(none);
	g_setenv("LANG", "C.UTF-8", TRUE);
	sdr_i18n_init();
	assert_non_null(strstr(fr, "certificat qualifié de personne physique, clé dans un "
	                           "dispositif qualifié (0.4.0.194112.1.2)"));
	assert_non_null(strstr(fr, "politique de l’ANSSI 1.2.250.1.223.9.1"));
	assert_non_null(strstr(fr, "politique 1.2.250.1.999.1.1.2.3"));
	assert_string_equal(fr_unknown, "politique 1.2.3.4");
	assert_string_equal(fr_none, "non indiquée par le certificat");
	X509_free(c);
	X509_free(none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c14n_matches_libxml2),
		cmocka_unit_test(test_c14n_subtree_and_skip),
		cmocka_unit_test(test_sign_verify_bordereaux),
		cmocka_unit_test(test_tamper_one_bordereau),
		cmocka_unit_test(test_filter_and_already_signed),
		cmocka_unit_test(test_profile_checks),
		cmocka_unit_test(test_root_mode),
		cmocka_unit_test(test_root_mode_streaming_edges),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_marche_actes_bytes),
		cmocka_unit_test(test_verify_not_pes),
		cmocka_unit_test(test_policy_category),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
