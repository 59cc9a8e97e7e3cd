/* sdr-revocation.c - revocation data for B-LT: OCSP through the AIA URL first,
 * else the CRL of the CRL distribution point. */
#include "sdr-revocation.h"

#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-http.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

SdrValidationData *
sdr_validation_data_new(void)
{
	SdrValidationData *d = g_new0(SdrValidationData, 1);

	d->certs = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	d->ocsp_responses = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	d->crls = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	return d;
}

void
sdr_validation_data_free(SdrValidationData *data)
{
	if (data == NULL)
		return;
	g_ptr_array_unref(data->certs);
	g_ptr_array_unref(data->ocsp_responses);
	g_ptr_array_unref(data->crls);
	g_free(data);
}

static char *
cert_name(X509 *cert)
{
	return sdr_cert_display_name(cert);
}

static void
add_cert(SdrValidationData *data, X509 *cert)
{
	for (guint i = 0; i < data->certs->len; i++)
		if (X509_cmp(g_ptr_array_index(data->certs, i), cert) == 0)
			return;
	X509_up_ref(cert);
	g_ptr_array_add(data->certs, cert);
}

/* Is cert already covered by a response or CRL of data? */
static gboolean
covered(SdrValidationData *data, X509 *cert, X509 *issuer)
{
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	gboolean found = FALSE;

	for (guint i = 0; id != NULL && !found && i < data->ocsp_responses->len; i++) {
		GBytes *b = g_ptr_array_index(data->ocsp_responses, i);
		const unsigned char *p = g_bytes_get_data(b, NULL);
		OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)g_bytes_get_size(b));
		OCSP_BASICRESP *bs = r != NULL ? OCSP_response_get1_basic(r) : NULL;

		if (bs != NULL && OCSP_resp_find(bs, id, -1) >= 0)
			found = TRUE;
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(r);
	}
	OCSP_CERTID_free(id);
	for (guint i = 0; !found && i < data->crls->len; i++) {
		GBytes *b = g_ptr_array_index(data->crls, i);
		const unsigned char *p = g_bytes_get_data(b, NULL);
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)g_bytes_get_size(b));

		if (crl != NULL &&
		    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0)
			found = TRUE;
		X509_CRL_free(crl);
	}
	ERR_clear_error();
	return found;
}

static GBytes *
fetch_ocsp(X509 *cert, X509 *issuer, const char *url, STACK_OF(X509) * chain, X509_STORE *store,
           gboolean accept_revoked, GError **error)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	OCSP_CERTID *id_copy = id != NULL ? OCSP_CERTID_dup(id) : NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	unsigned char *der = NULL;
	int len, status = -1, reason = -1;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GBytes) answer = NULL;
	GBytes *result = NULL;
	g_autofree char *name = cert_name(cert);
	const unsigned char *p;

	if (req == NULL || id == NULL || id_copy == NULL || OCSP_request_add0_id(req, id) == NULL) {
		OCSP_CERTID_free(id);
		goto ossl_err;
	}
	if (OCSP_request_add1_nonce(req, NULL, -1) != 1)
		goto ossl_err;
	len = i2d_OCSP_REQUEST(req, &der);
	if (len <= 0)
		goto ossl_err;
	body = g_bytes_new(der, (gsize)len);
	answer = sdr_http_fetch(url, "application/ocsp-request", body, SDR_HTTP_OCSP_MAX, error);
	if (answer == NULL)
		goto out;
	p = g_bytes_get_data(answer, NULL);
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)g_bytes_get_size(answer));
	if (resp == NULL) {
		ERR_clear_error();
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The OCSP responder %s sent an answer that is not an OCSP response"),
		            url);
		goto out;
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(resp)) == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The OCSP responder %s refused the request (%s)"), url,
		            OCSP_response_status_str(OCSP_response_status(resp)));
		goto out;
	}
	if (OCSP_check_nonce(req, bs) == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The OCSP responder %s answered with a wrong nonce"), url);
		goto out;
	}
	if (OCSP_basic_verify(bs, chain, store, 0) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_NETWORK,
		                      _("The OCSP response signature does not verify"));
		goto out;
	}
	if (OCSP_resp_find_status(bs, id_copy, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The OCSP response of %s does not cover %s"), url, name);
		goto out;
	}
	if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1) {
		ERR_clear_error();
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The OCSP response of %s is not current"), url);
		goto out;
	}
	if (status == V_OCSP_CERTSTATUS_REVOKED && !accept_revoked) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("The certificate %s is revoked"), name);
		goto out;
	}
	if (status == V_OCSP_CERTSTATUS_UNKNOWN) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The OCSP responder %s does not know the certificate %s"), url, name);
		goto out;
	}
	result = g_bytes_ref(answer);
	goto out;
