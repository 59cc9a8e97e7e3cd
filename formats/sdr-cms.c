/* sdr-cms.c - CAdES signing: a detached (or attached) SignedData whose SignerInfo
 * is built here, the signature value coming from an SdrSigner (the private key is
 * never in memory). */
#include "sdr-cms.h"

#include "sdr-cms-private.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-tsa.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/rsa.h>
#include <string.h>

#define SDR_CMS_ATTACHED_MAX ((gsize)64 * 1024 * 1024)
#define SDR_DIGEST_CHUNK (256 * 1024)

void
sdr_cms_options_init(SdrCmsOptions *options)
{
	g_return_if_fail(options != NULL);
	memset(options, 0, sizeof *options);
	options->hash = SDR_HASH_SHA256;
	options->level = SDR_TARGET_LEVEL_B;
	options->signing_time = TRUE;
}

gboolean
sdr_target_level_from_name(const char *name, SdrTargetLevel *out)
{
	static const struct {
		const char *name;
		SdrTargetLevel level;
	} names[] = {
		{ "B", SDR_TARGET_LEVEL_B },     { "B-B", SDR_TARGET_LEVEL_B },
		{ "T", SDR_TARGET_LEVEL_T },     { "B-T", SDR_TARGET_LEVEL_T },
		{ "LT", SDR_TARGET_LEVEL_LT },   { "B-LT", SDR_TARGET_LEVEL_LT },
		{ "LTA", SDR_TARGET_LEVEL_LTA }, { "B-LTA", SDR_TARGET_LEVEL_LTA },
	};

	if (name == NULL)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(name, names[i].name) == 0) {
			if (out != NULL)
				*out = names[i].level;
			return TRUE;
		}
	}
	return FALSE;
}

/* A failed document read as an SDR_ERROR (cancellation kept apart); frees local. */
static void
set_read_error(GError **error, GError *local)
{
	g_set_error(error, SDR_ERROR,
	            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? SDR_ERROR_CANCELLED
	                                                                     : SDR_ERROR_IO,
	            _("Cannot read the document: %s"), local->message);
	g_error_free(local);
}

gboolean
sdr_digest_stream(GInputStream *in, SdrHashAlg hash, guint8 *out, gsize *out_len,
                  GCancellable *cancellable, GError **error)
{
	EVP_MD_CTX *ctx;
	g_autofree guint8 *buf = NULL;
	unsigned int n = 0;
	gboolean ok = FALSE;

	g_return_val_if_fail(G_IS_INPUT_STREAM(in), FALSE);
	g_return_val_if_fail(out != NULL, FALSE);

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, sdr_hash_md(hash), NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestInit");
		goto out;
	}
	buf = g_malloc(SDR_DIGEST_CHUNK);
	for (;;) {
		GError *local = NULL;
		gssize r = g_input_stream_read(in, buf, SDR_DIGEST_CHUNK, cancellable, &local);

		if (r < 0) {
			set_read_error(error, local);
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestUpdate");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, out, &n) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestFinal");
		goto out;
	}
	if (out_len != NULL)
		*out_len = n;
	ok = TRUE;
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* ---- DER helpers ---- */

static void
der_put_header(GByteArray *out, guint8 tag, gsize len)
{
	guint8 h[10];
	gsize n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (guint8)len;
	} else {
		guint8 tmp[8];
		gsize k = 0;

		while (len > 0) {
			tmp[k++] = (guint8)(len & 0xff);
			len >>= 8;
		}
		h[n++] = (guint8)(0x80 | k);
		while (k > 0)
			h[n++] = tmp[--k];
	}
	g_byte_array_append(out, h, (guint)n);
}

/* Reads one TLV with definite length at buf[*off]. */
static gboolean
der_next(const guint8 *buf, gsize len, gsize *off, guint8 *tag, gsize *hdr, gsize *clen)
{
	gsize o = *off, l;

	if (o >= len || len - o < 2)
		return FALSE;
	*tag = buf[o];
	if ((buf[o] & 0x1f) == 0x1f)
		return FALSE; /* multi-byte tags: not in CMS structures we walk */
	if (buf[o + 1] < 0x80) {
		l = buf[o + 1];
		*hdr = 2;
	} else {
		gsize k = buf[o + 1] & 0x7f;

		if (k == 0 || k > sizeof(gsize) || len - o - 2 < k)
			return FALSE;
		l = 0;
		for (gsize i = 0; i < k; i++)
			l = (l << 8) | buf[o + 2 + i];
		*hdr = 2 + k;
	}
	if (l > len - o - *hdr)
		return FALSE;
	*clen = l;
	*off = o + *hdr + l;
	return TRUE;
}

