/* test-s2low-unit.c - S²LOW answers (ISO-8859-1, HTML entities), ACTES field rules,
 * and the send queue's state machine: the database is closed and opened again at
 * every state, as after a kill -9, and a scripted peer records what was asked. */
#include "sdr-error.h"
#include "sdr-s2low.h"
#include "sdr-send-queue.h"

#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

/* ---- Answers ---------------------------------------------------------------------- */

static void
test_decode(void **state)
{
	/* ISO-8859-1 "Numéro" + htmlspecialchars' &#039; */
	const char latin[] =
	        "KO\nLa connexion n&#039;a pas pu \xEAtre \xE9tablie &amp; &lt;x&gt;\n";
	g_autoptr(SdrS2lowAnswer) a = NULL;
	g_autofree char *t = NULL;
	GError *e = NULL;

	(void)state;
	a = sdr_s2low_answer_parse((const guint8 *)latin, strlen(latin), &e);
	assert_non_null(a);
	assert_false(a->ok);
	assert_string_equal(a->message, "La connexion n'a pas pu être établie & <x>");
	/* UTF-8 stays UTF-8 (status answers echo raw UTF-8, no newline). */
	t = sdr_s2low_decode_text((const guint8 *)"KO\nNuméro de transaction invalide.", 35);
	assert_string_equal(t, "KO\nNuméro de transaction invalide.");
	g_free(t);
	t = sdr_s2low_decode_text((const guint8 *)"&#xE9;&#233;&bogus;&#0;", 24);
	assert_string_equal(t, "éé&bogus;&#0;");
	/* Neither OK nor KO: an HTML page. */
	assert_null(sdr_s2low_answer_parse((const guint8 *)"<html>", 6, &e));
	assert_true(g_error_matches(e, SDR_ERROR, SDR_ERROR_NETWORK));
	g_clear_error(&e);
}

static void
test_create_and_status(void **state)
{
	const char ok[] = "OK\n4242\n\n";
	const char st[] = "OK\n4\n<actes:ARActe/>\n";
	g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse((const guint8 *)ok, strlen(ok), NULL);
	g_autofree char *rest = NULL;
	int status = 0;

	(void)state;
	assert_true(a->ok);
	assert_string_equal(a->lines[0], "4242");
	assert_null(a->lines[1]);
	assert_true(
	        sdr_s2low_actes_status_parse((const guint8 *)st, strlen(st), &status, &rest, NULL));
	assert_int_equal(status, 4);
	assert_string_equal(rest, "<actes:ARActe/>");
	assert_true(sdr_s2low_actes_status_is_final(4));
	assert_false(sdr_s2low_actes_status_is_final(3));
	assert_string_equal(sdr_s2low_actes_status_label(4), "acknowledgement received");
	assert_string_equal(sdr_s2low_actes_status_label(77), "unknown status 77");
}

