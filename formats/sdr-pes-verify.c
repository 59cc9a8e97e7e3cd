/* sdr-pes-verify.c - PES V2 verification: one verdict per ds:Signature, a note per
 * unsigned bordereau. Streams like the signer: one bordereau expanded at a time. */
#include "sdr-pes-verify.h"

#include "sdr-pes-private.h"

#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-xmldsig.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#define PES_MAX_CERTS 16

static char *
node_text(xmlNodePtr node)
{
	xmlChar *t;
	char *s;

	if (node == NULL)
		return NULL;
	t = xmlNodeGetContent(node);
	s = g_strstrip(g_strdup(t != NULL ? (const char *)t : ""));
	xmlFree(t);
	return s;
}

static char *
node_attr(xmlNodePtr node, const char *name)
{
	xmlChar *v = node != NULL ? xmlGetNoNsProp(node, (const xmlChar *)name) : NULL;
	char *s = v != NULL ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* Child element by local name, any namespace in the ds / XAdES families. */
static xmlNodePtr
child_any(xmlNodePtr node, const char *local)
{
	return sdr_pes_child(node, NULL, local);
}

static GBytes *
b64_decode(const char *text, gsize max)
{
	g_autoptr(GString) clean = g_string_new(NULL);
	guchar *raw;
	gsize len = 0;

	if (text == NULL)
		return NULL;
	for (const char *p = text; *p != 0; p++) {
		if (g_ascii_isalnum(*p) || *p == '+' || *p == '/' || *p == '=')
			g_string_append_c(clean, *p);
		else if (!g_ascii_isspace(*p))
			return NULL;
	}
	if (clean->len == 0 || clean->len % 4 != 0 || clean->len / 4 * 3 > max)
		return NULL;
	raw = g_base64_decode(clean->str, &len);
	return g_bytes_new_take(raw, len);
}

static const EVP_MD *
digest_from_uri(const char *uri)
{
	if (uri == NULL)
		return NULL;
	if (strcmp(uri, "http://www.w3.org/2001/04/xmlenc#sha256") == 0)
		return EVP_sha256();
	if (strcmp(uri, "http://www.w3.org/2001/04/xmldsig-more#sha384") == 0)
		return EVP_sha384();
	if (strcmp(uri, "http://www.w3.org/2001/04/xmlenc#sha512") == 0)
		return EVP_sha512();
	if (strcmp(uri, "http://www.w3.org/2000/09/xmldsig#sha1") == 0)
		return EVP_sha1();
	return NULL;
}

/* The SignatureMethod through the one XML-DSig URI table (sdr-xmldsig.c). */
static SdrSigAlgStatus
sig_method(const char *uri, SdrSigVerifyAlg *alg)
{
	return sdr_dsig_signature_method_from_uri(uri, alg);
}

static gboolean
is_exc_c14n(const char *uri)
{
	return uri != NULL && strcmp(uri, SDR_PES_EXC_C14N) == 0;
}

/* Checks one Reference: returns FALSE (with the reason added) when it fails. */
static gboolean
check_reference(xmlNodePtr ref, xmlNodePtr target, xmlNodePtr skip, gboolean enveloped_required,
                SdrSignatureResult *res)
{
	xmlNodePtr transforms = child_any(ref, "Transforms");
	xmlNodePtr dm = child_any(ref, "DigestMethod");
	g_autofree char *dm_uri = node_attr(dm, "Algorithm");
	g_autofree char *dv_text = node_text(child_any(ref, "DigestValue"));
	g_autoptr(GBytes) dv = b64_decode(dv_text, EVP_MAX_MD_SIZE);
	const EVP_MD *md = digest_from_uri(dm_uri);
	gboolean enveloped = FALSE, exc = FALSE;
	guint8 digest[EVP_MAX_MD_SIZE];
	guint dl = 0;
	g_autoptr(GError) error = NULL;

	for (xmlNodePtr t = child_any(transforms, "Transform"); t != NULL;
	     t = sdr_pes_next(t->next, NULL, "Transform")) {
		g_autofree char *alg = node_attr(t, "Algorithm");

		if (alg != NULL && strcmp(alg, SDR_PES_ENVELOPED) == 0) {
			enveloped = TRUE;
		} else if (is_exc_c14n(alg)) {
			exc = TRUE;
		} else {
			sdr_signature_result_fail(
			        res, SDR_VERDICT_INDETERMINATE, SDR_REASON_UNSUPPORTED_ALGORITHM,
			        _("Unsupported transform “%s”."), alg != NULL ? alg : "?");
			return FALSE;
		}
	}
	if (!exc) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("A reference is not canonicalised with exclusive C14N, "
		                            "as the PES profile requires."));
		return FALSE;
	}
	if (enveloped_required && !enveloped) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("The bordereau reference lacks the "
		                            "enveloped-signature transform."));
		return FALSE;
	}
	if (md == NULL) {
		sdr_signature_result_fail(
		        res, SDR_VERDICT_INDETERMINATE, SDR_REASON_UNSUPPORTED_ALGORITHM,
		        _("Unsupported digest algorithm “%s”."), dm_uri != NULL ? dm_uri : "?");
		return FALSE;
	}
	if (dv == NULL) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
		                          _("A reference has no valid DigestValue."));
		return FALSE;
	}
	if (!sdr_pes_c14n_digest(target, enveloped ? skip : NULL, md, digest, &dl, &error)) {
		sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE, SDR_REASON_FORMAT, "%s",
		                          error->message);
		return FALSE;
	}
	if (g_bytes_get_size(dv) != dl ||
	    CRYPTO_memcmp(g_bytes_get_data(dv, NULL), digest, dl) != 0) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_DIGEST_MISMATCH,
		                          _("The signed content was modified (digest mismatch)."));
		return FALSE;
	}
	return TRUE;
}

