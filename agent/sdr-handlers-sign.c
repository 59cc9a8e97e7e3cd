/* sdr-handlers-sign.c - "sign": a batch of documents, one consent, one login.
 *
 * Request and answer shapes: docs/internals/agent-core.md. Documents come by path
 * (the CLI: outputs written next to them or where asked) or by base64 data (the
 * bridge: outputs returned in base64). The format code lives in formats/; this file
 * only chooses the certificate, asks consent and the PIN, and routes each document.
 */
#include "sdr-audit.h"
#include "sdr-cms.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-handlers-private.h"
#include "sdr-json.h"
#include "sdr-marche.h"
#include "sdr-pades.h"
#include "sdr-pes.h"
#include "sdr-time.h"
#include "sdr-token-signer.h"
#include "sdr-xades.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#define SDR_SIGN_MAX_DOCS 10000
#define SDR_SIGN_MAX_DATA ((gsize)256 * 1024 * 1024)
#define SDR_SIGN_MAX_NAME 255

typedef struct {
	char *name; /* base name shown to people */
	char *path; /* input file (CLI), or NULL */
	char *mime;
	GBytes *data; /* bridge input, or NULL */
	guint64 size;
	char sha256[65];
	/* Digest of the content with the signature's hash, from the same pass that
	 * computed sha256: a detached CMS signs exactly what the consent showed. */
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize digest_len;
} SignDoc;

typedef struct {
	SdrContext *ctx;
	const char *format;
	const char *mode; /* "detached", "attached", "enveloped", "enveloping" or NULL */
	SdrHashAlg hash;
	SdrTargetLevel level;
	char *tsa_url;
	X509_STORE *trust;
	JsonObject *options; /* borrowed: the request's "options" (never NULL) */
	const char *output;
	const char *output_dir;
	gboolean in_place;
	SdrSigner *signer; /* borrowed */
	const SdrCertInfo *cert;
	char *signer_name;
} SignJob;

static void
sign_doc_free(gpointer p)
{
	SignDoc *d = p;

	g_free(d->name);
	g_free(d->path);
	g_free(d->mime);
	if (d->data != NULL)
		g_bytes_unref(d->data);
	g_free(d);
}

static void
sign_job_clear(SignJob *job)
{
	g_free(job->tsa_url);
	g_free(job->signer_name);
}

static const char *const known_formats[] = { "cades", "xades",  "pades", "pes",
	                                     "actes", "marche", NULL };

/* ---- Documents ---------------------------------------------------------------- */

static const char *
guess_mime(const char *name)
{
	if (g_str_has_suffix(name, ".pdf") || g_str_has_suffix(name, ".PDF"))
		return "application/pdf";
	if (g_str_has_suffix(name, ".xml") || g_str_has_suffix(name, ".XML"))
		return "text/xml";
	if (g_str_has_suffix(name, ".txt"))
		return "text/plain";
	return "application/octet-stream";
}

/* One pass over the document: its SHA-256 (shown in the consent and the audit log)
 * and, when the signature hashes with another function, that digest too. */
static gboolean
hash_stream(GInputStream *in, SignDoc *doc, SdrHashAlg hash, GCancellable *cancellable,
            GError **error)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	EVP_MD_CTX *other = NULL;
	g_autofree guint8 *buf = g_malloc(256 * 1024);
	guint8 md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	guint64 total = 0;
	gboolean ok = FALSE;
	gssize n;

	if (sha == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
		goto crypto;
	if (hash != SDR_HASH_SHA256) {
		other = EVP_MD_CTX_new();
		if (other == NULL || EVP_DigestInit_ex(other, sdr_hash_md(hash), NULL) != 1)
			goto crypto;
	}
	while ((n = g_input_stream_read(in, buf, 256 * 1024, cancellable, error)) > 0) {
		if (EVP_DigestUpdate(sha, buf, (gsize)n) != 1 ||
		    (other != NULL && EVP_DigestUpdate(other, buf, (gsize)n) != 1))
			goto crypto;
		total += (guint64)n;
	}
	if (n < 0)
		goto out;
	if (EVP_DigestFinal_ex(sha, md, &md_len) != 1)
		goto crypto;
	for (unsigned int i = 0; i < md_len && i < 32; i++)
		g_snprintf(doc->sha256 + 2 * i, 3, "%02x", md[i]);
	memcpy(doc->digest, md, md_len);
	doc->digest_len = md_len;
	if (other != NULL) {
		if (EVP_DigestFinal_ex(other, md, &md_len) != 1)
			goto crypto;
		memcpy(doc->digest, md, md_len);
		doc->digest_len = md_len;
	}
	doc->size = total;
	ok = TRUE;
	goto out;
crypto:
	sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
out:
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(other);
	return ok;
}

static gboolean
valid_doc_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > SDR_SIGN_MAX_NAME)
		return FALSE;
	if (!g_utf8_validate(name, -1, NULL))
		return FALSE;
	if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL || g_str_equal(name, ".") ||
	    g_str_equal(name, ".."))
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if ((guchar)*p < 0x20)
			return FALSE;
	}
	return TRUE;
}

