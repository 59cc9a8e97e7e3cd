/* sdr-pades.c - PAdES signing: incremental updates with a signature, /DSS and a document
 * timestamp. See docs/internals/pades.md.
 */
#include "sdr-pades.h"

#include "sdr-cms-private.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-pdf.h"
#include "sdr-revocation.h"
#include "sdr-tsa.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (1024u * 1024u)
#define WRITEBACK_CHUNK (16u * 1024u * 1024u)
#define MAX_IMAGE (8u * 1024u * 1024u)
#define BYTERANGE_PLACEHOLDER "[0 0000000000 0000000000 0000000000]"

void
sdr_pades_options_init(SdrPadesOptions *options)
{
	memset(options, 0, sizeof *options);
	options->hash = SDR_HASH_SHA256;
	options->level = SDR_TARGET_LEVEL_B;
	options->page = 1;
}

char *
sdr_pades_default_output(const char *input)
{
	g_autofree char *dir = g_path_get_dirname(input);
	g_autofree char *base = g_path_get_basename(input);
	gsize n = strlen(base);
	g_autofree char *name = NULL;

	if (n > 4 && g_ascii_strcasecmp(base + n - 4, ".pdf") == 0) {
		base[n - 4] = 0;
	}
	name = g_strdup_printf("%s-signe.pdf", base);
	return g_build_filename(dir, name, NULL);
}

/* ------------------------------------------------------------------ */
/* The one "is this a PDF" rule */

gboolean
sdr_pades_is_pdf(const guint8 *head, gsize len)
{
	gsize n = MIN(len, (gsize)SDR_PDF_MAGIC_WINDOW);

	return head != NULL && n >= 5 && memmem(head, n, "%PDF-", 5) != NULL;
}

static gboolean
hint_says_pdf(const char *name, const char *mime_type)
{
	gsize n = name != NULL ? strlen(name) : 0;

	if (n > 4 && g_ascii_strcasecmp(name + n - 4, ".pdf") == 0)
		return TRUE;
	return mime_type != NULL && g_ascii_strcasecmp(mime_type, "application/pdf") == 0;
}

gboolean
sdr_pades_check_is_pdf(const guint8 *head, gsize len, const char *name, const char *mime_type,
                       gboolean *is_pdf, GError **error)
{
	gboolean pdf = sdr_pades_is_pdf(head, len);

	if (!pdf && hint_says_pdf(name, mime_type)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("%s is presented as a PDF but its content is not a PDF (no “%%PDF-” "
		              "header): it is not signed. Check that it is the right file."),
		            name != NULL ? name : "document");
		return FALSE;
	}
	*is_pdf = pdf;
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Output: an atomic file or memory, with a running digest of everything written */

typedef struct {
	SdrAtomicFile *file;
	GByteArray *mem;
	EVP_MD_CTX *md;
} Sink;

static gboolean
sink_put(Sink *sink, const void *data, gsize len, GError **error)
{
	if (EVP_DigestUpdate(sink->md, data, len) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return FALSE;
	}
	if (sink->file != NULL) {
		return sdr_atomic_file_write(sink->file, data, len, error);
	}
	g_byte_array_append(sink->mem, data, (guint)len);
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Signing context                                                      */

typedef struct {
	SdrSigner *signer;
	const SdrPadesOptions *options;
	SdrPdfDoc *doc;
	Sink sink;
	int page_index;
	GBytes *cms;        /* the last signature's CMS (its timestamp's TSA goes into the DSS) */
	GBytes *last_token; /* the last document timestamp written */
} Ctx;

static char *
cert_cn(X509 *cert)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *out;
	int n;

	if (i < 0) {
		return g_strdup("?");
	}
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0) {
		return g_strdup("?");
	}
	out = g_utf8_make_valid((const char *)utf8, n);
	OPENSSL_free(utf8);
	return out;
}

static char *
unique_field_name(SdrPdfDoc *doc, const char *wanted)
{
	if (wanted != NULL) {
		return g_strdup(wanted);
	}
	for (int i = 1;; i++) {
		g_autofree char *n = g_strdup_printf("Signature%d", i);
		gboolean used = FALSE;

		for (guint k = 0; k < doc->field_names->len; k++) {
			if (strcmp(g_ptr_array_index(doc->field_names, k), n) == 0) {
				used = TRUE;
				break;
			}
		}
		if (!used) {
			return g_steal_pointer(&n);
		}
	}
}

static char *
ref_text(int num, int gen)
{
	return g_strdup_printf("%d %d R", num, gen);
}

static char *
items_text(GPtrArray *items)
{
	GString *s = g_string_new("[");

	for (guint i = 0; items != NULL && i < items->len; i++) {
		g_string_append_printf(s, "%s%s", i ? " " : "",
		                       (char *)g_ptr_array_index(items, i));
	}
	g_string_append_c(s, ']');
	return g_string_free(s, FALSE);
}

static void
write_dict_object(SdrPdfUpdate *u, int num, int gen, const SdrPdfDict *dict)
{
	g_autoptr(GString) s = g_string_new(NULL);

	sdr_pdf_dict_append_to(dict, s);
	sdr_pdf_update_set_object(u, num, gen, s->str, s->len);
}

/* Adds the field/widget to the page's /Annots and the AcroForm's /Fields (rewriting the
 * page, the AcroForm object or the catalog). */
