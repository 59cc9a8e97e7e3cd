/* test-sanitize.c - the display sanitiser and the media type grammar
 * (common/sdr-sanitize.c): each class of dangerous code point, the cap, and
 * French text left untouched. */
#include "sdr-sanitize.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void
expect(const char *in, gsize max, const char *want)
{
	g_autofree char *out = sdr_sanitize_for_display(in, max);

	if (g_strcmp0(out, want) != 0)
		fail_msg("sanitize(%s, %zu) = \"%s\", want \"%s\"", in, max, out, want);
	assert_true(g_utf8_validate(out, -1, NULL));
}

static void
test_french_untouched(void **state)
{
	const char *fr[] = {
		"Délibération n° 2026-14 « budget primitif » — version définitive.pdf",
		"Bon pour accord, l’élu·e de Saint-Étienne-du-Rouvray",
		"ŒUVRE çà et là, naïveté, île, où, Noël, 1\xe2\x80\xaf"
		"000\xc2\xa0"
		"€",
		"Mairie de Plœmeur (Morbihan) — marché n°12/2026 [lot 3] {ok} 50 % & +",
		"",
	};

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(fr); i++) {
		expect(fr[i], 0, fr[i]);
		expect(fr[i], 500, fr[i]);
		assert_true(sdr_sanitize_is_clean(fr[i]));
	}
	expect(NULL, 10, "");
	assert_false(sdr_sanitize_is_clean(NULL));
}

static void
test_c0_del_c1(void **state)
{
	(void)state;
	expect("a\nThe site https://impots.gouv.fr asks", 0,
	       "a<U+000A>The site https://impots.gouv.fr asks");
	expect("x\r\ty", 0, "x<U+000D><U+0009>y");
	expect("\x1b[2J\x1b]0;title\x07", 0, "<U+001B>[2J<U+001B>]0;title<U+0007>");
	expect("del\x7f", 0, "del<U+007F>");
	expect("c1 \xc2\x85\xc2\x9b"
	       "2J \xc2\x9d",
	       0, "c1 <U+0085><U+009B>2J <U+009D>");
	assert_false(sdr_sanitize_is_clean("a\nb"));
	assert_false(sdr_sanitize_is_clean("\xc2\x9b"));
	assert_false(sdr_sanitize_is_clean("\x7f"));
}

static void
test_embedded_nul(void **state)
{
	g_autofree char *out = sdr_sanitize_for_display_full("a\0b", 3, 0, SDR_SANITIZE_DEFAULT);

	(void)state;
	assert_string_equal(out, "a<U+0000>b");
}

static void
test_bidi(void **state)
{
	static const gunichar bidi[] = { 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066,
		                         0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C };

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(bidi); i++) {
		char buf[8] = { 0 };
		g_autofree char *in = NULL, *want = NULL;

		g_unichar_to_utf8(bidi[i], buf);
		in = g_strdup_printf("facture%sfdp.exe", buf);
		want = g_strdup_printf("facture<U+%04X>fdp.exe", (unsigned int)bidi[i]);
		expect(in, 0, want);
		assert_false(sdr_sanitize_is_clean(in));
		assert_true(sdr_sanitize_unichar_is_unsafe(bidi[i]));
	}
}

static void
test_separators_format_bom(void **state)
{
	(void)state;
	expect("a\xe2\x80\xa8"
	       "b\xe2\x80\xa9"
	       "c",
	       0, "a<U+2028>b<U+2029>c");
	/* zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen */
	expect("p\xe2\x80\x8b"
	       "a\xe2\x80\x8c"
	       "y\xe2\x80\x8d"
	       "p\xe2\x81\xa0"
	       "a\xef\xbb\xbf"
	       "l\xc2\xad",
	       0, "p<U+200B>a<U+200C>y<U+200D>p<U+2060>a<U+FEFF>l<U+00AD>");
	expect("\xef\xbb\xbfnom.pdf", 0, "<U+FEFF>nom.pdf");
	/* a tag character (plane 14, Cf) and the interlinear annotation anchor */
	expect("x\xf3\xa0\x80\x81y\xef\xbf\xb9", 0, "x<U+E0001>y<U+FFF9>");
	/* invisible fillers that pass for letters */
	expect("\xe3\x85\xa4", 0, "<U+3164>");
	/* every Cf code point of the BMP is escaped */
	for (gunichar c = 0x80; c < 0x10000; c++) {
		if (g_unichar_type(c) == G_UNICODE_FORMAT)
			assert_true(sdr_sanitize_unichar_is_unsafe(c));
	}
}

