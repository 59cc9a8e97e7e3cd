/* sdr-report.c - French HTML verification report. */
#include "sdr-report.h"

#include "sdr-config-build.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-time.h"
#include "sdr-xml.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <string.h>

static void
esc(GString *s, const char *text)
{
	sdr_xml_append_escaped(s, text, SDR_XML_ESCAPE_APOS);
}

/* Text that is valid UTF-8 (certificate fields can be anything). */
static char *
safe_utf8(const char *text)
{
	return text != NULL ? g_utf8_make_valid(text, -1) : NULL;
}

static char *
name_entry(const X509_NAME *name, int nid)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	ASN1_STRING *data;
	unsigned char *utf8 = NULL;
	int len;
	char *out;

	if (i < 0)
		return NULL;
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	len = ASN1_STRING_to_UTF8(&utf8, data);
	if (len < 0)
		return NULL;
	out = g_strndup((const char *)utf8, (gsize)len);
	OPENSSL_free(utf8);
	return out;
}

static char *
name_oneline(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	char *out;

	if (bio == NULL)
		return NULL;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(bio, &p);
	out = g_strndup(p, (gsize)MAX(n, 0));
	BIO_free(bio);
	return out;
}

static char *
format_time(GDateTime *t)
{
	g_autoptr(GDateTime) utc = NULL;

	if (t == NULL)
		return NULL;
	utc = g_date_time_to_utc(t);
	/* TRANSLATORS: a strftime date and time format (UTC) */
	return g_date_time_format(utc, _("%Y-%m-%d %H:%M:%S UTC"));
}

static char *
format_asn1(const ASN1_TIME *t)
{
	g_autoptr(GDateTime) d = sdr_time_from_asn1(t);

	return format_time(d);
}

/* Certificate policy identifiers whose meaning is public: the ETSI policies of
 * EN 319 411-2 (qualified certificates, itu-t(0) identified-organization(4) etsi(0)
 * qualified-certificate-policies(194112) policy-identifiers(1)) and EN 319 411-1
 * (other-certificate-policies(2042)), and RFC 5280's anyPolicy. The French arc
 * 1.2.250.1 is every registered French organisation's (a certification authority's
 * own policy is not an RGS level by itself): only the ANSSI's branch 1.2.250.1.223 is
 * named, by its owner. Anything else is shown as its number. */
static const struct {
	const char *oid;
	const char *text;
} known_policies[] = {
	{ "0.4.0.194112.1.0", N_("QCP-n: qualified certificate for a natural person") },
	{ "0.4.0.194112.1.1", N_("QCP-l: qualified certificate for a legal person") },
	{ "0.4.0.194112.1.2",
	  N_("QCP-n-qscd: qualified certificate for a natural person, key in a qualified "
	     "device") },
	{ "0.4.0.194112.1.3",
	  N_("QCP-l-qscd: qualified certificate for a legal person, key in a qualified "
	     "device") },
	{ "0.4.0.194112.1.4", N_("QCP-w: qualified website authentication certificate") },
	{ "0.4.0.2042.1.1", N_("NCP: normalized certificate policy (ETSI)") },
	{ "0.4.0.2042.1.2", N_("NCP+: normalized certificate policy, key in a secure device "
	                       "(ETSI)") },
	{ "0.4.0.2042.1.3", N_("LCP: lightweight certificate policy (ETSI)") },
	{ "2.5.29.32.0", N_("any policy") },
};

char *
sdr_report_policy_text(const char *oid)
{
	g_return_val_if_fail(oid != NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(known_policies); i++)
		if (g_str_equal(oid, known_policies[i].oid))
			return g_strdup_printf("%s (%s)", _(known_policies[i].text), oid);
	if (g_str_has_prefix(oid, "1.2.250.1.223."))
		return g_strdup_printf(_("policy of the ANSSI %s"), oid);
	return g_strdup_printf(_("policy %s"), oid);
}

