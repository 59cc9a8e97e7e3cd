/* sdr-bridge-transport.c - the bridge's HTTP transport: daemons, connection
 * tracking and deadlines, the memory budget, request heads (strictness, the
 * security decision) and bodies, answers and event streams. It knows no route:
 * a request that passed is handed to the SdrBridgeRouter it was given.
 * Security decisions are sdr-bridge-security.c's. */
#include "sdr-bridge-transport.h"

#include "sdr-bridge-core.h" /* the reply helpers */
#include "sdr-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>

#define CONNECTION_TIMEOUT_S 10 /* inactivity (libmicrohttpd's own timer) */
#define HEAD_DEADLINE_S 10      /* a head complete 10 s after the connection opened or went idle */
#define CONNECTION_LIMIT 128    /* per daemon (address family): one thread each */
#define CONNECTION_RESERVE 16   /* past LIMIT - RESERVE, the oldest idle connection is closed */
#define CONNECTION_MEMORY 65536 /* libmicrohttpd answers 414/431 itself past this */
#define HEAD_MAX 16384          /* we answer 431 past this (with our headers) */
#define CHUNK_RESERVE (256 * 1024)
#define SSE_KEEPALIVE_MS 15000

/* ---- Transport: connection table, deadlines, memory budget --------------------
 *
 * libmicrohttpd's timeout is an inactivity timer: a client sending one byte
 * every few seconds keeps its connection (and its thread) for ever. Each
 * connection is tracked from accept to close: waiting for a head (since it
 * opened or since its last answer), reading a body (since its head), or being
 * handled (no deadline: the handler has its own). A watchdog thread shuts the
 * socket of a connection past its deadline (libmicrohttpd then closes it
 * itself); it sleeps until the nearest deadline, and for ever when there is no
 * connection. Near the connection limit, the oldest connection waiting for a
 * head (idle keep-alive or trickling) is closed so that new clients get in. */

typedef enum { TRACK_WAITING, TRACK_BODY, TRACK_HANDLING } TrackState;

typedef struct {
	int fd;
	guint family; /* 0 IPv4, 1 IPv6 */
	TrackState state;
	gint64 since; /* monotonic, µs */
	gboolean closing;
} Track;

typedef struct {
	GMutex lock;
	GCond cond;
	GQueue tracks; /* oldest first */
	guint live[2];
	gboolean stop;
	GThread *watchdog;
	guint64 held, budget; /* request memory, bytes */
	gint64 body_us;
} Transport;

struct _SdrBridgeTransport {
	SdrBridgePolicy *policy; /* borrowed */
	SdrBridgeRouter router;
	struct MHD_Daemon *daemon4;
	struct MHD_Daemon *daemon6;
	guint16 port;
	Transport tr;
};

typedef struct {
	gboolean responded; /* an answer is queued: ignore the rest of the body */
	GByteArray *body;
	char *origin;     /* allowed origin, echoed in Access-Control-Allow-Origin */
	Transport *tr;    /* for the memory budget */
	guint64 reserved; /* bytes of the budget this request holds */
} Conn;

static void
track_close_locked(Track *t)
{
	if (!t->closing) {
		(void)shutdown(t->fd, SHUT_RDWR);
		t->closing = TRUE;
	}
}

