/* sdr-tl.c - trusted lists (ETSI TS 119 612): parse, check, qualify. */
#include "sdr-tl.h"

#include "sdr-error.h"
#include "sdr-time.h"
#include "sdr-xml.h"
#include "sdr-xmldsig.h"

#include <glib/gi18n-lib.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#define MAX_CERT_DER (64 * 1024)
#define MAX_ITEMS 100000u /* providers, services, certificates per list */

static void
x509_unref(gpointer p)
{
	X509_free(p);
}

const char *
sdr_tl_status_name(SdrTlStatus status)
{
	switch (status) {
	case SDR_TL_TRUSTED:
		return "trusted";
	case SDR_TL_SIGNATURE_INVALID:
		return "signature-invalid";
	case SDR_TL_UNSIGNED:
		return "unsigned";
	case SDR_TL_EXPIRED:
		return "expired";
	case SDR_TL_NOT_CHECKED:
	default:
		return "not-checked";
	}
}

/* ---- Parsing ----------------------------------------------------------------- */

static void
period_free(gpointer p)
{
	SdrTlStatusPeriod *s = p;

	g_free(s->status);
	if (s->start != NULL)
		g_date_time_unref(s->start);
	g_free(s);
}

static void
qelem_free(gpointer p)
{
	SdrTlQualificationElement *q = p;

	g_ptr_array_unref(q->qualifiers);
	g_ptr_array_unref(q->policy_sets);
	g_ptr_array_unref(q->key_usages);
	g_free(q);
}

static void
service_free(gpointer p)
{
	SdrTlService *s = p;

	g_free(s->type);
	g_free(s->name);
	g_ptr_array_unref(s->certs);
	g_free(s->current.status);
	if (s->current.start != NULL)
		g_date_time_unref(s->current.start);
	g_ptr_array_unref(s->history);
	g_ptr_array_unref(s->qualifications);
	g_ptr_array_unref(s->additional);
	g_free(s);
}

static void
provider_free(gpointer p)
{
	SdrTlProvider *t = p;

	g_free(t->name);
	g_ptr_array_unref(t->services);
	g_free(t);
}

static void
pointer_free(gpointer p)
{
	SdrTlPointer *t = p;

	g_free(t->location);
	g_free(t->territory);
	g_free(t->mime);
	g_ptr_array_unref(t->certs);
	g_free(t);
}

void
sdr_tl_free(SdrTl *tl)
{
	if (tl == NULL)
		return;
	g_free(tl->name);
	g_free(tl->territory);
	g_free(tl->type);
	if (tl->issued != NULL)
		g_date_time_unref(tl->issued);
	if (tl->next_update != NULL)
		g_date_time_unref(tl->next_update);
	g_ptr_array_unref(tl->pointers);
	g_ptr_array_unref(tl->providers);
	g_free(tl->status_detail);
	X509_free(tl->signer);
	if (tl->doc != NULL)
		xmlFreeDoc(tl->doc);
	g_free(tl);
}

/* Child element by local name, any namespace (extensions use several). */
static xmlNode *
child(const xmlNode *parent, const char *name)
{
	return parent == NULL ? NULL : sdr_xml_first_child(parent, NULL, name);
}

static xmlNode *
next(const xmlNode *node, const char *name)
{
	return sdr_xml_next_sibling(node, NULL, name);
}

/* Text of the path of local names under parent, NULL when missing. */
static char *
text_at(const xmlNode *parent, const char *a, const char *b)
{
	xmlNode *n = child(parent, a);

	if (b != NULL)
		n = child(n, b);
	return n == NULL ? NULL : sdr_xml_text(n);
}

/* A multilingual name: the xml:lang="fr" one, else "en", else the first. */
static char *
lang_name(const xmlNode *names)
{
	xmlNode *first = NULL, *en = NULL;

	for (xmlNode *n = child(names, "Name"); n != NULL; n = next(n, "Name")) {
		g_autofree char *lang = (char *)xmlNodeGetLang(n);

		if (first == NULL)
			first = n;
		if (lang != NULL && g_ascii_strncasecmp(lang, "fr", 2) == 0)
			return sdr_xml_text(n);
		if (lang != NULL && g_ascii_strncasecmp(lang, "en", 2) == 0 && en == NULL)
			en = n;
	}
	return sdr_xml_text(en != NULL ? en : first);
}

static GDateTime *
time_at(const xmlNode *parent, const char *name)
{
	g_autofree char *t = text_at(parent, name, NULL);

	if (t == NULL)
		return NULL;
	/* NextUpdate/dateTime may be xsi:nil: no text. */
	return *t == '\0' ? NULL : g_date_time_new_from_iso8601(t, g_time_zone_new_utc());
}

