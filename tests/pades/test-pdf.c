/* test-pdf.c - unit tests of the PDF helpers (dictionaries, strings, dates, the raw
 * scanners, the incremental update writer) and of PAdES signing/verification in memory
 * with a throwaway key. */
#include "sdr-error.h"
#include "sdr-pades-verify.h"
#include "sdr-pades.h"
#include "sdr-pdf.h"
#include "sdr-verify-report.h"

#include <glib/gstdio.h>
#include <openssl/ec.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static GBytes *
minimal(void)
{
	static const char *const objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 200 100] >>",
		"<< /Type /Page /Parent 2 0 R /Rotate 90 >>",
	};
	GString *s = g_string_new("%PDF-1.4\n");
	gsize offs[3], x;

	for (int i = 0; i < 3; i++) {
		offs[i] = s->len;
		g_string_append_printf(s, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	x = s->len;
	g_string_append(s, "xref\n0 4\n0000000000 65535 f \n");
	for (int i = 0; i < 3; i++) {
		g_string_append_printf(s, "%010" G_GSIZE_FORMAT " 00000 n \n", offs[i]);
	}
	g_string_append_printf(
	        s, "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n",
	        x);
	return g_string_free_to_bytes(s);
}

/* The one "is this a PDF" rule: the bytes decide, names and media types are hints
 * checked against them. */
static void
test_is_pdf_rule(void **state)
{
	g_autoptr(GBytes) pdf = minimal();
	gsize plen = 0;
	const guint8 *p = g_bytes_get_data(pdf, &plen);
	guint8 late[SDR_PDF_MAGIC_WINDOW + 16];
	static const guint8 text[] = "Mémoire technique, pas un PDF\n";
	gboolean is_pdf = TRUE;
	GError *error = NULL;

	(void)state;
	assert_true(sdr_pades_is_pdf(p, plen));
	assert_false(sdr_pades_is_pdf(text, sizeof text - 1));
	assert_false(sdr_pades_is_pdf(NULL, 0));
	assert_false(sdr_pades_is_pdf((const guint8 *)"%PDF", 4));
	/* After other bytes: inside the first 1024 bytes only, as PDF readers accept. */
	memset(late, ' ', sizeof late);
	memcpy(late + SDR_PDF_MAGIC_WINDOW - 5, "%PDF-", 5);
	assert_true(sdr_pades_is_pdf(late, sizeof late));
	memset(late, ' ', sizeof late);
	memcpy(late + SDR_PDF_MAGIC_WINDOW - 4, "%PDF-", 5);
	assert_false(sdr_pades_is_pdf(late, sizeof late));

	/* A PDF whatever its name or declared type. */
	assert_true(sdr_pades_check_is_pdf(p, plen, "scan.dat", "application/octet-stream", &is_pdf,
	                                   &error));
	assert_null(error);
	assert_true(is_pdf);
	assert_true(sdr_pades_check_is_pdf(p, plen, "offre.PDF", NULL, &is_pdf, &error));
	assert_true(is_pdf);
	/* Not a PDF, and nothing says it is: signed as what it is. */
	assert_true(sdr_pades_check_is_pdf(text, sizeof text - 1, "memoire.odt", "text/plain",
	                                   &is_pdf, &error));
	assert_null(error);
	assert_false(is_pdf);
	/* Named or declared a PDF while the bytes are not: refused with a clear reason, and
	 * *is_pdf untouched. */
	is_pdf = TRUE;
	assert_false(
	        sdr_pades_check_is_pdf(text, sizeof text - 1, "offre.pdf", NULL, &is_pdf, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
	assert_non_null(strstr(error->message, "offre.pdf"));
	assert_true(is_pdf);
	g_clear_error(&error);
	assert_false(sdr_pades_check_is_pdf(text, sizeof text - 1, "offre", "Application/PDF",
	                                    &is_pdf, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
	g_clear_error(&error);
}

static void
test_dict(void **state)
{
	g_autoptr(SdrPdfDict) d = sdr_pdf_dict_new();
	g_autoptr(SdrPdfDict) c = NULL;
	g_autoptr(GString) s = g_string_new(NULL);

	sdr_pdf_dict_set(d, "Type", "/Page");
	sdr_pdf_dict_set(d, "A B", "1");
	sdr_pdf_dict_set(d, "Type", "/Pages");
	assert_string_equal(sdr_pdf_dict_get(d, "Type"), "/Pages");
	assert_null(sdr_pdf_dict_get(d, "Nope"));
	c = sdr_pdf_dict_copy(d);
	sdr_pdf_dict_remove(c, "Type");
	sdr_pdf_dict_append_to(d, s);
	assert_string_equal(s->str, "<< /Type /Pages /A#20B 1 >>");
	g_string_truncate(s, 0);
	sdr_pdf_dict_append_to(c, s);
	assert_string_equal(s->str, "<< /A#20B 1 >>");
}

static void
test_strings(void **state)
{
	g_autoptr(GString) s = g_string_new(NULL);

	sdr_pdf_append_string(s, (const guint8 *)"a(b)\\\n\x01", 7);
	assert_string_equal(s->str, "(a\\(b\\)\\\\\\n\\001)");
	g_string_truncate(s, 0);
	sdr_pdf_append_text_string(s, "Lieu");
	assert_string_equal(s->str, "(Lieu)");
	g_string_truncate(s, 0);
	sdr_pdf_append_text_string(s, "é");
	assert_string_equal(s->str, "(\\376\\377\\000\\351)");
	{
		gsize n;
		g_autofree char *w = sdr_pdf_winansi("Signé — œ", &n);

		assert_int_equal(n, 9);
		assert_int_equal((guint8)w[4], 0xe9);
		assert_int_equal((guint8)w[6], 0x97);
		assert_int_equal((guint8)w[8], 0x9c);
	}
}

static void
test_dates(void **state)
{
	g_autoptr(GDateTime) t = g_date_time_new_utc(2026, 11, 22, 3, 4, 5);
	g_autofree char *s = sdr_pdf_date(t);
	g_autoptr(GDateTime) back = sdr_pdf_date_parse(s);
	g_autoptr(GDateTime) off = sdr_pdf_date_parse("D:20261122040405+01'00'");
	g_autoptr(GDateTime) bad = sdr_pdf_date_parse("D:2026x");

	assert_string_equal(s, "D:20261122030405Z");
	assert_non_null(back);
	assert_true(g_date_time_equal(t, back));
	assert_non_null(off);
	assert_true(g_date_time_equal(t, off));
	assert_null(bad);
	{
		g_autofree char *o = sdr_pades_default_output("/a/b/Délib.PDF");
		g_autofree char *o2 = sdr_pades_default_output("x");

		assert_string_equal(o, "/a/b/Délib-signe.pdf");
		assert_string_equal(o2, "./x-signe.pdf");
	}
}

static void
test_scan(void **state)
{
	/* A signature dictionary inline in a field object, /Contents before /ByteRange. */
	static const char pdf[] =
	        "%PDF-1.7\n5 0 obj\n<< /FT /Sig /T (S) /V << /Type /Sig /Contents <3000> "
	        "/ByteRange [0 40 47 20] /SubFilter /ETSI.CAdES.detached /M (D:20260101000000Z) "
	        "/Cert (x) >> >>\nendobj\n%%EOF\r\n7 0 obj\n[1 2]\nendobj\n%%EOF";
	const guint8 *d = (const guint8 *)pdf;
	gsize len = sizeof pdf - 1;
	g_autoptr(GPtrArray) sigs = sdr_pdf_scan_signatures(d, len);
	g_autoptr(GArray) revs = sdr_pdf_scan_revisions(d, len);
	g_autoptr(GPtrArray) objs = sdr_pdf_scan_objects(d, len, 0, len);
	SdrPdfSigDict *s;
	const char *c = strstr(pdf, "<3000>");

	assert_int_equal(sigs->len, 1);
	s = g_ptr_array_index(sigs, 0);
	assert_int_equal(s->num, 5);
	assert_int_equal(s->n_byte_range, 4);
	assert_int_equal(s->byte_range[3], 20);
	assert_int_equal(s->contents_start, (gsize)(c - pdf));
	assert_int_equal(s->contents_end, (gsize)(c - pdf) + 6);
	assert_true(s->contents_hex);
	assert_int_equal(g_bytes_get_size(s->contents), 2);
	assert_string_equal(s->sub_filter, "ETSI.CAdES.detached");
	assert_string_equal(s->m, "D:20260101000000Z");
	assert_true(s->has_cert);
	assert_int_equal(revs->len, 2);
	assert_int_equal(g_array_index(revs, gsize, 0), (gsize)(strstr(pdf, "\r\n7") - pdf) + 2);
	assert_int_equal(objs->len, 2);
	assert_string_equal(((SdrPdfObjectDef *)g_ptr_array_index(objs, 0))->kind, "sigfield");
	assert_string_equal(((SdrPdfObjectDef *)g_ptr_array_index(objs, 1))->kind, "array");
	assert_string_equal(sdr_pdf_classify_object(d, len, (gsize)(strstr(pdf, "<< /Type") - pdf)),
	                    "sig");
	/* Garbage and truncations do not crash. */
	for (gsize i = 0; i < len; i++) {
		g_autoptr(GPtrArray) t = sdr_pdf_scan_signatures(d, i);
		g_autoptr(GPtrArray) o = sdr_pdf_scan_objects(d, i, 0, i);
	}
}

/* Real-world writers glue an update's first object to the previous "%%EOF" (DSS file
 * TEST2_signed_with_zero_policy_hash): the signature dictionary must still be found. */
static void
test_scan_glued_eof(void **state)
{
	static const char pdf[] = "%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF23 0 obj\n<< /Type /Sig "
	                          "/Contents <3000> /ByteRange [0 10 20 30] >>\nendobj\n%%EOF\n";
	g_autoptr(GPtrArray) sigs = sdr_pdf_scan_signatures((const guint8 *)pdf, sizeof pdf - 1);
	g_autoptr(GArray) revs = sdr_pdf_scan_revisions((const guint8 *)pdf, sizeof pdf - 1);

	(void)state;
	assert_int_equal(sigs->len, 1);
	assert_int_equal(((SdrPdfSigDict *)g_ptr_array_index(sigs, 0))->num, 23);
	assert_int_equal(revs->len, 2);
}

static void
test_doc_and_update(void **state)
{
	g_autoptr(GBytes) in = minimal();
	g_autoptr(GError) error = NULL;
	const int pages[] = { 0, -1 };
	g_autoptr(SdrPdfDoc) doc = sdr_pdf_doc_open_memory(g_bytes_get_data(in, NULL),
	                                                   g_bytes_get_size(in), pages, &error);
	g_autoptr(GByteArray) out = g_byte_array_new();
	SdrPdfPage *p;
	int n;

	assert_non_null(doc);
	assert_int_equal(doc->size, 4);
	assert_true(doc->startxref > 100);
	assert_false(doc->xref_stream);
	assert_int_equal(doc->n_pages, 1);
	p = sdr_pdf_doc_get_page(doc, 0);
	assert_non_null(p);
	assert_int_equal(p->num, 3);
	assert_int_equal(p->rotate, 90);
	assert_true(p->media_box[2] == 200 && p->media_box[3] == 100);
	assert_null(doc->acroform);

	/* Two updates: a table one, then an xref stream one; qpdf must read the result. */
	g_byte_array_append(out, g_bytes_get_data(in, NULL), (guint)g_bytes_get_size(in));
	for (int round = 0; round < 2; round++) {
		g_autoptr(SdrPdfUpdate) u = sdr_pdf_update_new(doc);

		doc->xref_stream = round == 1;
		n = sdr_pdf_update_alloc(u);
		assert_int_equal(n, round == 0 ? 4 : 5);
		sdr_pdf_update_set_object(u, n, 0, "<< /Hello 1 >>", 14);
		sdr_pdf_update_finish(u, out);
		assert_int_equal(doc->file_size, out->len);
		assert_true(sdr_pdf_update_object_offset(u, n) > 0);
	}
	{
		g_autoptr(SdrPdfDoc) again =
		        sdr_pdf_doc_open_memory(out->data, out->len, pages, &error);

		assert_non_null(again);
		assert_true(again->xref_stream);
		assert_int_equal(again->size, 7);
	}
	/* Out of range page and damaged input. */
	{
		const int far[] = { 3, -1 };
		g_autoptr(SdrPdfDoc) none = sdr_pdf_doc_open_memory(
		        g_bytes_get_data(in, NULL), g_bytes_get_size(in), far, &error);

		assert_null(none);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
		g_clear_error(&error);
		none = sdr_pdf_doc_open_memory(g_bytes_get_data(in, NULL), 150, pages, &error);
		assert_null(none);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PARSE));
	}
}

/* A self-signed EC key and certificate. */
static X509 *
make_cert(EVP_PKEY **key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	*key = EVP_EC_gen("P-256");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600 * 24);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"Élise TEST",
	                           -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, *key);
	{
		X509V3_CTX ctx;
		X509_EXTENSION *e;

		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,nonRepudiation");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, *key, EVP_sha256());
	X509_NAME_free(name);
	return x;
}

static void
test_sign_verify_memory(void **state)
{
	EVP_PKEY *key = NULL;
	X509 *cert = make_cert(&key);
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(key, cert, NULL);
	g_autoptr(GBytes) in = minimal();
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) s1 = NULL, s2 = NULL;
	g_autoptr(SdrVerifyReport) rep = NULL;
	SdrPadesOptions po;
	SdrVerifyOptions vo = { 0 };

	sdr_pades_options_init(&po);
	s1 = sdr_pades_sign_bytes(signer, in, &po, &error);
	assert_non_null(s1);
	assert_memory_equal(g_bytes_get_data(s1, NULL), g_bytes_get_data(in, NULL),
	                    g_bytes_get_size(in));
	po.visible = TRUE;
	po.rect[0] = 10;
	po.rect[1] = 10;
	po.rect[2] = 80;
	po.rect[3] = 30;
	po.reason = "Contrôle";
	s2 = sdr_pades_sign_bytes(signer, s1, &po, &error);
	assert_non_null(s2);

	vo.trust = X509_STORE_new();
	X509_STORE_add_cert(vo.trust, cert);
	rep = sdr_pades_verify_bytes(s2, "s2.pdf", &vo, &error);
	assert_non_null(rep);
	assert_int_equal(rep->signatures->len, 2);
	for (guint i = 0; i < 2; i++) {
		SdrSignatureResult *r = g_ptr_array_index(rep->signatures, i);

		assert_int_equal(r->verdict, SDR_VERDICT_VALID);
		assert_int_equal(r->level, SDR_LEVEL_B_B);
		assert_string_equal(g_hash_table_lookup(r->details, "revision"), i ? "3" : "2");
		assert_string_equal(g_hash_table_lookup(r->details, "modifications"),
		                    i ? "none" : "signature");
	}
	/* One changed byte inside the first signed range. */
	{
		gsize n;
		const guint8 *src = g_bytes_get_data(s2, &n);
		guint8 *bad = g_memdup2(src, n);
		g_autoptr(GBytes) b = NULL;
		g_autoptr(SdrVerifyReport) r2 = NULL;

		bad[20] ^= 1;
		b = g_bytes_new_take(bad, n);
		r2 = sdr_pades_verify_bytes(b, "bad.pdf", &vo, &error);
		assert_non_null(r2);
		assert_int_equal(sdr_verify_report_overall(r2), SDR_VERDICT_INVALID);
	}
	/* B-T without a TSA: refused before anything is produced. */
	po.level = SDR_TARGET_LEVEL_T;
	assert_null(sdr_pades_sign_bytes(signer, in, &po, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED));
	X509_STORE_free(vo.trust);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* sdr_pades_sign_file_prehashed(): the caller's digest state of the whole file (the
 * agent's consent pass) continued over the update: the output verifies; a state of
 * other bytes gives an invalid signature; a size that changed is refused. */
static void
test_sign_file_prehashed(void **state)
{
	EVP_PKEY *key = NULL;
	X509 *cert = make_cert(&key);
	g_autoptr(SdrSigner) signer = sdr_signer_new_from_key(key, cert, NULL);
	g_autoptr(GBytes) in = minimal();
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("pades-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "a.pdf", NULL);
	g_autofree char *out = g_build_filename(dir, "a-signe.pdf", NULL);
	gsize n;
	const guint8 *p = g_bytes_get_data(in, &n);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	SdrVerifyOptions vo = { 0 };
	SdrPadesOptions po;

	sdr_pades_options_init(&po);
	vo.trust = X509_STORE_new();
	X509_STORE_add_cert(vo.trust, cert);
	assert_true(g_file_set_contents(path, (const char *)p, (gssize)n, NULL));
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
	assert_true(EVP_DigestUpdate(md, p, n) == 1);
	/* A size other than the file's: refused, nothing written. */
	assert_false(
	        sdr_pades_sign_file_prehashed(signer, path, &po, md, n + 1, out, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_IO));
	g_clear_error(&error);
	assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	for (int round = 0; round < 2; round++) {
		g_autoptr(SdrVerifyReport) rep = NULL;

		if (round == 1) {
			/* The state of other bytes of the same size. */
			guint8 *other = g_memdup2(p, n);

			other[20] ^= 1;
			assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
			assert_true(EVP_DigestUpdate(md, other, n) == 1);
			g_free(other);
			g_unlink(out);
		}
		if (!sdr_pades_sign_file_prehashed(signer, path, &po, md, n, out, NULL, &error))
			fail_msg("sign: %s", error->message);
		rep = sdr_pades_verify_file(out, &vo, &error);
		assert_non_null(rep);
		assert_int_equal(sdr_verify_report_overall(rep),
		                 round == 0 ? SDR_VERDICT_VALID : SDR_VERDICT_INVALID);
	}
	g_unlink(out);
	g_unlink(path);
	g_rmdir(dir);
	EVP_MD_CTX_free(md);
	X509_STORE_free(vo.trust);
	X509_free(cert);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_pdf_rule),
		cmocka_unit_test(test_dict),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_scan_glued_eof),
		cmocka_unit_test(test_doc_and_update),
		cmocka_unit_test(test_sign_verify_memory),
		cmocka_unit_test(test_sign_file_prehashed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
