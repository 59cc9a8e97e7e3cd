/* sdr-handler.c - the table of actions and its dispatch. */
#include "sdr-handler.h"

#include "sdr-config-build.h"
#include "sdr-error.h"
#include "sdr-handlers-private.h"

#include <glib/gi18n-lib.h>

static const SdrHandler handlers[] = {
	{ "tokens", sdr_handle_tokens, TRUE },
	{ "certificates", sdr_handle_certificates, TRUE },
	{ "sign", sdr_handle_sign, TRUE },
	{ "verify", sdr_handle_verify, FALSE },
	{ "doctor", sdr_handle_doctor, TRUE },
	{ "info", sdr_handle_info, FALSE },
	{ "s2low-test", sdr_handle_s2low_test, TRUE },
	{ "send-actes", sdr_handle_send_actes, TRUE },
	{ "send-pes", sdr_handle_send_pes, TRUE },
	{ "status", sdr_handle_status, TRUE },
	{ NULL, NULL, FALSE },
};

const SdrHandler *
sdr_handlers(void)
{
	return handlers;
}

const SdrHandler *
sdr_handler_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (const SdrHandler *h = handlers; h->name != NULL; h++) {
		if (g_str_equal(h->name, name))
			return h;
	}
	return NULL;
}

JsonNode *
sdr_handler_run(SdrContext *ctx, const char *name, JsonObject *request, GError **error)
{
	const SdrHandler *h = sdr_handler_find(name);
	g_autoptr(JsonObject) empty = NULL;

	if (h == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST, _("Unknown action “%s”."),
		            name != NULL ? name : "");
		return NULL;
	}
	if (request == NULL) {
		empty = json_object_new();
		request = empty;
	}
	return h->func(ctx, request, error);
}

JsonNode *
sdr_handle_info(SdrContext *ctx, JsonObject *request, GError **error)
{
	JsonObject *o = json_object_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(o, "name", "sinadur");
	json_object_set_string_member(o, "version", SDR_VERSION);
	json_object_set_int_member(o, "api_version", 1);
	json_node_take_object(node, o);
	return node;
}