static const char *
last_segment(const char *uri)
{
	const char *s = strrchr(uri, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : uri;
}

/* ServiceDigitalIdentity (one or several): every X509Certificate. */
static void
read_identities(const xmlNode *sdi_parent, const char *name, GPtrArray *certs)
{
	for (xmlNode *sdi = child(sdi_parent, name); sdi != NULL; sdi = next(sdi, name)) {
		for (xmlNode *d = child(sdi, "DigitalId"); d != NULL; d = next(d, "DigitalId")) {
			g_autofree char *b64 = text_at(d, "X509Certificate", NULL);
			X509 *x;

			if (b64 == NULL || certs->len >= MAX_ITEMS)
				continue;
			x = sdr_xml_base64_decode_cert(b64, MAX_CERT_DER);
			if (x != NULL)
				g_ptr_array_add(certs, x);
		}
	}
}

static SdrTlQualificationElement *
read_qualification(const xmlNode *qe)
{
	SdrTlQualificationElement *q = g_new0(SdrTlQualificationElement, 1);
	xmlNode *crit = child(qe, "CriteriaList");
	g_autofree char *assert_ = crit != NULL ? sdr_xml_attr(crit, "assert") : NULL;

	q->qualifiers = g_ptr_array_new_with_free_func(g_free);
	q->policy_sets = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	q->key_usages = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	for (xmlNode *n = child(child(qe, "Qualifiers"), "Qualifier"); n != NULL;
	     n = next(n, "Qualifier")) {
		g_autofree char *uri = sdr_xml_attr(n, "uri");

		if (uri != NULL)
			g_ptr_array_add(q->qualifiers, g_strdup(last_segment(uri)));
	}
	if (g_strcmp0(assert_, "atLeastOne") == 0)
		q->assert_ = SDR_TL_ASSERT_AT_LEAST_ONE;
	else if (g_strcmp0(assert_, "none") == 0)
		q->assert_ = SDR_TL_ASSERT_NONE;
	else
		q->assert_ = SDR_TL_ASSERT_ALL;
	for (xmlNode *ps = child(crit, "PolicySet"); ps != NULL; ps = next(ps, "PolicySet")) {
		GPtrArray *set = g_ptr_array_new_with_free_func(g_free);

		for (xmlNode *pi = child(ps, "PolicyIdentifier"); pi != NULL;
		     pi = next(pi, "PolicyIdentifier")) {
			char *oid = text_at(pi, "Identifier", NULL);

			if (oid == NULL)
				continue;
			if (g_str_has_prefix(oid, "urn:oid:"))
				memmove(oid, oid + 8, strlen(oid + 8) + 1);
			g_ptr_array_add(set, oid);
		}
		g_ptr_array_add(q->policy_sets, set);
	}
	for (xmlNode *ku = child(crit, "KeyUsage"); ku != NULL; ku = next(ku, "KeyUsage")) {
		GPtrArray *set = g_ptr_array_new_with_free_func(g_free);

		for (xmlNode *b = child(ku, "KeyUsageBit"); b != NULL; b = next(b, "KeyUsageBit")) {
			g_autofree char *name = sdr_xml_attr(b, "name");
			g_autofree char *val = sdr_xml_text(b);

			if (name != NULL)
				g_ptr_array_add(set, g_strdup_printf("%s=%s", name,
				                                     g_strcmp0(val, "true") == 0
				                                             ? "true"
				                                             : "false"));
		}
		g_ptr_array_add(q->key_usages, set);
	}
	return q;
}

static void
read_extensions(const xmlNode *exts, GPtrArray *qualifications, GPtrArray *additional)
{
	for (xmlNode *e = child(exts, "Extension"); e != NULL; e = next(e, "Extension")) {
		xmlNode *quals = child(e, "Qualifications");
		xmlNode *asi = child(e, "AdditionalServiceInformation");

		for (xmlNode *qe = child(quals, "QualificationElement");
		     qe != NULL && qualifications != NULL; qe = next(qe, "QualificationElement"))
			g_ptr_array_add(qualifications, read_qualification(qe));
		if (asi != NULL && additional != NULL) {
			g_autofree char *uri = text_at(asi, "URI", NULL);

			if (uri != NULL)
				g_ptr_array_add(additional, g_strdup(last_segment(uri)));
		}
	}
}

static SdrTlService *
read_service(const xmlNode *svc)
{
	SdrTlService *s = g_new0(SdrTlService, 1);
	xmlNode *info = child(svc, "ServiceInformation");

	s->type = text_at(info, "ServiceTypeIdentifier", NULL);
	s->name = lang_name(child(info, "ServiceName"));
	s->certs = g_ptr_array_new_with_free_func(x509_unref);
	read_identities(info, "ServiceDigitalIdentity", s->certs);
	s->current.status = text_at(info, "ServiceStatus", NULL);
	s->current.start = time_at(info, "StatusStartingTime");
	s->history = g_ptr_array_new_with_free_func(period_free);
	s->qualifications = g_ptr_array_new_with_free_func(qelem_free);
	s->additional = g_ptr_array_new_with_free_func(g_free);
	read_extensions(child(info, "ServiceInformationExtensions"), s->qualifications,
	                s->additional);
	for (xmlNode *h = child(child(svc, "ServiceHistory"), "ServiceHistoryInstance");
	     h != NULL && s->history->len < MAX_ITEMS; h = next(h, "ServiceHistoryInstance")) {
		SdrTlStatusPeriod *p = g_new0(SdrTlStatusPeriod, 1);

		p->status = text_at(h, "ServiceStatus", NULL);
		p->start = time_at(h, "StatusStartingTime");
		g_ptr_array_add(s->history, p);
	}
	return s;
}

SdrTl *
sdr_tl_parse(const guint8 *data, gsize len, const char *name, GError **error)
{
	SdrXmlLimits limits = { .max_size = SDR_TL_MAX_SIZE, .max_depth = 64 };
	g_autoptr(xmlDoc) doc = sdr_xml_parse(data, len, name, &limits, error);
	xmlNode *root, *si;
	g_autoptr(SdrTl) tl = NULL;
	g_autofree char *seq = NULL;

	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (!sdr_xml_is(root, SDR_TL_NS, "TrustServiceStatusList") ||
	    (si = sdr_xml_first_child(root, SDR_TL_NS, "SchemeInformation")) == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("%s is not a trusted list (ETSI TS 119 612)."),
		            name != NULL ? name : _("The document"));
		return NULL;
	}
	tl = g_new0(SdrTl, 1);
	tl->pointers = g_ptr_array_new_with_free_func(pointer_free);
	tl->providers = g_ptr_array_new_with_free_func(provider_free);
	tl->name = lang_name(child(si, "SchemeOperatorName"));
	tl->territory = text_at(si, "SchemeTerritory", NULL);
	tl->type = text_at(si, "TSLType", NULL);
	seq = text_at(si, "TSLSequenceNumber", NULL);
	if (seq != NULL)
		tl->sequence = g_ascii_strtoull(seq, NULL, 10);
	tl->issued = time_at(si, "ListIssueDateTime");
	tl->next_update = time_at(child(si, "NextUpdate"), "dateTime");
	if (tl->issued == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("The trusted list %s has no valid issue date."),
		            name != NULL ? name : "");
		return NULL;
	}
	for (xmlNode *p = child(child(si, "PointersToOtherTSL"), "OtherTSLPointer");
	     p != NULL && tl->pointers->len < MAX_ITEMS; p = next(p, "OtherTSLPointer")) {
		SdrTlPointer *ptr = g_new0(SdrTlPointer, 1);
		xmlNode *ai = child(p, "AdditionalInformation");

		ptr->location = text_at(p, "TSLLocation", NULL);
		ptr->certs = g_ptr_array_new_with_free_func(x509_unref);
		read_identities(child(p, "ServiceDigitalIdentities"), "ServiceDigitalIdentity",
		                ptr->certs);
		for (xmlNode *o = child(ai, "OtherInformation"); o != NULL;
		     o = next(o, "OtherInformation")) {
			if (ptr->territory == NULL)
				ptr->territory = text_at(o, "SchemeTerritory", NULL);
			if (ptr->mime == NULL)
				ptr->mime = text_at(o, "MimeType", NULL);
		}
		g_ptr_array_add(tl->pointers, ptr);
	}
	for (xmlNode *t = child(child(root, "TrustServiceProviderList"), "TrustServiceProvider");
	     t != NULL && tl->providers->len < MAX_ITEMS; t = next(t, "TrustServiceProvider")) {
		SdrTlProvider *prov = g_new0(SdrTlProvider, 1);

		prov->name = lang_name(child(child(t, "TSPInformation"), "TSPName"));
		prov->services = g_ptr_array_new_with_free_func(service_free);
		for (xmlNode *s = child(child(t, "TSPServices"), "TSPService");
		     s != NULL && prov->services->len < MAX_ITEMS; s = next(s, "TSPService"))
			g_ptr_array_add(prov->services, read_service(s));
		g_ptr_array_add(tl->providers, prov);
	}
	tl->doc = g_steal_pointer(&doc);
	return g_steal_pointer(&tl);
}

