/* test-token.c - the token layer against a real SoftHSM2 token (fixture) and the
 * project's test module (PIN tries, removal, protected authentication path).
 *
 * Environment (set by meson): SINADUR_SOURCE_ROOT, SDR_TESTP11 (path of the test
 * module), SDR_CRASH_MODULE (path of the crashing module).
 * argv[1], when given, is a cmocka test filter (the valgrind run uses it).
 */
#include "sdr-token-private.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"

static char *fixture_dir; /* softhsm fixture */
static char *state_dir;   /* $SDR_TESTP11_DIR */
static const char *testp11;
static const char *crash_module;

static const char *const cert_names[] = { "user-rsa", "user-ec", "user-soon", "user-expired",
	                                  "user-auth" };

/* ---- helpers -------------------------------------------------------------------- */

static void
state_write(const char *name, const char *contents)
{
	g_autofree char *path = g_build_filename(state_dir, name, NULL);
	assert_true(g_file_set_contents(path, contents, -1, NULL));
}

static void
state_remove(const char *name)
{
	g_autofree char *path = g_build_filename(state_dir, name, NULL);
	(void)g_remove(path);
}

static int
state_int(const char *name, int fallback)
{
	g_autofree char *path = g_build_filename(state_dir, name, NULL);
	g_autofree char *contents = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return fallback;
	return atoi(contents);
}

static void
state_reset(void)
{
	state_remove("removed");
	state_remove("protected");
	state_remove("logins");
	state_remove("min_len");
	state_remove("max_len");
	state_remove("trace");
	state_write("tries", "3\n");
}

static X509 *
load_cert(const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/pki/%s.pem", fixture_dir, name);
	FILE *f = fopen(path, "r");
	X509 *cert;

	assert_non_null(f);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(cert);
	return cert;
}

static SdrTokenManager *
manager_for(const char *module)
{
	SdrTokenOptions opts = { 0 };
	GError *error = NULL;
	SdrTokenManager *m;

	opts.only_module = module;
	opts.skip_p11kit = TRUE;
	opts.skip_known = TRUE;
	opts.isolate_init = TRUE;
	m = sdr_token_manager_new(&opts, &error);
	if (m == NULL)
		fail_msg("manager: %s", error->message);
	return m;
}

static SdrCertInfo *
find_cert(GPtrArray *certs, const char *label)
{
	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *c = certs->pdata[i];
		if (g_strcmp0(c->cka_label, label) == 0)
			return c;
	}
	return NULL;
}

static char *
cert_id_of(const char *label)
{
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	SdrCertInfo *c;

	certs = sdr_token_manager_list_certificates(m, NULL);
	assert_non_null(certs);
	c = find_cert(certs, label);
	assert_non_null(c);
	return g_strdup(c->id);
}

typedef struct {
	const char *pin;
	guint calls;
	gboolean saw_final_try;
	gboolean saw_count_low;
	gboolean saw_previous_incorrect;
} PinState;

static SdrSecret *
pin_cb(const SdrPinRequest *request, gpointer user_data, GError **error)
{
	PinState *st = user_data;

	st->calls++;
	st->saw_final_try |= request->final_try;
	st->saw_count_low |= request->count_low;
	st->saw_previous_incorrect |= request->previous_incorrect;
	assert_non_null(request->cert);
	if (st->pin == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED, "cancelled");
		return NULL;
	}
	return sdr_secret_new_from_data(st->pin, strlen(st->pin));
}

/* Days left, computed like a user would: from `openssl x509 -enddate`. */
static gint64
openssl_days_left(const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/pki/%s.pem", fixture_dir, name);
	const char *argv[] = { "openssl",  "x509", "-noout", "-enddate", "-dateopt",
		               "iso_8601", "-in",  path,     NULL };
	g_autofree char *out = NULL;
	g_autoptr(GDateTime) end = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	int status = 0;
	char *value;

	assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
	                         NULL, &status, NULL));
	assert_int_equal(status, 0);
	value = strchr(out, '=');
	assert_non_null(value);
	g_strstrip(++value);
	/* "2029-11-21 02:31:00Z" */
	value[10] = 'T';
	end = g_date_time_new_from_iso8601(value, NULL);
	assert_non_null(end);
	return g_date_time_difference(end, now) / G_TIME_SPAN_DAY;
}

