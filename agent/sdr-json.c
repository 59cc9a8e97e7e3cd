/* sdr-json.c - certificates, tokens and verification reports as JSON. */
#include "sdr-json.h"

#include "sdr-error.h"
#include "sdr-report.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <string.h>

#include <openssl/x509v3.h>

/* The member if it holds a value of that type, else NULL. */
static JsonNode *
value_member(JsonObject *obj, const char *member, GType type)
{
	JsonNode *n = obj != NULL ? json_object_get_member(obj, member) : NULL;

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != type)
		return NULL;
	return n;
}

const char *
sdr_json_get_string(JsonObject *obj, const char *member, const char *fallback)
{
	JsonNode *n = value_member(obj, member, G_TYPE_STRING);

	if (n == NULL)
		return fallback;
	return json_node_get_string(n);
}

gboolean
sdr_json_get_bool(JsonObject *obj, const char *member, gboolean fallback)
{
	JsonNode *n = value_member(obj, member, G_TYPE_BOOLEAN);

	if (n == NULL)
		return fallback;
	return json_node_get_boolean(n);
}

gint64
sdr_json_get_int(JsonObject *obj, const char *member, gint64 fallback)
{
	JsonNode *n = value_member(obj, member, G_TYPE_INT64);

	if (n == NULL)
		return fallback;
	return json_node_get_int(n);
}

static void
set_opt_string(JsonObject *o, const char *member, const char *value)
{
	if (value != NULL)
		json_object_set_string_member(o, member, value);
	else
		json_object_set_null_member(o, member);
}

static void
set_time(JsonObject *o, const char *member, GDateTime *t)
{
	g_autofree char *s = t != NULL ? sdr_time_to_iso8601(t) : NULL;

	set_opt_string(o, member, s);
}

static JsonArray *
strv_array(char **v)
{
	JsonArray *a = json_array_new();

	for (gsize i = 0; v != NULL && v[i] != NULL; i++)
		json_array_add_string_element(a, v[i]);
	return a;
}

static JsonArray *
key_usage_array(guint ku)
{
	static const struct {
		guint bit;
		const char *name;
	} names[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
	};
	JsonArray *a = json_array_new();

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		if (ku & names[i].bit)
			json_array_add_string_element(a, names[i].name);
	}
	return a;
}

static const char *
key_type_name(const SdrCertInfo *cert)
{
	switch (cert->key_scheme) {
	case SDR_SIG_ECDSA:
		return "EC";
	case SDR_SIG_RSA_PKCS1:
	case SDR_SIG_RSA_PSS:
	default:
		return "RSA";
	}
}

JsonObject *
sdr_json_from_cert(const SdrCertInfo *cert, GDateTime *now)
{
	JsonObject *o = json_object_new();
	JsonArray *usage = json_array_new();
	g_autoptr(GDateTime) owned_now = NULL;
	gint64 days_left = 0;
	gboolean expired = TRUE;
	gboolean not_yet_valid = FALSE;

	if (now == NULL) {
		owned_now = sdr_time_now();
		now = owned_now;
	}
	if (cert->not_after != NULL) {
		days_left = sdr_time_days_left(cert->not_after, now);
		expired = g_date_time_compare(cert->not_after, now) < 0;
	}
	/* Valid from a future date: not expired, not usable yet either. */
	if (cert->not_before != NULL && g_date_time_compare(cert->not_before, now) > 0)
		not_yet_valid = TRUE;
	set_opt_string(o, "id", cert->id);
	set_opt_string(o, "token_label", cert->token != NULL ? cert->token->label : NULL);
	set_opt_string(o, "subject_cn", cert->subject_cn);
	set_opt_string(o, "organization", cert->organization);
	set_opt_string(o, "organizational_unit", cert->organizational_unit);
	set_opt_string(o, "subject_serial_number", cert->subject_serial_number);
	set_opt_string(o, "subject_dn", cert->subject_dn);
	set_opt_string(o, "issuer_cn", cert->issuer_cn);
	set_opt_string(o, "issuer_dn", cert->issuer_dn);
	set_opt_string(o, "serial", cert->serial_hex);
	set_time(o, "not_before", cert->not_before);
	set_time(o, "not_after", cert->not_after);
	json_object_set_int_member(o, "days_left", days_left);
	if (cert->usage & SDR_CERT_USAGE_SIGNATURE)
		json_array_add_string_element(usage, "signature");
	if (cert->usage & SDR_CERT_USAGE_AUTHENTICATION)
		json_array_add_string_element(usage, "authentication");
	json_object_set_array_member(o, "usage", usage);
	json_object_set_boolean_member(o, "expired", expired);
	json_object_set_boolean_member(o, "not_yet_valid", not_yet_valid);
	json_object_set_boolean_member(o, "has_private_key", cert->has_private_key);
	json_object_set_string_member(o, "key_type", key_type_name(cert));
	json_object_set_int_member(o, "key_bits", cert->key_bits);
	json_object_set_array_member(o, "key_usage", key_usage_array(cert->key_usage_bits));
	json_object_set_array_member(o, "extended_key_usage", strv_array(cert->extended_key_usage));
	json_object_set_array_member(o, "policies", strv_array(cert->policies));
	if (cert->token != NULL)
		set_opt_string(o, "module", cert->token->module_path);
	return o;
}

