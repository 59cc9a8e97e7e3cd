/* sdr-pades-verify.c - verifying every signature and document timestamp of a PDF:
 * ByteRange rules, the CMS over the signed bytes, the revision each one covers and what
 * changed after it, and the PAdES baseline level.
 */
#include "sdr-pades-verify.h"

#include "sdr-cms-private.h"
#include "sdr-cms-verify.h"
#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-pdf.h"
#include "sdr-tsa-revocation.h"
#include "sdr-tsa.h"

#include <glib/gi18n-lib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <qpdf/qpdf-c.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELD_DEPTH 8
#define MAX_FIELDS 10000

typedef struct {
	SdrPdfSigDict *sig;
	SdrSignatureResult *result;
	gboolean doc_ts;
	gboolean valid_ts;              /* document timestamp that verifies */
	gboolean trusted_ts;            /* ... whose TSA is trusted at the time it is judged */
	gsize end;                      /* end of the covered revision */
	int revision;                   /* 1-based, 0 when unknown */
	GBytes *cms;                    /* the CMS or token, once the byte range checks passed */
	guint8 digest[EVP_MAX_MD_SIZE]; /* document timestamp: digest of the range */
	unsigned int dlen;
} SigEntry;

static void
sig_entry_free(gpointer p)
{
	SigEntry *e = p;

	if (e->cms != NULL)
		g_bytes_unref(e->cms);
	g_free(e);
}

/* ---- field names from the AcroForm (qpdf, recovery allowed) ---- */

static void
collect_fields(qpdf_data q, qpdf_oh field, const char *prefix, gboolean sig_ft, int depth,
               GHashTable *names, guint *count)
{
	qpdf_oh t, v, kids, ft;
	g_autofree char *full = NULL;

	if (depth > MAX_FIELD_DEPTH || ++*count > MAX_FIELDS || !qpdf_oh_is_dictionary(q, field)) {
		return;
	}
	t = qpdf_oh_get_key(q, field, "/T");
	if (qpdf_oh_is_string(q, t)) {
		const char *s = qpdf_oh_get_utf8_value(q, t);

		full = prefix && *prefix ? g_strdup_printf("%s.%s", prefix, s) : g_strdup(s);
	} else {
		full = g_strdup(prefix ? prefix : "");
	}
	ft = qpdf_oh_get_key(q, field, "/FT");
	if (qpdf_oh_is_name(q, ft)) {
		sig_ft = qpdf_oh_is_name_and_equals(q, ft, "/Sig");
	}
	v = qpdf_oh_get_key(q, field, "/V");
	if (sig_ft && qpdf_oh_is_dictionary(q, v)) {
		/* Keyed by the object holding the signature dictionary: /V itself, or the
		 * field when /V is inline. */
		int id = qpdf_oh_is_indirect(q, v) ? qpdf_oh_get_object_id(q, v)
		                                   : qpdf_oh_get_object_id(q, field);

		if (id > 0) {
			g_hash_table_insert(names, GINT_TO_POINTER(id), g_strdup(full));
		}
	}
	kids = qpdf_oh_get_key(q, field, "/Kids");
	if (qpdf_oh_is_array(q, kids)) {
		int n = qpdf_oh_get_array_n_items(q, kids);

		for (int i = 0; i < n && i < MAX_FIELDS; i++) {
			collect_fields(q, qpdf_oh_get_array_item(q, kids, i), full, sig_ft,
			               depth + 1, names, count);
		}
	}
}

/* Sig dictionary object number -> field name. FALSE (with error) for encrypted files. */
#define MAX_DSS_ITEMS 256
#define MAX_DSS_ITEM_SIZE (1024u * 1024u)

/* The DER OCSP responses of the catalog's /DSS (validation data for B-LT). */
static void
collect_dss_ocsp(qpdf_data q, qpdf_oh root, GPtrArray *out)
{
	qpdf_oh dss = qpdf_oh_get_key_if_dict(q, root, "/DSS");
	qpdf_oh arr = qpdf_oh_get_key_if_dict(q, dss, "/OCSPs");
	int n;

	if (!qpdf_oh_is_array(q, arr)) {
		return;
	}
	n = qpdf_oh_get_array_n_items(q, arr);
	for (int i = 0; i < n && i < MAX_DSS_ITEMS; i++) {
		qpdf_oh st = qpdf_oh_get_array_item(q, arr, i);
		unsigned char *buf = NULL;
		size_t len = 0;

		if (!qpdf_oh_is_stream(q, st)) {
			continue;
		}
		if ((qpdf_oh_get_stream_data(q, st, qpdf_dl_generalized, NULL, &buf, &len) &
		     QPDF_ERRORS) == 0 &&
		    buf != NULL && len > 0 && len <= MAX_DSS_ITEM_SIZE) {
			g_ptr_array_add(out, g_bytes_new(buf, len));
		}
		free(buf);
	}
}

/* Whether the signature dictionary found in the raw bytes is still part of the document
 * qpdf reads: its object is the dictionary (or a field holding it inline). A dictionary
 * left in the file but no longer referenced by any cross-reference section (or replaced
 * by another kind of object) is not a signature of the document. */
static gboolean
sig_dict_is_live(qpdf_data q, const SdrPdfSigDict *s)
{
	qpdf_oh o = qpdf_get_object_by_id(q, s->num, s->gen), v;

	if (!qpdf_oh_is_dictionary(q, o)) {
		return FALSE;
	}
	if (qpdf_oh_has_key(q, o, "/ByteRange")) {
		return TRUE;
	}
	v = qpdf_oh_get_key(q, o, "/V");
	return qpdf_oh_is_dictionary(q, v) && !qpdf_oh_is_indirect(q, v) &&
	       qpdf_oh_has_key(q, v, "/ByteRange");
}

