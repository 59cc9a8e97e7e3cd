/* sdr-engine.c - "sign": the batch engine. A batch of documents, one consent, one login.
 *
 * Request and answer shapes: docs/internals/agent-core.md. Documents come by path
 * (the CLI: outputs written next to them or where asked) or by base64 data (the
 * bridge: outputs returned in base64). The format code lives in formats/, each format's
 * adapter in sdr-sign-formats.c; this file reads and hashes each document once, runs
 * the preflight, chooses the certificate, asks consent and the PIN, and hands each
 * document to its adapter, then publishes the output and writes the audit.
 */
#include "sdr-audit.h"
#include "sdr-cms.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-sign-private.h"
#include "sdr-json.h"
#include "sdr-marche.h"
#include "sdr-pades.h"
#include "sdr-pes.h"
#include "sdr-sanitize.h"
#include "sdr-time.h"
#include "sdr-token-signer.h"
#include "sdr-verify.h"
#include "sdr-xades.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SDR_SIGN_MAX_DOCS 10000

/* The core's token lock around one piece of token work (never a prompt). */
static void
token_enter(SignJob *job)
{
	if (job->uses_token)
		sdr_context_lock_token(job->ctx);
}

static void
token_leave(SignJob *job)
{
	if (job->uses_token)
		sdr_context_unlock_token(job->ctx);
}

static void
sign_doc_free(gpointer p)
{
	SignDoc *d = p;

	g_free(d->name);
	g_free(d->path);
	g_free(d->mime);
	EVP_MD_CTX_free(d->state);
	if (d->data != NULL)
		g_bytes_unref(d->data);
	g_clear_error(&d->refused);
	g_free(d->signed_output);
	g_free(d->out_path);
	if (d->out_tmp != NULL)
		(void)g_unlink(d->out_tmp);
	g_free(d->out_tmp);
	g_free(d);
}

static void
sign_job_clear(SignJob *job)
{
	g_free(job->tsa_url);
	g_free(job->signer_name);
}

/* ---- Documents ---------------------------------------------------------------- */

/* A document without a declared type: PDF by its bytes (sdr_pades_is_pdf), else by its
 * name (a ".pdf" that is not a PDF is not called one: the preflight refuses it). */
static const char *
guess_mime(SignDoc *doc)
{
	const char *name = doc->name;

	if (sdr_pades_is_pdf(doc->head, doc->head_len))
		return "application/pdf";
	if (g_str_has_suffix(name, ".pdf") || g_str_has_suffix(name, ".PDF"))
		return "application/octet-stream";
	if (g_str_has_suffix(name, ".xml") || g_str_has_suffix(name, ".XML"))
		return "text/xml";
	if (g_str_has_suffix(name, ".txt"))
		return "text/plain";
	return "application/octet-stream";
}

static gboolean
valid_doc_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > SDR_SIGN_MAX_NAME)
		return FALSE;
	/* Nothing a display would act on or hide (controls, bidi, zero-width...). */
	if (!sdr_sanitize_is_clean(name))
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
load_doc(SignJob *job, JsonNode *node, guint index, GCancellable *cancellable, GError **error)
{
	JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	const char *path = sdr_json_get_string(o, "path", NULL);
	const char *data = sdr_json_get_string(o, "data", NULL);
	const char *name = sdr_json_get_string(o, "name", NULL);
	const char *type = sdr_json_get_string(o, "type", NULL);
	SignDoc *doc;

	if (o == NULL || (path == NULL) == (data == NULL)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Document %u: give either “path” or “data”."), index + 1);
		return NULL;
	}
	if (type != NULL && !sdr_sanitize_is_media_type(type)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Document %u: “type” is not a media type (RFC 6838)."), index + 1);
		return NULL;
	}
	doc = g_new0(SignDoc, 1);
	if (path != NULL) {
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
	} else {
		gsize len = strlen(data);
		gsize out_len = 0;
		guchar *raw;

		if (!valid_doc_name(name)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("Document %u: a valid “name” is required."), index + 1);
			goto fail;
		}
		if (len / 4 * 3 > SDR_HANDLER_MAX_DOCUMENT_SIZE) {
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
	}
	if (!sdr_sign_hash_doc(doc, job->hash, cancellable, error))
		goto fail;
	doc->mime = g_strdup(type != NULL ? type : guess_mime(doc));
	return doc;
fail:
	sign_doc_free(doc);
	return NULL;
}

/* ---- Outputs ------------------------------------------------------------------ */

/* Where a CLI output goes by default: --output-dir/NAME, or next to the input. */
static char *
default_output_path(SignJob *job, SignDoc *doc, SignKind kind)
{
	g_autofree char *base = sdr_sign_default_output_name(kind, doc->name);
	g_autofree char *dir = NULL;

	/* A signed copy of a PES or an XML file keeps its name in another folder. */
	if (job->output_dir != NULL && (kind == KIND_PES || kind == KIND_XADES_ENVELOPED))
		return g_build_filename(job->output_dir, doc->name, NULL);
	if (job->output_dir != NULL)
		return g_build_filename(job->output_dir, base, NULL);
	dir = g_path_get_dirname(doc->path);
	if (g_str_equal(dir, ".") && !g_str_has_prefix(doc->path, "./"))
		return g_steal_pointer(&base);
	return g_build_filename(dir, base, NULL);
}