static gpointer
watchdog_main(gpointer data)
{
	Transport *tr = data;

	g_mutex_lock(&tr->lock);
	while (!tr->stop) {
		gint64 now = g_get_monotonic_time(), next = G_MAXINT64;

		for (GList *l = tr->tracks.head; l != NULL; l = l->next) {
			Track *t = l->data;
			gint64 limit;

			if (t->closing || t->state == TRACK_HANDLING)
				continue;
			limit = t->since + (t->state == TRACK_WAITING
			                            ? (gint64)HEAD_DEADLINE_S * G_USEC_PER_SEC
			                            : tr->body_us);
			if (limit <= now)
				track_close_locked(t);
			else
				next = MIN(next, limit);
		}
		if (next == G_MAXINT64)
			g_cond_wait(&tr->cond, &tr->lock);
		else
			g_cond_wait_until(&tr->cond, &tr->lock, next);
	}
	g_mutex_unlock(&tr->lock);
	return NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
	SdrBridgeTransport *transport = cls;
	Transport *tr = &transport->tr;
	Track *t = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fi =
		        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		t = g_new0(Track, 1);
		t->fd = fi != NULL ? fi->connect_fd : -1;
		t->family = (t->fd >= 0 && getsockname(t->fd, (struct sockaddr *)&ss, &sl) == 0 &&
		             ss.ss_family == AF_INET6)
		                    ? 1
		                    : 0;
		t->state = TRACK_WAITING;
		t->since = g_get_monotonic_time();
		*socket_context = t;
		g_mutex_lock(&tr->lock);
		g_queue_push_tail(&tr->tracks, t);
		if (++tr->live[t->family] > CONNECTION_LIMIT - CONNECTION_RESERVE) {
			for (GList *l = tr->tracks.head; l != NULL; l = l->next) {
				Track *old = l->data;

				if (old != t && !old->closing && old->family == t->family &&
				    old->state == TRACK_WAITING) {
					track_close_locked(old);
					break;
				}
			}
		}
		g_cond_signal(&tr->cond);
		g_mutex_unlock(&tr->lock);
	} else if (t != NULL) {
		/* libmicrohttpd closes the socket after this: no shutdown() after it. */
		g_mutex_lock(&tr->lock);
		g_queue_remove(&tr->tracks, t);
		tr->live[t->family]--;
		g_mutex_unlock(&tr->lock);
		g_free(t);
		*socket_context = NULL;
	}
}

static void
track_set(SdrBridgeTransport *transport, struct MHD_Connection *conn, TrackState state)
{
	Transport *tr = &transport->tr;
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	Track *t = ci != NULL ? ci->socket_context : NULL;

	if (t == NULL)
		return;
	g_mutex_lock(&tr->lock);
	t->state = state;
	t->since = g_get_monotonic_time();
	g_cond_signal(&tr->cond);
	g_mutex_unlock(&tr->lock);
}

/* Reserves bytes of the bridge-wide request memory budget. */
static gboolean
budget_take(Conn *c, guint64 bytes)
{
	Transport *tr = c->tr;
	gboolean ok;

	g_mutex_lock(&tr->lock);
	ok = bytes <= tr->budget && tr->held <= tr->budget - bytes;
	if (ok) {
		tr->held += bytes;
		c->reserved += bytes;
	}
	g_mutex_unlock(&tr->lock);
	return ok;
}

static void
transport_init(Transport *tr, const SdrBridgePolicy *policy)
{
	g_mutex_init(&tr->lock);
	g_cond_init(&tr->cond);
	g_queue_init(&tr->tracks);
	tr->budget = sdr_bridge_policy_get_max_memory(policy);
	tr->body_us = (gint64)sdr_bridge_policy_get_request_timeout(policy) * G_USEC_PER_SEC;
}

static void
transport_stop(Transport *tr)
{
	if (tr == NULL || tr->watchdog == NULL)
		return;
	g_mutex_lock(&tr->lock);
	tr->stop = TRUE;
	g_cond_signal(&tr->cond);
	g_mutex_unlock(&tr->lock);
	g_thread_join(tr->watchdog);
	tr->watchdog = NULL;
}

static void
transport_clear(Transport *tr)
{
	transport_stop(tr);
	g_queue_clear_full(&tr->tracks, g_free);
	g_mutex_clear(&tr->lock);
	g_cond_clear(&tr->cond);
}

typedef struct {
	SdrBridgeEvents *events;
	guint64 last_id;
	char *pending;
	gsize pending_len, pending_off;
	gboolean closed;
} SseState;

static void
conn_free(Conn *c)
{
	if (c == NULL)
		return;
	if (c->body != NULL)
		g_byte_array_unref(c->body);
	if (c->reserved > 0) {
		g_mutex_lock(&c->tr->lock);
		c->tr->held -= c->reserved;
		g_mutex_unlock(&c->tr->lock);
	}
	g_free(c->origin);
	g_free(c);
}

static void
add_headers(struct MHD_Response *r, const char *cors_origin, gboolean public_script)
{
	const char *const *h = sdr_bridge_security_common_headers();

	for (gsize i = 0; h[i] != NULL; i += 2) {
		/* /nexu.js holds no data: a page of another site may load it. */
		if (public_script && g_ascii_strcasecmp(h[i], "Cross-Origin-Resource-Policy") == 0)
			MHD_add_response_header(r, h[i], "cross-origin");
		else
			MHD_add_response_header(r, h[i], h[i + 1]);
	}
	if (cors_origin != NULL)
		MHD_add_response_header(r, "Access-Control-Allow-Origin", cors_origin);
}