ossl_err:
	sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, _("Cannot build the OCSP request"));
out:
	OPENSSL_free(der);
	OCSP_CERTID_free(id_copy);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	return result;
}

/* ---- CRL cache ---------------------------------------------------------------------- */

#define CRL_CACHE_MAX_FILES 64

static GMutex crl_cache_lock;
static char *crl_cache_dir;

void
sdr_revocation_set_crl_cache(const char *dir)
{
	g_mutex_lock(&crl_cache_lock);
	g_free(crl_cache_dir);
	crl_cache_dir = g_strdup(dir);
	g_mutex_unlock(&crl_cache_lock);
}

char *
sdr_revocation_crl_cache_path(const char *url)
{
	g_autofree char *hash = NULL;
	g_autofree char *name = NULL;
	char *path = NULL;

	g_mutex_lock(&crl_cache_lock);
	if (crl_cache_dir != NULL && url != NULL) {
		hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
		name = g_strconcat(hash, ".crl", NULL);
		path = g_build_filename(crl_cache_dir, name, NULL);
	}
	g_mutex_unlock(&crl_cache_lock);
	return path;
}

static X509_CRL *
crl_parse(GBytes *bytes)
{
	const unsigned char *p = g_bytes_get_data(bytes, NULL);
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)g_bytes_get_size(bytes));

	if (crl == NULL) {
		BIO *bio = BIO_new_mem_buf(g_bytes_get_data(bytes, NULL),
		                           (int)g_bytes_get_size(bytes));

		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	return crl;
}

/* The CRL is issuer's (name and signature) and not past its nextUpdate. */
static gboolean
crl_usable(X509_CRL *crl, X509 *issuer, const char *url, GError **error)
{
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		ERR_clear_error();
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK,
		            _("The CRL of %s is not signed by the certificate issuer"), url);
		return FALSE;
	}
	if (X509_CRL_get0_nextUpdate(crl) != NULL &&
	    X509_cmp_current_time(X509_CRL_get0_nextUpdate(crl)) < 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK, _("The CRL of %s is outdated"),
		            url);
		return FALSE;
	}
	return TRUE;
}

/* A cached CRL of url, usable for issuer's certificates now: signed by issuer, with a
 * nextUpdate still ahead (a CRL without one is never reused). */
static X509_CRL *
crl_cache_get(const char *url, X509 *issuer)
{
	g_autofree char *path = sdr_revocation_crl_cache_path(url);
	g_autoptr(GBytes) bytes = NULL;
	X509_CRL *crl;

	if (path == NULL || (bytes = sdr_file_read(path, SDR_HTTP_CRL_MAX, NULL)) == NULL)
		return NULL;
	crl = crl_parse(bytes);
	if (crl != NULL &&
	    (X509_CRL_get0_nextUpdate(crl) == NULL || !crl_usable(crl, issuer, url, NULL))) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	return crl;
}

typedef struct {
	char *path;
	gint64 mtime;
} CachedFile;

static void
cached_file_free(gpointer p)
{
	CachedFile *f = p;

	g_free(f->path);
	g_free(f);
}