typedef struct {
	const guint8 *p;
	gsize len;
} DerItem;

static int
der_item_cmp(gconstpointer a, gconstpointer b)
{
	const DerItem *x = a, *y = b;
	int c = memcmp(x->p, y->p, MIN(x->len, y->len));

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

/* Finds the SignedData content inside a ContentInfo: sd_off and sd_len delimit the
 * SignedData SEQUENCE's contents. */
static gboolean
der_find_signed_data(const guint8 *der, gsize len, gsize *sd_off, gsize *sd_len)
{
	gsize off = 0, hdr, clen, inner;
	guint8 tag;

	if (!der_next(der, len, &off, &tag, &hdr, &clen) || tag != 0x30)
		return FALSE;
	inner = hdr;
	/* contentType OID */
	off = inner;
	if (!der_next(der, len, &off, &tag, &hdr, &clen) || tag != 0x06)
		return FALSE;
	/* [0] EXPLICIT */
	inner = off;
	if (!der_next(der, len, &off, &tag, &hdr, &clen) || tag != 0xA0)
		return FALSE;
	off = inner + hdr;
	inner = off;
	if (!der_next(der, len, &off, &tag, &hdr, &clen) || tag != 0x30)
		return FALSE;
	*sd_off = inner + hdr;
	*sd_len = clen;
	return TRUE;
}

static const guint8 oid_ri_ocsp[] = { 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02 };
static const guint8 oid_ocsp_basic[] = { 0x06, 0x09, 0x2B, 0x06, 0x01, 0x05,
	                                 0x05, 0x07, 0x30, 0x01, 0x01 };

GBytes *
sdr_cms_der_add_ocsp(GBytes *der_bytes, GPtrArray *ocsp, GError **error)
{
	gsize len, sd_off, sd_len, off, end, hdr, clen;
	const guint8 *der = g_bytes_get_data(der_bytes, &len);
	g_autoptr(GByteArray) sd = g_byte_array_new();
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(DerItem));
	g_autoptr(GPtrArray) owned =
	        g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
	gboolean crls_done = FALSE;
	guint8 tag;

	if (ocsp == NULL || ocsp->len == 0)
		return g_bytes_ref(der_bytes);
	if (!der_find_signed_data(der, len, &sd_off, &sd_len))
		goto bad;
	for (guint i = 0; i < ocsp->len; i++) {
		gsize olen;
		const guint8 *o = g_bytes_get_data(g_ptr_array_index(ocsp, i), &olen);
		GByteArray *item = g_byte_array_new();

		der_put_header(item, 0xA1, sizeof oid_ri_ocsp + olen);
		g_byte_array_append(item, oid_ri_ocsp, sizeof oid_ri_ocsp);
		g_byte_array_append(item, o, (guint)olen);
		g_ptr_array_add(owned, item);
		g_array_append_val(items, ((DerItem){ item->data, item->len }));
	}
	off = sd_off;
	end = sd_off + sd_len;
	while (off < end) {
		gsize start = off;

		if (!der_next(der, end, &off, &tag, &hdr, &clen))
			goto bad;
		if (tag == 0xA1 || (tag == 0x31 && !crls_done && start > sd_off && off == end)) {
			if (tag == 0xA1) {
				gsize io = start + hdr, iend = off;

				while (io < iend) {
					gsize is = io, ih, il;
					guint8 it;

					if (!der_next(der, iend, &io, &it, &ih, &il))
						goto bad;
					g_array_append_val(items, ((DerItem){ der + is, io - is }));
				}
			}
			if (!crls_done) {
				gsize total = 0;

				g_array_sort(items, der_item_cmp);
				for (guint i = 0; i < items->len; i++)
					total += g_array_index(items, DerItem, i).len;
				der_put_header(sd, 0xA1, total);
				for (guint i = 0; i < items->len; i++) {
					DerItem *it = &g_array_index(items, DerItem, i);

					g_byte_array_append(sd, it->p, (guint)it->len);
				}
				crls_done = TRUE;
			}
			if (tag == 0xA1)
				continue;
		}
		g_byte_array_append(sd, der + start, (guint)(off - start));
	}
	if (!crls_done)
		goto bad;
	{
		/* ContentInfo { OID, [0] { SignedData } } */
		gsize ci_hdr, ci_len, oid_off = 0, oh, ol;
		GByteArray *sdseq = g_byte_array_new();
		GByteArray *a0 = g_byte_array_new();
		GByteArray *body = g_byte_array_new();

		der_put_header(sdseq, 0x30, sd->len);
		g_byte_array_append(sdseq, sd->data, sd->len);
		der_put_header(a0, 0xA0, sdseq->len);
		g_byte_array_append(a0, sdseq->data, sdseq->len);
		(void)der_next(der, len, &oid_off, &tag, &ci_hdr, &ci_len);
		oid_off = ci_hdr;
		(void)der_next(der, len, &oid_off, &tag, &oh, &ol);
		g_byte_array_append(body, der + ci_hdr, (guint)(oid_off - ci_hdr));
		g_byte_array_append(body, a0->data, a0->len);
		der_put_header(out, 0x30, body->len);
		g_byte_array_append(out, body->data, body->len);
		g_byte_array_unref(sdseq);
		g_byte_array_unref(a0);
		g_byte_array_unref(body);
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
bad:
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED,
	                    _("Cannot add the OCSP responses to the signature"));
	return NULL;
}

