/* sdr-xades-verify.c - XAdES / XML-DSig verification: references, signature
 * value, signing certificate reference, data object formats, timestamps, chain,
 * embedded revocation data, baseline level, signature wrapping. */
#include "sdr-xades-verify.h"

#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-revocation.h"
#include "sdr-file.h"
#include "sdr-time.h"
#include "sdr-tsa-revocation.h"
#include "sdr-tsa.h"
#include "sdr-xades-private.h"
#include "sdr-xades.h"
#include "sdr-xml.h"
#include "sdr-xmldsig.h"

#include <glib/gi18n-lib.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <string.h>

#define TOKEN_MAX ((gsize)256 * 1024)
#define VALUE_MAX ((gsize)1024 * 1024)
#define MAX_SIGNATURES 4096

static const char *const xades_namespaces[] = { SDR_XADES_NS_132, SDR_XADES_NS_122,
	                                        SDR_XADES_NS_111, NULL };

static void
x509_unref(gpointer p)
{
	X509_free(p);
}

/* ---- Detached data ------------------------------------------------------------ */

typedef struct {
	const char *base_dir;
	const SdrVerifyOptions *options;
	gboolean content_used;
} Resolver;

static GInputStream *
resolve_external(gpointer user_data, const char *uri, GError **error)
{
	Resolver *r = user_data;
	g_autofree char *name = NULL;
	g_autofree char *path = NULL;
	g_autoptr(GFile) file = NULL;

	if (r->options != NULL && r->options->content_path != NULL && !r->content_used) {
		r->content_used = TRUE;
		file = g_file_new_for_path(r->options->content_path);
		return G_INPUT_STREAM(g_file_read(file, NULL, error));
	}
	if (r->options != NULL && r->options->content != NULL && !r->content_used) {
		r->content_used = TRUE;
		return g_memory_input_stream_new_from_bytes(r->options->content);
	}
	if (uri == NULL || r->base_dir == NULL)
		goto not_found;
	/* Only plain relative names next to the signature: no scheme, no absolute
	 * path, no "..": a signature must not make us read elsewhere. */
	if (strchr(uri, ':') != NULL || uri[0] == '/' || strchr(uri, '\\') != NULL)
		goto not_found;
	name = g_uri_unescape_string(uri, NULL);
	if (name == NULL || name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL)
		goto not_found;
	path = g_build_filename(r->base_dir, name, NULL);
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		goto not_found;
	file = g_file_new_for_path(path);
	return G_INPUT_STREAM(g_file_read(file, NULL, error));
not_found:
	g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, _("Signed data not found"));
	return NULL;
}

/* ---- Helpers ----------------------------------------------------------------- */

static xmlNode *
find_qualifying_properties(xmlNode *signature, const char **ns_out)
{
	for (xmlNode *obj = sdr_xml_first_child(signature, SDR_DSIG_NS, "Object"); obj != NULL;
	     obj = sdr_xml_next_sibling(obj, SDR_DSIG_NS, "Object")) {
		for (gsize i = 0; xades_namespaces[i] != NULL; i++) {
			xmlNode *qp = sdr_xml_first_child(obj, xades_namespaces[i],
			                                  "QualifyingProperties");

			if (qp != NULL) {
				*ns_out = xades_namespaces[i];
				return qp;
			}
		}
	}
	return NULL;
}

static xmlNode *
enclosing_signature(xmlNode *node)
{
	for (xmlNode *n = node; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent) {
		if (sdr_xml_is(n, SDR_DSIG_NS, "Signature"))
			return n;
	}
	return NULL;
}

/* ds:NAME, or NAME in the parent's own namespace: XAdES 1.1.1 put DigestMethod
 * and DigestValue of CertDigest in the XAdES namespace. */
static xmlNode *
dsig_or_own_child(xmlNode *parent, const char *name)
{
	xmlNode *n = sdr_xml_first_child(parent, SDR_DSIG_NS, name);

	if (n == NULL && parent != NULL && parent->ns != NULL && parent->ns->href != NULL)
		n = sdr_xml_first_child(parent, (const char *)parent->ns->href, name);
	return n;
}

static const EVP_MD *
digest_method_md(xmlNode *parent)
{
	xmlNode *dm = dsig_or_own_child(parent, "DigestMethod");
	g_autofree char *alg = sdr_xml_attr(dm, "Algorithm");

	return sdr_dsig_digest_md_from_uri(alg);
}

static GBytes *
digest_value(xmlNode *parent)
{
	xmlNode *dv = dsig_or_own_child(parent, "DigestValue");
	g_autofree char *text = sdr_xml_text(dv);

	if (dv == NULL)
		return NULL;
	return sdr_xml_base64_decode(text, 128, NULL);
}

/* ---- Signing certificate reference ----------------------------------------------- */

static gboolean
cert_digest_matches(xmlNode *cert_node, const char *ns, X509 *cert)
{
	xmlNode *cd = sdr_xml_first_child(cert_node, ns, "CertDigest");
	const EVP_MD *md = digest_method_md(cd);
	g_autoptr(GBytes) expected = digest_value(cd);
	unsigned char *der = NULL;
	int der_len;
	guint8 got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	gboolean ok = FALSE;

	if (md == NULL || expected == NULL || cert == NULL)
		return FALSE;
	der_len = i2d_X509(cert, &der);
	if (der_len > 0 && EVP_Digest(der, (gsize)der_len, got, &got_len, md, NULL) == 1)
		ok = got_len == g_bytes_get_size(expected) &&
		     CRYPTO_memcmp(got, g_bytes_get_data(expected, NULL), got_len) == 0;
	OPENSSL_free(der);
	return ok;
}

static gboolean
issuer_serial_matches(xmlNode *cert_node, const char *ns, X509 *cert, gboolean *present)
{
	xmlNode *v2 = sdr_xml_first_child(cert_node, ns, "IssuerSerialV2");
	xmlNode *v1 = sdr_xml_first_child(cert_node, ns, "IssuerSerial");

	*present = v2 != NULL || v1 != NULL;
	if (v2 != NULL) {
		g_autofree char *text = sdr_xml_text(v2);
		g_autoptr(GBytes) got = sdr_xml_base64_decode(text, 64 * 1024, NULL);
		g_autoptr(GBytes) want = sdr_xades_issuer_serial_der(cert);

		return got != NULL && want != NULL && g_bytes_equal(got, want);
	}
	if (v1 != NULL) {
		g_autofree char *serial =
		        sdr_xml_text(sdr_xml_first_child(v1, SDR_DSIG_NS, "X509SerialNumber"));
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
		char *dec = bn != NULL ? BN_bn2dec(bn) : NULL;
		gboolean ok = dec != NULL && serial != NULL && strcmp(dec, serial) == 0;

		OPENSSL_free(dec);
		BN_free(bn);
		return ok;
	}
	return TRUE;
}

