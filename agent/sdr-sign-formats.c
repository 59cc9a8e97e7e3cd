/* sdr-sign-formats.c - the format adapters of the "sign" batch (sdr-sign-private.h):
 * cades, xades, pades, pes, actes, marche. Each one: its options and their checks,
 * its preflight (before the PIN), its signature through formats/, its default output
 * name. The batch itself (documents, consent, login, outputs, audit) is sdr-engine.c.
 */
#include "sdr-sign-private.h"

#include "sdr-actes.h"
#include "sdr-cms.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-json.h"
#include "sdr-marche.h"
#include "sdr-pades.h"
#include "sdr-pes.h"
#include "sdr-xades.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* PAdES signs PDF files only (the bytes decide, sdr_pades_check_is_pdf). */
static gboolean
need_pdf(SignDoc *doc, GError **error)
{
	gboolean pdf = FALSE;

	if (!sdr_pades_check_is_pdf(doc->head, doc->head_len, doc->name, doc->mime, &pdf, error))
		return FALSE;
	if (!pdf) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("%s is not a PDF: PAdES signs PDF files only."), doc->name);
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_sign_doc_kind(SignJob *job, SignDoc *doc, SignKind *kind, GError **error)
{
	const char *f = job->format;
	const char *m = job->mode;
	gboolean cades = g_str_equal(f, "cades");

	if (g_str_equal(f, "marche")) {
		SdrMarcheFormat mf;

		/* The tender profile's choice, owned by formats/sdr-marche.c. */
		if (!sdr_marche_choose_format(doc->head, doc->head_len, doc->name, doc->mime,
		                              sdr_json_get_bool(job->options, "cades", FALSE), &mf,
		                              error))
			return FALSE;
		if (mf == SDR_MARCHE_PADES) {
			*kind = KIND_PADES;
			return TRUE;
		}
		cades = mf == SDR_MARCHE_CADES;
	}
	if (g_str_equal(f, "pades") ||
	    (g_str_equal(f, "actes") && sdr_json_get_bool(job->options, "pades", FALSE))) {
		if (!need_pdf(doc, error))
			return FALSE;
		*kind = KIND_PADES;
	} else if (g_str_equal(f, "actes")) {
		*kind = KIND_ACTES_PEM;
	} else if (g_str_equal(f, "pes")) {
		*kind = KIND_PES;
	} else if (cades) {
		if (m != NULL && !g_str_equal(m, "attached") && !g_str_equal(m, "detached")) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("CAdES signatures are detached or attached, not %s."), m);
			return FALSE;
		}
		*kind = g_strcmp0(m, "attached") == 0 ? KIND_CADES_ATTACHED : KIND_CADES_DETACHED;
	} else {
		if (m == NULL || g_str_equal(m, "detached"))
			*kind = KIND_XADES_DETACHED;
		else if (g_str_equal(m, "enveloped"))
			*kind = KIND_XADES_ENVELOPED;
		else if (g_str_equal(m, "enveloping"))
			*kind = KIND_XADES_ENVELOPING;
		else {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("XAdES signatures are detached, enveloped or enveloping, "
			              "not %s."),
			            m);
			return FALSE;
		}
	}
	return TRUE;
}

/* name without its last extension ("a.xml" -> "a"; "a" -> "a"; ".a" -> ".a"). */
static char *
strip_extension(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && dot != name ? g_strndup(name, (gsize)(dot - name)) : g_strdup(name);
}

/* The default output file name of a document (no folder). */
char *
sdr_sign_default_output_name(SignKind kind, const char *name)
{
	g_autofree char *stem = NULL;

	switch (kind) {
	case KIND_CADES_DETACHED:
		return g_strconcat(name, ".p7s", NULL);
	case KIND_CADES_ATTACHED:
		return g_strconcat(name, ".p7m", NULL);
	case KIND_ACTES_PEM:
		return g_strconcat(name, ".sig", NULL);
	case KIND_PADES: {
		g_autofree char *def = sdr_pades_default_output(name);
		return g_path_get_basename(def);
	}
	case KIND_XADES_DETACHED:
	case KIND_XADES_ENVELOPING:
		return g_strconcat(name, " - Signature 1.xml", NULL);
	case KIND_XADES_ENVELOPED:
		stem = strip_extension(name);
		return g_strconcat(stem, "-signe.xml", NULL);
	case KIND_PES:
	default:
		if (g_str_has_suffix(name, ".xml") || g_str_has_suffix(name, ".XML"))
			stem = g_strndup(name, strlen(name) - 4);
		else
			stem = g_strdup(name);
		return g_strconcat(stem, "-signe.xml", NULL);
	}
}