static SignDoc *
load_doc(SignJob *job, JsonNode *node, guint index, GError **error)
{
	JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	const char *path = sdr_json_get_string(o, "path", NULL);
	const char *data = sdr_json_get_string(o, "data", NULL);
	const char *name = sdr_json_get_string(o, "name", NULL);
	const char *type = sdr_json_get_string(o, "type", NULL);
	g_autoptr(GInputStream) in = NULL;
	SignDoc *doc;

	if (o == NULL || (path == NULL) == (data == NULL)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Document %u: give either “path” or “data”."), index + 1);
		return NULL;
	}
	doc = g_new0(SignDoc, 1);
	if (path != NULL) {
		g_autoptr(GFile) file = NULL;

		if (sdr_context_get_origin(job->ctx) != NULL) {
			/* A web page never names files on this computer. */
			g_set_error(
			        error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			        _("Document %u: files are only accepted from the command line."),
			        index + 1);
			goto fail;
		}
		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
			/* Missing: exit 3 like every "not found" (docs/sinadur.1). */
			g_set_error(error, SDR_ERROR,
			            g_file_test(path, G_FILE_TEST_EXISTS) ? SDR_ERROR_IO
			                                                  : SDR_ERROR_NOT_FOUND,
			            _("%s: no such file (or not a regular file)."), path);
			goto fail;
		}
		doc->path = g_strdup(path);
		doc->name = g_path_get_basename(path);
		file = g_file_new_for_path(path);
		in = G_INPUT_STREAM(g_file_read(file, NULL, error));
		if (in == NULL)
			goto fail;
	} else {
		gsize len = strlen(data);
		gsize out_len = 0;
		guchar *raw;

		if (!valid_doc_name(name)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Document %u: a valid “name” is required."), index + 1);
			goto fail;
		}
		if (len / 4 * 3 > SDR_SIGN_MAX_DATA) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("Document %s is too large."), name);
			goto fail;
		}
		if (!sdr_handlers_check_base64(data)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Document %s: “data” is not base64."), name);
			goto fail;
		}
		raw = g_base64_decode(data, &out_len);
		doc->data = g_bytes_new_take(raw, out_len);
		doc->name = g_strdup(name);
		in = g_memory_input_stream_new_from_bytes(doc->data);
	}
	doc->mime = g_strdup(type != NULL ? type : guess_mime(doc->name));
	if (!hash_stream(in, doc, job->hash, sdr_context_get_cancellable(job->ctx), error))
		goto fail;
	return doc;
fail:
	sign_doc_free(doc);
	return NULL;
}

static GInputStream *
doc_open(SignDoc *doc, GError **error)
{
	g_autoptr(GFile) file = NULL;

	if (doc->data != NULL)
		return g_memory_input_stream_new_from_bytes(doc->data);
	file = g_file_new_for_path(doc->path);
	return G_INPUT_STREAM(g_file_read(file, NULL, error));
}

/* ---- Outputs ------------------------------------------------------------------ */

/* Where a CLI output goes: --output, --output-dir/NAME+suffix, or next to the input. */
static char *
output_path(SignJob *job, SignDoc *doc, const char *suffix)
{
	g_autofree char *base = g_strconcat(doc->name, suffix, NULL);
	g_autofree char *dir = NULL;

	if (job->output != NULL)
		return g_strdup(job->output);
	if (job->output_dir != NULL)
		return g_build_filename(job->output_dir, base, NULL);
	dir = g_path_get_dirname(doc->path);
	if (g_str_equal(dir, ".") && !g_str_has_prefix(doc->path, "./"))
		return g_steal_pointer(&base);
	return g_build_filename(dir, base, NULL);
}

/* Gives the output: written to a file (CLI) or put in the result as base64. */
static gboolean
emit_output(SignJob *job, SignDoc *doc, const char *member, const char *path, GBytes *out,
            JsonObject *result, GError **error)
{
	gsize len;
	const guint8 *p = g_bytes_get_data(out, &len);

	if (doc->path != NULL) {
		if (!sdr_file_write_atomic(path, p, len, error))
			return FALSE;
		json_object_set_string_member(result, "output", path);
	} else {
		g_autofree char *b64 = g_base64_encode(p, len);

		json_object_set_string_member(result, member, b64);
		if (path != NULL) {
			g_autofree char *base = g_path_get_basename(path);
			json_object_set_string_member(result, "output_name", base);
		}
	}
	return TRUE;
}

/* ---- Formats ------------------------------------------------------------------ */

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
	in = doc_open(doc, error);
	if (in == NULL)
		return NULL;
	return sdr_cms_sign_stream(job->signer, in, attached, &opts,
	                           sdr_context_get_cancellable(job->ctx), error);
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
	if (doc->path != NULL)
		path = output_path(job, doc, attached ? ".p7m" : ".p7s");
	else
		path = g_strconcat(doc->name, attached ? ".p7m" : ".p7s", NULL);
	return emit_output(job, doc, attached ? "document" : "signature", path, cms, result, error);
}