static GHashTable *
field_names(const guint8 *data, gsize len, gboolean *parsed, GPtrArray *dss_ocsp,
            const GPtrArray *sigs, GHashTable *orphans, GError **error)
{
	GHashTable *names = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	qpdf_data q = qpdf_init();
	guint count = 0;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	/* No xref reconstruction: it can take very long on hostile files, and a damaged file
	 * is checked from its raw bytes anyway. */
	qpdf_set_attempt_recovery(q, QPDF_FALSE);
	*parsed = FALSE;
	if ((qpdf_read_memory(q, "pdf", (const char *)data, len, NULL) & QPDF_ERRORS) == 0) {
		qpdf_oh root = qpdf_get_root(q), af, fields;

		*parsed = TRUE;
		if (qpdf_is_encrypted(q)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			            _("The PDF file is encrypted: encrypted PDF files are not "
			              "supported"));
			sdr_pdf_qpdf_close(&q);
			g_hash_table_unref(names);
			return NULL;
		}
		collect_dss_ocsp(q, root, dss_ocsp);
		for (guint i = 0; i < sigs->len; i++) {
			const SdrPdfSigDict *s = g_ptr_array_index(sigs, i);

			if (!sig_dict_is_live(q, s)) {
				g_hash_table_add(orphans, (gpointer)s);
			}
		}
		af = qpdf_oh_get_key_if_dict(q, root, "/AcroForm");
		fields = qpdf_oh_get_key_if_dict(q, af, "/Fields");
		if (qpdf_oh_is_array(q, fields)) {
			int n = qpdf_oh_get_array_n_items(q, fields);

			for (int i = 0; i < n && i < MAX_FIELDS; i++) {
				collect_fields(q, qpdf_oh_get_array_item(q, fields, i), NULL, FALSE,
				               0, names, &count);
			}
		}
	} else if (qpdf_has_error(q) && sdr_pdf_qpdf_error_is_encryption(q, qpdf_get_error(q))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("The PDF file is encrypted: encrypted PDF files are not supported"));
		sdr_pdf_qpdf_close(&q);
		g_hash_table_unref(names);
		return NULL;
	}
	sdr_pdf_qpdf_close(&q);
	return names;
}

/* ---- helpers ---- */

/* ByteRange [0 a b c] whose gap is exactly the dictionary's own /Contents string. */
static gboolean
frames_own_contents(const SdrPdfSigDict *s)
{
	return s->n_byte_range == 4 && s->byte_range[0] == 0 && s->byte_range[1] >= 0 &&
	       s->byte_range[2] >= 0 && (gsize)s->byte_range[1] == s->contents_start &&
	       (gsize)s->byte_range[2] == s->contents_end;
}

/* Whether the CMS SignedData carries eContent (a detached one does not). */
static gboolean
cms_has_content(GBytes *cms)
{
	gsize n;
	const unsigned char *p = g_bytes_get_data(cms, &n);
	CMS_ContentInfo *ci;
	gboolean has = FALSE;

	if (n > G_MAXLONG) {
		return FALSE;
	}
	ci = d2i_CMS_ContentInfo(NULL, &p, (long)n);
	if (ci != NULL) {
		ASN1_OCTET_STRING **pos = CMS_get0_content(ci);

		has = pos != NULL && *pos != NULL;
		CMS_ContentInfo_free(ci);
	}
	return has;
}

/* Length of the DER/BER element at p (0 when unknown or indefinite). */
static gsize
der_len(const guint8 *p, gsize n)
{
	gsize l, hdr;

	if (n < 2 || p[0] != 0x30) {
		return 0;
	}
	if (p[1] < 0x80) {
		l = p[1];
		hdr = 2;
	} else {
		int k = p[1] & 0x7f;

		if (k == 0 || k > 4 || (gsize)k + 2 > n) {
			return 0;
		}
		l = 0;
		for (int i = 0; i < k; i++) {
			l = (l << 8) | p[2 + i];
		}
		hdr = 2 + (gsize)k;
	}
	if (l > n - hdr) {
		return 0;
	}
	return hdr + l;
}

static gboolean
digest_ranges(const guint8 *data, const gint64 *br, SdrHashAlg hash, guint8 *out,
              unsigned int *out_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	gboolean ok = md != NULL && EVP_DigestInit_ex(md, sdr_hash_md(hash), NULL) == 1 &&
	              EVP_DigestUpdate(md, data + br[0], (gsize)br[1]) == 1 &&
	              EVP_DigestUpdate(md, data + br[2], (gsize)br[3]) == 1 &&
	              EVP_DigestFinal_ex(md, out, out_len) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

static gboolean
token_hash(const guint8 *token, gsize len, SdrHashAlg *out)
{
	const unsigned char *p = token;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	TS_TST_INFO *info = NULL;
	gboolean ok = FALSE;

	if (p7 != NULL) {
		info = PKCS7_to_TS_TST_INFO(p7);
	}
	if (info != NULL) {
		const X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(info));

		ok = sdr_hash_from_nid(OBJ_obj2nid(alg->algorithm), out);
	}
	TS_TST_INFO_free(info);
	PKCS7_free(p7);
	return ok;
}

/* ---- shared objects overridden by an update ---- */

#define MAX_OVERRIDE_CHECKS 64