gboolean
sdr_tl_is_lotl(const SdrTl *tl)
{
	if (tl->type != NULL && g_str_has_suffix(tl->type, "listofthelists"))
		return TRUE;
	return tl->providers->len == 0 && tl->pointers->len > 0;
}

/* ---- Signature check ---------------------------------------------------------- */

static gboolean
dsig_covers_list(const SdrDsigVerification *v, xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	gboolean whole = FALSE;

	for (guint i = 0; i < v->references->len; i++) {
		const SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

		if (r->status != SDR_DSIG_REF_OK)
			return FALSE;
		if (r->target == (xmlNode *)doc || r->target == root)
			whole = TRUE;
	}
	return whole;
}

SdrTlStatus
sdr_tl_check(SdrTl *tl, GPtrArray *signers, GDateTime *now)
{
	xmlDoc *doc = tl->doc;
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *sig = sdr_xml_first_child(root, SDR_DSIG_NS, "Signature");

	g_clear_pointer(&tl->status_detail, g_free);
	g_clear_pointer(&tl->signer, X509_free);
	if (sig == NULL || sdr_xml_next_sibling(sig, SDR_DSIG_NS, "Signature") != NULL) {
		tl->status = SDR_TL_UNSIGNED;
		tl->status_detail =
		        g_strdup(sig == NULL ? _("The trusted list is not signed.")
		                             : _("The trusted list has several signatures."));
		return tl->status;
	}
	if (!sdr_xml_register_ids(doc, NULL, "Id", NULL, NULL)) {
		tl->status = SDR_TL_SIGNATURE_INVALID;
		tl->status_detail = g_strdup(_("The trusted list has duplicate identifiers."));
		return tl->status;
	}
	tl->status = SDR_TL_SIGNATURE_INVALID;
	for (guint i = 0; signers != NULL && i < signers->len; i++) {
		X509 *cert = g_ptr_array_index(signers, i);
		g_autoptr(SdrDsigVerification) v = sdr_xmldsig_verify(sig, cert, NULL, NULL, NULL);

		if (v != NULL && v->signature_value_ok && dsig_covers_list(v, doc)) {
			tl->signer = X509_up_ref(cert) == 1 ? cert : NULL;
			tl->status = SDR_TL_TRUSTED;
			break;
		}
	}
	ERR_clear_error();
	if (tl->status != SDR_TL_TRUSTED) {
		tl->status_detail = g_strdup(
		        _("The signature of the trusted list does not verify with the certificates "
		          "published for it."));
		return tl->status;
	}
	if (tl->next_update == NULL || g_date_time_compare(tl->next_update, now) < 0) {
		tl->status = SDR_TL_EXPIRED;
		tl->status_detail = g_strdup(
		        tl->next_update == NULL
		                ? _("The trusted list is closed (no next update).")
		                : _("The trusted list is out of date (its next update is past)."));
	}
	return tl->status;
}

/* ---- Sets ---------------------------------------------------------------------- */

SdrTlSet *
sdr_tl_set_new(void)
{
	SdrTlSet *set = g_new0(SdrTlSet, 1);

	set->lists = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_tl_free);
	set->anchors = g_ptr_array_new_with_free_func(x509_unref);
	return set;
}

void
sdr_tl_set_free(SdrTlSet *set)
{
	if (set == NULL)
		return;
	g_ptr_array_unref(set->lists);
	g_ptr_array_unref(set->anchors);
	g_free(set);
}

void
sdr_tl_set_add_anchor(SdrTlSet *set, X509 *cert)
{
	if (X509_up_ref(cert) == 1)
		g_ptr_array_add(set->anchors, cert);
}