static void
add_field(Ctx *ctx, SdrPdfUpdate *u, int widget, const char *name, gboolean append)
{
	SdrPdfDoc *doc = ctx->doc;
	SdrPdfPage *page = sdr_pdf_doc_get_page(doc, ctx->page_index);
	gboolean catalog_changed = FALSE;

	if (append) {
		g_autoptr(SdrPdfDict) pd = sdr_pdf_dict_copy(page->dict);

		g_ptr_array_add(page->annots, ref_text(widget, 0));
		sdr_pdf_dict_take(pd, "Annots", items_text(page->annots));
		write_dict_object(u, page->num, page->gen, pd);
		g_ptr_array_add(doc->fields, ref_text(widget, 0));
		g_ptr_array_add(doc->field_names, g_strdup(name));
	}
	if (doc->acroform == NULL) {
		doc->acroform = sdr_pdf_dict_new();
		doc->acroform_num = sdr_pdf_update_alloc(u);
		doc->acroform_gen = 0;
		sdr_pdf_dict_take(doc->catalog, "AcroForm",
		                  ref_text(doc->acroform_num, doc->acroform_gen));
		catalog_changed = TRUE;
	}
	sdr_pdf_dict_set(doc->acroform, "SigFlags", "3");
	{
		g_autoptr(SdrPdfDict) af = sdr_pdf_dict_copy(doc->acroform);

		sdr_pdf_dict_take(af, "Fields", items_text(doc->fields));
		if (doc->acroform_num > 0) {
			write_dict_object(u, doc->acroform_num, doc->acroform_gen, af);
		} else {
			g_autoptr(GString) s = g_string_new(NULL);

			sdr_pdf_dict_append_to(af, s);
			sdr_pdf_dict_set(doc->catalog, "AcroForm", s->str);
			catalog_changed = TRUE;
		}
	}
	if (catalog_changed) {
		write_dict_object(u, doc->root_num, doc->root_gen, doc->catalog);
	}
}

static GBytes *
load_image(const SdrPadesOptions *o, GError **error)
{
	if (o->image_path != NULL) {
		return sdr_file_read(o->image_path, MAX_IMAGE, error);
	}
	if (o->image != NULL) {
		return g_bytes_ref(o->image);
	}
	return NULL;
}

static gsize
cert_der_len(X509 *cert)
{
	int n = i2d_X509(cert, NULL);

	return n > 0 ? (gsize)n : 0;
}

/* Bytes reserved for the CMS in /Contents. */
static gsize
reserve_for(Ctx *ctx, gboolean doc_ts)
{
	gsize n = 8192;
	STACK_OF(X509) * chain;

	if (doc_ts) {
		return 16384;
	}
	n += cert_der_len(sdr_signer_get_cert(ctx->signer));
	chain = sdr_signer_get_chain(ctx->signer);
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		n += cert_der_len(sk_X509_value(chain, i));
	}
	if (ctx->options->level >= SDR_TARGET_LEVEL_T) {
		n += 16384;
	}
	return n;
}

static gboolean
find_in(const guint8 *data, gsize len, const char *needle, gsize *at)
{
	const guint8 *p = memmem(data, len, needle, strlen(needle));

	if (p == NULL) {
		return FALSE;
	}
	*at = (gsize)(p - data);
	return TRUE;
}

/* Appends one update holding a signature (or a document timestamp) field. */
/* long: writes one incremental update (signature dictionary, field, widget, ByteRange,
 * digest, Contents); every object number and offset feeds the next object */
