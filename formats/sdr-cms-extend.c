/* sdr-cms-extend.c - CAdES extension (B-T, B-LT, B-LTA on an existing signature) and
 * the archive-time-stamp-v3 computation its verifier shares. See docs/internals/cades.md.
 */
#include <openssl/pem.h> /* before cms.h: PEM_read_bio_CMS */

#include "sdr-cms.h"

#include "sdr-cms-private.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-tsa.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <string.h>

/* ---- DER layout of a SignedData (definite lengths only) ---- */

typedef struct {
	const guint8 *p;
	gsize n;
} Span;

typedef struct {
	Span econtent_type; /* TLV */
	Span econtent;      /* value of the eContent OCTET STRING; p NULL when detached */
	GArray *certs;      /* Span: each CertificateChoices TLV */
	GArray *crls;       /* Span: each RevocationInfoChoice TLV */
	Span si_fields;     /* version .. signature of the first SignerInfo */
	GArray *uattrs;     /* Span: each unsigned Attribute TLV */
} Layout;

static void
layout_clear(Layout *l)
{
	if (l->certs != NULL)
		g_array_unref(l->certs);
	if (l->crls != NULL)
		g_array_unref(l->crls);
	if (l->uattrs != NULL)
		g_array_unref(l->uattrs);
}

/* One TLV at *off within [0, len): tag, header and content length. */
static gboolean
tlv(const guint8 *b, gsize len, gsize *off, guint8 *tag, gsize *hdr, gsize *clen)
{
	gsize o = *off, l;

	if (o + 2 > len || (b[o] & 0x1f) == 0x1f)
		return FALSE;
	*tag = b[o];
	l = b[o + 1];
	*hdr = 2;
	if (l & 0x80) {
		guint nb = l & 0x7f;

		if (nb == 0 || nb > 4 || o + 2 + nb > len)
			return FALSE;
		l = 0;
		for (guint i = 0; i < nb; i++)
			l = (l << 8) | b[o + 2 + i];
		*hdr += nb;
	}
	if (l > len - o - *hdr)
		return FALSE;
	*clen = l;
	*off = o + *hdr + l;
	return TRUE;
}

/* The TLVs inside the content [start, end) as Spans. */
static GArray *
children(const guint8 *b, gsize start, gsize end)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(Span));
	gsize off = start;

	while (off < end) {
		gsize at = off, hdr, cl;
		guint8 tag;
		Span s;

		if (!tlv(b, end, &off, &tag, &hdr, &cl)) {
			g_array_unref(a);
			return NULL;
		}
		s.p = b + at;
		s.n = off - at;
		g_array_append_val(a, s);
	}
	return a;
}

/* long: walks ContentInfo > SignedData > SignerInfo field by field, each field's
 * bounds feeding the next; a flat sequence of checks is clearer than helpers here */