static gboolean
verify(X509 *cert, SdrSigScheme scheme, SdrHashAlg hash, const guint8 *digest, gsize dlen,
       GBytes *sig)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	g_autoptr(GBytes) der = NULL;
	gsize slen = 0;
	const guint8 *s = g_bytes_get_data(sig, &slen);
	int ok;

	if (scheme == SDR_SIG_ECDSA) {
		der = sdr_ecdsa_raw_to_der(s, slen);
		assert_non_null(der);
		s = g_bytes_get_data(der, &slen);
	}
	ok = EVP_PKEY_verify_init(ctx) > 0 &&
	     EVP_PKEY_CTX_set_signature_md(ctx, sdr_hash_md(hash)) > 0;
	if (ok && scheme == SDR_SIG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, sdr_hash_md(hash)) > 0;
	ok = ok && EVP_PKEY_verify(ctx, s, slen, digest, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static SdrTokenSession *
logged_in_session(SdrTokenManager *m, const char *label)
{
	g_autofree char *id = cert_id_of(label);
	PinState st = { .pin = "1234" };
	GError *error = NULL;
	SdrTokenSession *s = sdr_token_session_open(m, id, &error);

	if (s == NULL)
		fail_msg("open: %s", error->message);
	if (!sdr_token_session_login(s, pin_cb, &st, &error))
		fail_msg("login: %s", error->message);
	assert_int_equal(st.calls, 1);
	return s;
}

/* ---- tests ---------------------------------------------------------------------- */

static void
test_list_tokens(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(SOFTHSM);
	g_autoptr(GPtrArray) tokens = NULL;
	GPtrArray *modules = sdr_token_manager_get_modules(m);
	GError *error = NULL;
	SdrTokenInfo *t = NULL;

	assert_int_equal(modules->len, 1);
	assert_true(((SdrModuleInfo *)modules->pdata[0])->loaded);
	assert_string_equal(((SdrModuleInfo *)modules->pdata[0])->manufacturer, "SoftHSM");
	tokens = sdr_token_manager_list_tokens(m, &error);
	assert_non_null(tokens);
	for (guint i = 0; i < tokens->len; i++) {
		SdrTokenInfo *x = tokens->pdata[i];
		if (g_strcmp0(x->label, "RGS-TEST") == 0)
			t = x;
	}
	assert_non_null(t);
	assert_true(t->login_required);
	assert_false(t->pin_locked);
	assert_false(t->protected_auth_path);
	assert_string_equal(t->model, "SoftHSM v2");
}

static void
test_list_certificates(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(SOFTHSM);
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	GError *error = NULL;

	certs = sdr_token_manager_list_certificates(m, &error);
	assert_non_null(certs);
	assert_int_equal(certs->len, G_N_ELEMENTS(cert_names));
	for (gsize i = 0; i < G_N_ELEMENTS(cert_names); i++) {
		SdrCertInfo *c = find_cert(certs, cert_names[i]);
		X509 *file = load_cert(cert_names[i]);
		g_autoptr(SdrCertInfo) expected = sdr_cert_info_new_from_x509(file);
		gint64 days;
		gsize id_len = 0;
		const guint8 *id;

		assert_non_null(c);
		assert_string_equal(c->id, expected->id);
		assert_int_equal(X509_cmp(c->cert, file), 0);
		assert_true(c->has_private_key);
		assert_string_equal(c->token->label, "RGS-TEST");
		id = g_bytes_get_data(c->cka_id, &id_len);
		assert_int_equal(id_len, 1);
		assert_int_equal(id[0], i + 1);
		days = g_date_time_difference(c->not_after, now) / G_TIME_SPAN_DAY;
		assert_int_equal(days, openssl_days_left(cert_names[i]));
		if (g_str_equal(cert_names[i], "user-auth"))
			assert_int_equal(c->usage, SDR_CERT_USAGE_AUTHENTICATION);
		else
			assert_int_equal(c->usage, SDR_CERT_USAGE_SIGNATURE);
		assert_int_equal(c->key_scheme, g_str_equal(cert_names[i], "user-ec")
		                                        ? SDR_SIG_ECDSA
		                                        : SDR_SIG_RSA_PKCS1);
		if (g_str_equal(cert_names[i], "user-soon"))
			assert_true(days >= 18 && days <= 20);
		if (g_str_equal(cert_names[i], "user-expired"))
			assert_true(days < 0);
		X509_free(file);
	}
}

static void
test_login_and_sign(void **unused)
{
	static const struct {
		const char *label;
		SdrSigScheme scheme;
		SdrHashAlg hash;
	} cases[] = {
		{ "user-rsa", SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256 },
		{ "user-rsa", SDR_SIG_RSA_PKCS1, SDR_HASH_SHA384 },
		{ "user-rsa", SDR_SIG_RSA_PKCS1, SDR_HASH_SHA512 },
		{ "user-rsa", SDR_SIG_RSA_PSS, SDR_HASH_SHA256 },
		{ "user-rsa", SDR_SIG_RSA_PSS, SDR_HASH_SHA512 },
		{ "user-ec", SDR_SIG_ECDSA, SDR_HASH_SHA256 },
		{ "user-ec", SDR_SIG_ECDSA, SDR_HASH_SHA384 },
	};

	state_reset();
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(SdrTokenManager) m = manager_for(testp11);
		g_autoptr(SdrTokenSession) s = logged_in_session(m, cases[i].label);
		guint8 digest[64];
		gsize dlen = sdr_hash_len(cases[i].hash);
		GError *error = NULL;

		assert_true(sdr_token_session_is_logged_in(s));
		/* A batch: one login, many signatures. */
		for (int n = 0; n < 5; n++) {
			g_autoptr(GBytes) sig = NULL;
			g_autofree char *msg = g_strdup_printf("document %zu/%d", i, n);
			unsigned int mdlen = 0;

			EVP_Digest(msg, strlen(msg), digest, &mdlen, sdr_hash_md(cases[i].hash),
			           NULL);
			sig = sdr_token_session_sign(s, cases[i].scheme, cases[i].hash, digest,
			                             dlen, &error);
			if (sig == NULL)
				fail_msg("sign %zu: %s", i, error->message);
			if (cases[i].scheme == SDR_SIG_ECDSA)
				assert_int_equal(g_bytes_get_size(sig), 64);
			assert_true(verify(sdr_token_session_get_cert(s)->cert, cases[i].scheme,
			                   cases[i].hash, digest, dlen, sig));
			/* A tampered digest does not verify: the check can fail. */
			digest[0] ^= 1;
			assert_false(verify(sdr_token_session_get_cert(s)->cert, cases[i].scheme,
			                    cases[i].hash, digest, dlen, sig));
		}
	}
	assert_int_equal(state_int("logins", 0), (int)G_N_ELEMENTS(cases));
}