static void
test_helios(void **state)
{
	const char dup[] = "<import><id/><resultat>KO</resultat><message>doublon détecté. Ce "
	                   "fichier a déjà été posté.</message></import>";
	const char good[] = "<import><id>17</id><resultat>OK</resultat><message/></import>";
	/* Declared ISO-8859-1, message written in UTF-8 (as the service does). */
	const char st[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><transaction><id>17</id>"
	                  "<resultat>OK</resultat><message>Fichier bien re\xC3\xA7u</message>"
	                  "<status>-1</status></transaction>";
	g_autoptr(SdrHeliosImport) r = NULL;
	g_autofree char *msg = NULL;
	int status = 0;

	(void)state;
	r = sdr_s2low_helios_import_parse((const guint8 *)dup, strlen(dup), NULL);
	assert_false(r->ok);
	assert_true(r->duplicate);
	assert_null(r->id);
	sdr_helios_import_free(g_steal_pointer(&r));
	r = sdr_s2low_helios_import_parse((const guint8 *)good, strlen(good), NULL);
	assert_true(r->ok);
	assert_string_equal(r->id, "17");
	assert_true(
	        sdr_s2low_helios_status_parse((const guint8 *)st, strlen(st), &status, &msg, NULL));
	assert_int_equal(status, -1);
	assert_string_equal(msg, "Fichier bien reçu");
	assert_true(sdr_s2low_helios_status_is_final(-1));
}

/* ---- Fields ----------------------------------------------------------------------- */

static char *tmpdir;

static char *
write_file(const char *name, const char *data)
{
	char *p = g_build_filename(tmpdir, name, NULL);
	g_assert_true(g_file_set_contents(p, data, -1, NULL));
	return p;
}

static SdrActesFields *
good_fields(void)
{
	SdrActesFields *f = sdr_actes_fields_new();
	f->nature = sdr_actes_nature_from_string("DE");
	f->classification = g_strdup("1.1");
	f->number = g_strdup("2026_042");
	f->date = g_strdup("2026-03-01");
	f->subject = g_strdup("Délibération");
	f->type_acte = g_strdup("99_DE");
	f->acte_path = write_file("a.pdf", "%PDF-1.4\n%%EOF\n");
	return f;
}

static void
expect_bad(SdrActesFields *f, int code)
{
	GError *e = NULL;
	assert_false(sdr_actes_fields_check(f, "2026-06-01", &e));
	assert_non_null(e);
	assert_int_equal(e->code, code);
	g_error_free(e);
	sdr_actes_fields_free(f);
}

static void
test_fields(void **state)
{
	SdrActesFields *f;
	SdrActesFile *an;

	(void)state;
	f = good_fields();
	assert_true(sdr_actes_fields_check(f, "2026-06-01", NULL));
	sdr_actes_fields_free(f);
	f = good_fields();
	f->nature = sdr_actes_nature_from_string("XX");
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->number);
	f->number = g_strdup("_2026");
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->number);
	f->number = g_strdup("1234567890123456"); /* 16 > 15 */
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->number);
	f->number = g_strdup("123456789012345"); /* 15: fine */
	assert_true(sdr_actes_fields_check(f, "2026-06-01", NULL));
	sdr_actes_fields_free(f);
	f = good_fields();
	g_free(f->date);
	f->date = g_strdup("2026-06-02"); /* tomorrow */
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->date);
	f->date = g_strdup("2026-02-30");
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->subject);
	f->subject = g_strnfill(500, 'a');
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->subject);
	f->subject = g_strdup("Prix en €");
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->classification);
	f->classification = g_strdup("1..2");
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->type_acte);
	f->type_acte = g_strdup("99de");
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	f = good_fields();
	g_free(f->acte_path);
	f->acte_path = write_file("a.xml", "<?xml version='1.0'?><x/>");
	expect_bad(f, SDR_ERROR_PROFILE); /* XML only for BF 7.1 */
	f = good_fields();
	g_free(f->acte_path);
	f->acte_path = write_file("b.xml", "<?xml version='1.0'?><x/>");
	f->nature = 5;
	g_free(f->classification);
	f->classification = g_strdup("7.1");
	assert_true(sdr_actes_fields_check(f, "2026-06-01", NULL));
	sdr_actes_fields_free(f);
	f = good_fields();
	an = g_new0(SdrActesFile, 1);
	an->path = write_file("x.bin", "MZ\x90");
	an->type_pj = g_strdup("99_AI");
	g_ptr_array_add(f->annexes, an);
	expect_bad(f, SDR_ERROR_PROFILE);
	f = good_fields();
	an = g_new0(SdrActesFile, 1);
	an->path = write_file("y.pdf", "%PDF-1.4\n");
	g_ptr_array_add(f->annexes, an); /* no type_pj */
	expect_bad(f, SDR_ERROR_BAD_REQUEST);
	{
		g_autofree char *n = sdr_s2low_safe_file_name("/x/Délib n°3 (v2).pdf");
		assert_string_equal(n, "Délib n_3 _v2_.pdf");
	}
}

/* ---- The queue -------------------------------------------------------------------- */

typedef struct {
	int creates, finds, imports, statuses;
	/* What the scripted peer answers. */
	gboolean lose_answer;    /* the upload reaches the server, the answer is lost */
	gboolean refuse_connect; /* never reaches the server */
	gboolean listing_has;    /* list_actes.php shows the number */
	gboolean duplicate;
	int status;
	int classif; /* 0 current, 1 refused (newer / unknown code), 2 network */
	gboolean listing_down;
} Peer;

static gboolean
p_create(gpointer data, const SdrActesFields *f, char **id, gboolean *dup, gboolean *not_sent,
         GError **error)
{
	Peer *p = data;
	(void)f;
	*dup = FALSE;
	*not_sent = FALSE;
	if (p->refuse_connect) {
		*not_sent = TRUE;
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK, "refused");
		return FALSE;
	}
	p->creates++;
	if (p->duplicate) {
		*dup = TRUE;
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PROFILE, "même numéro");
		return FALSE;
	}
	if (p->lose_answer) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK, "timeout");
		return FALSE;
	}
	*id = g_strdup("501");
	return TRUE;
}

static gboolean
p_find(gpointer data, const char *number, char **id, GError **error)
{
	Peer *p = data;
	(void)number;
	p->finds++;
	if (p->listing_down) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK, "HTTP 500");
		return FALSE;
	}
	*id = p->listing_has ? g_strdup("501") : NULL;
	return TRUE;
}