char *
sdr_report_certificate_category(X509 *cert)
{
	CERTIFICATEPOLICIES *pols;
	GString *s = g_string_new(NULL);
	gboolean qc;

	g_return_val_if_fail(cert != NULL, NULL);
	qc = X509_get_ext_by_NID(cert, NID_qcStatements, -1) >= 0;
	if (qc)
		g_string_append(s, _("Qualified certificate (eIDAS)"));
	pols = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	for (int i = 0; pols != NULL && i < MIN(sk_POLICYINFO_num(pols), 16); i++) {
		POLICYINFO *pi = sk_POLICYINFO_value(pols, i);
		g_autofree char *text = NULL;
		char oid[128];
		int n = OBJ_obj2txt(oid, sizeof(oid), pi->policyid, 1);

		if (n <= 0 || n >= (int)sizeof(oid))
			continue;
		text = sdr_report_policy_text(oid);
		if (s->len > 0)
			g_string_append(s, " ; ");
		g_string_append(s, text);
	}
	CERTIFICATEPOLICIES_free(pols);
	ERR_clear_error();
	if (s->len == 0)
		g_string_append(s, _("not stated by the certificate"));
	return g_string_free(s, FALSE);
}

static gboolean
has_reason(const SdrSignatureResult *r, SdrReasonCode code)
{
	for (guint i = 0; i < r->reasons->len; i++) {
		const SdrReason *reason = g_ptr_array_index(r->reasons, i);

		if (reason->code == code)
			return TRUE;
	}
	return FALSE;
}

static const char *
verdict_text(SdrVerdict v)
{
	switch (v) {
	case SDR_VERDICT_VALID:
		return _("Valid signature");
	case SDR_VERDICT_INVALID:
		return _("Invalid signature");
	default:
		return _("Indeterminate: the signature could not be fully checked");
	}
}

static const char *
verdict_class(SdrVerdict v)
{
	return v == SDR_VERDICT_VALID ? "ok" : v == SDR_VERDICT_INVALID ? "ko" : "ind";
}

static void
row(GString *s, const char *label, const char *value)
{
	g_string_append(s, "<tr><th>");
	esc(s, label);
	g_string_append(s, "</th><td>");
	if (value != NULL && *value != 0)
		esc(s, value);
	else
		esc(s, _("not available"));
	g_string_append(s, "</td></tr>\n");
}

static void
reasons_list(GString *s, GPtrArray *reasons)
{
	if (reasons == NULL || reasons->len == 0)
		return;
	g_string_append(s, "<ul>\n");
	for (guint i = 0; i < reasons->len; i++) {
		const SdrReason *r = g_ptr_array_index(reasons, i);
		g_autofree char *m = safe_utf8(r->message);

		g_string_append(s, "<li>");
		esc(s, m);
		g_string_append(s, " <code>");
		esc(s, sdr_reason_code_name(r->code));
		g_string_append(s, "</code></li>\n");
	}
	g_string_append(s, "</ul>\n");
}