JsonObject *
sdr_json_from_token(const SdrTokenInfo *t)
{
	JsonObject *o = json_object_new();

	set_opt_string(o, "label", t->label);
	set_opt_string(o, "manufacturer", t->manufacturer);
	set_opt_string(o, "model", t->model);
	set_opt_string(o, "serial", t->serial);
	set_opt_string(o, "module", t->module_path);
	json_object_set_int_member(o, "slot_id", (gint64)t->slot_id);
	set_opt_string(o, "slot_description", t->slot_description);
	json_object_set_boolean_member(o, "login_required", t->login_required);
	json_object_set_boolean_member(o, "protected_auth_path", t->protected_auth_path);
	json_object_set_boolean_member(o, "pin_count_low", t->pin_count_low);
	json_object_set_boolean_member(o, "pin_final_try", t->pin_final_try);
	json_object_set_boolean_member(o, "pin_locked", t->pin_locked);
	json_object_set_boolean_member(o, "pin_to_be_changed", t->pin_to_be_changed);
	return o;
}

const char *
sdr_json_verdict_name(SdrVerdict verdict)
{
	switch (verdict) {
	case SDR_VERDICT_VALID:
		return "VALID";
	case SDR_VERDICT_INVALID:
		return "INVALID";
	case SDR_VERDICT_INDETERMINATE:
	default:
		return "INDETERMINATE";
	}
}

static JsonArray *
reasons_array(GPtrArray *reasons)
{
	JsonArray *a = json_array_new();

	for (guint i = 0; reasons != NULL && i < reasons->len; i++) {
		const SdrReason *r = g_ptr_array_index(reasons, i);
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "code", sdr_reason_code_name(r->code));
		set_opt_string(o, "message", r->message);
		json_array_add_object_element(a, o);
	}
	return a;
}

static char *
name_entry(X509_NAME *name, int nid)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	char *out;
	int len;

	if (i < 0)
		return NULL;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (len < 0)
		return NULL;
	out = g_strndup((const char *)utf8, (gsize)len);
	OPENSSL_free(utf8);
	return out;
}

static JsonObject *
signer_object(X509 *cert)
{
	JsonObject *o = json_object_new();
	g_autofree char *cn = name_entry(X509_get_subject_name(cert), NID_commonName);
	g_autofree char *org = name_entry(X509_get_subject_name(cert), NID_organizationName);
	g_autofree char *icn = name_entry(X509_get_issuer_name(cert), NID_commonName);
	/* the certificate policies for people (RGS, ETSI...), as the HTML report */
	g_autofree char *category = sdr_report_certificate_category(cert);
	g_autoptr(GDateTime) nb = sdr_time_from_asn1(X509_get0_notBefore(cert));
	g_autoptr(GDateTime) na = sdr_time_from_asn1(X509_get0_notAfter(cert));
	char *dn = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;

	set_opt_string(o, "subject_cn", cn);
	set_opt_string(o, "organization", org);
	set_opt_string(o, "issuer_cn", icn);
	set_opt_string(o, "category", category);
	set_opt_string(o, "subject_dn", dn);
	set_opt_string(o, "serial", serial);
	set_time(o, "not_before", nb);
	set_time(o, "not_after", na);
	OPENSSL_free(dn);
	OPENSSL_free(serial);
	BN_free(bn);
	return o;
}