static void
test_sign_errors(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autofree char *id = NULL;
	guint8 digest[32] = { 0 };
	GError *error = NULL;
	GBytes *sig;

	state_reset();
	id = cert_id_of("user-rsa");
	s = sdr_token_session_open(m, id, &error);
	assert_non_null(s);
	/* Not logged in. */
	sig = sdr_token_session_sign(s, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, digest, 32, &error);
	assert_null(sig);
	assert_non_null(error);
	g_clear_error(&error);
	/* Wrong digest length. */
	sig = sdr_token_session_sign(s, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, digest, 20, &error);
	assert_null(sig);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
	g_clear_error(&error);
	/* ECDSA with an RSA key. */
	sig = sdr_token_session_sign(s, SDR_SIG_ECDSA, SDR_HASH_SHA256, digest, 32, &error);
	assert_null(sig);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED));
	g_clear_error(&error);
	/* Unknown certificate. */
	assert_null(sdr_token_session_open(m, "00000000000000000000000000000000", &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NOT_FOUND));
	g_clear_error(&error);
}

static void
test_pin_tries(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autofree char *id = NULL;
	PinState wrong = { .pin = "0000" };
	PinState right = { .pin = "1234" };
	GError *error = NULL;
	g_autoptr(GPtrArray) tokens = NULL;

	state_reset();
	id = cert_id_of("user-rsa");
	s = sdr_token_session_open(m, id, &error);
	assert_non_null(s);

	/* 1st wrong PIN: COUNT_LOW afterwards, exactly one C_Login. */
	assert_false(sdr_token_session_login(s, pin_cb, &wrong, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT));
	g_clear_error(&error);
	assert_int_equal(wrong.calls, 1);
	assert_int_equal(state_int("logins", 0), 1);
	assert_int_equal(state_int("tries", -1), 2);
	tokens = sdr_token_manager_list_tokens(m, NULL);
	assert_non_null(tokens);
	assert_int_equal(tokens->len, 1);
	assert_true(((SdrTokenInfo *)tokens->pdata[0])->pin_count_low);
	assert_false(((SdrTokenInfo *)tokens->pdata[0])->pin_final_try);

	/* 2nd wrong PIN: the callback saw count_low; now at the final try. */
	assert_false(sdr_token_session_login(s, pin_cb, &wrong, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT));
	g_clear_error(&error);
	assert_true(wrong.saw_count_low);
	assert_true(wrong.saw_previous_incorrect);
	assert_false(wrong.saw_final_try);
	assert_int_equal(state_int("logins", 0), 2);

	/* At the final try the callback is told; declining leaves the token alone. */
	{
		PinState decline = { .pin = NULL };
		assert_false(sdr_token_session_login(s, pin_cb, &decline, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CANCELLED));
		g_clear_error(&error);
		assert_true(decline.saw_final_try);
		assert_int_equal(state_int("logins", 0), 2);
		assert_int_equal(state_int("tries", -1), 1);
	}

	/* The right PIN at the final try resets the counter. */
	assert_true(sdr_token_session_login(s, pin_cb, &right, &error));
	assert_true(right.saw_final_try);
	assert_int_equal(right.calls, 1);
	assert_int_equal(state_int("tries", -1), 3);
	assert_int_equal(state_int("logins", 0), 3);
	sdr_token_session_logout(s);
	assert_false(sdr_token_session_is_logged_in(s));
}