static X509 *
cert_from_b64(const char *text)
{
	g_autoptr(GBytes) der = b64_decode(text, 64 * 1024);
	const unsigned char *p;

	if (der == NULL)
		return NULL;
	p = g_bytes_get_data(der, NULL);
	return d2i_X509(NULL, &p, (long)g_bytes_get_size(der));
}

static gboolean
verify_value(X509 *cert, const SdrSigVerifyAlg *alg, xmlNodePtr signed_info, GBytes *value,
             SdrSignatureResult *res)
{
	g_autoptr(GString) c14n = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) der = NULL;
	EVP_PKEY *key = X509_get0_pubkey(cert);
	const guint8 *sig = g_bytes_get_data(value, NULL);
	gsize sig_len = g_bytes_get_size(value);

	if (!sdr_pes_c14n(signed_info, NULL, NULL, c14n, &error)) {
		sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE, SDR_REASON_FORMAT, "%s",
		                          error->message);
		return FALSE;
	}
	if (key == NULL || !sdr_sig_alg_fits_key(alg, key)) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_SIGNATURE_VALUE,
		                          _("The signature algorithm does not match the "
		                            "certificate's key."));
		return FALSE;
	}
	if (!alg->eddsa && alg->scheme == SDR_SIG_ECDSA) {
		der = sdr_ecdsa_raw_to_der(sig, sig_len);
		if (der == NULL) {
			sdr_signature_result_fail(res, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNATURE_VALUE,
			                          _("The signature value is malformed."));
			return FALSE;
		}
		sig = g_bytes_get_data(der, NULL);
		sig_len = g_bytes_get_size(der);
	}
	if (!sdr_sig_alg_verify(alg, key, sig, sig_len, (const guint8 *)c14n->str, c14n->len)) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_SIGNATURE_VALUE,
		                          _("The signature value does not verify."));
		return FALSE;
	}
	return TRUE;
}

