/* test-atr.c - the ATR table: exact entries, masked families, lengths, bad input. */
#include "sdr-token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Parses "3B DB 96 ..." into bytes; returns the length. */
static gsize
hex(const char *s, guint8 *out, gsize cap)
{
	gsize n = 0;

	while (*s != '\0' && n < cap) {
		out[n++] = (guint8)strtoul(s, NULL, 16);
		s += 2;
		while (*s == ' ')
			s++;
	}
	return n;
}

static void
expect(const char *atr_hex, const char *name_part, const char *module_part)
{
	guint8 atr[40];
	gsize len = hex(atr_hex, atr, sizeof atr);
	const char *name = NULL, *module = NULL;

	assert_true(sdr_atr_lookup(atr, len, &name, &module));
	assert_non_null(name);
	assert_non_null(module);
	if (strstr(name, name_part) == NULL || strstr(module, module_part) == NULL)
		fail_msg("%s -> %s / %s, wanted %s / %s", atr_hex, name, module, name_part,
		         module_part);
}

static void
expect_unknown(const char *atr_hex)
{
	guint8 atr[40];
	gsize len = hex(atr_hex, atr, sizeof atr);
	const char *name = "untouched", *module = "untouched";

	assert_false(sdr_atr_lookup(atr, len, &name, &module));
	/* Out-parameters are set only on success. */
	assert_string_equal(name, "untouched");
	assert_string_equal(module, "untouched");
}

static void
test_chambersign(void **state)
{
	expect("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 1A 71 01 00 07 90 00 33", "ChamberSign",
	       "/usr/lib/SCMiddleware/libidop11.so");
	expect("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C1 64 08 40 22 30 0F 90 00 0A", "ChamberSign",
	       "libidop11.so");
}

static void
test_safenet(void **state)
{
	expect("3B D5 18 00 81 31 FE 7D 80 73 C8 21 10 F4", "eToken 5110", "libeTPkcs11.so");
	expect("3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 84 65 66 FB 12 01 78 82 90 00 85",
	       "eToken 5110+", "libeTPkcs11.so");
	expect("3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 85 59 56 FB 12 0F FE 82 90 00 00",
	       "5110 SC", "libIDPrimePKCS11.so");
	expect("3B 7F 96 00 00 80 31 80 65 B0 85 05 00 39 12 0F FE 82 90 00", "940C",
	       "libIDPrimePKCS11.so");
	expect("3B 7F 96 00 00 80 31 80 65 B0 85 59 56 FB 12 0F FE 82 90 00", "940B",
	       "libIDPrimePKCS11.so");
	expect("3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 85 59 56 FB 12 0F FC 82 90 00 02", "3940",
	       "libIDPrimePKCS11.so");
}

/* ".." bytes are masked: any IDPrime MD 8x0/38x0 matches its family entry. */
static void
test_masked_family(void **state)
{
	expect("3B 7F 96 00 00 80 31 80 65 B0 84 41 3D F6 12 0F FE 82 90 00", "IDPrime MD",
	       "libIDPrimePKCS11.so");
	expect("3B 7F 18 00 00 80 31 80 65 B0 01 02 03 04 12 0F FE 82 90 00", "IDPrime MD",
	       "libIDPrimePKCS11.so");
	expect("3B FF 13 00 00 81 31 FE 43 80 31 80 65 B0 AA BB CC DD 12 0F FE 82 90 00 42",
	       "IDPrime MD", "libIDPrimePKCS11.so");
	/* A fixed byte of the family differs: no match. */
	expect_unknown("3B 7F 96 00 00 80 31 80 65 B1 84 41 3D F6 12 0F FE 82 90 00");
}

static void
test_virtual_cac(void **state)
{
	expect("3B 89 00 56 43 41 52 44 5F 4E 53 53", "libcacard", "opensc-pkcs11.so");
}

static void
test_unknown_and_bad_input(void **state)
{
	guint8 long_atr[64];
	guint8 cs[22];
	gsize n = hex("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 1A 71 01 00 07 90 00 33", cs,
	              sizeof cs);

	expect_unknown("3B 02 14 50");
	/* Prefix and extension of a known ATR are different ATRs. */
	assert_false(sdr_atr_lookup(cs, n - 1, NULL, NULL));
	memset(long_atr, 0, sizeof long_atr);
	memcpy(long_atr, cs, n);
	assert_false(sdr_atr_lookup(long_atr, n + 1, NULL, NULL));
	assert_false(sdr_atr_lookup(long_atr, sizeof long_atr, NULL, NULL));
	assert_false(sdr_atr_lookup(NULL, 5, NULL, NULL));
	assert_false(sdr_atr_lookup(cs, 0, NULL, NULL));
	/* NULL out-parameters are allowed. */
	assert_true(sdr_atr_lookup(cs, n, NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chambersign),           cmocka_unit_test(test_safenet),
		cmocka_unit_test(test_masked_family),         cmocka_unit_test(test_virtual_cac),
		cmocka_unit_test(test_unknown_and_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