static void
test_pin_locked(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autofree char *id = NULL;
	PinState wrong = { .pin = "0000" };
	PinState right = { .pin = "1234" };
	GError *error = NULL;

	state_reset();
	state_write("tries", "1\n");
	id = cert_id_of("user-rsa");
	s = sdr_token_session_open(m, id, &error);
	assert_non_null(s);

	/* Wrong PIN at the final try: locked. */
	assert_false(sdr_token_session_login(s, pin_cb, &wrong, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_LOCKED));
	assert_non_null(strstr(error->message, "PUK"));
	g_clear_error(&error);
	assert_true(wrong.saw_final_try);
	assert_int_equal(state_int("logins", 0), 1);

	/* Locked: error before any attempt, the callback is not called. */
	assert_false(sdr_token_session_login(s, pin_cb, &right, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_LOCKED));
	g_clear_error(&error);
	assert_int_equal(right.calls, 0);
	assert_int_equal(state_int("logins", 0), 1);
	state_reset();
}

/* A prompt for a protected path: records what it was told, answers "go ahead"
 * (an empty secret) or, with decline, gives up without an error. */
typedef struct {
	guint calls;
	gboolean decline;
	gboolean saw_protected, saw_final_try;
	guint logins_when_called; /* C_Login calls already made when the prompt ran */
} PadState;

static SdrSecret *
pad_cb(const SdrPinRequest *request, gpointer user_data, GError **error)
{
	PadState *st = user_data;

	st->calls++;
	st->saw_protected |= request->protected_path;
	st->saw_final_try |= request->final_try;
	st->logins_when_called = (guint)state_int("logins", 0);
	if (st->decline)
		return NULL;
	/* Whatever it returns is never sent on a protected path. */
	return sdr_secret_new_from_data("0000", 4);
}

static void
test_protected_auth_path(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autoptr(GPtrArray) tokens = NULL;
	g_autoptr(GBytes) sig = NULL;
	g_autofree char *id = NULL;
	guint8 digest[32] = { 1 };
	GError *error = NULL;
	PadState pad = { 0 };

	state_reset();
	state_write("protected", "1234\n");
	tokens = sdr_token_manager_list_tokens(m, NULL);
	assert_non_null(tokens);
	assert_true(((SdrTokenInfo *)tokens->pdata[0])->protected_auth_path);
	id = cert_id_of("user-ec");
	s = sdr_token_session_open(m, id, &error);
	assert_non_null(s);
	/* The prompt is called (to tell the person) before the one C_Login. */
	assert_true(sdr_token_session_login(s, pad_cb, &pad, &error));
	assert_int_equal(pad.calls, 1);
	assert_true(pad.saw_protected);
	assert_false(pad.saw_final_try);
	assert_int_equal(pad.logins_when_called, 0);
	assert_int_equal(state_int("logins", 0), 1);
	sig = sdr_token_session_sign(s, SDR_SIG_ECDSA, SDR_HASH_SHA256, digest, 32, &error);
	assert_non_null(sig);
	assert_true(verify(sdr_token_session_get_cert(s)->cert, SDR_SIG_ECDSA, SDR_HASH_SHA256,
	                   digest, 32, sig));
	/* A PIN pad that gets a wrong PIN; without a prompt (not at the final try). */
	sdr_token_session_logout(s);
	state_write("protected", "9999\n");
	assert_false(sdr_token_session_login(s, NULL, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT));
	g_clear_error(&error);
	assert_int_equal(state_int("logins", 0), 2);
	state_reset();
}

/* Protected path at the final try: nothing reaches C_Login unless the prompt
 * said yes; with no prompt at all it is refused. */
static void
test_protected_final_try(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autofree char *id = NULL;
	GError *error = NULL;
	PadState decline = { .decline = TRUE };
	PadState accept = { 0 };

	state_reset();
	state_write("protected", "1234\n");
	state_write("tries", "1\n");
	id = cert_id_of("user-rsa");
	s = sdr_token_session_open(m, id, &error);
	assert_non_null(s);

	assert_false(sdr_token_session_login(s, NULL, NULL, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY));
	g_clear_error(&error);
	assert_int_equal(state_int("logins", 0), 0);

	assert_false(sdr_token_session_login(s, pad_cb, &decline, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY));
	g_clear_error(&error);
	assert_int_equal(decline.calls, 1);
	assert_true(decline.saw_final_try);
	assert_true(decline.saw_protected);
	assert_int_equal(state_int("logins", 0), 0);
	assert_int_equal(state_int("tries", -1), 1);

	assert_true(sdr_token_session_login(s, pad_cb, &accept, &error));
	assert_true(accept.saw_final_try);
	assert_int_equal(state_int("logins", 0), 1);
	assert_int_equal(state_int("tries", -1), 3);
	state_reset();
}

