/* sdr-send-queue.c - the persistent S²LOW send queue (see sdr-send-queue.h). */
#include "sdr-send-queue.h"

#include "sdr-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

struct _SdrSendQueue {
	sqlite3 *db;
	char *path;
	char *spool;
};

static const char *const state_names[] = { "queued", "sending", "sent",        "polling",
	                                   "final",  "failed",  "to_reconcile" };

const char *
sdr_send_state_name(SdrSendState state)
{
	return (guint)state < G_N_ELEMENTS(state_names) ? state_names[state] : "unknown";
}

const char *
sdr_send_state_label(SdrSendState state)
{
	switch (state) {
	case SDR_SEND_QUEUED:
		return _("waiting to be sent");
	case SDR_SEND_SENDING:
		return _("being sent");
	case SDR_SEND_SENT:
		return _("sent");
	case SDR_SEND_POLLING:
		return _("sent, following its status");
	case SDR_SEND_FINAL:
		return _("done");
	case SDR_SEND_FAILED:
		return _("refused");
	case SDR_SEND_TO_RECONCILE:
		return _("already received, to reconcile");
	default:
		return "?";
	}
}

static SdrSendState
state_from_name(const char *s)
{
	for (guint i = 0; s != NULL && i < G_N_ELEMENTS(state_names); i++) {
		if (g_str_equal(s, state_names[i]))
			return (SdrSendState)i;
	}
	return SDR_SEND_TO_RECONCILE; /* an unknown state is never sent again */
}

void
sdr_send_free(SdrSend *s)
{
	if (s == NULL)
		return;
	g_free(s->request);
	g_free(s->number);
	g_free(s->remote_id);
	g_free(s->message);
	g_free(s);
}

/* The one place where an SQLite code becomes a GError. */
static void
set_db_error(SdrSendQueue *q, GError **error, const char *what)
{
	int rc = q->db != NULL ? sqlite3_errcode(q->db) : SQLITE_CANTOPEN;
	g_set_error(error, SDR_ERROR,
	            rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? SDR_ERROR_BUSY : SDR_ERROR_IO,
	            _("The send queue %s cannot be used (%s: %s)."), q->path, what,
	            q->db != NULL ? sqlite3_errmsg(q->db) : "open");
}

static gboolean
exec(SdrSendQueue *q, const char *sql, GError **error)
{
	if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_db_error(q, error, sql);
		return FALSE;
	}
	return TRUE;
}

SdrSendQueue *
sdr_send_queue_open(const char *path, GError **error)
{
	g_autoptr(SdrSendQueue) q = g_new0(SdrSendQueue, 1);
	g_autofree char *dir = NULL;

	q->path = path != NULL
	                  ? g_strdup(path)
	                  : g_build_filename(g_get_user_state_dir(), "sinadur", "s2low.db", NULL);
	dir = g_path_get_dirname(q->path);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int e = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("%s cannot be created: %s"), dir,
		            g_strerror(e));
		return NULL;
	}
	q->spool = g_build_filename(dir, "s2low-spool", NULL);
	if (sqlite3_open_v2(q->path, &q->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		set_db_error(q, error, "open");
		return NULL;
	}
	sqlite3_busy_timeout(q->db, 5000);
	/* WAL + synchronous FULL: every commit is on disk when it returns. */
	if (!exec(q, "PRAGMA journal_mode=WAL", error) ||
	    !exec(q, "PRAGMA synchronous=FULL", error) ||
	    !exec(q,
	          "CREATE TABLE IF NOT EXISTS sends ("
	          " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	          " kind TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL,"
	          " number TEXT, remote_id TEXT, status INTEGER, message TEXT,"
	          " attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL DEFAULT 0,"
	          " created INTEGER NOT NULL, updated INTEGER NOT NULL)",
	          error))
		return NULL;
	return g_steal_pointer(&q);
}