static gboolean
layout_parse(const guint8 *b, gsize len, Layout *l, GError **error)
{
	gsize off = 0, hdr, cl, sd_end, end, sis_end;
	guint8 tag;

	memset(l, 0, sizeof *l);
	/* ContentInfo SEQUENCE { OID, [0] { SignedData } } */
	if (!tlv(b, len, &off, &tag, &hdr, &cl) || tag != 0x30)
		goto bad;
	off = hdr;
	if (!tlv(b, len, &off, &tag, &hdr, &cl) || tag != 0x06)
		goto bad;
	end = off;
	if (!tlv(b, len, &end, &tag, &hdr, &cl) || tag != 0xa0)
		goto bad;
	off += hdr;
	end = off;
	if (!tlv(b, len, &end, &tag, &hdr, &cl) || tag != 0x30)
		goto bad;
	off += hdr;
	sd_end = end;
	/* version, digestAlgorithms */
	if (!tlv(b, sd_end, &off, &tag, &hdr, &cl) || tag != 0x02 ||
	    !tlv(b, sd_end, &off, &tag, &hdr, &cl) || tag != 0x31)
		goto bad;
	/* encapContentInfo */
	end = off;
	if (!tlv(b, sd_end, &end, &tag, &hdr, &cl) || tag != 0x30)
		goto bad;
	{
		gsize e = off + hdr, eci_end = end;

		l->econtent_type.p = b + e;
		if (!tlv(b, eci_end, &e, &tag, &hdr, &cl) || tag != 0x06)
			goto bad;
		l->econtent_type.n = (gsize)(b + e - l->econtent_type.p);
		if (e < eci_end) {
			gsize inner;

			if (!tlv(b, eci_end, &e, &tag, &hdr, &cl) || tag != 0xa0)
				goto bad;
			inner = e - cl;
			if (!tlv(b, e, &inner, &tag, &hdr, &cl) || tag != 0x04)
				goto bad; /* constructed (BER) eContent: not handled */
			l->econtent.p = b + inner - cl;
			l->econtent.n = cl;
		}
	}
	off = end;
	/* [0] certificates, [1] crls */
	end = off;
	if (tlv(b, sd_end, &end, &tag, &hdr, &cl) && tag == 0xa0) {
		l->certs = children(b, off + hdr, end);
		off = end;
	}
	end = off;
	if (tlv(b, sd_end, &end, &tag, &hdr, &cl) && tag == 0xa1) {
		l->crls = children(b, off + hdr, end);
		off = end;
	}
	if (l->certs == NULL)
		l->certs = g_array_new(FALSE, FALSE, sizeof(Span));
	if (l->crls == NULL)
		l->crls = g_array_new(FALSE, FALSE, sizeof(Span));
	/* signerInfos SET { SignerInfo ... }: the first one */
	end = off;
	if (!tlv(b, sd_end, &end, &tag, &hdr, &cl) || tag != 0x31)
		goto bad;
	sis_end = end;
	off += hdr;
	end = off;
	if (!tlv(b, sis_end, &end, &tag, &hdr, &cl) || tag != 0x30)
		goto bad;
	off += hdr;
	l->si_fields.p = b + off;
	/* version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature */
	for (int i = 0; i < 6; i++) {
		gsize save = off;

		if (!tlv(b, end, &off, &tag, &hdr, &cl))
			goto bad;
		if (i == 3 && tag != 0xa0) {
			off = save; /* no signed attributes */
			continue;
		}
		if (i == 5 && tag != 0x04)
			goto bad;
	}
	l->si_fields.n = (gsize)(b + off - l->si_fields.p);
	if (off < end) {
		gsize ua = off;

		if (!tlv(b, end, &off, &tag, &hdr, &cl) || tag != 0xa1)
			goto bad;
		l->uattrs = children(b, ua + hdr, off);
	} else {
		l->uattrs = g_array_new(FALSE, FALSE, sizeof(Span));
	}
	if (l->certs == NULL || l->crls == NULL || l->uattrs == NULL)
		goto bad;
	return TRUE;
bad:
	layout_clear(l);
	memset(l, 0, sizeof *l);
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
	                    _("The CMS signature is not in DER form: it cannot be archived"));
	return FALSE;
}

static gboolean
hash_span(const EVP_MD *md, const Span *s, guint8 *out, unsigned int *out_len)
{
	return EVP_Digest(s->p, s->n, out, out_len, md, NULL) == 1;
}

/* The hashes of every value of an unsigned Attribute: H(attrType TLV || value TLV). */
static gboolean
attr_value_hashes(const EVP_MD *md, const Span *attr, GPtrArray *out)
{
	gsize off = 0, hdr, cl, type_at, set_at, vend;
	guint8 tag;

	if (!tlv(attr->p, attr->n, &off, &tag, &hdr, &cl) || tag != 0x30)
		return FALSE;
	off = hdr;
	type_at = off;
	if (!tlv(attr->p, attr->n, &off, &tag, &hdr, &cl) || tag != 0x06)
		return FALSE;
	set_at = off;
	vend = off;
	if (!tlv(attr->p, attr->n, &vend, &tag, &hdr, &cl) || tag != 0x31)
		return FALSE;
	off = set_at + hdr;
	while (off < vend) {
		gsize v = off;
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		guint8 d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		gboolean ok;

		if (!tlv(attr->p, vend, &off, &tag, &hdr, &cl)) {
			EVP_MD_CTX_free(c);
			return FALSE;
		}
		ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) == 1 &&
		     EVP_DigestUpdate(c, attr->p + type_at, set_at - type_at) == 1 &&
		     EVP_DigestUpdate(c, attr->p + v, off - v) == 1 &&
		     EVP_DigestFinal_ex(c, d, &dl) == 1;
		EVP_MD_CTX_free(c);
		if (!ok)
			return FALSE;
		g_ptr_array_add(out, g_bytes_new(d, dl));
	}
	return TRUE;
}