GPtrArray *
sdr_cms_der_get_ocsp(const guint8 *der, gsize len)
{
	GPtrArray *res = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	gsize sd_off, sd_len, off, end, hdr, clen;
	guint8 tag;

	if (!der_find_signed_data(der, len, &sd_off, &sd_len))
		return res;
	off = sd_off;
	end = sd_off + sd_len;
	while (off < end) {
		gsize start = off;

		if (!der_next(der, end, &off, &tag, &hdr, &clen))
			break;
		if (tag != 0xA1)
			continue;
		for (gsize io = start + hdr; io < off;) {
			gsize is = io, ih, il, o2, oh, ol;
			guint8 it, ot;

			if (!der_next(der, off, &io, &it, &ih, &il))
				break;
			if (it != 0xA1)
				continue;
			o2 = is + ih;
			if (!der_next(der, io, &o2, &ot, &oh, &ol) || ot != 0x06)
				continue;
			{
				gsize oid_len = o2 - (is + ih);
				const guint8 *oid = der + is + ih;
				gsize vs = o2, vh, vl;
				guint8 vt;

				if (!der_next(der, io, &o2, &vt, &vh, &vl))
					continue;
				if (oid_len == sizeof oid_ri_ocsp &&
				    memcmp(oid, oid_ri_ocsp, oid_len) == 0)
					g_ptr_array_add(res, g_bytes_new(der + vs, o2 - vs));
				else if (oid_len == sizeof oid_ocsp_basic &&
				         memcmp(oid, oid_ocsp_basic, oid_len) == 0) {
					/* A BasicOCSPResponse: wrap it into an OCSPResponse. */
					OCSP_BASICRESP *bs = NULL;
					const unsigned char *p = der + vs;
					OCSP_RESPONSE *r;
					unsigned char *rd = NULL;
					int n;

					bs = d2i_OCSP_BASICRESP(NULL, &p, (long)(o2 - vs));
					if (bs == NULL) {
						ERR_clear_error();
						continue;
					}
					r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
					                         bs);
					OCSP_BASICRESP_free(bs);
					n = r != NULL ? i2d_OCSP_RESPONSE(r, &rd) : -1;
					OCSP_RESPONSE_free(r);
					if (n > 0)
						g_ptr_array_add(res, g_bytes_new(rd, (gsize)n));
					OPENSSL_free(rd);
				}
			}
		}
	}
	return res;
}

/* ---- signing ---- */

static int
attr_enc_cmp(gconstpointer a, gconstpointer b)
{
	const GBytes *const *x = a, *const *y = b;

	return g_bytes_compare(*x, *y);
}

/* Sorts the signed attributes into DER order (in the SignerInfo too) and returns
 * the DER of the SET OF, which is what gets signed. */
