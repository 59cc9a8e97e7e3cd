/* sdr-xades-extend.c - XAdES extension of existing signatures (B-T, B-LT, B-LTA with
 * xadesv141:ArchiveTimeStamp) and the archive timestamp digest the verifier shares.
 * See docs/internals/xades.md.
 */
#include "sdr-xades.h"

#include "sdr-cms-private.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-tsa.h"
#include "sdr-xades-private.h"
#include "sdr-xml.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <string.h>

static gboolean
md_sink(gpointer user_data, const guint8 *data, gsize len)
{
	return EVP_DigestUpdate(user_data, data, len) == 1;
}

static gboolean
c14n_into(EVP_MD_CTX *c, xmlNode *node, xmlNode *exclude, SdrC14nMethod m, GError **error)
{
	return sdr_xmldsig_c14n(node->doc, node, exclude, m, NULL, md_sink, c, error);
}

/* The octets of one ds:Reference after its transforms, as the verifier processes them
 * (sdr-xmldsig.c); a node-set result is canonicalised with the timestamp's method. */
static gboolean
reference_into(EVP_MD_CTX *c, xmlNode *signature, xmlNode *ref, SdrC14nMethod c14n,
               SdrDsigResolveFunc resolve, gpointer user_data, GError **error)
{
	return sdr_xmldsig_reference_octets(signature, ref, c14n, resolve, user_data, md_sink, c,
	                                    error);
}

/* long: the five parts of the archive input of EN 319 132-1 5.5.2.2 in order, each a
 * short loop over one kind of element */
gboolean
sdr_xades_archive_digest(xmlNode *signature, xmlNode *usp, xmlNode *stop, SdrC14nMethod c14n,
                         const EVP_MD *md, SdrDsigResolveFunc resolve, gpointer user_data,
                         guint8 *out, gsize *out_len, GError **error)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	xmlNode *si = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignedInfo");
	xmlNode *sv = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignatureValue");
	xmlNode *ki = sdr_xml_first_child(signature, SDR_DSIG_NS, "KeyInfo");
	unsigned int dl = 0;
	gboolean ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) == 1 && si != NULL && sv != NULL;

	for (xmlNode *r = sdr_xml_first_child(si, SDR_DSIG_NS, "Reference"); ok && r != NULL;
	     r = sdr_xml_next_sibling(r, SDR_DSIG_NS, "Reference"))
		ok = reference_into(c, signature, r, c14n, resolve, user_data, error);
	ok = ok && c14n_into(c, si, NULL, c14n, error) && c14n_into(c, sv, NULL, c14n, error);
	if (ok && ki != NULL)
		ok = c14n_into(c, ki, NULL, c14n, error);
	for (xmlNode *p = usp != NULL ? usp->children : NULL; ok && p != NULL && p != stop;
	     p = p->next)
		if (p->type == XML_ELEMENT_NODE)
			ok = c14n_into(c, p, NULL, c14n, error);
	for (xmlNode *o = sdr_xml_first_child(signature, SDR_DSIG_NS, "Object"); ok && o != NULL;
	     o = sdr_xml_next_sibling(o, SDR_DSIG_NS, "Object")) {
		gboolean has_qp = FALSE;

		for (xmlNode *k = o->children; k != NULL; k = k->next)
			has_qp |= k->type == XML_ELEMENT_NODE &&
			          g_strcmp0((const char *)k->name, "QualifyingProperties") == 0;
		if (!has_qp)
			ok = c14n_into(c, o, NULL, c14n, error);
	}
	ok = ok && EVP_DigestFinal_ex(c, out, &dl) == 1;
	EVP_MD_CTX_free(c);
	if (!ok && error != NULL && *error == NULL)
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "archive digest");
	ERR_clear_error();
	if (ok)
		*out_len = dl;
	return ok;
}

/* ---- extension ---- */

typedef struct {
	const char *content_path;
	const char *base_dir;
} Resolve;

static GInputStream *
resolve_file(gpointer user_data, const char *uri, GError **error)
{
	Resolve *r = user_data;
	g_autofree char *name = NULL, *path = NULL;
	g_autoptr(GFile) f = NULL;

	if (r->content_path != NULL) {
		f = g_file_new_for_path(r->content_path);
		return G_INPUT_STREAM(g_file_read(f, NULL, error));
	}
	name = uri != NULL ? g_uri_unescape_string(uri, NULL) : NULL;
	if (name == NULL || name[0] == '\0' || name[0] == '/' || strchr(name, ':') != NULL ||
	    strstr(name, "..") != NULL || r->base_dir == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		                    _("The signed document of this detached signature is needed "
		                      "(--content)"));
		return NULL;
	}
	path = g_build_filename(r->base_dir, name, NULL);
	f = g_file_new_for_path(path);
	return G_INPUT_STREAM(g_file_read(f, NULL, error));
}

