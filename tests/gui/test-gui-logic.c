/* test-gui-logic.c - the GUI's decisions without a display: validity colours and
 * wording, PIN wording and final-try gating, expiry-notification memory across
 * restarts, tray state, origin display, outside-text isolation. In French. */
#include "sdr-gui-logic.h"
#include "sdr-gui-text.h"
#include "sdr-i18n.h"

#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static GDateTime *
day(int y, int m, int d)
{
	return g_date_time_new_utc(y, m, d, 12, 0, 0);
}

static void
test_validity(void **state)
{
	g_autoptr(GDateTime) now = day(2026, 6, 1);
	g_autoptr(GDateTime) past = day(2025, 6, 1);
	g_autoptr(GDateTime) future = day(2026, 7, 1);
	g_autoptr(GDateTime) end = day(2028, 6, 1);

	assert_int_equal(sdr_gui_validity(400, FALSE, past, now), SDR_GUI_VALIDITY_OK);
	assert_int_equal(sdr_gui_validity(91, FALSE, past, now), SDR_GUI_VALIDITY_OK);
	assert_int_equal(sdr_gui_validity(90, FALSE, past, now), SDR_GUI_VALIDITY_WARNING);
	assert_int_equal(sdr_gui_validity(8, FALSE, past, now), SDR_GUI_VALIDITY_WARNING);
	assert_int_equal(sdr_gui_validity(7, FALSE, past, now), SDR_GUI_VALIDITY_CRITICAL);
	assert_int_equal(sdr_gui_validity(0, FALSE, past, now), SDR_GUI_VALIDITY_CRITICAL);
	assert_int_equal(sdr_gui_validity(0, TRUE, past, now), SDR_GUI_VALIDITY_EXPIRED);
	assert_int_equal(sdr_gui_validity(-3, FALSE, past, now), SDR_GUI_VALIDITY_EXPIRED);
	assert_int_equal(sdr_gui_validity(700, FALSE, future, now), SDR_GUI_VALIDITY_NOT_YET);

	assert_string_equal(sdr_gui_validity_css_class(SDR_GUI_VALIDITY_OK), "sdr-ok");
	assert_string_equal(sdr_gui_validity_css_class(SDR_GUI_VALIDITY_WARNING), "sdr-warning");
	assert_string_equal(sdr_gui_validity_css_class(SDR_GUI_VALIDITY_CRITICAL), "sdr-critical");
	assert_string_equal(sdr_gui_validity_css_class(SDR_GUI_VALIDITY_EXPIRED), "sdr-critical");
	assert_string_equal(sdr_gui_validity_css_class(SDR_GUI_VALIDITY_NOT_YET), "sdr-warning");

	/* One third of a 3-year period ahead. */
	{
		g_autoptr(GDateTime) start = day(2024, 6, 1);
		g_autoptr(GDateTime) stop = day(2027, 6, 1);
		g_autoptr(GDateTime) mid = day(2026, 6, 1);
		double f = sdr_gui_validity_fraction(start, stop, mid);

		assert_true(f > 0.32 && f < 0.35);
		assert_true(sdr_gui_validity_fraction(start, stop, end) == 0.0);
		assert_true(sdr_gui_validity_fraction(mid, stop, past) == 1.0);
		assert_true(sdr_gui_validity_fraction(NULL, stop, mid) == 0.0);
	}
}

static void
test_validity_text(void **state)
{
	g_autofree char *a = sdr_gui_validity_text(SDR_GUI_VALIDITY_OK, 400);
	g_autofree char *b = sdr_gui_validity_text(SDR_GUI_VALIDITY_CRITICAL, 1);
	g_autofree char *c = sdr_gui_validity_text(SDR_GUI_VALIDITY_EXPIRED, -3);
	g_autofree char *d = sdr_gui_validity_text(SDR_GUI_VALIDITY_NOT_YET, 700);
	g_autofree char *e = sdr_gui_validity_text(SDR_GUI_VALIDITY_CRITICAL, 0);

	assert_string_equal(a, "Expire dans 400 jours");
	assert_string_equal(b, "Expire dans 1 jour");
	assert_string_equal(c, "Expiré depuis 3 jours");
	assert_string_equal(d, "Pas encore valide");
	assert_string_equal(e, "Expire aujourd’hui");
}