GBytes *
sdr_cms_signed_attrs_der(CMS_SignerInfo *si, GError **error)
{
	int n = CMS_signed_get_attr_count(si);
	g_autoptr(GPtrArray) encs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GByteArray) out = g_byte_array_new();
	gsize total = 0;

	for (int i = 0; i < n; i++) {
		X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
		unsigned char *d = NULL;
		int l = i2d_X509_ATTRIBUTE(a, &d);

		if (l <= 0) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "i2d_X509_ATTRIBUTE");
			return NULL;
		}
		g_ptr_array_add(encs, g_bytes_new(d, (gsize)l));
		OPENSSL_free(d);
	}
	/* g_bytes_compare orders shorter-prefix first: the DER SET OF order. */
	g_ptr_array_sort(encs, attr_enc_cmp);
	while (CMS_signed_get_attr_count(si) > 0)
		X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, 0));
	for (guint i = 0; i < encs->len; i++) {
		gsize l;
		const unsigned char *p = g_bytes_get_data(g_ptr_array_index(encs, i), &l);
		X509_ATTRIBUTE *a = d2i_X509_ATTRIBUTE(NULL, &p, (long)l);

		if (a == NULL || CMS_signed_add1_attr(si, a) != 1) {
			X509_ATTRIBUTE_free(a);
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "CMS_signed_add1_attr");
			return NULL;
		}
		X509_ATTRIBUTE_free(a);
		total += l;
	}
	der_put_header(out, 0x31, total);
	for (guint i = 0; i < encs->len; i++) {
		gsize l;
		const guint8 *p = g_bytes_get_data(g_ptr_array_index(encs, i), &l);

		g_byte_array_append(out, p, (guint)l);
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static gboolean
set_pss_algorithm(CMS_SignerInfo *si, SdrHashAlg hash, GError **error)
{
	X509_ALGOR *sig_alg = NULL;
	RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
	X509_ALGOR *mgf_md = X509_ALGOR_new();
	ASN1_STRING *mgf_param = NULL;
	ASN1_STRING *params = NULL;
	gboolean ok = FALSE;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig_alg);
	if (pss == NULL || mgf_md == NULL || sig_alg == NULL)
		goto out;
	pss->hashAlgorithm = X509_ALGOR_new();
	pss->maskGenAlgorithm = X509_ALGOR_new();
	pss->saltLength = ASN1_INTEGER_new();
	if (pss->hashAlgorithm == NULL || pss->maskGenAlgorithm == NULL || pss->saltLength == NULL)
		goto out;
	X509_ALGOR_set_md(pss->hashAlgorithm, sdr_hash_md(hash));
	X509_ALGOR_set_md(mgf_md, sdr_hash_md(hash));
	if (ASN1_INTEGER_set(pss->saltLength, (long)sdr_hash_len(hash)) != 1)
		goto out;
	if (ASN1_item_pack(mgf_md, ASN1_ITEM_rptr(X509_ALGOR), &mgf_param) == NULL)
		goto out;
	if (X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE,
	                    mgf_param) != 1)
		goto out;
	mgf_param = NULL;
	if (ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), &params) == NULL)
		goto out;
	if (X509_ALGOR_set0(sig_alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params) != 1)
		goto out;
	params = NULL;
	ok = TRUE;
out:
	if (!ok)
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "RSASSA-PSS parameters");
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf_md);
	ASN1_STRING_free(mgf_param);
	ASN1_STRING_free(params);
	return ok;
}

static gboolean
add_cert_once(CMS_ContentInfo *cms, X509 *cert)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	gboolean present = FALSE;

	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_cmp(sk_X509_value(certs, i), cert) == 0)
			present = TRUE;
	sk_X509_pop_free(certs, X509_free);
	if (present)
		return TRUE;
	return CMS_add1_cert(cms, cert) == 1;
}

/* A store for B-LT chain building when the caller gave none: the self-signed
 * certificates of the signer's chain. */
X509_STORE *
sdr_cms_store_from_chain(STACK_OF(X509) * chain)
{
	X509_STORE *st = X509_STORE_new();

	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		if (X509_check_issued(c, c) == X509_V_OK)
			X509_STORE_add_cert(st, c);
	}
	return st;
}

