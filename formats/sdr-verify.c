/* sdr-verify.c - the dispatcher on top of the verifiers: detects a file's format
 * and runs its verifier. The report model is sdr-verify-report.c. */
#include "sdr-verify.h"

#include "sdr-cms-verify.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-pades-verify.h"
#include "sdr-pes-verify.h"
#include "sdr-pes.h"
#include "sdr-xades-verify.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

/* A CMS file is read into memory (attached content included): cap it. */
#define SDR_VERIFY_CMS_MAX ((gsize)256 * 1024 * 1024)

/* ---- dispatcher ---- */

typedef enum {
	KIND_UNKNOWN,
	KIND_CMS,
	KIND_XML,
	KIND_PDF,
} FileKind;

static FileKind
detect_kind(const char *path, const guint8 *head, gsize len)
{
	gsize i = 0;

	if (len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
		i = 3;
	while (i < len && g_ascii_isspace(head[i]))
		i++;
	if (len - i >= 5 && memcmp(head + i, "%PDF-", 5) == 0)
		return KIND_PDF;
	if (len - i >= 10 && memcmp(head + i, "-----BEGIN", 10) == 0)
		return KIND_CMS;
	if (i < len && head[i] == '<')
		return KIND_XML;
	if (len > 0 && head[0] == 0x30)
		return KIND_CMS;
	if (g_str_has_suffix(path, ".p7s") || g_str_has_suffix(path, ".p7m") ||
	    g_str_has_suffix(path, ".pkcs7") || g_str_has_suffix(path, ".P7S") ||
	    g_str_has_suffix(path, ".P7M") || g_str_has_suffix(path, ".sig") ||
	    g_str_has_suffix(path, ".SIG"))
		return KIND_CMS; /* base64 text (ACTES .sig) */
	/* PDF allows junk before the header (within the first KiB). */
	if (len >= 5 && g_strstr_len((const char *)head, (gssize)len, "%PDF-") != NULL)
		return KIND_PDF;
	return KIND_UNKNOWN;
}

/* The detached content of "acte.pdf.p7s" by the platforms' naming habits: the
 * signature name without its .p7s, .sig, .pkcs7, .p7m or .pem extension (any case),
 * when that file exists beside it. NULL when none. */
char *
sdr_verify_content_beside(const char *path)
{
	static const char *const exts[] = { ".p7s", ".sig", ".pkcs7", ".p7m", ".pem" };
	gsize len = strlen(path);

	for (gsize i = 0; i < G_N_ELEMENTS(exts); i++) {
		gsize el = strlen(exts[i]);
		g_autofree char *base = NULL;
		g_autofree char *cand = NULL;

		if (len <= el || g_ascii_strcasecmp(path + len - el, exts[i]) != 0)
			continue;
		cand = g_strndup(path, len - el);
		base = g_path_get_basename(cand);
		if (base[0] != '\0' && strcmp(base, ".") != 0 &&
		    g_file_test(cand, G_FILE_TEST_IS_REGULAR))
			return g_steal_pointer(&cand);
	}
	return NULL;
}

static SdrVerifyReport *
verify_cms_file(const char *path, const SdrVerifyOptions *options, GError **error)
{
	g_autoptr(GBytes) cms = NULL;
	g_autoptr(GInputStream) content = NULL;
	g_autofree char *guessed = NULL;
	const char *content_path = options != NULL ? options->content_path : NULL;

	SdrVerifyReport *report;

	cms = sdr_file_read(path, SDR_VERIFY_CMS_MAX, error);
	if (cms == NULL)
		return NULL;
	if (content_path == NULL && (options == NULL || options->content == NULL) &&
	    sdr_cms_is_detached(cms)) {
		guessed = sdr_verify_content_beside(path);
		content_path = guessed;
	}
	if (content_path != NULL) {
		g_autoptr(GFile) f = g_file_new_for_path(content_path);
		GError *local = NULL;

		content = G_INPUT_STREAM(g_file_read(f, NULL, &local));
		if (content == NULL) {
			g_set_error(error, SDR_ERROR,
			            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
			                    ? SDR_ERROR_NOT_FOUND
			                    : SDR_ERROR_IO,
			            _("Cannot read the signed content %s: %s"), content_path,
			            local->message);
			g_error_free(local);
			return NULL;
		}
	} else if (options != NULL && options->content != NULL) {
		content = g_memory_input_stream_new_from_bytes(options->content);
	}
	report = sdr_cms_verify(cms, content, path, options, error);
	if (report != NULL && content_path != NULL) {
		g_autofree char *base = g_path_get_basename(content_path);

		if (guessed != NULL)
			sdr_verify_report_note(report, SDR_REASON_NONE,
			                       _("Signed content: %s (found beside the signature)"),
			                       base);
		else
			sdr_verify_report_note(report, SDR_REASON_NONE, _("Signed content: %s"),
			                       base);
		for (guint i = 0; i < report->signatures->len; i++)
			sdr_signature_result_set_detail(g_ptr_array_index(report->signatures, i),
			                                "signed_data", base);
	}
	return report;
}

SdrVerifyReport *
sdr_verify_file(const char *path, const SdrVerifyOptions *options, GError **error)
{
	guint8 head[4096]; /* enough for a long prolog before the root element */
	gsize len = 0;
	FILE *f;
	FileKind kind;

	g_return_val_if_fail(path != NULL, NULL);

	f = fopen(path, "rb");
	if (f == NULL) {
		int saved = errno;

		g_set_error(error, SDR_ERROR, saved == ENOENT ? SDR_ERROR_NOT_FOUND : SDR_ERROR_IO,
		            _("Cannot open %s: %s"), path, g_strerror(saved));
		return NULL;
	}
	len = fread(head, 1, sizeof head, f);
	fclose(f);
	kind = detect_kind(path, head, len);
	switch (kind) {
	case KIND_CMS:
		return verify_cms_file(path, options, error);
	case KIND_XML:
		/* PES_Aller (Hélios): per-bordereau verdicts and profile checks. */
		if (sdr_pes_detect(head, len))
			return sdr_pes_verify_file(path, options, error);
		return sdr_xades_verify_file(path, options, error);
	case KIND_PDF:
		return sdr_pades_verify_file(path, options, error);
	case KIND_UNKNOWN:
	default:
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("%s is not a signature file sinadur knows"), path);
		return NULL;
	}
}