/* ACTES: a detached CMS in PEM, as S2LOW takes it (acte_pdf_file_sign). */
static gboolean
sign_actes_pem(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	g_autoptr(GBytes) cms = cms_sign_doc(job, doc, FALSE, error);
	g_autoptr(GBytes) pem = NULL;
	g_autofree char *path = NULL;
	gsize len;
	const guint8 *p;
	g_autofree char *b64 = NULL;
	GString *s;

	if (cms == NULL)
		return FALSE;
	p = g_bytes_get_data(cms, &len);
	b64 = g_base64_encode(p, len);
	s = g_string_new("-----BEGIN PKCS7-----\n");
	for (gsize i = 0, n = strlen(b64); i < n; i += 64) {
		g_string_append_len(s, b64 + i, (gssize)MIN(64, n - i));
		g_string_append_c(s, '\n');
	}
	g_string_append(s, "-----END PKCS7-----\n");
	pem = g_string_free_to_bytes(s);
	if (doc->path != NULL)
		path = output_path(job, doc, ".sig");
	else
		path = g_strconcat(doc->name, ".sig", NULL);
	return emit_output(job, doc, "signature", path, pem, result, error);
}

static gboolean
is_pdf(SignDoc *doc)
{
	return g_strcmp0(doc->mime, "application/pdf") == 0 ||
	       g_str_has_suffix(doc->name, ".pdf") || g_str_has_suffix(doc->name, ".PDF");
}

static G_GNUC_UNUSED gboolean
not_available(const char *what, GError **error)
{
	g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
	            _("%s signatures are not available in this build."), what);
	return FALSE;
}

/* A configuration string, or NULL when absent or empty. */
static char *
config_string(SignJob *job, const char *key)
{
	char *v = sdr_config_get_string(sdr_context_get_config(job->ctx), "signature", key, NULL);

	if (v != NULL && v[0] == '\0')
		g_clear_pointer(&v, g_free);
	return v;
}