static gboolean
append_signature(Ctx *ctx, gboolean doc_ts, GError **error)
{
	const SdrPadesOptions *o = ctx->options;
	SdrPdfDoc *doc = ctx->doc;
	g_autoptr(SdrPdfUpdate) u = sdr_pdf_update_new(doc);
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GString) sig = g_string_new(NULL);
	g_autoptr(GString) w = g_string_new(NULL);
	g_autoptr(GDateTime) now =
	        o->signing_time ? g_date_time_ref(o->signing_time) : g_date_time_new_now_utc();
	SdrPdfField *existing = (!doc_ts && o->field_name != NULL)
	                                ? sdr_pdf_doc_find_field(doc, o->field_name)
	                                : NULL;
	g_autofree char *name = unique_field_name(doc, doc_ts ? NULL : o->field_name);
	g_autofree char *mdate = sdr_pdf_date(now);
	g_autoptr(GBytes) cms = NULL;
	SdrPdfPage *page = sdr_pdf_doc_get_page(doc, ctx->page_index);
	gsize reserve = reserve_for(ctx, doc_ts);
	guint64 base = doc->file_size;
	int sig_num = sdr_pdf_update_alloc(u);
	int widget = existing != NULL ? existing->num : sdr_pdf_update_alloc(u);
	double rect[4] = { o->rect[0], o->rect[1], o->rect[2], o->rect[3] };
	int rotate = page->rotate;
	gboolean visible = o->visible && !doc_ts;
	gssize body;
	int ap = 0;
	gsize br_at, lt, gt, objlen;
	guint8 digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	/* The signature dictionary, /Contents last. */
	if (doc_ts) {
		g_string_append(sig, "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite "
		                     "/SubFilter /ETSI.RFC3161");
	} else {
		g_string_append(sig, "<< /Type /Sig /Filter /Adobe.PPKLite "
		                     "/SubFilter /ETSI.CAdES.detached /M ");
		sdr_pdf_append_string(sig, (const guint8 *)mdate, strlen(mdate));
		if (o->reason != NULL) {
			g_string_append(sig, " /Reason ");
			sdr_pdf_append_text_string(sig, o->reason);
		}
		if (o->location != NULL) {
			g_string_append(sig, " /Location ");
			sdr_pdf_append_text_string(sig, o->location);
		}
	}
	g_string_append(sig, " /ByteRange " BYTERANGE_PLACEHOLDER " /Contents <");
	for (gsize i = 0; i < reserve * 2; i++) {
		g_string_append_c(sig, '0');
	}
	g_string_append(sig, "> >>");
	sdr_pdf_update_set_object(u, sig_num, 0, sig->str, sig->len);

	/* The field, merged with its widget: a new one, or the existing empty field. */
	if (existing != NULL) {
		rotate = existing->rotate;
		if (!(rect[2] > 0 && rect[3] > 0)) {
			rect[0] = MIN(existing->rect[0], existing->rect[2]);
			rect[1] = MIN(existing->rect[1], existing->rect[3]);
			rect[2] = ABS(existing->rect[2] - existing->rect[0]);
			rect[3] = ABS(existing->rect[3] - existing->rect[1]);
		}
	}
	if (visible) {
		g_autoptr(GBytes) png = load_image(o, error);
		g_autofree char *holder = cert_cn(sdr_signer_get_cert(ctx->signer));
		SdrPdfStamp st = { 0 };

		if ((o->image_path != NULL || o->image != NULL) && png == NULL) {
			return FALSE;
		}
		if (!(rect[2] > 0 && rect[3] > 0 && rect[2] < 14400 && rect[3] < 14400)) {
			g_set_error(
			        error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			        _("The signature rectangle must have a positive width and height"));
			return FALSE;
		}
		st.holder = holder;
		st.when = now;
		st.reason = o->reason;
		st.location = o->location;
		st.png = png;
		st.width = rect[2];
		st.height = rect[3];
		st.rotate = rotate;
		ap = sdr_pdf_appearance_add(u, &st, error);
		if (ap <= 0) {
			return FALSE;
		}
	}
	if (existing != NULL) {
		g_autoptr(SdrPdfDict) fd = sdr_pdf_dict_copy(existing->dict);

		sdr_pdf_dict_take(fd, "V", ref_text(sig_num, 0));
		if (visible) {
			sdr_pdf_dict_take(fd, "Rect",
			                  g_strdup_printf("[%.2f %.2f %.2f %.2f]", rect[0], rect[1],
			                                  rect[0] + rect[2], rect[1] + rect[3]));
			sdr_pdf_dict_take(fd, "AP", g_strdup_printf("<< /N %d 0 R >>", ap));
		}
		write_dict_object(u, existing->num, existing->gen, fd);
		existing->has_value = TRUE;
	} else {
		g_string_append(w, "<< /Type /Annot /Subtype /Widget /FT /Sig /T ");
		sdr_pdf_append_text_string(w, name);
		g_string_append_printf(w, " /V %d 0 R /F 132 /P %d %d R", sig_num, page->num,
		                       page->gen);
		if (visible) {
			g_string_append_printf(
			        w, " /Rect [%.2f %.2f %.2f %.2f] /AP << /N %d 0 R >>", rect[0],
			        rect[1], rect[0] + rect[2], rect[1] + rect[3], ap);
		} else {
			g_string_append(w, " /Rect [0 0 0 0]");
		}
		g_string_append(w, " >>");
		sdr_pdf_update_set_object(u, widget, 0, w->str, w->len);
	}
	add_field(ctx, u, widget, name, existing == NULL);

	sdr_pdf_update_finish(u, out);

	/* Byte range: everything but the /Contents string. */
	body = sdr_pdf_update_object_offset(u, sig_num);
	objlen = sig->len;
	if (body < 0 || !find_in(out->data + body, objlen, "/ByteRange [", &br_at) ||
	    !find_in(out->data + body, objlen, "/Contents <", &lt)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, "byte range placeholder lost");
		return FALSE;
	}
	br_at += (gsize)body + 11;
	lt += (gsize)body + 10;
	gt = lt + reserve * 2 + 2;
	{
		g_autofree char *br = g_strdup_printf("[0 %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
		                                      " %" G_GUINT64_FORMAT "]",
		                                      base + lt, base + gt, (guint64)out->len - gt);
		gsize plen = strlen(BYTERANGE_PLACEHOLDER);

		if (strlen(br) > plen) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The PDF file is too large to be signed"));
			return FALSE;
		}
		memset(out->data + br_at, ' ', plen);
		memcpy(out->data + br_at, br, strlen(br));
	}

	/* Digest: what was written so far + the update without the gap. */
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		gboolean ok = md != NULL && EVP_MD_CTX_copy_ex(md, ctx->sink.md) == 1 &&
		              EVP_DigestUpdate(md, out->data, lt) == 1 &&
		              EVP_DigestUpdate(md, out->data + gt, out->len - gt) == 1 &&
		              EVP_DigestFinal_ex(md, digest, &dlen) == 1;

		EVP_MD_CTX_free(md);
		if (!ok) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
			return FALSE;
		}
	}
	if (doc_ts) {
		cms = sdr_tsa_timestamp(o->tsa_url, o->hash, digest, dlen, error);
	} else {
		SdrCmsOptions co;

		sdr_cms_options_init(&co);
		co.hash = o->hash;
		co.level = MIN(o->level, SDR_TARGET_LEVEL_T);
		co.signing_time = FALSE;
		co.tsa_url = o->tsa_url;
		co.trust = o->trust;
		cms = sdr_cms_sign_digest(ctx->signer, digest, dlen, &co, error);
	}
	if (cms == NULL) {
		return FALSE;
	}
	if (!doc_ts) {
		g_clear_pointer(&ctx->cms, g_bytes_unref);
		ctx->cms = g_bytes_ref(cms);
	} else {
		g_clear_pointer(&ctx->last_token, g_bytes_unref);
		ctx->last_token = g_bytes_ref(cms);
	}
	{
		gsize n;
		const guint8 *p = g_bytes_get_data(cms, &n);
		static const char hex[] = "0123456789ABCDEF";

		if (n > reserve) {
			g_autofree char *sz = g_strdup_printf("%" G_GSIZE_FORMAT, n);

			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The signature (%s bytes) does not fit in the space reserved "
			              "in the PDF file"),
			            sz);
			return FALSE;
		}
		for (gsize i = 0; i < n; i++) {
			out->data[lt + 1 + 2 * i] = (guint8)hex[p[i] >> 4];
			out->data[lt + 2 + 2 * i] = (guint8)hex[p[i] & 15];
		}
	}
	return sink_put(&ctx->sink, out->data, out->len, error);
}