static xmlNode *
find_qp(xmlNode *signature)
{
	for (xmlNode *o = sdr_xml_first_child(signature, SDR_DSIG_NS, "Object"); o != NULL;
	     o = sdr_xml_next_sibling(o, SDR_DSIG_NS, "Object")) {
		xmlNode *qp = sdr_xml_first_child(o, SDR_XADES_NS_132, "QualifyingProperties");

		if (qp != NULL)
			return qp;
	}
	return NULL;
}

static gboolean
add_archive_timestamp(xmlNode *sig, xmlNode *usp, const SdrXadesNs *ns, SdrHashAlg hash,
                      const char *tsa_url, Resolve *res, GError **error)
{
	guint8 d[EVP_MAX_MD_SIZE];
	gsize dl = 0;
	g_autoptr(GBytes) token = NULL;
	g_autofree char *b64 = NULL, *id = NULL, *sig_id = sdr_xml_attr(sig, "Id");
	GError *local = NULL;
	xmlNode *ats, *cm;
	xmlNs *v141;
	guint count = 0;

	if (!sdr_xades_archive_digest(sig, usp, NULL, SDR_C14N_EXCLUSIVE, sdr_hash_md(hash),
	                              resolve_file, res, d, &dl, error))
		return FALSE;
	token = sdr_tsa_timestamp(tsa_url, hash, d, dl, &local);
	if (token == NULL) {
		g_set_error(error, SDR_ERROR,
		            local->code == SDR_ERROR_NETWORK ? SDR_ERROR_NETWORK
		                                             : SDR_ERROR_LEVEL_NOT_REACHED,
		            _("Level %s cannot be reached: %s"), "B-LTA", local->message);
		g_error_free(local);
		return FALSE;
	}
	for (xmlNode *a = sdr_xml_first_child(usp, SDR_XADES_NS_141, "ArchiveTimeStamp"); a != NULL;
	     a = sdr_xml_next_sibling(a, SDR_XADES_NS_141, "ArchiveTimeStamp"))
		count++;
	ats = xmlNewChild(usp, NULL, BAD_CAST "ArchiveTimeStamp", NULL);
	v141 = xmlNewNs(ats, BAD_CAST SDR_XADES_NS_141, BAD_CAST "xadesv141");
	xmlSetNs(ats, v141);
	/* renewals: _ATS2, _ATS3... (Ids stay unique) */
	id = count == 0 ? g_strconcat(sig_id != NULL ? sig_id : "sig", "_ATS", NULL)
	                : g_strdup_printf("%s_ATS%u", sig_id != NULL ? sig_id : "sig", count + 1);
	xmlSetProp(ats, BAD_CAST "Id", BAD_CAST id);
	cm = xmlNewChild(ats, ns->ds, BAD_CAST "CanonicalizationMethod", NULL);
	xmlSetProp(cm, BAD_CAST "Algorithm", BAD_CAST sdr_c14n_method_uri(SDR_C14N_EXCLUSIVE));
	b64 = g_base64_encode(g_bytes_get_data(token, NULL), g_bytes_get_size(token));
	xmlNewTextChild(ats, ns->xa, BAD_CAST "EncapsulatedTimeStamp", BAD_CAST b64);
	return TRUE;
}

static void
add_b64(xmlNode *parent, xmlNs *ns, const char *name, const guint8 *data, gsize len)
{
	g_autofree char *b64 = g_base64_encode(data, len);

	xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST b64);
}

/* The certificates of usp's CertificateValues and earlier TimeStampValidationData. */
static STACK_OF(X509) * usp_certs(xmlNode *usp)
{
	STACK_OF(X509) *out = sk_X509_new_null();

	for (xmlNode *p = usp->children; p != NULL; p = p->next) {
		xmlNode *cv =
		        sdr_xml_is(p, SDR_XADES_NS_132, "CertificateValues") ? p
		        : sdr_xml_is(p, SDR_XADES_NS_141, "TimeStampValidationData")
		                ? sdr_xml_first_child(p, SDR_XADES_NS_132, "CertificateValues")
		                : NULL;

		for (xmlNode *c = sdr_xml_first_child(cv, SDR_XADES_NS_132,
		                                      "EncapsulatedX509Certificate");
		     c != NULL && sk_X509_num(out) < 64;
		     c = sdr_xml_next_sibling(c, SDR_XADES_NS_132, "EncapsulatedX509Certificate")) {
			g_autofree char *text = sdr_xml_text(c);
			X509 *x = sdr_xml_base64_decode_cert(text, 64 * 1024);

			if (x != NULL && sk_X509_push(out, x) <= 0)
				X509_free(x);
		}
	}
	return out;
}