static void
test_pin_text(void **state)
{
	SdrPinPromptRequest r = { 0 };
	SdrGuiPinText t;

	/* First attempt, nothing special: entry enabled, no warning. */
	r.attempt = 1;
	sdr_gui_pin_text(&r, "RGS-TEST", "Marie Dupont", FALSE, &t);
	assert_true(t.show_entry);
	assert_null(t.warning);
	assert_false(t.needs_confirmation);
	assert_non_null(strstr(t.message, "RGS-TEST"));
	assert_non_null(strstr(t.message, "Marie Dupont"));
	assert_true(sdr_gui_pin_entry_enabled(&t, FALSE));
	assert_false(sdr_gui_pin_can_submit(&t, FALSE, 0, 0, 0));
	assert_true(sdr_gui_pin_can_submit(&t, FALSE, 4, 4, 8));
	assert_false(sdr_gui_pin_can_submit(&t, FALSE, 3, 4, 8));
	assert_false(sdr_gui_pin_can_submit(&t, FALSE, 9, 4, 8));
	sdr_gui_pin_text_clear(&t);

	/* count_low BEFORE the first attempt: the warning is there already. */
	r.count_low = TRUE;
	sdr_gui_pin_text(&r, "RGS-TEST", "Marie Dupont", FALSE, &t);
	assert_non_null(t.warning);
	assert_non_null(strstr(t.warning, "peu d’essais"));
	assert_false(t.danger);
	assert_false(t.needs_confirmation);
	sdr_gui_pin_text_clear(&t);

	/* Final try: red, and the entry is disabled until confirmed. */
	r.final_try = TRUE;
	sdr_gui_pin_text(&r, "RGS-TEST", "Marie Dupont", FALSE, &t);
	assert_true(t.danger);
	assert_true(t.needs_confirmation);
	assert_non_null(strstr(t.warning, "Dernier essai"));
	assert_false(sdr_gui_pin_entry_enabled(&t, FALSE));
	assert_false(sdr_gui_pin_can_submit(&t, FALSE, 4, 0, 0));
	assert_true(sdr_gui_pin_entry_enabled(&t, TRUE));
	assert_true(sdr_gui_pin_can_submit(&t, TRUE, 4, 0, 0));
	sdr_gui_pin_text_clear(&t);

	/* Wrong PIN before, plenty of tries. */
	memset(&r, 0, sizeof r);
	r.previous_incorrect = TRUE;
	sdr_gui_pin_text(&r, NULL, NULL, FALSE, &t);
	assert_string_equal(t.warning, "Code PIN incorrect. Réessayez.");
	sdr_gui_pin_text_clear(&t);

	/* Protected authentication path: no field. */
	sdr_gui_pin_text(&r, "RGS-TEST", NULL, TRUE, &t);
	assert_false(t.show_entry);
	assert_string_equal(t.message, "Saisissez votre code PIN dans la fenêtre du lecteur ou "
	                               "du logiciel de la clé.");
	assert_false(sdr_gui_pin_entry_enabled(&t, TRUE));
	assert_false(sdr_gui_pin_can_submit(&t, TRUE, 4, 0, 0));
	sdr_gui_pin_text_clear(&t);

	assert_non_null(strstr(sdr_gui_locked_advice(), "PUK"));
}