static void
der_header(GByteArray *out, guint8 tag, gsize len)
{
	guint8 h[6];
	guint n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (guint8)len;
	} else {
		guint8 tmp[4];
		guint k = 0;

		for (gsize v = len; v > 0; v >>= 8)
			tmp[k++] = (guint8)(v & 0xff);
		h[n++] = (guint8)(0x80 | k);
		while (k > 0)
			h[n++] = tmp[--k];
	}
	g_byte_array_append(out, h, n);
}

static void
der_octets_seq(GByteArray *out, GPtrArray *hashes)
{
	g_autoptr(GByteArray) body = g_byte_array_new();

	for (guint i = 0; i < hashes->len; i++) {
		gsize n;
		const guint8 *p = g_bytes_get_data(g_ptr_array_index(hashes, i), &n);

		der_header(body, 0x04, n);
		g_byte_array_append(body, p, (guint)n);
	}
	der_header(out, 0x30, body->len);
	g_byte_array_append(out, body->data, body->len);
}

static GPtrArray *
span_hashes(const EVP_MD *md, GArray *spans)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

	for (guint i = 0; i < spans->len; i++) {
		guint8 d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;

		if (!hash_span(md, &g_array_index(spans, Span, i), d, &dl)) {
			g_ptr_array_unref(out);
			return NULL;
		}
		g_ptr_array_add(out, g_bytes_new(d, dl));
	}
	return out;
}

GBytes *
sdr_cms_ats_hash_index(GBytes *cms, SdrHashAlg hash, GError **error)
{
	gsize len;
	const guint8 *b = g_bytes_get_data(cms, &len);
	const EVP_MD *md = sdr_hash_md(hash);
	g_autoptr(GPtrArray) ch = NULL, rh = NULL;
	g_autoptr(GPtrArray) uh = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GByteArray) body = g_byte_array_new();
	GByteArray *out;
	Layout l;

	if (!layout_parse(b, len, &l, error))
		return NULL;
	ch = span_hashes(md, l.certs);
	rh = span_hashes(md, l.crls);
	for (guint i = 0; i < l.uattrs->len; i++)
		if (!attr_value_hashes(md, &g_array_index(l.uattrs, Span, i), uh)) {
			layout_clear(&l);
			g_set_error_literal(
			        error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			        _("An unsigned attribute of the signature is malformed"));
			return NULL;
		}
	layout_clear(&l);
	if (ch == NULL || rh == NULL) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return NULL;
	}
	if (hash != SDR_HASH_SHA256) {
		/* hashIndAlgorithm, absent for the DEFAULT id-sha256 */
		X509_ALGOR *alg = X509_ALGOR_new();
		unsigned char *der = NULL;
		int n;

		X509_ALGOR_set_md(alg, md);
		n = i2d_X509_ALGOR(alg, &der);
		if (n > 0)
			g_byte_array_append(body, der, (guint)n);
		OPENSSL_free(der);
		X509_ALGOR_free(alg);
	}
	der_octets_seq(body, ch);
	der_octets_seq(body, rh);
	der_octets_seq(body, uh);
	out = g_byte_array_new();
	der_header(out, 0x30, body->len);
	g_byte_array_append(out, body->data, body->len);
	return g_byte_array_free_to_bytes(out);
}