/* A prompt that answers a list of PINs in turn (NULL-terminated, lengths given so
 * a NUL byte can be part of one). */
typedef struct {
	const char *const *pins;
	const gsize *lens;
	guint calls;
	gulong min_len, max_len;
	guint rejected_seen;
	guint logins_max; /* highest C_Login count seen by the prompt */
} ListState;

static SdrSecret *
list_cb(const SdrPinRequest *request, gpointer user_data, GError **error)
{
	ListState *st = user_data;
	const char *pin = st->pins[st->calls];
	gsize len = st->lens[st->calls];

	st->calls++;
	st->min_len = request->min_len;
	st->max_len = request->max_len;
	if (request->rejected != NULL) {
		st->rejected_seen++;
		assert_non_null(strstr(request->rejected, "no try was used"));
	}
	st->logins_max = MAX(st->logins_max, (guint)state_int("logins", 0));
	if (pin == NULL) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED, "cancelled");
		return NULL;
	}
	return sdr_secret_new_from_data(pin, len);
}

static void
test_pin_refused_locally(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autoptr(GPtrArray) tokens = NULL;
	g_autofree char *id = NULL;
	GError *error = NULL;

	state_reset();
	state_write("min_len", "4\n");
	state_write("max_len", "8\n");
	state_write("tries", "1\n"); /* the final try: any PIN sent would count */
	tokens = sdr_token_manager_list_tokens(m, NULL);
	assert_non_null(tokens);
	assert_int_equal(((SdrTokenInfo *)tokens->pdata[0])->pin_min_len, 4);
	assert_int_equal(((SdrTokenInfo *)tokens->pdata[0])->pin_max_len, 8);
	id = cert_id_of("user-rsa");
	s = sdr_token_session_open(m, id, &error);
	assert_non_null(s);

	/* Empty, too short, too long: asked again each time, then gives up with
	 * BAD_REQUEST after SDR_PIN_MAX_ASKS answers; the token never saw them. */
	{
		const char *const pins[] = { "", "123", "123456789", "1234", NULL };
		const gsize lens[] = { 0, 3, 9, 4, 0 };
		ListState st = { pins, lens };

		assert_false(sdr_token_session_login(s, list_cb, &st, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST));
		assert_non_null(strstr(error->message, "4 to 8"));
		g_clear_error(&error);
		assert_int_equal(st.calls, SDR_PIN_MAX_ASKS);
		assert_int_equal(st.rejected_seen, SDR_PIN_MAX_ASKS - 1);
		assert_int_equal(st.min_len, 4);
		assert_int_equal(st.max_len, 8);
		assert_int_equal(state_int("logins", 0), 0);
		assert_int_equal(state_int("tries", -1), 1);
	}
	/* Spaces only, an embedded NUL, then the right PIN: one C_Login, success. */
	{
		const char *const pins[] = { "    ",
			                     "12\0"
			                     "34",
			                     "1234", NULL };
		const gsize lens[] = { 4, 5, 4, 0 };
		ListState st = { pins, lens };

		assert_true(sdr_token_session_login(s, list_cb, &st, &error));
		assert_int_equal(st.calls, 3);
		assert_int_equal(st.rejected_seen, 2);
		assert_int_equal(st.logins_max, 0);
		assert_int_equal(state_int("logins", 0), 1);
		assert_int_equal(state_int("tries", -1), 3);
	}
	state_reset();
}