static gint
by_mtime(gconstpointer a, gconstpointer b)
{
	const CachedFile *x = *(CachedFile *const *)a;
	const CachedFile *y = *(CachedFile *const *)b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* At most CRL_CACHE_MAX_FILES files (each capped at SDR_HTTP_CRL_MAX by the fetch):
 * the oldest go first. */
static void
crl_cache_prune(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(cached_file_free);
	const char *n;

	while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = NULL;
		GStatBuf st;
		CachedFile *f;

		if (!g_str_has_suffix(n, ".crl"))
			continue;
		path = g_build_filename(dir, n, NULL);
		if (g_stat(path, &st) != 0)
			continue;
		f = g_new0(CachedFile, 1);
		f->path = g_steal_pointer(&path);
		f->mtime = (gint64)st.st_mtime;
		g_ptr_array_add(files, f);
	}
	if (files->len <= CRL_CACHE_MAX_FILES)
		return;
	g_ptr_array_sort(files, by_mtime);
	for (guint i = 0; i + CRL_CACHE_MAX_FILES < files->len; i++)
		(void)g_unlink(((CachedFile *)g_ptr_array_index(files, i))->path);
}

/* Stores a CRL that passed crl_usable() and has a nextUpdate: atomically, so another
 * process reads the old file or the new one. Failures only mean no cache. */
static void
crl_cache_put(const char *url, X509_CRL *crl)
{
	g_autofree char *path = sdr_revocation_crl_cache_path(url);
	g_autofree char *dir = NULL;
	unsigned char *der = NULL;
	int len;

	if (path == NULL || X509_CRL_get0_nextUpdate(crl) == NULL)
		return;
	dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0700) != 0)
		return;
	len = i2d_X509_CRL(crl, &der);
	if (len > 0 && (gsize)len <= SDR_HTTP_CRL_MAX &&
	    sdr_file_write_atomic(path, der, (gsize)len, NULL))
		crl_cache_prune(dir);
	OPENSSL_free(der);
	ERR_clear_error();
}

static GBytes *
fetch_crl(X509 *cert, X509 *issuer, const char *url, gboolean accept_revoked, GError **error)
{
	g_autoptr(GBytes) answer = NULL;
	g_autofree char *name = NULL;
	X509_CRL *crl = crl_cache_get(url, issuer);
	X509_REVOKED *revoked = NULL;
	unsigned char *der = NULL;
	GBytes *result = NULL;
	int len;

	if (crl == NULL) {
		answer = sdr_http_fetch(url, NULL, NULL, SDR_HTTP_CRL_MAX, error);
		if (answer == NULL)
			return NULL;
		crl = crl_parse(answer);
		if (crl == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_NETWORK, _("%s is not a CRL"), url);
			return NULL;
		}
		if (!crl_usable(crl, issuer, url, error))
			goto out;
		crl_cache_put(url, crl);
	}
	if (!accept_revoked && X509_CRL_get0_by_cert(crl, &revoked, cert) == 1) {
		name = cert_name(cert);
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("The certificate %s is revoked"), name);
		goto out;
	}
	len = i2d_X509_CRL(crl, &der);
	if (len > 0)
		result = g_bytes_new(der, (gsize)len);
	OPENSSL_free(der);
out:
	X509_CRL_free(crl);
	return result;
}

static GPtrArray *
crldp_urls(X509 *cert)
{
	GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);

	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *names;

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		names = dp->distpoint->name.fullname;
		for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);

			if (gn->type == GEN_URI)
				g_ptr_array_add(
				        urls, g_strndup((const char *)ASN1_STRING_get0_data(
				                                gn->d.uniformResourceIdentifier),
				                        (gsize)ASN1_STRING_length(
				                                gn->d.uniformResourceIdentifier)));
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return urls;
}

static GPtrArray *
ocsp_urls(X509 *cert)
{
	GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
	STACK_OF(OPENSSL_STRING) *s = X509_get1_ocsp(cert);

	for (int i = 0; i < sk_OPENSSL_STRING_num(s); i++)
		g_ptr_array_add(urls, g_strdup(sk_OPENSSL_STRING_value(s, i)));
	X509_email_free(s);
	return urls;
}