static void
check_signing_certificate(xmlNode *ssp, const char *ns, SdrDsigVerification *v,
                          SdrSignatureResult *result, gboolean *is_v2, guint *count)
{
	xmlNode *sc2 = sdr_xml_first_child(ssp, ns, "SigningCertificateV2");
	xmlNode *sc1 = sdr_xml_first_child(ssp, ns, "SigningCertificate");
	xmlNode *sc = sc2 != NULL ? sc2 : sc1;
	gboolean matched = FALSE;

	*is_v2 = sc2 != NULL;
	*count = sdr_xml_count_children(ssp, ns, "SigningCertificateV2") +
	         sdr_xml_count_children(ssp, ns, "SigningCertificate");
	if (sc == NULL) {
		sdr_signature_result_fail(
		        result, SDR_VERDICT_INDETERMINATE, SDR_REASON_SIGNING_CERT_REF,
		        _("The signature does not identify its signing certificate "
		          "(no SigningCertificate property)"));
		return;
	}
	for (xmlNode *c = sdr_xml_first_child(sc, ns, "Cert"); c != NULL && !matched;
	     c = sdr_xml_next_sibling(c, ns, "Cert")) {
		gboolean present = FALSE;

		if (!cert_digest_matches(c, ns, v->cert))
			continue;
		matched = TRUE;
		if (!issuer_serial_matches(c, ns, v->cert, &present)) {
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNING_CERT_REF,
			                          _("The issuer and serial number of the signing "
			                            "certificate reference do not match the "
			                            "certificate"));
		}
	}
	if (!matched)
		sdr_signature_result_fail(
		        result, SDR_VERDICT_INVALID, SDR_REASON_SIGNING_CERT_REF,
		        _("The signing certificate reference (CertDigest) does not "
		          "match the certificate that signed"));
}

/* ---- Timestamps -------------------------------------------------------------------- */

static const EVP_MD *
token_md(GBytes *token)
{
	const unsigned char *p = g_bytes_get_data(token, NULL);
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)g_bytes_get_size(token));
	ASN1_OCTET_STRING **content = cms != NULL ? CMS_get0_content(cms) : NULL;
	TS_TST_INFO *info = NULL;
	const EVP_MD *md = NULL;

	/* CMS, not PKCS7: the PKCS7 parser refuses tokens carrying attribute or
	 * other certificates (seen in Czech timestamps). */
	if (content != NULL && *content != NULL &&
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) == NID_id_smime_ct_TSTInfo) {
		const unsigned char *q = ASN1_STRING_get0_data(*content);

		info = d2i_TS_TST_INFO(NULL, &q, ASN1_STRING_length(*content));
	}
	if (info != NULL) {
		X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(info));

		md = EVP_get_digestbyobj(alg->algorithm);
	}
	TS_TST_INFO_free(info);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return md;
}

/* What the signature timestamps proved: how many verify, how many of those have a TSA
 * trusted at the time asked, and the earliest time of a trusted one. */
typedef struct {
	guint count;
	guint valid;
	guint trusted;
	GDateTime *trusted_time; /* owned, may be NULL */
} TsFacts;

static void
ts_facts_clear(TsFacts *f)
{
	g_clear_pointer(&f->trusted_time, g_date_time_unref);
}

/* The earlier of *slot and t (t borrowed; *slot owned). */
static void
keep_earliest(GDateTime **slot, GDateTime *t)
{
	if (t != NULL && (*slot == NULL || g_date_time_compare(t, *slot) < 0)) {
		if (*slot != NULL)
			g_date_time_unref(*slot);
		*slot = g_date_time_ref(t);
	}
}

static void collect_values(xmlNode *parent, const char *ns, const char *name, gsize max,
                           GPtrArray *out);

/* The validation data usp carries (CertificateValues, RevocationValues and those of each
 * xadesv141:TimeStampValidationData) as one, for the TSAs' revocation. */
static SdrValidationData *
usp_validation_data(xmlNode *usp, const char *ns)
{
	SdrValidationData *vd = sdr_validation_data_new();

	for (xmlNode *p = usp != NULL ? usp->children : NULL; p != NULL; p = p->next) {
		gboolean tsvd = sdr_xml_is(p, SDR_XADES_NS_141, "TimeStampValidationData");
		xmlNode *cv = tsvd ? sdr_xml_first_child(p, ns, "CertificateValues")
		              : sdr_xml_is(p, ns, "CertificateValues") ? p
		                                                       : NULL;
		xmlNode *rv = tsvd ? sdr_xml_first_child(p, ns, "RevocationValues")
		              : sdr_xml_is(p, ns, "RevocationValues") ? p
		                                                      : NULL;

		for (xmlNode *c = sdr_xml_first_child(cv, ns, "EncapsulatedX509Certificate");
		     c != NULL && vd->certs->len < 64;
		     c = sdr_xml_next_sibling(c, ns, "EncapsulatedX509Certificate")) {
			g_autofree char *text = sdr_xml_text(c);
			X509 *x = sdr_xml_base64_decode_cert(text, 64 * 1024);

			if (x != NULL)
				g_ptr_array_add(vd->certs, x);
		}
		collect_values(sdr_xml_first_child(rv, ns, "OCSPValues"), ns,
		               "EncapsulatedOCSPValue", VALUE_MAX, vd->ocsp_responses);
		collect_values(sdr_xml_first_child(rv, ns, "CRLValues"), ns, "EncapsulatedCRLValue",
		               16 * VALUE_MAX, vd->crls);
	}
	return vd;
}

/* Checks each SignatureTimeStamp. The TSA is trusted now when trust_time is NULL,
 * else at trust_time (--at, or the time of an archive timestamp that covers them). */
/* long: the reading, imprint and trust steps of one token in order, each with its own
 * verdict */
