/* bench-pes.c - PES V2 with a SoftHSM key (tests/fixtures/softhsm-fixture.sh):
 *   bench-pes sign IN OUT     one login, every bordereau of IN signed into OUT
 *   bench-pes raw N           one login, N raw RSA signatures of a digest
 * Prints "<what> <seconds> s <signatures> signatures <logins> login(s)". The
 * benchmark script measures time and peak RSS around it. */
#include "sdr-error.h"
#include "sdr-pes.h"
#include "sdr-token.h"

#include <stdio.h>
#include <string.h>

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "1234"

static guint logins;
static guint signatures;

static SdrSecret *
pin_cb(const SdrPinRequest *request, gpointer user_data, GError **error)
{
	logins++;
	return sdr_secret_new_from_data(PIN, strlen(PIN));
}

static GBytes *
token_sign(gpointer user_data, SdrSigScheme scheme, SdrHashAlg hash, const guint8 *digest,
           gsize digest_len, GError **error)
{
	signatures++;
	return sdr_token_session_sign(user_data, scheme, hash, digest, digest_len, error);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrTokenManager) m = NULL;
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(SdrTokenSession) s = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	SdrTokenOptions opts = { 0 };
	const SdrCertInfo *info = NULL;
	gint64 start = g_get_monotonic_time();
	double secs;

	if (argc < 3)
		return 64;
	opts.only_module = MODULE;
	opts.isolate_init = TRUE;
	m = sdr_token_manager_new(&opts, &error);
	certs = m != NULL ? sdr_token_manager_list_certificates(m, &error) : NULL;
	for (guint i = 0; certs != NULL && i < certs->len; i++) {
		SdrCertInfo *c = certs->pdata[i];

		if (g_strcmp0(c->cka_label, "user-rsa") == 0)
			info = c;
	}
	if (info == NULL) {
		fprintf(stderr, "user-rsa: %s\n", error != NULL ? error->message : "not found");
		return 1;
	}
	s = sdr_token_session_open(m, info->id, &error);
	if (s == NULL || !sdr_token_session_login(s, pin_cb, NULL, &error)) {
		fprintf(stderr, "login: %s\n", error->message);
		return 1;
	}
	signer = sdr_signer_new(info->cert, NULL, SDR_SIG_RSA_PKCS1, token_sign, s, NULL);
	if (strcmp(argv[1], "sign") == 0 && argc >= 4) {
		g_autoptr(SdrPesSignResult) result = NULL;

		if (!sdr_pes_sign_file(signer, argv[2], argv[3], NULL, &result, &error)) {
			fprintf(stderr, "sign: %s\n", error->message);
			return 1;
		}
	} else if (strcmp(argv[1], "raw") == 0) {
		guint n = (guint)g_ascii_strtoull(argv[2], NULL, 10);
		guint8 digest[32] = { 0 };

		for (guint i = 0; i < n; i++) {
			g_autoptr(GBytes) sig = NULL;

			digest[0] = (guint8)i;
			digest[1] = (guint8)(i >> 8);
			sig = sdr_signer_sign_digest(signer, SDR_HASH_SHA256, digest, 32, &error);
			if (sig == NULL) {
				fprintf(stderr, "raw: %s\n", error->message);
				return 1;
			}
		}
	} else {
		return 64;
	}
	secs = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	printf("%s %.2f s %u signatures %u login(s)\n", argv[1], secs, signatures, logins);
	return 0;
}