gboolean
sdr_tl_set_add_list(SdrTlSet *set, const guint8 *data, gsize len, const char *name, GError **error)
{
	SdrTl *tl = sdr_tl_parse(data, len, name, error);

	if (tl == NULL)
		return FALSE;
	g_ptr_array_add(set->lists, tl);
	return TRUE;
}

/* PEM certificates (one or several) or one DER certificate; FALSE when none. */
static gboolean
add_cert_bytes(SdrTlSet *set, const guint8 *data, gsize len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)MIN(len, (gsize)G_MAXINT));
	X509 *x;
	guint n = 0;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		g_ptr_array_add(set->anchors, x);
		n++;
	}
	BIO_free(bio);
	if (n == 0) {
		const unsigned char *p = data;

		x = d2i_X509(NULL, &p, (long)MIN(len, (gsize)G_MAXLONG));
		if (x != NULL) {
			g_ptr_array_add(set->anchors, x);
			n++;
		}
	}
	ERR_clear_error();
	return n > 0;
}

static gboolean
add_file(SdrTlSet *set, const char *path, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	if (len > SDR_TL_MAX_SIZE) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("The trusted list %s is too large."), path);
		return FALSE;
	}
	if (g_str_has_suffix(path, ".xml"))
		return sdr_tl_set_add_list(set, (const guint8 *)data, len, path, error);
	if (add_cert_bytes(set, (const guint8 *)data, len))
		return TRUE;
	return sdr_tl_set_add_list(set, (const guint8 *)data, len, path, error);
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

gboolean
sdr_tl_set_add_files(SdrTlSet *set, const char *const *paths, GError **error)
{
	for (gsize i = 0; paths != NULL && paths[i] != NULL; i++) {
		if (g_file_test(paths[i], G_FILE_TEST_IS_DIR)) {
			g_autoptr(GDir) dir = g_dir_open(paths[i], 0, error);
			g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
			const char *n;

			if (dir == NULL)
				return FALSE;
			while ((n = g_dir_read_name(dir)) != NULL) {
				if (g_str_has_suffix(n, ".xml") || g_str_has_suffix(n, ".pem") ||
				    g_str_has_suffix(n, ".crt") || g_str_has_suffix(n, ".der"))
					g_ptr_array_add(names, g_build_filename(paths[i], n, NULL));
			}
			g_ptr_array_sort(names, cmp_str);
			for (guint j = 0; j < names->len; j++)
				if (!add_file(set, g_ptr_array_index(names, j), error))
					return FALSE;
		} else if (!add_file(set, paths[i], error))
			return FALSE;
	}
	return TRUE;
}

guint
sdr_tl_set_check(SdrTlSet *set, GDateTime *now)
{
	g_autoptr(GPtrArray) published = g_ptr_array_new();
	guint trusted = 0;

	/* LOTLs first, with the configured anchors only. */
	for (guint i = 0; i < set->lists->len; i++) {
		SdrTl *tl = g_ptr_array_index(set->lists, i);

		if (sdr_tl_is_lotl(tl) && sdr_tl_check(tl, set->anchors, now) == SDR_TL_TRUSTED)
			trusted++;
	}
	for (guint i = 0; i < set->lists->len; i++) {
		SdrTl *tl = g_ptr_array_index(set->lists, i);

		if (sdr_tl_is_lotl(tl))
			continue;
		g_ptr_array_set_size(published, 0);
		for (guint j = 0; j < set->anchors->len; j++)
			g_ptr_array_add(published, g_ptr_array_index(set->anchors, j));
		for (guint j = 0; j < set->lists->len; j++) {
			SdrTl *lotl = g_ptr_array_index(set->lists, j);

			if (!sdr_tl_is_lotl(lotl) || lotl->status != SDR_TL_TRUSTED)
				continue;
			for (guint k = 0; k < lotl->pointers->len; k++) {
				SdrTlPointer *p = g_ptr_array_index(lotl->pointers, k);

				if (p->territory != NULL && tl->territory != NULL &&
				    g_ascii_strcasecmp(p->territory, tl->territory) != 0)
					continue;
				for (guint c = 0; c < p->certs->len; c++)
					g_ptr_array_add(published, g_ptr_array_index(p->certs, c));
			}
		}
		if (sdr_tl_check(tl, published, now) == SDR_TL_TRUSTED)
			trusted++;
	}
	return trusted;
}

/* ---- QCStatements ------------------------------------------------------------- */

#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"
#define OID_QC_SSCD "0.4.0.1862.1.4"
#define OID_QC_TYPE "0.4.0.1862.1.6"
#define OID_QC_TYPE_ESIGN "0.4.0.1862.1.6.1"
#define OID_QC_TYPE_ESEAL "0.4.0.1862.1.6.2"
#define OID_QC_TYPE_WEB "0.4.0.1862.1.6.3"

static gboolean
oid_is(const ASN1_OBJECT *obj, const char *oid)
{
	char buf[80];

	return OBJ_obj2txt(buf, sizeof buf, obj, 1) > 0 && strcmp(buf, oid) == 0;
}

static STACK_OF(ASN1_TYPE) * seq_of(const ASN1_TYPE *t)
{
	const unsigned char *p;

	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return NULL;
	p = t->value.sequence->data;
	return d2i_ASN1_SEQUENCE_ANY(NULL, &p, t->value.sequence->length);
}