static void
add_der_streams(SdrPdfUpdate *u, GPtrArray *items, GPtrArray *ders)
{
	g_autoptr(SdrPdfDict) empty = sdr_pdf_dict_new();

	for (guint i = 0; i < ders->len; i++) {
		GBytes *b = g_ptr_array_index(ders, i);
		gsize n;
		const guint8 *p = g_bytes_get_data(b, &n);
		int num = sdr_pdf_update_alloc(u);

		sdr_pdf_update_set_stream(u, num, empty, p, n);
		g_ptr_array_add(items, ref_text(num, 0));
	}
}

static GPtrArray *
certs_to_der(GPtrArray *certs)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

	for (guint i = 0; certs != NULL && i < certs->len; i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(g_ptr_array_index(certs, i), &der);

		if (n > 0) {
			g_ptr_array_add(out, g_bytes_new(der, (gsize)n));
			OPENSSL_free(der);
		}
	}
	return out;
}

/* The certificates of the signature-time-stamp token of a CMS (NULL when none). */
static STACK_OF(X509) * tst_certs(GBytes *cms_der)
{
	gsize n;
	const unsigned char *p = cms_der ? g_bytes_get_data(cms_der, &n) : NULL;
	CMS_ContentInfo *cms = p ? d2i_CMS_ContentInfo(NULL, &p, (long)n) : NULL;
	STACK_OF(CMS_SignerInfo) * sis;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113549.1.9.16.2.14", 1);
	STACK_OF(X509) *out = NULL;

	if (cms != NULL && oid != NULL && (sis = CMS_get0_SignerInfos(cms)) != NULL &&
	    sk_CMS_SignerInfo_num(sis) > 0) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
		int idx = CMS_unsigned_get_attr_by_OBJ(si, oid, -1);
		X509_ATTRIBUTE *attr = idx >= 0 ? CMS_unsigned_get_attr(si, idx) : NULL;
		ASN1_TYPE *t = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;

		if (t != NULL && t->type == V_ASN1_SEQUENCE) {
			const unsigned char *q = t->value.sequence->data;
			PKCS7 *p7 = d2i_PKCS7(NULL, &q, t->value.sequence->length);

			if (p7 != NULL && PKCS7_type_is_signed(p7) && p7->d.sign->cert != NULL) {
				out = X509_chain_up_ref(p7->d.sign->cert);
			}
			PKCS7_free(p7);
		}
	}
	ASN1_OBJECT_free(oid);
	CMS_ContentInfo_free(cms);
	return out;
}

/* The /DSS update for vd (merged with an existing DSS). */
static gboolean
write_dss(Ctx *ctx, SdrValidationData *vd, GError **error)
{
	SdrPdfDoc *doc = ctx->doc;
	g_autoptr(SdrPdfUpdate) u = sdr_pdf_update_new(doc);
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GPtrArray) cert_ders = NULL;
	g_autoptr(SdrPdfDict) dss = NULL;
	int dss_num;

	if (doc->dss_certs == NULL) {
		doc->dss_certs = g_ptr_array_new_with_free_func(g_free);
		doc->dss_ocsps = g_ptr_array_new_with_free_func(g_free);
		doc->dss_crls = g_ptr_array_new_with_free_func(g_free);
	}
	cert_ders = certs_to_der(vd->certs);
	add_der_streams(u, doc->dss_certs, cert_ders);
	if (vd->ocsp_responses != NULL) {
		add_der_streams(u, doc->dss_ocsps, vd->ocsp_responses);
	}
	if (vd->crls != NULL) {
		add_der_streams(u, doc->dss_crls, vd->crls);
	}
	dss = doc->dss != NULL ? sdr_pdf_dict_copy(doc->dss) : sdr_pdf_dict_new();
	if (sdr_pdf_dict_get(dss, "Type") == NULL) {
		sdr_pdf_dict_set(dss, "Type", "/DSS");
	}
	if (doc->dss_certs->len > 0) {
		sdr_pdf_dict_take(dss, "Certs", items_text(doc->dss_certs));
	}
	if (doc->dss_ocsps->len > 0) {
		sdr_pdf_dict_take(dss, "OCSPs", items_text(doc->dss_ocsps));
	}
	if (doc->dss_crls->len > 0) {
		sdr_pdf_dict_take(dss, "CRLs", items_text(doc->dss_crls));
	}
	dss_num = sdr_pdf_update_alloc(u);
	write_dict_object(u, dss_num, 0, dss);
	sdr_pdf_dict_take(doc->catalog, "DSS", ref_text(dss_num, 0));
	write_dict_object(u, doc->root_num, doc->root_gen, doc->catalog);
	if (doc->dss == NULL) {
		doc->dss = sdr_pdf_dict_new();
		sdr_pdf_dict_set(doc->dss, "Type", "/DSS");
	}
	sdr_pdf_update_finish(u, out);
	return sink_put(&ctx->sink, out->data, out->len, error);
}

/* The TSA of a token (its non-CA certificates): chain and revocation data, required (a
 * TSA without OCSP URL nor CRLDP uses its sibling's OCSP service, e.g. the signer's): a
 * verifier judges the timestamp with them. */
static gboolean
collect_tsa(SdrValidationData *vd, STACK_OF(X509) * tsa, X509_STORE *trust, GError **error)
{
	for (int i = 0; tsa != NULL && i < sk_X509_num(tsa); i++) {
		X509 *c = sk_X509_value(tsa, i);

		if (X509_check_ca(c) == 0 && !sdr_revocation_collect_into(vd, c, tsa, trust, error))
			return FALSE;
	}
	return TRUE;
}

