/* sdr-send-queue.h - the persistent S²LOW send queue (SQLite, WAL, fsync on every
 * commit). One row per send, a state machine that survives restarts and kill -9,
 * and never sends twice: `sending` is committed before the upload starts, and a
 * row found in `sending` is reconciled, never blindly sent again.
 *
 *   queued -> sending -> sent(id) -> polling -> final
 *                 \          \-> (status error) polling
 *                  \-> failed (S²LOW refused) | to_reconcile (duplicate, lost answer
 *                      we cannot clear up) | queued (certainly never sent: backoff)
 *
 * Contract: docs/internals/teletransmission.md.
 */
#pragma once

#include "sdr-s2low.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	SDR_SEND_QUEUED = 0,
	SDR_SEND_SENDING,
	SDR_SEND_SENT,
	SDR_SEND_POLLING,
	SDR_SEND_FINAL,
	SDR_SEND_FAILED,
	SDR_SEND_TO_RECONCILE,
} SdrSendState;

/* "queued", "sending", ... (stable: JSON and the database). */
const char *sdr_send_state_name(SdrSendState state);
/* French for a person (translated). */
const char *sdr_send_state_label(SdrSendState state);

typedef enum {
	SDR_SEND_ACTES = 0,
	SDR_SEND_PES,
} SdrSendKind;

typedef struct {
	gint64 id;
	SdrSendKind kind;
	SdrSendState state;
	char *request;   /* JSON: the fields and the spooled files */
	char *number;    /* ACTES number (reconciliation), or NULL */
	char *remote_id; /* S²LOW transaction id, or NULL */
	gboolean has_status;
	int status;    /* last S²LOW status */
	char *message; /* last message (server or ours), decoded, NOT sanitised */
	int attempts;
	gint64 next_try; /* unix seconds */
	gint64 created, updated;
} SdrSend;

void sdr_send_free(SdrSend *send);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrSend, sdr_send_free)

typedef struct _SdrSendQueue SdrSendQueue;

/* Opens (creates) the database; path NULL = $XDG_STATE_HOME/sinadur/s2low.db. */
SdrSendQueue *sdr_send_queue_open(const char *path, GError **error);
void sdr_send_queue_free(SdrSendQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrSendQueue, sdr_send_queue_free)

/* Copies a file into the queue's spool folder (beside the database), so the send
 * no longer depends on the original; returns the copy's path. */
char *sdr_send_queue_spool(SdrSendQueue *queue, const char *path, GError **error);
/* Adds a send in state queued; returns its id (> 0) or 0. */
gint64 sdr_send_queue_add(SdrSendQueue *queue, SdrSendKind kind, const char *request_json,
                          const char *number, GError **error);
SdrSend *sdr_send_queue_get(SdrSendQueue *queue, gint64 id, GError **error);
/* Every send (pending_only: not final/failed), newest first. */
GPtrArray *sdr_send_queue_list(SdrSendQueue *queue, gboolean pending_only, GError **error);
/* Moves a send from one state to another (compare-and-set: FALSE with
 * SDR_ERROR_BUSY when it is no longer in `from`); remote_id/message NULL keep the
 * current values; status < -1000 keeps it. Committed and synced on return. */
gboolean sdr_send_queue_move(SdrSendQueue *queue, gint64 id, SdrSendState from, SdrSendState to,
                             const char *remote_id, int status, const char *message,
                             gint64 next_try, GError **error);

/* What the queue asks of S²LOW: the client by default, a scripted peer in the unit
 * tests. Each returns FALSE with *error on failure and sets *not_sent when the
 * request certainly never reached the service. */
typedef struct {
	gboolean (*actes_create)(gpointer data, const SdrActesFields *f, char **id,
	                         gboolean *duplicate, gboolean *not_sent, GError **error);
	gboolean (*actes_find_number)(gpointer data, const char *number, char **id, GError **error);
	gboolean (*actes_status)(gpointer data, const char *id, int *status, char **message,
	                         GError **error);
	SdrHeliosImport *(*helios_import)(gpointer data, const char *path, const char *name,
	                                  gboolean *not_sent, GError **error);
	gboolean (*helios_status)(gpointer data, const char *id, int *status, char **message,
	                          GError **error);
	/* Optional (NULL: no check): the classification is current and has this code,
	 * asked before an act is uploaded; a refusal is SDR_ERROR_PROFILE or
	 * SDR_ERROR_BAD_REQUEST (the send fails), anything else leaves it queued. */
	gboolean (*actes_classification)(gpointer data, const char *code, GError **error);
} SdrSendOps;

/* The ops over a real client (data = the SdrS2lowClient). */
const SdrSendOps *sdr_send_ops_client(void);

/* Advances one send as far as it can go now (send, reconcile, poll until a
 * non-final status is seen once). now: unix seconds (backoff). TRUE when
 * something was done; the row's new state is in the database. */
gboolean sdr_send_queue_process(SdrSendQueue *queue, gint64 id, const SdrSendOps *ops,
                                gpointer data, gint64 now, GError **error);

/* The next run may try this send at once (the person asked: `sinadur status`). */
gboolean sdr_send_queue_retry_now(SdrSendQueue *queue, gint64 id, GError **error);

/* Backoff before the next try after n failures: 60 s * 2^(n-1), at most one hour. */
gint64 sdr_send_backoff_s(int attempts);

G_END_DECLS
