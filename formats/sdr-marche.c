/* sdr-marche.c - public tender signatures: PAdES, XAdES jeton or CAdES. */
#include "sdr-marche.h"

#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-pades.h"
#include "sdr-time.h"
#include "sdr-xades.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <openssl/x509v3.h>
#include <string.h>

void
sdr_marche_options_init(SdrMarcheOptions *options)
{
	memset(options, 0, sizeof(*options));
	options->level = SDR_TARGET_LEVEL_B;
}

gboolean
sdr_marche_check_certificate(X509 *cert, GDateTime *now, GError **error)
{
	g_autoptr(GDateTime) t = now != NULL ? g_date_time_ref(now) : g_date_time_new_now_utc();
	time_t when = (time_t)g_date_time_to_unix(t);
	uint32_t flags;

	if (cert == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, _("No signing certificate."));
		return FALSE;
	}
	if (X509_cmp_time(X509_get0_notBefore(cert), &when) > 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED,
		            _("The certificate is not valid yet."));
		return FALSE;
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &when) < 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_EXPIRED,
		            _("The certificate has expired: it cannot sign a tender."));
		return FALSE;
	}
	flags = X509_get_extension_flags(cert);
	if ((flags & EXFLAG_INVALID) != 0 || (flags & EXFLAG_KUSAGE) == 0 ||
	    (X509_get_key_usage(cert) & KU_NON_REPUDIATION) == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_CERT_USAGE,
		            _("This certificate is not a signature certificate (no "
		              "non-repudiation key usage): use your signature certificate."));
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_marche_choose_format(const guint8 *head, gsize len, const char *name, const char *mime_type,
                         gboolean cades, SdrMarcheFormat *format, GError **error)
{
	gboolean pdf = FALSE;

	if (!sdr_pades_check_is_pdf(head, len, name, mime_type, &pdf, error))
		return FALSE;
	*format = pdf ? SDR_MARCHE_PADES : cades ? SDR_MARCHE_CADES : SDR_MARCHE_XADES;
	return TRUE;
}

/* The choice for the file at path, from its first bytes and its name. */
static gboolean
file_format(const char *path, gboolean cades, SdrMarcheFormat *format, GError **error)
{
	guint8 head[SDR_PDF_MAGIC_WINDOW];
	g_autofree char *name = g_path_get_basename(path);
	gsize n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		int e = errno;
		g_set_error(error, SDR_ERROR, e == ENOENT ? SDR_ERROR_NOT_FOUND : SDR_ERROR_IO,
		            _("Cannot read “%s”: %s"), path, g_strerror(e));
		return FALSE;
	}
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return sdr_marche_choose_format(head, n, name, NULL, cades, format, error);
}

static void
cms_options(const SdrMarcheOptions *o, SdrCmsOptions *co)
{
	sdr_cms_options_init(co);
	co->level = o->level;
	co->tsa_url = o->tsa_url;
	co->trust = o->trust;
	co->signing_time = TRUE;
}

static void
xades_options(const SdrMarcheOptions *o, SdrXadesOptions *xo)
{
	sdr_xades_options_init(xo);
	xo->level = o->level;
	xo->tsa_url = o->tsa_url;
	xo->trust = o->trust;
}

static void
pades_options(const SdrMarcheOptions *o, SdrPadesOptions *po)
{
	sdr_pades_options_init(po);
	po->level = o->level;
	po->tsa_url = o->tsa_url;
	po->trust = o->trust;
}