/* The /DSS update: chain certificates, OCSP responses and CRLs (merged with an existing DSS). */
static gboolean
append_dss(Ctx *ctx, GError **error)
{
	const SdrPadesOptions *o = ctx->options;
	g_autoptr(SdrValidationData) vd = NULL;
	STACK_OF(X509) * tsa;

	vd = sdr_revocation_collect(sdr_signer_get_cert(ctx->signer),
	                            sdr_signer_get_chain(ctx->signer), o->trust, error);
	if (vd == NULL) {
		return FALSE;
	}
	tsa = tst_certs(ctx->cms);
	if (!collect_tsa(vd, tsa, o->trust, error)) {
		sk_X509_pop_free(tsa, X509_free);
		return FALSE;
	}
	sk_X509_pop_free(tsa, X509_free);
	return write_dss(ctx, vd, error);
}

/* ------------------------------------------------------------------ */
/* Driver                                                               */

static gboolean
check_options(const SdrPadesOptions *o, GError **error)
{
	if (o->level >= SDR_TARGET_LEVEL_T && (o->tsa_url == NULL || *o->tsa_url == 0)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("Level %s needs a timestamp authority (TSA) URL"),
		            o->level == SDR_TARGET_LEVEL_T    ? "B-T"
		            : o->level == SDR_TARGET_LEVEL_LT ? "B-LT"
		                                              : "B-LTA");
		return FALSE;
	}
	if (o->page < 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Page numbers start at 1"));
		return FALSE;
	}
	return TRUE;
}

/* A named field that exists must be an empty signature field with one widget. */
static gboolean
check_field(SdrPdfDoc *doc, const SdrPadesOptions *o, GError **error)
{
	SdrPdfField *f = o->field_name ? sdr_pdf_doc_find_field(doc, o->field_name) : NULL;

	if (f == NULL) {
		if (o->field_name != NULL) {
			for (guint i = 0; i < doc->field_names->len; i++) {
				if (g_strcmp0(g_ptr_array_index(doc->field_names, i),
				              o->field_name) == 0) {
					g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
					            _("The field %s cannot be signed: unsupported "
					              "structure"),
					            o->field_name);
					return FALSE;
				}
			}
		}
		return TRUE;
	}
	if (!f->is_sig) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The field %s is not a signature field"), f->name);
		return FALSE;
	}
	if (f->has_value) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED,
		            _("The signature field %s is already signed"), f->name);
		return FALSE;
	}
	if (!f->is_widget) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("The field %s cannot be signed: unsupported structure"), f->name);
		return FALSE;
	}
	return TRUE;
}

typedef gboolean (*CopyFunc)(gpointer src, Sink *sink, guint64 expected, GError **error);

static gboolean
sign_common(SdrSigner *signer, SdrPdfDoc *doc, const SdrPadesOptions *o, Sink *sink, CopyFunc copy,
            gpointer src, GError **error)
{
	Ctx ctx = { 0 };

	ctx.signer = signer;
	ctx.options = o;
	ctx.doc = doc;
	ctx.page_index = o->page - 1;
	ctx.sink = *sink;
	if (doc->docmdp_p == 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("The document is certified and its author allows no change: it "
		              "cannot be signed again"));
		return FALSE;
	}
	if (!check_field(doc, o, error)) {
		return FALSE;
	}
	if (EVP_DigestInit_ex(sink->md, sdr_hash_md(o->hash), NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return FALSE;
	}
	if (!copy(src, sink, doc->file_size, error)) {
		return FALSE;
	}
	if (!append_signature(&ctx, FALSE, error)) {
		g_clear_pointer(&ctx.cms, g_bytes_unref);
		return FALSE;
	}
	if (o->level >= SDR_TARGET_LEVEL_LT && !append_dss(&ctx, error)) {
		g_clear_pointer(&ctx.cms, g_bytes_unref);
		return FALSE;
	}
	if (o->level >= SDR_TARGET_LEVEL_LTA && !append_signature(&ctx, TRUE, error)) {
		g_clear_pointer(&ctx.cms, g_bytes_unref);
		g_clear_pointer(&ctx.last_token, g_bytes_unref);
		return FALSE;
	}
	g_clear_pointer(&ctx.cms, g_bytes_unref);
	g_clear_pointer(&ctx.last_token, g_bytes_unref);
	return TRUE;
}

/* The original bytes are copied by a worker thread (copy_file_range, in the kernel) while
 * this thread reads and hashes them: the two run on different cores. */
typedef struct {
	int in_fd; /* shared with the hashing thread: only positioned reads here */
	int out_fd;
	guint64 len;
	int err;
} CopyJob;

static gboolean
write_all(int fd, const guint8 *p, gsize n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return FALSE;
		}
		p += w;
		n -= (gsize)w;
	}
	return TRUE;
}

static gpointer
copy_worker(gpointer data)
{
	CopyJob *job = data;
	int in = job->in_fd;
	loff_t off = 0;
	gboolean fallback = FALSE;

	while ((guint64)off < job->len) {
		loff_t start = off;
		gsize want = (gsize)MIN(job->len - (guint64)off, (guint64)WRITEBACK_CHUNK);
		ssize_t n = copy_file_range(in, &off, job->out_fd, NULL, want, 0);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && off == 0 &&
		    (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
			fallback = TRUE;
			break;
		}
		if (n <= 0) {
			job->err = n < 0 ? errno : EIO;
			break;
		}
		/* Start the disk writes now, so that the final fsync has little left to do. */
		(void)sync_file_range(job->out_fd, start, n, SYNC_FILE_RANGE_WRITE);
	}
	if (fallback) {
		g_autofree guint8 *buf = g_malloc(COPY_CHUNK);

		while ((guint64)off < job->len) {
			ssize_t n = pread(in, buf, (gsize)MIN(COPY_CHUNK, job->len - (guint64)off),
			                  off);

			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0 || !write_all(job->out_fd, buf, (gsize)n)) {
				job->err = n < 0 ? errno : EIO;
				break;
			}
			(void)sync_file_range(job->out_fd, off, n, SYNC_FILE_RANGE_WRITE);
			off += n;
		}
	}
	return NULL;
}

