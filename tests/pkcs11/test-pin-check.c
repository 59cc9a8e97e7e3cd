/* test-pin-check.c - the one check every PIN passes before C_Login
 * (sdr_token_pin_check) and the length hint shown by prompts. No token needed. */
#include "sdr-error.h"
#include "sdr-token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static gboolean
check(const char *pin, gsize len, gulong min_len, gulong max_len, GError **error)
{
	g_autoptr(SdrSecret) s = sdr_secret_new_from_data(pin, len);

	assert_non_null(s);
	return sdr_token_pin_check(s, min_len, max_len, error);
}

static void
refused(const char *pin, gsize len, gulong min_len, gulong max_len, const char *why)
{
	g_autoptr(GError) error = NULL;

	assert_false(check(pin, len, min_len, max_len, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
	if (strstr(error->message, why) == NULL)
		fail_msg("“%s” lacks “%s”", error->message, why);
	/* Whatever the reason: the person learns that no try was used. */
	assert_non_null(strstr(error->message, "no try was used"));
}

static void
test_accepted(void **unused)
{
	g_autoptr(GError) error = NULL;

	assert_true(check("1234", 4, 4, 8, &error));
	assert_true(check("12345678", 8, 4, 8, &error));
	assert_true(check("1", 1, 0, 0, &error)); /* no bound reported */
	assert_true(check("12 34", 5, 4, 8, &error));
	assert_true(check("\xc3\xa9t\xc3\xa9", 5, 4, 8, &error)); /* UTF-8 bytes */
	assert_null(error);
}

static void
test_refused(void **unused)
{
	refused("", 0, 0, 0, "No PIN");
	refused("", 0, 4, 8, "No PIN");
	refused("    ", 4, 4, 8, "only spaces");
	refused(" \t ", 3, 0, 0, "only spaces");
	refused("123", 3, 4, 8, "too short");
	refused("123456789", 9, 4, 8, "too long");
	refused("123456789", 9, 0, 8, "too long");
	refused("12\0"
	        "34",
	        5, 4, 8, "control character");
	refused("1234\n", 5, 4, 8, "control character");
	refused("1234\r", 5, 4, 8, "control character");
	refused("12\x7f"
	        "4",
	        4, 4, 8, "control character");
	refused("123", 3, 4, 8, "4 to 8 characters");
	refused("123", 3, 4, 0, "at least 4 characters");
	refused("123456789", 9, 0, 8, "at most 8 characters");
	refused("123", 3, 6, 6, "exactly 6 characters");
}

static void
test_hint(void **unused)
{
	g_autofree char *none = sdr_token_pin_length_hint(0, 0);
	g_autofree char *both = sdr_token_pin_length_hint(4, 8);

	assert_null(none);
	assert_string_equal(both, "4 to 8 characters");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_hint),
	};

	/* The messages are checked in English (the msgids). */
	g_setenv("LANGUAGE", "C", TRUE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