static gboolean
sign_xades_doc(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SdrXadesOptions xo;
	SdrXadesMode mode;
	g_autofree char *city = config_string(job, "city");
	g_autofree char *postal = config_string(job, "postal_code");
	g_autofree char *country = config_string(job, "country");
	g_autofree char *role = config_string(job, "role");

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
		g_autofree char *written = NULL;
		g_autofree char *out = NULL;

		if (job->output != NULL)
			out = g_strdup(job->output);
		else if (job->output_dir != NULL) {
			/* Next free "NAME - Signature N.xml" in that folder. */
			g_autofree char *probe = g_build_filename(job->output_dir, doc->name, NULL);
			g_autofree char *next = sdr_xades_detached_path(probe);
			g_autofree char *base = g_path_get_basename(next);
			out = mode == SDR_XADES_ENVELOPED
			              ? g_build_filename(job->output_dir, doc->name, NULL)
			              : g_build_filename(job->output_dir, base, NULL);
		} else if (job->in_place && mode == SDR_XADES_ENVELOPED) {
			out = g_strdup(doc->path);
		}
		if (!sdr_xades_sign_file(job->signer, doc->path, mode, &xo, out, &written, error))
			return FALSE;
		json_object_set_string_member(result, "output", written);
		return TRUE;
	} else {
		g_autoptr(GBytes) sig =
		        sdr_xades_sign_data(job->signer, doc->data, doc->name, mode, &xo, error);
		g_autofree char *name = NULL;

		if (sig == NULL)
			return FALSE;
		name = mode == SDR_XADES_ENVELOPED
		               ? g_strdup(doc->name)
		               : g_strdup_printf("%s - Signature 1.xml", doc->name);
		return emit_output(job, doc, mode == SDR_XADES_DETACHED ? "signature" : "document",
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

static gboolean
sign_pades_doc(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SdrPadesOptions po;
	const char *image = sdr_json_get_string(job->options, "image", NULL);

	if (!is_pdf(doc)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("%s is not a PDF: PAdES signs PDF files only."), doc->name);
		return FALSE;
	}
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
	if (doc->path != NULL) {
		g_autofree char *written = NULL;
		g_autofree char *out = NULL;

		if (job->output != NULL)
			out = g_strdup(job->output);
		else if (job->in_place)
			out = g_strdup(doc->path);
		else if (job->output_dir != NULL) {
			g_autofree char *def = sdr_pades_default_output(doc->path);
			g_autofree char *base = g_path_get_basename(def);
			out = g_build_filename(job->output_dir, base, NULL);
		}
		if (!sdr_pades_sign_file(job->signer, doc->path, &po, out, &written, error))
			return FALSE;
		json_object_set_string_member(result, "output", written);
		return TRUE;
	} else {
		g_autoptr(GBytes) pdf = sdr_pades_sign_bytes(job->signer, doc->data, &po, error);
		g_autofree char *def = NULL, *name = NULL;

		if (pdf == NULL)
			return FALSE;
		def = sdr_pades_default_output(doc->name);
		name = g_path_get_basename(def);
		return emit_output(job, doc, "document", name, pdf, result, error);
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

static char *
pes_default_output(const char *path)
{
	g_autofree char *stem = NULL;

	if (g_str_has_suffix(path, ".xml") || g_str_has_suffix(path, ".XML"))
		stem = g_strndup(path, strlen(path) - 4);
	else
		stem = g_strdup(path);
	return g_strconcat(stem, "-signe.xml", NULL);
}

static gboolean
sign_pes_doc(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	SdrPesOptions po;
	g_autoptr(SdrPesSignResult) r = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	JsonNode *bn = json_object_get_member(job->options, "bordereaux");
	g_autofree char *city = config_string(job, "city");
	g_autofree char *postal = config_string(job, "postal_code");
	g_autofree char *country = config_string(job, "country");
	g_autofree char *role = config_string(job, "role");
	g_autofree char *phash = config_string(job, "pes_policy_hash");
	g_autofree char *puri = sdr_config_get_string(sdr_context_get_config(job->ctx), "signature",
	                                              "pes_policy_uri", NULL);

	sdr_pes_options_init(&po);
	if (bn != NULL) {
		JsonArray *a = JSON_NODE_HOLDS_ARRAY(bn) ? json_node_get_array(bn) : NULL;
		for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
			const char *id = json_array_get_string_element(a, i);
			if (id != NULL)
				g_ptr_array_add(ids, (gpointer)id);
		}
		g_ptr_array_add(ids, NULL);
		po.bordereaux = (const char *const *)ids->pdata;
	}
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
		g_autofree char *out = NULL;

		if (job->output != NULL)
			out = g_strdup(job->output);
		else if (job->in_place)
			out = g_strdup(doc->path);
		else if (job->output_dir != NULL)
			out = g_build_filename(job->output_dir, doc->name, NULL);
		else
			out = pes_default_output(doc->path);
		if (!sdr_pes_sign_file(job->signer, doc->path, out, &po, &r, error))
			return FALSE;
		json_object_set_string_member(result, "output", out);
	} else {
		g_autoptr(GBytes) signed_pes =
		        sdr_pes_sign_bytes(job->signer, doc->data, &po, &r, error);
		if (signed_pes == NULL)
			return FALSE;
		if (!emit_output(job, doc, "document", doc->name, signed_pes, result, error))
			return FALSE;
	}
	pes_result_json(r, result);
	return TRUE;
}

/* --in-place only makes sense when the signature goes inside the document. */
static gboolean
check_in_place(SignJob *job, GError **error)
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

static gboolean
sign_one(SignJob *job, SignDoc *doc, JsonObject *result, GError **error)
{
	const char *f = job->format;
	if (g_str_equal(f, "cades"))
		return sign_cades(job, doc, result, error);
	if (g_str_equal(f, "actes")) {
		if (sdr_json_get_bool(job->options, "pades", FALSE))
			return sign_pades_doc(job, doc, result, error);
		return sign_actes_pem(job, doc, result, error);
	}
	if (g_str_equal(f, "xades"))
		return sign_xades_doc(job, doc, result, error);
	if (g_str_equal(f, "pades"))
		return sign_pades_doc(job, doc, result, error);
	if (g_str_equal(f, "pes"))
		return sign_pes_doc(job, doc, result, error);
	if (g_str_equal(f, "marche")) {
		/* The tender profile's own certificate rule (valid today, nonRepudiation). */
		if (!sdr_marche_check_certificate(sdr_signer_get_cert(job->signer), NULL, error))
			return FALSE;
		if (is_pdf(doc))
			return sign_pades_doc(job, doc, result, error);
		if (sdr_json_get_bool(job->options, "cades", FALSE))
			return sign_cades(job, doc, result, error);
		return sign_xades_doc(job, doc, result, error);
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Unknown format “%s”."), f);
	return FALSE;
}

/* Errors that concern one document only: the batch goes on. */
static gboolean
error_is_per_document(const GError *e)
{
	if (e->domain != SDR_ERROR)
		return e->domain == G_IO_ERROR;
	switch (e->code) {
	case SDR_ERROR_PARSE:
	case SDR_ERROR_PROFILE:
	case SDR_ERROR_UNSUPPORTED:
	case SDR_ERROR_ALREADY_SIGNED:
	case SDR_ERROR_TOO_LARGE:
	case SDR_ERROR_IO:
		return TRUE;
	default:
		return FALSE;
	}
}

/* ---- Certificate ---------------------------------------------------------------- */

static gboolean
cert_valid_now(const SdrCertInfo *c, GDateTime *now)
{
	return c->not_after != NULL && c->not_before != NULL &&
	       g_date_time_compare(c->not_after, now) >= 0 &&
	       g_date_time_compare(c->not_before, now) <= 0;
}

static gboolean
cert_usable(const SdrCertInfo *c, GDateTime *now)
{
	return (c->usage & SDR_CERT_USAGE_SIGNATURE) && cert_valid_now(c, now);
}

/* One line per certificate: id, holder, issuer, end date, the key that holds it,
 * and why it cannot sign when it cannot. With only_usable, the certificates that
 * can sign today (all of them when none can). */
static char *
describe_choices(GPtrArray *certs, GDateTime *now, gboolean only_usable)
{
	GString *s = g_string_new(NULL);
	gboolean any_usable = FALSE;

	for (guint i = 0; i < certs->len; i++)
		any_usable |= cert_usable(g_ptr_array_index(certs, i), now);
	for (guint i = 0; i < certs->len; i++) {
		const SdrCertInfo *c = g_ptr_array_index(certs, i);
		g_autofree char *until = sdr_time_format_date(c->not_after);
		const char *key =
		        c->token != NULL && c->token->label != NULL ? c->token->label : _("file");
		const char *why = NULL;

		if (only_usable && any_usable && !cert_usable(c, now))
			continue;
		if (!(c->usage & SDR_CERT_USAGE_SIGNATURE))
			why = _("authentication only");
		else if (c->not_after == NULL || g_date_time_compare(c->not_after, now) < 0)
			why = _("expired");
		else if (c->not_before == NULL || g_date_time_compare(c->not_before, now) > 0)
			why = _("not yet valid");
		g_string_append_printf(s, _("\n  %s  %s (%s, until %s, key “%s”)"), c->id,
		                       c->subject_cn != NULL ? c->subject_cn : "?",
		                       c->issuer_cn != NULL ? c->issuer_cn : "?", until, key);
		if (why != NULL)
			g_string_append_printf(s, " — %s", why);
	}
	return g_string_free(s, FALSE);
}

/* The certificates whose id is wanted or starts with it (any length, any case);
 * an exact id wins over the prefixes. */
static GPtrArray *
match_cert_id(GPtrArray *certs, const char *wanted)
{
	g_autofree char *low = g_ascii_strdown(wanted, -1);
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *c = g_ptr_array_index(certs, i);

		if (c->id != NULL && g_str_equal(c->id, low)) {
			g_ptr_array_set_size(out, 0);
			g_ptr_array_add(out, c);
			break;
		}
		if (c->id != NULL && low[0] != '\0' && g_str_has_prefix(c->id, low))
			g_ptr_array_add(out, c);
	}
	return out;
}

static int
cert_index(GPtrArray *certs, const SdrCertInfo *c)
{
	for (guint i = 0; i < certs->len; i++) {
		if (g_ptr_array_index(certs, i) == c)
			return (int)i;
	}
	return -1;
}

/* Chooses and checks the certificate; returns an index into certs or -1. Without
 * --cert, the one certificate that can sign today is taken. */
static int
choose_cert(SignJob *job, GPtrArray *certs, const char *wanted, GError **error)
{
	g_autoptr(GDateTime) now = sdr_time_now();
	gboolean any_usage = sdr_json_get_bool(job->options, "allow_any_usage", FALSE);
	const SdrCertInfo *c;
	int found = -1;

	if (certs->len == 0) {
		g_set_error(
		        error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		        _("No certificate with a private key was found: is the key plugged in?"));
		return -1;
	}
	if (wanted != NULL) {
		g_autoptr(GPtrArray) match = match_cert_id(certs, wanted);

		if (match->len > 1) {
			g_autofree char *list = describe_choices(match, now, FALSE);
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Several certificates start with “%s”; give more of the "
			              "id:%s"),
			            wanted, list);
			return -1;
		}
		if (match->len == 0) {
			g_autofree char *list = describe_choices(certs, now, TRUE);
			g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
			            _("No certificate “%s”. Certificates available:%s"), wanted,
			            list);
			return -1;
		}
		found = cert_index(certs, g_ptr_array_index(match, 0));
	} else {
		guint n = 0;

		for (guint i = 0; i < certs->len; i++) {
			if (cert_usable(g_ptr_array_index(certs, i), now)) {
				found = (int)i;
				n++;
			}
		}
		if (n > 1) {
			g_autofree char *list = describe_choices(certs, now, TRUE);
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Several signature certificates are available; choose one "
			              "with --cert ID:%s"),
			            list);
			return -1;
		}
		if (n == 0) {
			if (certs->len == 1) {
				found = 0; /* its problem is explained below */
			} else {
				g_autofree char *list = describe_choices(certs, now, FALSE);
				g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
				            _("No certificate can sign today:%s"), list);
				return -1;
			}
		}
	}
	c = g_ptr_array_index(certs, found);
	if (c->not_before != NULL && c->not_after != NULL &&
	    g_date_time_compare(c->not_before, now) > 0) {
		g_autofree char *from = sdr_time_format_date(c->not_before);
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED,
		            _("The certificate of %s is not yet valid (from %s): it cannot sign "
		              "before that date. Check the computer's date and time."),
		            c->subject_cn != NULL ? c->subject_cn : c->id, from);
		return -1;
	}
	if (!cert_valid_now(c, now)) {
		g_autofree char *until = sdr_time_format_date(c->not_after);
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED,
		            _("The certificate of %s expired on %s: it cannot sign. Ask your "
		              "certification authority for a new one."),
		            c->subject_cn != NULL ? c->subject_cn : c->id, until);
		return -1;
	}
	if (!(c->usage & SDR_CERT_USAGE_SIGNATURE) && !any_usage) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
		            _("The certificate of %s is for authentication, not for signing."),
		            c->subject_cn != NULL ? c->subject_cn : c->id);
		return -1;
	}
	return found;
}