static void
add_common_headers(struct MHD_Response *r, const char *cors_origin)
{
	add_headers(r, cors_origin, FALSE);
}

static enum MHD_Result
queue_text_ex(struct MHD_Connection *conn, guint status, char *body, const char *content_type,
              const char *cors_origin, gboolean public_script, gboolean close)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	gsize len = body != NULL ? strlen(body) : 0;

	if (body == NULL)
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer_with_free_callback(len, body, g_free);
	if (r == NULL) {
		g_free(body);
		return MHD_NO;
	}
	add_headers(r, cors_origin, public_script);
	if (content_type != NULL)
		MHD_add_response_header(r, "Content-Type", content_type);
	if (close)
		MHD_add_response_header(r, "Connection", "close");
	if (status == 503)
		MHD_add_response_header(r, "Retry-After", "5");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
queue_text(struct MHD_Connection *conn, guint status, char *body, const char *content_type,
           const char *cors_origin)
{
	return queue_text_ex(conn, status, body, content_type, cors_origin, FALSE, FALSE);
}

/* The error body of API v1, from the core's one reply helper. */
static char *
error_text(guint status, int code, const char *message)
{
	SdrBridgeReply reply = { 0 };

	sdr_bridge_reply_error_code(&reply, status, code, message);
	return reply.body;
}

static enum MHD_Result
queue_error(struct MHD_Connection *conn, guint status, int code, const char *message,
            const char *cors_origin)
{
	return queue_text(conn, status, error_text(status, code, message), "application/json",
	                  cors_origin);
}

/* The same, and the connection is closed after the answer: what follows a
 * malformed head cannot be trusted to be the next request. */
static enum MHD_Result
queue_error_close(struct MHD_Connection *conn, guint status, int code, const char *message,
                  const char *cors_origin)
{
	return queue_text_ex(conn, status, error_text(status, code, message), "application/json",
	                     cors_origin, FALSE, TRUE);
}

/* ---- Server-sent events ------------------------------------------------------ */

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	SseState *s = cls;
	gsize n;

	while (s->pending == NULL || s->pending_off >= s->pending_len) {
		g_clear_pointer(&s->pending, g_free);
		if (s->closed)
			return MHD_CONTENT_READER_END_OF_STREAM;
		s->pending = sdr_bridge_events_wait(s->events, &s->last_id, SSE_KEEPALIVE_MS);
		if (s->pending == NULL)
			return MHD_CONTENT_READER_END_OF_STREAM;
		s->pending_len = strlen(s->pending);
		s->pending_off = 0;
	}
	n = MIN(max, s->pending_len - s->pending_off);
	memcpy(buf, s->pending + s->pending_off, n);
	s->pending_off += n;
	return (ssize_t)n;
}

static void
sse_free(void *cls)
{
	SseState *s = cls;

	g_free(s->pending);
	g_free(s);
}

static enum MHD_Result
queue_sse(SdrBridgeEvents *events, struct MHD_Connection *conn, const char *origin)
{
	SseState *s = g_new0(SseState, 1);
	struct MHD_Response *r;
	enum MHD_Result ret;

	s->events = events;
	s->last_id = sdr_bridge_events_replay_from(events);
	s->pending = g_strdup("retry: 3000\n: sinadur events\n\n");
	s->pending_len = strlen(s->pending);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (r == NULL) {
		sse_free(s);
		return MHD_NO;
	}
	add_common_headers(r, origin);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	/* The stream is long-lived; keep-alive comments keep it moving. */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int)0);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- Request handling ---------------------------------------------------------- */

/* Headers a decision reads: each may be given once. */
static const char *const single_headers[] = {
	"Host",
	"Origin",
	"Content-Type",
	"Content-Length",
	"Transfer-Encoding",
	"Sec-Fetch-Site",
	"Access-Control-Request-Method",
	"Access-Control-Request-Headers",
	NULL,
};

typedef struct {
	guint repeated;  /* a single_headers entry seen twice */
	guint malformed; /* name not a token, control character, hidden bytes */
	guint counts[G_N_ELEMENTS(single_headers)];
} HeadScan;