static void
check_properties(xmlNodePtr sp, X509 *cert, SdrSignatureResult *res)
{
	xmlNodePtr ssp = child_any(sp, "SignedSignatureProperties");
	g_autofree char *time_text = node_text(child_any(ssp, "SigningTime"));
	xmlNodePtr cert_node = child_any(child_any(ssp, "SigningCertificate"), "Cert");
	xmlNodePtr policy = child_any(
	        child_any(child_any(ssp, "SignaturePolicyIdentifier"), "SignaturePolicyId"),
	        "SigPolicyId");
	g_autofree char *policy_id = node_text(child_any(policy, "Identifier"));
	xmlNodePtr role =
	        child_any(child_any(child_any(ssp, "SignerRole"), "ClaimedRoles"), "ClaimedRole");
	g_autofree char *role_text = node_text(role);
	xmlNodePtr place = child_any(ssp, "SignatureProductionPlace");

	/* SigningTime: UTC with Z. */
	if (time_text == NULL) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("The signature has no SigningTime."));
	} else {
		GDateTime *t = sdr_time_parse_iso8601(time_text);

		if (t == NULL || !g_str_has_suffix(time_text, "Z"))
			sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
			                          _("The SigningTime “%s” is not a UTC time ending "
			                            "in Z."),
			                          time_text);
		if (t != NULL) {
			g_clear_pointer(&res->claimed_signing_time, g_date_time_unref);
			res->claimed_signing_time = t;
		}
	}
	/* SigningCertificate. */
	if (cert_node == NULL) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_SIGNING_CERT_REF,
		                          _("The signature has no SigningCertificate."));
	} else {
		xmlNodePtr cd = child_any(cert_node, "CertDigest");
		g_autofree char *alg = node_attr(child_any(cd, "DigestMethod"), "Algorithm");
		g_autofree char *dv_text = node_text(child_any(cd, "DigestValue"));
		g_autoptr(GBytes) dv = b64_decode(dv_text, EVP_MAX_MD_SIZE);
		const EVP_MD *md = digest_from_uri(alg);
		guint8 digest[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		g_autofree char *serial_text = node_text(
		        child_any(child_any(cert_node, "IssuerSerial"), "X509SerialNumber"));

		if (md == NULL || dv == NULL || X509_digest(cert, md, digest, &dl) != 1 ||
		    g_bytes_get_size(dv) != dl ||
		    memcmp(g_bytes_get_data(dv, NULL), digest, dl) != 0) {
			sdr_signature_result_fail(res, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNING_CERT_REF,
			                          _("The SigningCertificate digest does not match "
			                            "the certificate."));
		} else if (serial_text != NULL) {
			BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
			char *dec = bn != NULL ? BN_bn2dec(bn) : NULL;

			if (dec == NULL || strcmp(dec, serial_text) != 0)
				sdr_signature_result_fail(
				        res, SDR_VERDICT_INVALID, SDR_REASON_SIGNING_CERT_REF,
				        _("The IssuerSerial serial number does not "
				          "match the certificate."));
			OPENSSL_free(dec);
			BN_free(bn);
		}
	}
	/* Policy. */
	if (policy_id == NULL || (strcmp(policy_id, SDR_PES_POLICY_ID) != 0 &&
	                          strcmp(policy_id, &SDR_PES_POLICY_ID[strlen("urn:oid:")]) != 0)) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("The signature policy is not the Hélios policy (%s)."),
		                          SDR_PES_POLICY_ID);
	} else {
		sdr_signature_result_set_detail(res, "policy", policy_id);
	}
	/* Role. */
	if (role_text == NULL || *role_text == 0)
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("The signature has no ClaimedRole."));
	else
		sdr_signature_result_set_detail(res, "role", role_text);
	if (place != NULL) {
		g_autofree char *city = node_text(child_any(place, "City"));

		if (city != NULL && *city != 0)
			sdr_signature_result_set_detail(res, "city", city);
	} else {
		sdr_signature_result_warn(res, SDR_REASON_PROFILE,
		                          _("The signature has no SignatureProductionPlace."));
	}
}

/* A PES signature carries no revocation data: with options->online the signing
 * certificate's OCSP responder (AIA) or CRL (distribution point), as CAdES and
 * XAdES do; otherwise, or when neither answers, REVOCATION_UNKNOWN. */