/* ---- PIN ------------------------------------------------------------------------ */

static SdrSecret *
pin_from_prompt(const SdrPinRequest *req, gpointer user_data, GError **error)
{
	SdrContext *ctx = user_data;
	SdrPrompt *prompt = sdr_context_get_prompt(ctx);
	SdrPinPromptRequest p = { 0 };

	p.token_label =
	        req->cert != NULL && req->cert->token != NULL ? req->cert->token->label : NULL;
	p.cert_subject = req->cert != NULL ? req->cert->subject_cn : NULL;
	p.attempt = req->attempt;
	p.count_low = req->count_low;
	p.final_try = req->final_try;
	p.previous_incorrect = req->previous_incorrect;
	if (req->final_try && !sdr_prompt_confirm_final_try(prompt, &p, error))
		return NULL;
	return sdr_prompt_ask_pin(prompt, &p, error);
}

/* ---- The handler ---------------------------------------------------------------- */

static gboolean
read_common_options(SignJob *job, JsonObject *request, GError **error)
{
	SdrConfig *config = sdr_context_get_config(job->ctx);
	const char *hash = sdr_json_get_string(job->options, "hash",
	                                       sdr_json_get_string(request, "hash", NULL));
	const char *level = sdr_json_get_string(job->options, "level", NULL);
	g_autofree char *cfg_hash = sdr_config_get_string(config, "signature", "hash", "sha256");
	g_autofree char *cfg_level = sdr_config_get_string(config, "signature", "level", "B");

	if (!sdr_hash_from_name(hash != NULL ? hash : cfg_hash, &job->hash)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Unknown hash “%s”."),
		            hash != NULL ? hash : cfg_hash);
		return FALSE;
	}
	if (!sdr_target_level_from_name(level != NULL ? level : cfg_level, &job->level)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Unknown level “%s” (B, T, LT or LTA)."),
		            level != NULL ? level : cfg_level);
		return FALSE;
	}
	job->tsa_url = sdr_config_get_string(config, "signature", "tsa_url", NULL);
	if (job->tsa_url != NULL && job->tsa_url[0] == '\0')
		g_clear_pointer(&job->tsa_url, g_free);
	/* Said before any prompt, so no PIN is typed for nothing. */
	if (job->level >= SDR_TARGET_LEVEL_T && job->tsa_url == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("Level %s needs a timestamping authority: set [signature] tsa_url "
		              "in the configuration."),
		            level != NULL ? level : cfg_level);
		return FALSE;
	}
	job->mode = sdr_json_get_string(job->options, "mode", NULL);
	return TRUE;
}