static gint
objdef_offset_cmp(gconstpointer a, gconstpointer b)
{
	const SdrPdfObjectDef *x = *(const SdrPdfObjectDef *const *)a;
	const SdrPdfObjectDef *y = *(const SdrPdfObjectDef *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : 0;
}

static gboolean
is_ref_boundary(guint8 c)
{
	return c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\f' || c == '[' ||
	       c == ']' || c == '<' || c == '>' || c == '/' || c == '(' || c == ')';
}

typedef struct {
	const guint8 *data;
	gsize len, from, to;
	GPtrArray *all;        /* object definitions up to `to`, by offset */
	GHashTable *latest;    /* num -> latest SdrPdfObjectDef */
	GHashTable *in_update; /* nums (re)defined by the update */
	gint64 budget;
} OverrideScan;

/* Whether something the update does not rewrite refers to object num/gen; a plain
 * dictionary in between (an indirect /AP dictionary) is followed a few levels. */
static gboolean
referred_from_outside(OverrideScan *sc, int num, int gen, int depth)
{
	char pat[48];
	int pl = g_snprintf(pat, sizeof pat, "%d %d R", num, gen);
	gsize at = 0;

	while (at < sc->to && sc->budget > 0) {
		const guint8 *hit = memmem(sc->data + at, sc->to - at, pat, (gsize)pl);
		gsize p, lo = 0, hi = sc->all->len;
		const SdrPdfObjectDef *c = NULL;

		if (hit == NULL) {
			break;
		}
		p = (gsize)(hit - sc->data);
		sc->budget -= (gint64)(p - at) + pl;
		at = p + (gsize)pl;
		if ((p > 0 && !is_ref_boundary(sc->data[p - 1])) ||
		    (at < sc->len && !is_ref_boundary(sc->data[at]))) {
			continue;
		}
		/* The object whose header is the last one before the reference. */
		while (lo < hi) {
			gsize mid = (lo + hi) / 2;

			if (((SdrPdfObjectDef *)g_ptr_array_index(sc->all, mid))->offset < p) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		if (lo > 0) {
			c = g_ptr_array_index(sc->all, lo - 1);
			sc->budget -= (gint64)(p - c->offset);
			if (memmem(sc->data + c->offset, p - c->offset, "endobj", 6) != NULL) {
				c = NULL; /* after the object: a trailer */
			}
		}
		if (c != NULL && g_hash_table_lookup(sc->latest, GINT_TO_POINTER(c->num)) != c) {
			continue; /* an older version of an object: not in the document */
		}
		if (c != NULL && (c->offset >= sc->from ||
		                  g_hash_table_contains(sc->in_update, GINT_TO_POINTER(c->num)))) {
			continue; /* the update rewrites the referring object */
		}
		if (c != NULL && c->num == num) {
			continue;
		}
		if (c != NULL && strcmp(c->kind, "dict") == 0 && depth < 3) {
			if (referred_from_outside(sc, c->num, c->gen, depth + 1)) {
				return TRUE;
			}
			continue;
		}
		return TRUE;
	}
	return FALSE;
}

/* Whether the update [from, to) redefines an existing stream (an appearance stream, a
 * form XObject...) that something the update does not rewrite
 * still refers to: the new content then shows elsewhere too (e.g. a shared appearance
 * or an XObject drawn on a page), which a signature or form update must not do. Only
 * the latest definition of each object counts; references inside object streams are
 * not seen. The work is bounded by a few passes over the bytes up to `to`. */
static gboolean
overrides_shared_object(const guint8 *data, gsize len, gsize from, gsize to, GPtrArray *prior,
                        GHashTable *before, GPtrArray *cur, gint64 *budget)
{
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GHashTable) latest = NULL;
	g_autoptr(GHashTable) in_update = NULL;
	OverrideScan sc;
	guint checks = 0;
	gboolean candidate = FALSE, found = FALSE;

	for (guint i = 0; i < cur->len && !candidate; i++) {
		const SdrPdfObjectDef *o = g_ptr_array_index(cur, i);

		candidate = (strcmp(o->kind, "xobject") == 0 || strcmp(o->kind, "stream") == 0) &&
		            g_hash_table_contains(before, GINT_TO_POINTER(o->num));
	}
	if (!candidate) {
		return FALSE;
	}
	/* Building the object index costs like scanning bytes (hostile files with many
	 * overriding updates stop being checked when the budget is spent). */
	*budget -= (gint64)(prior->len + cur->len) * 16;
	if (*budget <= 0) {
		return FALSE;
	}
	all = g_ptr_array_new();
	latest = g_hash_table_new(NULL, NULL);
	in_update = g_hash_table_new(NULL, NULL);
	for (guint k = 0; k < 2; k++) {
		GPtrArray *src = k == 0 ? prior : cur;

		for (guint i = 0; i < src->len; i++) {
			SdrPdfObjectDef *o = g_ptr_array_index(src, i);

			if (g_str_has_prefix(o->kind, "compressed:")) {
				continue;
			}
			g_ptr_array_add(all, o);
			g_hash_table_insert(latest, GINT_TO_POINTER(o->num), o);
			if (k == 1) {
				g_hash_table_add(in_update, GINT_TO_POINTER(o->num));
			}
		}
	}
	g_ptr_array_sort(all, objdef_offset_cmp);
	sc = (OverrideScan){ data, len, from, to, all, latest, in_update, *budget };
	for (guint i = 0; i < cur->len && checks < MAX_OVERRIDE_CHECKS && !found; i++) {
		const SdrPdfObjectDef *o = g_ptr_array_index(cur, i);

		if (!(strcmp(o->kind, "xobject") == 0 || strcmp(o->kind, "stream") == 0) ||
		    !g_hash_table_contains(before, GINT_TO_POINTER(o->num))) {
			continue;
		}
		checks++;
		found = referred_from_outside(&sc, o->num, o->gen, 0);
	}
	*budget = sc.budget;
	return found;
}

/* Classifies one incremental update from its objects. */
static const char *
update_kind(GPtrArray *objs, gboolean *suspicious)
{
	gboolean sig = FALSE, dts = FALSE, dss = FALSE, form = FALSE, annot = FALSE, other = FALSE;
	gboolean plain_stream = FALSE, structural_only = TRUE;

	for (guint i = 0; i < objs->len; i++) {
		const SdrPdfObjectDef *o = g_ptr_array_index(objs, i);
		const char *k = o->kind;

		if (strcmp(k, "sig") == 0) {
			sig = TRUE;
		} else if (strcmp(k, "doctimestamp") == 0) {
			dts = TRUE;
		} else if (strcmp(k, "dss") == 0 || strcmp(k, "catalog-dss") == 0) {
			dss = TRUE;
		} else if (strcmp(k, "formfield") == 0) {
			form = TRUE;
		} else if (strcmp(k, "annot") == 0) {
			annot = TRUE;
		} else if (strcmp(k, "stream") == 0) {
			plain_stream = TRUE;
		} else if (strcmp(k, "other") == 0) {
			other = TRUE;
		} else if (strcmp(k, "xref") != 0 && strcmp(k, "info") != 0 &&
		           strcmp(k, "metadata") != 0) {
			structural_only = FALSE;
		}
	}
	/* Plain streams are validation data in a DSS update; elsewhere they may be page
	 * content. */
	if (plain_stream && !dss) {
		other = TRUE;
	}
	*suspicious = other;
	if (other) {
		return "other";
	}
	if (dts) {
		return "document-timestamp";
	}
	if (sig) {
		return "signature";
	}
	if (dss) {
		return "dss";
	}
	if (form) {
		return "form-filling";
	}
	if (annot) {
		return "annotation";
	}
	if (structural_only) {
		return "metadata";
	}
	*suspicious = TRUE;
	return "other";
}

static int
revision_of(GArray *revs, const guint8 *data, gsize end)
{
	for (guint i = 0; i < revs->len; i++) {
		gsize r = g_array_index(revs, gsize, i);

		/* The revision ends after "%%EOF" with or without its end-of-line. */
		if (end == r || (end < r && end + 2 >= r && end >= 5 &&
		                 memcmp(data + end - 5, "%%EOF", 5) == 0)) {
			return (int)i + 1;
		}
	}
	return 0;
}

static gboolean
only_white(const guint8 *d, gsize from, gsize to)
{
	for (gsize i = from; i < to; i++) {
		if (!(d[i] == ' ' || d[i] == '\r' || d[i] == '\n' || d[i] == '\t' || d[i] == 0)) {
			return FALSE;
		}
	}
	return TRUE;
}

/* The ByteRange and /Contents rules of one signature / document timestamp: sets e->end,
 * e->revision and the details, and returns the CMS (without its padding), or NULL with
 * the reason in e->result. */
/* long: the ByteRange, Contents and revision checks of one PDF signature in order; every
 * step reads the offsets the previous one set */
static GBytes *
check_range(const guint8 *data, gsize len, SigEntry *e, GArray *revs)
{
	SdrPdfSigDict *s = e->sig;
	SdrSignatureResult *r = e->result;
	const gint64 *br = s->byte_range;
	gsize n;
	const guint8 *p;
	g_autofree char *brtext = NULL;

	if (s->n_byte_range != 4 || br[0] != 0 || br[1] <= 0 || br[2] < br[1] || br[3] < 0 ||
	    (guint64)br[2] > len || (guint64)br[3] > len - (guint64)br[2]) {
		sdr_signature_result_fail(
		        r, SDR_VERDICT_INVALID, SDR_REASON_BYTERANGE,
		        _("The /ByteRange is not of the form [0 a b c] inside the "
		          "file"));
		return NULL;
	}
	brtext = g_strdup_printf("[%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
	                         " %" G_GINT64_FORMAT "]",
	                         br[0], br[1], br[2], br[3]);
	sdr_signature_result_set_detail(r, "byte_range", brtext);
	e->end = (gsize)(br[2] + br[3]);
	if (s->contents_damaged) {
		sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
		                          _("The /Contents string is damaged (not hexadecimal)"));
		return NULL;
	}
	if (!s->contents_hex || s->contents == NULL || (gsize)br[1] != s->contents_start ||
	    (gsize)br[2] != s->contents_end) {
		sdr_signature_result_fail(
		        r, SDR_VERDICT_INVALID, SDR_REASON_BYTERANGE,
		        _("The gap of the /ByteRange is not exactly the /Contents "
		          "string: bytes outside the signed range"));
		return NULL;
	}
	e->revision = revision_of(revs, data, e->end);
	if (e->revision > 0) {
		g_autofree char *rev = g_strdup_printf("%d", e->revision);

		sdr_signature_result_set_detail(r, "revision", rev);
	} else if (e->end != len) {
		sdr_signature_result_fail(
		        r, SDR_VERDICT_INVALID, SDR_REASON_BYTERANGE,
		        _("The /ByteRange does not end at the end of a revision"));
		return NULL;
	}
	{
		g_autofree char *end = g_strdup_printf("%" G_GSIZE_FORMAT, e->end);

		sdr_signature_result_set_detail(r, "revision_end", end);
	}
	sdr_signature_result_set_detail(r, "covers_whole_document",
	                                (e->end == len || only_white(data, e->end, len)) ? "true"
	                                                                                 : "false");

	/* The CMS without its zero padding; anything else after it is tampering. */
	p = g_bytes_get_data(s->contents, &n);
	{
		gsize dl = der_len(p, n);

		if (dl > 0) {
			for (gsize i = dl; i < n; i++) {
				if (p[i] != 0) {
					sdr_signature_result_fail(
					        r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
					        _("/Contents holds data after the signature"));
					return NULL;
				}
			}
			return g_bytes_new(p, dl);
		}
		return g_bytes_ref(s->contents);
	}
}

/* A document timestamp: its token over the byte range (INVALID when it does not
 * verify). Its TSA is judged later (judge_doc_timestamps). */
static void
verify_doc_timestamp(const guint8 *data, SigEntry *e)
{
	SdrSignatureResult *r = e->result;
	const gint64 *br = e->sig->byte_range;
	SdrHashAlg hash = SDR_HASH_SHA256;
	gsize n;
	g_autoptr(GError) err = NULL;
	g_autoptr(GDateTime) when = NULL;
	const guint8 *p;

	sdr_signature_result_set_detail(r, "type", "document-timestamp");
	p = g_bytes_get_data(e->cms, &n);
	if (!token_hash(p, n, &hash)) {
		sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
		                          _("The document timestamp cannot be read"));
		return;
	}
	if (!digest_ranges(data, br, hash, e->digest, &e->dlen)) {
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_UNSUPPORTED_ALGORITHM, "%s",
		                          sdr_hash_name(hash));
		return;
	}
	if (!sdr_tsa_verify_token(p, n, e->digest, e->dlen, NULL, &when, &err)) {
		sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_TIMESTAMP_INVALID,
		                          _("The document timestamp does not verify: %s"),
		                          err->message);
		return;
	}
	r->timestamp_time = g_steal_pointer(&when);
	r->digest_algorithm = g_strdup(sdr_hash_name(hash));
	e->valid_ts = TRUE;
}