static void
cms_options(SignJob *job, SdrCmsOptions *opts)
{
	sdr_cms_options_init(opts);
	opts->hash = job->hash;
	opts->level = job->level;
	opts->signing_time = TRUE;
	opts->tsa_url = job->tsa_url;
	opts->trust = job->trust;
}

static GBytes *
cms_sign_doc(SignJob *job, SignDoc *doc, gboolean attached, GError **error)
{
	g_autoptr(GInputStream) in = NULL;
	SdrCmsOptions opts;

	cms_options(job, &opts);
	/* Detached: the digest of the consent pass, no second read of the document. */
	if (!attached && doc->digest_len == sdr_hash_len(job->hash))
		return sdr_cms_sign_digest(job->signer, doc->digest, doc->digest_len, &opts, error);
	in = sdr_sign_doc_open(doc, error);
	if (in == NULL)
		return NULL;
	return sdr_cms_sign_stream(job->signer, in, attached, &opts,
	                           sdr_handler_call_cancellable(job->ctx), error);
}

static gboolean
sign_cades(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	gboolean attached = g_strcmp0(job->mode, "attached") == 0;
	g_autoptr(GBytes) cms = NULL;
	g_autofree char *path = NULL;

	if (job->mode != NULL && !attached && g_strcmp0(job->mode, "detached") != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("CAdES signatures are detached or attached, not %s."), job->mode);
		return FALSE;
	}
	cms = cms_sign_doc(job, doc, attached, error);
	if (cms == NULL)
		return FALSE;
	path = g_strconcat(doc->name, attached ? ".p7m" : ".p7s", NULL);
	return sdr_sign_emit_output(job, doc, attached ? "document" : "signature", path, cms,
	                            result, error);
}

/* ACTES: a detached CMS in PEM, as S2LOW takes it (acte_pdf_file_sign). */
static gboolean
sign_actes_pem(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	g_autoptr(GBytes) cms = cms_sign_doc(job, doc, FALSE, error);
	g_autoptr(GBytes) pem = NULL;
	g_autofree char *path = NULL;
	char *armour;

	if (cms == NULL)
		return FALSE;
	armour = sdr_actes_pem_armour(cms);
	pem = g_bytes_new_take(armour, strlen(armour));
	path = g_strconcat(doc->name, ".sig", NULL);
	return sdr_sign_emit_output(job, doc, "signature", path, pem, result, error);
}