static void
test_pin_rejected_and_hint(void **state)
{
	SdrPinPromptRequest r = { 0 };
	SdrGuiPinText t;
	g_autofree char *exact = sdr_gui_pin_length_hint(6, 6);
	g_autofree char *range = sdr_gui_pin_length_hint(4, 8);
	g_autofree char *least = sdr_gui_pin_length_hint(4, 0);
	g_autofree char *most = sdr_gui_pin_length_hint(0, 1);

	/* The core refused the previous answer without sending it to the key. */
	r.attempt = 2;
	r.min_len = 4;
	r.max_len = 8;
	r.rejected = "Ce code est trop court. Rien n’a été envoyé à la clé : aucun essai n’a "
	             "été utilisé.\x1b[2J";
	sdr_gui_pin_text(&r, "RGS-TEST", "Marie Dupont", FALSE, &t);
	assert_non_null(t.rejected);
	assert_non_null(strstr(t.rejected, "aucun essai n’a été utilisé"));
	assert_null(strchr(t.rejected, '\x1b')); /* through the sanitiser */
	assert_null(t.warning);                  /* not a wrong PIN: no try was used */
	assert_string_equal(t.hint, "Le code PIN comporte de 4 à 8 caractères.");
	assert_true(t.show_entry);
	/* The OK button follows the key's bounds (bytes). */
	assert_false(sdr_gui_pin_can_submit(&t, FALSE, 3, r.min_len, r.max_len));
	assert_true(sdr_gui_pin_can_submit(&t, FALSE, 4, r.min_len, r.max_len));
	assert_true(sdr_gui_pin_can_submit(&t, FALSE, 8, r.min_len, r.max_len));
	assert_false(sdr_gui_pin_can_submit(&t, FALSE, 9, r.min_len, r.max_len));
	sdr_gui_pin_text_clear(&t);
	assert_null(t.rejected);
	assert_null(t.hint);

	assert_string_equal(exact, "Le code PIN comporte 6 caractères.");
	assert_string_equal(range, "Le code PIN comporte de 4 à 8 caractères.");
	assert_string_equal(least, "Le code PIN comporte au moins 4 caractères.");
	assert_string_equal(most, "Le code PIN comporte au plus 1 caractère.");
	assert_null(sdr_gui_pin_length_hint(0, 0));

	/* Unknown bounds: no hint. */
	memset(&r, 0, sizeof r);
	sdr_gui_pin_text(&r, NULL, NULL, FALSE, &t);
	assert_null(t.hint);
	assert_null(t.rejected);
	sdr_gui_pin_text_clear(&t);
}

static void
test_choice_days_left(void **state)
{
	g_autoptr(GDateTime) now = g_date_time_new_local(2026, 12, 1, 23, 30, 0);
	gint64 d = 0;

	/* Calendar days in local time, as sdr_time_days_left(). */
	assert_true(sdr_gui_choice_days_left("21/12/2026", now, &d));
	assert_int_equal(d, 20);
	assert_true(sdr_gui_choice_days_left("2026-12-02", now, &d));
	assert_int_equal(d, 1);
	assert_true(sdr_gui_choice_days_left("01/12/2026", now, &d));
	assert_int_equal(d, 0);
	assert_true(sdr_gui_choice_days_left("30/11/2026", now, &d));
	assert_int_equal(d, -1);
	assert_false(sdr_gui_choice_days_left("31/02/2026", now, &d));
	assert_false(sdr_gui_choice_days_left("21/12/2026 x", now, &d));
	assert_false(sdr_gui_choice_days_left("demain", now, &d));
	assert_false(sdr_gui_choice_days_left(NULL, now, &d));
}

static void
test_warn_days(void **state)
{
	int d[8];
	char *none[] = { NULL };
	char *some[] = { " 7", "60", "bad", "60", "-2", "0", NULL };
	gsize n = sdr_gui_parse_warn_days(none, d, 8);

	assert_int_equal(n, 4);
	assert_int_equal(d[0], 90);
	assert_int_equal(d[1], 30);
	assert_int_equal(d[2], 7);
	assert_int_equal(d[3], 1);
	n = sdr_gui_parse_warn_days(some, d, 8);
	assert_int_equal(n, 3);
	assert_int_equal(d[0], 60);
	assert_int_equal(d[1], 7);
	assert_int_equal(d[2], 0);
	assert_int_equal(sdr_gui_parse_warn_days(NULL, d, 2), 2);
}

static void
test_expiry_memory(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("sdr-gui-test-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "sub", "gui-expiry.ini", NULL);
	g_autofree char *key = sdr_gui_cert_key("CN=CA", "01AB");
	g_autofree char *other = sdr_gui_cert_key("CN=CA", "01AC");
	const int warn[] = { 90, 30, 7, 1 };
	SdrGuiExpiryMemory *m = sdr_gui_expiry_memory_load(path);

	assert_int_equal(strlen(key), 16);
	assert_string_not_equal(key, other);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 200, warn, 4), -1);
	/* 25 days: the 30-day threshold, once (90 is skipped: never nag twice). */
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 25, warn, 4), 30);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 25, warn, 4), -1);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 20, warn, 4), -1);
	assert_int_equal(sdr_gui_expiry_memory_check(m, other, 80, warn, 4), 90);
	assert_true(sdr_gui_expiry_memory_save(m, NULL));
	sdr_gui_expiry_memory_free(m);

	/* After a restart: remembered; the next threshold still comes. */
	m = sdr_gui_expiry_memory_load(path);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 24, warn, 4), -1);
	assert_int_equal(sdr_gui_expiry_memory_check(m, other, 70, warn, 4), -1);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 6, warn, 4), 7);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, -1, warn, 4), 1);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, -5, warn, 4), -1);
	sdr_gui_expiry_memory_free(m);

	/* A damaged file is an empty memory. */
	assert_true(g_file_set_contents(path, "\x01garbage[[", -1, NULL));
	m = sdr_gui_expiry_memory_load(path);
	assert_int_equal(sdr_gui_expiry_memory_check(m, key, 25, warn, 4), 30);
	sdr_gui_expiry_memory_free(m);
	(void)g_remove(path);
	{
		g_autofree char *sub = g_build_filename(dir, "sub", NULL);
		(void)g_rmdir(sub);
	}
	(void)g_rmdir(dir);
}