gboolean
sdr_tl_read_qc_statements(X509 *cert, SdrTlQualification *q)
{
	int idx = X509_get_ext_by_NID(cert, NID_qcStatements, -1);
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *os;
	const unsigned char *p;
	STACK_OF(ASN1_TYPE) * stmts;

	if (idx < 0)
		return TRUE;
	ext = X509_get_ext(cert, idx);
	os = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(os);
	stmts = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(os));
	if (stmts == NULL) {
		ERR_clear_error();
		return FALSE;
	}
	for (int i = 0; i < sk_ASN1_TYPE_num(stmts); i++) {
		STACK_OF(ASN1_TYPE) *st = seq_of(sk_ASN1_TYPE_value(stmts, i));
		ASN1_TYPE *id =
		        st != NULL && sk_ASN1_TYPE_num(st) >= 1 ? sk_ASN1_TYPE_value(st, 0) : NULL;

		if (id != NULL && id->type == V_ASN1_OBJECT) {
			if (oid_is(id->value.object, OID_QC_COMPLIANCE))
				q->qc_compliance = TRUE;
			else if (oid_is(id->value.object, OID_QC_SSCD))
				q->qc_sscd = TRUE;
			else if (oid_is(id->value.object, OID_QC_TYPE) &&
			         sk_ASN1_TYPE_num(st) >= 2) {
				STACK_OF(ASN1_TYPE) *types = seq_of(sk_ASN1_TYPE_value(st, 1));

				for (int j = 0; types != NULL && j < sk_ASN1_TYPE_num(types); j++) {
					ASN1_TYPE *t = sk_ASN1_TYPE_value(types, j);

					if (t->type != V_ASN1_OBJECT)
						continue;
					if (oid_is(t->value.object, OID_QC_TYPE_ESIGN))
						q->qc_type_esign = TRUE;
					else if (oid_is(t->value.object, OID_QC_TYPE_ESEAL))
						q->qc_type_eseal = TRUE;
					else if (oid_is(t->value.object, OID_QC_TYPE_WEB))
						q->qc_type_web = TRUE;
				}
				sk_ASN1_TYPE_pop_free(types, ASN1_TYPE_free);
			}
		}
		sk_ASN1_TYPE_pop_free(st, ASN1_TYPE_free);
	}
	sk_ASN1_TYPE_pop_free(stmts, ASN1_TYPE_free);
	ERR_clear_error();
	return TRUE;
}

/* ---- Qualification ------------------------------------------------------------ */

void
sdr_tl_qualification_free(SdrTlQualification *q)
{
	if (q == NULL)
		return;
	g_free(q->tsp);
	g_free(q->service);
	g_free(q->territory);
	g_free(q->status);
	if (q->status_start != NULL)
		g_date_time_unref(q->status_start);
	g_ptr_array_unref(q->qualifiers);
	if (q->service_cert != NULL)
		X509_free(q->service_cert);
	g_free(q);
}

static gboolean
issued_by(X509 *cert, X509 *ca)
{
	EVP_PKEY *key = X509_get0_pubkey(ca);
	gboolean ok = X509_check_issued(ca, cert) == X509_V_OK && key != NULL &&
	              X509_verify(cert, key) == 1;

	ERR_clear_error();
	return ok;
}

/* The status period in force at `at` (current, else the history). */
static const SdrTlStatusPeriod *
status_at(const SdrTlService *s, GDateTime *at)
{
	const SdrTlStatusPeriod *best = NULL;

	if (s->current.start != NULL && g_date_time_compare(s->current.start, at) <= 0)
		return &s->current;
	for (guint i = 0; i < s->history->len; i++) {
		const SdrTlStatusPeriod *p = g_ptr_array_index(s->history, i);

		if (p->start == NULL || g_date_time_compare(p->start, at) > 0)
			continue;
		if (best == NULL || g_date_time_compare(p->start, best->start) > 0)
			best = p;
	}
	return best;
}

static gboolean
status_granted(const char *uri)
{
	static const char *const ok[] = {
		SDR_TL_STATUS_GRANTED,
		/* before eIDAS (TS 119 612 v1): the same meaning for a CA/QC */
		"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/undersupervision",
		"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/supervisionincessation",
		"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/accredited",
		NULL,
	};

	for (gsize i = 0; uri != NULL && ok[i] != NULL; i++)
		if (strcmp(uri, ok[i]) == 0)
			return TRUE;
	return FALSE;
}

static gboolean
cert_has_policy(X509 *cert, const char *oid)
{
	CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	gboolean found = FALSE;

	for (int i = 0; pols != NULL && i < sk_POLICYINFO_num(pols) && !found; i++)
		found = oid_is(sk_POLICYINFO_value(pols, i)->policyid, oid);
	CERTIFICATEPOLICIES_free(pols);
	ERR_clear_error();
	return found;
}

static gboolean
cert_key_usage(X509 *cert, const char *name)
{
	static const struct {
		const char *name;
		guint32 bit;
	} bits[] = {
		{ "digitalSignature", KU_DIGITAL_SIGNATURE },
		{ "nonRepudiation", KU_NON_REPUDIATION },
		{ "keyEncipherment", KU_KEY_ENCIPHERMENT },
		{ "dataEncipherment", KU_DATA_ENCIPHERMENT },
		{ "keyAgreement", KU_KEY_AGREEMENT },
		{ "keyCertSign", KU_KEY_CERT_SIGN },
		{ "crlSign", KU_CRL_SIGN },
		{ "encipherOnly", KU_ENCIPHER_ONLY },
		{ "decipherOnly", KU_DECIPHER_ONLY },
	};
	guint32 ku = X509_get_key_usage(cert);

	if (ku == UINT32_MAX)
		ku = 0;
	for (gsize i = 0; i < G_N_ELEMENTS(bits); i++)
		if (strcmp(bits[i].name, name) == 0 ||
		    (strcmp(name, "contentCommitment") == 0 && bits[i].bit == KU_NON_REPUDIATION))
			return (ku & bits[i].bit) != 0;
	return FALSE;
}

/* One criterion (a PolicySet: every policy; a KeyUsage: every bit as stated). */
static gboolean
criterion_policy(X509 *cert, GPtrArray *oids)
{
	for (guint i = 0; i < oids->len; i++)
		if (!cert_has_policy(cert, g_ptr_array_index(oids, i)))
			return FALSE;
	return TRUE;
}

