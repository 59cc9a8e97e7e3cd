/* test-common.c - unit tests of common/: errors, secret buffer, atomic files,
 * time helpers, configuration layers, ECDSA conversions. */
#include "sdr-config.h"
#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-secret.h"
#include "sdr-time.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char *
make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("sdr-common-XXXXXX", &error);

	assert_non_null(dir);
	return dir;
}

static void
rm_rf(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(dir, name, NULL);

		g_unlink(p);
	}
	g_rmdir(dir);
}

static guint
count_entries(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	guint n = 0;

	while (d != NULL && g_dir_read_name(d) != NULL)
		n++;
	return n;
}

static void
test_error_names(void **state)
{
	g_autoptr(GError) e = g_error_new(SDR_ERROR, SDR_ERROR_PIN_LOCKED, "x");

	assert_string_equal(sdr_error_code_name(SDR_ERROR_PIN_LOCKED), "SDR_ERROR_PIN_LOCKED");
	assert_string_equal(sdr_error_code_name(SDR_ERROR_ALREADY_SIGNED),
	                    "SDR_ERROR_ALREADY_SIGNED");
	assert_string_equal(sdr_error_code_name(0), "SDR_ERROR_FAILED");
	assert_string_equal(sdr_error_code_name(100000), "SDR_ERROR_FAILED");
	assert_int_equal(sdr_error_exit_code(NULL), 0);
	assert_int_equal(sdr_error_exit_code(e), 4);
	/* Every code of the enum has its own name. */
	for (int c = SDR_ERROR_FAILED; c <= SDR_ERROR_ALREADY_SIGNED; c++) {
		const char *n = sdr_error_code_name(c);

		assert_true(g_str_has_prefix(n, "SDR_ERROR_"));
		if (c != SDR_ERROR_FAILED)
			assert_string_not_equal(n, "SDR_ERROR_FAILED");
	}
}

static void
test_secret(void **state)
{
	g_autoptr(SdrSecret) s = sdr_secret_new();
	g_autoptr(SdrSecret) big = NULL;
	char buf[SDR_SECRET_MAX + 2];

	assert_int_equal(sdr_secret_len(s), 0);
	assert_string_equal(sdr_secret_get(s), "");
	assert_true(sdr_secret_append_byte(s, '1'));
	assert_true(sdr_secret_append_byte(s, '2'));
	assert_true(sdr_secret_append_byte(s, '9'));
	sdr_secret_pop(s);
	assert_string_equal(sdr_secret_get(s), "12");
	assert_int_equal(sdr_secret_len(s), 2);
	memset(buf, 'x', sizeof buf);
	assert_null(sdr_secret_new_from_data(buf, SDR_SECRET_MAX + 1));
	big = sdr_secret_new_from_data(buf, SDR_SECRET_MAX);
	assert_non_null(big);
	assert_false(sdr_secret_append_byte(big, 'y'));
	assert_int_equal(sdr_secret_len(big), SDR_SECRET_MAX);
	sdr_secret_clear(&big);
	assert_null(big);
	sdr_secret_free(NULL);
}

static void
test_secret_read_fd(void **state)
{
	int p[2];
	g_autoptr(SdrSecret) s = NULL;
	g_autoptr(GError) error = NULL;
	char many[SDR_SECRET_MAX + 10];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "1234\r\nrest", 10), 10);
	close(p[1]);
	s = sdr_secret_read_fd(p[0], &error);
	close(p[0]);
	assert_non_null(s);
	assert_string_equal(sdr_secret_get(s), "1234");
	sdr_secret_clear(&s);

	assert_int_equal(pipe(p), 0);
	memset(many, '7', sizeof many);
	assert_int_equal(write(p[1], many, sizeof many), (ssize_t)sizeof many);
	close(p[1]);
	s = sdr_secret_read_fd(p[0], &error);
	close(p[0]);
	assert_null(s);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));
	g_clear_error(&error);

	s = sdr_secret_read_fd(-1, &error);
	assert_null(s);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_IO));
}

static void
test_atomic_file(void **state)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *path = g_build_filename(dir, "out.bin", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	gsize len;
	struct stat st;

	assert_true(sdr_file_write_atomic(path, "hello", 5, &error));
	assert_true(g_file_get_contents(path, &data, &len, NULL));
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	g_clear_pointer(&data, g_free);
	assert_int_equal(count_entries(dir), 1);

	/* An existing file keeps its mode. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_true(sdr_file_write_atomic(path, "bye", 3, &error));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Aborted: destination untouched, no temporary file left. */
	{
		g_autoptr(SdrAtomicFile) f = sdr_atomic_file_new(path, &error);

		assert_non_null(f);
		assert_true(sdr_atomic_file_write(f, "partial", 7, &error));
		assert_int_equal(count_entries(dir), 2);
	}
	assert_int_equal(count_entries(dir), 1);
	assert_true(g_file_get_contents(path, &data, &len, NULL));
	assert_memory_equal(data, "bye", 3);

	/* Folder that does not exist. */
	{
		g_autofree char *bad = g_build_filename(dir, "nope", "x", NULL);

		assert_false(sdr_file_write_atomic(bad, "x", 1, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_IO));
		g_clear_error(&error);
	}
	rm_rf(dir);
}