static gboolean
copy_fd(gpointer src, Sink *sink, guint64 expected, GError **error)
{
	int fd = GPOINTER_TO_INT(src);
	g_autofree guint8 *buf = g_malloc(COPY_CHUNK);
	guint64 total = 0;
	CopyJob job = { 0 };
	GThread *worker = NULL;
	gboolean ok = TRUE;

	job.in_fd = fd;
	job.out_fd = sdr_atomic_file_get_fd(sink->file);
	job.len = expected;
	worker = g_thread_try_new("sdr-pades-copy", copy_worker, &job, NULL);
	if (worker == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, "thread");
		return FALSE;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int e = errno;

			g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
			            _("Cannot read the PDF file: %s"), g_strerror(e));
			ok = FALSE;
			break;
		}
		if (n == 0) {
			break;
		}
		total += (guint64)n;
		if (total > expected) {
			break;
		}
		if (EVP_DigestUpdate(sink->md, buf, (gsize)n) != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
			ok = FALSE;
			break;
		}
	}
	g_thread_join(worker);
	if (!ok) {
		return FALSE;
	}
	if (job.err != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("Cannot write the signed PDF file: %s"), g_strerror(job.err));
		return FALSE;
	}
	if (total != expected) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("The PDF file changed while it was being signed"));
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_pades_check_file(const char *input, const SdrPadesOptions *options, GError **error)
{
	SdrPadesOptions defaults;
	const SdrPadesOptions *o = options;
	g_autoptr(SdrPdfDoc) doc = NULL;
	int pages[2];

	g_return_val_if_fail(input != NULL, FALSE);
	if (o == NULL) {
		sdr_pades_options_init(&defaults);
		o = &defaults;
	}
	if (!check_options(o, error))
		return FALSE;
	pages[0] = o->page - 1;
	pages[1] = -1;
	doc = sdr_pdf_doc_open(input, pages, error);
	return doc != NULL;
}

gboolean
sdr_pades_sign_file(SdrSigner *signer, const char *input, const SdrPadesOptions *options,
                    const char *output, char **out_path, GError **error)
{
	SdrPadesOptions defaults;
	const SdrPadesOptions *o = options;
	g_autofree char *out = NULL;
	g_autoptr(SdrPdfDoc) doc = NULL;
	g_autoptr(SdrAtomicFile) af = NULL;
	Sink sink = { 0 };
	int pages[2];
	int fd = -1;
	gboolean ok = FALSE;

	g_return_val_if_fail(signer != NULL && input != NULL, FALSE);
	if (o == NULL) {
		sdr_pades_options_init(&defaults);
		o = &defaults;
	}
	if (!check_options(o, error)) {
		return FALSE;
	}
	out = output != NULL ? g_strdup(output) : sdr_pades_default_output(input);
	pages[0] = o->page - 1;
	pages[1] = -1;
	doc = sdr_pdf_doc_open(input, pages, error);
	if (doc == NULL) {
		return FALSE;
	}
	fd = g_open(input, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;

		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot open %s: %s"), input,
		            g_strerror(e));
		return FALSE;
	}
	af = sdr_atomic_file_new(out, error);
	if (af == NULL) {
		goto done;
	}
	sink.file = af;
	sink.md = EVP_MD_CTX_new();
	if (sink.md == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO, "EVP_MD_CTX_new");
		goto done;
	}
	if (!sign_common(signer, doc, o, &sink, copy_fd, GINT_TO_POINTER(fd), error)) {
		goto done;
	}
	close(fd);
	fd = -1;
	if (!sdr_atomic_file_commit(af, error)) {
		goto done;
	}
	ok = TRUE;
	if (out_path != NULL) {
		*out_path = g_steal_pointer(&out);
	}
done:
	if (fd >= 0) {
		close(fd);
	}
	EVP_MD_CTX_free(sink.md);
	return ok;
}

static gboolean
copy_mem(gpointer src, Sink *sink, guint64 expected, GError **error)
{
	GBytes *b = src;
	gsize n;
	const guint8 *p = g_bytes_get_data(b, &n);

	if (n != expected) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, "size mismatch");
		return FALSE;
	}
	return sink_put(sink, p, n, error);
}

#define MAX_PDF_MEMORY (G_MAXUINT32 - 64u * 1024u * 1024u)

GBytes *
sdr_pades_sign_bytes(SdrSigner *signer, GBytes *pdf, const SdrPadesOptions *options, GError **error)
{
	SdrPadesOptions defaults;
	const SdrPadesOptions *o = options;
	g_autoptr(SdrPdfDoc) doc = NULL;
	g_autoptr(GByteArray) mem = NULL;
	Sink sink = { 0 };
	int pages[2];
	gsize n;
	const guint8 *p;
	gboolean ok;

	g_return_val_if_fail(signer != NULL && pdf != NULL, NULL);
	if (o == NULL) {
		sdr_pades_options_init(&defaults);
		o = &defaults;
	}
	if (!check_options(o, error)) {
		return NULL;
	}
	p = g_bytes_get_data(pdf, &n);
	if (n > MAX_PDF_MEMORY) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("The PDF document is too large"));
		return NULL;
	}
	pages[0] = o->page - 1;
	pages[1] = -1;
	doc = sdr_pdf_doc_open_memory(p, n, pages, error);
	if (doc == NULL) {
		return NULL;
	}
	mem = g_byte_array_sized_new((guint)n + 65536);
	sink.mem = mem;
	sink.md = EVP_MD_CTX_new();
	ok = sink.md != NULL && sign_common(signer, doc, o, &sink, copy_mem, pdf, error);
	EVP_MD_CTX_free(sink.md);
	if (!ok) {
		return NULL;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&mem));
}

