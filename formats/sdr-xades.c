/* sdr-xades.c - XAdES signing: detached, enveloped, enveloping; B-B, B-T, B-LT. */
#include "sdr-xades.h"

#include "sdr-xades-private.h"

#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-revocation.h"
#include "sdr-time.h"
#include "sdr-tsa.h"
#include "sdr-xml.h"

#include <glib/gi18n-lib.h>
#include <openssl/pkcs7.h>
#include <string.h>

#define ENVELOPING_MAX ((gsize)64 * 1024 * 1024)

void
sdr_xades_options_init(SdrXadesOptions *options)
{
	memset(options, 0, sizeof *options);
	options->hash = SDR_HASH_SHA256;
	options->level = SDR_TARGET_LEVEL_B;
	options->c14n = SDR_C14N_EXCLUSIVE;
	options->version = SDR_XADES_V132;
	options->policy_hash_alg = SDR_HASH_SHA256;
}

/* ---- DER helpers ----------------------------------------------------------- */

static void
der_append_len(GByteArray *out, gsize len)
{
	guint8 b[9];
	int n = 0;

	if (len < 0x80) {
		b[0] = (guint8)len;
		g_byte_array_append(out, b, 1);
		return;
	}
	for (gsize l = len; l > 0; l >>= 8)
		n++;
	b[0] = (guint8)(0x80 | n);
	for (int i = 0; i < n; i++)
		b[1 + i] = (guint8)(len >> (8 * (n - 1 - i)));
	g_byte_array_append(out, b, (guint)n + 1);
}

static void
der_wrap(GByteArray *out, guint8 tag, const guint8 *content, gsize len)
{
	g_byte_array_append(out, &tag, 1);
	der_append_len(out, len);
	g_byte_array_append(out, content, (guint)len);
}

GBytes *
sdr_xades_issuer_serial_der(X509 *cert)
{
	unsigned char *name = NULL, *serial = NULL;
	int name_len = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
	int serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &serial);
	g_autoptr(GByteArray) dir = g_byte_array_new();
	g_autoptr(GByteArray) names = g_byte_array_new();
	g_autoptr(GByteArray) body = g_byte_array_new();
	GByteArray *out = g_byte_array_new();

	if (name_len <= 0 || serial_len <= 0) {
		OPENSSL_free(name);
		OPENSSL_free(serial);
		g_byte_array_unref(out);
		return NULL;
	}
	der_wrap(dir, 0xA4, name, (gsize)name_len);           /* directoryName [4] */
	der_wrap(names, 0x30, dir->data, dir->len);           /* GeneralNames */
	g_byte_array_append(body, names->data, names->len);   /* issuer */
	g_byte_array_append(body, serial, (guint)serial_len); /* serialNumber */
	der_wrap(out, 0x30, body->data, body->len);
	OPENSSL_free(name);
	OPENSSL_free(serial);
	return g_byte_array_free_to_bytes(out);
}

/* ---- Tree building ------------------------------------------------------------ */

typedef SdrXadesNs Ns;

static xmlNode *
add(xmlNode *parent, xmlNs *ns, const char *name, const char *text)
{
	if (text != NULL)
		return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);
	return xmlNewChild(parent, ns, BAD_CAST name, NULL);
}

static void
add_digest(xmlNode *parent, const Ns *ns, SdrHashAlg hash, const guint8 *digest, gsize len)
{
	g_autofree char *b64 = g_base64_encode(digest, len);

	xmlSetProp(add(parent, ns->ds, "DigestMethod", NULL), BAD_CAST "Algorithm",
	           BAD_CAST sdr_dsig_digest_uri(hash));
	add(parent, ns->ds, "DigestValue", b64);
}

/* RFC 2253 issuer string (g_free). */
static char *
issuer_rfc2253(X509 *cert)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	char *ret = NULL;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_get_mem_data(b, &data);
		if (len >= 0)
			ret = g_strndup(data, (gsize)len);
	}
	BIO_free(b);
	return ret;
}

static gboolean
add_signing_certificate(xmlNode *ssp, const Ns *ns, X509 *cert, const SdrXadesOptions *o,
                        GError **error)
{
	unsigned char *der = NULL;
	int der_len = i2d_X509(cert, &der);
	guint8 digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	xmlNode *sc, *c, *cd;

	if (der_len <= 0 ||
	    EVP_Digest(der, (gsize)der_len, digest, &dlen, sdr_hash_md(o->hash), NULL) != 1) {
		OPENSSL_free(der);
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "certificate digest");
		return FALSE;
	}
	OPENSSL_free(der);
	if (o->version == SDR_XADES_V132) {
		g_autoptr(GBytes) is = sdr_xades_issuer_serial_der(cert);
		g_autofree char *b64 = NULL;

		sc = add(ssp, ns->xa, "SigningCertificateV2", NULL);
		c = add(sc, ns->xa, "Cert", NULL);
		cd = add(c, ns->xa, "CertDigest", NULL);
		add_digest(cd, ns, o->hash, digest, dlen);
		if (is != NULL) {
			b64 = g_base64_encode(g_bytes_get_data(is, NULL), g_bytes_get_size(is));
			add(c, ns->xa, "IssuerSerialV2", b64);
		}
	} else {
		char *issuer = issuer_rfc2253(cert);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
		char *dec = bn != NULL ? BN_bn2dec(bn) : NULL;
		xmlNode *is;

		sc = add(ssp, ns->xa, "SigningCertificate", NULL);
		c = add(sc, ns->xa, "Cert", NULL);
		cd = add(c, ns->xa, "CertDigest", NULL);
		add_digest(cd, ns, o->hash, digest, dlen);
		is = add(c, ns->xa, "IssuerSerial", NULL);
		add(is, ns->ds, "X509IssuerName", issuer != NULL ? issuer : "");
		add(is, ns->ds, "X509SerialNumber", dec != NULL ? dec : "0");
		g_free(issuer);
		OPENSSL_free(dec);
		BN_free(bn);
	}
	return TRUE;
}