/* ---- Formats ------------------------------------------------------------------ */

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

SdrSecret *
sdr_handlers_pin_from_prompt(const SdrPinRequest *req, gpointer user_data, GError **error)
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
	p.protected_path = req->protected_path;
	p.min_len = req->min_len;
	p.max_len = req->max_len;
	p.rejected = req->rejected;
	/* Prompts never run under the token lock: other requests (a certificate
	 * list) use the token meanwhile; the batch holds its token manager. */
	guint depth = sdr_context_suspend_token();
	SdrSecret *pin = NULL;

	/* A refused answer (req->rejected) came after this login's confirmation. */
	if (req->final_try && req->rejected == NULL &&
	    !sdr_prompt_confirm_final_try(prompt, &p, error)) {
		pin = NULL;
	} else if (req->protected_path) {
		/* Said before C_Login blocks in the key's own PIN window or PIN pad. */
		sdr_handler_call_notify(ctx, _("Type the PIN in the window of the key's software "
		                               "or on the reader's keypad, not here."));
		pin = sdr_secret_new();
	} else {
		pin = sdr_prompt_ask_pin(prompt, &p, error);
	}
	sdr_context_resume_token(ctx, depth);
	return pin;
}

/* ---- Preflight: everything that can be checked without the key ----------------- */

/* TRUE when the file at path begins with the bytes of input (a PAdES output is the
 * original followed by the incremental update). */
static gboolean
starts_with_file(const char *path, const char *input)
{
	g_autofree guint8 *a = g_malloc(64 * 1024);
	g_autofree guint8 *b = g_malloc(64 * 1024);
	FILE *fa = fopen(path, "rb");
	FILE *fb = fopen(input, "rb");
	gboolean same = fa != NULL && fb != NULL;

	while (same) {
		size_t nb = fread(b, 1, 64 * 1024, fb);

		if (nb == 0)
			break;
		same = fread(a, 1, nb, fa) == nb && memcmp(a, b, nb) == 0;
	}
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	return same;
}

/* The trust store, loaded on first use: only B-LT and above (revocation data) and the
 * check of an earlier output need it, and loading the system's costs more than the
 * rest of the start-up. */
static X509_STORE *
job_trust(SignJob *job)
{
	if (job->trust == NULL)
		job->trust = sdr_context_get_trust(job->ctx, NULL);
	return job->trust;
}

/* A signature that is intact: VALID, or INDETERMINATE only because of trust. */
static gboolean
signature_intact(const SdrSignatureResult *sig)
{
	if (sig->verdict == SDR_VERDICT_VALID)
		return TRUE;
	if (sig->verdict != SDR_VERDICT_INDETERMINATE)
		return FALSE;
	for (guint i = 0; sig->reasons != NULL && i < sig->reasons->len; i++) {
		const SdrReason *r = g_ptr_array_index(sig->reasons, i);

		if (r->code != SDR_REASON_CHAIN_NOT_TRUSTED &&
		    r->code != SDR_REASON_REVOCATION_UNKNOWN)
			return FALSE;
	}
	return TRUE;
}

/* TRUE when the file at path is an intact signature of doc by the chosen certificate,
 * at the level asked or above. */
static gboolean
output_signs_doc(SignJob *job, SignDoc *doc, SignKind kind, const char *path)
{
	SdrVerifyOptions vo = { 0 };
	g_autoptr(SdrVerifyReport) report = NULL;

	vo.trust = job_trust(job);
	if (kind == KIND_CADES_DETACHED || kind == KIND_ACTES_PEM || kind == KIND_XADES_DETACHED)
		vo.content_path = doc->path;
	if (kind == KIND_PADES && !starts_with_file(path, doc->path))
		return FALSE;
	report = sdr_verify_file(path, &vo, NULL);
	for (guint i = 0; report != NULL && i < report->signatures->len; i++) {
		const SdrSignatureResult *sig = g_ptr_array_index(report->signatures, i);

		/* SdrLevel counts from SDR_LEVEL_B_B = 1, SdrTargetLevel from B = 0. */
		if (sig->signer != NULL && X509_cmp(sig->signer, job->cert->cert) == 0 &&
		    signature_intact(sig) && (int)sig->level >= (int)job->level + 1)
			return TRUE;
	}
	return FALSE;
}

/* Re-running a batch signs only what is left: the default output name (or one of its
 * numbered successors) that already holds an intact signature of this document by
 * this certificate. NULL when there is none. */
