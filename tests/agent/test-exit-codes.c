/* test-exit-codes.c - the man page's exit-code table is the code's mapping.
 *
 * Reads the "CODES DE RETOUR" table of docs/sinadur.1 and checks, for every
 * SDR_ERROR code, that its name appears in exactly one row and that this row is
 * sdr_error_exit_code()'s answer; that the rows are exactly 0..SDR_EXIT_MAX; and the
 * mapping of the other error domains (GIO, GFileError). Each row is also run for
 * real by test-cli-exit.sh.
 */
#include "sdr-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gio/gio.h>

/* row number -> row text (troff escapes \% removed), from the .TS/.TE block
 * after ".SH CODES DE RETOUR". */
static GHashTable *
read_table(void)
{
	const char *root = g_getenv("SINADUR_SOURCE_ROOT");
	g_autofree char *path =
	        g_build_filename(root != NULL ? root : ".", "docs", "sinadur.1", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GHashTable *rows = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	gboolean in_section = FALSE, in_table = FALSE;
	GString *cur = NULL;
	int cur_n = -1;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];
		char *end = NULL;
		gint64 n;

		if (g_str_has_prefix(l, ".SH")) {
			in_section = strstr(l, "CODES DE RETOUR") != NULL;
			continue;
		}
		if (!in_section)
			continue;
		if (g_str_has_prefix(l, ".TS")) {
			in_table = TRUE;
			continue;
		}
		if (!in_table)
			continue;
		n = g_ascii_strtoll(l, &end, 10);
		if (g_str_has_prefix(l, ".TE") || (end != l && *end == '\t')) {
			if (cur != NULL) {
				assert_false(g_hash_table_contains(rows, GINT_TO_POINTER(cur_n)));
				g_hash_table_insert(rows, GINT_TO_POINTER(cur_n),
				                    g_string_free(g_steal_pointer(&cur), FALSE));
			}
			if (g_str_has_prefix(l, ".TE"))
				break;
			cur_n = (int)n;
			cur = g_string_new(end + 1);
		} else if (cur != NULL) {
			g_string_append_c(cur, ' ');
			g_string_append(cur, l);
		}
	}
	if (cur != NULL)
		g_string_free(cur, TRUE);
	/* Drop troff's no-hyphenation marks. */
	{
		GHashTableIter it;
		gpointer v;

		g_hash_table_iter_init(&it, rows);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			char *s = v, *w = s;

			for (char *r = s; *r != '\0'; r++) {
				if (r[0] == '\\' && r[1] == '%') {
					r++;
					continue;
				}
				*w++ = *r;
			}
			*w = '\0';
		}
	}
	return rows;
}

/* name appears in text as a whole word */
static gboolean
has_word(const char *text, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = strstr(text, name); p != NULL; p = strstr(p + 1, name)) {
		char after = p[len];
		char before = p == text ? ' ' : p[-1];

		if (!g_ascii_isalnum(after) && after != '_' && !g_ascii_isalnum(before) &&
		    before != '_')
			return TRUE;
	}
	return FALSE;
}