static gboolean
p_status(gpointer data, const char *id, int *status, char **message, GError **error)
{
	Peer *p = data;
	(void)error;
	assert_string_equal(id, "501");
	p->statuses++;
	*status = p->status;
	*message = NULL;
	return TRUE;
}

static SdrHeliosImport *
p_import(gpointer data, const char *path, const char *name, gboolean *not_sent, GError **error)
{
	Peer *p = data;
	SdrHeliosImport *r = g_new0(SdrHeliosImport, 1);
	(void)path;
	(void)name;
	(void)error;
	*not_sent = FALSE;
	p->imports++;
	if (p->duplicate) {
		r->duplicate = TRUE;
		r->message = g_strdup("doublon");
	} else {
		r->ok = TRUE;
		r->id = g_strdup("501");
	}
	return r;
}

static gboolean
p_classif(gpointer data, const char *code, GError **error)
{
	Peer *p = data;

	assert_string_equal(code, "1.1");
	if (p->classif == 1)
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PROFILE, "classification changed");
	else if (p->classif == 2)
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NETWORK, "unreachable");
	return p->classif == 0;
}

static const SdrSendOps peer_ops = { p_create, p_find, p_status, p_import, p_status, p_classif };

static char *db_path;

static SdrSendState
state_after_reopen(gint64 id)
{
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);
	g_autoptr(SdrSend) s = sdr_send_queue_get(q, id, NULL);
	assert_non_null(s);
	return s->state;
}

static gint64
add(SdrSendKind kind)
{
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);
	g_autofree char *acte = write_file("q.pdf", "%PDF-1.4\n");
	g_autofree char *json = g_strdup_printf(
	        "{\"nature\":1,\"classification\":\"1.1\",\"number\":\"N1\",\"date\":\"2026-01-"
	        "01\","
	        "\"subject\":\"s\",\"type_acte\":\"99_DE\",\"acte\":\"%s\",\"path\":\"%s\"}",
	        acte, acte);
	gint64 id = sdr_send_queue_add(q, kind, json, kind == SDR_SEND_ACTES ? "N1" : NULL, NULL);
	assert_true(id > 0);
	return id;
}

static gboolean
process(gint64 id, Peer *p)
{
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);
	return sdr_send_queue_process(q, id, &peer_ops, p, g_get_real_time() / G_USEC_PER_SEC,
	                              NULL);
}

static void
test_queue_happy(void **state)
{
	Peer p = { 0 };
	gint64 id = add(SDR_SEND_ACTES);

	(void)state;
	assert_int_equal(state_after_reopen(id), SDR_SEND_QUEUED);
	p.status = 3;
	assert_true(process(id, &p));
	assert_int_equal(p.creates, 1);
	assert_int_equal(state_after_reopen(id), SDR_SEND_POLLING);
	p.status = 4;
	assert_true(process(id, &p));
	assert_int_equal(state_after_reopen(id), SDR_SEND_FINAL);
	assert_false(process(id, &p)); /* final: nothing more */
	assert_int_equal(p.creates, 1);
}

/* Killed after `sending` was written (before or during the upload): at start-up the
 * ACTES send is reconciled through the listing, never created again blindly. */
static void
test_queue_killed_in_sending_actes(void **state)
{
	Peer p = { 0 };
	gint64 id = add(SDR_SEND_ACTES);

	(void)state;
	{
		g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);
		assert_true(sdr_send_queue_move(q, id, SDR_SEND_QUEUED, SDR_SEND_SENDING, NULL,
		                                -10000, NULL, 0, NULL));
	} /* "kill -9": closed with the row in sending */
	assert_int_equal(state_after_reopen(id), SDR_SEND_SENDING);
	p.listing_has = TRUE;
	p.status = 2;
	assert_true(process(id, &p));
	assert_int_equal(p.creates, 0);
	assert_int_equal(p.finds, 1);
	assert_int_equal(state_after_reopen(id), SDR_SEND_POLLING);
}

