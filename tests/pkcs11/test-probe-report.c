/* test-probe-report.c - the probe report format (pkcs11/sdr-probe-report.c): what
 * the parser accepts, what it refuses, and that the writer's output of any report
 * (bad UTF-8, control characters, too long) is accepted. */
#include "sdr-error.h"
#include "sdr-probe-report.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define HEAD "sinadur-p11-probe 1\n"
#define GOOD_TAIL "manufacturer x\ndescription y\ndetail \nend\n"
#define GOOD HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\n" GOOD_TAIL

static gboolean
parses(const char *text, SdrProbeReport *out)
{
	GError *error = NULL;
	SdrProbeReport local;
	gboolean ok = sdr_probe_report_parse(text, strlen(text), out ? out : &local, &error);

	if (!ok) {
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PARSE));
		g_error_free(error);
	}
	return ok;
}

static void
test_accepts(void **unused)
{
	SdrProbeReport r;

	assert_true(parses(GOOD, &r));
	assert_int_equal(r.stage, SDR_PROBE_OK);
	assert_int_equal(r.slots, 1);
	assert_int_equal(r.cryptoki_major, 2);
	assert_int_equal(r.cryptoki_minor, 40);
	assert_string_equal(r.manufacturer, "x");
	assert_string_equal(r.detail, "");

	assert_true(parses(HEAD "stage initialize\nrv 0x1000000000000005\ncryptoki 0.0\n"
	                        "slots 100000\nmanufacturer Soci%C3%A9t%C3%A9 %25\n"
	                        "description  a b \ndetail x: y\nend\n",
	                   &r));
	assert_int_equal(r.stage, SDR_PROBE_INITIALIZE);
	assert_true(r.rv == G_GUINT64_CONSTANT(0x1000000000000005));
	assert_int_equal(r.slots, 100000);
	assert_string_equal(r.manufacturer, "Société %");
	assert_string_equal(r.description, " a b ");
	assert_string_equal(r.detail, "x: y");
}

static void
test_refuses(void **unused)
{
	static const char *const bad[] = {
		"",
		"end\n",
		GOOD "x",     /* trailing bytes */
		GOOD "end\n", /* a line twice */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer x\n"
		     "description y\ndetail \nend", /* no last newline */
		"sinadur-p11-probe 2\nstage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage fine\nrv 0x00000000\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok \nrv 0x00000000\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "rv 0x00000000\nstage ok\ncryptoki 2.40\nslots 1\n" GOOD_TAIL, /* order */
		HEAD "stage ok\nrv 0x5\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x000000005\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x0000000A\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x10000000000000000\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.256\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 02.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 01\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 100001\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots -1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots \n" GOOD_TAIL,
		HEAD "stage ok\r\nrv 0x00000000\ncryptoki 2.40\nslots 1\n" GOOD_TAIL,
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer %41\n"
		     "description y\ndetail \nend\n", /* escape of a plain byte */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer %c3%a9\n"
		     "description y\ndetail \nend\n", /* lower-case escape */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer a\tb\n"
		     "description y\ndetail \nend\n", /* raw tab */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer a%09b\n"
		     "description y\ndetail \nend\n", /* decoded control */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer %C2%85\n"
		     "description y\ndetail \nend\n", /* decoded C1 control */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer %FF\n"
		     "description y\ndetail \nend\n", /* not UTF-8 */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer %C3\n"
		     "description y\ndetail \nend\n", /* cut UTF-8 */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer %2\n"
		     "description y\ndetail \nend\n", /* cut escape */
		HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\nmanufacturer x\n"
		     "description y\ndetail\nend\n", /* no space after the key */
	};
	SdrProbeReport r;
	g_autofree char *name65 = NULL;
	g_autofree char *too_long = NULL;
	g_autoptr(GString) big = g_string_new(HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\n"
	                                           "slots 1\nmanufacturer x\ndescription y\n"
	                                           "detail ");
	GError *error = NULL;
	char nul[] = GOOD;

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		if (parses(bad[i], NULL))
			fail_msg("accepted case %zu: %s", i, bad[i]);
	}
	/* Size limits: a name of 65 bytes, a detail of 513, a report over 4096. */
	name65 = g_strnfill(SDR_PROBE_NAME_MAX + 1, 'n');
	too_long = g_strdup_printf(HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\n"
	                                "manufacturer %s\ndescription y\ndetail \nend\n",
	                           name65);
	assert_false(parses(too_long, NULL));
	name65[SDR_PROBE_NAME_MAX] = '\0';
	g_free(too_long);
	too_long = g_strdup_printf(HEAD "stage ok\nrv 0x00000000\ncryptoki 2.40\nslots 1\n"
	                                "manufacturer %s\ndescription y\ndetail \nend\n",
	                           name65);
	assert_true(parses(too_long, &r));
	for (int i = 0; i < SDR_PROBE_DETAIL_MAX + 1; i++)
		g_string_append_c(big, 'd');
	g_string_append(big, "\nend\n");
	assert_false(parses(big->str, NULL));
	/* 1400 escapes decode to 1400 bytes > 512 but the text is also > 4096. */
	g_string_truncate(big, 0);
	g_string_append(big, GOOD);
	while (big->len <= SDR_PROBE_REPORT_MAX)
		g_string_append_c(big, '\n');
	assert_false(sdr_probe_report_parse(big->str, big->len, &r, &error));
	assert_non_null(strstr(error->message, "4096"));
	g_clear_error(&error);
	/* A NUL byte inside. */
	nul[strlen(HEAD) + 6] = '\0';
	assert_false(sdr_probe_report_parse(nul, sizeof nul - 1, &r, &error));
	g_clear_error(&error);
}