static char *
find_signed_output(SignJob *job, SignDoc *doc, SignKind kind, const char *first)
{
	for (guint n = 1; n < 100; n++) {
		g_autofree char *p = n == 1 ? g_strdup(first) : sdr_sign_numbered_path(first, n);

		if (!g_file_test(p, G_FILE_TEST_IS_REGULAR))
			break;
		if (output_signs_doc(job, doc, kind, p))
			return g_steal_pointer(&p);
	}
	return NULL;
}

/* Chooses the output of a CLI document and reserves a temporary file next to it
 * (which proves the folder writable). The input is never an output unless
 * --in-place; an existing file is replaced only with --overwrite; a default name that
 * is taken becomes the next free numbered name when the output is published. */
static gboolean
plan_output(SignJob *job, SignDoc *doc, SignKind kind, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *base = NULL;
	struct stat st;
	guint mode = 0644;
	gboolean exists;
	gsize name_max;

	if (job->in_place) {
		doc->out_path = g_strdup(doc->path);
		doc->out_replace = TRUE;
	} else if (job->output != NULL) {
		doc->out_path = g_strdup(job->output);
	} else {
		doc->out_path = default_output_path(job, doc, kind);
		doc->out_numbered = TRUE;
	}
	if (!job->in_place && sdr_file_is_same(doc->out_path, doc->path)) {
		if (kind == KIND_PADES || kind == KIND_PES || kind == KIND_XADES_ENVELOPED)
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("%s is the document to sign: it is not overwritten. Choose "
			              "another output, or --in-place to add the signature to it."),
			            doc->out_path);
		else
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("%s is the document to sign: it is not overwritten. Choose "
			              "another output."),
			            doc->out_path);
		return FALSE;
	}
	dir = g_path_get_dirname(doc->out_path);
	base = g_path_get_basename(doc->out_path);
	name_max = sdr_file_name_max(dir);
	if (strlen(base) > name_max) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("The output name “%s” is too long for the folder %s (%u bytes at "
		              "most): choose a shorter one with --output."),
		            base, dir, (guint)name_max);
		return FALSE;
	}
	exists = stat(doc->out_path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("%s exists and is not a regular file."), doc->out_path);
		return FALSE;
	}
	if (exists && !job->in_place) {
		if (job->overwrite) {
			doc->out_replace = TRUE;
		} else if (!doc->out_numbered) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("%s already exists: it is not replaced. Choose another "
			              "output, or --overwrite to replace it."),
			            doc->out_path);
			return FALSE;
		}
	}
	if (exists && doc->out_replace)
		mode = st.st_mode & 07777;
	doc->out_tmp = sdr_file_reserve_temp(dir, mode, error);
	return doc->out_tmp != NULL;
}

/* One document before the PIN: its content, an earlier output that signs it already,
 * its output. A refusal is kept in doc->refused (said before the PIN, never signed);
 * FALSE only for an error of the whole request. */
static gboolean
preflight_doc(SignJob *job, SignDoc *doc, GError **error)
{
	SignKind kind;
	GError *e = NULL;

	if (!sdr_sign_doc_kind(job, doc, &kind, &e)) {
		/* A mode the format does not take concerns the request, the rest (not a
		 * PDF...) this document. */
		if (g_error_matches(e, SDR_ERROR, SDR_ERROR_BAD_REQUEST)) {
			g_propagate_error(error, e);
			return FALSE;
		}
		doc->refused = e;
		return TRUE;
	}
	if (!sdr_sign_check_content(job, doc, kind, &e)) {
		doc->refused = e;
		return TRUE;
	}
	if (doc->path == NULL)
		return TRUE;
	if (job->output == NULL && !job->in_place && !job->overwrite) {
		g_autofree char *first = default_output_path(job, doc, kind);

		doc->signed_output = find_signed_output(job, doc, kind, first);
		if (doc->signed_output != NULL)
			return TRUE;
	}
	if (!plan_output(job, doc, kind, &e))
		doc->refused = e;
	return TRUE;
}

/* A cheap reachability probe (TCP connection, 5 s) of a service the signature needs,
 * so that a dead timestamping or OCSP server is said before the PIN. */
static gboolean
probe_service(SignJob *job, const char *what, const char *url, GError **error)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GError) local = NULL;
	guint16 port = g_str_has_prefix(url, "https:") ? 443 : 80;

	g_socket_client_set_timeout(client, 5);
	conn = g_socket_client_connect_to_uri(client, url, port,
	                                      sdr_handler_call_cancellable(job->ctx), &local);
	if (conn == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The %s %s does not answer (%s): nothing was signed and the PIN was "
		              "not asked. Try again later or check the network."),
		            what, url, local->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