static gboolean
sign_xades_doc(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SdrXadesOptions xo;
	SdrXadesMode mode;
	g_autofree char *city = sdr_sign_config_string(job, "city");
	g_autofree char *postal = sdr_sign_config_string(job, "postal_code");
	g_autofree char *country = sdr_sign_config_string(job, "country");
	g_autofree char *role = sdr_sign_config_string(job, "role");

	if (job->mode == NULL || g_str_equal(job->mode, "detached"))
		mode = SDR_XADES_DETACHED;
	else if (g_str_equal(job->mode, "enveloped"))
		mode = SDR_XADES_ENVELOPED;
	else if (g_str_equal(job->mode, "enveloping"))
		mode = SDR_XADES_ENVELOPING;
	else {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("XAdES signatures are detached, enveloped or enveloping, not %s."),
		            job->mode);
		return FALSE;
	}
	sdr_xades_options_init(&xo);
	xo.hash = job->hash;
	xo.level = job->level;
	xo.tsa_url = job->tsa_url;
	xo.trust = job->trust;
	xo.mime_type = doc->mime;
	xo.city = city;
	xo.postal_code = postal;
	xo.country = country;
	xo.signer_role = role;
	if (doc->path != NULL) {
		/* Detached: the digest of the consent pass, no second read of the file. */
		gboolean reuse =
		        mode == SDR_XADES_DETACHED && doc->digest_len == sdr_hash_len(job->hash);

		if (reuse ? !sdr_xades_sign_file_digest(job->signer, doc->path, doc->digest,
		                                        doc->digest_len, &xo, doc->out_tmp, NULL,
		                                        error)
		          : !sdr_xades_sign_file(job->signer, doc->path, mode, &xo, doc->out_tmp,
		                                 NULL, error))
			return FALSE;
		return sdr_sign_publish_output(doc, result, error);
	} else {
		g_autoptr(GBytes) sig =
		        sdr_xades_sign_data(job->signer, doc->data, doc->name, mode, &xo, error);
		g_autofree char *name = NULL;

		if (sig == NULL)
			return FALSE;
		name = mode == SDR_XADES_ENVELOPED
		               ? g_strdup(doc->name)
		               : sdr_sign_default_output_name(KIND_XADES_DETACHED, doc->name);
		return sdr_sign_emit_output(job, doc,
		                            mode == SDR_XADES_DETACHED ? "signature" : "document",
		                            name, sig, result, error);
	}
}

static gboolean
read_rect(JsonObject *options, double rect[4], GError **error)
{
	JsonNode *n = json_object_get_member(options, "rect");
	JsonArray *a;

	if (n == NULL)
		return TRUE;
	a = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
	if (a == NULL || json_array_get_length(a) != 4) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("“rect” is [x, y, width, height] in points."));
		return FALSE;
	}
	for (guint i = 0; i < 4; i++) {
		JsonNode *e = json_array_get_element(a, i);
		if (!JSON_NODE_HOLDS_VALUE(e) || (json_node_get_value_type(e) != G_TYPE_DOUBLE &&
		                                  json_node_get_value_type(e) != G_TYPE_INT64)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("“rect” is [x, y, width, height] in points."));
			return FALSE;
		}
		rect[i] = json_node_get_double(e);
	}
	return TRUE;
}

/* The PAdES options of the request (the check before the PIN and the signature). */
static gboolean
pades_options(SignJob *job, SignDoc *doc, SdrPadesOptions *po_out, GError **error)
{
	SdrPadesOptions po;
	const char *image = sdr_json_get_string(job->options, "image", NULL);

	(void)doc; /* a PDF: sdr_sign_doc_kind said so in the preflight */
	sdr_pades_options_init(&po);
	po.hash = job->hash;
	po.level = job->level;
	po.tsa_url = job->tsa_url;
	po.trust = job->trust;
	po.visible = sdr_json_get_bool(job->options, "visible", FALSE);
	po.page = (int)CLAMP(sdr_json_get_int(job->options, "page", 1), 1, 100000);
	if (!read_rect(job->options, po.rect, error))
		return FALSE;
	if (po.visible && json_object_get_member(job->options, "rect") == NULL) {
		po.rect[0] = 50;
		po.rect[1] = 50;
		po.rect[2] = 220;
		po.rect[3] = 70;
	}
	po.reason = sdr_json_get_string(job->options, "reason", NULL);
	po.location = sdr_json_get_string(job->options, "location", NULL);
	if (image != NULL) {
		if (sdr_context_get_origin(job->ctx) != NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Files are only accepted from the command line."));
			return FALSE;
		}
		po.image_path = image;
	}
	*po_out = po;
	return TRUE;
}