static void
check_timestamps(xmlNode *signature, xmlNode *usp, const char *ns, const SdrVerifyOptions *opts,
                 GDateTime *trust_time, SdrSignatureResult *result, TsFacts *facts)
{
	xmlNode *sv = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignatureValue");
	X509_STORE *store = opts != NULL ? opts->trust : NULL;
	g_autoptr(SdrValidationData) carried = usp_validation_data(usp, ns);

	for (xmlNode *ts = sdr_xml_first_child(usp, ns, "SignatureTimeStamp"); ts != NULL;
	     ts = sdr_xml_next_sibling(ts, ns, "SignatureTimeStamp")) {
		xmlNode *cm = sdr_xml_first_child(ts, SDR_DSIG_NS, "CanonicalizationMethod");
		g_autofree char *alg = sdr_xml_attr(cm, "Algorithm");
		xmlNode *ets = sdr_xml_first_child(ts, ns, "EncapsulatedTimeStamp");
		g_autofree char *text = sdr_xml_text(ets);
		g_autoptr(GBytes) token = NULL;
		g_autoptr(GError) local = NULL;
		g_autoptr(GDateTime) when = NULL;
		SdrC14nMethod method = SDR_C14N_INCLUSIVE_10;
		const EVP_MD *md;
		guint8 digest[EVP_MAX_MD_SIZE];
		gsize dlen = 0;

		facts->count++;
		if (alg != NULL && !sdr_c14n_method_from_uri(alg, &method)) {
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_UNSUPPORTED_ALGORITHM,
			                          _("Unsupported canonicalisation method in the "
			                            "signature timestamp"));
			continue;
		}
		token = ets != NULL ? sdr_xml_base64_decode(text, TOKEN_MAX, NULL) : NULL;
		md = token != NULL ? token_md(token) : NULL;
		if (md == NULL || sv == NULL) {
			/* An unsigned property proves nothing when unreadable, but
			 * does not make the signature wrong either. */
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_TIMESTAMP_INVALID,
			                          _("The signature timestamp cannot be read"));
			continue;
		}
		if (!sdr_xmldsig_c14n_digest(signature->doc, sv, NULL, method, NULL, md, digest,
		                             &dlen, &local)) {
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID,
			                          SDR_REASON_TIMESTAMP_INVALID, "%s",
			                          local->message);
			continue;
		}
		if (store != NULL && trust_time != NULL) {
			/* the token itself, then its TSA at trust_time */
			if (!sdr_tsa_verify_token(g_bytes_get_data(token, NULL),
			                          g_bytes_get_size(token), digest, dlen, NULL,
			                          &when, &local)) {
				sdr_signature_result_fail(
				        result,
				        g_error_matches(local, SDR_ERROR, SDR_ERROR_CRYPTO)
				                ? SDR_VERDICT_INVALID
				                : SDR_VERDICT_INDETERMINATE,
				        SDR_REASON_TIMESTAMP_INVALID,
				        _("The signature timestamp is invalid: %s"),
				        local->message);
				continue;
			}
			facts->valid++;
			if (sdr_tsa_token_trusted_at(g_bytes_get_data(token, NULL),
			                             g_bytes_get_size(token), store, trust_time,
			                             &local) &&
			    sdr_tsa_token_not_revoked(g_bytes_get_data(token, NULL),
			                              g_bytes_get_size(token), carried, when,
			                              &local)) {
				facts->trusted++;
				keep_earliest(&facts->trusted_time, when);
			} else {
				sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
				                          SDR_REASON_TIMESTAMP_INVALID, "%s",
				                          local->message);
			}
		} else if (sdr_tsa_verify_token(g_bytes_get_data(token, NULL),
		                                g_bytes_get_size(token), digest, dlen, store, &when,
		                                &local)) {
			facts->valid++;
			if (store != NULL &&
			    !sdr_tsa_token_not_revoked(g_bytes_get_data(token, NULL),
			                               g_bytes_get_size(token), carried, when,
			                               &local)) {
				sdr_signature_result_fail(
				        result, SDR_VERDICT_INDETERMINATE,
				        SDR_REASON_TIMESTAMP_INVALID,
				        _("The timestamping authority is not trusted: "
				          "%s"),
				        local->message);
			} else if (store != NULL) {
				facts->trusted++;
				keep_earliest(&facts->trusted_time, when);
			}
		} else {
			g_autoptr(GError) again = NULL;
			g_autoptr(GDateTime) when2 = NULL;

			if (opts != NULL && opts->trust != NULL &&
			    sdr_tsa_verify_token(g_bytes_get_data(token, NULL),
			                         g_bytes_get_size(token), digest, dlen, NULL,
			                         &when2, &again)) {
				sdr_signature_result_fail(
				        result, SDR_VERDICT_INDETERMINATE,
				        SDR_REASON_TIMESTAMP_INVALID,
				        _("The timestamping authority is not trusted: %s"),
				        local->message);
				when = g_steal_pointer(&when2);
			} else {
				GError *why = again != NULL ? again : local;

				sdr_signature_result_fail(
				        result,
				        g_error_matches(why, SDR_ERROR, SDR_ERROR_CRYPTO)
				                ? SDR_VERDICT_INVALID
				                : SDR_VERDICT_INDETERMINATE,
				        SDR_REASON_TIMESTAMP_INVALID,
				        _("The signature timestamp is invalid: %s"), why->message);
				continue;
			}
		}
		keep_earliest(&result->timestamp_time, when);
	}
}

/* ---- Archive timestamps (xadesv141:ArchiveTimeStamp, EN 319 132-1 5.5.2) ------------ */

#define MAX_ARCHIVE_TIMESTAMPS 16

/* One archive timestamp: its imprint over sdr_xades_archive_digest() up to itself and its
 * token signature. Returns the token (and *when) when both verify, NULL otherwise (with
 * the reason in result). */
static GBytes *
verify_archive_timestamp(xmlNode *signature, xmlNode *usp, xmlNode *ats, const char *ns,
                         const char *base_dir, const SdrVerifyOptions *opts,
                         SdrSignatureResult *result, GDateTime **when)
{
	xmlNode *cm = sdr_xml_first_child(ats, SDR_DSIG_NS, "CanonicalizationMethod");
	g_autofree char *alg = sdr_xml_attr(cm, "Algorithm");
	g_autofree char *text = sdr_xml_text(sdr_xml_first_child(ats, ns, "EncapsulatedTimeStamp"));
	g_autoptr(GBytes) token = NULL;
	g_autoptr(GError) local = NULL;
	/* a fresh resolver: the detached data is read again, in the same order */
	Resolver resolver = { base_dir, opts, FALSE };
	SdrC14nMethod method = SDR_C14N_INCLUSIVE_10; /* XML-DSig's default */
	const EVP_MD *md;
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize dlen = 0;

	if (alg != NULL && !sdr_c14n_method_from_uri(alg, &method)) {
		sdr_signature_result_warn(result, SDR_REASON_UNSUPPORTED_ALGORITHM,
		                          _("Unsupported canonicalisation method in the archive "
		                            "timestamp"));
		return NULL;
	}
	token = text != NULL ? sdr_xml_base64_decode(text, TOKEN_MAX, NULL) : NULL;
	md = token != NULL ? token_md(token) : NULL;
	if (md == NULL) {
		sdr_signature_result_warn(result, SDR_REASON_TIMESTAMP_INVALID,
		                          _("An archive timestamp cannot be read"));
		return NULL;
	}
	if (!sdr_xades_archive_digest(signature, usp, ats, method, md, resolve_external, &resolver,
	                              digest, &dlen, &local)) {
		sdr_signature_result_warn(result, SDR_REASON_TIMESTAMP_INVALID,
		                          _("An archive timestamp cannot be checked: %s"),
		                          local->message);
		return NULL;
	}
	if (!sdr_tsa_verify_token(g_bytes_get_data(token, NULL), g_bytes_get_size(token), digest,
	                          dlen, NULL, when, &local)) {
		sdr_signature_result_fail(result,
		                          g_error_matches(local, SDR_ERROR, SDR_ERROR_CRYPTO)
		                                  ? SDR_VERDICT_INVALID
		                                  : SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_TIMESTAMP_INVALID,
		                          _("The archive timestamp is invalid: %s"),
		                          local->message);
		return NULL;
	}
	return g_steal_pointer(&token);
}