void
sdr_send_queue_free(SdrSendQueue *q)
{
	if (q == NULL)
		return;
	if (q->db != NULL)
		sqlite3_close(q->db);
	g_free(q->path);
	g_free(q->spool);
	g_free(q);
}

char *
sdr_send_queue_spool(SdrSendQueue *q, const char *path, GError **error)
{
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *dir = g_build_filename(q->spool, uuid, NULL);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *dest = g_build_filename(dir, base, NULL);
	g_autoptr(GFile) src = g_file_new_for_path(path);
	g_autoptr(GFile) dst = NULL;
	g_autoptr(GError) e = NULL;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int err = errno;
		g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("%s cannot be created: %s"), dir,
		            g_strerror(err));
		return NULL;
	}
	dst = g_file_new_for_path(dest);
	if (!g_file_copy(src, dst, G_FILE_COPY_NONE, NULL, NULL, NULL, &e)) {
		g_set_error(error, SDR_ERROR,
		            g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
		                    ? SDR_ERROR_NOT_FOUND
		                    : SDR_ERROR_IO,
		            _("%s cannot be copied into the send queue: %s"), path, e->message);
		return NULL;
	}
	return g_steal_pointer(&dest);
}

gint64
sdr_send_queue_add(SdrSendQueue *q, SdrSendKind kind, const char *request, const char *number,
                   GError **error)
{
	sqlite3_stmt *st = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC, id = 0;

	if (sqlite3_prepare_v2(q->db,
	                       "INSERT INTO sends (kind, state, request, number, created, updated)"
	                       " VALUES (?, 'queued', ?, ?, ?, ?)",
	                       -1, &st, NULL) != SQLITE_OK) {
		set_db_error(q, error, "INSERT");
		return 0;
	}
	sqlite3_bind_text(st, 1, kind == SDR_SEND_PES ? "pes" : "actes", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, request, -1, SQLITE_TRANSIENT);
	if (number != NULL)
		sqlite3_bind_text(st, 3, number, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(q->db);
	else
		set_db_error(q, error, "INSERT");
	sqlite3_finalize(st);
	return id;
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t != NULL ? g_strdup((const char *)t) : NULL;
}

#define SELECT_COLS                                                                                \
	"SELECT id, kind, state, request, number, remote_id, status, message, attempts,"           \
	" next_try, created, updated FROM sends"

static SdrSend *
row(sqlite3_stmt *st)
{
	SdrSend *s = g_new0(SdrSend, 1);
	g_autofree char *kind = col_text(st, 1);
	g_autofree char *state = col_text(st, 2);

	s->id = sqlite3_column_int64(st, 0);
	s->kind = kind != NULL && g_str_equal(kind, "pes") ? SDR_SEND_PES : SDR_SEND_ACTES;
	s->state = state_from_name(state);
	s->request = col_text(st, 3);
	s->number = col_text(st, 4);
	s->remote_id = col_text(st, 5);
	s->has_status = sqlite3_column_type(st, 6) != SQLITE_NULL;
	s->status = sqlite3_column_int(st, 6);
	s->message = col_text(st, 7);
	s->attempts = sqlite3_column_int(st, 8);
	s->next_try = sqlite3_column_int64(st, 9);
	s->created = sqlite3_column_int64(st, 10);
	s->updated = sqlite3_column_int64(st, 11);
	return s;
}

SdrSend *
sdr_send_queue_get(SdrSendQueue *q, gint64 id, GError **error)
{
	sqlite3_stmt *st = NULL;
	SdrSend *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(q->db, SELECT_COLS " WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		set_db_error(q, error, "SELECT");
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s = row(st);
	else if (rc == SQLITE_DONE)
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("There is no send number %lld in the queue."), (long long)id);
	else
		set_db_error(q, error, "SELECT");
	sqlite3_finalize(st);
	return s;
}

GPtrArray *
sdr_send_queue_list(SdrSendQueue *q, gboolean pending_only, GError **error)
{
	sqlite3_stmt *st = NULL;
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_send_free);
	int rc;

	if (sqlite3_prepare_v2(q->db,
	                       pending_only ? SELECT_COLS
	                               " WHERE state NOT IN ('final', 'failed') ORDER BY id DESC"
	                                    : SELECT_COLS " ORDER BY id DESC",
	                       -1, &st, NULL) != SQLITE_OK) {
		set_db_error(q, error, "SELECT");
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(out, row(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_db_error(q, error, "SELECT");
		return NULL;
	}
	return g_steal_pointer(&out);
}

gboolean
sdr_send_queue_move(SdrSendQueue *q, gint64 id, SdrSendState from, SdrSendState to,
                    const char *remote_id, int status, const char *message, gint64 next_try,
                    GError **error)
{
	sqlite3_stmt *st = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gboolean ok = FALSE;

	if (sqlite3_prepare_v2(
	            q->db,
	            "UPDATE sends SET state = ?1, remote_id = COALESCE(?2, remote_id),"
	            " status = CASE WHEN ?3 IS NULL THEN status ELSE ?3 END,"
	            " message = COALESCE(?4, message), next_try = ?5, updated = ?6,"
	            " attempts = attempts + (CASE WHEN ?1 = 'sending' AND ?8 <> 'sending' THEN 1"
	            " ELSE 0 END)"
	            " WHERE id = ?7 AND state = ?8",
	            -1, &st, NULL) != SQLITE_OK) {
		set_db_error(q, error, "UPDATE");
		return FALSE;
	}
	sqlite3_bind_text(st, 1, sdr_send_state_name(to), -1, SQLITE_STATIC);
	if (remote_id != NULL)
		sqlite3_bind_text(st, 2, remote_id, -1, SQLITE_TRANSIENT);
	if (status >= -1000)
		sqlite3_bind_int(st, 3, status);
	if (message != NULL)
		sqlite3_bind_text(st, 4, message, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, next_try);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, id);
	sqlite3_bind_text(st, 8, sdr_send_state_name(from), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		set_db_error(q, error, "UPDATE");
	else if (sqlite3_changes(q->db) != 1)
		g_set_error(error, SDR_ERROR, SDR_ERROR_BUSY,
		            _("The send %lld changed meanwhile (another sinadur?)."),
		            (long long)id);
	else
		ok = TRUE;
	sqlite3_finalize(st);
	return ok;
}

gboolean
sdr_send_queue_retry_now(SdrSendQueue *q, gint64 id, GError **error)
{
	sqlite3_stmt *st = NULL;
	gboolean ok = FALSE;

	if (sqlite3_prepare_v2(q->db,
	                       "UPDATE sends SET next_try = 0 WHERE id = ?1 AND state IN "
	                       "('queued', 'sending', 'sent', 'polling')",
	                       -1, &st, NULL) != SQLITE_OK) {
		set_db_error(q, error, "UPDATE");
		return FALSE;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		set_db_error(q, error, "UPDATE");
	else
		ok = TRUE;
	sqlite3_finalize(st);
	return ok;
}

gint64
sdr_send_backoff_s(int attempts)
{
	gint64 s = 60;

	for (int i = 1; i < attempts && s < 3600; i++)
		s *= 2;
	return MIN(s, 3600);
}

/* ---- The request JSON -> fields ---------------------------------------------------- */

static SdrActesFields *
actes_fields_from_json(const char *json, GError **error)
{
	g_autoptr(JsonParser) p = json_parser_new();
	g_autoptr(SdrActesFields) f = sdr_actes_fields_new();
	JsonObject *o;
	JsonArray *an;

	if (!json_parser_load_from_data(p, json, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PARSE,
		                    _("A send of the queue is damaged."));
		return NULL;
	}
	o = json_node_get_object(json_parser_get_root(p));
	f->nature = (int)json_object_get_int_member_with_default(o, "nature", 0);
	f->classification =
	        g_strdup(json_object_get_string_member_with_default(o, "classification", NULL));
	f->number = g_strdup(json_object_get_string_member_with_default(o, "number", NULL));
	f->date = g_strdup(json_object_get_string_member_with_default(o, "date", NULL));
	f->subject = g_strdup(json_object_get_string_member_with_default(o, "subject", NULL));
	f->type_acte = g_strdup(json_object_get_string_member_with_default(o, "type_acte", NULL));
	f->acte_path = g_strdup(json_object_get_string_member_with_default(o, "acte", NULL));
	f->acte_sign_path =
	        g_strdup(json_object_get_string_member_with_default(o, "acte_sign", NULL));
	f->en_attente = json_object_get_boolean_member_with_default(o, "en_attente", FALSE);
	an = json_object_has_member(o, "annexes") ? json_object_get_array_member(o, "annexes")
	                                          : NULL;
	for (guint i = 0; an != NULL && i < json_array_get_length(an); i++) {
		JsonObject *a = json_array_get_object_element(an, i);
		SdrActesFile *file = g_new0(SdrActesFile, 1);
		file->path = g_strdup(json_object_get_string_member_with_default(a, "path", NULL));
		file->type_pj =
		        g_strdup(json_object_get_string_member_with_default(a, "type_pj", NULL));
		file->sign_path =
		        g_strdup(json_object_get_string_member_with_default(a, "sign", NULL));
		g_ptr_array_add(f->annexes, file);
	}
	return g_steal_pointer(&f);
}

static char *
pes_path_from_json(const char *json, char **name)
{
	g_autoptr(JsonParser) p = json_parser_new();
	JsonObject *o;

	if (!json_parser_load_from_data(p, json, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		return NULL;
	o = json_node_get_object(json_parser_get_root(p));
	*name = g_strdup(json_object_get_string_member_with_default(o, "name", NULL));
	return g_strdup(json_object_get_string_member_with_default(o, "path", NULL));
}

/* ---- Processing ------------------------------------------------------------------- */

#define KEEP_STATUS (-10000)

static gboolean
poll_status(SdrSendQueue *q, SdrSend *s, const SdrSendOps *ops, gpointer data, gint64 now,
            GError **error)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *msg = NULL;
	int status = 0;
	gboolean ok, final;

	if (s->kind == SDR_SEND_ACTES)
		ok = ops->actes_status(data, s->remote_id, &status, &msg, &e);
	else
		ok = ops->helios_status(data, s->remote_id, &status, &msg, &e);
	if (!ok) {
		/* Stays where it is; try again later. */
		return sdr_send_queue_move(q, s->id, s->state, s->state, NULL, KEEP_STATUS,
		                           e->message, now + sdr_send_backoff_s(1), error);
	}
	final = s->kind == SDR_SEND_ACTES ? sdr_s2low_actes_status_is_final(status)
	                                  : sdr_s2low_helios_status_is_final(status);
	/* ACTES: what follows the status is the ARActe (4) or an error message (-1);
	 * keep only a message, not the XML. */
	if (msg != NULL && s->kind == SDR_SEND_ACTES && g_str_has_prefix(g_strstrip(msg), "<"))
		g_clear_pointer(&msg, g_free);
	return sdr_send_queue_move(q, s->id, s->state, final ? SDR_SEND_FINAL : SDR_SEND_POLLING,
	                           NULL, status, msg != NULL ? msg : "", now, error);
}

/* Upload (from queued) or guarded re-upload (PES in sending). */
static gboolean
upload(SdrSendQueue *q, SdrSend *s, const SdrSendOps *ops, gpointer data, gint64 now,
       GError **error)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *id = NULL;
	gboolean not_sent = FALSE;

	if (s->kind == SDR_SEND_ACTES) {
		g_autoptr(SdrActesFields) f = actes_fields_from_json(s->request, error);
		gboolean duplicate = FALSE;

		if (f == NULL)
			return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_FAILED,
			                           NULL, KEEP_STATUS, _("damaged request"), now,
			                           NULL);
		/* The classification first (a GET: nothing is sent if it fails). */
		if (ops->actes_classification != NULL &&
		    !ops->actes_classification(data, f->classification, &e)) {
			not_sent = TRUE;
			goto judge;
		}
		if (ops->actes_create(data, f, &id, &duplicate, &not_sent, &e))
			return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_SENT, id,
			                           KEEP_STATUS, "", now, error);
		if (duplicate)
			return sdr_send_queue_move(
			        q, s->id, SDR_SEND_SENDING, SDR_SEND_TO_RECONCILE, NULL,
			        KEEP_STATUS,
			        _("S²LOW already has an act with this number: it was probably "
			          "received; look for it in S²LOW before doing anything."),
			        now, error);
	} else {
		g_autofree char *name = NULL;
		g_autofree char *path = pes_path_from_json(s->request, &name);
		g_autoptr(SdrHeliosImport) r = NULL;

		if (path == NULL)
			return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_FAILED,
			                           NULL, KEEP_STATUS, _("damaged request"), now,
			                           NULL);
		r = ops->helios_import(data, path, name, &not_sent, &e);
		if (r != NULL && r->ok)
			return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_SENT, r->id,
			                           KEEP_STATUS, "", now, error);
		if (r != NULL && r->duplicate)
			return sdr_send_queue_move(
			        q, s->id, SDR_SEND_SENDING, SDR_SEND_TO_RECONCILE, NULL,
			        KEEP_STATUS,
			        _("S²LOW already received this very file (duplicate): find its "
			          "transaction in S²LOW; it must not be sent again."),
			        now, error);
		if (r != NULL) {
			e = g_error_new(SDR_ERROR, SDR_ERROR_PROFILE,
			                _("S²LOW refused the PES: %s"),
			                r->message != NULL ? r->message : "");
		}
	}