static void
test_tray(void **state)
{
	g_autofree char *t1 = NULL;
	g_autofree char *t2 = NULL;

	assert_int_equal(sdr_gui_tray_state(FALSE, 0, 0, FALSE), SDR_GUI_TRAY_NO_KEY);
	assert_int_equal(sdr_gui_tray_state(FALSE, 1, 400, FALSE), SDR_GUI_TRAY_KEY);
	assert_int_equal(sdr_gui_tray_state(FALSE, 1, 90, FALSE), SDR_GUI_TRAY_EXPIRING);
	assert_int_equal(sdr_gui_tray_state(FALSE, 2, 40, TRUE), SDR_GUI_TRAY_EXPIRED);
	assert_int_equal(sdr_gui_tray_state(TRUE, 1, 400, FALSE), SDR_GUI_TRAY_BUSY);
	assert_string_equal(sdr_gui_tray_icon_name(SDR_GUI_TRAY_NO_KEY), "sinadur-no-key");
	assert_string_equal(sdr_gui_tray_icon_name(SDR_GUI_TRAY_EXPIRED), "sinadur-key-expired");
	t1 = sdr_gui_tray_title(SDR_GUI_TRAY_KEY, "Marie Dupont", 42);
	assert_string_equal(t1, "sinadur — Marie Dupont, 42 jours restants");
	t2 = sdr_gui_tray_title(SDR_GUI_TRAY_NO_KEY, NULL, 0);
	assert_string_equal(t2, "sinadur — aucune clé");
}

static void
test_origin_and_text(void **state)
{
	g_autofree char *a = sdr_gui_origin_display("https://portail.example.fr");
	g_autofree char *b =
	        sdr_gui_origin_display("https://user:pw@portail.example.fr:8443/x?y#z");
	g_autofree char *c = sdr_gui_origin_display("not an origin");
	g_autofree char *d = sdr_gui_origin_display("http://[::1]:24742");
	/* RLO would reverse "fdp.exe" into looking like "exe.pdf". */
	g_autofree char *e = sdr_gui_outside_text("facture\u202Efdp.exe\n\x07", 100);
	g_autofree char *f = sdr_gui_outside_text("abcdefghij", 4);

	assert_string_equal(a, "https://portail.example.fr");
	assert_string_equal(b, "https://portail.example.fr:8443");
	assert_null(c);
	assert_null(sdr_gui_origin_display(NULL));
	assert_string_equal(d, "http://[::1]:24742");
	/* The project's sanitiser: the override is shown, never obeyed. */
	assert_null(strstr(e, "\u202E"));
	assert_non_null(strstr(e, "<U+202E>"));
	assert_null(strchr(e, '\n'));
	assert_null(strchr(e, '\x07'));
	assert_true(g_str_has_prefix(e, "\u2068facture"));
	assert_true(g_str_has_suffix(e, "\u2069"));
	assert_string_equal(f, "\u2068abc…\u2069"); /* "…" counts */
	assert_null(sdr_gui_outside_text(NULL, 10));
	{
		g_autofree char *bad = sdr_gui_sanitize("a\xff"
		                                        "b",
		                                        10);
		assert_true(g_utf8_validate(bad, -1, NULL));
	}
	assert_string_equal(sdr_gui_usage_label("authentication"), "authentification");
	assert_string_equal(sdr_gui_format_label("actes"), "Acte pour la préfecture (ACTES)");
	assert_string_equal(sdr_gui_format_label("pes"), "Flux comptable PES (Trésorerie)");
	assert_string_equal(sdr_gui_format_label("marche"), "Pièce de marché public");
}

