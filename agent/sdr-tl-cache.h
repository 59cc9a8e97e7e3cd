/* sdr-tl-cache.h - the agent's cache of trusted lists (ETSI TS 119 612) under
 * $XDG_CACHE_HOME/sinadur/tl/: download of the EU list of lists (LOTL) and of the
 * national lists it points to, conditional requests, and the rule that a cached list
 * is never replaced by one that does not verify, is expired, or is older.
 *
 * Parsing, signature checks and qualification are formats/sdr-tl.h (pure functions);
 * this file only fetches (formats/sdr-http.h), compares and stores (common/sdr-file.h).
 * Every list read back from the cache is checked again before use: the cache is a
 * convenience, never a source of trust.
 *
 * Files: lotl.xml, CC.xml (two capital letters: the territory), state.ini (per list:
 * url, etag, last_modified, fetched, last_try, result, error), .lock (flock while
 * updating: the CLI and the agent may update at the same time).
 */
#pragma once

#include "sdr-config.h"
#include "sdr-tl.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The Official Journal's publication of the LOTL location. */
#define SDR_TL_DEFAULT_LOTL_URL "https://ec.europa.eu/tools/lotl/eu-lotl.xml"
#define SDR_TL_DEFAULT_REFRESH_HOURS 24

typedef struct {
	char *lotl_url;       /* [trust] lotl_url */
	GPtrArray *signers;   /* X509*: [trust] lotl_signer_certs (PEM files) */
	GPtrArray *countries; /* char*: [trust] countries, upper case; "*" = every list */
	guint refresh_hours;  /* [trust] refresh_hours (1..720) */
	char *dir;            /* the cache folder */
} SdrTlCacheConfig;

/* Reads the [trust] keys. dir NULL = $XDG_CACHE_HOME/sinadur/tl. Fails
 * (SDR_ERROR_CONFIG) when a signer file cannot be read or holds no certificate, or
 * a country is not two letters (or "*"). */
SdrTlCacheConfig *sdr_tl_cache_config_new(const SdrConfig *config, const char *dir, GError **error);
void sdr_tl_cache_config_free(SdrTlCacheConfig *cc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTlCacheConfig, sdr_tl_cache_config_free)

/* TRUE when updates make sense: a LOTL URL and at least one signer. */
gboolean sdr_tl_cache_configured(const SdrTlCacheConfig *cc);

/* Downloads the LOTL, then the national lists of the configured countries, each
 * checked (LOTL: the configured signers; a national list: the certificates the
 * trusted LOTL publishes for its territory) at now. Answer:
 *   {"lists": [{"territory", "url", "result", "message"?, "sequence"?}], "updated": N,
 *    "errors": N}
 * result: "updated" (stored), "not-modified" (304 or the same bytes: nothing
 * written), "refused" (downloaded but not stored: signature, expired, older, wrong
 * territory, not a list; message says why), "error" (not reached; message).
 * Fails only when updates are not configured or the cache folder is unusable. */
JsonObject *sdr_tl_cache_update(const SdrTlCacheConfig *cc, GDateTime *now, GError **error);

/* The cached lists as a set (anchors: the signers), checked at now; NULL (no error)
 * when there is no cached LOTL. */
SdrTlSet *sdr_tl_cache_load(const SdrTlCacheConfig *cc, GDateTime *now, GError **error);

/* For `sinadur trust status` and doctor:
 *   {"dir", "lotl_url", "configured", "signers": N, "countries": [...], "present",
 *    "refresh_hours", "next_refresh"?, "lists": [{"territory", "file", "url"?, "operator",
 *    "sequence", "issued", "next_update"?, "status", "status_message"?, "stale",
 *    "fetched"?, "last_try"?, "last_result"?, "last_error"?}], "missing": [CC...]} */
JsonObject *sdr_tl_cache_status(const SdrTlCacheConfig *cc, GDateTime *now);

/* Seconds until the cache should be refreshed: 0 when a list is missing or the last
 * successful contact is older than min(refresh_hours, the earliest NextUpdate). */
gint64 sdr_tl_cache_due_in(const SdrTlCacheConfig *cc, GDateTime *now);

G_END_DECLS