static void
test_queue_lost_answer_not_listed(void **state)
{
	Peer p = { 0 };
	gint64 id = add(SDR_SEND_ACTES);

	(void)state;
	p.lose_answer = TRUE;
	assert_true(process(id, &p));
	assert_int_equal(p.creates, 1);
	assert_int_equal(state_after_reopen(id), SDR_SEND_SENDING);
	/* Not before the backoff (the person's `sinadur status` skips it). */
	p.lose_answer = FALSE;
	p.status = 4;
	assert_false(process(id, &p));
	assert_int_equal(p.finds, 0);
	{
		g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);
		assert_true(sdr_send_queue_retry_now(q, id, NULL));
	}
	/* Next run: the listing does not have it (it never arrived) -> queued again and
	 * sent, once. */
	assert_true(process(id, &p));
	assert_int_equal(p.finds, 1);
	assert_int_equal(p.creates, 2);
	assert_int_equal(state_after_reopen(id), SDR_SEND_FINAL);
	assert_false(process(id, &p));
	assert_int_equal(p.creates, 2);
}

static void
test_queue_not_sent_backoff(void **state)
{
	Peer p = { 0 };
	gint64 id = add(SDR_SEND_ACTES);
	g_autoptr(SdrSendQueue) q = NULL;
	g_autoptr(SdrSend) s = NULL;

	(void)state;
	p.refuse_connect = TRUE;
	assert_true(process(id, &p));
	assert_int_equal(state_after_reopen(id), SDR_SEND_QUEUED);
	q = sdr_send_queue_open(db_path, NULL);
	s = sdr_send_queue_get(q, id, NULL);
	assert_int_equal(s->attempts, 1);
	assert_true(s->next_try > g_get_real_time() / G_USEC_PER_SEC + 30);
	/* Too early: not tried again. */
	p.refuse_connect = FALSE;
	assert_false(process(id, &p));
	assert_int_equal(p.creates, 0);
	assert_int_equal(sdr_send_backoff_s(1), 60);
	assert_int_equal(sdr_send_backoff_s(3), 240);
	assert_int_equal(sdr_send_backoff_s(30), 3600);
}

/* The classification is checked before the upload: refused -> failed, never
 * created; unreachable -> queued with backoff, nothing created. */
static void
test_queue_classification(void **state)
{
	Peer p = { 0 };
	gint64 a = add(SDR_SEND_ACTES);
	gint64 b = add(SDR_SEND_ACTES);

	(void)state;
	p.classif = 1;
	assert_true(process(a, &p));
	assert_int_equal(state_after_reopen(a), SDR_SEND_FAILED);
	p.classif = 2;
	assert_true(process(b, &p));
	assert_int_equal(state_after_reopen(b), SDR_SEND_QUEUED);
	assert_int_equal(p.creates, 0);
}

/* A lost answer, then the listing fails too (server down, 500): still unknown, stays
 * in sending (never to_reconcile, never created again) until the listing answers. */
static void
test_queue_listing_down(void **state)
{
	Peer p = { 0 };
	gint64 id = add(SDR_SEND_ACTES);
	g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);

	(void)state;
	p.lose_answer = TRUE;
	assert_true(process(id, &p));
	p.lose_answer = FALSE;
	p.listing_down = TRUE;
	assert_true(sdr_send_queue_retry_now(q, id, NULL));
	assert_true(process(id, &p));
	assert_int_equal(state_after_reopen(id), SDR_SEND_SENDING);
	assert_int_equal(p.creates, 1);
	p.listing_down = FALSE;
	p.listing_has = TRUE;
	p.status = 4;
	assert_true(sdr_send_queue_retry_now(q, id, NULL));
	assert_true(process(id, &p));
	assert_int_equal(state_after_reopen(id), SDR_SEND_FINAL);
	assert_int_equal(p.creates, 1);
}

/* The classification answer and the PES_Retour list as S²LOW writes them. */
static void
test_classification_and_retours(void **state)
{
	static const char cl[] =
	        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<actes:RetourClassification "
	        "xmlns:actes=\"http://www.interieur.gouv.fr/ACTES#v1.1-20040216\">"
	        "<actes:DateClassification>2024-01-15</actes:DateClassification><actes:Matieres>"
	        "<actes:Matiere1 actes:CodeMatiere=\"1\" actes:Libelle=\"Commande Publique\">"
	        "<actes:Matiere2 actes:CodeMatiere=\"1\" actes:Libelle=\"March\xe9s\"/>"
	        "</actes:Matiere1></actes:Matieres></actes:RetourClassification>\n";
	static const char li[] =
	        "<liste><idColl>212901789</idColl><dateDemande>2026-01-01 "
	        "01:02:03</dateDemande><resultat></resultat><message></message>"
	        "<pes_retour><id>3</id><nom>R&#xE9;tour.xml</nom><date>2026-01-01"
	        "</date></pes_retour><pes_retour><id>x</id></pes_retour></liste>\n";
	g_autoptr(SdrS2lowClassification) c = NULL;
	g_autoptr(GPtrArray) r = NULL;
	GError *e = NULL;

	(void)state;
	c = sdr_s2low_classification_parse((const guint8 *)cl, sizeof cl - 1, &e);
	assert_non_null(c);
	assert_string_equal(c->date, "2024-01-15");
	assert_true(sdr_s2low_classification_has(c, "1"));
	assert_true(sdr_s2low_classification_has(c, "1.1"));
	assert_false(sdr_s2low_classification_has(c, "1.2"));
	assert_string_equal(g_hash_table_lookup(c->codes, "1.1"), "Marchés");
	assert_null(
	        sdr_s2low_classification_parse((const guint8 *)"KO\nAcc\xe8s refus\xe9\n", 16, &e));
	assert_true(g_error_matches(e, SDR_ERROR, SDR_ERROR_PROFILE));
	g_clear_error(&e);
	r = sdr_s2low_retour_list_parse((const guint8 *)li, sizeof li - 1, &e);
	assert_non_null(r);
	assert_int_equal(r->len, 1); /* the id "x" is dropped */
	assert_string_equal(((SdrPesRetour *)r->pdata[0])->name, "Rétour.xml");
	assert_null(sdr_s2low_retour_list_parse((const guint8 *)"<html/>", 7, &e));
	g_clear_error(&e);
}