/* long: one HTML table of a signature, row after row in the order of the report. */
static void
signature_section(GString *s, const SdrSignatureResult *r, guint n)
{
	X509 *cert = r->signer;
	g_autofree char *signer = NULL;
	g_autofree char *org = NULL;
	g_autofree char *issuer = NULL;
	g_autofree char *validity = NULL;
	g_autofree char *cat = NULL;
	g_autofree char *when = format_time(r->claimed_signing_time);
	g_autofree char *ts = format_time(r->timestamp_time);
	g_autofree char *fmt = NULL;
	g_autofree char *title = NULL;
	g_autofree char *id = safe_utf8(r->id);
	const char *integrity;
	const char *at_signing;

	if (cert != NULL) {
		g_autofree char *cn = name_entry(X509_get_subject_name(cert), NID_commonName);
		g_autofree char *icn = name_entry(X509_get_issuer_name(cert), NID_commonName);
		g_autofree char *io = name_entry(X509_get_issuer_name(cert), NID_organizationName);
		g_autofree char *nb = format_asn1(X509_get0_notBefore(cert));
		g_autofree char *na = format_asn1(X509_get0_notAfter(cert));
		g_autofree char *full = name_oneline(X509_get_subject_name(cert));
		g_autofree char *raw_signer =
		        cn != NULL ? g_steal_pointer(&cn) : g_steal_pointer(&full);
		g_autofree char *raw_issuer =
		        io != NULL ? g_strdup_printf("%s (%s)", icn != NULL ? icn : "?", io)
		                   : g_strdup(icn);

		signer = safe_utf8(raw_signer);
		org = name_entry(X509_get_subject_name(cert), NID_organizationName);
		issuer = safe_utf8(raw_issuer);
		validity = g_strdup_printf(_("from %s to %s"), nb != NULL ? nb : "?",
		                           na != NULL ? na : "?");
		cat = sdr_report_certificate_category(cert);
	}
	fmt = r->level != SDR_LEVEL_NONE
	              ? g_strdup_printf("%s (%s)", r->format, sdr_level_name(r->level))
	              : g_strdup(r->format);

	if (has_reason(r, SDR_REASON_DIGEST_MISMATCH) ||
	    has_reason(r, SDR_REASON_SIGNATURE_VALUE) || has_reason(r, SDR_REASON_MODIFIED_AFTER) ||
	    has_reason(r, SDR_REASON_BYTERANGE))
		integrity = _("No: the document was modified after it was signed");
	else if (has_reason(r, SDR_REASON_FORMAT) || has_reason(r, SDR_REASON_DATA_NOT_FOUND))
		integrity = _("Not established (the signature could not be checked)");
	else
		integrity = _("Yes: the document is the one that was signed");

	if (has_reason(r, SDR_REASON_CERT_REVOKED))
		at_signing = _("No: the certificate is revoked");
	else if (has_reason(r, SDR_REASON_CERT_EXPIRED))
		at_signing = _("No: the certificate was not valid at the signing time");
	else if (has_reason(r, SDR_REASON_CHAIN_NOT_TRUSTED))
		at_signing = _("Not established: the certificate does not chain to a trusted "
		               "authority");
	else if (has_reason(r, SDR_REASON_REVOCATION_UNKNOWN))
		at_signing = _("Not established: no revocation information");
	else if (cert != NULL && r->verdict == SDR_VERDICT_VALID)
		at_signing = _("Yes");
	else
		at_signing = _("Not established");

	title = g_strdup_printf(_("Signature %u"), n);
	g_string_append_printf(s, "<section class=\"sig %s\">\n<h3>", verdict_class(r->verdict));
	esc(s, title);
	if (id != NULL && *id != 0) {
		g_string_append(s, " — ");
		esc(s, id);
	}
	g_string_append(s, "</h3>\n<p class=\"verdict\">");
	esc(s, verdict_text(r->verdict));
	g_string_append(s, "</p>\n<table>\n");
	{
		g_autofree char *who = org != NULL && signer != NULL
		                               ? g_strdup_printf("%s, %s", signer, org)
		                               : g_strdup(signer);
		g_autofree char *safe_who = safe_utf8(who);

		row(s, _("Signed by"), safe_who);
	}
	row(s, _("Signing time (declared by the signer)"), when);
	if (ts != NULL)
		row(s, _("Timestamp (trusted time)"), ts);
	row(s, _("Certificate issuer"), issuer);
	row(s, _("Certificate category"), cat);
	row(s, _("Certificate validity"), validity);
	row(s, _("Signature format"), fmt);
	row(s, _("Digest algorithm"), r->digest_algorithm);
	row(s, _("Integrity of the document"), integrity);
	row(s, _("Certificate valid at signing time"), at_signing);
	if (r->details != NULL) {
		const char *keys[][2] = { { "bordereau", N_("Bordereau") },
			                  { "role", N_("Role claimed by the signer") },
			                  { "city", N_("Place of signing") },
			                  { "policy", N_("Signature policy") },
			                  { "qualification", N_("Qualification (trusted lists)") },
			                  { "qualification_tsp", N_("Trust service provider") },
			                  { "qualification_service", N_("Trust service") },
			                  { "qualification_status",
			                    N_("Service status at the signing time") },
			                  { "qualification_qualifiers", N_("Qualifiers") } };

		for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
			const char *v = g_hash_table_lookup(r->details, keys[i][0]);
			g_autofree char *sv = safe_utf8(v);

			if (sv != NULL)
				row(s, _(keys[i][1]), sv);
		}
	}
	g_string_append(s, "</table>\n");
	if (r->reasons->len > 0) {
		g_string_append(s, "<h4>");
		esc(s, _("Problems found"));
		g_string_append(s, "</h4>\n");
		reasons_list(s, r->reasons);
	}
	if (r->warnings != NULL && r->warnings->len > 0) {
		g_string_append(s, "<h4>");
		esc(s, _("Remarks"));
		g_string_append(s, "</h4>\n");
		reasons_list(s, r->warnings);
	}
	g_string_append(s, "</section>\n");
}