/* Checks every archive timestamp of usp. The last one's TSA must be trusted at --at (or
 * now); each earlier one is judged at the earliest time of a trusted later one, which
 * covers it (renewal). Returns the earliest time of a trusted archive timestamp (the
 * caller unrefs), NULL when none. */
static GDateTime *
check_archive_timestamps(xmlNode *signature, xmlNode *usp, const char *ns, const char *base_dir,
                         const SdrVerifyOptions *opts, SdrSignatureResult *result)
{
	xmlNode *list[MAX_ARCHIVE_TIMESTAMPS];
	guint n = 0;
	GDateTime *poe = NULL;
	g_autoptr(SdrValidationData) carried = usp_validation_data(usp, ns);

	for (xmlNode *a = sdr_xml_first_child(usp, SDR_XADES_NS_141, "ArchiveTimeStamp"); a != NULL;
	     a = sdr_xml_next_sibling(a, SDR_XADES_NS_141, "ArchiveTimeStamp")) {
		if (n == MAX_ARCHIVE_TIMESTAMPS) {
			sdr_signature_result_warn(result, SDR_REASON_TIMESTAMP_INVALID,
			                          _("Too many archive timestamps: only the first "
			                            "%d are checked"),
			                          MAX_ARCHIVE_TIMESTAMPS);
			break;
		}
		list[n++] = a;
	}
	for (guint i = n; i-- > 0;) {
		g_autoptr(GDateTime) when = NULL;
		g_autoptr(GBytes) token = verify_archive_timestamp(signature, usp, list[i], ns,
		                                                   base_dir, opts, result, &when);
		g_autoptr(GError) local = NULL;
		GDateTime *judge_at = poe != NULL ? poe : opts != NULL ? opts->at : NULL;

		if (token == NULL)
			continue;
		if (opts == NULL || opts->trust == NULL ||
		    !sdr_tsa_token_trusted_at(g_bytes_get_data(token, NULL),
		                              g_bytes_get_size(token), opts->trust, judge_at,
		                              &local) ||
		    !sdr_tsa_token_not_revoked(g_bytes_get_data(token, NULL),
		                               g_bytes_get_size(token), carried, when, &local)) {
			sdr_signature_result_warn(result, SDR_REASON_TIMESTAMP_INVALID,
			                          _("The archive timestamp is not trusted: %s"),
			                          local != NULL ? local->message
			                                        : _("no trust anchors"));
			continue;
		}
		keep_earliest(&poe, when);
	}
	return poe;
}

/* ---- Certificate values, revocation values, chain ------------------------------------ */

static void
collect_encapsulated_certs(xmlNode *usp, const char *ns, GPtrArray *out)
{
	xmlNode *cv = sdr_xml_first_child(usp, ns, "CertificateValues");

	for (xmlNode *c = sdr_xml_first_child(cv, ns, "EncapsulatedX509Certificate");
	     c != NULL && out->len < 64;
	     c = sdr_xml_next_sibling(c, ns, "EncapsulatedX509Certificate")) {
		g_autofree char *text = sdr_xml_text(c);
		X509 *x = sdr_xml_base64_decode_cert(text, 64 * 1024);

		if (x != NULL)
			g_ptr_array_add(out, x);
	}
}

/* Reads the base64 children name of parent into DER blobs. */
static void
collect_values(xmlNode *parent, const char *ns, const char *name, gsize max, GPtrArray *out)
{
	for (xmlNode *c = sdr_xml_first_child(parent, ns, name); c != NULL && out->len < 64;
	     c = sdr_xml_next_sibling(c, ns, name)) {
		g_autofree char *text = sdr_xml_text(c);
		GBytes *der = sdr_xml_base64_decode(text, max, NULL);

		if (der != NULL)
			g_ptr_array_add(out, der);
	}
}

/* Checks OCSP responses and CRLs (DER) for cert: revoked at or before `at` ->
 * INVALID CERT_REVOKED. Returns TRUE when one of them gave a status for cert. */
static gboolean
check_revocation(GPtrArray *ocsps, GPtrArray *crls, X509 *cert, X509 *issuer, GDateTime *at,
                 SdrSignatureResult *result)
{
	gint64 at_unix = at != NULL ? g_date_time_to_unix(at) : G_MAXINT64;
	gboolean known = FALSE, revoked_reported = FALSE;

	for (guint i = 0; i < ocsps->len; i++) {
		GBytes *der = g_ptr_array_index(ocsps, i);
		const unsigned char *p = g_bytes_get_data(der, NULL);
		OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)g_bytes_get_size(der));
		OCSP_BASICRESP *basic = resp != NULL ? OCSP_response_get1_basic(resp) : NULL;
		OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
		int status = -1, reason = 0;
		ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;

		/* The response must come from the issuer or a responder it delegated. */
		if (basic != NULL && id != NULL &&
		    OCSP_resp_find_status(basic, id, &status, &reason, &rev, &thisupd, &nextupd) ==
		            1) {
			STACK_OF(X509) *signers = sk_X509_new_null();
			X509_STORE *st = X509_STORE_new();
			int ok;

			sk_X509_push(signers, issuer);
			X509_STORE_add_cert(st, issuer);
			/* the issuer is an intermediate CA: let it anchor the chain */
			X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
			ok = OCSP_basic_verify(basic, signers, st, OCSP_TRUSTOTHER) == 1;
			X509_STORE_free(st);
			sk_X509_free(signers);
			if (ok) {
				known = TRUE;
				if (status == V_OCSP_CERTSTATUS_REVOKED && rev != NULL &&
				    !revoked_reported) {
					g_autoptr(GDateTime) rt = sdr_time_from_asn1(rev);

					if (rt == NULL || g_date_time_to_unix(rt) <= at_unix) {
						sdr_signature_result_fail(
						        result, SDR_VERDICT_INVALID,
						        SDR_REASON_CERT_REVOKED,
						        _("The signing certificate was revoked at "
						          "the "
						          "signing time (OCSP response)"));
						revoked_reported = TRUE;
					}
				}
			}
		}
		OCSP_CERTID_free(id);
		OCSP_BASICRESP_free(basic);
		OCSP_RESPONSE_free(resp);
	}
	for (guint i = 0; i < crls->len; i++) {
		GBytes *der = g_ptr_array_index(crls, i);
		const unsigned char *p = g_bytes_get_data(der, NULL);
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)g_bytes_get_size(der));
		X509_REVOKED *revoked = NULL;

		if (crl != NULL &&
		    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) == 1) {
			known = TRUE;
			if (X509_CRL_get0_by_cert(crl, &revoked, cert) == 1 && revoked != NULL &&
			    !revoked_reported) {
				g_autoptr(GDateTime) rt = sdr_time_from_asn1(
				        X509_REVOKED_get0_revocationDate(revoked));

				if (rt == NULL || g_date_time_to_unix(rt) <= at_unix) {
					sdr_signature_result_fail(result, SDR_VERDICT_INVALID,
					                          SDR_REASON_CERT_REVOKED,
					                          _("The signing certificate was "
					                            "revoked at the signing "
					                            "time (CRL)"));
					revoked_reported = TRUE;
				}
			}
		}
		X509_CRL_free(crl);
	}
	ERR_clear_error();
	return known;
}