static void
test_queue_duplicates(void **state)
{
	Peer p = { 0 };
	gint64 a = add(SDR_SEND_ACTES);
	gint64 h = add(SDR_SEND_PES);

	(void)state;
	p.duplicate = TRUE;
	assert_true(process(a, &p));
	assert_int_equal(state_after_reopen(a), SDR_SEND_TO_RECONCILE);
	assert_true(process(h, &p));
	assert_int_equal(state_after_reopen(h), SDR_SEND_TO_RECONCILE);
	/* To reconcile is never sent again. */
	assert_false(process(a, &p));
	assert_false(process(h, &p));
	assert_int_equal(p.creates, 1);
	assert_int_equal(p.imports, 1);
}

/* Hélios killed in sending: the same bytes again; the server's global duplicate check
 * answers "doublon" (no id) -> to_reconcile. */
static void
test_queue_killed_in_sending_pes(void **state)
{
	Peer p = { 0 };
	gint64 h = add(SDR_SEND_PES);

	(void)state;
	{
		g_autoptr(SdrSendQueue) q = sdr_send_queue_open(db_path, NULL);
		assert_true(sdr_send_queue_move(q, h, SDR_SEND_QUEUED, SDR_SEND_SENDING, NULL,
		                                -10000, NULL, 0, NULL));
	}
	p.duplicate = TRUE;
	assert_true(process(h, &p));
	assert_int_equal(state_after_reopen(h), SDR_SEND_TO_RECONCILE);
}

/* The compare-and-set: a second process cannot take a send already taken. */
static void
test_queue_cas(void **state)
{
	gint64 id = add(SDR_SEND_ACTES);
	g_autoptr(SdrSendQueue) q1 = sdr_send_queue_open(db_path, NULL);
	g_autoptr(SdrSendQueue) q2 = sdr_send_queue_open(db_path, NULL);
	GError *e = NULL;

	(void)state;
	assert_true(sdr_send_queue_move(q1, id, SDR_SEND_QUEUED, SDR_SEND_SENDING, NULL, -10000,
	                                NULL, 0, NULL));
	assert_false(sdr_send_queue_move(q2, id, SDR_SEND_QUEUED, SDR_SEND_SENDING, NULL, -10000,
	                                 NULL, 0, &e));
	assert_true(g_error_matches(e, SDR_ERROR, SDR_ERROR_BUSY));
	g_error_free(e);
}

static int
setup(void **state)
{
	(void)state;
	tmpdir = g_dir_make_tmp("sdr-s2low-XXXXXX", NULL);
	db_path = g_build_filename(tmpdir, "s2low.db", NULL);
	return 0;
}

static int
teardown(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	(void)state;
	g_assert_true(system(cmd) == 0);
	g_free(tmpdir);
	g_free(db_path);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_create_and_status),
		cmocka_unit_test(test_helios),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_queue_happy),
		cmocka_unit_test(test_queue_killed_in_sending_actes),
		cmocka_unit_test(test_queue_lost_answer_not_listed),
		cmocka_unit_test(test_queue_not_sent_backoff),
		cmocka_unit_test(test_queue_duplicates),
		cmocka_unit_test(test_queue_classification),
		cmocka_unit_test(test_queue_listing_down),
		cmocka_unit_test(test_classification_and_retours),
		cmocka_unit_test(test_queue_killed_in_sending_pes),
		cmocka_unit_test(test_queue_cas),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
