/* sdr-pcsc.c - PC/SC readers and card events (pcsc-lite).
 *
 * sdr_pcsc_list_readers() takes a snapshot; SdrPcscWatcher runs one thread blocked
 * in SCardGetStatusChange() on every reader plus the special "\\?PnP?\Notification"
 * reader, so readers appearing and disappearing wake it up too: nothing polls.
 * When pcscd is absent or goes away the watcher reports SERVICE_DOWN and waits for
 * the service socket to appear again (inotify on its folder, with a slow safety
 * timeout), then reports SERVICE_UP and the readers and cards it finds.
 * See docs/internals/pcsc.md for the contract.
 */
#include "sdr-token.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <winscard.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

/* pcsc-lite serves at most this many readers to a client. */
#define SDR_PCSC_MAX_READERS PCSCLITE_MAX_READERS_CONTEXTS
/* Cap on the reader list returned by pcscd (names are at most 128 bytes). */
#define SDR_PCSC_MAX_LIST_BYTES (64 * 1024)
#define SDR_PCSC_PNP_READER "\\\\?PnP?\\Notification"
#define SDR_PCSC_DEFAULT_SOCKET "/run/pcscd/pcscd.comm"
/* While pcscd is absent: first retry soon after the socket appears, then back off. */
#define SDR_PCSC_RETRY_MIN_MS 100
#define SDR_PCSC_RETRY_MAX_MS 2000
/* sdr_pcsc_watcher_free() repeats SCardCancel() at this period until the thread is out. */
#define SDR_PCSC_CANCEL_PERIOD_US (50 * G_TIME_SPAN_MILLISECOND)

/* ---- Errors ---------------------------------------------------------------------- */

/* The one conversion of SCARD_* codes into SDR_ERROR. */
static void
pcsc_set_error(GError **error, LONG rv)
{
	switch (rv) {
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
	case SCARD_F_COMM_ERROR:
		g_set_error(error, SDR_ERROR, SDR_ERROR_NO_READER, "%s",
		            _("The smart card service (pcscd) is not running. Start it with: "
		              "sudo systemctl start pcscd.socket"));
		break;
	case SCARD_E_NO_READERS_AVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
		g_set_error(error, SDR_ERROR, SDR_ERROR_NO_READER, "%s",
		            _("No smart card reader or USB token is connected."));
		break;
	case SCARD_E_NO_SMARTCARD:
		g_set_error(error, SDR_ERROR, SDR_ERROR_NO_CARD, "%s",
		            _("There is no card in the reader."));
		break;
	case SCARD_W_REMOVED_CARD:
		g_set_error(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED, "%s",
		            _("The card or token was removed."));
		break;
	case SCARD_E_SHARING_VIOLATION:
		g_set_error(error, SDR_ERROR, SDR_ERROR_BUSY, "%s",
		            _("The card is being used by another program."));
		break;
	case SCARD_E_CANCELLED:
		g_set_error(error, SDR_ERROR, SDR_ERROR_CANCELLED, "%s",
		            _("The smart card operation was cancelled."));
		break;
	case SCARD_E_TIMEOUT:
		g_set_error(error, SDR_ERROR, SDR_ERROR_TIMEOUT, "%s",
		            _("The smart card service did not answer in time."));
		break;
	default:
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED,
		            _("The smart card service failed: %s (0x%08lX)."),
		            pcsc_stringify_error(rv), (unsigned long)rv);
		break;
	}
}

/* The watcher's view: does this code mean the service (or our link to it) is gone? */
static gboolean
pcsc_service_lost(LONG rv)
{
	return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
	       rv == SCARD_F_COMM_ERROR || rv == SCARD_E_INVALID_HANDLE;
}

/* ---- Reader lists ------------------------------------------------------------------ */

static char *
atr_to_hex(const guint8 *atr, gsize len)
{
	GString *s = g_string_sized_new(len * 3);

	for (gsize i = 0; i < len; i++)
		g_string_append_printf(s, i == 0 ? "%02X" : " %02X", atr[i]);
	return g_string_free(s, FALSE);
}