/* Revocation of the signing certificate: the embedded RevocationValues, and
 * with options->online the issuer's OCSP responder or CRL. */
static void
check_signer_revocation(xmlNode *usp, const char *ns, X509 *cert, GPtrArray *untrusted,
                        const SdrVerifyOptions *options, GDateTime *at, gboolean anchored,
                        SdrSignatureResult *result)
{
	xmlNode *rv = sdr_xml_first_child(usp, ns, "RevocationValues");
	g_autoptr(GPtrArray) ocsps = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GPtrArray) crls = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	X509 *issuer = NULL;
	gboolean known;

	if (cert == NULL)
		return;
	if (result->chain->len > 1)
		issuer = g_ptr_array_index(result->chain, 1);
	for (guint i = 0; issuer == NULL && i < untrusted->len; i++) {
		X509 *c = g_ptr_array_index(untrusted, i);

		if (X509_check_issued(c, cert) == X509_V_OK && X509_cmp(c, cert) != 0)
			issuer = c;
	}
	if (issuer == NULL)
		return;
	collect_values(sdr_xml_first_child(rv, ns, "OCSPValues"), ns, "EncapsulatedOCSPValue",
	               VALUE_MAX, ocsps);
	collect_values(sdr_xml_first_child(rv, ns, "CRLValues"), ns, "EncapsulatedCRLValue",
	               16 * VALUE_MAX, crls);
	known = check_revocation(ocsps, crls, cert, issuer, at, result);
	if (!known && options != NULL && options->online) {
		g_autoptr(SdrValidationData) data = sdr_validation_data_new();
		g_autoptr(GError) local = NULL;
		STACK_OF(X509) *chain = sk_X509_new_null();

		for (guint i = 0; i < untrusted->len; i++)
			sk_X509_push(chain, g_ptr_array_index(untrusted, i));
		/* What was fetched before a failure still counts. */
		(void)sdr_revocation_collect_full(data, cert, chain, options->trust, TRUE, &local);
		known = check_revocation(data->ocsp_responses, data->crls, cert, issuer, at,
		                         result);
		sk_X509_free(chain);
		if (!known && anchored) {
			g_autofree char *name = sdr_cert_display_name(cert);

			sdr_revocation_report_unknown(result, options, cert, name, local);
			return;
		}
	}
	/* As CAdES and PAdES (sdr-cms-verify.c): a warning, with the same code and words,
	 * when the chain reaches a trust anchor and nothing says whether the signing
	 * certificate is revoked. */
	if (!known && anchored) {
		g_autofree char *name = sdr_cert_display_name(cert);

		sdr_revocation_report_unknown(result, options, cert, name, NULL);
	}
}

/* TRUE when the chain reaches a trust anchor (even if a certificate is out of its
 * validity at `at`): then revocation is looked at, as for CAdES. */
static gboolean
check_chain(X509 *cert, GPtrArray *untrusted_certs, const SdrVerifyOptions *opts, GDateTime *at,
            SdrSignatureResult *result)
{
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int rc, err;
	gboolean anchored = FALSE;

	if (cert == NULL)
		goto out;
	if (opts == NULL || opts->trust == NULL) {
		sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_CHAIN_NOT_TRUSTED,
		                          _("No trust anchors are configured: the certificate "
		                            "chain was not checked"));
		goto out;
	}
	for (guint i = 0; i < untrusted_certs->len; i++)
		sk_X509_push(untrusted, g_ptr_array_index(untrusted_certs, i));
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, opts->trust, cert, untrusted) != 1) {
		X509_STORE_CTX_free(ctx);
		goto out;
	}
	if (at != NULL)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)g_date_time_to_unix(at));
	rc = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	{
		STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(ctx);

		for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
			X509 *c = sk_X509_value(chain, i);

			X509_up_ref(c);
			g_ptr_array_add(result->chain, c);
		}
		sk_X509_pop_free(chain, X509_free);
	}
	anchored = rc == 1 || err == X509_V_ERR_CERT_HAS_EXPIRED ||
	           err == X509_V_ERR_CERT_NOT_YET_VALID;
	if (rc != 1) {
		if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_CERT_EXPIRED,
			                          _("A certificate of the chain was not valid at "
			                            "the signing time (%s)"),
			                          X509_verify_cert_error_string(err));
		else
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_CHAIN_NOT_TRUSTED,
			                          _("The certificate chain is not trusted: %s"),
			                          X509_verify_cert_error_string(err));
	}
	X509_STORE_CTX_free(ctx);
out:
	sk_X509_free(untrusted);
	ERR_clear_error();
	return anchored;
}

/* ---- One signature ------------------------------------------------------------------ */

typedef struct {
	gboolean xades;
	gboolean baseline_ns;
	gboolean b_ok;
	guint ts_valid;
	gboolean has_values;
	gboolean has_lta;
	gboolean has_xl_leftovers;
} LevelFacts;

/* The signature's own KeyInfo, a Manifest or SignatureProperties: signed by many
 * producers (Facturae, Spanish and Slovak tools...) next to the document. */
static gboolean
is_signature_metadata(xmlNode *target, xmlNode *signature)
{
	for (xmlNode *n = target; n != NULL && n != signature && n->type == XML_ELEMENT_NODE;
	     n = n->parent) {
		if (n->parent == signature && sdr_xml_is(n, SDR_DSIG_NS, "KeyInfo"))
			return TRUE;
		if (sdr_xml_is(n, SDR_DSIG_NS, "Manifest") ||
		    sdr_xml_is(n, SDR_DSIG_NS, "SignatureProperties"))
			return TRUE;
	}
	return FALSE;
}

/* Does a data reference cover something outside the signature (the document, a
 * part of it, a detached file)? */
static gboolean
signs_outside(SdrDsigVerification *v, xmlNode *signature)
{
	for (guint i = 0; i < v->references->len; i++) {
		SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

		if (g_strcmp0(r->type, SDR_XADES_SIGNED_PROPERTIES_TYPE) == 0)
			continue;
		if (r->external && r->status == SDR_DSIG_REF_OK)
			return TRUE;
		if (r->target != NULL && (r->target->type != XML_ELEMENT_NODE ||
		                          enclosing_signature(r->target) != signature))
			return TRUE;
	}
	return FALSE;
}

