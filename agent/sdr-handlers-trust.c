/* sdr-handlers-trust.c - "trust-update" and "trust-status": the trusted lists'
 * cache (sdr-tl-cache.h), for `sinadur trust update|status` and the agent's
 * background refresh. Command line and agent only: the bridge has no route to them. */
#include "sdr-error.h"
#include "sdr-handlers-private.h"
#include "sdr-tl-cache.h"

#include <glib/gi18n-lib.h>

SdrTlCacheConfig *
sdr_handlers_tl_cache_config(SdrContext *ctx, GError **error)
{
	return sdr_tl_cache_config_new(sdr_context_get_config(ctx), NULL, error);
}

JsonNode *
sdr_handle_trust_update(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autoptr(SdrTlCacheConfig) cc = sdr_handlers_tl_cache_config(ctx, error);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	JsonObject *answer;

	(void)request;
	if (sdr_context_get_origin(ctx) != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("Trusted lists are only updated from the command line."));
		return NULL;
	}
	if (cc == NULL)
		return NULL;
	answer = sdr_tl_cache_update(cc, now, error);
	if (answer == NULL)
		return NULL;
	/* What the cache now holds, as "trust-status" says it. */
	json_object_set_object_member(answer, "status", sdr_tl_cache_status(cc, now));
	return sdr_json_node_take(answer);
}

JsonNode *
sdr_handle_trust_status(SdrContext *ctx, JsonObject *request, GError **error)
{
	g_autoptr(SdrTlCacheConfig) cc = sdr_handlers_tl_cache_config(ctx, error);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	(void)request;
	if (cc == NULL)
		return NULL;
	return sdr_json_node_take(sdr_tl_cache_status(cc, now));
}