probe_services(SignJob *job, GError **error)
{
	if (job->level >= SDR_TARGET_LEVEL_T && job->tsa_url != NULL &&
	    !probe_service(job, _("timestamping server"), job->tsa_url, error))
		return FALSE;
	if (job->level >= SDR_TARGET_LEVEL_LT && job->cert->cert != NULL) {
		STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(job->cert->cert);
		gboolean ok = TRUE;

		if (urls != NULL && sk_OPENSSL_STRING_num(urls) > 0)
			ok = probe_service(job, _("revocation (OCSP) server"),
			                   sk_OPENSSL_STRING_value(urls, 0), error);
		X509_email_free(urls);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

/* Preflight of the batch: *n_signable documents are left to sign. Refusals are told
 * through the prompt before the PIN when some documents are still signed. */
static gboolean
preflight(SignJob *job, GPtrArray *docs, guint *n_signable, GError **error)
{
	guint n = 0, n_refused = 0;

	for (guint i = 0; i < docs->len; i++) {
		SignDoc *d = g_ptr_array_index(docs, i);

		if (!preflight_doc(job, d, error))
			return FALSE;
		if (d->refused != NULL)
			n_refused++;
		else if (d->signed_output == NULL)
			n++;
	}
	if (n > 0 && !probe_services(job, error))
		return FALSE;
	if (n > 0 && n_refused > 0) {
		for (guint i = 0; i < docs->len; i++) {
			SignDoc *d = g_ptr_array_index(docs, i);
			g_autofree char *line = NULL;

			if (d->refused == NULL)
				continue;
			line = g_strdup_printf(_("✘ %s: %s — not signed"), d->name,
			                       d->refused->message);
			sdr_handler_call_notify(job->ctx, line);
		}
	}
	*n_signable = n;
	return TRUE;
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

/* Every value the request chose that is written into the signature, as the
 * consent shows it. Values are borrowed from job->options; strings of ours are
 * kept in keep. */
static GArray *
consent_details(SignJob *job, GPtrArray *keep)
{
	GArray *d = g_array_new(FALSE, TRUE, sizeof(SdrConsentDetail));
	JsonObject *o = job->options;
	const char *reason = sdr_json_get_string(o, "reason", NULL);
	const char *location = sdr_json_get_string(o, "location", NULL);
	JsonNode *bn = json_object_get_member(o, "bordereaux");
	SdrConsentDetail x;

	if (reason != NULL) {
		x = (SdrConsentDetail){ _("Reason"), reason };
		g_array_append_val(d, x);
	}
	if (location != NULL) {
		x = (SdrConsentDetail){ _("Location"), location };
		g_array_append_val(d, x);
	}
	if (sdr_json_get_bool(o, "visible", FALSE)) {
		char *v = g_strdup_printf(_("on page %d"),
		                          (int)CLAMP(sdr_json_get_int(o, "page", 1), 1, 100000));
		g_ptr_array_add(keep, v);
		x = (SdrConsentDetail){ _("Visible signature"), v };
		g_array_append_val(d, x);
	}
	if (bn != NULL && JSON_NODE_HOLDS_ARRAY(bn)) {
		JsonArray *a = json_node_get_array(bn);
		GString *v = g_string_new(NULL);

		for (guint i = 0; i < json_array_get_length(a) && v->len < 400; i++) {
			const char *id = json_array_get_string_element(a, i);
			g_string_append_printf(v, "%s%s", i > 0 ? ", " : "", id != NULL ? id : "?");
		}
		g_ptr_array_add(keep, g_string_free(v, FALSE));
		x = (SdrConsentDetail){ _("Bordereaux"), g_ptr_array_index(keep, keep->len - 1) };
		g_array_append_val(d, x);
	}
	if (sdr_json_get_bool(o, "pades", FALSE)) {
		x = (SdrConsentDetail){ _("Signature"), "PAdES" };
		g_array_append_val(d, x);
	}
	if (sdr_json_get_bool(o, "cades", FALSE)) {
		x = (SdrConsentDetail){ _("Signature"), "CAdES" };
		g_array_append_val(d, x);
	}
	return d;
}

static gboolean
ask_consent(SignJob *job, const SdrCertInfo *cert, GPtrArray *docs, const char *format,
            const char *digest_hex, GError **error)
{
	SdrConfig *config = sdr_context_get_config(job->ctx);
	g_autofree SdrConsentDocument *cds = g_new0(SdrConsentDocument, MAX(docs->len, 1));
	g_autofree char *shorts = g_malloc0((gsize)MAX(docs->len, 1) * 17);
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) details = NULL;
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
	if (digest_hex != NULL) {
		req.action = SDR_CONSENT_SIGN_DATA;
		req.digest_alg = sdr_hash_name(job->hash);
		req.digest_hex = digest_hex;
	} else {
		req.action = SDR_CONSENT_SIGN_DOCUMENTS;
		req.format = format;
		req.documents = cds;
		req.n_documents = docs->len;
		details = consent_details(job, keep);
		req.details = (const SdrConsentDetail *)(void *)details->data;
		req.n_details = details->len;
	}
	req.cert_subject = cert->subject_cn;
	req.cert_issuer = cert->issuer_cn;
	req.timeout_s = (guint)CLAMP(sdr_config_get_int(config, "bridge", "consent_timeout_s", 120),
	                             0, 3600);
	return sdr_prompt_ask_consent(sdr_context_get_prompt(job->ctx), &req, error);
}

/* Before the person approved the origin, an answer says nothing about the
 * certificates or keys: whichever way choosing one failed (none, unknown id,
 * several, expired, authentication only, no module), the same error. */
static void
hide_certificates(SdrContext *ctx, GError **error)
{
	if (error == NULL || *error == NULL || sdr_context_may_reveal_certificates(ctx))
		return;
	g_clear_error(error);
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONSENT_DENIED,
	                    _("List the certificates first: the user approves this site then"));
}

/* Refuses, before any prompt, what does not make one clear request: a digest
 * with documents, documents with a digest, options that would not be signed,
 * unknown modes. Fills *digest_hex (digest mode). */
static gboolean
check_request_shape(SignJob *job, JsonObject *request, gboolean digest_mode, char **digest_hex,
                    GError **error)
{
	static const char *const modes[] = { "detached", "attached", "enveloped", "enveloping",
		                             NULL };
	const char *req_mode = sdr_json_get_string(request, "mode", NULL);
	const char *f = job->format;

	if (req_mode != NULL && !digest_mode) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Unknown mode (“digest”, or none to sign documents)."));
		return FALSE;
	}
	if (job->mode != NULL && !g_strv_contains(modes, job->mode)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("Unknown signature mode (detached, attached, enveloped or "
		                      "enveloping)."));
		return FALSE;
	}
	if (digest_mode) {
		const char *b64 = sdr_json_get_string(request, "digest", NULL);
		g_autofree guchar *digest = NULL;
		gsize len = 0;
		JsonObjectIter it;
		const char *name;

		if (json_object_has_member(request, "documents") ||
		    json_object_has_member(request, "format")) {
			g_set_error_literal(
			        error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			        _("A digest is signed alone: “documents” and “format” do "
			          "not go with mode “digest”."));
			return FALSE;
		}
		json_object_iter_init(&it, job->options);
		while (json_object_iter_next(&it, &name, NULL)) {
			if (!g_str_equal(name, "hash")) {
				g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
				                    _("Signature options do not apply to a digest: "
				                      "only “hash”."));
				return FALSE;
			}
		}
		digest = b64 != NULL && strlen(b64) < 256 && sdr_handlers_check_base64(b64)
		                 ? g_base64_decode(b64, &len)
		                 : NULL;
		if (digest == NULL || len != sdr_hash_len(job->hash)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("“digest” must be the base64 of a %s digest."),
			            sdr_hash_name(job->hash));
			return FALSE;
		}
		*digest_hex = g_malloc0(2 * len + 1);
		for (gsize i = 0; i < len; i++)
			g_snprintf(*digest_hex + 2 * i, 3, "%02x", digest[i]);
		return TRUE;
	}
	if (json_object_has_member(request, "digest") || json_object_has_member(request, "data")) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		                    _("“digest” and “data” need mode “digest”: they do not go with "
		                      "documents."));
		return FALSE;
	}
	/* Said now rather than after the consent and the PIN. */
	if (g_str_equal(f, "cades") && job->mode != NULL && !g_str_equal(job->mode, "attached") &&
	    !g_str_equal(job->mode, "detached")) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("CAdES signatures are detached or attached, not %s."), job->mode);
		return FALSE;
	}
	if (g_str_equal(f, "xades") && g_strcmp0(job->mode, "attached") == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("XAdES signatures are detached, enveloped or enveloping, not %s."),
		            job->mode);
		return FALSE;
	}
	return TRUE;
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