gboolean
sdr_cms_add_validation_data(CMS_ContentInfo *cms, SdrValidationData *vd, GPtrArray *ocsp,
                            GError **error)
{
	for (guint i = 0; i < vd->certs->len; i++)
		if (!add_cert_once(cms, g_ptr_array_index(vd->certs, i))) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "CMS_add1_cert");
			return FALSE;
		}
	for (guint i = 0; i < vd->crls->len; i++) {
		gsize l;
		const unsigned char *p = g_bytes_get_data(g_ptr_array_index(vd->crls, i), &l);
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)l);
		int r = crl != NULL ? CMS_add1_crl(cms, crl) : 0;

		X509_CRL_free(crl);
		if (r != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "CMS_add1_crl");
			return FALSE;
		}
	}
	for (guint i = 0; i < vd->ocsp_responses->len; i++)
		g_ptr_array_add(ocsp, g_bytes_ref(g_ptr_array_index(vd->ocsp_responses, i)));
	return TRUE;
}

/* The TSA certificate and the certificates carried by a token. */
gboolean
sdr_cms_token_signer(GBytes *token, X509 **tsa_cert, STACK_OF(X509) * *certs)
{
	gsize l;
	const unsigned char *p = g_bytes_get_data(token, &l);
	CMS_ContentInfo *tc = d2i_CMS_ContentInfo(NULL, &p, (long)l);
	STACK_OF(CMS_SignerInfo) * sis;
	STACK_OF(X509) * all;
	X509 *found = NULL;

	if (tc == NULL) {
		ERR_clear_error();
		return FALSE;
	}
	all = CMS_get1_certs(tc);
	sis = CMS_get0_SignerInfos(tc);
	if (all != NULL && sk_CMS_SignerInfo_num(sis) == 1) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);

		for (int i = 0; i < sk_X509_num(all) && found == NULL; i++)
			if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(all, i)) == 0)
				found = sk_X509_value(all, i);
	}
	CMS_ContentInfo_free(tc);
	if (found == NULL) {
		sk_X509_pop_free(all, X509_free);
		return FALSE;
	}
	X509_up_ref(found);
	*tsa_cert = found;
	*certs = all;
	return TRUE;
}

/* long: one CMS_SignedData built step by step with OpenSSL (signer info, attributes in
 * DER order, external signature, timestamp, validation data); the OpenSSL objects are
 * freed at one exit */