static gboolean
is_tchar(char c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
            size_t value_size)
{
	HeadScan *hs = cls;

	/* RFC 9110 §5.1: a field name is a token; "Origin :" (whitespace before the
	 * colon) must be refused (RFC 9112 §5.1), not read as another header. */
	if (key_size == 0)
		hs->malformed++;
	for (size_t i = 0; i < key_size; i++) {
		if (!is_tchar(key[i]))
			hs->malformed++;
	}
	/* Field values: visible characters, spaces and tabs only. */
	for (size_t i = 0; value != NULL && i < value_size; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			hs->malformed++;
	}
	/* libmicrohttpd 0.9.75 keeps header lines in place in its read buffer and
	 * ends a value at its first NUL (C strings): "Origin: https://ok\0.evil" is
	 * seen as "https://ok". A line ending right after its value ended in CR LF,
	 * both bytes now zero; anything else after the end (the rest of a value past
	 * a NUL, or a bare LF and the next line) is refused. */
	if (value != NULL && (value[value_size] != '\0' || value[value_size + 1] != '\0'))
		hs->malformed++;
	for (gsize i = 0; single_headers[i] != NULL; i++) {
		if (g_ascii_strcasecmp(key, single_headers[i]) == 0 && ++hs->counts[i] > 1)
			hs->repeated++;
	}
	return MHD_YES;
}

/* Hands a complete request to the router and writes what it answers. */
static enum MHD_Result
dispatch(SdrBridgeTransport *transport, struct MHD_Connection *conn, Conn *c, const char *method,
         const char *url)
{
	SdrBridgeRequest req = { 0 };
	SdrBridgeReply reply = { 0 };

	req.method = method;
	req.path = url;
	req.origin = c->origin;
	req.body = c->body->len > 0 ? (const char *)c->body->data : NULL;
	req.body_len = c->body->len;
	transport->router.handle(transport->router.data, &req, &reply);
	if (reply.stream != NULL) {
		g_free(reply.body);
		return queue_sse(reply.stream, conn, c->origin);
	}
	if (reply.status == 0)
		sdr_bridge_reply_error_code(&reply, 404, SDR_ERROR_NOT_FOUND, _("Unknown address"));
	return queue_text_ex(conn, reply.status, g_steal_pointer(&reply.body),
	                     reply.content_type != NULL ? reply.content_type : "application/json",
	                     c->origin, reply.public_script, FALSE);
}

static void
read_head(struct MHD_Connection *conn, const char *method, const char *url,
          SdrBridgeRequestHead *head)
{
	head->method = method;
	head->path = url;
	head->host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	head->origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	head->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	head->content_length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	head->transfer_encoding =
	        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
	head->acr_method =
	        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
	head->acr_headers = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                                "Access-Control-Request-Headers");
	head->sec_fetch_site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
}

/* HTTP strictness (docs/internals/bridge.md): what libmicrohttpd lets through
 * and the security decision must not see. 0 = none, else the status to answer
 * (message in *message). */
static guint
head_refusal(struct MHD_Connection *conn, const SdrBridgeRequestHead *head, int *code,
             const char **message)
{
	HeadScan hs = { 0 };
	const union MHD_ConnectionInfo *hi;

	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &hs);
	hi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	*code = SDR_ERROR_BAD_REQUEST;
	if (hs.malformed > 0) {
		*message = N_("Malformed request header");
		return 400;
	}
	if (hs.repeated > 0) {
		*message = N_("Repeated request header");
		return 400;
	}
	if (hi != NULL && hi->header_size > HEAD_MAX) {
		*code = SDR_ERROR_TOO_LARGE;
		*message = N_("The request headers are too large");
		return 431;
	}
	/* RFC 9112 §6.1: both framings at once is request smuggling. */
	if (head->transfer_encoding != NULL && head->content_length != NULL) {
		*message = N_("Content-Length and Transfer-Encoding cannot both be given");
		return 400;
	}
	if (head->transfer_encoding != NULL &&
	    g_ascii_strcasecmp(head->transfer_encoding, "chunked") != 0) {
		*message = N_("Unsupported Transfer-Encoding");
		return 501;
	}
	return 0;
}