/* ---- The batch ------------------------------------------------------------------ */

static JsonObject *
doc_result_new(SignDoc *d)
{
	JsonObject *r = json_object_new();

	json_object_set_string_member(r, "name", d->name);
	if (d->path != NULL)
		json_object_set_string_member(r, "path", d->path);
	json_object_set_string_member(r, "sha256", d->sha256);
	return r;
}

static void
doc_result_set_error(JsonObject *r, const GError *e)
{
	json_object_set_string_member(r, "status",
	                              g_error_matches(e, SDR_ERROR, SDR_ERROR_ALREADY_SIGNED)
	                                      ? "already_signed"
	                                      : "error");
	json_object_set_object_member(r, "error", sdr_json_from_error(e));
}

/* Signs the documents left after the preflight, in order; the result of each one
 * signed or tried goes into done (SignDoc* -> JsonObject*). An error that is not about
 * one document (the key removed, the network...) stops the batch: *stop. */
static void
sign_batch(SignJob *job, GPtrArray *docs, GHashTable *done, GError **stop)
{
	GCancellable *cancellable = sdr_handler_call_cancellable(job->ctx);
	guint total = 0, n_done = 0;

	for (guint i = 0; i < docs->len; i++) {
		SignDoc *d = g_ptr_array_index(docs, i);
		if (d->refused == NULL && d->signed_output == NULL)
			total++;
	}
	for (guint i = 0; i < docs->len; i++) {
		SignDoc *d = g_ptr_array_index(docs, i);
		JsonObject *r;
		g_autoptr(GError) e = NULL;
		gboolean ok;

		if (d->refused != NULL || d->signed_output != NULL)
			continue;
		/* Between two documents: those done stay complete, the rest untouched. */
		if (cancellable != NULL && g_cancellable_is_cancelled(cancellable)) {
			g_set_error(stop, SDR_ERROR, SDR_ERROR_CANCELLED,
			            _("Cancelled: the documents signed before are complete, the "
			              "others were not signed."));
			return;
		}
		sdr_handler_call_progress(job->ctx, n_done, total, d->name);
		r = doc_result_new(d);
		g_hash_table_insert(done, d, r);
		token_enter(job);
		ok = sdr_sign_one(job, d, r, &e);
		token_leave(job);
		n_done++;
		if (ok) {
			json_object_set_string_member(r, "status", "ok");
			audit(job, job->cert->id, d->sha256, "ok");
			continue;
		}
		audit(job, job->cert->id, d->sha256,
		      e->domain == SDR_ERROR ? sdr_error_code_name(e->code) : "error");
		doc_result_set_error(r, e);
		if (!error_is_per_document(e)) {
			g_propagate_error(stop, g_steal_pointer(&e));
			return;
		}
	}
	sdr_handler_call_progress(job->ctx, n_done, total, NULL);
}