/* Splits a PC/SC multi-string ("a\0b\0\0") into at most SDR_PCSC_MAX_READERS names.
 * Stops at the end of the buffer even when the final empty string is missing. */
static GPtrArray *
split_multistring(const char *buf, DWORD len)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	gsize off = 0;

	while (off < len && buf[off] != '\0' && names->len < SDR_PCSC_MAX_READERS) {
		gsize n = strnlen(buf + off, len - off);

		g_ptr_array_add(names, g_strndup(buf + off, n));
		off += n + 1;
	}
	return names;
}

/* Current reader names; an empty array when pcscd has no reader. */
static GPtrArray *
pcsc_list_names(SCARDCONTEXT ctx, LONG *rv_out)
{
	char *buf = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	GPtrArray *names;
	LONG rv;

	rv = SCardListReaders(ctx, NULL, (LPSTR)&buf, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		*rv_out = SCARD_S_SUCCESS;
		return g_ptr_array_new_with_free_func(g_free);
	}
	if (rv != SCARD_S_SUCCESS) {
		*rv_out = rv;
		return NULL;
	}
	names = split_multistring(buf, MIN(len, (DWORD)SDR_PCSC_MAX_LIST_BYTES));
	SCardFreeMemory(ctx, buf);
	*rv_out = SCARD_S_SUCCESS;
	return names;
}

void
sdr_reader_info_free(SdrReaderInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->name);
	g_clear_pointer(&info->atr, g_bytes_unref);
	g_free(info->atr_hex);
	g_free(info->card_name);
	g_free(info->module_hint);
	g_free(info);
}

GPtrArray *
sdr_pcsc_list_readers(GError **error)
{
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) readers = NULL;
	SCARD_READERSTATE states[SDR_PCSC_MAX_READERS];
	SCARDCONTEXT ctx;
	LONG rv;

	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_set_error(error, rv);
		return NULL;
	}
	names = pcsc_list_names(ctx, &rv);
	if (names == NULL)
		goto out;

	memset(states, 0, sizeof states);
	for (guint i = 0; i < names->len; i++) {
		states[i].szReader = names->pdata[i];
		states[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	if (names->len > 0) {
		rv = SCardGetStatusChange(ctx, 0, states, names->len);
		if (rv == SCARD_E_TIMEOUT)
			rv = SCARD_S_SUCCESS;
		if (rv != SCARD_S_SUCCESS)
			goto out;
	}

	readers = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_reader_info_free);
	for (guint i = 0; i < names->len; i++) {
		SdrReaderInfo *info = g_new0(SdrReaderInfo, 1);
		DWORD ev = states[i].dwEventState;

		info->name = g_strdup(names->pdata[i]);
		info->card_present = (ev & SCARD_STATE_PRESENT) != 0 &&
		                     (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE)) == 0;
		if (info->card_present) {
			gsize atr_len = MIN((gsize)states[i].cbAtr, sizeof states[i].rgbAtr);
			const char *card_name = NULL, *module_hint = NULL;

			info->atr = g_bytes_new(states[i].rgbAtr, atr_len);
			info->atr_hex = atr_to_hex(states[i].rgbAtr, atr_len);
			if (sdr_atr_lookup(states[i].rgbAtr, atr_len, &card_name, &module_hint)) {
				info->card_name = g_strdup(card_name);
				info->module_hint = g_strdup(module_hint);
			}
		}
		g_ptr_array_add(readers, info);
	}

out:
	SCardReleaseContext(ctx);
	if (readers == NULL) {
		pcsc_set_error(error, rv);
		return NULL;
	}
	return g_steal_pointer(&readers);
}

/* ---- Watcher: delivery to the main context ---------------------------------------- */

/* Shared by the watcher and its queued events, so an event dispatched after
 * sdr_pcsc_watcher_free() does nothing instead of calling a stale callback. */
typedef struct {
	gint ref;
	GMutex lock;
	gboolean closed;
	SdrPcscEventFunc func;
	gpointer user_data;
} SdrPcscSink;