judge:
	if (e != NULL && e->domain == SDR_ERROR &&
	    (e->code == SDR_ERROR_PROFILE || e->code == SDR_ERROR_BAD_REQUEST ||
	     e->code == SDR_ERROR_TOO_LARGE || e->code == SDR_ERROR_NOT_FOUND))
		return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_FAILED, NULL,
		                           KEEP_STATUS, e->message, now, error);
	if (not_sent)
		return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_QUEUED, NULL,
		                           KEEP_STATUS, e != NULL ? e->message : "",
		                           now + sdr_send_backoff_s(s->attempts + 1), error);
	/* The answer was lost (timeout, cut connection, server error, bad answer): we
	 * cannot know whether S²LOW has it. Stay in sending: a later run reconciles
	 * (after the backoff; `sinadur status` asks at once). */
	return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_SENDING, NULL, KEEP_STATUS,
	                           e != NULL ? e->message : "",
	                           now + sdr_send_backoff_s(s->attempts), error);
}

static gboolean
reconcile(SdrSendQueue *q, SdrSend *s, const SdrSendOps *ops, gpointer data, gint64 now,
          GError **error)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *id = NULL;

	if (s->kind == SDR_SEND_PES) {
		/* S²LOW refuses any file it already has (same SHA-1, any authority): sending
		 * the same bytes again either creates the one transaction (the first never
		 * arrived) or answers "doublon" -> to_reconcile. It can never make two. */
		return upload(q, s, ops, data, now, error);
	}
	/* ACTES: the number is unique per authority; look it up. The service down or
	 * failing (5xx): still unknown, ask again later. */
	if (s->number != NULL && !ops->actes_find_number(data, s->number, &id, &e) &&
	    g_error_matches(e, SDR_ERROR, SDR_ERROR_NETWORK))
		return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_SENDING, NULL,
		                           KEEP_STATUS, e->message,
		                           now + sdr_send_backoff_s(s->attempts), error);
	if (s->number == NULL || e != NULL)
		return sdr_send_queue_move(
		        q, s->id, SDR_SEND_SENDING, SDR_SEND_TO_RECONCILE, NULL, KEEP_STATUS,
		        _("The answer of S²LOW to this act was lost and its list of acts cannot "
		          "be read: look for the act's number in S²LOW before sending it again."),
		        now, error);
	if (id != NULL)
		return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_SENT, id,
		                           KEEP_STATUS, "", now, error);
	/* Not there: it never arrived. Back to the queue (the number still guards). */
	return sdr_send_queue_move(q, s->id, SDR_SEND_SENDING, SDR_SEND_QUEUED, NULL, KEEP_STATUS,
	                           _("not received by S²LOW: will be sent again"), now, error);
}