gboolean
sdr_revocation_collect_into(SdrValidationData *data, X509 *cert, STACK_OF(X509) * untrusted,
                            X509_STORE *store, GError **error)
{
	return sdr_revocation_collect_full(data, cert, untrusted, store, FALSE, error);
}

gboolean
sdr_revocation_collect_full(SdrValidationData *data, X509 *cert, STACK_OF(X509) * untrusted,
                            X509_STORE *store, gboolean accept_revoked, GError **error)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	gboolean ok = FALSE;
	int n;

	g_return_val_if_fail(data != NULL && cert != NULL, FALSE);
	if (store == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		                    _("No trust anchors to build the certificate chain"));
		goto out;
	}
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, cert, untrusted) != 1)
		goto ossl_err;
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) != 1) {
		g_autofree char *name = cert_name(cert);

		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("The chain of %s cannot be built to a trust anchor: %s"), name,
		            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	chain = X509_STORE_CTX_get1_chain(ctx);
	n = sk_X509_num(chain);
	for (int i = 0; i < n; i++)
		add_cert(data, sk_X509_value(chain, i));
	for (int i = 0; i + 1 < n; i++) {
		X509 *c = sk_X509_value(chain, i);
		X509 *issuer = sk_X509_value(chain, i + 1);
		g_autoptr(GPtrArray) ocsp = ocsp_urls(c);
		g_autoptr(GPtrArray) crl = crldp_urls(c);
		g_autofree char *name = cert_name(c);
		GError *last = NULL;
		GBytes *got = NULL;

		if (covered(data, c, issuer))
			continue;
		if (ocsp->len == 0 && crl->len == 0) {
			/* The OCSP service of a sibling (same issuer) answers for it too. */
			for (guint k = 0; k < data->certs->len; k++) {
				X509 *s = g_ptr_array_index(data->certs, k);

				if (s != c && X509_NAME_cmp(X509_get_issuer_name(s),
				                            X509_get_issuer_name(c)) == 0) {
					g_autoptr(GPtrArray) su = ocsp_urls(s);

					for (guint u = 0; u < su->len; u++)
						g_ptr_array_add(ocsp,
						                g_strdup(g_ptr_array_index(su, u)));
				}
			}
		}
		for (guint u = 0; got == NULL && u < ocsp->len; u++) {
			g_clear_error(&last);
			got = fetch_ocsp(c, issuer, g_ptr_array_index(ocsp, u), chain, store,
			                 accept_revoked, &last);
			if (got != NULL)
				g_ptr_array_add(data->ocsp_responses, got);
			else if (last->code == SDR_ERROR_LEVEL_NOT_REACHED)
				break; /* revoked: no point asking elsewhere */
		}
		if (got == NULL && (last == NULL || last->code != SDR_ERROR_LEVEL_NOT_REACHED)) {
			for (guint u = 0; got == NULL && u < crl->len; u++) {
				g_clear_error(&last);
				got = fetch_crl(c, issuer, g_ptr_array_index(crl, u),
				                accept_revoked, &last);
				if (got != NULL)
					g_ptr_array_add(data->crls, got);
				else if (last->code == SDR_ERROR_LEVEL_NOT_REACHED)
					break;
			}
		}
		if (got != NULL) {
			g_clear_error(&last);
			continue;
		}
		if (last != NULL) {
			g_propagate_error(error, last);
			goto out;
		}
		if (X509_check_ca(c) > 0)
			continue; /* a CA without revocation pointers: nothing to fetch */
		g_set_error(error, SDR_ERROR, SDR_ERROR_LEVEL_NOT_REACHED,
		            _("The certificate %s has no OCSP URL nor CRL distribution point"),
		            name);
		goto out;
	}
	ok = TRUE;
	goto out;
ossl_err:
	sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "X509_STORE_CTX");
out:
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_CTX_free(ctx);
	return ok;
}

