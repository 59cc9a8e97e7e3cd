/* sdr-cert-info.c - the info structs of sdr-token.h (SdrCertInfo, SdrTokenInfo):
 * constructors, copies, destructors; what a user needs to know about a
 * certificate: holder, organisation, issuer, validity, key usages and what the
 * certificate is for (signature, authentication or both). Pure OpenSSL; no token
 * access: sdr-token.c builds on this file, never the other way round.
 */
#include "sdr-token.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <string.h>

#define SDR_CERT_ID_BYTES 16
#define SDR_CERT_TEXT_MAX 4096 /* longest name we decode for display */
#define SDR_CERT_LIST_MAX 64   /* EKU / policy entries we keep */

static char *
name_entry_utf8(const X509_NAME *name, int nid)
{
	int idx;
	const X509_NAME_ENTRY *entry;
	unsigned char *utf8 = NULL;
	int len;
	char *out = NULL;

	if (name == NULL)
		return NULL;
	idx = X509_NAME_get_index_by_NID(name, nid, -1);
	if (idx < 0)
		return NULL;
	entry = X509_NAME_get_entry(name, idx);
	if (entry == NULL)
		return NULL;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	if (len < 0)
		return NULL;
	if (len <= SDR_CERT_TEXT_MAX && g_utf8_validate((const char *)utf8, len, NULL))
		out = g_strndup((const char *)utf8, (gsize)len);
	OPENSSL_free(utf8);
	return out;
}

static char *
name_to_string(const X509_NAME *name)
{
	BIO *bio;
	char *data = NULL;
	long len;
	char *out = NULL;

	if (name == NULL)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len >= 0 && len <= SDR_CERT_TEXT_MAX &&
		    g_utf8_validate(data, (gssize)len, NULL))
			out = g_strndup(data, (gsize)len);
	}
	BIO_free(bio);
	return out;
}

static GDateTime *
asn1_time_to_gdatetime(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return NULL;
	return g_date_time_new_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	                           tm.tm_min, tm.tm_sec);
}

static char *
obj_to_name(const ASN1_OBJECT *obj, gboolean prefer_short_name)
{
	char buf[128];
	int nid = OBJ_obj2nid(obj);

	if (prefer_short_name && nid != NID_undef && OBJ_nid2sn(nid) != NULL)
		return g_strdup(OBJ_nid2sn(nid));
	if (OBJ_obj2txt(buf, sizeof buf, obj, 1) <= 0)
		return NULL;
	return g_strdup(buf);
}

static char **
extended_key_usage(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	GPtrArray *out;
	int n;

	if (eku == NULL)
		return NULL;
	out = g_ptr_array_new();
	n = sk_ASN1_OBJECT_num(eku);
	for (int i = 0; i < n && i < SDR_CERT_LIST_MAX; i++) {
		char *s = obj_to_name(sk_ASN1_OBJECT_value(eku, i), TRUE);
		if (s != NULL)
			g_ptr_array_add(out, s);
	}
	EXTENDED_KEY_USAGE_free(eku);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static char **
policies(X509 *cert)
{
	CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	GPtrArray *out;
	int n;

	if (pols == NULL)
		return NULL;
	out = g_ptr_array_new();
	n = sk_POLICYINFO_num(pols);
	for (int i = 0; i < n && i < SDR_CERT_LIST_MAX; i++) {
		char *s = obj_to_name(sk_POLICYINFO_value(pols, i)->policyid, FALSE);
		if (s != NULL)
			g_ptr_array_add(out, s);
	}
	CERTIFICATEPOLICIES_free(pols);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static gboolean
has_client_auth(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	gboolean found = FALSE;

	if (eku == NULL)
		return FALSE;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && !found; i++)
		found = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == NID_client_auth;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

SdrCertUsage
sdr_cert_usage_from_x509(X509 *cert)
{
	guint usage = 0;
	uint32_t ku;

	g_return_val_if_fail(cert != NULL, 0);
	/* Also caches the extensions that X509_get_key_usage() reads. */
	if (X509_check_purpose(cert, -1, 0) < 0)
		return 0;
	if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) == 0) {
		/* No key usage extension: the key may be used for anything. */
		usage = SDR_CERT_USAGE_SIGNATURE | SDR_CERT_USAGE_AUTHENTICATION;
	} else {
		ku = X509_get_key_usage(cert);
		if (ku & KU_NON_REPUDIATION)
			usage |= SDR_CERT_USAGE_SIGNATURE;
		else if (ku & KU_DIGITAL_SIGNATURE)
			usage |= SDR_CERT_USAGE_AUTHENTICATION;
	}
	if (has_client_auth(cert))
		usage |= SDR_CERT_USAGE_AUTHENTICATION;
	return (SdrCertUsage)usage;
}

