/* sdr-handlers-extend.c - the "extend" handler: raise a signature file to B-LT or B-LTA
 * (no token, no PIN). Request: {"file", "level": "LT"|"LTA", "output"?, "overwrite"?,
 * "tsa"?, "content"?, "renew"?}. Result: {"file", "format", "level_before", "level",
 * "output"?, "already"?, "renewed"?}. renew (LTA only) adds an archive timestamp to a
 * B-LTA file after the validation data of its last one. Outputs follow the sign outputs' rules
 * (sdr-sign-output.c).
 */
#include "sdr-handlers-private.h"

#include "sdr-error.h"
#include "sdr-extend.h"
#include "sdr-file.h"
#include "sdr-json.h"
#include "sdr-sign-private.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

/* "dir/NAME-LTA.ext" for "dir/NAME.ext" (before the last extension). */
static char *
default_output(const char *input, SdrTargetLevel level)
{
	g_autofree char *dir = g_path_get_dirname(input);
	g_autofree char *base = g_path_get_basename(input);
	const char *tag = level == SDR_TARGET_LEVEL_LTA ? "LTA" : "LT";
	const char *dot = strrchr(base, '.');
	g_autofree char *name =
	        dot != NULL && dot != base
	                ? g_strdup_printf("%.*s-%s%s", (int)(dot - base), base, tag, dot)
	                : g_strdup_printf("%s-%s", base, tag);

	return g_build_filename(dir, name, NULL);
}

/* long: request checks, output planning, the extension and its publication in order */
JsonNode *
sdr_handle_extend(SdrContext *ctx, JsonObject *request, GError **error)
{
	const char *file = sdr_json_get_string(request, "file", NULL);
	const char *level_name = sdr_json_get_string(request, "level", NULL);
	const char *output = sdr_json_get_string(request, "output", NULL);
	gboolean overwrite = sdr_json_get_bool(request, "overwrite", FALSE);
	g_autofree char *tsa = g_strdup(sdr_json_get_string(request, "tsa", NULL));
	SdrConfig *config = sdr_context_get_config(ctx);
	SdrExtendRequest req = { 0 };
	SdrExtendResult res = { 0 };
	g_autofree char *out = NULL, *dir = NULL, *tmp = NULL, *dest = NULL;
	JsonObject *answer;
	struct stat st;

	if (sdr_context_get_origin(ctx) != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Output files are only chosen from the command line."));
		return NULL;
	}
	if (file == NULL || level_name == NULL ||
	    !sdr_target_level_from_name(level_name, &req.level) ||
	    req.level < SDR_TARGET_LEVEL_LT) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("extend needs a file and --level LT or LTA."));
		return NULL;
	}
	if (!g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, _("%s: no such file."), file);
		return NULL;
	}
	if (tsa == NULL || tsa[0] == '\0') {
		g_free(tsa);
		tsa = sdr_config_get_string(config, "signature", "tsa_url", NULL);
	}
	req.renew = sdr_json_get_bool(request, "renew", FALSE);
	if (req.renew && req.level != SDR_TARGET_LEVEL_LTA) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("--renew renews the archive timestamp: it goes with --level LTA."));
		return NULL;
	}
	req.tsa_url = tsa;
	req.content_path = sdr_json_get_string(request, "content", NULL);
	req.trust = sdr_context_get_trust(ctx, error);
	if (req.trust == NULL)
		return NULL;
	out = output != NULL ? g_strdup(output) : default_output(file, req.level);
	if (sdr_file_is_same(out, file)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The output %s is the signature itself: it is never replaced."), out);
		return NULL;
	}
	if (output != NULL && !overwrite && g_stat(out, &st) == 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("%s already exists: it was not replaced (use --overwrite to "
		              "replace it)."),
		            out);
		return NULL;
	}
	dir = g_path_get_dirname(out);
	tmp = sdr_file_reserve_temp(dir, 0644, error);
	if (tmp == NULL)
		return NULL;
	if (!sdr_extend_file(file, &req, tmp, &res, error) || res.already) {
		(void)g_unlink(tmp);
		if (!res.already) {
			sdr_extend_result_clear(&res);
			return NULL;
		}
	} else if (res.content_path != NULL && sdr_file_is_same(out, res.content_path)) {
		/* --overwrite with -o naming the signed document itself */
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The output %s is the signed document: it is never replaced."), out);
		(void)g_unlink(tmp);
		sdr_extend_result_clear(&res);
		return NULL;
	} else if (!sdr_sign_publish_path(tmp, out, output == NULL, overwrite, &dest, error)) {
		(void)g_unlink(tmp);
		sdr_extend_result_clear(&res);
		return NULL;
	}
	answer = json_object_new();
	json_object_set_string_member(answer, "file", file);
	json_object_set_string_member(answer, "format", res.format != NULL ? res.format : "");
	json_object_set_string_member(answer, "level_before", sdr_level_name(res.before));
	json_object_set_string_member(answer, "level", sdr_level_name(res.after));
	json_object_set_boolean_member(answer, "already", res.already);
	json_object_set_boolean_member(answer, "renewed", res.renewed);
	if (dest != NULL)
		json_object_set_string_member(answer, "output", dest);
	if (res.content_path != NULL)
		json_object_set_string_member(answer, "content", res.content_path);
	sdr_extend_result_clear(&res);
	return sdr_json_node_take(answer);
}