static gboolean
criterion_ku(X509 *cert, GPtrArray *bits)
{
	for (guint i = 0; i < bits->len; i++) {
		const char *b = g_ptr_array_index(bits, i);
		const char *eq = strchr(b, '=');
		g_autofree char *name = g_strndup(b, (gsize)(eq - b));

		if (cert_key_usage(cert, name) != g_str_equal(eq + 1, "true"))
			return FALSE;
	}
	return TRUE;
}

static gboolean
qualification_applies(const SdrTlQualificationElement *qe, X509 *cert)
{
	guint n = 0, matched = 0;

	for (guint i = 0; i < qe->policy_sets->len; i++, n++)
		matched += criterion_policy(cert, g_ptr_array_index(qe->policy_sets, i)) ? 1 : 0;
	for (guint i = 0; i < qe->key_usages->len; i++, n++)
		matched += criterion_ku(cert, g_ptr_array_index(qe->key_usages, i)) ? 1 : 0;
	if (n == 0)
		return FALSE; /* no criterion we understand: never applied */
	switch (qe->assert_) {
	case SDR_TL_ASSERT_AT_LEAST_ONE:
		return matched > 0;
	case SDR_TL_ASSERT_NONE:
		return matched == 0;
	case SDR_TL_ASSERT_ALL:
	default:
		return matched == n;
	}
}

static gboolean
has(GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (g_str_equal(g_ptr_array_index(a, i), s))
			return TRUE;
	return FALSE;
}

static void
decide(SdrTlQualification *q, const SdrTlService *s)
{
	GPtrArray *ql = q->qualifiers;
	gboolean esig_svc = has(s->additional, "ForeSignatures");
	gboolean eseal_svc = has(s->additional, "ForeSeals");
	gboolean web_svc = has(s->additional, "ForWebSiteAuthentication");

	if (!q->granted)
		return;
	q->qualified = (q->qc_compliance || has(ql, "QCStatement")) && !has(ql, "NotQualified");
	if (!q->qualified)
		return;
	if (has(ql, "QCWithSSCD") || has(ql, "QCWithQSCD"))
		q->qscd = TRUE;
	else if (has(ql, "QCNoSSCD") || has(ql, "QCNoQSCD"))
		q->qscd = FALSE;
	else
		q->qscd = q->qc_sscd; /* QCQSCDStatusAsInCert or no qualifier */
	if (has(ql, "QCForESig") || has(ql, "QCForESeal") || has(ql, "QCForWSA")) {
		q->for_esig = has(ql, "QCForESig");
		q->for_eseal = has(ql, "QCForESeal");
		q->for_web = has(ql, "QCForWSA");
	} else if (q->qc_type_esign || q->qc_type_eseal || q->qc_type_web) {
		q->for_esig = q->qc_type_esign;
		q->for_eseal = q->qc_type_eseal;
		q->for_web = q->qc_type_web;
	} else if (has(ql, "QCForLegalPerson")) {
		q->for_eseal = TRUE;
	} else if (esig_svc || eseal_svc || web_svc) {
		/* the service says what it issues for: only one kind is unambiguous */
		q->for_esig = esig_svc && !eseal_svc && !web_svc;
		q->for_eseal = eseal_svc && !esig_svc && !web_svc;
		q->for_web = web_svc && !esig_svc && !eseal_svc;
	} else {
		q->for_esig = TRUE; /* a qualified certificate without a type: e-signature */
	}
	/* The type must be one the service is there for, when it says. */
	if ((esig_svc || eseal_svc || web_svc) &&
	    ((q->for_esig && !esig_svc) || (q->for_eseal && !eseal_svc) ||
	     (q->for_web && !web_svc)))
		q->qualified = q->qscd = q->for_esig = q->for_eseal = q->for_web = FALSE;
}

/* cert, then its issuers found in pool (each link's signature checked), up to a
 * self-signed certificate or 8 levels. Borrowed references. */
static GPtrArray *
path_up(X509 *cert, GPtrArray *pool)
{
	GPtrArray *path = g_ptr_array_new();
	X509 *cur = cert;

	g_ptr_array_add(path, cert);
	while (pool != NULL && path->len < 8 && X509_check_issued(cur, cur) != X509_V_OK) {
		X509 *next = NULL;

		for (guint i = 0; next == NULL && i < pool->len; i++) {
			X509 *c = g_ptr_array_index(pool, i);
			gboolean seen = FALSE;

			for (guint j = 0; j < path->len && !seen; j++)
				seen = X509_cmp(g_ptr_array_index(path, j), c) == 0;
			if (!seen && issued_by(cur, c))
				next = c;
		}
		if (next == NULL)
			break;
		g_ptr_array_add(path, next);
		cur = next;
	}
	ERR_clear_error();
	return path;
}

/* The service certificate sc is on the path from the signer up: it issued one of
 * the path's certificates (or is one of them, above the signer). */
static gboolean
service_on_path(GPtrArray *path, X509 *sc)
{
	for (guint i = 0; i < path->len; i++) {
		X509 *c = g_ptr_array_index(path, i);

		if ((i > 0 && X509_cmp(c, sc) == 0) || issued_by(c, sc))
			return TRUE;
	}
	return FALSE;
}