gboolean
sdr_send_queue_process(SdrSendQueue *q, gint64 id, const SdrSendOps *ops, gpointer data, gint64 now,
                       GError **error)
{
	gboolean did = FALSE;

	/* At most a few steps: queued -> sending -> sent -> polling/final. */
	for (int step = 0; step < 6; step++) {
		g_autoptr(SdrSend) s = sdr_send_queue_get(q, id, error);
		gboolean ok;

		if (s == NULL)
			return FALSE;
		switch (s->state) {
		case SDR_SEND_QUEUED:
			if (s->next_try > now)
				return did;
			/* Written and synced BEFORE the upload starts. */
			if (!sdr_send_queue_move(q, s->id, SDR_SEND_QUEUED, SDR_SEND_SENDING, NULL,
			                         KEEP_STATUS, NULL, now, error))
				return FALSE;
			s->attempts++;
			ok = upload(q, s, ops, data, now, error);
			break;
		case SDR_SEND_SENDING:
			if (did || s->next_try > now)
				return did; /* lost answer just now: reconcile on a later run */
			ok = reconcile(q, s, ops, data, now, error);
			break;
		case SDR_SEND_SENT:
			ok = poll_status(q, s, ops, data, now, error);
			break;
		case SDR_SEND_POLLING:
			if (did)
				return did; /* seen once in this run */
			ok = poll_status(q, s, ops, data, now, error);
			break;
		default:
			return did;
		}
		if (!ok)
			return FALSE;
		did = TRUE;
	}
	return did;
}