SdrValidationData *
sdr_revocation_collect(X509 *cert, STACK_OF(X509) * untrusted, X509_STORE *store, GError **error)
{
	SdrValidationData *data = sdr_validation_data_new();

	if (!sdr_revocation_collect_into(data, cert, untrusted, store, error)) {
		sdr_validation_data_free(data);
		return NULL;
	}
	return data;
}

gboolean
sdr_revocation_has_sources(X509 *cert)
{
	g_autoptr(GPtrArray) ocsp = NULL;
	g_autoptr(GPtrArray) crl = NULL;

	if (cert == NULL)
		return FALSE;
	ocsp = ocsp_urls(cert);
	crl = crldp_urls(cert);
	ERR_clear_error();
	return ocsp->len > 0 || crl->len > 0;
}

void
sdr_revocation_report_unknown(SdrSignatureResult *result, const SdrVerifyOptions *options,
                              X509 *cert, const char *name, const GError *fetch_error)
{
	/* DSS's default policy: a certificate that names where its status is published
	 * must have that status checked; one that names nothing leaves a warning unless
	 * the policy requires revocation data anyway. */
	gboolean published = sdr_revocation_has_sources(cert);
	gboolean strict = published || (options != NULL && options->require_revocation);
	g_autofree char *msg = NULL;

	if (options == NULL || !options->online)
		msg = g_strdup_printf(_("No revocation information for %s (none in the signature, "
		                        "and the verification was made offline)"),
		                      name);
	else if (fetch_error != NULL)
		msg = g_strdup_printf(_("No revocation information for %s: %s"), name,
		                      fetch_error->message);
	else
		msg = g_strdup_printf(_("No revocation information for %s"), name);
	if (strict)
		sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
		                          SDR_REASON_REVOCATION_UNKNOWN, "%s", msg);
	else
		sdr_signature_result_warn(result, SDR_REASON_REVOCATION_UNKNOWN, "%s", msg);
}

/* The OCSP response was signed by issuer, or by a certificate issuer issued for
 * OCSP signing (RFC 6960 4.2.2.2). */
static gboolean
ocsp_signed_for(OCSP_BASICRESP *bs, X509 *issuer)
{
	STACK_OF(X509) *signers = sk_X509_new_null();
	X509_STORE *st = X509_STORE_new();
	gboolean ok;

	sk_X509_push(signers, issuer);
	X509_STORE_add_cert(st, issuer);
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	/* OCSP_TRUSTOTHER: issuer itself may sign; a delegated responder in the
	 * response's certificates must chain to issuer and carry id-kp-OCSPSigning
	 * (OpenSSL's OCSP_basic_verify checks it). */
	ok = OCSP_basic_verify(bs, signers, st, OCSP_TRUSTOTHER) == 1;
	X509_STORE_free(st);
	sk_X509_free(signers);
	ERR_clear_error();
	return ok;
}

SdrRevocationStatus
sdr_revocation_status(const SdrValidationData *data, X509 *cert, X509 *issuer,
                      GDateTime **revoked_at)
{
	SdrRevocationStatus st = SDR_REVOCATION_UNKNOWN;
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);

	for (guint i = 0;
	     id != NULL && st == SDR_REVOCATION_UNKNOWN && i < MIN(data->ocsp_responses->len, 64u);
	     i++) {
		GBytes *b = g_ptr_array_index(data->ocsp_responses, i);
		const unsigned char *p = g_bytes_get_data(b, NULL);
		OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)g_bytes_get_size(b));
		OCSP_BASICRESP *bs = r != NULL ? OCSP_response_get1_basic(r) : NULL;
		int status = -1, reason = -1;
		ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;

		if (bs != NULL &&
		    OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) ==
		            1 &&
		    ocsp_signed_for(bs, issuer)) {
			if (status == V_OCSP_CERTSTATUS_GOOD) {
				st = SDR_REVOCATION_GOOD;
			} else if (status == V_OCSP_CERTSTATUS_REVOKED) {
				st = SDR_REVOCATION_REVOKED;
				if (revoked_at != NULL && rev != NULL)
					*revoked_at = sdr_time_from_asn1(rev);
			}
		}
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(r);
	}
	OCSP_CERTID_free(id);
	for (guint i = 0; st == SDR_REVOCATION_UNKNOWN && i < MIN(data->crls->len, 64u); i++) {
		GBytes *b = g_ptr_array_index(data->crls, i);
		const unsigned char *p = g_bytes_get_data(b, NULL);
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)g_bytes_get_size(b));
		X509_REVOKED *rv = NULL;

		if (crl != NULL &&
		    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) == 1) {
			if (X509_CRL_get0_by_cert(crl, &rv, cert) == 1) {
				st = SDR_REVOCATION_REVOKED;
				if (revoked_at != NULL)
					*revoked_at = sdr_time_from_asn1(
					        X509_REVOKED_get0_revocationDate(rv));
			} else {
				st = SDR_REVOCATION_GOOD;
			}
		}
		X509_CRL_free(crl);
	}
	ERR_clear_error();
	return st;
}