static enum MHD_Result
queue_preflight(struct MHD_Connection *conn, const char *cors_origin)
{
	struct MHD_Response *r =
	        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	const char *const *h = sdr_bridge_security_preflight_headers();
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	add_common_headers(r, cors_origin);
	for (gsize i = 0; h[i] != NULL; i += 2)
		MHD_add_response_header(r, h[i], h[i + 1]);
	ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return ret;
}

/* First call for a request: its head. Strictness, then the security decision;
 * an allowed request reserves its memory and gets its body buffer. */
static enum MHD_Result
on_head(SdrBridgeTransport *transport, struct MHD_Connection *conn, Conn *c, const char *method,
        const char *url)
{
	SdrBridgeRequestHead head = { 0 };
	SdrBridgeDecision d;
	guint status;
	int code;
	const char *message = NULL;
	guint64 length = 0;

	read_head(conn, method, url, &head);
	head.allow_no_origin =
	        transport->router.allows_no_origin(transport->router.data, method, url);
	track_set(transport, conn, TRACK_BODY);
	c->tr = &transport->tr;
	status = head_refusal(conn, &head, &code, &message);
	if (status != 0) {
		c->responded = TRUE;
		return queue_error_close(conn, status, code, _(message), NULL);
	}
	sdr_bridge_security_decide(transport->policy, &head, &d);
	if (d.cors && head.origin != NULL)
		c->origin = g_strdup(head.origin);
	switch (d.verdict) {
	case SDR_BRIDGE_VERDICT_DENY:
		c->responded = TRUE;
		return queue_error(conn, d.status, d.error_code, _(d.message), c->origin);
	case SDR_BRIDGE_VERDICT_PREFLIGHT:
		c->responded = TRUE;
		return queue_preflight(conn, c->origin);
	case SDR_BRIDGE_VERDICT_ALLOW:
	default:
		break;
	}
	/* The declared length is reserved at once (a client declaring a large body
	 * and sending it slowly holds it); a chunked body reserves as it grows.
	 * Past the budget: 503, try again later. */
	if (head.content_length != NULL)
		length = g_ascii_strtoull(head.content_length, NULL, 10);
	if (!budget_take(c,
	                 (length > 0 ? length : CHUNK_RESERVE) * SDR_BRIDGE_BODY_MEMORY_FACTOR)) {
		c->responded = TRUE;
		return queue_error_close(conn, 503, SDR_ERROR_BUSY,
		                         _("The signing agent is handling too much data: try "
		                           "again in a moment"),
		                         c->origin);
	}
	c->body = g_byte_array_sized_new((guint)MIN(length, G_MAXUINT));
	return MHD_YES;
}

/* Later calls: a piece of the body, within the cap and the memory budget. */
static enum MHD_Result
on_body(SdrBridgeTransport *transport, struct MHD_Connection *conn, Conn *c,
        const char *upload_data, size_t *upload_size)
{
	guint64 max = sdr_bridge_policy_get_max_body(transport->policy);
	guint64 want = (guint64)c->body->len + *upload_size;

	if (want > max) {
		/* Chunked body over the cap: answer now, drop the rest. */
		c->responded = TRUE;
		*upload_size = 0;
		return queue_error_close(conn, 413, SDR_ERROR_TOO_LARGE,
		                         _("The request is larger than the allowed size"),
		                         c->origin);
	}
	if (want * SDR_BRIDGE_BODY_MEMORY_FACTOR > c->reserved &&
	    !budget_take(c, MAX(want * SDR_BRIDGE_BODY_MEMORY_FACTOR - c->reserved,
	                        (guint64)CHUNK_RESERVE * SDR_BRIDGE_BODY_MEMORY_FACTOR))) {
		c->responded = TRUE;
		*upload_size = 0;
		return queue_error_close(conn, 503, SDR_ERROR_BUSY,
		                         _("The signing agent is handling too much data: "
		                           "try again in a moment"),
		                         c->origin);
	}
	g_byte_array_append(c->body, (const guint8 *)upload_data, (guint)*upload_size);
	*upload_size = 0;
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	SdrBridgeTransport *transport = cls;
	Conn *c = *con_cls;

	(void)version;
	if (c == NULL) {
		c = g_new0(Conn, 1);
		*con_cls = c;
		return on_head(transport, conn, c, method, url);
	}
	if (c->responded) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0)
		return on_body(transport, conn, c, upload_data, upload_size);
	c->responded = TRUE;
	track_set(transport, conn, TRACK_HANDLING);
	return dispatch(transport, conn, c, method, url);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	SdrBridgeTransport *transport = cls;

	(void)toe;
	conn_free(*con_cls);
	*con_cls = NULL;
	track_set(transport, conn, TRACK_WAITING); /* keep-alive: the next head's deadline */
}