/* ---- Ops over the real client ------------------------------------------------------ */

static gboolean
c_actes_create(gpointer data, const SdrActesFields *f, char **id, gboolean *duplicate,
               gboolean *not_sent, GError **error)
{
	gboolean ok = sdr_s2low_actes_create(data, f, id, duplicate, error);
	*not_sent = !ok && sdr_s2low_client_last_not_sent(data);
	return ok;
}

static gboolean
c_actes_find(gpointer data, const char *number, char **id, GError **error)
{
	return sdr_s2low_actes_find_number(data, number, id, error);
}

static gboolean
c_actes_status(gpointer data, const char *id, int *status, char **message, GError **error)
{
	return sdr_s2low_actes_status(data, id, status, message, error);
}

static SdrHeliosImport *
c_helios_import(gpointer data, const char *path, const char *name, gboolean *not_sent,
                GError **error)
{
	SdrHeliosImport *r = sdr_s2low_helios_import(data, path, name, error);
	*not_sent = r == NULL && sdr_s2low_client_last_not_sent(data);
	return r;
}

static gboolean
c_helios_status(gpointer data, const char *id, int *status, char **message, GError **error)
{
	return sdr_s2low_helios_status(data, id, status, message, error);
}

static gboolean
c_actes_classification(gpointer data, const char *code, GError **error)
{
	return sdr_s2low_classification_check(data, code, error);
}

static const SdrSendOps client_ops = {
	c_actes_create,  c_actes_find,    c_actes_status,
	c_helios_import, c_helios_status, c_actes_classification,
};

const SdrSendOps *
sdr_send_ops_client(void)
{
	return &client_ops;
}