/* The OCTET STRING values of the three SEQUENCE OF of an ATSHashIndexV3. */
static gboolean
index_hashes(GBytes *index, GPtrArray *sets[3])
{
	gsize len, off = 0, hdr, cl, end;
	const guint8 *b = g_bytes_get_data(index, &len);
	guint8 tag;
	int k = 0;

	if (!tlv(b, len, &off, &tag, &hdr, &cl) || tag != 0x30)
		return FALSE;
	end = off;
	off = hdr;
	while (off < end) {
		gsize at = off;

		if (!tlv(b, end, &off, &tag, &hdr, &cl) || tag != 0x30)
			return FALSE;
		if (k == 0 && at + hdr < off && b[at + hdr] == 0x06)
			continue; /* hashIndAlgorithm */
		if (k >= 3)
			return FALSE;
		for (gsize o = at + hdr; o < off;) {
			gsize h2, c2;

			if (!tlv(b, off, &o, &tag, &h2, &c2) || tag != 0x04)
				return FALSE;
			g_ptr_array_add(sets[k], g_bytes_new(b + o - c2, c2));
		}
		k++;
	}
	return k == 3;
}

static gboolean
hash_in(GPtrArray *hashes, const guint8 *d, gsize dl)
{
	for (guint i = 0; i < hashes->len; i++) {
		gsize n;
		const guint8 *p = g_bytes_get_data(g_ptr_array_index(hashes, i), &n);

		if (n == dl && memcmp(p, d, dl) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Every hash of the index names an element of the signature (none was removed). */
static gboolean
index_matches(const Layout *l, GBytes *index, const EVP_MD *md)
{
	GPtrArray *sets[3];
	g_autoptr(GPtrArray) ch = span_hashes(md, l->certs);
	g_autoptr(GPtrArray) rh = span_hashes(md, l->crls);
	g_autoptr(GPtrArray) uh = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	GPtrArray *have[3];
	gboolean ok = ch != NULL && rh != NULL;

	have[0] = ch;
	have[1] = rh;
	have[2] = uh;
	for (int k = 0; k < 3; k++)
		sets[k] = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	for (guint i = 0; ok && i < l->uattrs->len; i++)
		ok = attr_value_hashes(md, &g_array_index(l->uattrs, Span, i), uh);
	ok = ok && index_hashes(index, sets);
	for (int k = 0; ok && k < 3; k++)
		for (guint i = 0; ok && i < sets[k]->len; i++) {
			gsize n;
			const guint8 *p = g_bytes_get_data(g_ptr_array_index(sets[k], i), &n);

			ok = hash_in(have[k], p, n);
		}
	for (int k = 0; k < 3; k++)
		g_ptr_array_unref(sets[k]);
	return ok;
}

gboolean
sdr_cms_ats_index_covers(GBytes *index, SdrHashAlg hash, const guint8 *token, gsize token_len)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(SDR_OID_ATS_V3, 1);
	unsigned char *oid_der = NULL;
	int oid_len = oid != NULL ? i2d_ASN1_OBJECT(oid, &oid_der) : 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	guint8 d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	GPtrArray *sets[3];
	gboolean ok;

	for (int k = 0; k < 3; k++)
		sets[k] = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	ok = oid_len > 0 && c != NULL && EVP_DigestInit_ex(c, sdr_hash_md(hash), NULL) == 1 &&
	     EVP_DigestUpdate(c, oid_der, (size_t)oid_len) == 1 &&
	     EVP_DigestUpdate(c, token, token_len) == 1 && EVP_DigestFinal_ex(c, d, &dl) == 1 &&
	     index_hashes(index, sets) && hash_in(sets[2], d, dl);
	for (int k = 0; k < 3; k++)
		g_ptr_array_unref(sets[k]);
	EVP_MD_CTX_free(c);
	OPENSSL_free(oid_der);
	ASN1_OBJECT_free(oid);
	return ok;
}

gboolean
sdr_cms_ats_imprint(GBytes *cms, SdrHashAlg hash, const guint8 *content_hash, GBytes *index,
                    gboolean check_index, guint8 *out, gsize *out_len, GError **error)
{
	gsize len;
	const guint8 *b = g_bytes_get_data(cms, &len);
	const EVP_MD *md = sdr_hash_md(hash);
	EVP_MD_CTX *c;
	unsigned int dl = 0;
	gboolean ok;
	Layout l;

	if (!layout_parse(b, len, &l, error))
		return FALSE;
	if (check_index && !index_matches(&l, index, md)) {
		layout_clear(&l);
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
		                    _("The archive timestamp's hash index names elements the "
		                      "signature no longer holds"));
		return FALSE;
	}
	c = EVP_MD_CTX_new();
	ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) == 1 &&
	     EVP_DigestUpdate(c, l.econtent_type.p, l.econtent_type.n) == 1 &&
	     EVP_DigestUpdate(c, content_hash, sdr_hash_len(hash)) == 1 &&
	     EVP_DigestUpdate(c, l.si_fields.p, l.si_fields.n) == 1 &&
	     EVP_DigestUpdate(c, g_bytes_get_data(index, NULL), g_bytes_get_size(index)) == 1 &&
	     EVP_DigestFinal_ex(c, out, &dl) == 1;
	EVP_MD_CTX_free(c);
	layout_clear(&l);
	if (!ok) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return FALSE;
	}
	*out_len = dl;
	return TRUE;
}