typedef struct {
	const char *ref_id;
	const char *mime_type;
	const char *encoding;
} DataFormat;

static xmlNode *
add_qualifying_properties(xmlNode *object, const char *sig_id, const char *sp_id, X509 *cert,
                          const DataFormat *formats, gsize n_formats, const SdrXadesOptions *o,
                          Ns *ns, GError **error)
{
	const char *xa_uri = o->version == SDR_XADES_V132 ? SDR_XADES_NS_132 : SDR_XADES_NS_111;
	const char *xa_prefix = o->xades_prefix != NULL ? o->xades_prefix : "xades";
	gboolean v2 = o->version == SDR_XADES_V132;
	g_autofree char *target = g_strconcat("#", sig_id, NULL);
	g_autoptr(GDateTime) now = sdr_time_now();
	g_autofree char *when =
	        sdr_time_to_iso8601(o->signing_time != NULL ? o->signing_time : now);
	xmlNode *qp, *sp, *ssp, *sdop;

	qp = xmlNewChild(object, NULL, BAD_CAST "QualifyingProperties", NULL);
	ns->xa = xmlNewNs(qp, BAD_CAST xa_uri, xa_prefix[0] != '\0' ? BAD_CAST xa_prefix : NULL);
	xmlSetNs(qp, ns->xa);
	xmlSetProp(qp, BAD_CAST "Target", BAD_CAST target);
	sp = add(qp, ns->xa, "SignedProperties", NULL);
	{
		xmlAttr *a = xmlSetProp(sp, BAD_CAST "Id", BAD_CAST sp_id);

		if (xmlGetID(sp->doc, BAD_CAST sp_id) == NULL)
			xmlAddID(NULL, sp->doc, BAD_CAST sp_id, a);
	}
	ssp = add(sp, ns->xa, "SignedSignatureProperties", NULL);
	add(ssp, ns->xa, "SigningTime", when);
	if (!add_signing_certificate(ssp, ns, cert, o, error))
		return NULL;
	if (o->policy_id != NULL) {
		xmlNode *spi = add(ssp, ns->xa, "SignaturePolicyIdentifier", NULL);
		xmlNode *pid = add(spi, ns->xa, "SignaturePolicyId", NULL);
		xmlNode *sid = add(pid, ns->xa, "SigPolicyId", NULL);
		xmlNode *ident = add(sid, ns->xa, "Identifier", o->policy_id);

		if (g_str_has_prefix(o->policy_id, "urn:oid:"))
			xmlSetProp(ident, BAD_CAST "Qualifier", BAD_CAST "OIDAsURN");
		if (o->policy_description != NULL)
			add(sid, ns->xa, "Description", o->policy_description);
		{
			xmlNode *h = add(pid, ns->xa, "SigPolicyHash", NULL);

			xmlSetProp(add(h, ns->ds, "DigestMethod", NULL), BAD_CAST "Algorithm",
			           BAD_CAST sdr_dsig_digest_uri(o->policy_hash_alg));
			add(h, ns->ds, "DigestValue", o->policy_hash_b64);
		}
		if (o->policy_spuri != NULL) {
			xmlNode *qs = add(pid, ns->xa, "SigPolicyQualifiers", NULL);
			xmlNode *q = add(qs, ns->xa, "SigPolicyQualifier", NULL);

			add(q, ns->xa, "SPURI", o->policy_spuri);
		}
	}
	if (o->city != NULL || o->postal_code != NULL || o->region != NULL || o->country != NULL) {
		xmlNode *pl =
		        add(ssp, ns->xa,
		            v2 ? "SignatureProductionPlaceV2" : "SignatureProductionPlace", NULL);

		/* same order in both schemas: City, StateOrProvince, PostalCode, CountryName */
		if (o->city != NULL)
			add(pl, ns->xa, "City", o->city);
		if (o->region != NULL)
			add(pl, ns->xa, "StateOrProvince", o->region);
		if (o->postal_code != NULL)
			add(pl, ns->xa, "PostalCode", o->postal_code);
		if (o->country != NULL)
			add(pl, ns->xa, "CountryName", o->country);
	}
	if (o->signer_role != NULL) {
		xmlNode *sr = add(ssp, ns->xa, v2 ? "SignerRoleV2" : "SignerRole", NULL);
		xmlNode *cr = add(sr, ns->xa, "ClaimedRoles", NULL);

		add(cr, ns->xa, "ClaimedRole", o->signer_role);
	}
	if (n_formats > 0 || o->commitment_type != NULL) {
		sdop = add(sp, ns->xa, "SignedDataObjectProperties", NULL);
		for (gsize i = 0; i < n_formats; i++) {
			g_autofree char *ref = g_strconcat("#", formats[i].ref_id, NULL);
			xmlNode *dof = add(sdop, ns->xa, "DataObjectFormat", NULL);

			xmlSetProp(dof, BAD_CAST "ObjectReference", BAD_CAST ref);
			if (o->description != NULL)
				add(dof, ns->xa, "Description", o->description);
			add(dof, ns->xa, "MimeType", formats[i].mime_type);
			if (formats[i].encoding != NULL)
				add(dof, ns->xa, "Encoding", formats[i].encoding);
		}
		if (o->commitment_type != NULL) {
			xmlNode *cti = add(sdop, ns->xa, "CommitmentTypeIndication", NULL);
			xmlNode *cid = add(cti, ns->xa, "CommitmentTypeId", NULL);

			add(cid, ns->xa, "Identifier", o->commitment_type);
			add(cti, ns->xa, "AllSignedDataObjects", NULL);
		}
	}
	return sp;
}