/* The answer of a batch: one result per document in request order, the counts, and
 * the error that stopped it (the documents after it: "not_signed"). Shape:
 * docs/internals/agent-core.md. done may be NULL (nothing was tried). */
static JsonNode *
batch_answer(SignJob *job, GPtrArray *docs, GHashTable *done, const GError *stop)
{
	JsonObject *out = json_object_new();
	JsonArray *results = json_array_new();
	guint n_ok = 0, n_failed = 0, n_skipped = 0, n_not = 0;

	for (guint i = 0; i < docs->len; i++) {
		SignDoc *d = g_ptr_array_index(docs, i);
		JsonObject *r = done != NULL ? g_hash_table_lookup(done, d) : NULL;

		if (r != NULL) {
			json_object_ref(r);
			if (g_strcmp0(sdr_json_get_string(r, "status", NULL), "ok") == 0)
				n_ok++;
			else
				n_failed++;
		} else if (d->refused != NULL) {
			r = doc_result_new(d);
			doc_result_set_error(r, d->refused);
			n_failed++;
		} else if (d->signed_output != NULL) {
			r = doc_result_new(d);
			json_object_set_string_member(r, "status", "skipped");
			json_object_set_string_member(r, "output", d->signed_output);
			n_skipped++;
		} else {
			r = doc_result_new(d);
			json_object_set_string_member(r, "status", "not_signed");
			n_not++;
		}
		json_array_add_object_element(results, r);
	}
	json_object_set_string_member(out, "format", job->format);
	json_object_set_string_member(out, "certificate", job->cert->id);
	sdr_handlers_add_cert_expiry(job->ctx, out, job->cert);
	json_object_set_int_member(out, "signed", n_ok);
	json_object_set_int_member(out, "failed", n_failed);
	json_object_set_int_member(out, "skipped", n_skipped);
	json_object_set_int_member(out, "not_signed", n_not);
	json_object_set_array_member(out, "results", results);
	if (stop != NULL)
		json_object_set_object_member(out, "error", sdr_json_from_error(stop));
	return sdr_json_node_take(out);
}