static SdrPcscSink *
sink_ref(SdrPcscSink *sink)
{
	g_atomic_int_inc(&sink->ref);
	return sink;
}

static void
sink_unref(SdrPcscSink *sink)
{
	if (!g_atomic_int_dec_and_test(&sink->ref))
		return;
	g_mutex_clear(&sink->lock);
	g_free(sink);
}

typedef struct {
	SdrPcscSink *sink;
	SdrPcscEventKind kind;
	char *reader;
	guint8 atr[MAX_ATR_SIZE];
	gsize atr_len;
} SdrPcscQueued;

static void
queued_free(gpointer data)
{
	SdrPcscQueued *q = data;

	sink_unref(q->sink);
	g_free(q->reader);
	g_free(q);
}

static gboolean
queued_dispatch(gpointer data)
{
	SdrPcscQueued *q = data;
	SdrPcscEvent event = {
		.kind = q->kind,
		.reader = q->reader,
		.atr = q->atr_len > 0 ? q->atr : NULL,
		.atr_len = q->atr_len,
	};
	gboolean closed;

	g_mutex_lock(&q->sink->lock);
	closed = q->sink->closed;
	g_mutex_unlock(&q->sink->lock);
	if (!closed)
		q->sink->func(&event, q->sink->user_data);
	return G_SOURCE_REMOVE;
}

/* ---- Watcher: the thread ----------------------------------------------------------- */

typedef struct {
	char *name;
	DWORD state;   /* last dwEventState, fed back as dwCurrentState */
	gboolean seen; /* state is valid (false until the first answer) */
	gboolean present;
	guint8 atr[MAX_ATR_SIZE];
	gsize atr_len;
} SdrPcscReader;

static void
reader_free(gpointer data)
{
	SdrPcscReader *r = data;

	g_free(r->name);
	g_free(r);
}

struct _SdrPcscWatcher {
	GMainContext *context;
	SdrPcscSink *sink;
	GThread *thread;
	int wake_fd; /* eventfd: wakes the wait for the service */

	GMutex lock; /* protects the fields below */
	GCond cond;
	gboolean stop;
	gboolean exited;
	gboolean have_ctx;
	SCARDCONTEXT ctx;

	/* Thread-only state. */
	GPtrArray *readers; /* SdrPcscReader */
	char *socket_path;
};

static gboolean
watcher_stopping(SdrPcscWatcher *w)
{
	gboolean stop;

	g_mutex_lock(&w->lock);
	stop = w->stop;
	g_mutex_unlock(&w->lock);
	return stop;
}

static void
watcher_emit(SdrPcscWatcher *w, SdrPcscEventKind kind, const char *reader, const guint8 *atr,
             gsize atr_len)
{
	SdrPcscQueued *q = g_new0(SdrPcscQueued, 1);
	GSource *source;

	q->sink = sink_ref(w->sink);
	q->kind = kind;
	q->reader = g_strdup(reader);
	q->atr_len = MIN(atr_len, sizeof q->atr);
	if (q->atr_len > 0)
		memcpy(q->atr, atr, q->atr_len);

	/* An idle source rather than g_main_context_invoke(): invoke would run the
	 * callback right here, on this thread, when it can acquire the context. */
	source = g_idle_source_new();
	g_source_set_priority(source, G_PRIORITY_DEFAULT);
	g_source_set_static_name(source, "sdr-pcsc-event");
	g_source_set_callback(source, queued_dispatch, q, queued_free);
	g_source_attach(source, w->context);
	g_source_unref(source);
}

static void
watcher_forget_reader(SdrPcscWatcher *w, guint index)
{
	SdrPcscReader *r = w->readers->pdata[index];

	if (r->present)
		watcher_emit(w, SDR_PCSC_EVENT_CARD_REMOVED, r->name, NULL, 0);
	watcher_emit(w, SDR_PCSC_EVENT_READER_REMOVED, r->name, NULL, 0);
	g_ptr_array_remove_index(w->readers, index);
}

static void
watcher_forget_all(SdrPcscWatcher *w)
{
	while (w->readers->len > 0)
		watcher_forget_reader(w, w->readers->len - 1);
}