/* ---- Levels T and LT -------------------------------------------------------------- */

xmlNode *
sdr_xades_unsigned_signature_properties(xmlNode *qp, const Ns *ns)
{
	xmlNode *up = sdr_xml_first_child(qp, (const char *)ns->xa->href, "UnsignedProperties");

	if (up == NULL)
		up = add(qp, ns->xa, "UnsignedProperties", NULL);
	return add(up, ns->xa, "UnsignedSignatureProperties", NULL);
}

static STACK_OF(X509) * token_certs(GBytes *token)
{
	const unsigned char *p = g_bytes_get_data(token, NULL);
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)g_bytes_get_size(token));
	STACK_OF(X509) *ret = NULL;

	if (p7 != NULL && PKCS7_type_is_signed(p7) && p7->d.sign != NULL &&
	    p7->d.sign->cert != NULL)
		ret = X509_chain_up_ref(p7->d.sign->cert);
	PKCS7_free(p7);
	return ret;
}

gboolean
sdr_xades_add_timestamp(xmlNode *signature, xmlNode *usp, const Ns *ns, const SdrXadesOptions *o,
                        GBytes **token_out, GError **error)
{
	xmlNode *sv = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignatureValue");
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize dlen = 0;
	g_autoptr(GBytes) token = NULL;
	g_autofree char *b64 = NULL;
	g_autofree char *id = NULL;
	g_autofree char *sig_id = sdr_xml_attr(signature, "Id");
	xmlNode *ts;
	GError *local = NULL;

	if (o->tsa_url == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("Level B-T needs a timestamping authority (no TSA URL configured)"));
		return FALSE;
	}
	if (!sdr_xmldsig_c14n_digest(signature->doc, sv, NULL, o->c14n, NULL, sdr_hash_md(o->hash),
	                             digest, &dlen, error))
		return FALSE;
	token = sdr_tsa_timestamp(o->tsa_url, o->hash, digest, dlen, &local);
	if (token == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("Level B-T not reached: %s"), local->message);
		g_error_free(local);
		return FALSE;
	}
	ts = add(usp, ns->xa, "SignatureTimeStamp", NULL);
	id = g_strconcat(sig_id != NULL ? sig_id : "sig", "_TS", NULL);
	xmlSetProp(ts, BAD_CAST "Id", BAD_CAST id);
	xmlSetProp(add(ts, ns->ds, "CanonicalizationMethod", NULL), BAD_CAST "Algorithm",
	           BAD_CAST sdr_c14n_method_uri(o->c14n));
	b64 = g_base64_encode(g_bytes_get_data(token, NULL), g_bytes_get_size(token));
	add(ts, ns->xa, "EncapsulatedTimeStamp", b64);
	*token_out = g_steal_pointer(&token);
	return TRUE;
}

static void
add_b64_child(xmlNode *parent, xmlNs *ns, const char *name, const guint8 *data, gsize len)
{
	g_autofree char *b64 = g_base64_encode(data, len);

	add(parent, ns, name, b64);
}