static void
test_detached_content(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("sdr-gui-test-XXXXXX", NULL);
	g_autofree char *doc = g_build_filename(dir, "offre.pdf", NULL);
	g_autofree char *p7s = g_build_filename(dir, "offre.pdf.p7s", NULL);
	g_autofree char *xml = g_build_filename(dir, "offre.pdf - Signature 1.xml", NULL);
	g_autofree char *lone = g_build_filename(dir, "autre.pdf.p7s", NULL);
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;

	assert_true(g_file_set_contents(doc, "x", 1, NULL));
	a = sdr_gui_detached_content(p7s);
	b = sdr_gui_detached_content(xml);
	assert_string_equal(a, doc);
	assert_string_equal(b, doc);
	assert_null(sdr_gui_detached_content(lone)); /* autre.pdf does not exist */
	assert_null(sdr_gui_detached_content(doc));
	assert_null(sdr_gui_detached_content(NULL));
	(void)g_remove(doc);
	(void)g_rmdir(dir);
}

/* Two files given to the verify window: which one is the signature. */
static void
test_verify_pair(void **state)
{
	assert_int_equal(sdr_gui_verify_pair("/d/offre.pdf.p7s", "/d/offre.pdf"), 0);
	assert_int_equal(sdr_gui_verify_pair("/d/offre.pdf", "/d/offre.pdf.sig"), 1);
	assert_int_equal(sdr_gui_verify_pair("/d/a.pdf", "/d/a.pdf - Signature 2.xml"), 1);
	assert_int_equal(sdr_gui_verify_pair("/d/a.p7m", "/d/b.txt"), 0);
	assert_int_equal(sdr_gui_verify_pair("/d/a.pdf", "/d/b.pdf"), -1);     /* neither */
	assert_int_equal(sdr_gui_verify_pair("/d/a.p7s", "/d/b.p7s"), -1);     /* both */
	assert_int_equal(sdr_gui_verify_pair("/d/Signature.xml", "/d/a"), -1); /* no mark */
	assert_int_equal(sdr_gui_verify_pair(NULL, "/d/a.p7s"), -1);
}

/* Dropped files: local regular files only, in order, at most max. */
static void
test_dropped_paths(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("sdr-gui-test-XXXXXX", NULL);
	g_autofree char *a = g_build_filename(dir, "délibération 1.pdf", NULL);
	g_autofree char *b = g_build_filename(dir, "b.pdf", NULL);
	g_autofree char *ua = NULL, *ub = NULL, *ud = NULL, *ux = NULL;
	GPtrArray *p;

	assert_true(g_file_set_contents(a, "x", 1, NULL));
	assert_true(g_file_set_contents(b, "x", 1, NULL));
	ua = g_filename_to_uri(a, NULL, NULL);
	ub = g_filename_to_uri(b, NULL, NULL);
	ud = g_filename_to_uri(dir, NULL, NULL);
	ux = g_strconcat(ua, ".absent", NULL);
	{
		char *uris[] = { "https://exemple.fr/a.pdf", ud, ua, ux, ub, NULL };

		p = sdr_gui_dropped_paths(uris, 10);
		assert_int_equal(p->len, 2);
		assert_string_equal(g_ptr_array_index(p, 0), a); /* %20 and UTF-8 decoded */
		assert_string_equal(g_ptr_array_index(p, 1), b);
		g_ptr_array_unref(p);
		p = sdr_gui_dropped_paths(uris, 1);
		assert_int_equal(p->len, 1);
		g_ptr_array_unref(p);
	}
	p = sdr_gui_dropped_paths(NULL, 10);
	assert_int_equal(p->len, 0);
	g_ptr_array_unref(p);
	(void)g_remove(a);
	(void)g_remove(b);
	(void)g_rmdir(dir);
}