static gboolean
sign_pades_doc(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SdrPadesOptions po;

	if (!pades_options(job, doc, &po, error))
		return FALSE;
	if (doc->path != NULL) {
		/* The consent pass's digest state is continued over the update: the
		 * file is copied, not read and hashed a second time. */
		if (doc->state != NULL ? !sdr_pades_sign_file_prehashed(job->signer, doc->path, &po,
		                                                        doc->state, doc->size,
		                                                        doc->out_tmp, NULL, error)
		                       : !sdr_pades_sign_file(job->signer, doc->path, &po,
		                                              doc->out_tmp, NULL, error))
			return FALSE;
		return sdr_sign_publish_output(doc, result, error);
	} else {
		g_autoptr(GBytes) pdf = sdr_pades_sign_bytes(job->signer, doc->data, &po, error);
		g_autofree char *def = NULL, *name = NULL;

		if (pdf == NULL)
			return FALSE;
		def = sdr_pades_default_output(doc->name);
		name = g_path_get_basename(def);
		return sdr_sign_emit_output(job, doc, "document", name, pdf, result, error);
	}
}

static void
pes_result_json(SdrPesSignResult *r, JsonObject *result)
{
	JsonArray *s = json_array_new(), *k = json_array_new();

	for (guint i = 0; r != NULL && r->signed_ids != NULL && i < r->signed_ids->len; i++)
		json_array_add_string_element(s, g_ptr_array_index(r->signed_ids, i));
	for (guint i = 0; r != NULL && r->skipped_ids != NULL && i < r->skipped_ids->len; i++)
		json_array_add_string_element(k, g_ptr_array_index(r->skipped_ids, i));
	json_object_set_array_member(result, "signed_bordereaux", s);
	json_object_set_array_member(result, "already_signed_bordereaux", k);
	json_object_set_boolean_member(result, "root_signature", r != NULL && r->root);
}

/* options.bordereaux as a NULL-terminated array of borrowed strings in ids (NULL when
 * absent: every bordereau). */
static const char *const *
pes_bordereaux(SignJob *job, GPtrArray *ids)
{
	JsonNode *bn = json_object_get_member(job->options, "bordereaux");
	JsonArray *a;

	if (bn == NULL)
		return NULL;
	a = JSON_NODE_HOLDS_ARRAY(bn) ? json_node_get_array(bn) : NULL;
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		const char *id = json_array_get_string_element(a, i);
		if (id != NULL)
			g_ptr_array_add(ids, (gpointer)id);
	}
	g_ptr_array_add(ids, NULL);
	return (const char *const *)ids->pdata;
}

static gboolean
sign_pes_doc(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SdrPesOptions po;
	g_autoptr(SdrPesSignResult) r = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	g_autofree char *city = sdr_sign_config_string(job, "city");
	g_autofree char *postal = sdr_sign_config_string(job, "postal_code");
	g_autofree char *country = sdr_sign_config_string(job, "country");
	g_autofree char *role = sdr_sign_config_string(job, "role");
	g_autofree char *phash = sdr_sign_config_string(job, "pes_policy_hash");
	g_autofree char *puri = sdr_config_get_string(sdr_context_get_config(job->ctx), "signature",
	                                              "pes_policy_uri", NULL);

	sdr_pes_options_init(&po);
	po.bordereaux = pes_bordereaux(job, ids);
	po.city = city;
	po.postal_code = postal;
	po.country_name = country;
	if (role != NULL)
		po.claimed_role = role;
	if (phash != NULL)
		po.policy_hash = phash;
	if (puri != NULL)
		po.policy_uri = puri;
	if (doc->path != NULL) {
		if (!sdr_pes_sign_file(job->signer, doc->path, doc->out_tmp, &po, &r, error))
			return FALSE;
		if (!sdr_sign_publish_output(doc, result, error))
			return FALSE;
	} else {
		g_autoptr(GBytes) signed_pes =
		        sdr_pes_sign_bytes(job->signer, doc->data, &po, &r, error);
		if (signed_pes == NULL)
			return FALSE;
		if (!sdr_sign_emit_output(job, doc, "document", doc->name, signed_pes, result,
		                          error))
			return FALSE;
	}
	pes_result_json(r, result);
	return TRUE;
}

/* --in-place only makes sense when the signature goes inside the document. */
gboolean
sdr_sign_check_in_place(SignJob *job, GError **error)
{
	const char *f = job->format;
	gboolean pdf_in_doc =
	        g_str_equal(f, "pades") || g_str_equal(f, "pes") ||
	        (g_str_equal(f, "actes") && sdr_json_get_bool(job->options, "pades", FALSE)) ||
	        (g_str_equal(f, "xades") && g_strcmp0(job->mode, "enveloped") == 0);

	if (job->in_place && !pdf_in_doc) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("--in-place is for signatures inside the document (PAdES, PES, "
		              "enveloped XAdES)."));
		return FALSE;
	}
	return TRUE;
}