static void
check_revocation_live(X509 *cert, STACK_OF(X509) * untrusted, const SdrVerifyOptions *options,
                      GDateTime *at, SdrSignatureResult *res)
{
	g_autoptr(SdrValidationData) data = sdr_validation_data_new();
	g_autoptr(GError) e = NULL;
	g_autoptr(GDateTime) rev = NULL;
	g_autofree char *name = sdr_cert_display_name(cert);
	SdrRevocationStatus st = SDR_REVOCATION_UNKNOWN;

	if (res->chain->len < 2)
		return;
	if (options->online) {
		(void)sdr_revocation_collect_full(data, cert, untrusted, options->trust, TRUE, &e);
		st = sdr_revocation_status(data, cert, g_ptr_array_index(res->chain, 1), &rev);
	}
	if (st == SDR_REVOCATION_UNKNOWN) {
		sdr_revocation_report_unknown(res, options, cert, name, e);
	} else if (st == SDR_REVOCATION_REVOKED) {
		g_autofree char *when = rev != NULL ? sdr_time_to_iso8601(rev) : g_strdup("?");

		if (rev == NULL || at == NULL || g_date_time_compare(rev, at) <= 0)
			sdr_signature_result_fail(
			        res, SDR_VERDICT_INVALID, SDR_REASON_CERT_REVOKED,
			        _("The certificate %s was revoked (%s) before the "
			          "signing time"),
			        name, when);
		else
			sdr_signature_result_fail(
			        res, SDR_VERDICT_INDETERMINATE, SDR_REASON_CERT_REVOKED,
			        _("The certificate %s is revoked (%s) and no "
			          "timestamp proves the signature was made before"),
			        name, when);
	}
}

static void
check_chain(X509 *cert, STACK_OF(X509) * untrusted, const SdrVerifyOptions *options,
            SdrSignatureResult *res)
{
	X509_STORE_CTX *ctx;
	GDateTime *at =
	        options != NULL && options->at != NULL ? options->at : res->claimed_signing_time;
	int ok;

	if (options == NULL || options->trust == NULL) {
		sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_CHAIN_NOT_TRUSTED,
		                          _("No trust anchors: the certificate chain was not "
		                            "checked."));
		return;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, options->trust, cert, untrusted) != 1) {
		X509_STORE_CTX_free(ctx);
		sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_CHAIN_NOT_TRUSTED,
		                          _("The certificate chain cannot be checked."));
		return;
	}
	if (at != NULL)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)g_date_time_to_unix(at));
	ok = X509_verify_cert(ctx);
	if (ok == 1) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);

		for (int i = 0; i < sk_X509_num(chain); i++) {
			X509 *c = sk_X509_value(chain, i);

			X509_up_ref(c);
			g_ptr_array_add(res->chain, c);
		}
		check_revocation_live(cert, untrusted, options, at, res);
	} else {
		int err = X509_STORE_CTX_get_error(ctx);

		if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
			sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_CERT_EXPIRED,
			                          _("The certificate was not valid at signing time "
			                            "(%s)."),
			                          X509_verify_cert_error_string(err));
		else if (err == X509_V_ERR_CERT_REVOKED)
			sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_CERT_REVOKED,
			                          _("The certificate is revoked."));
		else
			sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_CHAIN_NOT_TRUSTED,
			                          _("The certificate chain is not trusted (%s)."),
			                          X509_verify_cert_error_string(err));
	}
	X509_STORE_CTX_free(ctx);
}

/* Verifies one ds:Signature whose data reference must point at target (its parent). */
/* long: the XAdES 1.1.1 and PES profile checks of one bordereau signature (properties,
 * certificates, references, signed info, value) in order, sharing the parsed nodes */