static gboolean
sign_one(SdrSigner *signer, const char *input, const SdrMarcheOptions *o, char **out_path,
         GError **error)
{
	SdrMarcheFormat format;

	if (!file_format(input, o->cades, &format, error))
		return FALSE;
	if (format == SDR_MARCHE_PADES) {
		SdrPadesOptions po;

		pades_options(o, &po);
		return sdr_pades_sign_file(signer, input, &po, NULL, out_path, error);
	}
	if (format == SDR_MARCHE_CADES) {
		SdrCmsOptions co;
		g_autoptr(GFile) file = g_file_new_for_path(input);
		g_autoptr(GError) local = NULL;
		g_autoptr(GFileInputStream) in = g_file_read(file, NULL, &local);
		g_autoptr(GBytes) der = NULL;
		g_autofree char *out = g_strconcat(input, ".p7s", NULL);

		if (in == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot read “%s”: %s"),
			            input, local->message);
			return FALSE;
		}
		cms_options(o, &co);
		der = sdr_cms_sign_stream(signer, G_INPUT_STREAM(in), FALSE, &co, NULL, error);
		if (der == NULL || !sdr_file_write_atomic(out, g_bytes_get_data(der, NULL),
		                                          g_bytes_get_size(der), error))
			return FALSE;
		if (out_path != NULL)
			*out_path = g_steal_pointer(&out);
		return TRUE;
	}
	{
		SdrXadesOptions xo;

		xades_options(o, &xo);
		return sdr_xades_sign_file(signer, input, SDR_XADES_DETACHED, &xo, NULL, out_path,
		                           error);
	}
}

gboolean
sdr_marche_sign_files(SdrSigner *signer, const char *const *inputs, const SdrMarcheOptions *options,
                      GPtrArray **out_paths, GError **error)
{
	SdrMarcheOptions defaults;
	g_autoptr(GPtrArray) outs = g_ptr_array_new_with_free_func(g_free);

	if (options == NULL) {
		sdr_marche_options_init(&defaults);
		options = &defaults;
	}
	if (!sdr_marche_check_certificate(sdr_signer_get_cert(signer), options->now, error))
		return FALSE;
	for (const char *const *p = inputs; p != NULL && *p != NULL; p++) {
		char *out = NULL;

		if (!sign_one(signer, *p, options, &out, error)) {
			if (out_paths != NULL)
				*out_paths = g_steal_pointer(&outs);
			return FALSE;
		}
		g_ptr_array_add(outs, out);
	}
	if (out_paths != NULL)
		*out_paths = g_steal_pointer(&outs);
	return TRUE;
}

GBytes *
sdr_marche_sign_bytes(SdrSigner *signer, GBytes *document, const char *name,
                      const SdrMarcheOptions *options, char **out_name, GError **error)
{
	SdrMarcheOptions defaults;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(document, &len);
	g_autofree char *base = g_path_get_basename(name != NULL ? name : "document");
	SdrMarcheFormat format;
	GBytes *out;
	char *out_file;

	if (options == NULL) {
		sdr_marche_options_init(&defaults);
		options = &defaults;
	}
	if (!sdr_marche_check_certificate(sdr_signer_get_cert(signer), options->now, error))
		return NULL;
	if (!sdr_marche_choose_format(data, len, base, NULL, options->cades, &format, error))
		return NULL;
	if (format == SDR_MARCHE_PADES) {
		SdrPadesOptions po;
		g_autofree char *stem =
		        g_str_has_suffix(base, ".pdf") || g_str_has_suffix(base, ".PDF")
		                ? g_strndup(base, strlen(base) - 4)
		                : g_strdup(base);

		pades_options(options, &po);
		out = sdr_pades_sign_bytes(signer, document, &po, error);
		out_file = g_strconcat(stem, "-signe.pdf", NULL);
	} else if (format == SDR_MARCHE_CADES) {
		SdrCmsOptions co;
		g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes(document);

		cms_options(options, &co);
		out = sdr_cms_sign_stream(signer, in, FALSE, &co, NULL, error);
		out_file = g_strconcat(base, ".p7s", NULL);
	} else {
		SdrXadesOptions xo;

		xades_options(options, &xo);
		out = sdr_xades_sign_data(signer, document, base, SDR_XADES_DETACHED, &xo, error);
		out_file = g_strconcat(base, " - Signature 1.xml", NULL);
	}
	if (out == NULL) {
		g_free(out_file);
		return NULL;
	}
	if (out_name != NULL)
		*out_name = out_file;
	else
		g_free(out_file);
	return out;
}