/* ---- Life cycle ---------------------------------------------------------------- */

SdrBridgeTransport *
sdr_bridge_transport_new(SdrBridgePolicy *policy, const SdrBridgeRouter *router)
{
	SdrBridgeTransport *transport = g_new0(SdrBridgeTransport, 1);

	transport->policy = policy;
	transport->router = *router;
	transport_init(&transport->tr, policy);
	return transport;
}

static struct MHD_Daemon *
start_daemon(SdrBridgeTransport *transport, const struct sockaddr *addr, gboolean v6)
{
	unsigned int flags =
	        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	if (v6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, transport, MHD_OPTION_SOCK_ADDR,
	                        addr, MHD_OPTION_CONNECTION_TIMEOUT,
	                        (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
	                        (unsigned int)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
	                        on_completed, transport, MHD_OPTION_NOTIFY_CONNECTION,
	                        on_connection, transport, MHD_OPTION_END);
}

static gboolean
ipv6_port_taken(const struct sockaddr_in6 *a6)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	gboolean taken;

	if (fd < 0)
		return FALSE;
	(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	taken = bind(fd, (const struct sockaddr *)a6, sizeof *a6) != 0 && errno == EADDRINUSE;
	close(fd);
	return taken;
}

gboolean
sdr_bridge_transport_start(SdrBridgeTransport *transport, GError **error)
{
	struct sockaddr_in a4 = { 0 };
	struct sockaddr_in6 a6 = { 0 };
	guint16 port = sdr_bridge_policy_get_port(transport->policy);
	const union MHD_DaemonInfo *info;

	if (transport->tr.watchdog == NULL)
		transport->tr.watchdog =
		        g_thread_new("sdr-bridge-watchdog", watchdog_main, &transport->tr);
	a4.sin_family = AF_INET;
	a4.sin_port = htons(port);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	transport->daemon4 = start_daemon(transport, (const struct sockaddr *)&a4, FALSE);
	if (transport->daemon4 == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("Cannot listen on 127.0.0.1 port %u (is another agent running?)"),
		            port);
		return FALSE;
	}
	info = MHD_get_daemon_info(transport->daemon4, MHD_DAEMON_INFO_BIND_PORT);
	if (info != NULL && info->port != 0)
		port = info->port;
	transport->port = port;
	sdr_bridge_policy_set_bound_port(transport->policy, port);

	a6.sin6_family = AF_INET6;
	a6.sin6_port = htons(port);
	a6.sin6_addr = in6addr_loopback;
	/* No IPv6 on this system: IPv4 only. But [::1]:port taken by another
	 * program is an error: browsers may try "localhost" on ::1 first. */
	if (ipv6_port_taken(&a6)) {
		sdr_bridge_transport_stop(transport);
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO,
		            _("Cannot listen on [::1] port %u: another program uses it"), port);
		return FALSE;
	}
	transport->daemon6 = start_daemon(transport, (const struct sockaddr *)&a6, TRUE);
	return TRUE;
}

guint16
sdr_bridge_transport_get_port(SdrBridgeTransport *transport)
{
	return transport->port;
}

gboolean
sdr_bridge_transport_has_ipv6(SdrBridgeTransport *transport)
{
	return transport->daemon6 != NULL;
}

void
sdr_bridge_transport_stop(SdrBridgeTransport *transport)
{
	if (transport == NULL)
		return;
	if (transport->daemon6 != NULL)
		MHD_stop_daemon(transport->daemon6);
	if (transport->daemon4 != NULL)
		MHD_stop_daemon(transport->daemon4);
	transport->daemon4 = transport->daemon6 = NULL;
	transport_stop(&transport->tr);
}

void
sdr_bridge_transport_free(SdrBridgeTransport *transport)
{
	if (transport == NULL)
		return;
	sdr_bridge_transport_stop(transport);
	transport_clear(&transport->tr);
	g_free(transport);
}
