/* sdr-handlers-verify.c - "verify": every signature of every file, one verdict
 * each. Files by path (CLI) or by base64 data (bridge; written to a private
 * temporary folder for the verifiers, removed afterwards). */
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-handlers-private.h"
#include "sdr-json.h"
#include "sdr-time.h"

#include "sdr-report.h"
#include "sdr-revocation.h"
#include "sdr-tl.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#define SDR_VERIFY_MAX_FILES 1000
#define SDR_VERIFY_MAX_DATA SDR_HANDLER_MAX_DOCUMENT_SIZE

static GBytes *
decode_b64(const char *data, const char *what, GError **error)
{
	gsize len = strlen(data), out_len = 0;
	guchar *raw;

	if (len / 4 * 3 > SDR_VERIFY_MAX_DATA) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("%s is too large."), what);
		return NULL;
	}
	if (!sdr_handlers_check_base64(data)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("%s: “data” is not base64."),
		            what);
		return NULL;
	}
	raw = g_base64_decode(data, &out_len);
	return g_bytes_new_take(raw, out_len);
}

static gboolean
safe_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > 255 ||
	    !g_utf8_validate(name, -1, NULL) || strchr(name, '/') != NULL ||
	    strchr(name, '\\') != NULL || g_str_equal(name, ".") || g_str_equal(name, ".."))
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if ((guchar)*p < 0x20)
			return FALSE;
	}
	return TRUE;
}

