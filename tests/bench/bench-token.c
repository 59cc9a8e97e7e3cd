/* bench-token.c FIXTURE_DIR [N] - enumerate + login + N RSA PKCS#1 v1.5 signatures
 * in process through the token layer, against `pkcs11-tool --sign` signing the
 * same N digests (one process each, as a shell script would), on the same SoftHSM
 * token (tests/fixtures/softhsm-fixture.sh). Prints both times and the ratio.
 * The PIN reaches pkcs11-tool through "env:" (never argv).
 */
#include "sdr-error.h"
#include "sdr-token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "1234"

static const guint8 digest_info_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                     0x01, 0x05, 0x00, 0x04, 0x20 };

static SdrSecret *
pin_cb(const SdrPinRequest *request, gpointer user_data, GError **error)
{
	return sdr_secret_new_from_data(PIN, strlen(PIN));
}

static void
digest_of(guint n, guint8 out[32])
{
	g_autofree char *doc = g_strdup_printf("document %u", n);
	gsize len = 32;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(ck, (const guchar *)doc, (gssize)strlen(doc));
	g_checksum_get_digest(ck, out, &len);
	g_checksum_free(ck);
}

static gboolean
in_process(guint count, double *seconds, GError **error)
{
	gint64 start = g_get_monotonic_time();
	SdrTokenOptions opts = { 0 };
	g_autoptr(SdrTokenManager) m = NULL;
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(SdrTokenSession) s = NULL;
	const char *id = NULL;

	opts.only_module = MODULE;
	opts.isolate_init = TRUE;
	m = sdr_token_manager_new(&opts, error);
	if (m == NULL)
		return FALSE;
	certs = sdr_token_manager_list_certificates(m, error);
	if (certs == NULL)
		return FALSE;
	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *c = certs->pdata[i];
		if (g_strcmp0(c->cka_label, "user-rsa") == 0)
			id = c->id;
	}
	if (id == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND, "user-rsa not found");
		return FALSE;
	}
	s = sdr_token_session_open(m, id, error);
	if (s == NULL || !sdr_token_session_login(s, pin_cb, NULL, error))
		return FALSE;
	for (guint n = 0; n < count; n++) {
		guint8 digest[32];
		g_autoptr(GBytes) sig = NULL;

		digest_of(n, digest);
		sig = sdr_token_session_sign(s, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, digest, 32,
		                             error);
		if (sig == NULL)
			return FALSE;
	}
	*seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	return TRUE;
}

/* The same digests, as DigestInfo files, signed with CKM_RSA_PKCS by pkcs11-tool. */
static gboolean
with_pkcs11_tool(const char *dir, guint count, double *seconds, GError **error)
{
	g_autofree char *in = g_build_filename(dir, "bench-in.bin", NULL);
	g_autofree char *out = g_build_filename(dir, "bench-out.bin", NULL);
	g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "SDR_BENCH_PIN", PIN, TRUE);
	gint64 total = 0;

	for (guint n = 0; n < count; n++) {
		guint8 buf[sizeof digest_info_sha256 + 32];
		const char *argv[] = { "pkcs11-tool",
			               "--module",
			               MODULE,
			               "--token-label",
			               "RGS-TEST",
			               "--login",
			               "--pin",
			               "env:SDR_BENCH_PIN",
			               "--id",
			               "01",
			               "--sign",
			               "--mechanism",
			               "RSA-PKCS",
			               "--input-file",
			               in,
			               "--output-file",
			               out,
			               NULL };
		int status = 0;
		gint64 start;

		memcpy(buf, digest_info_sha256, sizeof digest_info_sha256);
		digest_of(n, buf + sizeof digest_info_sha256);
		if (!g_file_set_contents(in, (const char *)buf, sizeof buf, error))
			return FALSE;
		start = g_get_monotonic_time();
		if (!g_spawn_sync(NULL, (char **)argv, env,
		                  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
		                          G_SPAWN_STDERR_TO_DEV_NULL,
		                  NULL, NULL, NULL, NULL, &status, error))
			return FALSE;
		total += g_get_monotonic_time() - start;
		if (!g_spawn_check_wait_status(status, error))
			return FALSE;
	}
	*seconds = (double)total / G_USEC_PER_SEC;
	return TRUE;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	guint count = argc > 2 ? (guint)g_ascii_strtoull(argv[2], NULL, 10) : 100;
	double ours = 0, tool = 0;
	g_autofree char *tool_path = g_find_program_in_path("pkcs11-tool");

	if (argc < 2) {
		g_printerr("usage: bench-token FIXTURE_DIR [N]\n");
		return 2;
	}
	if (tool_path == NULL || !g_file_test(MODULE, G_FILE_TEST_EXISTS)) {
		g_printerr("pkcs11-tool or SoftHSM missing: skipped\n");
		return 77;
	}
	if (count == 0 || count > 10000)
		count = 100;
	if (!in_process(count, &ours, &error) || !with_pkcs11_tool(argv[1], count, &tool, &error)) {
		g_printerr("bench-token: %s\n", error->message);
		return 1;
	}
	printf("token: enumerate + login + %u RSA-2048 signatures in process: %.3f s "
	       "(%.2f ms/signature)\n",
	       count, ours, ours * 1000 / count);
	printf("token: pkcs11-tool --sign, %u processes, same digests: %.3f s (%.2f "
	       "ms/signature)\n",
	       count, tool, tool * 1000 / count);
	printf("token: ratio pkcs11-tool / in process = %.1f\n", ours > 0 ? tool / ours : 0.0);
	return 0;
}