/* The notification of a send that reached its final state (the agent's poller). */
static void
test_s2low_notice(void **state)
{
	SdrGuiS2lowSend s = { 0 };
	char *title = NULL, *body = NULL;

	s.id = 7;
	s.kind = "actes";
	s.state = "final";
	s.number = "2026_05";
	s.status_label = "accusé de réception reçu";
	s.has_status = TRUE;
	s.status = 4;
	assert_false(sdr_gui_s2low_notice(&s, &title, &body));
	assert_string_equal(title, "Acte : réponse de la préfecture");
	assert_string_equal(body, "Acte \u20682026_05\u2069, envoi 7 : accusé de réception reçu.");
	g_free(title);
	g_free(body);

	/* Refused by the Treasury (-1), with S²LOW's message, escapes neutralised. */
	s.kind = "pes";
	s.status = -1;
	s.status_label = "erreur";
	s.message = "NomFic\x1b[31m existe déjà";
	assert_true(sdr_gui_s2low_notice(&s, &title, &body));
	assert_string_equal(title, "PES : réponse de la Trésorerie");
	assert_non_null(strstr(body, "PES, envoi 7"));
	assert_non_null(strstr(body, "existe déjà"));
	assert_null(strchr(body, '\x1b'));
	g_free(title);
	g_free(body);

	s.state = "failed";
	assert_true(sdr_gui_s2low_notice(&s, &title, &body));
	assert_string_equal(title, "Envoi refusé par S²LOW");
	g_free(title);
	g_free(body);
	s.state = "to_reconcile";
	s.message = NULL;
	assert_false(sdr_gui_s2low_notice(&s, &title, &body));
	assert_string_equal(body, "PES, envoi 7 : déjà reçu par S²LOW, à rapprocher (voir "
	                          "« sinadur status »).");
	g_free(title);
	g_free(body);
}

/* The stamp as shown -> the request's user-space rect, for each rotation, with a crop
 * box that does not start at 0 0 (crop 50 100 550 700: 500 x 600 unrotated). */
/* The batch's results list and progress, in French. */
static void
test_sign_results(void **state)
{
	SdrGuiSignResult ok = { "a.pdf", "ok", "/tmp/lot/a.pdf.p7s", NULL, NULL };
	SdrGuiSignResult skipped = { "b.pdf", "skipped", "/tmp/lot/b.pdf.p7s", NULL, NULL };
	SdrGuiSignResult not_reached = { "c.pdf", "not_signed", NULL, NULL, NULL };
	SdrGuiSignResult bad = { "d.xml", "error", NULL, "SDR_ERROR_PARSE",
		                 "XML mal formé\u202e ligne 3" };
	SdrGuiSignResult io = { "e.pdf", "error", NULL, "SDR_ERROR_IO", NULL };
	g_autofree char *l1 = sdr_gui_sign_result_line(&ok, NULL);
	g_autofree char *l2 = sdr_gui_sign_result_line(&skipped, NULL);
	g_autofree char *l3 = sdr_gui_sign_result_line(&not_reached, "SDR_ERROR_CANCELLED");
	g_autofree char *l4 = sdr_gui_sign_result_line(&not_reached, "SDR_ERROR_CARD_REMOVED");
	g_autofree char *l5 = sdr_gui_sign_result_line(&bad, NULL);
	g_autofree char *l6 = sdr_gui_sign_result_line(&io, NULL);
	g_autofree char *s1 = sdr_gui_sign_summary(12, 0, 0, 28, "SDR_ERROR_CANCELLED");
	g_autofree char *s2 = sdr_gui_sign_summary(1, 1, 1, 0, NULL);
	g_autofree char *s3 = sdr_gui_sign_summary(3, 0, 0, 2, "SDR_ERROR_CARD_REMOVED");
	g_autofree char *p1 = sdr_gui_progress_text(12, 40);
	g_autofree char *p2 = sdr_gui_progress_text(1, 40);

	(void)state;
	assert_string_equal(l1, "✔ a.pdf : signé (\u2068a.pdf.p7s\u2069)");
	assert_string_equal(l2, "• b.pdf : déjà signé (\u2068b.pdf.p7s\u2069), laissé tel quel");
	assert_string_equal(l3, "✘ c.pdf : non signé — vous avez annulé la signature avant ce "
	                        "document");
	assert_string_equal(l4, "✘ c.pdf : non signé — la clé a été retirée avant ce document");
	/* The core's message follows the plain words, sanitised (no bidi override). */
	assert_non_null(strstr(l5, "✘ d.xml : le document n’a pas la forme attendue — XML mal"));
	assert_null(strstr(l5, "\u202e"));
	assert_string_equal(l6, "✘ e.pdf : le fichier ne peut pas être lu ou écrit");
	assert_string_equal(s1, "12 documents signés sur 40. Signature annulée : 28 documents "
	                        "n’ont pas été signés (ceux qui l’ont été sont complets).");
	assert_string_equal(s2, "1 document signé sur 3. 1 l’était déjà. 1 n’a pas pu être signé.");
	assert_string_equal(s3, "3 documents signés sur 5. La signature s’est arrêtée : 2 "
	                        "documents n’ont pas été signés.");
	assert_string_equal(p1, "12 documents signés sur 40");
	assert_string_equal(p2, "1 document signé sur 40");
	assert_true(sdr_gui_progress_fraction(12, 40) == 0.3);
	assert_true(sdr_gui_progress_fraction(0, 0) == 0.0);
	assert_true(sdr_gui_progress_fraction(50, 40) == 1.0);
}