gboolean
sdr_xades_add_validation_data(X509 *cert, STACK_OF(X509) * chain, xmlNode *usp, const Ns *ns,
                              GBytes *token, const SdrXadesOptions *o, GError **error)
{
	g_autoptr(SdrValidationData) data = NULL;
	GError *local = NULL;
	xmlNode *cv, *rv;

	data = sdr_revocation_collect(cert, chain, o->trust, &local);
	if (data == NULL)
		goto fail;
	if (token != NULL) {
		STACK_OF(X509) *tcerts = token_certs(token);

		if (tcerts != NULL && sk_X509_num(tcerts) > 0) {
			/* the TSA certificate is the one that is not a CA */
			X509 *tsa = sk_X509_value(tcerts, 0);

			for (int i = 0; i < sk_X509_num(tcerts); i++) {
				if (!X509_check_ca(sk_X509_value(tcerts, i))) {
					tsa = sk_X509_value(tcerts, i);
					break;
				}
			}
			/* The TSA chain's revocation data is required (a TSA without OCSP
			 * URL nor CRLDP uses its sibling's OCSP service, e.g. the signer's):
			 * a verifier judges the timestamp with it. */
			if (!sdr_revocation_collect_into(data, tsa, tcerts, o->trust, &local)) {
				sk_X509_pop_free(tcerts, X509_free);
				goto fail;
			}
		}
		sk_X509_pop_free(tcerts, X509_free);
	}
	cv = add(usp, ns->xa, "CertificateValues", NULL);
	for (guint i = 0; i < data->certs->len; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(g_ptr_array_index(data->certs, i), &der);

		if (len > 0)
			add_b64_child(cv, ns->xa, "EncapsulatedX509Certificate", der, (gsize)len);
		OPENSSL_free(der);
	}
	rv = add(usp, ns->xa, "RevocationValues", NULL);
	if (data->crls->len > 0) {
		xmlNode *crls = add(rv, ns->xa, "CRLValues", NULL);

		for (guint i = 0; i < data->crls->len; i++) {
			GBytes *b = g_ptr_array_index(data->crls, i);

			add_b64_child(crls, ns->xa, "EncapsulatedCRLValue",
			              g_bytes_get_data(b, NULL), g_bytes_get_size(b));
		}
	}
	if (data->ocsp_responses->len > 0) {
		xmlNode *ocsps = add(rv, ns->xa, "OCSPValues", NULL);

		for (guint i = 0; i < data->ocsp_responses->len; i++) {
			GBytes *b = g_ptr_array_index(data->ocsp_responses, i);

			add_b64_child(ocsps, ns->xa, "EncapsulatedOCSPValue",
			              g_bytes_get_data(b, NULL), g_bytes_get_size(b));
		}
	}
	return TRUE;
fail:
	g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED, _("Level B-LT not reached: %s"),
	            local != NULL ? local->message : "?");
	g_clear_error(&local);
	return FALSE;
}

/* ---- The signature ------------------------------------------------------------------- */

typedef struct {
	SdrDsigReference ref;
	xmlNode *target; /* same-document target, or NULL when digest already set */
	char *mime_type;
	const char *encoding;
} DataRef;

static char *
new_signature_id(void)
{
	g_autofree char *uuid = g_uuid_string_random();
	GString *s = g_string_new("id-");

	for (const char *p = uuid; *p != '\0'; p++) {
		if (*p != '-')
			g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

/* Builds, digests and signs. data refs whose target is set are digested here
 * (after the tree is complete). Returns the ds:Signature. */
static xmlNode *
build_signature(SdrSigner *signer, xmlDoc *doc, xmlNode *parent, DataRef *refs, gsize n_refs,
                xmlNode *(*fill_objects)(xmlNode *sig, gpointer ud, GError **error),
                gpointer fill_ud, const SdrXadesOptions *o, char **ids_storage, GError **error)
{
	g_autofree char *sig_id =
	        o->signature_id != NULL ? g_strdup(o->signature_id) : new_signature_id();
	g_autofree char *sp_id = g_strconcat(sig_id, "_SP", NULL);
	g_autofree char *sv_id = g_strconcat(sig_id, "_SV", NULL);
	g_autofree char *sp_uri = g_strconcat("#", sp_id, NULL);
	g_autofree DataFormat *formats = g_new0(DataFormat, n_refs + 1);
	const char *sm_uri;
	xmlNode *sig = NULL, *si, *sp, *obj, *qp;
	SdrDsigReference spref = { 0 };
	g_autoptr(GBytes) token = NULL;
	X509 *cert = sdr_signer_get_cert(signer);
	Ns ns = { 0 };

	if (o->policy_id != NULL && o->policy_hash_b64 == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The signature policy %s needs its hash (SigPolicyHash)"),
		            o->policy_id);
		return NULL;
	}
	if (o->level == SDR_TARGET_LEVEL_LTA) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("Level B-LTA is not available for XAdES"));
		return NULL;
	}
	{
		const char *ids[] = { sig_id, sp_id, sv_id, n_refs > 0 ? refs[0].ref.id : NULL };

		for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
			if (ids[i] != NULL && sdr_xml_find_id(doc, ids[i]) != NULL) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
				            _("The Id %s is already used in the document"), ids[i]);
				return NULL;
			}
		}
	}
	sm_uri = sdr_dsig_signature_method_uri(sdr_signer_get_scheme(signer), o->hash);
	sig = sdr_xmldsig_new_signature(doc, parent, o->ds_prefix, sig_id);
	ns.ds = sig->ns;
	si = sdr_xmldsig_add_signed_info(sig, o->c14n, sm_uri, NULL, 0);
	sdr_xmldsig_add_signature_value(sig, sv_id);
	sdr_xmldsig_add_key_info(sig, cert, sdr_signer_get_chain(signer));
	if (fill_objects != NULL && fill_objects(sig, fill_ud, error) == NULL)
		goto fail;
	obj = sdr_xmldsig_add_object(sig, NULL);
	for (gsize i = 0; i < n_refs; i++) {
		formats[i].ref_id = refs[i].ref.id;
		formats[i].mime_type = refs[i].mime_type;
		formats[i].encoding = refs[i].encoding;
	}
	sp = add_qualifying_properties(obj, sig_id, sp_id, cert, formats,
	                               o->version == SDR_XADES_V132 ? n_refs : 0, o, &ns, error);
	if (sp == NULL)
		goto fail;
	qp = sp->parent;

	/* The tree is complete: digest the data, then the SignedProperties. */
	for (gsize i = 0; i < n_refs; i++) {
		if (refs[i].target != NULL &&
		    !sdr_xmldsig_digest_same_document(doc, refs[i].target, sig, &refs[i].ref,
		                                      error))
			goto fail;
		sdr_xmldsig_add_reference(si, &refs[i].ref);
	}
	spref.type = SDR_XADES_SIGNED_PROPERTIES_TYPE;
	spref.uri = sp_uri;
	spref.transforms[0] = sdr_c14n_method_uri(o->c14n);
	spref.n_transforms = 1;
	spref.hash = o->hash;
	if (!sdr_xmldsig_digest_same_document(doc, sp, sig, &spref, error))
		goto fail;
	sdr_xmldsig_add_reference(si, &spref);
	if (!sdr_xmldsig_sign(sig, o->hash, signer, error))
		goto fail;

	if (o->level >= SDR_TARGET_LEVEL_T) {
		xmlNode *usp = sdr_xades_unsigned_signature_properties(qp, &ns);

		if (!sdr_xades_add_timestamp(sig, usp, &ns, o, &token, error))
			goto fail;
		if (o->level >= SDR_TARGET_LEVEL_LT &&
		    !sdr_xades_add_validation_data(sdr_signer_get_cert(signer),
		                                   sdr_signer_get_chain(signer), usp, &ns, token, o,
		                                   error))
			goto fail;
	}
	if (ids_storage != NULL)
		*ids_storage = g_steal_pointer(&sig_id);
	return sig;