char *
sdr_report_html(GPtrArray *reports)
{
	GString *s = g_string_new(NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *now_text = format_time(now);
	g_autofree char *generated =
	        g_strdup_printf(_("Report produced on %s by sinadur %s."), now_text, SDR_VERSION);

	g_string_append(s, "<!DOCTYPE html>\n<html lang=\"");
	/* TRANSLATORS: the language code of this translation (<html lang>): "fr" */
	esc(s, C_("html-lang", "en"));
	g_string_append(s, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	                   "'none'; style-src 'unsafe-inline'\">\n<title>");
	esc(s, _("Signature verification report"));
	g_string_append(
	        s, "</title>\n<style>\n"
	           "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}\n"
	           "table{border-collapse:collapse;width:100%}\n"
	           "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
	           "vertical-align:top}\nth{width:35%;background:#f4f4f4}\n"
	           ".sig{border-left:.4em solid #999;padding-left:1em;margin:1.5em 0}\n"
	           ".ok{border-color:#2a7d2a}.ko{border-color:#b00020}.ind{border-color:#c77c00}\n"
	           ".verdict{font-weight:bold}\n</style>\n</head>\n<body>\n<h1>");
	esc(s, _("Signature verification report"));
	g_string_append(s, "</h1>\n<p>");
	esc(s, generated);
	g_string_append(s, "</p>\n<p>");
	esc(s, _("For each file: who signed it, when, with which certificate, in which format, "
	         "whether the document is intact and whether the certificate was valid when it "
	         "was signed."));
	g_string_append(s, "</p>\n");

	for (guint i = 0; reports != NULL && i < reports->len; i++) {
		const SdrVerifyReport *rep = g_ptr_array_index(reports, i);
		g_autofree char *base = g_path_get_basename(rep->file != NULL ? rep->file : "");
		g_autofree char *file = safe_utf8(base);
		g_autofree char *count =
		        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u signature",
		                                    "%u signatures", rep->signatures->len),
		                        rep->signatures->len);
		SdrVerdict overall = sdr_verify_report_overall(rep);

		g_string_append(s, "<article>\n<h2>");
		esc(s, _("File"));
		g_string_append(s, " : ");
		esc(s, file);
		g_string_append(s, "</h2>\n<p>");
		esc(s, rep->format);
		g_string_append(s, " — ");
		esc(s, count);
		g_string_append_printf(s, " — <span class=\"verdict %s\">", verdict_class(overall));
		esc(s, rep->signatures->len == 0 ? _("No signature found") : verdict_text(overall));
		g_string_append(s, "</span></p>\n");
		if (rep->notes != NULL && rep->notes->len > 0)
			reasons_list(s, rep->notes);
		for (guint j = 0; j < rep->signatures->len; j++)
			signature_section(s, g_ptr_array_index(rep->signatures, j), j + 1);
		g_string_append(s, "</article>\n");
	}
	g_string_append(s, "</body>\n</html>\n");
	return g_string_free(s, FALSE);
}

gboolean
sdr_report_write_html(GPtrArray *reports, const char *path, GError **error)
{
	g_autofree char *html = sdr_report_html(reports);

	return sdr_file_write_atomic(path, html, strlen(html), error);
}