static gboolean
ask_consent(SignJob *job, const SdrCertInfo *cert, GPtrArray *docs, const char *format,
            GError **error)
{
	SdrConfig *config = sdr_context_get_config(job->ctx);
	g_autofree SdrConsentDocument *cds = g_new0(SdrConsentDocument, MAX(docs->len, 1));
	g_autofree char *shorts = g_malloc0((gsize)MAX(docs->len, 1) * 17);
	SdrConsentRequest req = { 0 };

	for (guint i = 0; i < docs->len; i++) {
		SignDoc *d = g_ptr_array_index(docs, i);

		memcpy(shorts + (gsize)i * 17, d->sha256, 16);
		cds[i].name = d->name;
		cds[i].mime_type = d->mime;
		cds[i].size = d->size;
		cds[i].sha256_short = shorts + (gsize)i * 17;
	}
	req.origin = sdr_context_get_origin(job->ctx);
	req.action = "sign";
	req.format = format;
	req.cert_subject = cert->subject_cn;
	req.cert_issuer = cert->issuer_cn;
	req.documents = cds;
	req.n_documents = docs->len;
	req.timeout_s = (guint)CLAMP(sdr_config_get_int(config, "bridge", "consent_timeout_s", 120),
	                             0, 3600);
	return sdr_prompt_ask_consent(sdr_context_get_prompt(job->ctx), &req, error);
}

static void
audit(SignJob *job, const char *cert_id, const char *sha256, const char *result)
{
	const char *hashes[2] = { sha256, NULL };

	/* The audit log is best effort: a full disk must not block signing. */
	(void)sdr_audit_append(sdr_context_get_audit_path(job->ctx),
	                       sdr_context_get_origin(job->ctx), job->format, cert_id, hashes,
	                       result, NULL);
}

