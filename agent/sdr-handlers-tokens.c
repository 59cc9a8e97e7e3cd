/* sdr-handlers-tokens.c - "tokens" and "certificates". */
#include "sdr-error.h"
#include "sdr-handlers-private.h"
#include "sdr-json.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <openssl/x509v3.h>

JsonNode *
sdr_json_node_take(JsonObject *obj)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, obj);
	return node;
}

JsonObject *
sdr_json_from_error(const GError *e)
{
	JsonObject *eo = json_object_new();
	g_autofree char *detail = NULL;
	g_autofree char *message = sdr_error_split_detail(e->message, &detail);

	json_object_set_string_member(
	        eo, "code", e->domain == SDR_ERROR ? sdr_error_code_name(e->code) : "SDR_ERROR_IO");
	json_object_set_string_member(eo, "message", message);
	if (detail != NULL)
		json_object_set_string_member(eo, "detail", detail);
	json_object_set_int_member(eo, "exit_code", sdr_error_exit_code(e));
	return eo;
}

gboolean
sdr_handlers_check_base64(const char *data)
{
	return sdr_json_base64_check(data, TRUE, G_MAXUINT64, NULL, NULL);
}

const char *
sdr_handlers_expiry_status(SdrContext *ctx, const SdrCertInfo *cert, GDateTime *now,
                           gint64 *days_left)
{
	gsize n_warn = 0;
	const int *warn = sdr_context_get_warn_days(ctx, &n_warn); /* largest first */
	gint64 days = cert->not_after != NULL ? sdr_time_days_left(cert->not_after, now) : -1;

	if (days_left != NULL)
		*days_left = days;
	if (cert->not_after == NULL || g_date_time_compare(cert->not_after, now) < 0)
		return "expired";
	if (cert->not_before != NULL && g_date_time_compare(cert->not_before, now) > 0)
		return "not_yet_valid";
	if (n_warn > 0 && days <= warn[n_warn - 1])
		return "critical";
	if (n_warn > 0 && days <= warn[0])
		return "warning";
	return "ok";
}

void
sdr_handlers_add_cert_expiry(SdrContext *ctx, JsonObject *out, const SdrCertInfo *cert)
{
	g_autoptr(GDateTime) now = sdr_time_now();
	JsonObject *e = json_object_new();
	gint64 days = 0;
	const char *status = sdr_handlers_expiry_status(ctx, cert, now, &days);

	if (cert->not_after != NULL) {
		g_autofree char *iso = sdr_time_to_iso8601(cert->not_after);
		json_object_set_string_member(e, "not_after", iso);
	}
	json_object_set_int_member(e, "days_left", days);
	json_object_set_string_member(e, "expiry_status", status);
	json_object_set_object_member(out, "certificate_expiry", e);
}

JsonNode *
sdr_handle_tokens(SdrContext *ctx, JsonObject *request, GError **error)
{
	SdrTokenManager *tm = sdr_context_get_token_manager(ctx, error);
	g_autoptr(GPtrArray) tokens = NULL;
	JsonObject *o;
	JsonArray *a;

	if (tm == NULL)
		return NULL;
	tokens = sdr_token_manager_list_tokens(tm, error);
	if (tokens == NULL)
		return NULL;
	o = json_object_new();
	a = json_array_new();
	for (guint i = 0; i < tokens->len; i++)
		json_array_add_object_element(a, sdr_json_from_token(g_ptr_array_index(tokens, i)));
	json_object_set_array_member(o, "tokens", a);
	return sdr_json_node_take(o);
}

/* The certificate of the file signer, as the token layer describes it. */
static SdrCertInfo *
file_signer_cert(SdrContext *ctx)
{
	SdrSigner *s = sdr_context_get_file_signer(ctx);
	SdrCertInfo *info;

	if (s == NULL)
		return NULL;
	info = sdr_cert_info_new_from_x509(sdr_signer_get_cert(s));
	if (info != NULL)
		info->has_private_key = TRUE;
	return info;
}

GPtrArray *
sdr_context_list_certs(SdrContext *ctx, GPtrArray **others, GError **error)
{
	SdrCertInfo *file = file_signer_cert(ctx);
	SdrTokenManager *tm;
	g_autoptr(GPtrArray) all = NULL;
	GPtrArray *out;

	if (others != NULL)
		*others = NULL;
	if (file != NULL) {
		out = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_cert_info_free);
		g_ptr_array_add(out, file);
		return out;
	}
	tm = sdr_context_get_token_manager(ctx, error);
	if (tm == NULL)
		return NULL;
	all = sdr_token_manager_list_certificates(tm, error);
	if (all == NULL)
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_cert_info_free);
	for (guint i = 0; i < all->len; i++) {
		SdrCertInfo *c = g_ptr_array_index(all, i);

		if (c->has_private_key)
			g_ptr_array_add(out, g_ptr_array_steal_index(all, i--));
	}
	if (others != NULL)
		*others = g_steal_pointer(&all);
	return out;
}

GPtrArray *
sdr_context_list_signing_certs(SdrContext *ctx, GError **error)
{
	return sdr_context_list_certs(ctx, NULL, error);
}

JsonNode *
sdr_handle_certificates(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autoptr(GPtrArray) certs = NULL;
	gboolean all = sdr_json_get_bool(request, "all", FALSE);
	g_autoptr(GDateTime) now = sdr_time_now();
	JsonObject *o;
	JsonArray *a;

	if (all && sdr_context_get_file_signer(ctx) == NULL) {
		SdrTokenManager *tm = sdr_context_get_token_manager(ctx, error);

		if (tm == NULL)
			return NULL;
		certs = sdr_token_manager_list_certificates(tm, error);
	} else if (sdr_context_get_file_signer(ctx) != NULL) {
		certs = sdr_context_list_signing_certs(ctx, error);
	} else {
		SdrTokenManager *tm = sdr_context_get_token_manager(ctx, error);

		if (tm == NULL)
			return NULL;
		certs = sdr_token_manager_list_certificates(tm, error);
		/* People's certificates only: CA certificates stored on the key are
		 * listed with "all". */
		for (guint i = 0; certs != NULL && i < certs->len; i++) {
			SdrCertInfo *c = g_ptr_array_index(certs, i);

			if (c->cert != NULL && !c->has_private_key && X509_check_ca(c->cert) != 0)
				g_ptr_array_remove_index(certs, i--);
		}
	}
	if (certs == NULL)
		return NULL;
	o = json_object_new();
	a = json_array_new();
	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *info = g_ptr_array_index(certs, i);
		JsonObject *c = sdr_json_from_cert(info, now);
		const char *status = sdr_handlers_expiry_status(ctx, info, now, NULL);

		json_object_set_string_member(c, "expiry_status", status);
		json_array_add_object_element(a, c);
	}
	json_object_set_array_member(o, "certificates", a);
	return sdr_json_node_take(o);
}