fail:
	if (sig != NULL && parent != NULL) {
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	return NULL;
}

xmlNode *
sdr_xades_sign_node(SdrSigner *signer, xmlDoc *doc, xmlNode *parent, xmlNode *target,
                    const SdrXadesOptions *options, GError **error)
{
	SdrXadesOptions o;
	DataRef ref = { 0 };
	g_autofree char *uri = NULL;
	g_autofree char *target_id = NULL;
	g_autofree char *sig_id = NULL;
	g_autofree char *ref_id = NULL;

	g_return_val_if_fail(signer != NULL && doc != NULL, NULL);
	if (options != NULL)
		o = *options;
	else
		sdr_xades_options_init(&o);
	if (target != NULL && target->type == XML_ELEMENT_NODE) {
		target_id = sdr_xml_attr(target, "Id");
		if (target_id == NULL || sdr_xml_find_id(doc, target_id) != target) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("The element to sign has no registered Id"));
			return NULL;
		}
		uri = g_strconcat("#", target_id, NULL);
	} else {
		target = (xmlNode *)doc;
		uri = g_strdup("");
	}
	if (parent == NULL)
		parent = xmlDocGetRootElement(doc);
	sig_id = o.signature_id != NULL ? g_strdup(o.signature_id) : new_signature_id();
	o.signature_id = sig_id;
	ref_id = g_strconcat(sig_id, "_R1", NULL);
	ref.ref.id = ref_id;
	ref.ref.uri = uri;
	ref.ref.transforms[0] = SDR_DSIG_ENVELOPED;
	ref.ref.transforms[1] = sdr_c14n_method_uri(o.c14n);
	ref.ref.n_transforms = 2;
	ref.ref.hash = o.hash;
	ref.target = target;
	ref.mime_type = (char *)(o.mime_type != NULL ? o.mime_type : "text/xml");
	return build_signature(signer, doc, parent, &ref, 1, NULL, NULL, &o, NULL, error);
}

/* ---- Files and memory -------------------------------------------------------------- */

static gboolean
looks_like_xml(const guint8 *data, gsize len)
{
	gsize i = 0;

	if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
		i = 3;
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	return i < len && data[i] == '<';
}

static char *
guess_mime(const char *name, const guint8 *head, gsize head_len)
{
	gboolean uncertain = FALSE;
	g_autofree char *ct = g_content_type_guess(name, head, head_len, &uncertain);
	char *mime = ct != NULL ? g_content_type_get_mime_type(ct) : NULL;

	if (mime == NULL)
		mime = g_strdup("application/octet-stream");
	return mime;
}