/* ---- extension ---- */

static CMS_ContentInfo *
parse_any(GBytes *bytes, GError **error)
{
	gsize n;
	const unsigned char *p = g_bytes_get_data(bytes, &n);
	CMS_ContentInfo *cms = NULL;

	if (n > 10 && memcmp(p, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(p, (int)MIN(n, (gsize)G_MAXINT));

		cms = bio != NULL ? PEM_read_bio_CMS(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else {
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
	}
	if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) < 1) {
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("The file is not a CAdES signature"));
		return NULL;
	}
	return cms;
}

static GBytes *
encode(CMS_ContentInfo *cms, GPtrArray *ocsp, GError **error)
{
	unsigned char *der = NULL;
	int n = i2d_CMS_ContentInfo(cms, &der);
	g_autoptr(GBytes) plain = NULL;

	if (n <= 0) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the CMS signature"));
		return NULL;
	}
	plain = g_bytes_new(der, (gsize)n);
	OPENSSL_free(der);
	if (ocsp == NULL || ocsp->len == 0)
		return g_steal_pointer(&plain);
	return sdr_cms_der_add_ocsp(plain, ocsp, error);
}

static X509 *
signer_cert(CMS_ContentInfo *cms, CMS_SignerInfo *si)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509 *found = NULL;

	for (int i = 0; i < sk_X509_num(certs) && found == NULL; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0) {
			found = sk_X509_value(certs, i);
			X509_up_ref(found);
		}
	sk_X509_pop_free(certs, X509_free);
	return found;
}

static SdrHashAlg
si_hash(CMS_SignerInfo *si)
{
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *obj = NULL;
	SdrHashAlg h = SDR_HASH_SHA256;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig != NULL) {
		X509_ALGOR_get0(&obj, NULL, NULL, dig);
		(void)sdr_hash_from_nid(OBJ_obj2nid(obj), &h);
	}
	return h;
}

static GError *
level_error(GError *local, const char *level)
{
	GError *e = g_error_new(SDR_ERROR,
	                        local->code == SDR_ERROR_NETWORK ? SDR_ERROR_NETWORK
	                                                         : SDR_ERROR_LEVEL_NOT_REACHED,
	                        _("Level %s cannot be reached: %s"), level, local->message);

	g_error_free(local);
	return e;
}

/* The timestamp tokens of the unsigned attributes with that NID (GBytes*). */
static GPtrArray *
unsigned_tokens(CMS_SignerInfo *si, int nid)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	int pos = -1;

	while ((pos = CMS_unsigned_get_attr_by_NID(si, nid, pos)) >= 0) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, pos);
		ASN1_TYPE *t = X509_ATTRIBUTE_count(a) == 1 ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;

		if (t != NULL && t->type == V_ASN1_SEQUENCE)
			g_ptr_array_add(out, g_bytes_new(t->value.sequence->data,
			                                 (gsize)t->value.sequence->length));
	}
	return out;
}