/* The request's options, format and outputs, checked before anything is read. */
static gboolean
read_request(SignJob *job, JsonObject *request, JsonObject *no_options, gboolean *digest_mode,
             char **digest_hex, GError **error)
{
	JsonObject *options = NULL;
	const char *mode;

	if (json_object_has_member(request, "options")) {
		JsonNode *n = json_object_get_member(request, "options");
		if (!JSON_NODE_HOLDS_OBJECT(n)) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
			            _("“options” must be an object."));
			return FALSE;
		}
		options = json_node_get_object(n);
	}
	job->options = options != NULL ? options : no_options;
	/* Digest mode is the request's "mode"; options.mode is the signature's
	 * (detached, enveloped...): "digest" there is refused below. */
	mode = sdr_json_get_string(request, "mode", NULL);
	*digest_mode = g_strcmp0(mode, "digest") == 0;
	job->format = sdr_json_get_string(request, "format", *digest_mode ? "raw" : NULL);
	if (!*digest_mode && (job->format == NULL || !sdr_sign_format_known(job->format))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Unknown format “%s” (cades, xades, pades, pes, actes or marche)."),
		            job->format != NULL ? job->format : "");
		return FALSE;
	}
	if (!read_common_options(job, request, error))
		return FALSE;
	if (!check_request_shape(job, request, *digest_mode, digest_hex, error))
		return FALSE;
	if (!*digest_mode && g_str_equal(job->format, "pes")) {
		g_autofree char *city = sdr_sign_config_string(job, "city");
		g_autofree char *postal = sdr_sign_config_string(job, "postal_code");

		if (!sdr_pes_check_place(city, postal, error))
			return FALSE; /* before any prompt: no PIN typed for nothing */
	}
	job->output = sdr_json_get_string(request, "output", NULL);
	job->output_dir = sdr_json_get_string(request, "output_dir", NULL);
	job->in_place = sdr_json_get_bool(request, "in_place", FALSE);
	job->overwrite = sdr_json_get_bool(request, "overwrite", FALSE);
	if (!*digest_mode && !sdr_sign_check_in_place(job, error))
		return FALSE;
	if ((job->output != NULL || job->output_dir != NULL || job->in_place || job->overwrite) &&
	    sdr_context_get_origin(job->ctx) != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Output files are only chosen from the command line."));
		return FALSE;
	}

	if (job->output_dir != NULL && g_mkdir_with_parents(job->output_dir, 0755) != 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot create %s: %s"),
		            job->output_dir, g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

/* Reads and hashes every document once (load_doc). */
static gboolean
load_docs(SignJob *job, JsonObject *request, GPtrArray *docs, GCancellable *cancellable,
          GError **error)
{
	JsonArray *doc_array;

	JsonNode *n = json_object_get_member(request, "documents");
	if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n) ||
	    json_array_get_length(json_node_get_array(n)) == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("No document to sign."));
		return FALSE;
	}
	doc_array = json_node_get_array(n);
	if (json_array_get_length(doc_array) > SDR_SIGN_MAX_DOCS) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("Too many documents in one request."));
		return FALSE;
	}
	for (guint i = 0; i < json_array_get_length(doc_array); i++) {
		SignDoc *d =
		        load_doc(job, json_array_get_element(doc_array, i), i, cancellable, error);
		if (d == NULL)
			return FALSE;
		g_ptr_array_add(docs, d);
	}
	if (job->output != NULL && docs->len > 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("--output names one file: use --output-dir for several "
		              "documents."));
		return FALSE;
	}
	return TRUE;
}

/* The documents are read and hashed in a thread of their own while the token module is
 * loaded and its certificates listed: the two take place at once. Nothing there
 * prompts; the preflight, the consent and the PIN wait for both. */
typedef struct {
	SignJob *job;
	JsonObject *request;
	GPtrArray *docs;
	GCancellable *cancellable;
	GError *error;
	gboolean ok;
	GThread *thread;
} DocsLoader;

static gpointer
docs_loader_run(gpointer p)
{
	DocsLoader *l = p;

	l->ok = load_docs(l->job, l->request, l->docs, l->cancellable, &l->error);
	return NULL;
}

/* Starts reading the documents: in a thread when a token is to be loaded meanwhile,
 * else at once. */
static void
docs_loader_start(DocsLoader *l, SignJob *job, JsonObject *request, GPtrArray *docs)
{
	memset(l, 0, sizeof(*l));
	l->job = job;
	l->request = request;
	l->docs = docs;
	l->cancellable = sdr_handler_call_cancellable(job->ctx);
	if (job->uses_token)
		l->thread = g_thread_new("sdr-sign-docs", docs_loader_run, l);
	else
		docs_loader_run(l);
}

static gboolean
docs_loader_finish(DocsLoader *l, GError **error)
{
	if (l->thread != NULL)
		g_thread_join(g_steal_pointer(&l->thread));
	if (!l->ok) {
		g_propagate_error(error, g_steal_pointer(&l->error));
		return FALSE;
	}
	return TRUE;
}

/* The one login of the batch and the token signer (the consent was given). Takes
 * the token lock for the token work and gives it back, also on failure. */
static gboolean
login(SignJob *job, const SdrCertInfo *cert, GPtrArray *certs, GPtrArray *others,
      SdrTokenSession **session, SdrSigner **token_signer, GError **error)
{
	g_autoptr(GPtrArray) candidates = g_ptr_array_new();
	SdrTokenManager *tm;
	GPtrArray *anchors = sdr_context_get_anchor_certs(job->ctx);

	token_enter(job);
	/* A kept S²LOW login would log this session in without its PIN. */
	sdr_context_drop_kept(job->ctx);
	tm = sdr_context_get_token_manager(job->ctx, error);
	if (tm == NULL)
		goto fail;
	*session = sdr_token_session_open_cert(tm, cert, error);
	if (*session == NULL)
		goto fail;
	if (!sdr_token_session_login(*session, sdr_handlers_pin_from_prompt, job->ctx, error)) {
		audit(job, cert->id, NULL, sdr_error_code_name((*error)->code));
		if (g_error_matches(*error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT))
			g_prefix_error(error, _("Wrong PIN, nothing was signed. "));
		else if (g_error_matches(*error, SDR_ERROR, SDR_ERROR_PIN_LOCKED))
			g_prefix_error(error, _("The key is blocked, nothing was signed. "));
		goto fail;
	}
	/* Chain candidates: every certificate of the listing (no second one), anchors. */
	for (guint i = 0; i < certs->len; i++)
		g_ptr_array_add(candidates, ((SdrCertInfo *)g_ptr_array_index(certs, i))->cert);
	for (guint i = 0; others != NULL && i < others->len; i++)
		g_ptr_array_add(candidates, ((SdrCertInfo *)g_ptr_array_index(others, i))->cert);
	for (guint i = 0; anchors != NULL && i < anchors->len; i++)
		g_ptr_array_add(candidates, g_ptr_array_index(anchors, i));
	*token_signer = sdr_token_signer_new(*session, candidates, error);
	token_leave(job);
	return *token_signer != NULL;
fail:
	token_leave(job);
	return FALSE;
}