static void
test_stamp_geometry(void **state)
{
	SdrGuiPage upright = { 500, 600, 50, 100, 0 }, r90 = { 600, 500, 50, 100, 90 },
	           r180 = { 500, 600, 50, 100, 180 }, r270 = { 600, 500, 50, 100, 270 };
	double shown[4] = { 10, 20, 200, 60 }, u[4];
	double big[4] = { 450, -30, 900, 5 };
	g_autofree char *desc = NULL;

	(void)state;
	sdr_gui_stamp_to_user(&upright, shown, u);
	assert_true(u[0] == 60 && u[1] == 120 && u[2] == 200 && u[3] == 60);
	/* Turned a quarter clockwise: the shown lower-left corner is the unrotated
	 * page's lower right; the width runs up the unrotated page. */
	sdr_gui_stamp_to_user(&r90, shown, u);
	assert_true(u[0] == 50 + 500 - 20 - 60 && u[1] == 100 + 10 && u[2] == 60 && u[3] == 200);
	sdr_gui_stamp_to_user(&r180, shown, u);
	assert_true(u[0] == 50 + 500 - 10 - 200 && u[1] == 100 + 600 - 20 - 60 && u[2] == 200 &&
	            u[3] == 60);
	sdr_gui_stamp_to_user(&r270, shown, u);
	assert_true(u[0] == 50 + 20 && u[1] == 100 + 600 - 10 - 200 && u[2] == 60 && u[3] == 200);
	/* The rotation found back from where poppler shows a probe rectangle (numbers
	 * poppler-glib 22.12 gives for the rectangle 10 20 30 60 of such pages). */
	{
		double shown_probe[4] = { 10, 20, 30, 60 };
		double un0[4] = { 10, 20, 30, 60 }, un90[4] = { 440, 10, 480, 30 },
		       un180[4] = { 470, 540, 490, 580 }, un270[4] = { 20, 570, 60, 590 };

		assert_int_equal(sdr_gui_rotation_fit(500, 600, un0, shown_probe), 0);
		assert_int_equal(sdr_gui_rotation_fit(600, 500, un90, shown_probe), 90);
		assert_int_equal(sdr_gui_rotation_fit(500, 600, un180, shown_probe), 180);
		assert_int_equal(sdr_gui_rotation_fit(600, 500, un270, shown_probe), 270);
		assert_int_equal(sdr_gui_rotation_fit(600, 500, un0, un90), -1);
	}
	/* Kept on the page and at least the minimum size. */
	sdr_gui_stamp_clamp(&upright, big);
	assert_true(big[2] == 500 && big[3] == SDR_GUI_STAMP_MIN_H && big[0] == 0 && big[1] == 0);
	desc = sdr_gui_stamp_description(shown, 2, 3);
	assert_non_null(strstr(desc, "page 2 sur 3"));
	assert_non_null(strstr(desc, "10 points du bord gauche"));
	assert_non_null(strstr(desc, "20 points du bas"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_validity_text),
		cmocka_unit_test(test_pin_text),
		cmocka_unit_test(test_warn_days),
		cmocka_unit_test(test_expiry_memory),
		cmocka_unit_test(test_tray),
		cmocka_unit_test(test_origin_and_text),
		cmocka_unit_test(test_detached_content),
		cmocka_unit_test(test_pin_rejected_and_hint),
		cmocka_unit_test(test_choice_days_left),
		cmocka_unit_test(test_s2low_notice),
		cmocka_unit_test(test_verify_pair),
		cmocka_unit_test(test_dropped_paths),
		cmocka_unit_test(test_stamp_geometry),
		cmocka_unit_test(test_sign_results),
	};

	g_unsetenv("LC_ALL");
	g_unsetenv("LC_MESSAGES");
	g_setenv("LANG", "fr_FR.UTF-8", TRUE);
	sdr_i18n_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
