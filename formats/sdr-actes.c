/* sdr-actes.c - detached CMS signatures in PEM for ACTES (S²LOW). */
#include "sdr-actes.h"

#include "sdr-cms.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-pades.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

void
sdr_actes_options_init(SdrActesOptions *options)
{
	memset(options, 0, sizeof(*options));
	options->hash = SDR_HASH_SHA256;
}

char *
sdr_actes_default_output(const char *in_path)
{
	return g_strconcat(in_path, ".sig", NULL);
}

char *
sdr_actes_pem_armour(GBytes *der)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(der, &len);
	g_autofree char *b64 = g_base64_encode(data, len);
	gsize b64_len = strlen(b64);
	GString *s = g_string_sized_new(b64_len + b64_len / 64 + 64);

	g_string_append(s, "-----BEGIN PKCS7-----\n");
	for (gsize i = 0; i < b64_len; i += 64) {
		g_string_append_len(s, b64 + i, (gssize)MIN((gsize)64, b64_len - i));
		g_string_append_c(s, '\n');
	}
	g_string_append(s, "-----END PKCS7-----\n");
	return g_string_free(s, FALSE);
}

static GBytes *
sign_stream(SdrSigner *signer, GInputStream *in, const SdrActesOptions *options, GError **error)
{
	SdrCmsOptions co;
	g_autoptr(GBytes) der = NULL;
	char *pem;

	sdr_cms_options_init(&co);
	co.hash = options != NULL ? options->hash : SDR_HASH_SHA256;
	co.level = SDR_TARGET_LEVEL_B;
	co.signing_time = TRUE;
	der = sdr_cms_sign_stream(signer, in, FALSE, &co, NULL, error);
	if (der == NULL)
		return NULL;
	pem = sdr_actes_pem_armour(der);
	return g_bytes_new_take(pem, strlen(pem));
}

GBytes *
sdr_actes_sign_bytes(SdrSigner *signer, GBytes *content, const SdrActesOptions *options,
                     GError **error)
{
	g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes(content);

	return sign_stream(signer, in, options, error);
}

gboolean
sdr_actes_sign_file(SdrSigner *signer, const char *in_path, const char *out_path,
                    const SdrActesOptions *options, GError **error)
{
	g_autoptr(GFile) file = g_file_new_for_path(in_path);
	g_autoptr(GError) local = NULL;
	g_autoptr(GFileInputStream) in = g_file_read(file, NULL, &local);
	g_autoptr(GBytes) pem = NULL;
	g_autofree char *def = NULL;

	if (options != NULL && options->pades) {
		SdrPadesOptions po;

		sdr_pades_options_init(&po);
		po.hash = options->hash;
		return sdr_pades_sign_file(signer, in_path, &po, out_path, NULL, error);
	}
	if (in == NULL) {
		g_set_error(error, SDR_ERROR,
		            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
		                    ? SDR_ERROR_NOT_FOUND
		                    : SDR_ERROR_IO,
		            _("Cannot read “%s”: %s"), in_path, local->message);
		return FALSE;
	}
	pem = sign_stream(signer, G_INPUT_STREAM(in), options, error);
	if (pem == NULL)
		return FALSE;
	if (out_path == NULL)
		out_path = def = sdr_actes_default_output(in_path);
	return sdr_file_write_atomic(out_path, g_bytes_get_data(pem, NULL), g_bytes_get_size(pem),
	                             error);
}