static gint
revision_desc(gconstpointer a, gconstpointer b)
{
	const SigEntry *x = *(SigEntry *const *)a, *y = *(SigEntry *const *)b;

	return (y->revision > x->revision) - (y->revision < x->revision);
}

/* The earliest time of a trusted document timestamp of a later revision than rev (which
 * covers that revision), NULL when none. Borrowed from the entry. */
static GDateTime *
earliest_covering_ts(GPtrArray *entries, int rev)
{
	GDateTime *poe = NULL;

	for (guint i = 0; rev > 0 && i < entries->len; i++) {
		SigEntry *t = g_ptr_array_index(entries, i);

		if (t->doc_ts && t->trusted_ts && t->revision > rev &&
		    (poe == NULL || g_date_time_compare(t->result->timestamp_time, poe) < 0))
			poe = t->result->timestamp_time;
	}
	return poe;
}

/* The DSS's OCSP responses and the certificates of every signature and timestamp of the
 * file, for the document timestamps' TSA revocation (judged from what the file carries). */
static SdrValidationData *
file_validation_data(GPtrArray *entries, GPtrArray *dss_ocsp)
{
	SdrValidationData *vd = sdr_validation_data_new();

	for (guint i = 0; dss_ocsp != NULL && i < dss_ocsp->len; i++)
		g_ptr_array_add(vd->ocsp_responses, g_bytes_ref(g_ptr_array_index(dss_ocsp, i)));
	for (guint i = 0; i < entries->len; i++) {
		SigEntry *e = g_ptr_array_index(entries, i);
		const unsigned char *p;
		gsize n;
		CMS_ContentInfo *cms;
		STACK_OF(X509) * certs;

		if (e->cms == NULL)
			continue;
		p = g_bytes_get_data(e->cms, &n);
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
		certs = cms != NULL ? CMS_get1_certs(cms) : NULL;
		while (certs != NULL && sk_X509_num(certs) > 0 && vd->certs->len < 64)
			g_ptr_array_add(vd->certs, sk_X509_pop(certs));
		sk_X509_pop_free(certs, X509_free);
		CMS_ContentInfo_free(cms);
	}
	ERR_clear_error();
	return vd;
}

