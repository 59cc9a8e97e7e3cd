/* sdr-s2low-keyring.c - the S²LOW HTTP Basic password in the desktop keyring (the
 * Secret Service through libsecret: GNOME Keyring, KWallet...), never in a file.
 * Schema "fr.sinadur.S2low", one item per (url, login). */
#include "sdr-s2low.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#ifdef SDR_HAVE_LIBSECRET
#include <libsecret/secret.h>

static const SecretSchema *
schema(void)
{
	static const SecretSchema s = {
		"fr.sinadur.S2low",
		SECRET_SCHEMA_NONE,
		{
		        { "url", SECRET_SCHEMA_ATTRIBUTE_STRING },
		        { "login", SECRET_SCHEMA_ATTRIBUTE_STRING },
		        { NULL, 0 },
		},
		0,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
	};
	return &s;
}

/* The one place a libsecret / D-Bus error becomes ours. */
static void
keyring_error(GError *e, GError **error)
{
	g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
	            _("The desktop keyring (Secret Service) cannot be used: %s. The S²LOW "
	              "password is kept only there: open a desktop session (GNOME Keyring, "
	              "KWallet) and try again."),
	            e != NULL ? e->message : "?");
	g_clear_error(&e);
}
#endif

static gboolean
check_args(const char *url, const char *login, GError **error)
{
	if (url == NULL || *url == '\0' || login == NULL || *login == '\0') {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CONFIG,
		                    _("[s2low] url and [s2low] login must be set before a password "
		                      "can be stored."));
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_s2low_keyring_store(const char *url, const char *login, const SdrSecret *password,
                        GError **error)
{
	if (!check_args(url, login, error))
		return FALSE;
#ifdef SDR_HAVE_LIBSECRET
	{
		g_autofree char *label = g_strdup_printf("S²LOW %s (%s)", login, url);
		GError *e = NULL;

		if (!secret_password_store_sync(schema(), SECRET_COLLECTION_DEFAULT, label,
		                                sdr_secret_get(password), NULL, &e, "url", url,
		                                "login", login, NULL)) {
			keyring_error(e, error);
			return FALSE;
		}
		return TRUE;
	}
#else
	(void)password;
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
	                    _("This sinadur was built without the desktop keyring (libsecret): "
	                      "it cannot keep an S²LOW password."));
	return FALSE;
#endif
}

SdrSecret *
sdr_s2low_keyring_lookup(const char *url, const char *login, GError **error)
{
	if (!check_args(url, login, error))
		return NULL;
#ifdef SDR_HAVE_LIBSECRET
	{
		GError *e = NULL;
		char *p = secret_password_lookup_nonpageable_sync(schema(), NULL, &e, "url", url,
		                                                  "login", login, NULL);
		SdrSecret *secret;

		if (e != NULL) {
			keyring_error(e, error);
			return NULL;
		}
		if (p == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("No S²LOW password is stored for “%s”: run “sinadur s2low "
			              "login” once."),
			            login);
			return NULL;
		}
		secret = sdr_secret_new_from_data(p, strlen(p));
		secret_password_free(p);
		if (secret == NULL)
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			                    _("The password is too long."));
		return secret;
	}
#else
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
	                    _("This sinadur was built without the desktop keyring (libsecret): "
	                      "it cannot keep an S²LOW password."));
	return NULL;
#endif
}

gboolean
sdr_s2low_keyring_clear(const char *url, const char *login, gboolean *removed, GError **error)
{
	if (!check_args(url, login, error))
		return FALSE;
#ifdef SDR_HAVE_LIBSECRET
	{
		GError *e = NULL;
		gboolean gone = secret_password_clear_sync(schema(), NULL, &e, "url", url, "login",
		                                           login, NULL);

		if (e != NULL) {
			keyring_error(e, error);
			return FALSE;
		}
		if (removed != NULL)
			*removed = gone;
		return TRUE;
	}
#else
	(void)removed;
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
	                    _("This sinadur was built without the desktop keyring (libsecret): "
	                      "it cannot keep an S²LOW password."));
	return FALSE;
#endif
}