SdrTlQualification *
sdr_tl_qualify(const SdrTlSet *set, X509 *cert, GPtrArray *chain, GDateTime *at)
{
	SdrTlQualification *q = g_new0(SdrTlQualification, 1);
	g_autoptr(GPtrArray) path = path_up(cert, chain);

	q->qualifiers = g_ptr_array_new_with_free_func(g_free);
	sdr_tl_read_qc_statements(cert, q);
	for (guint i = 0; set != NULL && i < set->lists->len && !q->granted; i++) {
		const SdrTl *tl = g_ptr_array_index(set->lists, i);

		if (tl->status != SDR_TL_TRUSTED)
			continue;
		for (guint j = 0; j < tl->providers->len && !q->granted; j++) {
			const SdrTlProvider *p = g_ptr_array_index(tl->providers, j);

			for (guint k = 0; k < p->services->len && !q->granted; k++) {
				const SdrTlService *s = g_ptr_array_index(p->services, k);
				const SdrTlStatusPeriod *st;
				gboolean match = FALSE;

				if (g_strcmp0(s->type, SDR_TL_SVC_CA_QC) != 0)
					continue;
				X509 *sc = NULL;

				for (guint c = 0; c < s->certs->len && !match; c++) {
					sc = g_ptr_array_index(s->certs, c);
					match = service_on_path(path, sc);
				}
				if (!match)
					continue;
				/* Found (a later granted match would win over a withdrawn one). */
				q->found = TRUE;
				if (q->service_cert != NULL)
					X509_free(q->service_cert);
				X509_up_ref(sc);
				q->service_cert = sc;
				st = status_at(s, at);
				g_free(q->tsp);
				g_free(q->service);
				g_free(q->territory);
				g_free(q->status);
				g_clear_pointer(&q->status_start, g_date_time_unref);
				q->tsp = g_strdup(p->name);
				q->service = g_strdup(s->name);
				q->territory = g_strdup(tl->territory);
				q->status = g_strdup(st != NULL ? st->status : NULL);
				q->status_start = st != NULL && st->start != NULL
				                          ? g_date_time_ref(st->start)
				                          : NULL;
				q->granted = st != NULL && status_granted(st->status);
				g_ptr_array_set_size(q->qualifiers, 0);
				if (!q->granted)
					continue;
				for (guint e = 0; e < s->qualifications->len; e++) {
					const SdrTlQualificationElement *qe =
					        g_ptr_array_index(s->qualifications, e);

					if (!qualification_applies(qe, cert))
						continue;
					for (guint n = 0; n < qe->qualifiers->len; n++)
						if (!has(q->qualifiers,
						         g_ptr_array_index(qe->qualifiers, n)))
							g_ptr_array_add(
							        q->qualifiers,
							        g_strdup(g_ptr_array_index(
							                qe->qualifiers, n)));
				}
				decide(q, s);
			}
		}
	}
	return q;
}

char *
sdr_tl_qualification_summary(const SdrTlQualification *q)
{
	if (!q->found)
		return g_strdup(
		        _("The certificate was not issued by a service of a trusted list."));
	if (!q->granted)
		return g_strdup(_("The trust service that issued the certificate was not granted "
		                  "at the signing time."));
	if (!q->qualified)
		return g_strdup(_("The certificate is not a qualified certificate."));
	if (q->for_eseal)
		return g_strdup(
		        q->qscd ? _("Qualified electronic seal (QSeal): qualified certificate "
		                    "with a qualified device")
		                : _("Advanced electronic seal based on a qualified "
		                    "certificate"));
	if (q->for_esig)
		return g_strdup(q->qscd ? _("Qualified electronic signature (QES): advanced "
		                            "electronic signature with a qualified device")
		                        : _("Advanced electronic signature based on a qualified "
		                            "certificate"));
	return g_strdup(_("Qualified certificate, not for electronic signatures or seals."));
}

/* ---- In a verification report ------------------------------------------------- */

static char *
status_text(const SdrTlQualification *q)
{
	g_autofree char *since =
	        q->status_start != NULL ? sdr_time_format_date(q->status_start) : NULL;
	const char *what;

	if (q->status == NULL)
		return g_strdup(_("no status at the signing time"));
	if (g_str_equal(q->status, SDR_TL_STATUS_GRANTED))
		what = _("granted");
	else if (g_str_equal(q->status, SDR_TL_STATUS_WITHDRAWN))
		what = _("withdrawn");
	else
		what = last_segment(q->status);
	return since != NULL ? g_strdup_printf(_("%s (since %s)"), what, since) : g_strdup(what);
}

static void
rests_on_list(SdrSignatureResult *r, const SdrTlQualification *q)
{
	sdr_signature_result_warn(r, SDR_REASON_NONE,
	                          _("The certificate chain rests on the trusted list: "
	                            "“%s” of %s (%s)."),
	                          q->service != NULL ? q->service : "?",
	                          q->tsp != NULL ? q->tsp : "?",
	                          q->territory != NULL ? q->territory : "?");
}

/* Qualifies r; TRUE when its CHAIN_NOT_TRUSTED reasons were lifted by a granted
 * service (*service_cert: a new reference to the service certificate, else NULL). */