/* Data-to-sign mode: {"mode":"digest","digest":b64,"hash":"sha256"}. */
static JsonNode *
sign_digest_mode(SignJob *job, JsonObject *request, GPtrArray *certs, int chosen, SdrSigner *signer,
                 GError **error)
{
	const char *b64 = sdr_json_get_string(request, "digest",
	                                      sdr_json_get_string(job->options, "digest", NULL));
	const SdrCertInfo *cert = g_ptr_array_index(certs, chosen);
	g_autofree guchar *digest = NULL;
	gsize len = 0;
	g_autoptr(GBytes) sig = NULL;
	JsonObject *res, *out;
	JsonArray *results, *chain;
	STACK_OF(X509) * sk;
	g_autofree char *sig_b64 = NULL;
	char hex[65];

	(void)certs;
	digest = b64 != NULL && strlen(b64) < 256 ? g_base64_decode(b64, &len) : NULL;
	if (digest == NULL || len != sdr_hash_len(job->hash)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("“digest” must be the base64 of a %s digest."),
		            sdr_hash_name(job->hash));
		return NULL;
	}
	sig = sdr_signer_sign_digest(signer, job->hash, digest, len, error);
	if (sig == NULL)
		return NULL;
	for (gsize i = 0; i < len && i < 32; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	audit(job, cert->id, hex, "ok");
	res = json_object_new();
	sig_b64 = g_base64_encode(g_bytes_get_data(sig, NULL), g_bytes_get_size(sig));
	json_object_set_string_member(res, "name", "digest");
	json_object_set_string_member(res, "signature", sig_b64);
	json_object_set_string_member(res, "hash", sdr_hash_name(job->hash));
	switch (sdr_signer_get_scheme(signer)) {
	case SDR_SIG_ECDSA: {
		g_autoptr(GBytes) der =
		        sdr_ecdsa_raw_to_der(g_bytes_get_data(sig, NULL), g_bytes_get_size(sig));
		json_object_set_string_member(res, "signature_algorithm", "ecdsa");
		if (der != NULL) {
			g_autofree char *d64 =
			        g_base64_encode(g_bytes_get_data(der, NULL), g_bytes_get_size(der));
			json_object_set_string_member(res, "signature_der", d64);
		}
		break;
	}
	case SDR_SIG_RSA_PSS:
		json_object_set_string_member(res, "signature_algorithm", "rsa-pss");
		break;
	case SDR_SIG_RSA_PKCS1:
	default:
		json_object_set_string_member(res, "signature_algorithm", "rsa-pkcs1");
		break;
	}
	{
		unsigned char *der = NULL;
		int dlen = i2d_X509(sdr_signer_get_cert(signer), &der);
		if (dlen > 0) {
			g_autofree char *c64 = g_base64_encode(der, (gsize)dlen);
			json_object_set_string_member(res, "certificate", c64);
		}
		OPENSSL_free(der);
	}
	chain = json_array_new();
	sk = sdr_signer_get_chain(signer);
	for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
		unsigned char *der = NULL;
		int dlen = i2d_X509(sk_X509_value(sk, i), &der);
		if (dlen > 0) {
			g_autofree char *c64 = g_base64_encode(der, (gsize)dlen);
			json_array_add_string_element(chain, c64);
		}
		OPENSSL_free(der);
	}
	json_object_set_array_member(res, "chain", chain);
	json_object_set_string_member(res, "status", "ok");
	results = json_array_new();
	json_array_add_object_element(results, res);
	out = json_object_new();
	json_object_set_array_member(out, "results", results);
	json_object_set_string_member(out, "certificate", cert->id);
	return sdr_json_node_take(out);
}