static gboolean
add_signature_timestamp(CMS_SignerInfo *si, SdrHashAlg hash, const char *tsa_url, GError **error)
{
	ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
	guint8 d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	g_autoptr(GBytes) token = NULL;
	GError *local = NULL;

	if (EVP_Digest(ASN1_STRING_get0_data(sv), (size_t)ASN1_STRING_length(sv), d, &dl,
	               sdr_hash_md(hash), NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
		return FALSE;
	}
	token = sdr_tsa_timestamp(tsa_url, hash, d, dl, &local);
	if (token == NULL) {
		g_propagate_error(error, level_error(local, "B-T"));
		return FALSE;
	}
	if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
	                                  g_bytes_get_data(token, NULL),
	                                  (int)g_bytes_get_size(token)) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the CMS signature"));
		return FALSE;
	}
	return TRUE;
}

/* Validation data for the signer chain and the TSA of every signature timestamp. */
static gboolean
add_lt(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509 *cert, X509_STORE *trust, GPtrArray *ocsp,
       GError **error)
{
	g_autoptr(SdrValidationData) vd = sdr_validation_data_new();
	g_autoptr(GPtrArray) tokens = unsigned_tokens(si, NID_id_smime_aa_timeStampToken);
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509_STORE *own = NULL;
	GError *local = NULL;
	gboolean ok;

	if (trust == NULL)
		trust = own = sdr_cms_store_from_chain(certs);
	ok = sdr_revocation_collect_into(vd, cert, certs, trust, &local);
	for (guint i = 0; ok && i < tokens->len; i++) {
		X509 *tsa = NULL;
		STACK_OF(X509) *tcerts = NULL;

		if (!sdr_cms_token_signer(g_ptr_array_index(tokens, i), &tsa, &tcerts)) {
			g_set_error_literal(&local, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
			                    _("The timestamp carries no TSA certificate"));
			ok = FALSE;
			break;
		}
		ok = sdr_revocation_collect_into(vd, tsa, tcerts, trust, &local);
		X509_free(tsa);
		sk_X509_pop_free(tcerts, X509_free);
	}
	sk_X509_pop_free(certs, X509_free);
	X509_STORE_free(own);
	if (!ok) {
		g_propagate_error(error, level_error(local, "B-LT"));
		return FALSE;
	}
	return sdr_cms_add_validation_data(cms, vd, ocsp, error);
}

/* The last archive-time-stamp-v3 token of si (NULL when none). */
static GBytes *
last_archive_token(CMS_SignerInfo *si)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(SDR_OID_ATS_V3, 1);
	GBytes *last = NULL;
	int pos = -1;

	while (oid != NULL && (pos = CMS_unsigned_get_attr_by_OBJ(si, oid, pos)) >= 0) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, pos);
		ASN1_TYPE *t = X509_ATTRIBUTE_count(a) == 1 ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;

		if (t != NULL && t->type == V_ASN1_SEQUENCE) {
			g_clear_pointer(&last, g_bytes_unref);
			last = g_bytes_new(t->value.sequence->data,
			                   (gsize)t->value.sequence->length);
		}
	}
	ASN1_OBJECT_free(oid);
	return last;
}

SdrValidationData *
sdr_cms_archive_validation_data(GBytes *token, STACK_OF(X509) * known, X509_STORE *trust,
                                GError **error)
{
	g_autoptr(SdrValidationData) vd = sdr_validation_data_new();
	STACK_OF(X509) *tcerts = NULL;
	X509_STORE *own = NULL;
	X509 *tsa = NULL;
	GError *local = NULL;
	guint seeded;
	gboolean ok;

	if (token == NULL || !sdr_cms_token_signer(token, &tsa, &tcerts)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		                    _("The archive timestamp to renew carries no TSA certificate"));
		return NULL;
	}
	for (int i = 0; known != NULL && i < sk_X509_num(known); i++) {
		X509 *c = sk_X509_value(known, i);

		if (X509_up_ref(c) == 1 && X509_up_ref(c) == 1) {
			sk_X509_push(tcerts, c);
			g_ptr_array_add(vd->certs, c);
		}
	}
	seeded = vd->certs->len;
	if (trust == NULL)
		trust = own = sdr_cms_store_from_chain(tcerts);
	ok = sdr_revocation_collect_into(vd, tsa, tcerts, trust, &local);
	X509_free(tsa);
	sk_X509_pop_free(tcerts, X509_free);
	X509_STORE_free(own);
	if (!ok) {
		g_propagate_error(error, level_error(local, "B-LTA"));
		return NULL;
	}
	g_ptr_array_remove_range(vd->certs, 0, seeded);
	return g_steal_pointer(&vd);
}