static gboolean
qualify_one(const SdrTlSet *set, SdrSignatureResult *r, GDateTime *at, GDateTime *now,
            gboolean remark, X509 **service_cert)
{
	GDateTime *when = r->timestamp_time != NULL         ? r->timestamp_time
	                  : r->claimed_signing_time != NULL ? r->claimed_signing_time
	                  : at != NULL                      ? at
	                                                    : now;
	g_autoptr(SdrTlQualification) q = NULL;
	g_autofree char *summary = NULL;
	guint lifted = 0;

	*service_cert = NULL;
	if (r->signer == NULL)
		return FALSE;
	q = sdr_tl_qualify(set, r->signer, r->chain, at != NULL ? at : when);
	summary = sdr_tl_qualification_summary(q);
	sdr_signature_result_set_detail(r, "qualification", summary);
	sdr_signature_result_set_detail(r, "qualified", q->qualified ? "true" : "false");
	if (!q->found)
		return FALSE;
	{
		g_autofree char *st = status_text(q);
		g_autofree char *quals = NULL;

		g_ptr_array_add(q->qualifiers, NULL);
		quals = g_strjoinv(", ", (char **)q->qualifiers->pdata);
		g_ptr_array_remove_index(q->qualifiers, q->qualifiers->len - 1);
		sdr_signature_result_set_detail(r, "qualification_tsp", q->tsp);
		sdr_signature_result_set_detail(r, "qualification_service", q->service);
		sdr_signature_result_set_detail(r, "qualification_status", st);
		if (*quals != '\0')
			sdr_signature_result_set_detail(r, "qualification_qualifiers", quals);
		sdr_signature_result_set_detail(r, "qscd", q->qscd ? "true" : "false");
		sdr_signature_result_set_detail(r, "qualified_for",
		                                q->for_esig    ? "esig"
		                                : q->for_eseal ? "eseal"
		                                : q->for_web   ? "web"
		                                               : "none");
	}
	if (!q->granted)
		return FALSE;
	/* The chain reaches a granted CA/QC service: not "untrusted" any more. */
	for (guint k = r->reasons->len; k > 0; k--) {
		SdrReason *reason = g_ptr_array_index(r->reasons, k - 1);

		if (reason->code == SDR_REASON_CHAIN_NOT_TRUSTED) {
			g_ptr_array_remove_index(r->reasons, k - 1);
			lifted++;
		}
	}
	if (lifted == 0 && !remark)
		return FALSE;
	if (r->reasons->len == 0 && r->verdict == SDR_VERDICT_INDETERMINATE)
		r->verdict = SDR_VERDICT_VALID;
	rests_on_list(r, q);
	if (lifted > 0 && q->service_cert != NULL) {
		X509_up_ref(q->service_cert);
		*service_cert = q->service_cert;
	}
	return lifted > 0;
}

static void
note_unused_lists(const SdrTlSet *set, SdrVerifyReport *report)
{
	for (guint i = 0; set != NULL && i < set->lists->len; i++) {
		const SdrTl *tl = g_ptr_array_index(set->lists, i);

		if (tl->status != SDR_TL_TRUSTED)
			sdr_verify_report_note(report, SDR_REASON_NONE,
			                       _("The trusted list “%s” (%s) is not used: %s"),
			                       tl->name != NULL ? tl->name : "?",
			                       tl->territory != NULL ? tl->territory : "?",
			                       tl->status_detail != NULL ? tl->status_detail : "");
	}
}

/* The anchors of the second verification: each lifted signature's service
 * certificate, and the issuers above its signer (so that intermediates the
 * signature lacks, fetched from the AIA, are found). A service certificate that is
 * not self-signed needs a partial chain. */
static X509_STORE *
reverify_store(GPtrArray *services, SdrVerifyReport *report)
{
	X509_STORE *store = X509_STORE_new();
	gboolean partial = FALSE;

	for (guint i = 0; i < services->len; i++) {
		X509 *sc = g_ptr_array_index(services, i);

		partial = partial || (sc != NULL && X509_check_issued(sc, sc) != X509_V_OK);
	}
	for (guint i = 0; store != NULL && i < services->len; i++) {
		X509 *sc = g_ptr_array_index(services, i);
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);

		if (sc == NULL)
			continue;
		X509_STORE_add_cert(store, sc);
		for (guint k = 0; k < r->chain->len; k++) {
			X509 *c = g_ptr_array_index(r->chain, k);

			if (X509_cmp(c, r->signer) != 0 && X509_cmp(c, sc) != 0 && !partial)
				X509_STORE_add_cert(store, c);
		}
	}
	if (store != NULL && partial)
		X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	ERR_clear_error();
	return store;
}

void
sdr_tl_qualify_report_full(const SdrTlSet *set, SdrVerifyReport *report, GDateTime *at,
                           SdrTlReverifyFunc reverify, gpointer data)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GPtrArray) services = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	g_autoptr(SdrVerifyReport) again = NULL;
	X509_STORE *store = NULL;
	guint n_lifted = 0;

	if (set == NULL)
		return;
	note_unused_lists(set, report);
	for (guint i = 0; i < report->signatures->len; i++) {
		X509 *sc = NULL;

		if (qualify_one(set, g_ptr_array_index(report->signatures, i), at, now, FALSE, &sc))
			n_lifted++;
		g_ptr_array_add(services, sc);
	}
	if (reverify == NULL || n_lifted == 0)
		return;
	store = reverify_store(services, report);
	again = store != NULL ? reverify(store, data) : NULL;
	if (store != NULL)
		X509_STORE_free(store);
	for (guint i = 0; i < report->signatures->len; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);
		SdrSignatureResult *r2 = NULL;
		gboolean built = FALSE;
		X509 *unused = NULL;

		if (g_ptr_array_index(services, i) == NULL)
			continue;
		if (again != NULL && again->signatures->len == report->signatures->len)
			r2 = g_ptr_array_index(again->signatures, i);
		built = r2 != NULL && r2->signer != NULL && X509_cmp(r2->signer, r->signer) == 0;
		for (guint k = 0; built && k < r2->reasons->len; k++)
			built = ((SdrReason *)g_ptr_array_index(r2->reasons, k))->code !=
			        SDR_REASON_CHAIN_NOT_TRUSTED;
		if (!built) {
			sdr_signature_result_fail(
			        r, SDR_VERDICT_INDETERMINATE, SDR_REASON_REVOCATION_UNKNOWN,
			        _("The revocation of the certificate chain resting on the trusted "
			          "list could not be checked"));
			continue;
		}
		(void)qualify_one(set, r2, at, now, TRUE, &unused);
		g_ptr_array_index(report->signatures, i) = r2;
		g_ptr_array_index(again->signatures, i) = r;
	}
}

void
sdr_tl_qualify_report(const SdrTlSet *set, SdrVerifyReport *report, GDateTime *at)
{
	sdr_tl_qualify_report_full(set, report, at, NULL, NULL);
}