GPtrArray *
sdr_revocation_parse_certs(const guint8 *data, gsize len)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)X509_free);
	const unsigned char *p = data;
	X509 *x;
	PKCS7 *p7;
	BIO *bio;

	if (data == NULL || len == 0 || len > SDR_HTTP_CA_ISSUERS_MAX)
		return out;
	x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p == data + len) {
		g_ptr_array_add(out, x);
		return out;
	}
	X509_free(x);
	p = data;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (p7 != NULL && PKCS7_type_is_signed(p7) && p7->d.sign != NULL) {
		STACK_OF(X509) *certs = p7->d.sign->cert;

		for (int i = 0; i < sk_X509_num(certs) && out->len < 16; i++) {
			X509 *c = sk_X509_value(certs, i);

			X509_up_ref(c);
			g_ptr_array_add(out, c);
		}
	}
	PKCS7_free(p7);
	if (out->len == 0) {
		bio = BIO_new_mem_buf(data, (int)len);
		while (out->len < 16 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			g_ptr_array_add(out, x);
		BIO_free(bio);
	}
	ERR_clear_error();
	return out;
}

static GPtrArray *
ca_issuers_urls(X509 *cert)
{
	GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);

	for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia) && urls->len < 4; i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI)
			g_ptr_array_add(
			        urls,
			        g_strndup((const char *)ASN1_STRING_get0_data(
			                          ad->location->d.uniformResourceIdentifier),
			                  (gsize)ASN1_STRING_length(
			                          ad->location->d.uniformResourceIdentifier)));
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return urls;
}

X509 *
sdr_revocation_fetch_issuer(X509 *cert, GError **error)
{
	g_autoptr(GPtrArray) urls = ca_issuers_urls(cert);
	GError *last = NULL;

	for (guint u = 0; u < urls->len; u++) {
		g_autoptr(GBytes) b = NULL;
		g_autoptr(GPtrArray) certs = NULL;

		g_clear_error(&last);
		b = sdr_http_fetch(g_ptr_array_index(urls, u), NULL, NULL, SDR_HTTP_CA_ISSUERS_MAX,
		                   &last);
		if (b == NULL)
			continue;
		certs = sdr_revocation_parse_certs(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
		for (guint i = 0; i < certs->len; i++) {
			X509 *c = g_ptr_array_index(certs, i);
			EVP_PKEY *key = X509_get0_pubkey(c);

			if (X509_check_issued(c, cert) == X509_V_OK && key != NULL &&
			    X509_verify(cert, key) == 1) {
				X509_up_ref(c);
				g_clear_error(&last);
				ERR_clear_error();
				return c;
			}
		}
		ERR_clear_error();
	}
	if (last != NULL) {
		g_propagate_error(error, last);
	} else {
		g_autofree char *name = cert_name(cert);

		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("The issuer certificate of %s cannot be found (AIA caIssuers)"),
		            name);
	}
	return NULL;
}