static SdrSignatureResult *
verify_signature(xmlNodePtr sig, xmlNodePtr target, const char *target_id, GHashTable *dup_ids,
                 const SdrVerifyOptions *options)
{
	SdrSignatureResult *res = sdr_signature_result_new("PES");
	xmlNodePtr si = sdr_pes_child(sig, SDR_PES_NS_DS, "SignedInfo");
	g_autofree char *c14n_uri = node_attr(child_any(si, "CanonicalizationMethod"), "Algorithm");
	g_autofree char *sm_uri = node_attr(child_any(si, "SignatureMethod"), "Algorithm");
	g_autofree char *value_text =
	        node_text(sdr_pes_child(sig, SDR_PES_NS_DS, "SignatureValue"));
	g_autoptr(GBytes) value = b64_decode(value_text, 4096);
	xmlNodePtr key_info = sdr_pes_child(sig, SDR_PES_NS_DS, "KeyInfo");
	xmlNodePtr sp = NULL;
	g_autofree char *sp_id = NULL;
	gboolean data_ref = FALSE, sp_ref = FALSE;
	SdrSigVerifyAlg sig_alg = { 0 };
	SdrSigAlgStatus alg_status = sig_method(sm_uri, &sig_alg);
	X509 *cert = NULL;
	STACK_OF(X509) *others = sk_X509_new_null();
	g_autofree char *sig_id = node_attr(sig, "Id");

	g_free(res->id);
	res->id = g_strdup(sig_id != NULL ? sig_id : target_id);
	sdr_signature_result_set_detail(res, "bordereau", target_id);
	res->level = SDR_LEVEL_NONE;

	/* QualifyingProperties / SignedProperties inside this signature. */
	for (xmlNodePtr obj = sdr_pes_child(sig, SDR_PES_NS_DS, "Object");
	     obj != NULL && sp == NULL; obj = sdr_pes_next(obj->next, SDR_PES_NS_DS, "Object")) {
		xmlNodePtr qp = child_any(obj, "QualifyingProperties");

		if (qp != NULL) {
			if (qp->ns == NULL ||
			    strcmp((const char *)qp->ns->href, SDR_PES_NS_XAD) != 0)
				sdr_signature_result_warn(res, SDR_REASON_PROFILE,
				                          _("The XAdES namespace is not "
				                            "http://uri.etsi.org/01903/v1.1.1#."));
			sp = child_any(qp, "SignedProperties");
		}
	}
	sp_id = node_attr(sp, "Id");

	if (si == NULL || value == NULL) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
		                          _("The signature has no SignedInfo or SignatureValue."));
		goto out;
	}
	if (!is_exc_c14n(c14n_uri)) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("SignedInfo is not canonicalised with exclusive C14N, "
		                            "as the PES profile requires."));
		goto out;
	}
	if (alg_status == SDR_SIG_ALG_INVALID) {
		sdr_signature_result_fail(
		        res, SDR_VERDICT_INVALID, SDR_REASON_SIGNATURE_VALUE,
		        _("The signature method “%s” is not a public-key signature algorithm."),
		        sm_uri != NULL ? sm_uri : "?");
		goto out;
	}
	if (alg_status != SDR_SIG_ALG_OK) {
		sdr_signature_result_fail(
		        res, SDR_VERDICT_INDETERMINATE, SDR_REASON_UNSUPPORTED_ALGORITHM,
		        _("Unsupported signature algorithm “%s”."), sm_uri != NULL ? sm_uri : "?");
		goto out;
	}
	g_free(res->digest_algorithm);
	res->digest_algorithm = g_strdup(sig_alg.eddsa ? "ed25519" : EVP_MD_get0_name(sig_alg.md));

	/* Certificates. */
	for (xmlNodePtr xd = child_any(key_info, "X509Data"); xd != NULL;
	     xd = sdr_pes_next(xd->next, NULL, "X509Data")) {
		for (xmlNodePtr xc = child_any(xd, "X509Certificate"); xc != NULL;
		     xc = sdr_pes_next(xc->next, NULL, "X509Certificate")) {
			g_autofree char *t = node_text(xc);
			X509 *c = sk_X509_num(others) < PES_MAX_CERTS ? cert_from_b64(t) : NULL;

			if (c == NULL)
				continue;
			if (cert == NULL)
				cert = c;
			else
				sk_X509_push(others, c);
		}
	}
	if (cert == NULL) {
		sdr_signature_result_fail(res, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_SIGNING_CERT_REF,
		                          _("The signature carries no signer certificate."));
		goto out;
	}
	/* Several certificates: the signer is the one SigningCertificate names. */
	if (sk_X509_num(others) > 0 && sp != NULL) {
		xmlNodePtr cd =
		        child_any(child_any(child_any(child_any(sp, "SignedSignatureProperties"),
		                                      "SigningCertificate"),
		                            "Cert"),
		                  "CertDigest");
		g_autofree char *alg = node_attr(child_any(cd, "DigestMethod"), "Algorithm");
		g_autofree char *dv_text = node_text(child_any(cd, "DigestValue"));
		g_autoptr(GBytes) dv = b64_decode(dv_text, EVP_MAX_MD_SIZE);
		const EVP_MD *cmd = digest_from_uri(alg);

		for (int i = 0; cmd != NULL && dv != NULL && i < sk_X509_num(others); i++) {
			X509 *c = sk_X509_value(others, i);
			guint8 d[EVP_MAX_MD_SIZE];
			unsigned int dl = 0;

			if (X509_digest(c, cmd, d, &dl) == 1 && dl == g_bytes_get_size(dv) &&
			    memcmp(d, g_bytes_get_data(dv, NULL), dl) == 0) {
				(void)sk_X509_set(others, i, cert);
				cert = c;
				break;
			}
		}
	}
	X509_up_ref(cert);
	res->signer = cert;

	/* References. */
	for (xmlNodePtr ref = child_any(si, "Reference"); ref != NULL;
	     ref = sdr_pes_next(ref->next, NULL, "Reference")) {
		g_autofree char *uri = node_attr(ref, "URI");
		const char *frag = uri != NULL && uri[0] == '#' ? uri + 1 : NULL;

		if (frag != NULL && strcmp(frag, target_id) == 0 && !data_ref) {
			if (dup_ids != NULL && g_hash_table_contains(dup_ids, frag)) {
				sdr_signature_result_fail(
				        res, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
				        _("The Id “%s” is used more than once."), frag);
				goto out;
			}
			data_ref = TRUE;
			if (!check_reference(ref, target, sig, TRUE, res))
				goto out;
		} else if (frag != NULL && sp != NULL && sp_id != NULL &&
		           strcmp(frag, sp_id) == 0 && !sp_ref) {
			sp_ref = TRUE;
			if (!check_reference(ref, sp, sig, FALSE, res))
				goto out;
		} else {
			sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
			                          _("A reference (“%s”) points outside the signed "
			                            "bordereau and its properties."),
			                          uri != NULL ? uri : "");
			goto out;
		}
	}
	if (!data_ref) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
		                          _("The signature does not cover the element it is in."));
		goto out;
	}
	if (!sp_ref) {
		sdr_signature_result_fail(res, SDR_VERDICT_INVALID, SDR_REASON_PROFILE,
		                          _("The signed properties are not signed."));
		goto out;
	}
	if (!verify_value(cert, &sig_alg, si, value, res))
		goto out;
	check_properties(sp, cert, res);
	check_chain(cert, others, options, res);