JsonNode *
sdr_handle_sign(SdrContext *ctx, JsonObject *request, GError **error)
{
	SignJob job = { 0 };
	g_autoptr(JsonObject) no_options = json_object_new();
	JsonObject *options = NULL;
	JsonArray *doc_array = NULL;
	g_autoptr(GPtrArray) docs = g_ptr_array_new_with_free_func(sign_doc_free);
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(GPtrArray) candidates = NULL;
	g_autoptr(SdrTokenSession) session = NULL;
	g_autoptr(SdrSigner) token_signer = NULL;
	const SdrCertInfo *cert;
	gboolean digest_mode;
	const char *mode;
	JsonNode *answer = NULL;
	JsonArray *results;
	JsonObject *out;
	int chosen;
	guint n_ok = 0, n_failed = 0;

	job.ctx = ctx;
	if (json_object_has_member(request, "options")) {
		JsonNode *n = json_object_get_member(request, "options");
		if (!JSON_NODE_HOLDS_OBJECT(n)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("“options” must be an object."));
			goto out;
		}
		options = json_node_get_object(n);
	}
	job.options = options != NULL ? options : no_options;
	mode = sdr_json_get_string(request, "mode", sdr_json_get_string(job.options, "mode", NULL));
	digest_mode = g_strcmp0(mode, "digest") == 0;
	job.format = sdr_json_get_string(request, "format", digest_mode ? "raw" : NULL);
	if (!digest_mode && (job.format == NULL || !g_strv_contains(known_formats, job.format))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Unknown format “%s” (cades, xades, pades, pes, actes or marche)."),
		            job.format != NULL ? job.format : "");
		goto out;
	}
	if (!read_common_options(&job, request, error))
		goto out;
	if (!digest_mode && g_str_equal(job.format, "pes")) {
		g_autofree char *city = config_string(&job, "city");
		g_autofree char *postal = config_string(&job, "postal_code");

		if (!sdr_pes_check_place(city, postal, error))
			goto out; /* before any prompt: no PIN typed for nothing */
	}
	if (digest_mode)
		job.mode = NULL;
	job.output = sdr_json_get_string(request, "output", NULL);
	job.output_dir = sdr_json_get_string(request, "output_dir", NULL);
	job.in_place = sdr_json_get_bool(request, "in_place", FALSE);
	if (!digest_mode && !check_in_place(&job, error))
		goto out;
	if ((job.output != NULL || job.output_dir != NULL || job.in_place) &&
	    sdr_context_get_origin(ctx) != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Output files are only chosen from the command line."));
		goto out;
	}

	if (job.output_dir != NULL && g_mkdir_with_parents(job.output_dir, 0755) != 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s: %s"),
		            job.output_dir, g_strerror(e));
		goto out;
	}

	/* Documents first: a missing file is reported before any prompt. */
	if (!digest_mode) {
		JsonNode *n = json_object_get_member(request, "documents");
		if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n) ||
		    json_array_get_length(json_node_get_array(n)) == 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("No document to sign."));
			goto out;
		}
		doc_array = json_node_get_array(n);
		if (json_array_get_length(doc_array) > SDR_SIGN_MAX_DOCS) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("Too many documents in one request."));
			goto out;
		}
		for (guint i = 0; i < json_array_get_length(doc_array); i++) {
			SignDoc *d = load_doc(&job, json_array_get_element(doc_array, i), i, error);
			if (d == NULL)
				goto out;
			g_ptr_array_add(docs, d);
		}
		if (job.output != NULL && docs->len > 1) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("--output names one file: use --output-dir for several "
			              "documents."));
			goto out;
		}
	}

	/* The certificate. */
	certs = sdr_context_list_signing_certs(ctx, error);
	if (certs == NULL)
		goto out;
	chosen = choose_cert(&job, certs, sdr_json_get_string(request, "certificate", NULL), error);
	if (chosen < 0)
		goto out;
	cert = g_ptr_array_index(certs, chosen);
	job.cert = cert;

	/* Trust store (chain building for B-LT and the chain embedded). */
	job.trust = sdr_context_get_trust(ctx, NULL);

	/* One consent for the batch. */
	if (digest_mode) {
		SignDoc *d = g_new0(SignDoc, 1);
		const char *b64 = sdr_json_get_string(
		        request, "digest", sdr_json_get_string(job.options, "digest", ""));
		d->name = g_strdup(_("data to sign (digest)"));
		d->mime = g_strdup("application/octet-stream");
		d->size = strlen(b64) / 4 * 3;
		g_strlcpy(d->sha256, b64, sizeof d->sha256);
		for (char *p = d->sha256; *p != '\0'; p++) {
			if (!g_ascii_isalnum(*p))
				*p = '_';
		}
		g_ptr_array_add(docs, d);
	}
	if (!ask_consent(&job, cert, docs, job.format, error))
		goto out;

	/* One login. */
	if (sdr_context_get_file_signer(ctx) != NULL) {
		job.signer = sdr_context_get_file_signer(ctx);
	} else {
		SdrTokenManager *tm = sdr_context_get_token_manager(ctx, error);
		g_autoptr(GPtrArray) all = NULL;
		GPtrArray *anchors = sdr_context_get_anchor_certs(ctx);

		if (tm == NULL)
			goto out;
		session = sdr_token_session_open(tm, cert->id, error);
		if (session == NULL)
			goto out;
		if (!sdr_token_session_login(session, pin_from_prompt, ctx, error)) {
			audit(&job, cert->id, NULL, sdr_error_code_name((*error)->code));
			if (g_error_matches(*error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT))
				g_prefix_error(error, _("Wrong PIN, nothing was signed. "));
			else if (g_error_matches(*error, SDR_ERROR, SDR_ERROR_PIN_LOCKED))
				g_prefix_error(error,
				               _("The key is blocked, nothing was signed. "));
			goto out;
		}
		candidates = g_ptr_array_new();
		all = sdr_token_manager_list_certificates(tm, NULL);
		for (guint i = 0; all != NULL && i < all->len; i++)
			g_ptr_array_add(candidates,
			                ((SdrCertInfo *)g_ptr_array_index(all, i))->cert);
		for (guint i = 0; anchors != NULL && i < anchors->len; i++)
			g_ptr_array_add(candidates, g_ptr_array_index(anchors, i));
		token_signer = sdr_token_signer_new(session, candidates, error);
		if (token_signer == NULL)
			goto out;
		job.signer = token_signer;
	}

	if (digest_mode) {
		answer = sign_digest_mode(&job, request, certs, chosen, job.signer, error);
		goto out;
	}

	results = json_array_new();
	for (guint i = 0; i < docs->len; i++) {
		SignDoc *d = g_ptr_array_index(docs, i);
		JsonObject *r = json_object_new();
		g_autoptr(GError) e = NULL;

		json_object_set_string_member(r, "name", d->name);
		if (d->path != NULL)
			json_object_set_string_member(r, "path", d->path);
		json_object_set_string_member(r, "sha256", d->sha256);
		if (sign_one(&job, d, r, &e)) {
			json_object_set_string_member(r, "status", "ok");
			audit(&job, cert->id, d->sha256, "ok");
			n_ok++;
		} else {
			audit(&job, cert->id, d->sha256,
			      e->domain == SDR_ERROR ? sdr_error_code_name(e->code) : "error");
			if (!error_is_per_document(e)) {
				json_object_unref(r);
				json_array_unref(results);
				g_propagate_error(error, g_steal_pointer(&e));
				goto out;
			}
			json_object_set_string_member(
			        r, "status",
			        g_error_matches(e, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED)
			                ? "already_signed"
			                : "error");
			json_object_set_object_member(r, "error", sdr_json_from_error(e));
			n_failed++;
		}
		json_array_add_object_element(results, r);
	}
	out = json_object_new();
	json_object_set_string_member(out, "format", job.format);
	json_object_set_string_member(out, "certificate", cert->id);
	sdr_handlers_add_cert_expiry(ctx, out, cert);
	json_object_set_int_member(out, "signed", n_ok);
	json_object_set_int_member(out, "failed", n_failed);
	json_object_set_array_member(out, "results", results);
	answer = sdr_json_node_take(out);
out:
	/* The session logs out when freed, after the signer that uses it. */
	g_clear_pointer(&token_signer, sdr_signer_free);
	sign_job_clear(&job);
	return answer;
}