JsonObject *
sdr_json_from_signature_result(const SdrSignatureResult *r)
{
	JsonObject *o = json_object_new();
	JsonObject *details = json_object_new();

	set_opt_string(o, "format", r->format);
	set_opt_string(o, "id", r->id);
	json_object_set_string_member(o, "verdict", sdr_json_verdict_name(r->verdict));
	json_object_set_array_member(o, "reasons", reasons_array(r->reasons));
	json_object_set_array_member(o, "warnings", reasons_array(r->warnings));
	if (r->signer != NULL)
		json_object_set_object_member(o, "signer", signer_object(r->signer));
	else
		json_object_set_null_member(o, "signer");
	set_time(o, "claimed_time", r->claimed_signing_time);
	set_time(o, "timestamp_time", r->timestamp_time);
	json_object_set_string_member(o, "level", sdr_level_name(r->level));
	set_opt_string(o, "digest_algorithm", r->digest_algorithm);
	if (r->details != NULL) {
		GHashTableIter it;
		gpointer k, v;
		g_autoptr(GList) keys = NULL;

		/* Sorted keys: stable output. */
		g_hash_table_iter_init(&it, r->details);
		while (g_hash_table_iter_next(&it, &k, &v))
			keys = g_list_prepend(keys, k);
		keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
		for (GList *l = keys; l != NULL; l = l->next)
			json_object_set_string_member(details, l->data,
			                              g_hash_table_lookup(r->details, l->data));
	}
	json_object_set_object_member(o, "details", details);
	return o;
}

JsonObject *
sdr_json_from_verify_report(const SdrVerifyReport *report)
{
	JsonObject *o = json_object_new();
	JsonArray *sigs = json_array_new();

	set_opt_string(o, "file", report->file);
	set_opt_string(o, "format", report->format);
	json_object_set_string_member(o, "verdict",
	                              sdr_json_verdict_name(sdr_verify_report_overall(report)));
	for (guint i = 0; report->signatures != NULL && i < report->signatures->len; i++)
		json_array_add_object_element(
		        sigs,
		        sdr_json_from_signature_result(g_ptr_array_index(report->signatures, i)));
	json_object_set_array_member(o, "signatures", sigs);
	json_object_set_array_member(o, "notes", reasons_array(report->notes));
	return o;
}

gboolean
sdr_json_base64_check(const char *text, gboolean line_breaks, guint64 max_decoded,
                      guint64 *decoded_size, GError **error)
{
	gsize len = strlen(text);
	gsize chars = 0, pad = 0;
	guint64 size;

	if (!line_breaks && len / 4 > max_decoded / 3 + 2)
		goto too_large;
	for (gsize i = 0; i < len; i++) {
		char c = text[i];

		if (line_breaks && (c == '\n' || c == '\r'))
			continue;
		if (c == '=') {
			if (++pad > 2)
				goto bad;
		} else if (pad > 0 || (!g_ascii_isalnum(c) && c != '+' && c != '/')) {
			goto bad; /* data after the padding, or outside the alphabet */
		}
		chars++;
	}
	if (chars % 4 != 0)
		goto bad;
	size = (guint64)(chars / 4) * 3 - pad;
	if (size > max_decoded)
		goto too_large;
	if (decoded_size != NULL)
		*decoded_size = size;
	return TRUE;
too_large:
	g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
	            _("A base64 field is larger than allowed"));
	return FALSE;
bad:
	g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Invalid base64 data"));
	return FALSE;
}