static GBytes *
sign_internal(SdrSigner *signer, const guint8 *content_digest, gsize digest_len, GBytes *econtent,
              const SdrCmsOptions *options, GError **error)
{
	SdrCmsOptions defaults;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	X509 *cert = sdr_signer_get_cert(signer);
	STACK_OF(X509) *chain = sdr_signer_get_chain(signer);
	const EVP_MD *md;
	ASN1_OBJECT *ctype = NULL;
	ESS_SIGNING_CERT_V2 *sc = NULL;
	g_autoptr(GBytes) attrs = NULL;
	g_autoptr(GBytes) sig = NULL;
	g_autoptr(GBytes) token = NULL;
	g_autoptr(GPtrArray) ocsp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	guint8 attr_digest[EVP_MAX_MD_SIZE];
	unsigned int attr_digest_len = 0;
	unsigned char *der = NULL;
	int der_len;
	GBytes *result = NULL;
	int flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;

	if (options == NULL) {
		sdr_cms_options_init(&defaults);
		options = &defaults;
	}
	md = sdr_hash_md(options->hash);
	if (digest_len != sdr_hash_len(options->hash)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("The digest length does not match its algorithm"));
		return NULL;
	}
	if (options->level == SDR_TARGET_LEVEL_LTA) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		                    _("CAdES B-LTA signatures are not supported"));
		return NULL;
	}
	if (options->level >= SDR_TARGET_LEVEL_T &&
	    (options->tsa_url == NULL || options->tsa_url[0] == '\0')) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		                    _("No timestamp authority is configured: level B-T and above "
		                      "cannot be reached"));
		return NULL;
	}

	cms = CMS_sign(NULL, NULL, NULL, NULL, flags | (econtent == NULL ? CMS_DETACHED : 0));
	if (cms == NULL)
		goto ossl_err;
	if (options->content_type != NULL) {
		ctype = OBJ_txt2obj(options->content_type, 1);
		if (ctype == NULL || CMS_set1_eContentType(cms, ctype) != 1) {
			ERR_clear_error();
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Invalid content type %s"), options->content_type);
			goto out;
		}
	} else {
		ctype = OBJ_nid2obj(NID_pkcs7_data);
	}
	if (econtent != NULL) {
		ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
		gsize l;
		const void *d = g_bytes_get_data(econtent, &l);

		if (pos == NULL)
			goto ossl_err;
		if (*pos == NULL)
			*pos = ASN1_OCTET_STRING_new();
		if (*pos == NULL || l > G_MAXINT || ASN1_OCTET_STRING_set(*pos, d, (int)l) != 1)
			goto ossl_err;
	}
	/* The public key stands in for the private one: OpenSSL only checks they match;
	 * the signature value is set below from the signer's callback. */
	si = CMS_add1_signer(cms, cert, X509_get0_pubkey(cert), md, flags);
	if (si == NULL)
		goto ossl_err;
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (!add_cert_once(cms, sk_X509_value(chain, i)))
			goto ossl_err;

	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, ctype, -1) != 1)
		goto ossl_err;
	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
	                                content_digest, (int)digest_len) != 1)
		goto ossl_err;
	if (options->signing_time) {
		ASN1_TIME *t = X509_gmtime_adj(NULL, 0); /* UTCTime until 2049 */
		int r = t != NULL ? CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type,
		                                                t, -1)
		                  : 0;

		ASN1_TIME_free(t);
		if (r != 1)
			goto ossl_err;
	}
	sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), cert, NULL, 1);
	if (sc == NULL)
		goto ossl_err;
	{
		unsigned char *scd = NULL;
		int scl = i2d_ESS_SIGNING_CERT_V2(sc, &scd);
		int r = scl > 0 ? CMS_signed_add1_attr_by_NID(si,
		                                              NID_id_smime_aa_signingCertificateV2,
		                                              V_ASN1_SEQUENCE, scd, scl)
		                : 0;

		OPENSSL_free(scd);
		if (r != 1)
			goto ossl_err;
	}

	if (sdr_signer_get_scheme(signer) == SDR_SIG_RSA_PSS &&
	    !set_pss_algorithm(si, options->hash, error))
		goto out;

	attrs = sdr_cms_signed_attrs_der(si, error);
	if (attrs == NULL)
		goto out;
	if (EVP_Digest(g_bytes_get_data(attrs, NULL), g_bytes_get_size(attrs), attr_digest,
	               &attr_digest_len, md, NULL) != 1)
		goto ossl_err;
	sig = sdr_signer_sign_digest(signer, options->hash, attr_digest, attr_digest_len, error);
	if (sig == NULL)
		goto out;
	if (sdr_signer_get_scheme(signer) == SDR_SIG_ECDSA) {
		GBytes *d =
		        sdr_ecdsa_raw_to_der(g_bytes_get_data(sig, NULL), g_bytes_get_size(sig));

		if (d == NULL) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CRYPTO,
			                    _("The ECDSA signature is malformed"));
			goto out;
		}
		g_bytes_unref(sig);
		sig = d;
	}
	if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), g_bytes_get_data(sig, NULL),
	                    (int)g_bytes_get_size(sig)) != 1)
		goto ossl_err;

	if (options->level >= SDR_TARGET_LEVEL_T) {
		ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
		guint8 sd[EVP_MAX_MD_SIZE];
		unsigned int sdl = 0;
		GError *local = NULL;

		if (EVP_Digest(ASN1_STRING_get0_data(sv), (size_t)ASN1_STRING_length(sv), sd, &sdl,
		               md, NULL) != 1)
			goto ossl_err;
		token = sdr_tsa_timestamp(options->tsa_url, options->hash, sd, sdl, &local);
		if (token == NULL) {
			g_set_error(error, SDR_ERROR,
			            local->code == SDR_ERROR_NETWORK ? SDR_ERROR_NETWORK
			                                             : SDR_ERROR_LEVEL_NOT_REACHED,
			            _("Level B-T cannot be reached: %s"), local->message);
			g_error_free(local);
			goto out;
		}
		if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
		                                  V_ASN1_SEQUENCE, g_bytes_get_data(token, NULL),
		                                  (int)g_bytes_get_size(token)) != 1)
			goto ossl_err;
	}

	if (options->level >= SDR_TARGET_LEVEL_LT) {
		g_autoptr(SdrValidationData) vd = sdr_validation_data_new();
		X509_STORE *store = options->trust;
		X509_STORE *own = NULL;
		X509 *tsa_cert = NULL;
		STACK_OF(X509) *tsa_certs = NULL;
		GError *local = NULL;
		gboolean ok;

		if (store == NULL)
			store = own = sdr_cms_store_from_chain(chain);
		ok = sdr_revocation_collect_into(vd, cert, chain, store, &local);
		if (ok && !sdr_cms_token_signer(token, &tsa_cert, &tsa_certs)) {
			g_set_error_literal(&local, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
			                    _("The timestamp carries no TSA certificate"));
			ok = FALSE;
		}
		if (ok)
			ok = sdr_revocation_collect_into(vd, tsa_cert, tsa_certs, store, &local);
		X509_free(tsa_cert);
		sk_X509_pop_free(tsa_certs, X509_free);
		X509_STORE_free(own);
		if (!ok) {
			g_set_error(error, SDR_ERROR,
			            local->code == SDR_ERROR_NETWORK ? SDR_ERROR_NETWORK
			                                             : SDR_ERROR_LEVEL_NOT_REACHED,
			            _("Level B-LT cannot be reached: %s"), local->message);
			g_error_free(local);
			goto out;
		}
		if (!sdr_cms_add_validation_data(cms, vd, ocsp, error))
			goto out;
	}

	der_len = i2d_CMS_ContentInfo(cms, &der);
	if (der_len <= 0)
		goto ossl_err;
	{
		g_autoptr(GBytes) plain = g_bytes_new(der, (gsize)der_len);

		result = sdr_cms_der_add_ocsp(plain, ocsp, error);
	}
	goto out;