static void
remove_tree(const char *dir)
{
	g_autoptr(GDir) d = dir != NULL ? g_dir_open(dir, 0, NULL) : NULL;
	const char *n;

	if (d == NULL)
		return;
	while ((n = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(dir, n, NULL);
		(void)g_unlink(p);
	}
	(void)g_rmdir(dir);
}

/* The cache of `sinadur trust update` and of the agent (sdr-tl-cache.h), checked
 * again now; nothing when it is not configured, misconfigured or empty. */
static gboolean
load_cached_lists(SdrContext *ctx, SdrTlSet **out, GError **error)
{
	g_autoptr(SdrTlCacheConfig) cc = sdr_handlers_tl_cache_config(ctx, NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	/* A broken [trust] section is for doctor to say; verification goes on without
	 * lists (signatures then rest on the trust anchors only). */
	(void)error;
	if (cc != NULL && cc->signers->len > 0)
		*out = sdr_tl_cache_load(cc, now, NULL);
	return TRUE;
}

/* The trusted lists to qualify with: "tl" (paths, command line only), else the
 * configuration's [trust] tl_dir, else the cache. *out stays NULL when there are
 * none. */
static gboolean
load_trusted_lists(SdrContext *ctx, JsonObject *request, gboolean from_web, SdrTlSet **out,
                   GError **error)
{
	JsonNode *tl_node = json_object_get_member(request, "tl");
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(SdrTlSet) set = NULL;
	g_autofree char *dir = NULL;

	if (tl_node != NULL) {
		JsonArray *a = JSON_NODE_HOLDS_ARRAY(tl_node) ? json_node_get_array(tl_node) : NULL;

		if (a == NULL || from_web) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Trusted lists are only chosen from the command line."));
			return FALSE;
		}
		for (guint i = 0; i < json_array_get_length(a); i++) {
			const char *p = json_array_get_string_element(a, i);

			if (p != NULL)
				g_ptr_array_add(paths, g_strdup(p));
		}
	} else {
		dir = sdr_config_get_string(sdr_context_get_config(ctx), "trust", "tl_dir", NULL);
		if (dir != NULL && *dir != '\0')
			g_ptr_array_add(paths, g_strdup(dir));
	}
	if (paths->len == 0)
		return load_cached_lists(ctx, out, error);
	g_ptr_array_add(paths, NULL);
	set = sdr_tl_set_new();
	if (!sdr_tl_set_add_files(set, (const char *const *)paths->pdata, error))
		return FALSE;
	{
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();

		sdr_tl_set_check(set, now);
	}
	*out = g_steal_pointer(&set);
	return TRUE;
}

/* With the network allowed, completes each signer's chain with the issuers its AIA
 * names (caIssuers), so that a trusted list's service above an intermediate CA the
 * signature does not carry is found (at most 5 certificates fetched per signature). */
typedef struct {
	const char *path;
	const SdrVerifyOptions *options;
} Reverify;

/* The file verified again with the trusted-list services as anchors (sdr-tl.h). */
static SdrVerifyReport *
reverify(X509_STORE *anchors, gpointer data)
{
	const Reverify *rv = data;
	SdrVerifyOptions o = *rv->options;

	o.trust = anchors;
	return sdr_verify_file(rv->path, &o, NULL);
}

static void
complete_chains(SdrVerifyReport *report)
{
	for (guint i = 0; i < report->signatures->len; i++) {
		SdrSignatureResult *r = g_ptr_array_index(report->signatures, i);

		if (r->signer == NULL)
			continue;
		if (r->chain->len == 0) {
			X509_up_ref(r->signer);
			g_ptr_array_add(r->chain, r->signer);
		}
		for (guint n = 0; n < 5; n++) {
			X509 *top = g_ptr_array_index(r->chain, r->chain->len - 1);
			X509 *issuer = NULL;
			gboolean known = FALSE;

			if (X509_check_issued(top, top) == X509_V_OK)
				break;
			for (guint k = 0; k < r->chain->len && !known; k++)
				known = k + 1 < r->chain->len &&
				        X509_check_issued(g_ptr_array_index(r->chain, k), top) ==
				                X509_V_OK;
			if (known)
				break;
			issuer = sdr_revocation_fetch_issuer(top, NULL);
			if (issuer == NULL)
				break;
			g_ptr_array_add(r->chain, issuer);
		}
	}
}

/* long: the verify request read in order (documents, content, time, trusted lists,
 * report), then one verdict per file; each step is a short block. */
JsonNode *
sdr_handle_verify(SdrContext *ctx, JsonObject *request, GError **error)
{
	gboolean from_web = sdr_context_get_origin(ctx) != NULL;
	JsonNode *files_node = json_object_get_member(request, "files");
	JsonNode *content_node = json_object_get_member(request, "content");
	const char *at = sdr_json_get_string(request, "at", NULL);
	const char *report_path = sdr_json_get_string(request, "report", NULL);
	g_autoptr(GDateTime) at_time = NULL;
	g_autoptr(GBytes) content = NULL;
	g_autofree char *tmpdir = NULL;
	g_autoptr(GPtrArray) reports =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sdr_verify_report_free);
	SdrVerifyOptions vopts = { 0 };
	g_autoptr(SdrTlSet) tl_set = NULL;
	JsonArray *files, *out_files;
	JsonObject *out;
	JsonNode *answer = NULL;
	SdrVerdict overall = SDR_VERDICT_VALID;
	guint n_files;

	if (files_node == NULL)
		files_node = json_object_get_member(request, "documents");
	if (files_node == NULL || !JSON_NODE_HOLDS_ARRAY(files_node) ||
	    json_array_get_length(json_node_get_array(files_node)) == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("No file to verify."));
		return NULL;
	}
	files = json_node_get_array(files_node);
	n_files = json_array_get_length(files);
	if (n_files > SDR_VERIFY_MAX_FILES) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE, _("Too many files."));
		return NULL;
	}
	if (from_web && report_path != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Output files are only chosen from the command line."));
		return NULL;
	}
	if (at != NULL) {
		at_time = sdr_time_parse_iso8601(at);
		if (at_time == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("“%s” is not a date (ISO 8601, e.g. 2026-11-22T10:00:00Z)."),
			            at);
			return NULL;
		}
	}
	vopts.trust = sdr_context_get_trust(ctx, error);
	if (vopts.trust == NULL)
		return NULL;
	if (!load_trusted_lists(ctx, request, from_web, &tl_set, error))
		return NULL;
	vopts.at = at_time;
	/* Revocation the signature does not carry is fetched (OCSP from AIA, else the
	 * CRL) unless --offline; for a web origin only when asked ("online"): a page must
	 * not make the agent reach the URLs of a certificate it chose. */
	if (from_web)
		vopts.online = sdr_json_get_bool(request, "online", FALSE);
	else
		vopts.online = sdr_json_get_bool(request, "online", TRUE) &&
		               !sdr_json_get_bool(request, "offline", FALSE);
	vopts.require_revocation = sdr_config_get_bool(sdr_context_get_config(ctx), "verify",
	                                               "require_revocation", FALSE);
	if (content_node != NULL) {
		if (JSON_NODE_HOLDS_VALUE(content_node) &&
		    json_node_get_value_type(content_node) == G_TYPE_STRING && !from_web) {
			vopts.content_path = json_node_get_string(content_node);
		} else if (JSON_NODE_HOLDS_OBJECT(content_node)) {
			const char *d = sdr_json_get_string(json_node_get_object(content_node),
			                                    "data", NULL);
			if (d == NULL || (content = decode_b64(d, "content", error)) == NULL) {
				if (d == NULL)
					g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
					            _("“content” needs “data”."));
				return NULL;
			}
			vopts.content = content;
		} else {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("“content” is not understood."));
			return NULL;
		}
	}

	out_files = json_array_new();
	for (guint i = 0; i < n_files; i++) {
		JsonNode *n = json_array_get_element(files, i);
		JsonObject *fo = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
		const char *path = NULL;
		const char *data = sdr_json_get_string(fo, "data", NULL);
		const char *name = sdr_json_get_string(fo, "name", NULL);
		g_autofree char *tmp_path = NULL;
		g_autoptr(GError) e = NULL;
		SdrVerifyReport *report;
		JsonObject *ro;

		if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
			path = json_node_get_string(n);
		else
			path = sdr_json_get_string(fo, "path", NULL);
		if (path != NULL && from_web) {
			g_set_error(
			        error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			        _("Document %u: files are only accepted from the command line."),
			        i + 1);
			goto fail;
		}
		if (path == NULL) {
			g_autoptr(GBytes) bytes = NULL;

			if (data == NULL || !safe_name(name)) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
				            _("File %u: give “path”, or “name” and “data”."),
				            i + 1);
				goto fail;
			}
			bytes = decode_b64(data, name, error);
			if (bytes == NULL)
				goto fail;
			if (tmpdir == NULL) {
				tmpdir = g_dir_make_tmp("sinadur-verify-XXXXXX", error);
				if (tmpdir == NULL)
					goto fail;
			}
			tmp_path = g_build_filename(tmpdir, name, NULL);
			if (!sdr_file_write_atomic(tmp_path, g_bytes_get_data(bytes, NULL),
			                           g_bytes_get_size(bytes), error))
				goto fail;
			path = tmp_path;
		}
		report = sdr_verify_file(path, &vopts, &e);
		if (report == NULL) {
			ro = json_object_new();
			json_object_set_string_member(ro, "file", name != NULL ? name : path);
			json_object_set_string_member(ro, "verdict", "INDETERMINATE");
			json_object_set_object_member(ro, "error", sdr_json_from_error(e));
			json_object_set_array_member(ro, "signatures", json_array_new());
			json_object_set_array_member(ro, "notes", json_array_new());
			if (overall == SDR_VERDICT_VALID)
				overall = SDR_VERDICT_INDETERMINATE;
		} else {
			SdrVerdict v;

			if (tl_set != NULL && vopts.online)
				complete_chains(report);
			if (tl_set != NULL) {
				Reverify rv = { path, &vopts };

				sdr_tl_qualify_report_full(tl_set, report, at_time, reverify, &rv);
			}
			v = sdr_verify_report_overall(report);

			if (tmp_path != NULL) {
				g_free(report->file);
				report->file = g_strdup(name);
			}
			ro = sdr_json_from_verify_report(report);
			if (v == SDR_VERDICT_INVALID ||
			    (v == SDR_VERDICT_INDETERMINATE && overall == SDR_VERDICT_VALID))
				overall = v;
			g_ptr_array_add(reports, report);
		}
		json_array_add_object_element(out_files, ro);
		if (tmp_path != NULL)
			(void)g_unlink(tmp_path);
	}

	out = json_object_new();
	json_object_set_string_member(out, "verdict", sdr_json_verdict_name(overall));
	json_object_set_array_member(out, "files", out_files);
	out_files = NULL;
	if (report_path != NULL) {
		if (!sdr_report_write_html(reports, report_path, error)) {
			json_object_unref(out);
			goto fail;
		}
		json_object_set_string_member(out, "report", report_path);
	}
	answer = sdr_json_node_take(out);
fail:
	if (out_files != NULL)
		json_array_unref(out_files);
	remove_tree(tmpdir);
	return answer;
}