static void
test_removal_during_batch(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	g_autoptr(SdrTokenSession) s2 = NULL;
	g_autoptr(GPtrArray) certs = NULL;
	g_autoptr(GPtrArray) tokens = NULL;
	g_autofree char *id = NULL;
	guint8 digest[32] = { 7 };
	GError *error = NULL;
	PinState right = { .pin = "1234" };

	state_reset();
	id = cert_id_of("user-rsa");
	s = logged_in_session(m, "user-rsa");
	for (int i = 0; i < 3; i++) {
		g_autoptr(GBytes) sig = sdr_token_session_sign(s, SDR_SIG_RSA_PKCS1,
		                                               SDR_HASH_SHA256, digest, 32, &error);
		assert_non_null(sig);
	}
	state_write("removed", "");
	for (int i = 0; i < 2; i++) {
		GBytes *sig = sdr_token_session_sign(s, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, digest,
		                                     32, &error);
		assert_null(sig);
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED));
		g_clear_error(&error);
	}
	assert_false(sdr_token_session_is_logged_in(s));
	assert_false(sdr_token_session_login(s, pin_cb, &right, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED));
	g_clear_error(&error);
	assert_int_equal(right.calls, 0);

	/* Refresh while pulled: no token, no certificate, no crash. */
	assert_true(sdr_token_manager_refresh(m, &error));
	certs = sdr_token_manager_list_certificates(m, &error);
	assert_non_null(certs);
	assert_int_equal(certs->len, 0);
	g_clear_pointer(&certs, g_ptr_array_unref);
	assert_null(sdr_token_session_open(m, id, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NOT_FOUND));
	g_clear_error(&error);

	/* Re-insertion: the same certificate (same id) is found and signs again. */
	state_remove("removed");
	assert_true(sdr_token_manager_refresh(m, &error));
	certs = sdr_token_manager_list_certificates(m, &error);
	assert_non_null(certs);
	assert_int_equal(certs->len, G_N_ELEMENTS(cert_names));
	assert_string_equal(find_cert(certs, "user-rsa")->id, id);
	tokens = sdr_token_manager_list_tokens(m, &error);
	assert_int_equal(tokens->len, 1);
	s2 = sdr_token_session_open(m, id, &error);
	assert_non_null(s2);
	assert_true(sdr_token_session_login(s2, pin_cb, &right, &error));
	{
		g_autoptr(GBytes) sig = sdr_token_session_sign(s2, SDR_SIG_RSA_PKCS1,
		                                               SDR_HASH_SHA256, digest, 32, &error);
		assert_non_null(sig);
		assert_true(verify(sdr_token_session_get_cert(s2)->cert, SDR_SIG_RSA_PKCS1,
		                   SDR_HASH_SHA256, digest, 32, sig));
	}
	/* The old session stays dead (and frees cleanly). */
	assert_null(
	        sdr_token_session_sign(s, SDR_SIG_RSA_PKCS1, SDR_HASH_SHA256, digest, 32, &error));
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED));
	g_clear_error(&error);
}

/* A refresh (after an event on another reader) must not end a held session. */
static void
test_refresh_keeps_session(void **unused)
{
	g_autoptr(SdrTokenManager) m = manager_for(testp11);
	g_autoptr(SdrTokenSession) s = NULL;
	guint8 digest[32] = { 3 };
	GError *error = NULL;

	state_reset();
	s = logged_in_session(m, "user-ec");
	assert_true(sdr_token_manager_refresh(m, &error));
	{
		g_autoptr(GPtrArray) certs = sdr_token_manager_list_certificates(m, &error);
		assert_non_null(certs);
	}
	assert_true(sdr_token_session_is_logged_in(s));
	{
		g_autoptr(GBytes) sig = sdr_token_session_sign(s, SDR_SIG_ECDSA, SDR_HASH_SHA256,
		                                               digest, 32, &error);
		if (sig == NULL)
			fail_msg("sign after refresh: %s", error->message);
	}
	assert_int_equal(state_int("logins", 0), 1);
}

static void
test_bad_modules(void **unused)
{
	g_autofree char *text = g_build_filename(state_dir, "not-a-library.so", NULL);
	SdrTokenOptions opts = { 0 };
	GError *error = NULL;
	SdrTokenManager *m;
	GPtrArray *modules;
	const char *config[] = { "/nonexistent/libnothing.so", NULL, NULL, NULL, NULL };
	guint n = 1;

	assert_true(g_file_set_contents(text, "hello\n", -1, NULL));
	config[n++] = text;
	if (g_file_test("/lib/x86_64-linux-gnu/libc.so.6", G_FILE_TEST_EXISTS))
		config[n++] = "/lib/x86_64-linux-gnu/libc.so.6";
	config[n++] = SOFTHSM;

	/* --module with a bad path: NO_MODULE with a clear message. */
	opts.only_module = "/nonexistent/libnothing.so";
	opts.isolate_init = TRUE;
	m = sdr_token_manager_new(&opts, &error);
	assert_null(m);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NO_MODULE));
	assert_non_null(strstr(error->message, "/nonexistent/libnothing.so"));
	g_clear_error(&error);

	/* In a list, bad modules are reported and the good one still loads. */
	opts.only_module = NULL;
	opts.config_modules = (char **)config;
	opts.skip_p11kit = TRUE;
	opts.skip_known = TRUE;
	for (int isolate = 0; isolate < 2; isolate++) {
		opts.isolate_init = isolate;
		m = sdr_token_manager_new(&opts, &error);
		assert_non_null(m);
		modules = sdr_token_manager_get_modules(m);
		assert_int_equal(modules->len, n);
		for (guint i = 0; i < n; i++) {
			SdrModuleInfo *info = modules->pdata[i];
			assert_int_equal(info->source, SDR_MODULE_SOURCE_CONFIG);
			if (i == n - 1) {
				assert_true(info->loaded);
				assert_null(info->error);
			} else {
				assert_false(info->loaded);
				assert_true(g_error_matches(info->error, SDR_ERROR,
				                            SDR_ERROR_MODULE_LOAD));
			}
		}
		if (n == 4)
			assert_non_null(strstr(((SdrModuleInfo *)modules->pdata[2])->error->message,
			                       "C_GetFunctionList"));
		sdr_token_manager_free(m);
	}
}