/* Renewal (EN 319 122-1 5.5.3): the certificates and revocation data of the last
 * archive timestamp's TSA chain go into SignedData.certificates and .crls before the
 * new archive timestamp covers them. */
static gboolean
add_archive_lt(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509_STORE *trust, GPtrArray *ocsp,
               GError **error)
{
	g_autoptr(GBytes) token = last_archive_token(si);
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	g_autoptr(SdrValidationData) vd =
	        sdr_cms_archive_validation_data(token, certs, trust, error);

	sk_X509_pop_free(certs, X509_free);
	return vd != NULL && sdr_cms_add_validation_data(cms, vd, ocsp, error);
}

/* The ats-hash-index-v3 goes into the token's own unsigned attributes. */
static GBytes *
token_with_index(GBytes *token, GBytes *index, GError **error)
{
	gsize n;
	const unsigned char *p = g_bytes_get_data(token, &n);
	CMS_ContentInfo *tc = d2i_CMS_ContentInfo(NULL, &p, (long)n);
	CMS_SignerInfo *tsi;
	GBytes *out = NULL;

	if (tc == NULL || sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(tc)) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("The timestamp cannot be read"));
		CMS_ContentInfo_free(tc);
		return NULL;
	}
	tsi = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(tc), 0);
	if (CMS_unsigned_add1_attr_by_txt(tsi, SDR_OID_ATS_HASH_INDEX_V3, V_ASN1_SEQUENCE,
	                                  g_bytes_get_data(index, NULL),
	                                  (int)g_bytes_get_size(index)) == 1)
		out = encode(tc, NULL, error);
	else
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the CMS signature"));
	CMS_ContentInfo_free(tc);
	return out;
}

static GBytes *
add_lta(GBytes *der, SdrHashAlg hash, const guint8 *content_hash, const char *tsa_url,
        GError **error)
{
	g_autoptr(GBytes) index = sdr_cms_ats_hash_index(der, hash, error);
	g_autoptr(GBytes) token = NULL, indexed = NULL, result = NULL;
	guint8 imprint[EVP_MAX_MD_SIZE], check[EVP_MAX_MD_SIZE];
	gsize il = 0, cl = 0;
	GError *local = NULL;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;

	if (index == NULL ||
	    !sdr_cms_ats_imprint(der, hash, content_hash, index, FALSE, imprint, &il, error))
		return NULL;
	token = sdr_tsa_timestamp(tsa_url, hash, imprint, il, &local);
	if (token == NULL) {
		g_propagate_error(error, level_error(local, "B-LTA"));
		return NULL;
	}
	indexed = token_with_index(token, index, error);
	if (indexed == NULL)
		return NULL;
	cms = parse_any(der, error);
	if (cms == NULL)
		return NULL;
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	if (CMS_unsigned_add1_attr_by_txt(si, SDR_OID_ATS_V3, V_ASN1_SEQUENCE,
	                                  g_bytes_get_data(indexed, NULL),
	                                  (int)g_bytes_get_size(indexed)) == 1)
		result = encode(cms, NULL, error);
	else
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the CMS signature"));
	CMS_ContentInfo_free(cms);
	/* What a verifier will compute over the final bytes must be what was stamped. */
	if (result != NULL &&
	    (!sdr_cms_ats_imprint(result, hash, content_hash, index, TRUE, check, &cl, NULL) ||
	     cl != il || memcmp(check, imprint, il) != 0)) {
		g_set_error_literal(
		        error, SDR_ERROR, SDR_ERROR_FAILED,
		        _("The archive timestamp does not match the encoded signature"));
		return NULL;
	}
	return g_steal_pointer(&result);
}