static void
test_file_read(void **state)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *path = g_build_filename(dir, "in.txt", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) b = NULL;

	assert_true(g_file_set_contents(path, "0123456789", 10, NULL));
	b = sdr_file_read(path, 10, &error);
	assert_non_null(b);
	assert_int_equal(g_bytes_get_size(b), 10);
	g_clear_pointer(&b, g_bytes_unref);
	b = sdr_file_read(path, 9, &error);
	assert_null(b);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_TOO_LARGE));
	g_clear_error(&error);
	b = sdr_file_read(dir, 100, &error);
	assert_null(b);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_IO));
	g_clear_error(&error);
	g_unlink(path);
	b = sdr_file_read(path, 100, &error);
	assert_null(b);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NOT_FOUND));
	rm_rf(dir);
}

static void
test_time(void **state)
{
	ASN1_TIME *a = ASN1_TIME_new();
	g_autoptr(GDateTime) t = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 22, 12, 0, 0);
	g_autoptr(GDateTime) parsed = NULL;
	g_autofree char *iso = NULL;

	assert_true(ASN1_TIME_set_string(a, "291121021752Z"));
	t = sdr_time_from_asn1(a);
	assert_non_null(t);
	iso = sdr_time_to_iso8601(t);
	assert_string_equal(iso, "2029-11-21T02:17:52Z");
	/* 2026-11-22 12:00 -> 2029-11-21 02:17:52 = 1094 whole days */
	assert_int_equal(sdr_time_days_until(t, now), 1094);
	{
		g_autoptr(GDateTime) past = g_date_time_new_utc(2026, 11, 21, 12, 0, 0);
		g_autoptr(GDateTime) hours = g_date_time_new_utc(2026, 11, 22, 18, 0, 0);

		assert_int_equal(sdr_time_days_until(past, now), -1);
		assert_int_equal(sdr_time_days_until(hours, now), 0);
	}
	assert_true(ASN1_TIME_set_string(a, "20500101000000Z"));
	g_clear_pointer(&t, g_date_time_unref);
	t = sdr_time_from_asn1(a);
	assert_int_equal(g_date_time_get_year(t), 2050);
	ASN1_TIME_free(a);
	assert_null(sdr_time_from_asn1(NULL));

	parsed = sdr_time_parse_iso8601("2026-03-01T10:00:00+01:00");
	g_clear_pointer(&iso, g_free);
	iso = sdr_time_to_iso8601(parsed);
	assert_string_equal(iso, "2026-03-01T09:00:00Z");
	g_clear_pointer(&parsed, g_date_time_unref);
	parsed = sdr_time_parse_iso8601("2026-03-01");
	assert_non_null(parsed);
	assert_int_equal(g_date_time_get_hour(parsed), 0);
	g_clear_pointer(&parsed, g_date_time_unref);
	assert_null(sdr_time_parse_iso8601("hier"));
	assert_null(sdr_time_parse_iso8601(NULL));
}