out:
	X509_free(cert);
	sk_X509_pop_free(others, X509_free);
	return res;
}

static void
verify_children(xmlNodePtr target, const char *target_id, GHashTable *dup_ids,
                const SdrVerifyOptions *options, SdrVerifyReport *report, guint *count)
{
	for (xmlNodePtr sig = sdr_pes_child(target, SDR_PES_NS_DS, "Signature"); sig != NULL;
	     sig = sdr_pes_next(sig->next, SDR_PES_NS_DS, "Signature")) {
		g_ptr_array_add(report->signatures,
		                verify_signature(sig, target, target_id, dup_ids, options));
		(*count)++;
	}
}

SdrVerifyReport *
sdr_pes_verify_bytes(GBytes *pes, const char *file_name, const SdrVerifyOptions *options,
                     GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(pes, &len);
	g_autoptr(SdrPesScan) scan = NULL;
	g_autoptr(SdrPesReader) r = NULL;
	g_autoptr(SdrVerifyReport) report = NULL;
	g_autoptr(GHashTable) dups = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) unsigned_ids = g_ptr_array_new_with_free_func(g_free);
	xmlTextReaderPtr reader;
	gboolean root_signed = FALSE, in_flow = FALSE;
	int ret;

	if (data == NULL)
		data = (const guint8 *)"";
	if (len > SDR_PES_MAX_SIZE) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("The PES file is too large."));
		return NULL;
	}
	scan = sdr_pes_scan(data, len, error);
	if (scan == NULL)
		return NULL;
	if (strcmp(scan->root_name, "PES_Aller") != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("This XML file is not a PES Aller (root element “%s”)."),
		            scan->root_name);
		return NULL;
	}
	report = sdr_verify_report_new(file_name != NULL ? file_name : "", "PES");
	if (!sdr_pes_check_encoding(data, len, NULL))
		sdr_verify_report_note(report, SDR_REASON_PROFILE,
		                       _("The file does not declare the ISO-8859-1 encoding."));
	if (scan->duplicate_id != NULL) {
		sdr_verify_report_note(report, SDR_REASON_WRAPPING,
		                       _("The Id “%s” appears more than once in the document."),
		                       scan->duplicate_id);
		g_hash_table_add(dups, scan->duplicate_id);
	}

	r = sdr_pes_reader_new(data, len);
	if (r == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED, "out of memory");
		return NULL;
	}
	reader = sdr_pes_reader_get(r);
	ret = xmlTextReaderRead(reader);
	while (ret == 1) {
		int type = xmlTextReaderNodeType(reader);
		int depth = xmlTextReaderDepth(reader);
		const char *name = (const char *)xmlTextReaderConstLocalName(reader);
		const char *ns = (const char *)xmlTextReaderConstNamespaceUri(reader);
		xmlNodePtr node;

		if (type != XML_READER_TYPE_ELEMENT || depth < 1 || depth > 2 || name == NULL) {
			ret = xmlTextReaderRead(reader);
			continue;
		}
		if (depth == 1) {
			in_flow = strcmp(name, "PES_DepenseAller") == 0 ||
			          strcmp(name, "PES_RecetteAller") == 0;
			if (strcmp(name, "Signature") == 0 && ns != NULL &&
			    strcmp(ns, SDR_PES_NS_DS) == 0)
				root_signed = TRUE;
			ret = in_flow ? xmlTextReaderRead(reader) : xmlTextReaderNext(reader);
			continue;
		}
		if (!in_flow || strcmp(name, "Bordereau") != 0) {
			ret = xmlTextReaderNext(reader);
			continue;
		}
		node = xmlTextReaderExpand(reader);
		if (node == NULL)
			break;
		{
			g_autofree char *id = node_attr(node, "Id");
			guint n = 0;

			if (id != NULL)
				verify_children(node, id, dups, options, report, &n);
			if (n == 0)
				g_ptr_array_add(unsigned_ids,
				                g_strdup(id != NULL ? id : _("(without Id)")));
		}
		ret = xmlTextReaderNext(reader);
	}
	if (ret != 0) {
		sdr_pes_reader_error(r, error);
		return NULL;
	}
	if (root_signed) {
		/* A signature over PES_Aller/@Id: needs the whole tree. */
		xmlDocPtr doc = sdr_pes_parse_doc(data, len, error);
		guint n = 0;

		if (doc == NULL)
			return NULL;
		if (scan->root_id != NULL)
			verify_children(xmlDocGetRootElement(doc), scan->root_id, dups, options,
			                report, &n);
		xmlFreeDoc(doc);
	}
	for (guint i = 0; i < unsigned_ids->len; i++) {
		const char *id = g_ptr_array_index(unsigned_ids, i);

		if (root_signed)
			continue;
		sdr_verify_report_note(report, SDR_REASON_NO_SIGNATURE,
		                       _("Bordereau %s is not signed."), id);
	}
	if (report->signatures->len == 0)
		sdr_verify_report_note(report, SDR_REASON_NO_SIGNATURE,
		                       _("The PES file carries no signature."));
	return g_steal_pointer(&report);
}

SdrVerifyReport *
sdr_pes_verify_file(const char *path, const SdrVerifyOptions *options, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(GMappedFile) map = g_mapped_file_new(path, FALSE, &local);
	g_autoptr(GBytes) bytes = NULL;

	if (map == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read “%s”: %s"), path,
		            local->message);
		return NULL;
	}
	bytes = g_mapped_file_get_bytes(map);
	return sdr_pes_verify_bytes(bytes, path, options, error);
}