/* Compares pcscd's reader list with ours. Returns an SCARD code. */
static LONG
watcher_sync_readers(SdrPcscWatcher *w, SCARDCONTEXT ctx)
{
	g_autoptr(GPtrArray) names = NULL;
	LONG rv;

	names = pcsc_list_names(ctx, &rv);
	if (names == NULL)
		return rv;
	for (guint i = w->readers->len; i > 0; i--) {
		SdrPcscReader *r = w->readers->pdata[i - 1];
		gboolean still = FALSE;

		for (guint j = 0; j < names->len && !still; j++)
			still = g_str_equal(names->pdata[j], r->name);
		if (!still)
			watcher_forget_reader(w, i - 1);
	}
	for (guint j = 0; j < names->len; j++) {
		gboolean known = FALSE;

		for (guint i = 0; i < w->readers->len && !known; i++)
			known = g_str_equal(((SdrPcscReader *)w->readers->pdata[i])->name,
			                    names->pdata[j]);
		if (!known) {
			SdrPcscReader *r = g_new0(SdrPcscReader, 1);

			r->name = g_strdup(names->pdata[j]);
			g_ptr_array_add(w->readers, r);
			watcher_emit(w, SDR_PCSC_EVENT_READER_ADDED, r->name, NULL, 0);
		}
	}
	return SCARD_S_SUCCESS;
}

/* Applies the answer of SCardGetStatusChange for one reader. Returns TRUE when the
 * reader list must be read again (the reader vanished). */
static gboolean
watcher_update_reader(SdrPcscWatcher *w, SdrPcscReader *r, const SCARD_READERSTATE *st)
{
	DWORD ev = st->dwEventState;
	gboolean present;
	guint old_count = r->state >> 16, new_count = ev >> 16;

	if (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE))
		return TRUE;
	present = (ev & SCARD_STATE_PRESENT) != 0;

	if (r->present && (!present || (r->seen && old_count != new_count))) {
		/* Gone, or pulled and put back between two answers (the event
		 * counter in the high 16 bits moved). */
		watcher_emit(w, SDR_PCSC_EVENT_CARD_REMOVED, r->name, NULL, 0);
		r->present = FALSE;
	}
	if (present && !r->present) {
		r->atr_len = MIN((gsize)st->cbAtr, sizeof r->atr);
		memcpy(r->atr, st->rgbAtr, r->atr_len);
		r->present = TRUE;
		watcher_emit(w, SDR_PCSC_EVENT_CARD_INSERTED, r->name, r->atr, r->atr_len);
	}
	r->state = ev & ~(DWORD)SCARD_STATE_CHANGED;
	r->seen = TRUE;
	return FALSE;
}

/* Watches until the service is lost (returns the SCARD code) or we are told to stop
 * (returns SCARD_E_CANCELLED). */