static void
test_crashing_module(void **unused)
{
	const char *config[] = { crash_module, testp11, NULL };
	SdrTokenOptions opts = { 0 };
	GError *error = NULL;
	g_autoptr(SdrTokenManager) m = NULL;
	g_autoptr(GPtrArray) certs = NULL;
	GPtrArray *modules;
	SdrModuleInfo *crash;

	state_reset();
	opts.config_modules = (char **)config;
	opts.skip_p11kit = TRUE;
	opts.skip_known = TRUE;
	opts.isolate_init = TRUE;
	m = sdr_token_manager_new(&opts, &error);
	assert_non_null(m);
	modules = sdr_token_manager_get_modules(m);
	assert_int_equal(modules->len, 2);
	crash = modules->pdata[0];
	assert_false(crash->loaded);
	assert_true(g_error_matches(crash->error, SDR_ERROR, SDR_ERROR_MODULE_LOAD));
	assert_non_null(strstr(crash->error->message, "crash"));
	assert_true(((SdrModuleInfo *)modules->pdata[1])->loaded);
	certs = sdr_token_manager_list_certificates(m, &error);
	assert_non_null(certs);
	assert_int_equal(certs->len, G_N_ELEMENTS(cert_names));

	/* --module on a crashing module: an error, not a crash. */
	{
		SdrTokenOptions only = { 0 };
		only.only_module = crash_module;
		only.isolate_init = TRUE;
		assert_null(sdr_token_manager_new(&only, &error));
		assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_NO_MODULE));
		g_clear_error(&error);
	}
}