/* Does the Reference carry the enveloped-signature transform? */
static gboolean
has_enveloped_transform(xmlNode *refnode)
{
	xmlNode *ts = sdr_xml_first_child(refnode, SDR_DSIG_NS, "Transforms");

	for (xmlNode *t = sdr_xml_first_child(ts, SDR_DSIG_NS, "Transform"); t != NULL;
	     t = sdr_xml_next_sibling(t, SDR_DSIG_NS, "Transform")) {
		g_autofree char *alg = sdr_xml_attr(t, "Algorithm");

		if (g_strcmp0(alg, SDR_DSIG_ENVELOPED) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean
contains_node(xmlNode *ancestor, xmlNode *node)
{
	for (; node != NULL; node = node->parent)
		if (node == ancestor)
			return TRUE;
	return FALSE;
}

/* Does the document hold anything (element, non-blank text) besides the
 * signature and its ancestors? A root holding only the signature is an
 * enveloping signature in a wrapper (UK producers, merlin test vectors). */
static gboolean
document_has_other_content(xmlNode *signature)
{
	for (xmlNode *n = signature; n->parent != NULL && n->parent->type == XML_ELEMENT_NODE;
	     n = n->parent) {
		for (xmlNode *c = n->parent->children; c != NULL; c = c->next) {
			if (c == n)
				continue;
			if (c->type == XML_ELEMENT_NODE)
				return TRUE;
			if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
			    c->content != NULL) {
				for (const xmlChar *p = c->content; *p != '\0'; p++)
					if (!g_ascii_isspace(*p))
						return TRUE;
			}
		}
	}
	return FALSE;
}

static void
check_wrapping(SdrDsigVerification *v, xmlNode *signature, xmlNode *sp, SdrSignatureResult *result,
               gboolean *sp_signed)
{
	gboolean outside = signs_outside(v, signature) || !document_has_other_content(signature);

	*sp_signed = FALSE;
	for (guint i = 0; i < v->references->len; i++) {
		SdrDsigRefResult *r = g_ptr_array_index(v->references, i);
		xmlNode *enc;

		if (r->target == NULL || r->target->type != XML_ELEMENT_NODE)
			continue;
		/* The enveloped-signature transform only makes sense on an element
		 * holding the signature: on another one, the signed element was
		 * moved away from where the signature sits (XSW "misplaced"). */
		if (r->element != NULL && has_enveloped_transform(r->element) &&
		    !contains_node(r->target, signature)) {
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
			        _("The reference %s applies the enveloped-signature "
			          "transform to an element that does not contain "
			          "the signature (signature wrapping)"),
			        r->uri);
			continue;
		}
		/* A reference typed ds:Object / ds:Manifest must designate one (or
		 * an element right inside a ds:Object): anything else means the
		 * signed element was moved (DSS's XSW protection does the same). */
		if ((g_strcmp0(r->type, SDR_DSIG_NS "Object") == 0 &&
		     !sdr_xml_is(r->target, SDR_DSIG_NS, "Object") &&
		     !is_signature_metadata(r->target, signature) &&
		     (r->target->parent == NULL ||
		      !sdr_xml_is(r->target->parent, SDR_DSIG_NS, "Object"))) ||
		    (g_strcmp0(r->type, SDR_DSIG_NS "Manifest") == 0 &&
		     !sdr_xml_is(r->target, SDR_DSIG_NS, "Manifest") &&
		     !is_signature_metadata(r->target, signature))) {
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
			        _("The reference %s declares a type that the "
			          "element it designates does not have (signature "
			          "wrapping)"),
			        r->uri);
			continue;
		}
		if (sp != NULL && r->target == sp) {
			if (r->status == SDR_DSIG_REF_OK)
				*sp_signed = TRUE;
			continue;
		}
		if (g_strcmp0(r->type, SDR_XADES_SIGNED_PROPERTIES_TYPE) == 0) {
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
			                          _("The signed properties reference points to an "
			                            "element that is not this signature's "
			                            "SignedProperties"));
			continue;
		}
		/* A signed element hidden inside a signature (other than this one's
		 * own ds:Object) is not what the document shows. */
		enc = enclosing_signature(r->target);
		if (enc != NULL && enc != signature) {
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
			                          _("The signed element %s lies inside another "
			                            "signature (signature wrapping)"),
			                          r->uri);
		} else if (enc == signature && xmlDocGetRootElement(signature->doc) != signature &&
		           !outside && !is_signature_metadata(r->target, signature)) {
			/* Only an enveloping signature (the document itself) may sign
			 * only data it carries; an enveloped one signing nothing of
			 * the document but its own content while the document shows
			 * something else is wrapping. Its KeyInfo, a Manifest or
			 * objects signed next to the document are fine. */
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING,
			        _("The signed element %s lies inside the signature "
			          "itself, not in the document (signature "
			          "wrapping)"),
			        r->uri);
		}
	}
}

static void
check_data_object_formats(xmlNode *sp, const char *ns, SdrDsigVerification *v,
                          SdrSignatureResult *result, gboolean *ok)
{
	xmlNode *sdop = sdr_xml_first_child(sp, ns, "SignedDataObjectProperties");

	*ok = TRUE;
	for (guint i = 0; i < v->references->len; i++) {
		SdrDsigRefResult *r = g_ptr_array_index(v->references, i);
		gboolean found = FALSE;

		if (g_strcmp0(r->type, SDR_XADES_SIGNED_PROPERTIES_TYPE) == 0 ||
		    (r->target != NULL && r->target->type == XML_ELEMENT_NODE &&
		     sdr_xml_is(r->target, ns, "SignedProperties")))
			continue;
		for (xmlNode *d = sdr_xml_first_child(sdop, ns, "DataObjectFormat");
		     d != NULL && r->id != NULL && !found;
		     d = sdr_xml_next_sibling(d, ns, "DataObjectFormat")) {
			g_autofree char *oref = sdr_xml_attr(d, "ObjectReference");

			if (oref != NULL && oref[0] == '#' && strcmp(oref + 1, r->id) == 0) {
				found = TRUE;
				if (sdr_xml_count_children(d, ns, "MimeType") != 1)
					*ok = FALSE;
			}
		}
		if (!found)
			*ok = FALSE;
	}
	if (!*ok)
		sdr_signature_result_warn(result, SDR_REASON_FORMAT,
		                          _("A signed data object has no DataObjectFormat with a "
		                            "MimeType (not baseline)"));
	/* DataObjectFormat pointing at no reference. */
	for (xmlNode *d = sdr_xml_first_child(sdop, ns, "DataObjectFormat"); d != NULL;
	     d = sdr_xml_next_sibling(d, ns, "DataObjectFormat")) {
		g_autofree char *oref = sdr_xml_attr(d, "ObjectReference");
		gboolean known = FALSE;

		for (guint i = 0; i < v->references->len && oref != NULL && !known; i++) {
			SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

			known = r->id != NULL && oref[0] == '#' && strcmp(oref + 1, r->id) == 0;
		}
		if (!known) {
			sdr_signature_result_warn(
			        result, SDR_REASON_FORMAT,
			        _("A DataObjectFormat refers to no reference of the "
			          "signature"));
			*ok = FALSE;
		}
	}
}