static void
test_config_layers(void **state)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *defaults = g_build_filename(dir, "sinadur.conf", NULL);
	g_autofree char *user = g_build_filename(dir, "user.conf", NULL);
	g_autofree char *policy = g_build_filename(dir, "policy.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) c = NULL;
	g_autofree char *s = NULL;
	g_auto(GStrv) v = NULL;

	assert_true(g_file_set_contents(defaults,
	                                "[signature]\ncity=Rennes\nrole=Ordonnateur\n"
	                                "[bridge]\nport=1000\n",
	                                -1, NULL));
	assert_true(g_file_set_contents(user,
	                                "[signature]\ncity=Brest\nrole=Maire\n"
	                                "[bridge]\nport=2000\nnexu=true\n"
	                                "[tokens]\nmodules=/a.so;/b.so;\n",
	                                -1, NULL));
	assert_true(g_file_set_contents(policy, "[bridge]\nport=3000\nnexu=false\n", -1, NULL));
	c = sdr_config_load_files(defaults, user, policy, &error);
	assert_non_null(c);
	s = sdr_config_get_string(c, "signature", "city", NULL);
	assert_string_equal(s, "Brest");
	assert_int_equal(sdr_config_get_int(c, "bridge", "port", 0), 3000);
	assert_false(sdr_config_get_bool(c, "bridge", "nexu", TRUE));
	assert_true(sdr_config_is_locked(c, "bridge", "port"));
	assert_false(sdr_config_is_locked(c, "signature", "city"));
	v = sdr_config_get_strv(c, "tokens", "modules");
	assert_non_null(v);
	assert_int_equal(g_strv_length(v), 2);
	assert_string_equal(v[1], "/b.so");
	assert_null(sdr_config_get_strv(c, "tokens", "nothing"));
	assert_int_equal(sdr_config_get_int(c, "bridge", "absent", 42), 42);

	/* Locked keys cannot be written by the user; others are, atomically. */
	assert_false(sdr_config_set_user_string(c, "bridge", "port", "1", &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_POLICY));
	g_clear_error(&error);
	assert_true(sdr_config_set_user_string(c, "signature", "city", "Quimper", &error));
	sdr_config_free(g_steal_pointer(&c));
	c = sdr_config_load_files(defaults, user, policy, &error);
	g_clear_pointer(&s, g_free);
	s = sdr_config_get_string(c, "signature", "city", NULL);
	assert_string_equal(s, "Quimper");

	/* A broken file is an error naming it; a missing one is an empty layer. */
	assert_true(g_file_set_contents(policy, "[bridge\nport=1\n", -1, NULL));
	sdr_config_free(g_steal_pointer(&c));
	c = sdr_config_load_files(defaults, user, policy, &error);
	assert_null(c);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CONFIG));
	assert_non_null(strstr(error->message, "policy.conf"));
	g_clear_error(&error);
	g_unlink(policy);
	c = sdr_config_load_files(defaults, user, policy, &error);
	assert_non_null(c);
	assert_int_equal(sdr_config_get_int(c, "bridge", "port", 0), 2000);

	g_unlink(defaults);
	g_unlink(user);
	rm_rf(dir);
}

static void
test_config_sysconfdir(void **state)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *policy = g_build_filename(dir, "policy.conf", NULL);
	g_autofree char *user = g_build_filename(dir, "mine.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrConfig) c = NULL;

	assert_true(g_file_set_contents(policy, "[tokens]\nmodules=/policy.so;\n", -1, NULL));
	assert_true(g_file_set_contents(user, "[tokens]\nmodules=/user.so;\n", -1, NULL));
	g_setenv("SINADUR_SYSCONFDIR", dir, TRUE);
	assert_string_equal(sdr_config_sysconfdir(), dir);
	c = sdr_config_load(user, &error);
	assert_non_null(c);
	{
		g_auto(GStrv) v = sdr_config_get_strv(c, "tokens", "modules");

		assert_string_equal(v[0], "/policy.so");
	}
	assert_string_equal(sdr_config_user_file(c), user);
	g_unlink(policy);
	g_unlink(user);
	rm_rf(dir);
}

static void
test_ecdsa_conversion(void **state)
{
	guint8 raw[64];
	g_autoptr(GBytes) der = NULL;
	g_autoptr(GBytes) back = NULL;

	for (gsize i = 0; i < sizeof raw; i++)
		raw[i] = (guint8)(i == 0 || i == 32 ? 0 : i * 7 + 1); /* leading zeros */
	der = sdr_ecdsa_raw_to_der(raw, sizeof raw);
	assert_non_null(der);
	back = sdr_ecdsa_der_to_raw(g_bytes_get_data(der, NULL), g_bytes_get_size(der), 32);
	assert_non_null(back);
	assert_int_equal(g_bytes_get_size(back), 64);
	assert_memory_equal(g_bytes_get_data(back, NULL), raw, 64);
	assert_null(sdr_ecdsa_raw_to_der(raw, 63));
	assert_null(sdr_ecdsa_der_to_raw((const guint8 *)"garbage", 7, 32));
}

static void
test_hash_names(void **state)
{
	SdrHashAlg h = SDR_HASH_SHA256;

	assert_true(sdr_hash_from_name("SHA-384", &h));
	assert_int_equal(h, SDR_HASH_SHA384);
	assert_int_equal(sdr_hash_len(h), 48);
	assert_string_equal(sdr_hash_name(SDR_HASH_SHA512), "sha512");
	assert_false(sdr_hash_from_name("md5", &h));
	assert_int_equal(h, SDR_HASH_SHA384);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names),      cmocka_unit_test(test_secret),
		cmocka_unit_test(test_secret_read_fd),   cmocka_unit_test(test_atomic_file),
		cmocka_unit_test(test_file_read),        cmocka_unit_test(test_time),
		cmocka_unit_test(test_config_layers),    cmocka_unit_test(test_config_sysconfdir),
		cmocka_unit_test(test_ecdsa_conversion), cmocka_unit_test(test_hash_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