/* The TSA of each document timestamp that verifies, from the last revision to the first:
 * the last one at --at (or now), each earlier one at the earliest time of a trusted later
 * one, which covers it (and the DSS added before it): EN 319 142-1 B-LTA. */
static void
judge_doc_timestamps(GPtrArray *entries, GPtrArray *dss_ocsp, const SdrVerifyOptions *options)
{
	g_autoptr(GPtrArray) ts = g_ptr_array_new();
	g_autoptr(SdrValidationData) carried = file_validation_data(entries, dss_ocsp);

	for (guint i = 0; i < entries->len; i++) {
		SigEntry *e = g_ptr_array_index(entries, i);

		if (e->doc_ts && e->valid_ts)
			g_ptr_array_add(ts, e);
	}
	g_ptr_array_sort(ts, revision_desc);
	for (guint i = 0; i < ts->len; i++) {
		SigEntry *e = g_ptr_array_index(ts, i);
		GDateTime *at = earliest_covering_ts(entries, e->revision);
		g_autoptr(GError) err = NULL;
		const guint8 *p;
		gsize n;
		gboolean ok;

		if (options == NULL || options->trust == NULL) {
			sdr_signature_result_fail(e->result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_CHAIN_NOT_TRUSTED,
			                          _("No trust anchors to check the timestamp "
			                            "authority"));
			continue;
		}
		if (at == NULL)
			at = options->at;
		p = g_bytes_get_data(e->cms, &n);
		ok = at != NULL ? sdr_tsa_token_trusted_at(p, n, options->trust, at, &err)
		                : sdr_tsa_verify_token(p, n, e->digest, e->dlen, options->trust,
		                                       NULL, &err);
		ok = ok &&
		     sdr_tsa_token_not_revoked(p, n, carried, e->result->timestamp_time, &err);
		if (ok)
			e->trusted_ts = TRUE;
		else
			sdr_signature_result_fail(
			        e->result, SDR_VERDICT_INDETERMINATE, SDR_REASON_CHAIN_NOT_TRUSTED,
			        _("The timestamp authority is not trusted: %s"), err->message);
	}
}