/* Whatever a module says of itself, the writer's report is accepted and canonical. */
static void
test_writer(void **unused)
{
	SdrProbeReport in, out;
	g_autofree char *text = NULL;
	g_autofree char *again = NULL;

	memset(&in, 0, sizeof in);
	in.stage = SDR_PROBE_DLOPEN;
	in.rv = 0xdeadbeef;
	in.cryptoki_major = 300; /* clamped */
	in.slots = 1u << 30;     /* clamped */
	g_strlcpy(in.manufacturer, "Caf\xc3\xa9\x01\xff%\x7f\xc2\x85z", sizeof in.manufacturer);
	/* A full description (no NUL) whose last character does not fit: cut before. */
	memset(in.description, 'm', SDR_PROBE_NAME_MAX - 1);
	memcpy(in.description + SDR_PROBE_NAME_MAX - 1, "\xc3\xa9", 2);
	memset(in.detail, 'e', SDR_PROBE_DETAIL_MAX - 1);
	in.detail[SDR_PROBE_DETAIL_MAX - 1] = '\x01';
	text = sdr_probe_report_format(&in);
	assert_true(sdr_probe_report_parse(text, strlen(text), &out, NULL));
	assert_int_equal(out.stage, SDR_PROBE_DLOPEN);
	assert_true(out.rv == 0xdeadbeef);
	assert_int_equal(out.cryptoki_major, 255);
	assert_int_equal(out.slots, SDR_PROBE_SLOTS_MAX);
	assert_string_equal(out.manufacturer, "Café??%??z");
	assert_int_equal(strlen(out.description), SDR_PROBE_NAME_MAX - 1);
	assert_int_equal(strlen(out.detail), SDR_PROBE_DETAIL_MAX);
	assert_int_equal(out.detail[SDR_PROBE_DETAIL_MAX - 1], '?');
	again = sdr_probe_report_format(&out);
	assert_string_equal(again, text);
	for (int s = 0; s < SDR_PROBE_N_STAGES; s++) {
		g_autofree char *t = NULL;

		in.stage = (SdrProbeStage)s;
		t = sdr_probe_report_format(&in);
		assert_true(sdr_probe_report_parse(t, strlen(t), &out, NULL));
		assert_int_equal(out.stage, s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
