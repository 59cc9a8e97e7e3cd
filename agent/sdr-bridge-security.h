/* sdr-bridge-security.h - every security decision of the local HTTP bridge.
 *
 * Pure functions over an immutable policy and the head of a request, so that
 * each rule is unit-tested and fuzzed without a socket. The transport
 * (sdr-bridge-transport.c) and the route handlers (sdr-bridge-api.c,
 * sdr-bridge-nexu.c) ask this module and obey; they take no security decision
 * of their own.
 *
 * Rules (docs/internals/bridge.md):
 *   - Host must be 127.0.0.1:PORT, [::1]:PORT or localhost:PORT (DNS rebinding) -> 421.
 *   - Methods GET, POST, OPTIONS only -> 405.
 *   - Origin: exact match with the allow-list; https origins from
 *     [bridge] allowed_origins, plus http loopback origins from [bridge] test_origins
 *     (nothing else can ever be an http origin); never "null", never "*" -> 403.
 *     Every request needs an allowed Origin except GET /v1/info without Origin
 *     (and then not from a web page's subresource: Sec-Fetch-Site other than "none").
 *   - POST needs Content-Type application/json (so browsers must preflight) -> 415.
 *   - A declared body over the cap -> 413 before reading it.
 *   - Preflight (OPTIONS) answered only for allowed origins and GET/POST.
 *   - JSON bodies: strict RFC 8259, depth capped by the parser, unknown members refused,
 *     base64 fields checked against a size cap before decoding.
 */
#pragma once

#include "sdr-config.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SDR_BRIDGE_API_VERSION 1
#define SDR_BRIDGE_JSON_MAX_DEPTH 16
#define SDR_BRIDGE_MAX_BODY_MB_DEFAULT 100
#define SDR_BRIDGE_MAX_BODY_MB_LIMIT 2048
#define SDR_BRIDGE_CONSENT_TIMEOUT_DEFAULT 120
/* Every byte of a body held by the bridge is counted this many times against
 * [bridge] max_memory_mb: the body, the parser's buffer and both trees. */
#define SDR_BRIDGE_BODY_MEMORY_FACTOR 4
#define SDR_BRIDGE_MAX_MEMORY_MB_MIN 512
#define SDR_BRIDGE_REQUEST_TIMEOUT_DEFAULT 60

typedef struct _SdrBridgePolicy SdrBridgePolicy;

/* Reads [bridge] port, allowed_origins, test_origins, max_body_mb, nexu,
 * consent_timeout_s. SDR_ERROR_CONFIG for an origin that is not a valid https
 * origin (or, in test_origins, an http loopback origin), a port out of range... */
SdrBridgePolicy *sdr_bridge_policy_new_from_config(const SdrConfig *config, GError **error);
/* Explicit form (tests, fuzzing). test_origins may be NULL. */
SdrBridgePolicy *sdr_bridge_policy_new(guint16 port, const char *const *allowed_origins,
                                       const char *const *test_origins, GError **error);
void sdr_bridge_policy_free(SdrBridgePolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrBridgePolicy, sdr_bridge_policy_free)

guint16 sdr_bridge_policy_get_port(const SdrBridgePolicy *policy);
/* Port 0 (tests: let the system choose) is replaced by the real port once bound. */
void sdr_bridge_policy_set_bound_port(SdrBridgePolicy *policy, guint16 port);
guint64 sdr_bridge_policy_get_max_body(const SdrBridgePolicy *policy); /* bytes */
guint sdr_bridge_policy_get_consent_timeout(const SdrBridgePolicy *policy);
gboolean sdr_bridge_policy_get_nexu(const SdrBridgePolicy *policy);
void sdr_bridge_policy_set_max_body(SdrBridgePolicy *policy, guint64 bytes);
void sdr_bridge_policy_set_nexu(SdrBridgePolicy *policy, gboolean nexu);
/* [bridge] max_memory_mb: total request memory across connections, in bytes
 * (default max(512 MiB, SDR_BRIDGE_BODY_MEMORY_FACTOR x max_body); less than that
 * factor times max_body is a configuration error). */
guint64 sdr_bridge_policy_get_max_memory(const SdrBridgePolicy *policy);
void sdr_bridge_policy_set_max_memory(SdrBridgePolicy *policy, guint64 bytes);
/* [bridge] request_timeout_s: a request body must be complete this long after
 * its head (default 60). */
guint sdr_bridge_policy_get_request_timeout(const SdrBridgePolicy *policy);
void sdr_bridge_policy_set_request_timeout(SdrBridgePolicy *policy, guint seconds);