static LONG
watcher_watch(SdrPcscWatcher *w, SCARDCONTEXT ctx)
{
	SCARD_READERSTATE states[SDR_PCSC_MAX_READERS + 1];
	DWORD pnp_state = SCARD_STATE_UNAWARE;
	gboolean resync = TRUE;
	guint unknown_in_a_row = 0;

	for (;;) {
		guint n;
		LONG rv;

		if (resync) {
			rv = watcher_sync_readers(w, ctx);
			if (rv != SCARD_S_SUCCESS)
				return rv;
			resync = FALSE;
		}
		memset(states, 0, sizeof states);
		n = MIN(w->readers->len, (guint)SDR_PCSC_MAX_READERS);
		for (guint i = 0; i < n; i++) {
			SdrPcscReader *r = w->readers->pdata[i];

			states[i].szReader = r->name;
			states[i].dwCurrentState = r->seen ? r->state : SCARD_STATE_UNAWARE;
		}
		states[n].szReader = SDR_PCSC_PNP_READER;
		states[n].dwCurrentState = pnp_state;

		if (watcher_stopping(w))
			return SCARD_E_CANCELLED;
		rv = SCardGetStatusChange(ctx, INFINITE, states, n + 1);
		if (rv == SCARD_E_CANCELLED) {
			if (watcher_stopping(w))
				return SCARD_E_CANCELLED;
			continue;
		}
		if (rv == SCARD_E_TIMEOUT)
			continue;
		/* A reader went away between the list and the wait: list again, but
		 * do not loop on it forever. */
		if (rv == SCARD_E_UNKNOWN_READER && unknown_in_a_row++ < 3) {
			resync = TRUE;
			continue;
		}
		if (rv != SCARD_S_SUCCESS)
			return rv;
		unknown_in_a_row = 0;

		for (guint i = 0; i < n; i++) {
			if (watcher_update_reader(w, w->readers->pdata[i], &states[i]))
				resync = TRUE;
		}
		if (states[n].dwEventState & SCARD_STATE_CHANGED)
			resync = TRUE;
		pnp_state = states[n].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
}

/* Blocks until the service socket may have appeared, the timeout passes, or the
 * watcher is stopped. inotify watches the socket's folder (or its parent while the
 * folder does not exist); without inotify this is a plain timed wait. Returns TRUE
 * when inotify saw the socket (or its folder) appear. */
static gboolean
watcher_wait_service(SdrPcscWatcher *w, int timeout_ms)
{
	g_autofree char *dir = g_path_get_dirname(w->socket_path);
	g_autofree char *base = g_path_get_basename(w->socket_path);
	g_autofree char *parent = g_path_get_dirname(dir);
	g_autofree char *dir_base = g_path_get_basename(dir);
	const char *wanted = base;
	struct pollfd fds[2];
	int ifd, nfds = 1;
	gboolean relevant = FALSE;

	fds[0].fd = w->wake_fd;
	fds[0].events = POLLIN;
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd >= 0) {
		const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB;

		if (inotify_add_watch(ifd, dir, mask) < 0) {
			wanted = dir_base;
			if (inotify_add_watch(ifd, parent, mask) < 0) {
				close(ifd);
				ifd = -1;
			}
		}
	}
	if (ifd >= 0) {
		fds[1].fd = ifd;
		fds[1].events = POLLIN;
		nfds = 2;
	}

	for (;;) {
		gint64 start = g_get_monotonic_time();
		int r = poll(fds, nfds, timeout_ms);

		if (r <= 0 || (fds[0].revents & POLLIN) || nfds == 1 || !(fds[1].revents & POLLIN))
			break;
		/* Only events about the name we wait for end the wait. */
		for (;;) {
			union {
				struct inotify_event ev;
				char buf[4096];
			} u;
			ssize_t len = read(ifd, u.buf, sizeof u.buf);

			if (len <= 0)
				break;
			for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= len;) {
				const struct inotify_event *ev = (const void *)(u.buf + off);

				if (ev->len > 0 && strncmp(ev->name, wanted, ev->len) == 0)
					relevant = TRUE;
				off += (ssize_t)sizeof(struct inotify_event) + ev->len;
			}
		}
		if (relevant)
			break;
		timeout_ms -= (int)((g_get_monotonic_time() - start) / 1000);
		if (timeout_ms <= 0)
			break;
	}
	if (ifd >= 0)
		close(ifd);
	return relevant;
}