typedef struct {
	xmlDoc *content_doc; /* enveloping XML */
	GBytes *content;     /* enveloping binary */
	const char *obj_id;
	xmlNode *object;
	DataRef *ref; /* its target becomes the ds:Object */
} EnvelopingFill;

static xmlNode *
fill_enveloping(xmlNode *sig, gpointer ud, GError **error)
{
	EnvelopingFill *f = ud;

	f->object = sdr_xmldsig_add_object(sig, f->obj_id);
	if (f->content_doc != NULL) {
		xmlNode *copy = xmlDocCopyNode(xmlDocGetRootElement(f->content_doc), sig->doc, 1);

		if (copy == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, _("Out of memory"));
			return NULL;
		}
		xmlAddChild(f->object, copy);
	} else {
		g_autofree char *b64 = g_base64_encode(g_bytes_get_data(f->content, NULL),
		                                       g_bytes_get_size(f->content));

		xmlNodeAddContent(f->object, BAD_CAST b64);
		xmlSetProp(f->object, BAD_CAST "Encoding", BAD_CAST SDR_DSIG_BASE64);
	}
	f->ref->target = f->object;
	return f->object;
}

static char *
escape_name(const char *name)
{
	/* Path-segment characters except ':' (a first segment with ':' would read
	 * as a URI scheme, RFC 3986 section 4.2). */
	return g_uri_escape_string(name, "!$&'()*+,;=@", FALSE);
}

/* TRUE when a ds:Signature of the document signs it whole (Reference URI=""):
 * appending another enveloped signature would change what it covers. */
static gboolean
signs_whole_document(xmlNode *root)
{
	xmlNode *cur = root;

	while (cur != NULL) {
		gboolean sig = sdr_xml_is(cur, SDR_DSIG_NS, "Signature");

		if (sig) {
			xmlNode *si = sdr_xml_first_child(cur, SDR_DSIG_NS, "SignedInfo");

			for (xmlNode *r = sdr_xml_first_child(si, SDR_DSIG_NS, "Reference");
			     r != NULL; r = sdr_xml_next_sibling(r, SDR_DSIG_NS, "Reference")) {
				g_autofree char *uri = sdr_xml_attr(r, "URI");

				if (uri != NULL &&
				    (uri[0] == '\0' || strcmp(uri, "#xpointer(/)") == 0))
					return TRUE;
			}
		}
		cur = sdr_xml_walk_next(root, cur, !sig);
	}
	return FALSE;
}

/* Signs; the data is either a stream (detached) or bytes. Returns the output doc. */
/* long: builds the three packagings (detached, enveloped, enveloping) around one shared
 * sequence (signature, references, properties, sign, timestamp, LT data) */
static xmlDoc *
sign_to_doc(SdrSigner *signer, const char *name, GInputStream *stream, GBytes *data,
            const guint8 *head, gsize head_len, SdrXadesMode mode, const SdrXadesOptions *o,
            GError **error)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree char *sig_id =
	        o->signature_id != NULL ? g_strdup(o->signature_id) : new_signature_id();
	g_autofree char *ref_id = g_strconcat(sig_id, "_R1", NULL);
	g_autofree char *obj_id = g_strconcat(sig_id, "_OBJ", NULL);
	g_autofree char *obj_uri = g_strconcat("#", obj_id, NULL);
	g_autofree char *uri = NULL;
	g_autofree char *mime =
	        o->mime_type != NULL ? g_strdup(o->mime_type) : guess_mime(name, head, head_len);
	SdrXadesOptions copy = *o;
	DataRef ref = { 0 };
	EnvelopingFill fill = { 0 };
	g_autoptr(xmlDoc) content_doc = NULL;
	xmlNode *sig;

	copy.signature_id = sig_id;
	ref.ref.id = ref_id;
	ref.ref.hash = o->hash;
	ref.mime_type = mime;

	switch (mode) {
	case SDR_XADES_DETACHED: {
		g_autofree char *base = g_path_get_basename(name);

		uri = escape_name(base);
		ref.ref.uri = uri;
		if (stream != NULL) {
			if (!sdr_xmldsig_digest_stream(stream, sdr_hash_md(o->hash), ref.ref.digest,
			                               &ref.ref.digest_len, NULL, error))
				return NULL;
		} else {
			unsigned int n = 0;

			if (EVP_Digest(g_bytes_get_data(data, NULL), g_bytes_get_size(data),
			               ref.ref.digest, &n, sdr_hash_md(o->hash), NULL) != 1) {
				sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
				return NULL;
			}
			ref.ref.digest_len = n;
		}
		doc = xmlNewDoc(BAD_CAST "1.0");
		sig = build_signature(signer, doc, NULL, &ref, 1, NULL, NULL, &copy, NULL, error);
		break;
	}
	case SDR_XADES_ENVELOPED: {
		SdrXmlLimits limits = { SDR_XADES_MAX_XML_SIZE, 0, TRUE };

		doc = sdr_xml_parse(g_bytes_get_data(data, NULL), g_bytes_get_size(data), name,
		                    &limits, error);
		if (doc == NULL)
			return NULL;
		if (!sdr_xml_register_ids(doc, NULL, "Id", NULL, error))
			return NULL;
		if (signs_whole_document(xmlDocGetRootElement(doc))) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED,
			            _("%s already holds an enveloped signature over the whole "
			              "document: another one would break it (sign it detached "
			              "instead)"),
			            name);
			return NULL;
		}
		ref.ref.uri = "";
		ref.ref.transforms[0] = SDR_DSIG_ENVELOPED;
		ref.ref.transforms[1] = sdr_c14n_method_uri(o->c14n);
		ref.ref.n_transforms = 2;
		ref.target = (xmlNode *)doc;
		if (o->mime_type == NULL) {
			g_free(mime);
			mime = g_strdup("text/xml");
			ref.mime_type = mime;
		}
		sig = build_signature(signer, doc, xmlDocGetRootElement(doc), &ref, 1, NULL, NULL,
		                      &copy, NULL, error);
		break;
	}
	case SDR_XADES_ENVELOPING:
	default: {
		gsize len = g_bytes_get_size(data);
		const guint8 *bytes = g_bytes_get_data(data, NULL);

		if (len > ENVELOPING_MAX) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("%s is too large for an enveloping signature"), name);
			return NULL;
		}
		doc = xmlNewDoc(BAD_CAST "1.0");
		fill.obj_id = obj_id;
		ref.ref.uri = obj_uri;
		if (looks_like_xml(bytes, len)) {
			content_doc = sdr_xml_parse(bytes, len, name, NULL, NULL);
		}
		if (content_doc != NULL) {
			fill.content_doc = content_doc;
			ref.ref.transforms[0] = sdr_c14n_method_uri(o->c14n);
			ref.ref.n_transforms = 1;
			if (o->mime_type == NULL) {
				g_free(mime);
				mime = g_strdup("text/xml");
				ref.mime_type = mime;
			}
		} else {
			fill.content = data;
			ref.ref.transforms[0] = SDR_DSIG_BASE64;
			ref.ref.n_transforms = 1;
			ref.encoding = SDR_DSIG_BASE64;
		}
		/* fill_enveloping() points the reference at the ds:Object it creates */
		fill.ref = &ref;
		sig = build_signature(signer, doc, NULL, &ref, 1, fill_enveloping, &fill, &copy,
		                      NULL, error);
		break;
	}
	}
	if (sig == NULL)
		return NULL;
	return g_steal_pointer(&doc);
}