static void
test_noncharacters_invalid(void **state)
{
	(void)state;
	expect("\xef\xb7\x90|\xef\xbf\xbe|\xef\xbf\xbf|\xf4\x8f\xbf\xbf", 0,
	       "<U+FDD0>|<U+FFFE>|<U+FFFF>|<U+10FFFF>");
	assert_true(sdr_sanitize_unichar_is_unsafe(0x1FFFE));
	assert_true(sdr_sanitize_unichar_is_unsafe(0x110000));
	/* invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate */
	expect("a\x80"
	       "b",
	       0,
	       "a\xef\xbf\xbd"
	       "b");
	expect("a\xc3", 0, "a\xef\xbf\xbd");
	expect("\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd");
	expect("\xed\xa0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_false(sdr_sanitize_is_clean("a\x80"));
	/* U+FFFD itself is fine to show */
	assert_true(sdr_sanitize_is_clean("\xef\xbf\xbd"));
}

static void
test_cap(void **state)
{
	(void)state;
	expect("abcdef", 6, "abcdef");
	expect("abcdefg", 6, "abcde…");
	expect("éèàùçô", 4, "éèà…");
	expect("éèàù", 4, "éèàù");
	expect("a", 1, "a");
	expect("ab", 1, "…");
	/* an escape is never cut in the middle */
	expect("ab\x1b"
	       "cd",
	       6, "ab…");
	expect("ab\x1b", 10, "ab<U+001B>");
	expect("ab\x1b"
	       "c",
	       11, "ab<U+001B>c");
	expect("ab\x1b"
	       "c",
	       10, "ab…");
	expect("ab\x1b"
	       "cd",
	       11, "ab<U+001B>…");
	{
		g_autofree char *big = g_strnfill(100000, 'x');
		g_autofree char *out = sdr_sanitize_for_display(big, 80);

		assert_int_equal(g_utf8_strlen(out, -1), 80);
		assert_true(g_str_has_suffix(out, "…"));
	}
}

static void
test_keep_newlines(void **state)
{
	g_autofree char *out =
	        sdr_sanitize_for_display_full("l1\nl2\r\n\x1b", -1, 0, SDR_SANITIZE_KEEP_NEWLINES);

	(void)state;
	assert_string_equal(out, "l1\nl2<U+000D>\n<U+001B>");
}

static void
test_media_type(void **state)
{
	const char *good[] = { "application/pdf",
		               "text/xml",
		               "application/octet-stream",
		               "application/vnd.oasis.opendocument.text",
		               "image/svg+xml",
		               "text/plain; charset=utf-8",
		               "text/plain;charset=\"UTF-8\"",
		               "application/x-pkcs7-signature",
		               "multipart/mixed; boundary=a-b_c" };
	const char *bad[] = { "",
		              "pdf",
		              "/pdf",
		              "application/",
		              "application/pdf/x",
		              "application/pdf\nThe site https://impots.gouv.fr asks",
		              "text/xml\x1b[2J",
		              "text/ xml",
		              "text/xml;",
		              "text/xml; a",
		              "text/xml; a=\"b",
		              "text/xml; a=b c",
		              "-x/y",
		              "t\xc3\xa9xt/xml",
		              "text/xml; a=\"\x1b\"",
		              "application/pdf\xe2\x80\xae" };
	g_autofree char *long_sub = NULL;

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
		if (!sdr_sanitize_is_media_type(good[i]))
			fail_msg("refused %s", good[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
		if (sdr_sanitize_is_media_type(bad[i]))
			fail_msg("accepted %s", bad[i]);
	assert_false(sdr_sanitize_is_media_type(NULL));
	{
		g_autofree char *a128 = g_strnfill(128, 'a');

		long_sub = g_strconcat("application/", a128, NULL);
	}
	assert_false(sdr_sanitize_is_media_type(long_sub));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_french_untouched),
		cmocka_unit_test(test_c0_del_c1),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_separators_format_bom),
		cmocka_unit_test(test_noncharacters_invalid),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_keep_newlines),
		cmocka_unit_test(test_media_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