static gpointer
watcher_thread(gpointer data)
{
	SdrPcscWatcher *w = data;
	enum { UNKNOWN, UP, DOWN } service = UNKNOWN;
	int retry_ms = SDR_PCSC_RETRY_MIN_MS;

	while (!watcher_stopping(w)) {
		SCARDCONTEXT ctx;
		LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);

		if (rv != SCARD_S_SUCCESS) {
			if (service != DOWN)
				watcher_emit(w, SDR_PCSC_EVENT_SERVICE_DOWN, NULL, NULL, 0);
			service = DOWN;
			if (watcher_wait_service(w, retry_ms))
				retry_ms = SDR_PCSC_RETRY_MIN_MS;
			else
				retry_ms = MIN(retry_ms * 2, SDR_PCSC_RETRY_MAX_MS);
			continue;
		}
		retry_ms = SDR_PCSC_RETRY_MIN_MS;

		g_mutex_lock(&w->lock);
		w->ctx = ctx;
		w->have_ctx = TRUE;
		g_mutex_unlock(&w->lock);

		if (service != UP)
			watcher_emit(w, SDR_PCSC_EVENT_SERVICE_UP, NULL, NULL, 0);
		service = UP;
		rv = watcher_watch(w, ctx);

		g_mutex_lock(&w->lock);
		w->have_ctx = FALSE;
		g_mutex_unlock(&w->lock);
		SCardReleaseContext(ctx);
		if (rv == SCARD_E_CANCELLED && watcher_stopping(w))
			break;

		/* Service lost (or an error we cannot wait through): everything we knew
		 * is gone. Then wait before reconnecting so that no error can spin. */
		watcher_forget_all(w);
		if (service != DOWN)
			watcher_emit(w, SDR_PCSC_EVENT_SERVICE_DOWN, NULL, NULL, 0);
		service = DOWN;
		if (!pcsc_service_lost(rv))
			watcher_wait_service(w, SDR_PCSC_RETRY_MAX_MS);
	}

	g_mutex_lock(&w->lock);
	w->exited = TRUE;
	g_cond_broadcast(&w->cond);
	g_mutex_unlock(&w->lock);
	return NULL;
}

SdrPcscWatcher *
sdr_pcsc_watcher_new(GMainContext *context, SdrPcscEventFunc func, gpointer user_data)
{
	SdrPcscWatcher *w;
	const char *sock = g_getenv("PCSCLITE_CSOCK_NAME");

	g_return_val_if_fail(func != NULL, NULL);

	w = g_new0(SdrPcscWatcher, 1);
	w->context =
	        context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();
	w->sink = g_new0(SdrPcscSink, 1);
	w->sink->ref = 1;
	g_mutex_init(&w->sink->lock);
	w->sink->func = func;
	w->sink->user_data = user_data;
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->readers = g_ptr_array_new_with_free_func(reader_free);
	/* pcsc-lite's client honours PCSCLITE_CSOCK_NAME; so do we when we wait. */
	w->socket_path =
	        g_strdup(sock != NULL && g_path_is_absolute(sock) ? sock : SDR_PCSC_DEFAULT_SOCKET);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		/* Without the eventfd a stop waits for the retry timeout: still bounded. */
		w->wake_fd = -1;
	}
	w->thread = g_thread_new("sdr-pcsc-watch", watcher_thread, w);
	return w;
}

void
sdr_pcsc_watcher_free(SdrPcscWatcher *watcher)
{
	if (watcher == NULL)
		return;

	g_mutex_lock(&watcher->lock);
	watcher->stop = TRUE;
	g_mutex_unlock(&watcher->lock);
	if (watcher->wake_fd >= 0) {
		uint64_t one = 1;

		if (write(watcher->wake_fd, &one, sizeof one) < 0) {
			/* Counter full means it is already signalled. */
		}
	}

	/* SCardCancel() only interrupts a wait that has begun: repeat it until the
	 * thread is out. */
	g_mutex_lock(&watcher->lock);
	while (!watcher->exited) {
		if (watcher->have_ctx)
			SCardCancel(watcher->ctx);
		g_cond_wait_until(&watcher->cond, &watcher->lock,
		                  g_get_monotonic_time() + SDR_PCSC_CANCEL_PERIOD_US);
	}
	g_mutex_unlock(&watcher->lock);
	g_thread_join(watcher->thread);

	g_mutex_lock(&watcher->sink->lock);
	watcher->sink->closed = TRUE;
	g_mutex_unlock(&watcher->sink->lock);
	sink_unref(watcher->sink);

	if (watcher->wake_fd >= 0)
		close(watcher->wake_fd);
	g_ptr_array_unref(watcher->readers);
	g_free(watcher->socket_path);
	g_mutex_clear(&watcher->lock);
	g_cond_clear(&watcher->cond);
	g_main_context_unref(watcher->context);
	g_free(watcher);
}