/* A signature: its CMS over the byte range. poe: the time of a trusted document
 * timestamp covering it (may be NULL), where its chain is judged. */
/* long: the digest, CMS and dictionary checks of one PDF signature in order */
static void
verify_signature(const guint8 *data, SigEntry *e, GPtrArray *dss_ocsp, GDateTime *poe,
                 const SdrVerifyOptions *options)
{
	SdrPdfSigDict *s = e->sig;
	SdrSignatureResult *r = e->result;
	const gint64 *br = s->byte_range;
	g_autoptr(GBytes) cms = g_bytes_ref(e->cms);
	guint8 digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	SdrHashAlg hash = SDR_HASH_SHA256;

	sdr_signature_result_set_detail(r, "type", "signature");
	{
		g_autoptr(GError) err = NULL;

		if (!sdr_cms_peek_digest_alg(cms, &hash, &err)) {
			/* A readable CMS with a digest we do not support (SHA-1, SHAKE...):
			 * cannot be checked, which is not proof of forgery. */
			if (g_error_matches(err, SDR_ERROR, SDR_ERROR_UNSUPPORTED)) {
				sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
				                          SDR_REASON_UNSUPPORTED_ALGORITHM, "%s",
				                          err->message);
			} else {
				sdr_signature_result_fail(
				        r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
				        _("The CMS signature in /Contents cannot be read"));
			}
			return;
		}
	}
	/* A PDF signature is detached: content inside the CMS (even empty) means the
	 * message digest is not over the signed bytes range. */
	if (g_strcmp0(s->sub_filter, "adbe.pkcs7.sha1") != 0 && cms_has_content(cms)) {
		sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
		                          _("The CMS signature encapsulates content: a PDF "
		                            "signature must be detached"));
		return;
	}
	if (!digest_ranges(data, br, hash, digest, &dlen)) {
		sdr_signature_result_fail(r, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_UNSUPPORTED_ALGORITHM, "%s",
		                          sdr_hash_name(hash));
		return;
	}
	/* The /DSS OCSP responses join those of the CMS (its signature does not cover them). */
	if (dss_ocsp != NULL && dss_ocsp->len > 0) {
		GBytes *with = sdr_cms_der_add_ocsp(cms, dss_ocsp, NULL);

		if (with != NULL) {
			g_bytes_unref(cms);
			cms = with;
		}
	}
	{
		g_autoptr(GError) err = NULL;

		if (!sdr_cms_verify_digest_poe(cms, hash, digest, dlen, poe, options, r, &err)) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
			        _("The CMS signature in /Contents cannot be read: %s"),
			        err ? err->message : "?");
			return;
		}
	}
	if (r->digest_algorithm == NULL) {
		r->digest_algorithm = g_strdup(sdr_hash_name(hash));
	}
	/* A CMS signing-time makes it PAdES-BES (the CMS verifier already lowered the level). */
	sdr_signature_result_set_detail(
	        r, "profile",
	        r->claimed_signing_time != NULL ? "PAdES-BES"
	        : (g_strcmp0(s->sub_filter, "ETSI.CAdES.detached") == 0 && !s->has_cert)
	                ? "PAdES-baseline"
	                : "PDF");
	if (g_strcmp0(s->sub_filter, "ETSI.CAdES.detached") != 0) {
		sdr_signature_result_warn(
		        r, SDR_REASON_FORMAT,
		        _("/SubFilter is %s, not ETSI.CAdES.detached: not a PAdES "
		          "baseline signature"),
		        s->sub_filter ? s->sub_filter : "?");
		r->level = SDR_LEVEL_NONE;
	}
	if (s->has_cert) {
		sdr_signature_result_warn(r, SDR_REASON_FORMAT,
		                          _("The signature dictionary has a /Cert entry: not PAdES "
		                            "baseline"));
		r->level = SDR_LEVEL_NONE;
	}
	if (s->m == NULL) {
		sdr_signature_result_warn(r, SDR_REASON_FORMAT,
		                          _("The signature dictionary has no /M signing time"));
	} else if (r->claimed_signing_time == NULL) {
		r->claimed_signing_time = sdr_pdf_date_parse(s->m);
	}
	if (r->level > SDR_LEVEL_B_T) {
		r->level = SDR_LEVEL_B_T;
	}
}