/* sdr_pades_sign_file_prehashed(): the original bytes are only copied (in the kernel);
 * their digest is the caller's, continued with the incremental update. */
typedef struct {
	int fd;
	const EVP_MD_CTX *prefix;
} Prehashed;

static gboolean
copy_prehashed(gpointer src, Sink *sink, guint64 expected, GError **error)
{
	Prehashed *ph = src;
	CopyJob job = { 0 };
	struct stat st;

	if (fstat(ph->fd, &st) != 0 || (guint64)st.st_size != expected) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("The PDF file changed while it was being signed"));
		return FALSE;
	}
	if (EVP_MD_CTX_copy_ex(sink->md, ph->prefix) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return FALSE;
	}
	job.in_fd = ph->fd;
	job.out_fd = sdr_atomic_file_get_fd(sink->file);
	job.len = expected;
	(void)posix_fadvise(ph->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	copy_worker(&job);
	if (job.err != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("Cannot write the signed PDF file: %s"), g_strerror(job.err));
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_pades_sign_file_prehashed(SdrSigner *signer, const char *input, const SdrPadesOptions *options,
                              const EVP_MD_CTX *prefix, guint64 prefix_len, const char *output,
                              char **out_path, GError **error)
{
	SdrPadesOptions defaults;
	const SdrPadesOptions *o = options;
	g_autofree char *out = NULL;
	g_autoptr(SdrPdfDoc) doc = NULL;
	g_autoptr(SdrAtomicFile) af = NULL;
	Sink sink = { 0 };
	Prehashed ph = { -1, prefix };
	int pages[2];
	gboolean ok = FALSE;

	g_return_val_if_fail(signer != NULL && input != NULL && prefix != NULL, FALSE);
	if (o == NULL) {
		sdr_pades_options_init(&defaults);
		o = &defaults;
	}
	if (!check_options(o, error)) {
		return FALSE;
	}
	if (EVP_MD_CTX_get0_md(prefix) == NULL ||
	    EVP_MD_get_type(EVP_MD_CTX_get0_md(prefix)) != EVP_MD_get_type(sdr_hash_md(o->hash))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, "prefix digest");
		return FALSE;
	}
	out = output != NULL ? g_strdup(output) : sdr_pades_default_output(input);
	pages[0] = o->page - 1;
	pages[1] = -1;
	doc = sdr_pdf_doc_open(input, pages, error);
	if (doc == NULL) {
		return FALSE;
	}
	if ((guint64)doc->file_size != prefix_len) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("The PDF file changed while it was being signed"));
		return FALSE;
	}
	ph.fd = g_open(input, O_RDONLY | O_CLOEXEC, 0);
	if (ph.fd < 0) {
		int e = errno;

		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot open %s: %s"), input,
		            g_strerror(e));
		return FALSE;
	}
	af = sdr_atomic_file_new(out, error);
	if (af == NULL) {
		goto done;
	}
	sink.file = af;
	sink.md = EVP_MD_CTX_new();
	if (sink.md == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO, "EVP_MD_CTX_new");
		goto done;
	}
	if (!sign_common(signer, doc, o, &sink, copy_prehashed, &ph, error) ||
	    !sdr_atomic_file_commit(af, error)) {
		goto done;
	}
	ok = TRUE;
	if (out_path != NULL) {
		*out_path = g_steal_pointer(&out);
	}
done:
	close(ph.fd);
	EVP_MD_CTX_free(sink.md);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Extension of an already signed PDF (sinadur extend)                  */

/* Validation data for every signature's signer (must succeed) and every timestamp's TSA
 * (best effort), from the CMS blobs (GBytes*) of sigs and the tokens of doc_ts. */
static SdrValidationData *
collect_for_pdf(GPtrArray *sigs, GPtrArray *doc_ts, X509_STORE *trust, GError **error)
{
	g_autoptr(SdrValidationData) vd = sdr_validation_data_new();

	for (guint i = 0; i < sigs->len; i++) {
		gsize n;
		const unsigned char *p = g_bytes_get_data(g_ptr_array_index(sigs, i), &n);
		CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
		STACK_OF(X509) *certs = cms != NULL ? CMS_get1_certs(cms) : NULL;
		STACK_OF(CMS_SignerInfo) *sis = cms != NULL ? CMS_get0_SignerInfos(cms) : NULL;
		X509 *cert = NULL;
		gboolean ok;

		for (int k = 0; sis != NULL && sk_CMS_SignerInfo_num(sis) > 0 &&
		                k < sk_X509_num(certs) && cert == NULL;
		     k++)
			if (CMS_SignerInfo_cert_cmp(sk_CMS_SignerInfo_value(sis, 0),
			                            sk_X509_value(certs, k)) == 0)
				cert = sk_X509_value(certs, k);
		if (cert == NULL) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
			                    _("The signer's certificate is not in the signature"));
			ok = FALSE;
		} else {
			ok = sdr_revocation_collect_into(vd, cert, certs, trust, error);
		}
		sk_X509_pop_free(certs, X509_free);
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		if (!ok)
			return NULL;
		{
			STACK_OF(X509) *tsa = tst_certs(g_ptr_array_index(sigs, i));

			ok = collect_tsa(vd, tsa, trust, error);
			sk_X509_pop_free(tsa, X509_free);
			if (!ok)
				return NULL;
		}
	}
	for (guint i = 0; i < doc_ts->len; i++) {
		gsize n;
		const unsigned char *p = g_bytes_get_data(g_ptr_array_index(doc_ts, i), &n);
		PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)n);

		gboolean ok = p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign->cert == NULL ||
		              collect_tsa(vd, p7->d.sign->cert, trust, error);

		PKCS7_free(p7);
		ERR_clear_error();
		if (!ok)
			return NULL;
	}
	return g_steal_pointer(&vd);
}