/* ACTES: a detached CMS in PEM (S²LOW), or with options.pades a PAdES signature. */
static gboolean
sign_actes(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	if (sdr_json_get_bool(job->options, "pades", FALSE))
		return sign_pades_doc(job, doc, result, error);
	return sign_actes_pem(job, doc, result, error);
}

/* Tenders: PAdES for PDF files, else XAdES (or CAdES with options.cades): the choice of
 * sdr_marche_choose_format (sdr_sign_doc_kind). */
static gboolean
sign_marche(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SignKind kind;

	/* The tender profile's own certificate rule (valid today, nonRepudiation). */
	if (!sdr_marche_check_certificate(sdr_signer_get_cert(job->signer), NULL, error))
		return FALSE;
	if (!sdr_sign_doc_kind(job, doc, &kind, error))
		return FALSE;
	if (kind == KIND_PADES)
		return sign_pades_doc(job, doc, result, error);
	if (kind == KIND_CADES_DETACHED || kind == KIND_CADES_ATTACHED)
		return sign_cades(job, doc, result, error);
	return sign_xades_doc(job, doc, result, error);
}

/* The table of adapters: one entry per format of the "sign" request. */
typedef struct {
	const char *format;
	gboolean (*sign)(SignJob *job, SignDoc *doc, JsonObject *result, GError **error);
} SignAdapter;

static const SignAdapter adapters[] = {
	{ "cades", sign_cades }, { "xades", sign_xades_doc }, { "pades", sign_pades_doc },
	{ "pes", sign_pes_doc }, { "actes", sign_actes },     { "marche", sign_marche },
	{ NULL, NULL },
};

static const SignAdapter *
adapter_find(const char *format)
{
	for (const SignAdapter *a = adapters; format != NULL && a->format != NULL; a++) {
		if (g_str_equal(a->format, format))
			return a;
	}
	return NULL;
}

gboolean
sdr_sign_format_known(const char *format)
{
	return adapter_find(format) != NULL;
}

gboolean
sdr_sign_one(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	const SignAdapter *a = adapter_find(job->format);

	if (a == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Unknown format “%s”."),
		            job->format);
		return FALSE;
	}
	return a->sign(job, doc, result, error);
}

/* The document as its format will read it, without signing: a PDF that does not open
 * (empty, truncated, encrypted), a file that is not a PES or has nothing left to sign. */
gboolean
sdr_sign_check_content(SignJob *job, SignDoc *doc, SignKind kind, GError **error)
{
	if (kind == KIND_PADES) {
		SdrPadesOptions po;

		if (!pades_options(job, doc, &po, error))
			return FALSE;
		return doc->path == NULL || sdr_pades_check_file(doc->path, &po, error);
	}
	if (kind == KIND_PES) {
		g_autoptr(GPtrArray) ids = g_ptr_array_new();
		g_autoptr(GMappedFile) map = NULL;
		SdrPesOptions po;
		const guint8 *data;
		gsize len;

		sdr_pes_options_init(&po);
		po.bordereaux = pes_bordereaux(job, ids);
		if (doc->data != NULL) {
			data = g_bytes_get_data(doc->data, &len);
		} else {
			GError *local = NULL;

			map = g_mapped_file_new(doc->path, FALSE, &local);
			if (map == NULL) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
				            _("Cannot read “%s”: %s"), doc->path, local->message);
				g_error_free(local);
				return FALSE;
			}
			data = (const guint8 *)g_mapped_file_get_contents(map);
			len = g_mapped_file_get_length(map);
		}
		if (len > SDR_PES_MAX_SIZE) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The PES file is too large."));
			return FALSE;
		}
		return sdr_pes_check_signable(data, len, &po, error);
	}
	return TRUE;
}
