/* sdr-sign-output.c - what the "sign" engine and its format adapters share: a
 * document's bytes again, and the outputs (written atomically and published without
 * replacing anything, or returned in base64). See sdr-sign-private.h.
 */
#include "sdr-sign-private.h"

#include "sdr-error.h"
#include "sdr-file.h"

#include <glib/gi18n-lib.h>
#include <string.h>

GInputStream *
sdr_sign_doc_open(SignDoc *doc, GError **error)
{
	g_autoptr(GFile) file = NULL;

	if (doc->data != NULL)
		return g_memory_input_stream_new_from_bytes(doc->data);
	file = g_file_new_for_path(doc->path);
	return G_INPUT_STREAM(g_file_read(file, NULL, error));
}

/* The n-th (n >= 2) free-name candidate for a default name that is taken:
 * "a.pdf - Signature N.xml" for XAdES (the platforms' numbering), otherwise " (N)"
 * before the last extension: "a-signe (2).pdf", "a.pdf (2).p7s", "pes-signe (2).xml". */
char *
sdr_sign_numbered_path(const char *path, guint n)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *file = NULL;
	const char *sig1 = " - Signature 1.xml";
	const char *dot = strrchr(base, '.');

	if (g_str_has_suffix(base, sig1))
		file = g_strdup_printf("%.*s - Signature %u.xml",
		                       (int)(strlen(base) - strlen(sig1)), base, n);
	else if (dot != NULL && dot != base)
		file = g_strdup_printf("%.*s (%u)%s", (int)(dot - base), base, n, dot);
	else
		file = g_strdup_printf("%s (%u)", base, n);
	if (g_str_equal(dir, ".") && !g_str_has_prefix(path, "./"))
		return g_steal_pointer(&file);
	return g_build_filename(dir, file, NULL);
}

/* Publishes tmp under path without replacing anything that exists (unless replace):
 * with numbered, a name that is taken becomes the next free numbered name; else it is
 * refused. *dest_out: the name used. */
gboolean
sdr_sign_publish_path(const char *tmp, const char *path, gboolean numbered, gboolean replace,
                      char **dest_out, GError **error)
{
	g_autofree char *dest = g_strdup(path);

	for (guint n = 2;; n++) {
		SdrPublishResult r = sdr_file_publish(tmp, dest, replace, error);

		if (r == SDR_PUBLISH_ERROR)
			return FALSE;
		if (r == SDR_PUBLISH_OK)
			break;
		if (!numbered || n > 9999) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
			            _("%s already exists: it was not replaced (use --overwrite to "
			              "replace it)."),
			            dest);
			return FALSE;
		}
		g_free(dest);
		dest = sdr_sign_numbered_path(path, n);
	}
	*dest_out = g_steal_pointer(&dest);
	return TRUE;
}

/* Publishes doc->out_tmp under doc->out_path (sdr_sign_publish_path: a default name
 * that is taken becomes the next free numbered name; a name given by --output is
 * refused, unless --in-place/--overwrite). */
gboolean
sdr_sign_publish_output(SignDoc *doc, JsonObject *result, GError **error)
{
	g_autofree char *dest = NULL;

	if (!sdr_sign_publish_path(doc->out_tmp, doc->out_path, doc->out_numbered, doc->out_replace,
	                           &dest, error))
		return FALSE;
	g_clear_pointer(&doc->out_tmp, g_free);
	json_object_set_string_member(result, "output", dest);
	if (!g_str_equal(dest, doc->out_path))
		json_object_set_string_member(result, "existing_kept", doc->out_path);
	return TRUE;
}

/* Gives the output: written to a file (CLI) or put in the result as base64. */
gboolean
sdr_sign_emit_output(SignJob *job, SignDoc *doc, const char *member, const char *name, GBytes *out,
                     JsonObject *result, GError **error)
{
	gsize len;
	const guint8 *p = g_bytes_get_data(out, &len);

	(void)job;
	if (doc->path != NULL) {
		if (!sdr_file_write_atomic(doc->out_tmp, p, len, error))
			return FALSE;
		return sdr_sign_publish_output(doc, result, error);
	} else {
		g_autofree char *b64 = g_base64_encode(p, len);

		json_object_set_string_member(result, member, b64);
		if (name != NULL)
			json_object_set_string_member(result, "output_name", name);
	}
	return TRUE;
}

/* A configuration string, or NULL when absent or empty. */
char *
sdr_sign_config_string(SignJob *job, const char *key)
{
	char *v = sdr_config_get_string(sdr_context_get_config(job->ctx), "signature", key, NULL);

	if (v != NULL && v[0] == '\0')
		g_clear_pointer(&v, g_free);
	return v;
}