static gboolean
same_signed_part(GBytes *a, GBytes *b)
{
	Layout la, lb;
	gboolean same;

	if (!layout_parse(g_bytes_get_data(a, NULL), g_bytes_get_size(a), &la, NULL))
		return TRUE; /* BER input: OpenSSL re-encoded it; checked by the caller's verify */
	if (!layout_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &lb, NULL)) {
		layout_clear(&la);
		return FALSE;
	}
	same = la.si_fields.n == lb.si_fields.n &&
	       memcmp(la.si_fields.p, lb.si_fields.p, la.si_fields.n) == 0 &&
	       la.econtent.n == lb.econtent.n &&
	       (la.econtent.n == 0 || memcmp(la.econtent.p, lb.econtent.p, la.econtent.n) == 0);
	layout_clear(&la);
	layout_clear(&lb);
	return same;
}

/* long: the three steps T, LT, LTA on one CMS object, with the content hash and the
 * final self-checks; each step needs the encoded result of the previous one */
GBytes *
sdr_cms_extend(GBytes *bytes, GInputStream *content, const SdrExtendOptions *o, GError **error)
{
	CMS_ContentInfo *cms = parse_any(bytes, error);
	g_autoptr(GPtrArray) ocsp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GBytes) der = NULL, original = NULL;
	guint8 content_hash[EVP_MAX_MD_SIZE];
	CMS_SignerInfo *si;
	X509 *cert = NULL;
	SdrHashAlg hash;
	ASN1_OCTET_STRING **ec;

	if (cms == NULL)
		return NULL;
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	hash = si_hash(si);
	cert = signer_cert(cms, si);
	original = g_bytes_get_size(bytes) > 0 &&
	                           *(const guint8 *)g_bytes_get_data(bytes, NULL) == 0x30
	                   ? g_bytes_ref(bytes)
	                   : encode(cms, NULL, NULL);
	if (cert == NULL || original == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		                    _("The signer's certificate is not in the signature"));
		goto fail;
	}
	ec = CMS_get0_content(cms);
	if (ec != NULL && *ec != NULL) {
		if (EVP_Digest(ASN1_STRING_get0_data(*ec), (size_t)ASN1_STRING_length(*ec),
		               content_hash, NULL, sdr_hash_md(hash), NULL) != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
			goto fail;
		}
	} else if (content == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		                    _("The signed document of this detached signature is needed "
		                      "(--content)"));
		goto fail;
	} else {
		gsize n = 0;

		if (!sdr_digest_stream(content, hash, content_hash, &n, NULL, error))
			goto fail;
	}
	if (o->current < SDR_TARGET_LEVEL_T &&
	    !add_signature_timestamp(si, hash, o->tsa_url, error))
		goto fail;
	if (o->current < SDR_TARGET_LEVEL_LT && !add_lt(cms, si, cert, o->trust, ocsp, error))
		goto fail;
	if (o->renew && o->current >= SDR_TARGET_LEVEL_LTA &&
	    !add_archive_lt(cms, si, o->trust, ocsp, error))
		goto fail;
	der = encode(cms, ocsp, error);
	if (der == NULL)
		goto fail;
	if (o->level >= SDR_TARGET_LEVEL_LTA) {
		GBytes *lta = add_lta(der, hash, content_hash, o->tsa_url, error);

		if (lta == NULL)
			goto fail;
		g_bytes_unref(der);
		der = lta;
	}
	if (!same_signed_part(original, der)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED,
		                    _("Extending would change the signed part of the signature"));
		goto fail;
	}
	X509_free(cert);
	CMS_ContentInfo_free(cms);
	return g_steal_pointer(&der);
fail:
	X509_free(cert);
	CMS_ContentInfo_free(cms);
	return NULL;
}