static void
test_table_matches_mapping(void **state)
{
	g_autoptr(GHashTable) rows = read_table();

	(void)state;
	/* Rows 0..SDR_EXIT_MAX, no more, no gap. */
	assert_int_equal(g_hash_table_size(rows), SDR_EXIT_MAX + 1);
	for (int n = 0; n <= SDR_EXIT_MAX; n++)
		assert_true(g_hash_table_contains(rows, GINT_TO_POINTER(n)));

	/* Every code with a name, appended ones included (the names end where
	 * sdr_error_code_name() falls back to SDR_ERROR_FAILED). */
	assert_true(SDR_ERROR_ALREADY_SIGNED > SDR_ERROR_FAILED);
	for (int code = SDR_ERROR_FAILED;
	     code == SDR_ERROR_FAILED ||
	     !g_str_equal(sdr_error_code_name(code), "SDR_ERROR_FAILED");
	     code++) {
		g_autoptr(GError) e = g_error_new_literal(SDR_ERROR, code, "x");
		const char *name = sdr_error_code_name(code);
		int want = sdr_error_exit_code(e);
		int seen = 0;

		if (code <= SDR_ERROR_ALREADY_SIGNED)
			assert_true(code == SDR_ERROR_FAILED ||
			            !g_str_equal(name, "SDR_ERROR_FAILED"));
		for (int n = 0; n <= SDR_EXIT_MAX; n++) {
			const char *text = g_hash_table_lookup(rows, GINT_TO_POINTER(n));

			if (has_word(text, name)) {
				if (n != want)
					fail_msg("%s: the man page says %d, the code says %d", name,
					         n, want);
				seen++;
			}
		}
		if (seen != 1)
			fail_msg("%s (exit %d) is in %d rows of the man page's table", name, want,
			         seen);
	}
}

static void
test_other_domains(void **state)
{
	g_autoptr(GError) gio_nf = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "x");
	g_autoptr(GError) gio_perm =
	        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "x");
	g_autoptr(GError) file_nf = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");
	g_autoptr(GError) file_full = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_NOSPC, "x");
	g_autoptr(GError) other = g_error_new_literal(G_OPTION_ERROR, 0, "x");

	(void)state;
	assert_int_equal(sdr_error_exit_code(NULL), SDR_EXIT_OK);
	assert_int_equal(sdr_error_exit_code(gio_nf), SDR_EXIT_NOT_FOUND);
	assert_int_equal(sdr_error_exit_code(gio_perm), SDR_EXIT_FILES);
	assert_int_equal(sdr_error_exit_code(file_nf), SDR_EXIT_NOT_FOUND);
	assert_int_equal(sdr_error_exit_code(file_full), SDR_EXIT_FILES);
	assert_int_equal(sdr_error_exit_code(other), SDR_EXIT_FAILED);
}

/* Raw library detail leaves the human message; common causes are translated
 * (English messages here: LANG is C in this test). */
static void
test_split_detail(void **state)
{
	static const struct {
		const char *in, *human, *detail;
	} cases[] = {
		{ "The token refused the data to sign. (C_Sign: 0x00000032)",
		  "The token refused the data to sign.", "C_Sign: 0x00000032" },
		{ "Signing with the key failed (error:1C800064:Provider routines::bad decrypt)",
		  "Signing with the key failed: wrong password",
		  "error:1C800064:Provider routines::bad decrypt" },
		{ "Le fichier PDF est endommagé : can't find startxref",
		  "Le fichier PDF est endommagé: the table of objects is missing or damaged",
		  "can't find startxref" },
		{ "http://127.0.0.1:9/ est injoignable\u00a0: Could not connect to server",
		  "http://127.0.0.1:9/ est injoignable: the server cannot be reached",
		  "Could not connect to server" },
		{ "Le certificat de Jean (Mairie) a expiré.",
		  "Le certificat de Jean (Mairie) a expiré.", NULL },
		{ "The PDF file is damaged: xref not found",
		  "The PDF file is damaged: xref not found", NULL },
		{ "Cannot read /tmp/x: No such file", "Cannot read /tmp/x: No such file", NULL },
		/* a translated message whose end happens to be ASCII is left alone */
		{ "sign\u00a0: --key et --cert-file vont ensemble.",
		  "sign\u00a0: --key et --cert-file vont ensemble.", NULL },
	};

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *detail = NULL;
		g_autofree char *human = sdr_error_split_detail(cases[i].in, &detail);

		assert_string_equal(human, cases[i].human);
		if (cases[i].detail == NULL)
			assert_null(detail);
		else
			assert_string_equal(detail, cases[i].detail);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_mapping),
		cmocka_unit_test(test_other_domains),
		cmocka_unit_test(test_split_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