/* Details for reports: "packaging" (detached, enveloped, enveloping) and
 * "signed_data" (the data reference URIs, comma-separated). */
static void
describe_packaging(SdrDsigVerification *v, xmlNode *signature, SdrSignatureResult *result)
{
	g_autoptr(GString) uris = g_string_new(NULL);
	const char *packaging = NULL;

	for (guint i = 0; i < v->references->len; i++) {
		SdrDsigRefResult *r = g_ptr_array_index(v->references, i);
		const char *kind;

		if (g_strcmp0(r->type, SDR_XADES_SIGNED_PROPERTIES_TYPE) == 0)
			continue;
		if (r->external)
			kind = "detached";
		else if (r->target != NULL && enclosing_signature(r->target) == signature)
			kind = "enveloping";
		else
			kind = "enveloped";
		if (packaging == NULL)
			packaging = kind;
		g_string_append_printf(uris, "%s%s", uris->len > 0 ? "," : "",
		                       r->uri != NULL ? r->uri : "");
	}
	if (packaging != NULL)
		sdr_signature_result_set_detail(result, "packaging", packaging);
	sdr_signature_result_set_detail(result, "signed_data", uris->str);
}

/* long: the XML-DSig core and XAdES checks of one signature in order (references, value,
 * signing certificate, signing time, timestamps, chain, level), all writing one result */
SdrSignatureResult *
sdr_xades_verify_signature(xmlNode *signature, const char *base_dir,
                           const SdrVerifyOptions *options)
{
	SdrSignatureResult *result = sdr_signature_result_new("XAdES");
	Resolver resolver = { base_dir, options, FALSE };
	g_autoptr(SdrDsigVerification) v = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(GPtrArray) untrusted = g_ptr_array_new_with_free_func(x509_unref);
	const char *ns = NULL;
	xmlNode *qp, *sp = NULL, *ssp = NULL, *usp = NULL;
	LevelFacts facts = { 0 };
	TsFacts ts = { 0 };
	g_autoptr(GDateTime) ats_poe = NULL;
	gboolean sp_signed = FALSE;
	GDateTime *at;
	gboolean anchored;

	result->id = sdr_xml_attr(signature, "Id");
	v = sdr_xmldsig_verify(signature, NULL, resolve_external, &resolver, &local);
	if (v == NULL) {
		sdr_signature_result_fail(result, SDR_VERDICT_INVALID, SDR_REASON_FORMAT, "%s",
		                          local->message);
		return result;
	}
	sdr_xmldsig_report(v, result);
	g_free(result->digest_algorithm);
	result->digest_algorithm = g_strdup(v->digest_name);
	if (v->cert != NULL) {
		X509_up_ref(v->cert);
		result->signer = v->cert;
	}
	for (guint i = 0; i < v->certs->len; i++) {
		X509 *c = g_ptr_array_index(v->certs, i);

		X509_up_ref(c);
		g_ptr_array_add(untrusted, c);
	}

	describe_packaging(v, signature, result);
	qp = find_qualifying_properties(signature, &ns);
	if (qp == NULL) {
		g_free(result->format);
		result->format = g_strdup("XMLDSig");
		sdr_signature_result_warn(result, SDR_REASON_FORMAT,
		                          _("Plain XML signature without XAdES properties (not "
		                            "baseline)"));
		for (guint i = 0; i < v->references->len; i++) {
			SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

			if (g_strcmp0(r->type, SDR_XADES_SIGNED_PROPERTIES_TYPE) == 0 &&
			    r->status == SDR_DSIG_REF_OK)
				sdr_signature_result_fail(
				        result, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
				        _("The signed properties are not where the "
				          "signature says"));
		}
		check_wrapping(v, signature, NULL, result, &sp_signed);
		at = options != NULL && options->at != NULL ? options->at : NULL;
		check_chain(v->cert, untrusted, options, at, result);
		return result;
	}
	facts.xades = TRUE;
	facts.baseline_ns = g_str_equal(ns, SDR_XADES_NS_132);
	sp = sdr_xml_first_child(qp, ns, "SignedProperties");
	ssp = sdr_xml_first_child(sp, ns, "SignedSignatureProperties");
	usp = sdr_xml_first_child(sdr_xml_first_child(qp, ns, "UnsignedProperties"), ns,
	                          "UnsignedSignatureProperties");
	{
		g_autofree char *target = sdr_xml_attr(qp, "Target");

		if (target != NULL && result->id != NULL && strcmp(target, result->id) == 0)
			/* "Id" instead of "#Id" (some Czech producers): the
			 * properties are inside this signature anyway. */
			sdr_signature_result_warn(result, SDR_REASON_FORMAT,
			                          _("QualifyingProperties/@Target lacks the '#' "
			                            "of a same-document reference"));
		else if (target == NULL || target[0] != '#' || result->id == NULL ||
		         strcmp(target + 1, result->id) != 0)
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
			        _("QualifyingProperties/@Target does not designate "
			          "this signature"));
	}
	check_wrapping(v, signature, sp, result, &sp_signed);
	if (sp == NULL || !sp_signed) {
		gboolean sp_broken = FALSE, unchecked = FALSE;

		for (guint i = 0; i < v->references->len; i++) {
			SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

			sp_broken |= r->target == sp && sp != NULL && r->status != SDR_DSIG_REF_OK;
			unchecked |= r->status == SDR_DSIG_REF_UNSUPPORTED;
		}
		if (!sp_broken && unchecked && sp != NULL)
			/* A reference we could not process (unsupported transform,
			 * over the reference cap) may be the one covering them. */
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INDETERMINATE, SDR_REASON_FORMAT,
			        _("The signed properties may be covered by a reference that "
			          "could not be checked"));
		else if (!sp_broken)
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INVALID, SDR_REASON_FORMAT,
			        _("The signed properties are missing or not covered "
			          "by the signature"));
	}

	/* SigningTime */
	{
		g_autofree char *st = sdr_xml_text(sdr_xml_first_child(ssp, ns, "SigningTime"));

		if (st != NULL)
			result->claimed_signing_time = sdr_time_parse_iso8601(st);
	}
	{
		gboolean is_v2 = FALSE, dof_ok = FALSE;
		guint nsc = 0;
		xmlNode *si = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignedInfo");
		guint nrefs = sdr_xml_count_children(si, SDR_DSIG_NS, "Reference");
		guint nsp_refs = 0;

		if (v->cert != NULL && ssp != NULL)
			check_signing_certificate(ssp, ns, v, result, &is_v2, &nsc);
		else if (ssp == NULL)
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_SIGNING_CERT_REF,
			                          _("The signature does not identify its signing "
			                            "certificate"));
		check_data_object_formats(sp, ns, v, result, &dof_ok);
		for (guint i = 0; i < v->references->len; i++) {
			SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

			nsp_refs += g_strcmp0(r->type, SDR_XADES_SIGNED_PROPERTIES_TYPE) == 0;
		}
		facts.b_ok = facts.baseline_ns && result->claimed_signing_time != NULL &&
		             sdr_xml_count_children(ssp, ns, "SigningTime") == 1 && nsc == 1 &&
		             dof_ok && nrefs >= 2 && nsp_refs == 1 &&
		             sdr_xml_count_children(signature, SDR_DSIG_NS, "KeyInfo") == 1 &&
		             v->certs->len > 0 &&
		             sdr_xml_first_child(usp, ns, "ArchiveTimeStamp") == NULL;
		if (usp != NULL) {
			/* A trusted archive timestamp proves the signature timestamps existed
			 * at its time: their TSA is judged then; else at --at (or now). */
			ats_poe = facts.baseline_ns
			                  ? check_archive_timestamps(signature, usp, ns, base_dir,
			                                             options, result)
			                  : NULL;
			check_timestamps(signature, usp, ns, options,
			                 ats_poe != NULL   ? ats_poe
			                 : options != NULL ? options->at
			                                   : NULL,
			                 result, &ts);
			facts.ts_valid = ts.valid;
			collect_encapsulated_certs(usp, ns, untrusted);
			facts.has_values =
			        sdr_xml_first_child(usp, ns, "CertificateValues") != NULL ||
			        sdr_xml_first_child(usp, ns, "RevocationValues") != NULL;
			facts.has_xl_leftovers =
			        sdr_xml_first_child(usp, ns, "CompleteCertificateRefs") != NULL ||
			        sdr_xml_first_child(usp, ns, "CompleteCertificateRefsV2") != NULL ||
			        sdr_xml_first_child(usp, ns, "CompleteRevocationRefs") != NULL ||
			        sdr_xml_first_child(usp, ns, "SigAndRefsTimeStamp") != NULL ||
			        sdr_xml_first_child(usp, ns, "SigAndRefsTimeStampV2") != NULL ||
			        sdr_xml_first_child(usp, ns, "RefsOnlyTimeStamp") != NULL ||
			        sdr_xml_first_child(usp, ns, "RefsOnlyTimeStampV2") != NULL;
			facts.has_lta = ats_poe != NULL;
		}
	}

	/* Chain and revocation at the best known time. --at is the validation time: a
	 * signature timestamp whose TSA is trusted then (or at a trusted archive timestamp's
	 * time) moves the check to its own time. Without --at: the timestamp, else the
	 * claimed signing time. */
	if (options != NULL && options->at != NULL)
		at = ts.trusted_time != NULL ? ts.trusted_time : options->at;
	else
		at = result->timestamp_time != NULL ? result->timestamp_time
		                                    : result->claimed_signing_time;
	anchored = check_chain(v->cert, untrusted, options, at, result);
	check_signer_revocation(usp, ns, v->cert, untrusted, options, at, anchored, result);
	if (result->timestamp_time != NULL && v->cert != NULL) {
		g_autoptr(GDateTime) not_after = sdr_time_from_asn1(X509_get0_notAfter(v->cert));

		if (not_after != NULL && g_date_time_compare(result->timestamp_time, not_after) > 0)
			sdr_signature_result_fail(
			        result, SDR_VERDICT_INDETERMINATE, SDR_REASON_CERT_EXPIRED,
			        _("The signature was timestamped after the signing "
			          "certificate expired"));
	}

	/* Level */
	if (!facts.baseline_ns) {
		sdr_signature_result_warn(result, SDR_REASON_FORMAT,
		                          _("XAdES namespace %s: not a baseline signature"), ns);
		result->level = SDR_LEVEL_NONE;
	} else if (!facts.b_ok) {
		result->level = SDR_LEVEL_NONE;
		sdr_signature_result_warn(result, SDR_REASON_FORMAT,
		                          _("The signature does not meet the B-B baseline "
		                            "requirements"));
	} else if (facts.ts_valid == 0) {
		result->level = SDR_LEVEL_B_B;
	} else if (!facts.has_values || facts.has_xl_leftovers) {
		result->level = SDR_LEVEL_B_T;
	} else if (!facts.has_lta) {
		result->level = SDR_LEVEL_B_LT;
	} else {
		result->level = SDR_LEVEL_B_LTA;
	}
	ts_facts_clear(&ts);
	return result;
}