static const SdrXadesOptions *
options_or_defaults(const SdrXadesOptions *options, SdrXadesOptions *defaults)
{
	if (options != NULL)
		return options;
	sdr_xades_options_init(defaults);
	return defaults;
}

GBytes *
sdr_xades_sign_data(SdrSigner *signer, GBytes *data, const char *name, SdrXadesMode mode,
                    const SdrXadesOptions *options, GError **error)
{
	SdrXadesOptions defaults;
	const SdrXadesOptions *o = options_or_defaults(options, &defaults);
	g_autoptr(xmlDoc) doc = NULL;
	gsize head_len = MIN(g_bytes_get_size(data), (gsize)4096);

	g_return_val_if_fail(signer != NULL && data != NULL, NULL);
	if (name == NULL)
		name = "document";
	if (mode != SDR_XADES_DETACHED && g_bytes_get_size(data) > SDR_XADES_MAX_XML_SIZE) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("%s is too large"), name);
		return NULL;
	}
	doc = sign_to_doc(signer, name, NULL, data, g_bytes_get_data(data, NULL), head_len, mode, o,
	                  error);
	if (doc == NULL)
		return NULL;
	return sdr_xml_serialize(doc, error);
}

static char *
next_free(const char *dir, const char *stem, const char *fmt_suffix_first, const char *fmt_suffix_n)
{
	for (guint n = 1; n < 10000; n++) {
		g_autofree char *file =
		        n == 1 && fmt_suffix_first != NULL
		                ? g_strconcat(stem, fmt_suffix_first, NULL)
		                : g_strdup_printf("%s%s%u.xml", stem, fmt_suffix_n, n);
		char *path = g_build_filename(dir, file, NULL);

		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			return path;
		g_free(path);
	}
	return NULL;
}

char *
sdr_xades_detached_path(const char *input)
{
	g_autofree char *dir = g_path_get_dirname(input);
	g_autofree char *base = g_path_get_basename(input);

	return next_free(dir, base, NULL, " - Signature ");
}

static char *
enveloped_path(const char *input)
{
	g_autofree char *dir = g_path_get_dirname(input);
	g_autofree char *base = g_path_get_basename(input);
	const char *dot = strrchr(base, '.');
	g_autofree char *stem =
	        dot != NULL && dot != base ? g_strndup(base, (gsize)(dot - base)) : g_strdup(base);

	return next_free(dir, stem, "-signe.xml", "-signe-");
}