ossl_err:
	sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the CMS signature"));
out:
	OPENSSL_free(der);
	ESS_SIGNING_CERT_V2_free(sc);
	if (options->content_type != NULL)
		ASN1_OBJECT_free(ctype);
	CMS_ContentInfo_free(cms);
	return result;
}

GBytes *
sdr_cms_sign_digest(SdrSigner *signer, const guint8 *content_digest, gsize digest_len,
                    const SdrCmsOptions *options, GError **error)
{
	g_return_val_if_fail(signer != NULL, NULL);
	g_return_val_if_fail(content_digest != NULL, NULL);
	return sign_internal(signer, content_digest, digest_len, NULL, options, error);
}

GBytes *
sdr_cms_sign_stream(SdrSigner *signer, GInputStream *content, gboolean attached,
                    const SdrCmsOptions *options, GCancellable *cancellable, GError **error)
{
	SdrCmsOptions defaults;
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize digest_len = 0;

	g_return_val_if_fail(signer != NULL, NULL);
	g_return_val_if_fail(G_IS_INPUT_STREAM(content), NULL);
	if (options == NULL) {
		sdr_cms_options_init(&defaults);
		options = &defaults;
	}
	if (attached) {
		g_autoptr(GByteArray) buf = g_byte_array_new();
		g_autoptr(GBytes) data = NULL;
		guint8 chunk[65536];

		for (;;) {
			GError *local = NULL;
			gssize r = g_input_stream_read(content, chunk, sizeof chunk, cancellable,
			                               &local);

			if (r < 0) {
				set_read_error(error, local);
				return NULL;
			}
			if (r == 0)
				break;
			if (buf->len + (gsize)r > SDR_CMS_ATTACHED_MAX) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
				            _("The document is too large for an attached signature "
				              "(more than %u MiB): sign it detached"),
				            (guint)(SDR_CMS_ATTACHED_MAX / (1024 * 1024)));
				return NULL;
			}
			g_byte_array_append(buf, chunk, (guint)r);
		}
		data = g_byte_array_free_to_bytes(g_steal_pointer(&buf));
		if (EVP_Digest(g_bytes_get_data(data, NULL), g_bytes_get_size(data), digest, NULL,
		               sdr_hash_md(options->hash), NULL) != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_Digest");
			return NULL;
		}
		return sign_internal(signer, digest, sdr_hash_len(options->hash), data, options,
		                     error);
	}
	if (!sdr_digest_stream(content, options->hash, digest, &digest_len, cancellable, error))
		return NULL;
	return sign_internal(signer, digest, digest_len, NULL, options, error);
}