/* ---- Documents -------------------------------------------------------------------- */

static void
collect_signatures(xmlNode *root, GPtrArray *out)
{
	xmlNode *cur = root;

	while (cur != NULL) {
		gboolean sig = sdr_xml_is(cur, SDR_DSIG_NS, "Signature");

		if (sig && out->len < MAX_SIGNATURES)
			g_ptr_array_add(out, cur);
		/* do not descend into a signature: nested signatures (counter-signatures)
		 * belong to this one */
		cur = sdr_xml_walk_next(root, cur, !sig);
	}
}

SdrVerifyReport *
sdr_xades_verify_data(GBytes *xml, const char *name, const char *base_dir,
                      const SdrVerifyOptions *options, GError **error)
{
	SdrXmlLimits limits = { SDR_XADES_MAX_XML_SIZE, 0, TRUE };
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GPtrArray) sigs = g_ptr_array_new();
	g_autoptr(GError) id_error = NULL;
	g_autofree char *dup = NULL;
	SdrVerifyReport *report;

	doc = sdr_xml_parse(g_bytes_get_data(xml, NULL), g_bytes_get_size(xml), name, &limits,
	                    error);
	if (doc == NULL)
		return NULL;
	collect_signatures(xmlDocGetRootElement(doc), sigs);
	if (sigs->len == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("%s contains no XML signature"), name != NULL ? name : "XML");
		return NULL;
	}
	report = sdr_verify_report_new(name, "XAdES");
	if (!sdr_xml_register_ids(doc, NULL, "Id", &dup, &id_error)) {
		/* Duplicate Ids: references cannot be trusted to resolve to what the
		 * document shows. */
		for (guint i = 0; i < sigs->len; i++) {
			SdrSignatureResult *r = sdr_signature_result_new("XAdES");

			r->id = sdr_xml_attr(g_ptr_array_index(sigs, i), "Id");
			sdr_signature_result_fail(r, SDR_VERDICT_INVALID, SDR_REASON_WRAPPING, "%s",
			                          id_error->message);
			g_ptr_array_add(report->signatures, r);
		}
		return report;
	}
	for (guint i = 0; i < sigs->len; i++)
		g_ptr_array_add(
		        report->signatures,
		        sdr_xades_verify_signature(g_ptr_array_index(sigs, i), base_dir, options));
	return report;
}

SdrVerifyReport *
sdr_xades_verify_file(const char *path, const SdrVerifyOptions *options, GError **error)
{
	g_autoptr(GBytes) data = sdr_file_read(path, SDR_XADES_MAX_XML_SIZE, error);
	g_autofree char *dir = NULL;
	SdrVerifyReport *report;

	if (data == NULL)
		return NULL;
	dir = g_path_get_dirname(path);
	report = sdr_xades_verify_data(data, path, dir, options, error);
	return report;
}