/* What changed after each signature; and the B-LT / B-LTA levels. */
static void
analyse_after(const guint8 *data, gsize len, GArray *revs, GPtrArray *entries)
{
	guint nrev = revs->len;
	g_autofree const char **kinds = g_new0(const char *, nrev + 1);
	g_autofree gboolean *susp = g_new0(gboolean, nrev + 1);
	gboolean tail = FALSE;

	/* Object definitions of the revisions before the one analysed (borrowed from
	 * `kept`); the reference search shares one work budget for the whole file. */
	g_autoptr(GPtrArray) kept =
	        g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GPtrArray) prior = g_ptr_array_new();
	g_autoptr(GHashTable) before = g_hash_table_new(NULL, NULL); /* nums in prior */
	gint64 budget = (gint64)MIN(len, (gsize)G_MAXINT64 / 8) * 4 + (1 << 20);

	if (nrev > 1) {
		GPtrArray *first =
		        sdr_pdf_scan_objects(data, len, 0, g_array_index(revs, gsize, 0));

		g_ptr_array_add(kept, first);
		for (guint j = 0; j < first->len; j++) {
			SdrPdfObjectDef *o = g_ptr_array_index(first, j);

			g_ptr_array_add(prior, o);
			g_hash_table_add(before, GINT_TO_POINTER(o->num));
		}
	}
	for (guint i = 1; i < nrev; i++) {
		gsize from = g_array_index(revs, gsize, i - 1);
		gsize to = g_array_index(revs, gsize, i);
		GPtrArray *objs = sdr_pdf_scan_objects(data, len, from, to);

		g_ptr_array_add(kept, objs);
		kinds[i] = update_kind(objs, &susp[i]);
		if (!susp[i] && strcmp(kinds[i], "dss") != 0 && budget > 0 &&
		    overrides_shared_object(data, len, from, to, prior, before, objs, &budget)) {
			kinds[i] = "other";
			susp[i] = TRUE;
		}
		for (guint j = 0; j < objs->len; j++) {
			SdrPdfObjectDef *o = g_ptr_array_index(objs, j);

			g_ptr_array_add(prior, o);
			g_hash_table_add(before, GINT_TO_POINTER(o->num));
		}
	}
	if (nrev > 0 && !only_white(data, g_array_index(revs, gsize, nrev - 1), len)) {
		tail = TRUE;
	}
	for (guint k = 0; k < entries->len; k++) {
		SigEntry *e = g_ptr_array_index(entries, k);
		SdrSignatureResult *r = e->result;
		g_autoptr(GString) mods = g_string_new(NULL);
		gboolean bad = FALSE, dss_after = FALSE, lta = FALSE, ts_after = FALSE;

		if (e->revision <= 0) {
			continue;
		}
		for (guint i = (guint)e->revision; i < nrev; i++) {
			g_string_append_printf(mods, "%s%s", mods->len ? "," : "", kinds[i]);
			bad |= susp[i];
			if (strcmp(kinds[i], "dss") == 0) {
				dss_after = TRUE;
			}
		}
		if (tail) {
			g_string_append_printf(mods, "%sother", mods->len ? "," : "");
			bad = TRUE;
		}
		sdr_signature_result_set_detail(r, "modifications", mods->len ? mods->str : "none");
		if (bad) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_MODIFIED_AFTER,
			        _("The document was changed after this signature "
			          "(changes other than signatures, validation data or "
			          "form filling)"));
		} else if (mods->len > 0) {
			sdr_signature_result_warn(r, SDR_REASON_MODIFIED_AFTER,
			                          _("Incremental updates were added after this "
			                            "signature: %s"),
			                          mods->str);
		}
		if (e->doc_ts || r->level < SDR_LEVEL_B_B) {
			continue;
		}
		/* Document timestamps after it: T (if not already), then LT/LTA with a DSS. */
		for (guint j = 0; j < entries->len; j++) {
			SigEntry *t = g_ptr_array_index(entries, j);

			if (!t->doc_ts || !t->valid_ts || t->revision <= e->revision) {
				continue;
			}
			ts_after = TRUE;
			/* A DSS between the signature and this timestamp. */
			for (int i = e->revision; i < t->revision && i < (int)nrev; i++) {
				if (strcmp(kinds[i], "dss") == 0) {
					lta = TRUE;
				}
			}
		}
		if (r->level == SDR_LEVEL_B_B && ts_after) {
			r->level = SDR_LEVEL_B_T;
		}
		if (r->level >= SDR_LEVEL_B_T && dss_after) {
			r->level = lta ? SDR_LEVEL_B_LTA : SDR_LEVEL_B_LT;
		}
	}
}

/* long: one pass over the revisions and signature dictionaries of the file, matching
 * each dictionary to its field and revision before verifying it */