/* Normalises an origin from the configuration ("HTTPS://Example.fr:443/" ->
 * "https://example.fr"); NULL with SDR_ERROR_CONFIG when it is not one.
 * allow_http: accept http origins on loopback hosts only (test origins). */
char *sdr_bridge_origin_normalise(const char *origin, gboolean allow_http, GError **error);

gboolean sdr_bridge_check_host(const SdrBridgePolicy *policy, const char *host, GError **error);
gboolean sdr_bridge_check_origin(const SdrBridgePolicy *policy, const char *origin, GError **error);
/* application/json, optionally with parameters (charset=utf-8). */
gboolean sdr_bridge_check_content_type(const char *content_type, GError **error);

/* ---- Decisions on a request head --------------------------------------------- */

typedef struct {
	const char *method;
	const char *path;
	const char *host;
	const char *origin;
	const char *content_type;
	const char *content_length;    /* header text, may be NULL */
	const char *acr_method;        /* Access-Control-Request-Method */
	const char *acr_headers;       /* Access-Control-Request-Headers */
	const char *transfer_encoding; /* may be NULL */
	const char *sec_fetch_site;    /* Sec-Fetch-Site, may be NULL */
	/* Per-route flag set by the HTTP layer: a GET of this route is served
	 * without Origin, even to another site's <script> (NexU's /nexu.js). Never
	 * set for a route that answers anything personal. */
	gboolean allow_no_origin;
} SdrBridgeRequestHead;

typedef enum {
	SDR_BRIDGE_VERDICT_DENY = 0,  /* answer status + error, never read the body */
	SDR_BRIDGE_VERDICT_PREFLIGHT, /* answer 204 with the CORS preflight headers */
	SDR_BRIDGE_VERDICT_ALLOW,     /* read the body (within the cap), then route */
} SdrBridgeVerdict;

typedef struct {
	SdrBridgeVerdict verdict;
	guint status;        /* HTTP status when denied */
	int error_code;      /* SdrErrorCode when denied */
	const char *message; /* English msgid (static) when denied */
	gboolean cors;       /* add Access-Control-Allow-Origin: <origin> */
} SdrBridgeDecision;

/* The one function that decides on a request head. Never fails. */
void sdr_bridge_security_decide(const SdrBridgePolicy *policy, const SdrBridgeRequestHead *head,
                                SdrBridgeDecision *decision);

/* Response headers the bridge always adds (Vary, nosniff, no-store...), as a
 * NULL-terminated list of name, value pairs. */
const char *const *sdr_bridge_security_common_headers(void);
/* Headers of a preflight answer (name, value pairs, NULL-terminated). */
const char *const *sdr_bridge_security_preflight_headers(void);

/* ---- Body checks --------------------------------------------------------------- */

/* THE parser of every request body (API v1 and NexU): strict RFC 8259 only (one
 * root, which must be an object; no comments, single quotes, hex, NaN/Infinity,
 * trailing bytes, control characters in strings, lone surrogates, \u0000, invalid
 * UTF-8, numbers out of 64-bit range, repeated member names), nesting at most
 * SDR_BRIDGE_JSON_MAX_DEPTH enforced by the parser (json-c) itself. Returns a
 * mutable json-glib tree (the caller may rewrite it), or NULL with
 * SDR_ERROR_BAD_REQUEST. */
JsonNode *sdr_bridge_json_parse_object(const char *data, gsize len, GError **error);
/* Refuses members not in allowed (NULL-terminated): SDR_ERROR_BAD_REQUEST. */
gboolean sdr_bridge_json_check_members(JsonObject *object, const char *const *allowed,
                                       const char *where, GError **error);
/* Validates a base64 string (alphabet, padding) whose decoded size is at most
 * max_decoded, without decoding it. Returns the decoded size. */
gboolean sdr_bridge_base64_check(const char *text, guint64 max_decoded, guint64 *decoded_size,
                                 GError **error);

/* HTTP status of an SDR_ERROR code. */
guint sdr_bridge_status_for_error(int code);

/* ---- Per-origin approvals (first use of certificate listing) ----------------- */

typedef struct _SdrBridgeApprovals SdrBridgeApprovals;

SdrBridgeApprovals *sdr_bridge_approvals_new(void);
void sdr_bridge_approvals_free(SdrBridgeApprovals *approvals);
gboolean sdr_bridge_approvals_has(SdrBridgeApprovals *approvals, const char *origin);
void sdr_bridge_approvals_add(SdrBridgeApprovals *approvals, const char *origin);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrBridgeApprovals, sdr_bridge_approvals_free)

G_END_DECLS