/* Renewal (EN 319 132-1 5.5.2.3): an xadesv141:TimeStampValidationData after the last
 * archive timestamp, with the certificates and revocation data of its TSA chain, before
 * the new archive timestamp covers them. */
static gboolean
add_timestamp_validation_data(xmlNode *sig, xmlNode *usp, const SdrXadesNs *ns, X509_STORE *trust,
                              GError **error)
{
	xmlNode *last = NULL, *tsvd, *cv, *rv;
	g_autoptr(GBytes) token = NULL;
	g_autoptr(SdrValidationData) vd = NULL;
	g_autofree char *text = NULL, *sig_id = sdr_xml_attr(sig, "Id"), *id = NULL;
	STACK_OF(X509) * known;
	xmlNs *v141;

	for (xmlNode *a = sdr_xml_first_child(usp, SDR_XADES_NS_141, "ArchiveTimeStamp"); a != NULL;
	     a = sdr_xml_next_sibling(a, SDR_XADES_NS_141, "ArchiveTimeStamp"))
		last = a;
	text = sdr_xml_text(sdr_xml_first_child(last, SDR_XADES_NS_132, "EncapsulatedTimeStamp"));
	token = text != NULL ? sdr_xml_base64_decode(text, 1024 * 1024, NULL) : NULL;
	known = usp_certs(usp);
	vd = sdr_cms_archive_validation_data(token, known, trust, error);
	sk_X509_pop_free(known, X509_free);
	if (vd == NULL)
		return FALSE;
	tsvd = xmlNewChild(usp, NULL, BAD_CAST "TimeStampValidationData", NULL);
	v141 = xmlNewNs(tsvd, BAD_CAST SDR_XADES_NS_141, BAD_CAST "xadesv141");
	xmlSetNs(tsvd, v141);
	id = g_strdup_printf("%s_TSVD%u", sig_id != NULL ? sig_id : "sig",
	                     (guint)xmlChildElementCount(usp));
	xmlSetProp(tsvd, BAD_CAST "Id", BAD_CAST id);
	cv = vd->certs->len > 0 ? xmlNewChild(tsvd, ns->xa, BAD_CAST "CertificateValues", NULL)
	                        : NULL;
	for (guint i = 0; i < vd->certs->len; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(g_ptr_array_index(vd->certs, i), &der);

		if (len > 0)
			add_b64(cv, ns->xa, "EncapsulatedX509Certificate", der, (gsize)len);
		OPENSSL_free(der);
	}
	rv = xmlNewChild(tsvd, ns->xa, BAD_CAST "RevocationValues", NULL);
	if (vd->crls->len > 0) {
		xmlNode *crls = xmlNewChild(rv, ns->xa, BAD_CAST "CRLValues", NULL);

		for (guint i = 0; i < vd->crls->len; i++)
			add_b64(crls, ns->xa, "EncapsulatedCRLValue",
			        g_bytes_get_data(g_ptr_array_index(vd->crls, i), NULL),
			        g_bytes_get_size(g_ptr_array_index(vd->crls, i)));
	}
	if (vd->ocsp_responses->len > 0) {
		xmlNode *ocsps = xmlNewChild(rv, ns->xa, BAD_CAST "OCSPValues", NULL);

		for (guint i = 0; i < vd->ocsp_responses->len; i++)
			add_b64(ocsps, ns->xa, "EncapsulatedOCSPValue",
			        g_bytes_get_data(g_ptr_array_index(vd->ocsp_responses, i), NULL),
			        g_bytes_get_size(g_ptr_array_index(vd->ocsp_responses, i)));
	}
	return TRUE;
}