/* Renewal (EN 319 142-1 B-LTA): the chain and revocation data of the last document
 * timestamp's TSA (required: it is what the next document timestamp preserves); the
 * signatures' certificates help find its OCSP service. */
static SdrValidationData *
collect_for_renewal(GPtrArray *sigs, GPtrArray *doc_ts, X509_STORE *trust, GError **error)
{
	GBytes *last = doc_ts->len > 0 ? g_ptr_array_index(doc_ts, doc_ts->len - 1) : NULL;
	STACK_OF(X509) *known = sk_X509_new_null();
	SdrValidationData *vd;

	for (guint i = 0; i < sigs->len; i++) {
		gsize n;
		const unsigned char *p = g_bytes_get_data(g_ptr_array_index(sigs, i), &n);
		CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
		STACK_OF(X509) *certs = cms != NULL ? CMS_get1_certs(cms) : NULL;

		while (certs != NULL && sk_X509_num(certs) > 0) {
			X509 *c = sk_X509_pop(certs);

			if (sk_X509_push(known, c) <= 0)
				X509_free(c);
		}
		sk_X509_free(certs);
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
	}
	vd = sdr_cms_archive_validation_data(last, known, trust, error);
	sk_X509_pop_free(known, X509_free);
	return vd;
}

static void
scan_pdf_signatures(GMappedFile *map, GPtrArray *sigs, GPtrArray *doc_ts)
{
	g_autoptr(GPtrArray) found = sdr_pdf_scan_signatures(
	        (const guint8 *)g_mapped_file_get_contents(map), g_mapped_file_get_length(map));

	for (guint i = 0; found != NULL && i < found->len; i++) {
		SdrPdfSigDict *sd = g_ptr_array_index(found, i);

		if (sd->contents == NULL)
			continue;
		if (g_strcmp0(sd->type, "DocTimeStamp") == 0 ||
		    g_strcmp0(sd->sub_filter, "ETSI.RFC3161") == 0)
			g_ptr_array_add(doc_ts, g_bytes_ref(sd->contents));
		else
			g_ptr_array_add(sigs, g_bytes_ref(sd->contents));
	}
}

/* long: opens, copies, then appends up to three updates (document timestamp, DSS,
 * document timestamp; renewal: DSS, document timestamp) to one atomic output; every failure leaves
 * nothing behind */
gboolean
sdr_pades_extend_file(const char *input, const SdrExtendOptions *eo, const char *output,
                      GError **error)
{
	SdrPadesOptions po;
	g_autoptr(SdrPdfDoc) doc = NULL;
	g_autoptr(SdrAtomicFile) af = NULL;
	g_autoptr(GMappedFile) map = NULL;
	g_autoptr(GPtrArray) sigs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GPtrArray) doc_ts = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(SdrValidationData) vd = NULL;
	Ctx ctx = { 0 };
	int pages[2] = { 0, -1 };
	int fd = -1;
	gboolean ok = FALSE;

	sdr_pades_options_init(&po);
	po.level = eo->level;
	po.tsa_url = eo->tsa_url;
	po.trust = eo->trust;
	if (!check_options(&po, error))
		return FALSE;
	doc = sdr_pdf_doc_open(input, pages, error);
	if (doc == NULL)
		return FALSE;
	map = g_mapped_file_new(input, FALSE, NULL);
	if (map != NULL)
		scan_pdf_signatures(map, sigs, doc_ts);
	if (sigs->len == 0) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("The PDF file holds no signature"));
		return FALSE;
	}
	fd = g_open(input, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;

		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot open %s: %s"), input,
		            g_strerror(e));
		return FALSE;
	}
	af = sdr_atomic_file_new(output, error);
	ctx.options = &po;
	ctx.doc = doc;
	ctx.sink.file = af;
	ctx.sink.md = EVP_MD_CTX_new();
	if (af == NULL || ctx.sink.md == NULL ||
	    EVP_DigestInit_ex(ctx.sink.md, sdr_hash_md(po.hash), NULL) != 1 ||
	    !copy_fd(GINT_TO_POINTER(fd), &ctx.sink, doc->file_size, error))
		goto done;
	if (eo->current < SDR_TARGET_LEVEL_T) {
		/* B-T for a PDF: a document timestamp after the signatures */
		if (!append_signature(&ctx, TRUE, error))
			goto done;
		g_ptr_array_add(doc_ts, g_bytes_ref(ctx.last_token));
	}
	if (eo->current < SDR_TARGET_LEVEL_LT) {
		/* the new document timestamp's TSA too: read back from what was written */
		vd = collect_for_pdf(sigs, doc_ts, po.trust, error);
		if (vd == NULL || !write_dss(&ctx, vd, error))
			goto done;
	} else if (eo->renew && eo->current >= SDR_TARGET_LEVEL_LTA) {
		vd = collect_for_renewal(sigs, doc_ts, po.trust, error);
		if (vd == NULL || !write_dss(&ctx, vd, error))
			goto done;
	}
	if (eo->level >= SDR_TARGET_LEVEL_LTA && !append_signature(&ctx, TRUE, error))
		goto done;
	close(fd);
	fd = -1;
	ok = sdr_atomic_file_commit(af, error);
done:
	if (fd >= 0)
		close(fd);
	g_clear_pointer(&ctx.last_token, g_bytes_unref);
	EVP_MD_CTX_free(ctx.sink.md);
	return ok;
}