SdrVerifyReport *
sdr_pades_verify_bytes(GBytes *pdf, const char *file_name, const SdrVerifyOptions *options,
                       GError **error)
{
	gsize len;
	const guint8 *data = g_bytes_get_data(pdf, &len);
	g_autoptr(GPtrArray) sigs = NULL;
	g_autoptr(GArray) revs = NULL;
	g_autoptr(GHashTable) names = NULL;
	g_autoptr(GHashTable) orphans = NULL;
	g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(sig_entry_free);
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autoptr(GPtrArray) dss_ocsp =
	        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	gboolean parsed = FALSE;
	guint n_orphans = 0;

	if (len < 8 || memmem(data, MIN(len, 1024), "%PDF-", 5) == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("%s is not a PDF file"),
		            file_name ? file_name : "?");
		return NULL;
	}
	sigs = sdr_pdf_scan_signatures(data, len);
	orphans = g_hash_table_new(NULL, NULL);
	names = field_names(data, len, &parsed, dss_ocsp, sigs, orphans, error);
	if (names == NULL) {
		return NULL;
	}
	report = sdr_verify_report_new(file_name ? file_name : "", "PAdES");
	if (!parsed) {
		sdr_verify_report_note(report, SDR_REASON_FORMAT,
		                       _("The PDF structure is damaged; signatures were looked up "
		                         "in the raw bytes"));
	}
	revs = sdr_pdf_scan_revisions(data, len);
	for (guint i = 0; i < sigs->len; i++) {
		SdrPdfSigDict *s = g_ptr_array_index(sigs, i);
		SigEntry *e;
		const char *name;
		gboolean superseded = FALSE, orphan_checked = FALSE;

		/* A later version of the same object replaces this one. */
		for (guint j = i + 1; j < sigs->len; j++) {
			SdrPdfSigDict *t = g_ptr_array_index(sigs, j);

			if (t->num == s->num && t->gen == s->gen) {
				superseded = TRUE;
			}
		}
		if (superseded) {
			continue;
		}
		/* A dictionary no xref lists whose ByteRange does not even frame its own
		 * /Contents is a stale copy: ignored. One that frames it is still checked
		 * (files with a broken /Prev chain that other readers reconstruct). */
		if (g_hash_table_contains(orphans, s)) {
			if (!frames_own_contents(s)) {
				n_orphans++;
				continue;
			}
			orphan_checked = TRUE;
		}
		e = g_new0(SigEntry, 1);
		e->sig = s;
		e->doc_ts = g_strcmp0(s->type, "DocTimeStamp") == 0 ||
		            g_strcmp0(s->sub_filter, "ETSI.RFC3161") == 0;
		e->result = sdr_signature_result_new("PAdES");
		name = g_hash_table_lookup(names, GINT_TO_POINTER(s->num));
		e->result->id =
		        name ? g_strdup(name) : g_strdup_printf("%d %d obj", s->num, s->gen);
		if (s->sub_filter != NULL) {
			sdr_signature_result_set_detail(e->result, "sub_filter", s->sub_filter);
		}
		if (orphan_checked) {
			sdr_signature_result_warn(
			        e->result, SDR_REASON_FORMAT,
			        _("No cross-reference section of the document lists this "
			          "signature dictionary"));
		} else if (name == NULL && parsed) {
			sdr_signature_result_warn(
			        e->result, SDR_REASON_FORMAT,
			        _("This signature dictionary is not the value of a "
			          "signature field of the form"));
		}
		g_ptr_array_add(entries, e);
		e->cms = check_range(data, len, e, revs);
		if (e->cms != NULL && e->doc_ts)
			verify_doc_timestamp(data, e);
	}
	/* Document timestamps first: a trusted one moves the check of what it covers to its
	 * time (--at after the signer's certificate expired stays VALID for B-LTA). */
	judge_doc_timestamps(entries, dss_ocsp, options);
	for (guint i = 0; i < entries->len; i++) {
		SigEntry *e = g_ptr_array_index(entries, i);
		GDateTime *poe = e->doc_ts ? NULL : earliest_covering_ts(entries, e->revision);

		if (poe != NULL && options != NULL && options->at != NULL &&
		    g_date_time_compare(poe, options->at) > 0)
			poe = NULL; /* it did not exist yet at the validation time */
		if (e->cms != NULL && !e->doc_ts)
			verify_signature(data, e, dss_ocsp, poe, options);
	}
	/* Signed fields whose signature dictionary is not in the raw bytes (e.g. hidden in an
	 * object stream): their ByteRange cannot be checked. */
	{
		GHashTableIter it;
		gpointer key, value;

		g_hash_table_iter_init(&it, names);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			gboolean seen = FALSE;

			for (guint i = 0; i < sigs->len && !seen; i++) {
				seen = ((SdrPdfSigDict *)g_ptr_array_index(sigs, i))->num ==
				       GPOINTER_TO_INT(key);
			}
			if (!seen) {
				SigEntry *e = g_new0(SigEntry, 1);

				e->result = sdr_signature_result_new("PAdES");
				e->result->id = g_strdup(value);
				sdr_signature_result_fail(
				        e->result, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
				        _("The signature dictionary of this field "
				          "cannot be found in the file (compressed in "
				          "an object stream?)"));
				g_ptr_array_add(entries, e);
			}
		}
	}
	if (n_orphans > 0) {
		sdr_verify_report_note(report, SDR_REASON_FORMAT,
		                       ngettext("%u signature dictionary left in the file is not "
		                                "part of the document (no cross-reference "
		                                "section refers to it): ignored",
		                                "%u signature dictionaries left in the file are "
		                                "not part of the document (no cross-reference "
		                                "section refers to them): ignored",
		                                n_orphans),
		                       n_orphans);
	}
	analyse_after(data, len, revs, entries);
	for (guint i = 0; i < entries->len; i++) {
		SigEntry *e = g_ptr_array_index(entries, i);

		g_ptr_array_add(report->signatures, e->result);
		e->result = NULL;
	}
	if (report->signatures->len == 0) {
		sdr_verify_report_note(report, SDR_REASON_NO_SIGNATURE,
		                       _("The PDF file has no signature"));
	}
	return g_steal_pointer(&report);
}

SdrVerifyReport *
sdr_pades_verify_file(const char *path, const SdrVerifyOptions *options, GError **error)
{
	g_autoptr(GMappedFile) mf = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) err = NULL;

	mf = g_mapped_file_new(path, FALSE, &err);
	if (mf == NULL) {
		g_set_error(error, SDR_ERROR,
		            g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)
		                    ? SDR_ERROR_NOT_FOUND
		                    : SDR_ERROR_IO,
		            _("Cannot open %s: %s"), path, err->message);
		return NULL;
	}
	bytes = g_mapped_file_get_bytes(mf);
	if (bytes == NULL) {
		bytes = g_bytes_new_static("", 0);
	}
	return sdr_pades_verify_bytes(bytes, path, options, error);
}