gboolean
sdr_xades_sign_file(SdrSigner *signer, const char *input, SdrXadesMode mode,
                    const SdrXadesOptions *options, const char *output_path, char **out_path,
                    GError **error)
{
	SdrXadesOptions defaults;
	const SdrXadesOptions *o = options_or_defaults(options, &defaults);
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GBytes) out = NULL;
	g_autofree char *path = NULL;

	g_return_val_if_fail(signer != NULL && input != NULL, FALSE);
	if (mode == SDR_XADES_DETACHED) {
		g_autoptr(GFile) f = g_file_new_for_path(input);
		g_autoptr(GError) local = NULL;
		g_autoptr(GFileInputStream) in = g_file_read(f, NULL, &local);
		guint8 head[4096];
		gssize head_len;

		if (in == NULL) {
			g_set_error(error, SDR_ERROR,
			            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
			                    ? SDR_ERROR_NOT_FOUND
			                    : SDR_ERROR_IO,
			            _("Cannot read %s: %s"), input, local->message);
			return FALSE;
		}
		head_len = g_input_stream_read(G_INPUT_STREAM(in), head, sizeof head, NULL, NULL);
		if (head_len < 0)
			head_len = 0;
		if (!g_seekable_seek(G_SEEKABLE(in), 0, G_SEEK_SET, NULL, &local)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read %s: %s"), input,
			            local->message);
			return FALSE;
		}
		doc = sign_to_doc(signer, input, G_INPUT_STREAM(in), NULL, head, (gsize)head_len,
		                  mode, o, error);
	} else {
		g_autoptr(GBytes) data = sdr_file_read(input, SDR_XADES_MAX_XML_SIZE, error);

		if (data == NULL)
			return FALSE;
		doc = sign_to_doc(signer, input, NULL, data, g_bytes_get_data(data, NULL),
		                  MIN(g_bytes_get_size(data), (gsize)4096), mode, o, error);
	}
	if (doc == NULL)
		return FALSE;
	out = sdr_xml_serialize(doc, error);
	if (out == NULL)
		return FALSE;
	if (output_path != NULL)
		path = g_strdup(output_path);
	else if (mode == SDR_XADES_ENVELOPED)
		path = enveloped_path(input);
	else
		path = sdr_xades_detached_path(input);
	if (path == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("No free output name next to %s"),
		            input);
		return FALSE;
	}
	if (!sdr_file_write_atomic(path, g_bytes_get_data(out, NULL), g_bytes_get_size(out), error))
		return FALSE;
	if (out_path != NULL)
		*out_path = g_steal_pointer(&path);
	return TRUE;
}

gboolean
sdr_xades_sign_file_digest(SdrSigner *signer, const char *input, const guint8 *digest,
                           gsize digest_len, const SdrXadesOptions *options,
                           const char *output_path, char **out_path, GError **error)
{
	SdrXadesOptions defaults;
	const SdrXadesOptions *o = options_or_defaults(options, &defaults);
	SdrXadesOptions copy = *o;
	g_autofree char *sig_id =
	        o->signature_id != NULL ? g_strdup(o->signature_id) : new_signature_id();
	g_autofree char *ref_id = g_strconcat(sig_id, "_R1", NULL);
	g_autofree char *base = NULL, *uri = NULL, *mime = NULL, *path = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GBytes) out = NULL;
	DataRef ref = { 0 };

	g_return_val_if_fail(signer != NULL && input != NULL && digest != NULL, FALSE);
	if (digest_len != sdr_hash_len(o->hash) || digest_len > sizeof ref.ref.digest) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, "digest length");
		return FALSE;
	}
	if (o->mime_type != NULL) {
		mime = g_strdup(o->mime_type);
	} else {
		/* The MIME guess looks at the first bytes: only those are read. */
		g_autoptr(GFile) f = g_file_new_for_path(input);
		g_autoptr(GFileInputStream) in = g_file_read(f, NULL, NULL);
		guint8 head[4096];
		gssize head_len = in != NULL ? g_input_stream_read(G_INPUT_STREAM(in), head,
		                                                   sizeof head, NULL, NULL)
		                             : 0;

		mime = guess_mime(input, head, head_len > 0 ? (gsize)head_len : 0);
	}
	copy.signature_id = sig_id;
	base = g_path_get_basename(input);
	uri = escape_name(base);
	ref.ref.id = ref_id;
	ref.ref.hash = o->hash;
	ref.ref.uri = uri;
	ref.mime_type = mime;
	memcpy(ref.ref.digest, digest, digest_len);
	ref.ref.digest_len = digest_len;
	doc = xmlNewDoc(BAD_CAST "1.0");
	if (build_signature(signer, doc, NULL, &ref, 1, NULL, NULL, &copy, NULL, error) == NULL)
		return FALSE;
	out = sdr_xml_serialize(doc, error);
	if (out == NULL)
		return FALSE;
	path = output_path != NULL ? g_strdup(output_path) : sdr_xades_detached_path(input);
	if (path == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("No free output name next to %s"),
		            input);
		return FALSE;
	}
	if (!sdr_file_write_atomic(path, g_bytes_get_data(out, NULL), g_bytes_get_size(out), error))
		return FALSE;
	if (out_path != NULL)
		*out_path = g_steal_pointer(&path);
	return TRUE;
}