static char *
cert_id(X509 *cert)
{
	unsigned char *der = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int len = i2d_X509(cert, &der);
	char *out = NULL;

	if (len <= 0)
		return NULL;
	if (EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL) == 1 &&
	    md_len >= SDR_CERT_ID_BYTES) {
		out = g_malloc(SDR_CERT_ID_BYTES * 2 + 1);
		for (gsize i = 0; i < SDR_CERT_ID_BYTES; i++)
			g_snprintf(out + 2 * i, 3, "%02x", md[i]);
	}
	OPENSSL_free(der);
	return out;
}

SdrCertInfo *
sdr_cert_info_new_from_x509(X509 *cert)
{
	SdrCertInfo *info;
	const X509_NAME *subject, *issuer;
	BIGNUM *bn;
	EVP_PKEY *pkey;

	g_return_val_if_fail(cert != NULL, NULL);

	info = g_new0(SdrCertInfo, 1);
	info->id = cert_id(cert);
	if (info->id == NULL) {
		g_free(info);
		return NULL;
	}
	X509_up_ref(cert);
	info->cert = cert;

	subject = X509_get_subject_name(cert);
	issuer = X509_get_issuer_name(cert);
	info->subject_cn = name_entry_utf8(subject, NID_commonName);
	info->organization = name_entry_utf8(subject, NID_organizationName);
	info->organizational_unit = name_entry_utf8(subject, NID_organizationalUnitName);
	info->subject_serial_number = name_entry_utf8(subject, NID_serialNumber);
	info->issuer_cn = name_entry_utf8(issuer, NID_commonName);
	info->issuer_dn = name_to_string(issuer);
	info->subject_dn = name_to_string(subject);

	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn != NULL) {
		char *hex = BN_bn2hex(bn);
		if (hex != NULL)
			info->serial_hex = g_ascii_strup(hex, -1);
		OPENSSL_free(hex);
		BN_free(bn);
	}

	info->not_before = asn1_time_to_gdatetime(X509_get0_notBefore(cert));
	info->not_after = asn1_time_to_gdatetime(X509_get0_notAfter(cert));

	info->usage = sdr_cert_usage_from_x509(cert);
	info->key_usage_bits = X509_get_key_usage(cert);
	info->extended_key_usage = extended_key_usage(cert);
	info->policies = policies(cert);

	pkey = X509_get0_pubkey(cert);
	if (pkey != NULL) {
		info->key_bits = (guint)MAX(EVP_PKEY_get_bits(pkey), 0);
		info->key_scheme = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC ? SDR_SIG_ECDSA
		                                                             : SDR_SIG_RSA_PKCS1;
	}
	return info;
}

SdrCertInfo *
sdr_cert_info_copy(const SdrCertInfo *src)
{
	SdrCertInfo *info;

	if (src == NULL || src->cert == NULL)
		return NULL;
	info = sdr_cert_info_new_from_x509(src->cert);
	if (info == NULL)
		return NULL;
	info->token = sdr_token_info_copy(src->token);
	info->cka_id = src->cka_id != NULL ? g_bytes_ref(src->cka_id) : NULL;
	info->cka_label = g_strdup(src->cka_label);
	info->has_private_key = src->has_private_key;
	return info;
}

void
sdr_cert_info_free(SdrCertInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->id);
	sdr_token_info_free(info->token);
	X509_free(info->cert);
	g_clear_pointer(&info->cka_id, g_bytes_unref);
	g_free(info->cka_label);
	g_free(info->subject_cn);
	g_free(info->organization);
	g_free(info->organizational_unit);
	g_free(info->subject_serial_number);
	g_free(info->issuer_cn);
	g_free(info->issuer_dn);
	g_free(info->subject_dn);
	g_free(info->serial_hex);
	g_clear_pointer(&info->not_before, g_date_time_unref);
	g_clear_pointer(&info->not_after, g_date_time_unref);
	g_strfreev(info->extended_key_usage);
	g_strfreev(info->policies);
	g_free(info);
}

/* ---- SdrTokenInfo ---- */

void
sdr_token_info_free(SdrTokenInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->module_path);
	g_free(info->slot_description);
	g_free(info->label);
	g_free(info->manufacturer);
	g_free(info->model);
	g_free(info->serial);
	g_free(info);
}

SdrTokenInfo *
sdr_token_info_copy(const SdrTokenInfo *src)
{
	SdrTokenInfo *info;

	if (src == NULL)
		return NULL;
	info = g_memdup2(src, sizeof *src);
	info->module_path = g_strdup(src->module_path);
	info->slot_description = g_strdup(src->slot_description);
	info->label = g_strdup(src->label);
	info->manufacturer = g_strdup(src->manufacturer);
	info->model = g_strdup(src->model);
	info->serial = g_strdup(src->serial);
	return info;
}