JsonNode *
sdr_handle_sign(SdrContext *ctx, JsonObject *request, GError **error)
{
	SignJob job = { 0 };
	g_autoptr(JsonObject) no_options = json_object_new();
	g_autoptr(GPtrArray) docs = g_ptr_array_new_with_free_func(sign_doc_free);
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(GPtrArray) others = NULL; /* the token's other certificates */
	g_autoptr(SdrTokenSession) session = NULL;
	g_autoptr(SdrSigner) token_signer = NULL;
	const SdrCertInfo *cert;
	gboolean digest_mode;
	g_autofree char *digest_hex = NULL;
	g_autoptr(GError) cert_error = NULL;
	DocsLoader loader;
	gboolean tokens_ok = TRUE;
	JsonNode *answer = NULL;
	int chosen;

	job.ctx = ctx;
	if (!read_request(&job, request, no_options, &digest_mode, &digest_hex, error))
		goto out;

	/* The documents are read while the certificates are listed (DocsLoader); a
	 * document's error (a missing file) wins over the token's, and both come before
	 * any prompt. The token manager stays loaded for the batch (held), the lock is
	 * only taken for each piece of token work. */
	job.uses_token = sdr_context_get_file_signer(ctx) == NULL;
	token_enter(&job);
	if (job.uses_token) {
		sdr_context_hold_token(ctx, TRUE);
		job.held = TRUE;
		/* The documents' thread starts once the modules are in, an order the old
		 * fork()ed module probe needed; the spawned sinadur-p11-probe does not
		 * (docs/internals/agent-core.md): the documents could start earlier. */
		tokens_ok = sdr_context_get_token_manager(ctx, &cert_error) != NULL;
	}
	if (!digest_mode)
		docs_loader_start(&loader, &job, request, docs);
	if (tokens_ok)
		certs = sdr_context_list_certs(ctx, &others, &cert_error);
	token_leave(&job);
	if (!digest_mode && !docs_loader_finish(&loader, error))
		goto out;
	if (certs == NULL)
		g_propagate_error(error, g_steal_pointer(&cert_error));
	chosen = certs == NULL
	                 ? -1
	                 : choose_cert(&job, certs,
	                               sdr_json_get_string(request, "certificate", NULL), error);
	if (chosen < 0) {
		hide_certificates(ctx, error);
		goto out;
	}
	cert = g_ptr_array_index(certs, chosen);
	job.cert = cert;

	/* Trust store: revocation data from B-LT on (else loaded only if needed). */
	if (job.level >= SDR_TARGET_LEVEL_LT)
		(void)job_trust(&job);

	/* Everything that can be checked without the key, before consent and PIN. */
	if (!digest_mode) {
		guint n_signable = 0;

		if (!preflight(&job, docs, &n_signable, error))
			goto out;
		if (n_signable == 0) {
			answer = batch_answer(&job, docs, NULL, NULL);
			goto out;
		}
	}

	/* One consent for the batch (or for the digest). */
	{
		g_autoptr(GPtrArray) to_sign = g_ptr_array_new();

		for (guint i = 0; i < docs->len; i++) {
			SignDoc *d = g_ptr_array_index(docs, i);
			if (d->refused == NULL && d->signed_output == NULL)
				g_ptr_array_add(to_sign, d);
		}
		if (!ask_consent(&job, cert, to_sign, job.format, digest_hex, error))
			goto out;
	}

	/* One login. */
	if (sdr_context_get_file_signer(ctx) != NULL) {
		job.signer = sdr_context_get_file_signer(ctx);
	} else {
		if (!login(&job, cert, certs, others, &session, &token_signer, error))
			goto out;
		job.signer = token_signer;
	}

	if (digest_mode) {
		token_enter(&job);
		answer = sign_digest_mode(&job, request, certs, chosen, job.signer, error);
		token_leave(&job);
		goto out;
	}

	{
		g_autoptr(GHashTable) done = g_hash_table_new_full(
		        g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)json_object_unref);
		g_autoptr(GError) stop = NULL;

		sign_batch(&job, docs, done, &stop);
		answer = batch_answer(&job, docs, done, stop);
	}
out:
	/* The session logs out when freed, after the signer that uses it: token work. */
	token_enter(&job);
	g_clear_pointer(&token_signer, sdr_signer_free);
	g_clear_pointer(&session, sdr_token_session_free);
	if (job.held)
		sdr_context_hold_token(ctx, FALSE);
	token_leave(&job);
	sign_job_clear(&job);
	return answer;
}