/* The probe child: hanging and exiting modules are reported too. */
static void
test_probe_modes(void **unused)
{
	GError *error = NULL;
	gint64 start;

	assert_true(sdr_module_probe(testp11, 10000, &error));
	g_setenv("SDR_CRASH_MODE", "hang", TRUE);
	start = g_get_monotonic_time();
	assert_false(sdr_module_probe(crash_module, 500, &error));
	assert_true(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
	assert_true(g_error_matches(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD));
	assert_non_null(strstr(error->message, "did not answer"));
	g_clear_error(&error);
	g_setenv("SDR_CRASH_MODE", "exit", TRUE);
	assert_false(sdr_module_probe(crash_module, 10000, &error));
	assert_non_null(strstr(error->message, "ended the process"));
	g_clear_error(&error);
	g_unsetenv("SDR_CRASH_MODE");
	assert_false(sdr_module_probe(crash_module, 10000, &error));
	assert_non_null(strstr(error->message, "crashed"));
	g_clear_error(&error);
}

static void
test_discovery_dedupe(void **unused)
{
	/* Two spellings of the same file and an ignored one. */
	const char *config[] = { SOFTHSM, "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		                 testp11, NULL };
	const char *ignore[] = { testp11, NULL };
	SdrTokenOptions opts = { 0 };
	g_autoptr(GPtrArray) found = NULL;

	opts.config_modules = (char **)config;
	opts.ignore_modules = (char **)ignore;
	opts.skip_p11kit = TRUE;
	opts.skip_known = TRUE;
	found = sdr_module_discover(&opts);
	assert_int_equal(found->len, 1);
	assert_string_equal(((SdrModuleInfo *)found->pdata[0])->path, SOFTHSM);
	assert_string_equal(((SdrModuleInfo *)found->pdata[0])->name, "SoftHSM 2");
}

/* p11-kit registrations are read from files, without loading anything. */
static void
test_discovery_p11kit(void **unused)
{
	g_autofree char *dir =
	        g_build_filename(g_getenv("XDG_CONFIG_HOME"), "pkcs11", "modules", NULL);
	g_autofree char *ours = g_strdup_printf("# test\nmodule: %s\n", testp11);
	g_autofree char *trust = g_strdup_printf("module: %s\ntrust-policy: yes\n", crash_module);
	g_autofree char *elsewhere =
	        g_strdup_printf("module: %s\nenable-in: firefox\n", crash_module);
	g_autofree char *f1 = g_build_filename(dir, "sdr-test.module", NULL);
	g_autofree char *f2 = g_build_filename(dir, "sdr-trust.module", NULL);
	g_autofree char *f3 = g_build_filename(dir, "sdr-firefox.module", NULL);
	SdrTokenOptions opts = { 0 };
	g_autoptr(GPtrArray) found = NULL;
	gboolean seen_ours = FALSE;

	assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
	assert_true(g_file_set_contents(f1, ours, -1, NULL));
	assert_true(g_file_set_contents(f2, trust, -1, NULL));
	assert_true(g_file_set_contents(f3, elsewhere, -1, NULL));
	opts.skip_known = TRUE;
	found = sdr_module_discover(&opts);
	for (guint i = 0; i < found->len; i++) {
		SdrModuleInfo *info = found->pdata[i];
		assert_int_equal(info->source, SDR_MODULE_SOURCE_P11KIT);
		assert_string_not_equal(info->path, crash_module);
		assert_false(info->loaded);
		if (g_str_equal(info->path, testp11))
			seen_ours = TRUE;
	}
	assert_true(seen_ours);
	g_remove(f1);
	g_remove(f2);
	g_remove(f3);
}

/* ---- fixture -------------------------------------------------------------------- */

static int
group_setup(void **unused)
{
	const char *root = g_getenv("SINADUR_SOURCE_ROOT");
	g_autofree char *script = NULL;
	g_autofree char *conf = NULL;
	g_autofree char *home = NULL;
	GError *error = NULL;
	int status = 0;

	testp11 = g_getenv("SDR_TESTP11");
	crash_module = g_getenv("SDR_CRASH_MODULE");
	if (root == NULL || testp11 == NULL || crash_module == NULL)
		return -1;
	fixture_dir = g_dir_make_tmp("sdr-pkcs11-XXXXXX", &error);
	if (fixture_dir == NULL)
		return -1;
	home = g_build_filename(fixture_dir, "home", NULL);
	g_mkdir_with_parents(home, 0700);
	g_setenv("HOME", home, TRUE);
	{
		g_autofree char *config = g_build_filename(home, ".config", NULL);
		g_setenv("XDG_CONFIG_HOME", config, TRUE);
	}
	state_dir = g_build_filename(fixture_dir, "testp11", NULL);
	g_mkdir_with_parents(state_dir, 0700);
	g_setenv("SDR_TESTP11_DIR", state_dir, TRUE);

	script = g_build_filename(root, "tests", "fixtures", "softhsm-fixture.sh", NULL);
	{
		const char *argv[] = { "sh", script, fixture_dir, NULL };
		if (!g_spawn_sync(NULL, (char **)argv, NULL,
		                  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
		                  NULL, NULL, &status, &error))
			return -1;
	}
	if (!g_spawn_check_wait_status(status, NULL))
		return -1;
	conf = g_build_filename(fixture_dir, "softhsm2.conf", NULL);
	g_setenv("SOFTHSM2_CONF", conf, TRUE);
	return 0;
}

static int
group_teardown(void **unused)
{
	if (fixture_dir != NULL) {
		const char *argv[] = { "rm", "-rf", fixture_dir, NULL };
		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
		             NULL, NULL);
	}
	g_clear_pointer(&fixture_dir, g_free);
	g_clear_pointer(&state_dir, g_free);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_tokens),
		cmocka_unit_test(test_list_certificates),
		cmocka_unit_test(test_login_and_sign),
		cmocka_unit_test(test_sign_errors),
		cmocka_unit_test(test_pin_tries),
		cmocka_unit_test(test_pin_locked),
		cmocka_unit_test(test_protected_auth_path),
		cmocka_unit_test(test_protected_final_try),
		cmocka_unit_test(test_pin_refused_locally),
		cmocka_unit_test(test_removal_during_batch),
		cmocka_unit_test(test_refresh_keeps_session),
		cmocka_unit_test(test_bad_modules),
		cmocka_unit_test(test_crashing_module),
		cmocka_unit_test(test_probe_modes),
		cmocka_unit_test(test_discovery_dedupe),
		cmocka_unit_test(test_discovery_p11kit),
	};
	const char *tools[] = { "openssl", "softhsm2-util", "pkcs11-tool" };

	for (gsize i = 0; i < G_N_ELEMENTS(tools); i++) {
		g_autofree char *p = g_find_program_in_path(tools[i]);
		if (p == NULL) {
			g_printerr("%s missing: skipped\n", tools[i]);
			return 77;
		}
	}
	if (!g_file_test(SOFTHSM, G_FILE_TEST_EXISTS))
		return 77;
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