/* long: one signature through T, LT, LTA, each step guarded by what it already holds */
static gboolean
extend_signature(xmlNode *sig, const SdrExtendOptions *o, Resolve *res, GError **error)
{
	xmlNode *qp = find_qp(sig);
	xmlNode *up, *usp;
	SdrXadesNs ns;
	SdrXadesOptions xo;
	g_autoptr(SdrDsigVerification) v = NULL;
	g_autoptr(GBytes) token = NULL;
	STACK_OF(X509) *chain = NULL;
	gboolean ok = TRUE;

	if (qp == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("Only XAdES 1.3.2 signatures (the baseline namespace) can be "
		                      "extended"));
		return FALSE;
	}
	v = sdr_xmldsig_verify(sig, NULL, resolve_file, res, error);
	if (v == NULL)
		return FALSE;
	if (!v->signature_value_ok || v->cert == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_INVALID_SIGNATURE,
		                    _("The signature is not valid: it is not extended"));
		return FALSE;
	}
	ns.ds = sig->ns;
	ns.xa = qp->ns;
	sdr_xades_options_init(&xo);
	xo.hash = v->digest_hash;
	xo.c14n = SDR_C14N_EXCLUSIVE;
	xo.tsa_url = o->tsa_url;
	xo.trust = o->trust;
	up = sdr_xml_first_child(qp, SDR_XADES_NS_132, "UnsignedProperties");
	usp = sdr_xml_first_child(up, SDR_XADES_NS_132, "UnsignedSignatureProperties");
	if (usp == NULL && up != NULL)
		usp = xmlNewChild(up, ns.xa, BAD_CAST "UnsignedSignatureProperties", NULL);
	if (usp == NULL)
		usp = sdr_xades_unsigned_signature_properties(qp, &ns);
	if (sdr_xml_first_child(usp, SDR_XADES_NS_132, "SignatureTimeStamp") == NULL) {
		if (!sdr_xades_add_timestamp(sig, usp, &ns, &xo, &token, error))
			return FALSE;
	} else {
		xmlNode *ets = sdr_xml_first_child(
		        sdr_xml_first_child(usp, SDR_XADES_NS_132, "SignatureTimeStamp"),
		        SDR_XADES_NS_132, "EncapsulatedTimeStamp");
		g_autofree char *text = sdr_xml_text(ets);

		token = text != NULL ? sdr_xml_base64_decode(text, 1024 * 1024, NULL) : NULL;
	}
	if (sdr_xml_first_child(usp, SDR_XADES_NS_132, "CertificateValues") == NULL) {
		chain = sk_X509_new_null();
		for (guint i = 0; i < v->certs->len; i++)
			sk_X509_push(chain, g_ptr_array_index(v->certs, i));
		ok = sdr_xades_add_validation_data(v->cert, chain, usp, &ns, token, &xo, error);
		sk_X509_free(chain);
		if (!ok)
			return FALSE;
	}
	if (o->level >= SDR_TARGET_LEVEL_LTA &&
	    sdr_xml_first_child(usp, SDR_XADES_NS_141, "ArchiveTimeStamp") == NULL)
		ok = add_archive_timestamp(sig, usp, &ns, xo.hash, o->tsa_url, res, error);
	else if (o->renew && o->level >= SDR_TARGET_LEVEL_LTA)
		ok = add_timestamp_validation_data(sig, usp, &ns, o->trust, error) &&
		     add_archive_timestamp(sig, usp, &ns, xo.hash, o->tsa_url, res, error);
	return ok;
}

GBytes *
sdr_xades_extend_file(const char *path, const char *content_path, const SdrExtendOptions *o,
                      GError **error)
{
	SdrXmlLimits limits = { SDR_XADES_MAX_XML_SIZE, 0, TRUE };
	g_autoptr(xmlDoc) doc = sdr_xml_parse_file(path, &limits, error);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GPtrArray) sigs = g_ptr_array_new();
	Resolve res = { content_path, dir };
	xmlNode *root;

	if (doc == NULL)
		return NULL;
	if (!sdr_xml_register_ids(doc, NULL, "Id", NULL, error))
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (sdr_xml_is(root, SDR_DSIG_NS, "Signature"))
		g_ptr_array_add(sigs, root);
	for (xmlNode *n = root != NULL ? root->children : NULL; n != NULL; n = n->next)
		if (sdr_xml_is(n, SDR_DSIG_NS, "Signature"))
			g_ptr_array_add(sigs, n);
	if (sigs->len == 0) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("The file holds no XML signature"));
		return NULL;
	}
	for (guint i = 0; i < sigs->len; i++)
		if (!extend_signature(g_ptr_array_index(sigs, i), o, &res, error))
			return NULL;
	return sdr_xml_serialize(doc, error);
}
