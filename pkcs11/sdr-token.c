/* sdr-token.c - the token manager (modules, slots, tokens, certificates) and
 * sessions (login, signing a digest).
 *
 * Enumeration goes through libp11; the PIN flags, login and signing go through
 * the module's own function list (same module instance), because libp11 caches
 * the token flags and offers neither raw ECDSA nor PSS with explicit parameters.
 */
#include "sdr-token-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/x509v3.h>
#include <string.h>

#define SDR_CKA_ID_MAX 256
#define SDR_SIGNATURE_MAX 2048 /* bytes: RSA-16384 */

struct _SdrTokenManager {
	GPtrArray *infos;        /* SdrModuleInfo, discovery order */
	GPtrArray *modules;      /* SdrModule (loaded ones, references) */
	GPtrArray *module_infos; /* the SdrModuleInfo of each, same index (not owned) */
	gboolean enumerated;
};

struct _SdrTokenSession {
	SdrTokenManager *manager;
	SdrModule *module;
	CK_FUNCTION_LIST_PTR fl;
	CK_SLOT_ID slot_id;
	CK_SESSION_HANDLE handle;
	gboolean open;
	gboolean logged_in;
	/* Found the token already logged in by another session of this process (one
	 * PIN for a signature and the S²LOW connection of the same command): the
	 * login is that session's, closing this one does not log the token out. */
	gboolean borrowed_login;
	gboolean key_found;
	CK_OBJECT_HANDLE key;
	guint attempts;
	gboolean previous_incorrect;
	SdrCertInfo *cert;
};

/* ---- CK_RV -> GError: the one place ---------------------------------------------- */

SdrErrorCode
sdr_token_ckr_code(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return SDR_ERROR_PIN_INCORRECT;
	case CKR_PIN_LOCKED:
	case CKR_PIN_EXPIRED:
		return SDR_ERROR_PIN_LOCKED;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_TOKEN_NOT_RECOGNIZED:
		return SDR_ERROR_CARD_REMOVED;
	case CKR_FUNCTION_CANCELED:
		return SDR_ERROR_CANCELLED;
	case CKR_KEY_HANDLE_INVALID:
	case CKR_OBJECT_HANDLE_INVALID:
	case CKR_SLOT_ID_INVALID:
		return SDR_ERROR_NOT_FOUND;
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
	case CKR_FUNCTION_NOT_SUPPORTED:
		return SDR_ERROR_UNSUPPORTED;
	case CKR_DATA_LEN_RANGE:
	case CKR_DATA_INVALID:
	case CKR_ARGUMENTS_BAD:
		return SDR_ERROR_BAD_REQUEST;
	case CKR_SESSION_COUNT:
	case CKR_OPERATION_ACTIVE:
	case CKR_SESSION_EXISTS:
		return SDR_ERROR_BUSY;
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_USER_TYPE_INVALID:
	case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
		return SDR_ERROR_FAILED;
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return SDR_ERROR_MODULE_LOAD;
	case CKR_DEVICE_ERROR:
	case CKR_DEVICE_MEMORY:
	case CKR_GENERAL_ERROR:
	case CKR_HOST_MEMORY:
	default:
		return SDR_ERROR_FAILED;
	}
}

void
sdr_token_set_ckr_error(GError **error, CK_RV rv, const char *what)
{
	SdrErrorCode code = sdr_token_ckr_code(rv);
	const char *msg;

	switch (code) {
	case SDR_ERROR_PIN_INCORRECT:
		msg = _("Incorrect PIN.");
		break;
	case SDR_ERROR_PIN_LOCKED:
		msg = _("The PIN of this token is blocked. Contact your certificate provider or "
		        "your administrator to unblock it with the PUK code.");
		break;
	case SDR_ERROR_CARD_REMOVED:
		msg = _("The token was removed. Insert it again and retry.");
		break;
	case SDR_ERROR_CANCELLED:
		msg = _("The operation was cancelled on the token.");
		break;
	case SDR_ERROR_NOT_FOUND:
		msg = _("The key or the slot is no longer on the token.");
		break;
	case SDR_ERROR_UNSUPPORTED:
		msg = _("The token does not support this operation.");
		break;
	case SDR_ERROR_BAD_REQUEST:
		msg = _("The token refused the data to sign.");
		break;
	case SDR_ERROR_BUSY:
		msg = _("The token is busy.");
		break;
	case SDR_ERROR_MODULE_LOAD:
		msg = _("The PKCS#11 module is not initialised.");
		break;
	default:
		msg = _("The token reported an error.");
		break;
	}
	if (what != NULL)
		g_set_error(error, SDR_ERROR, code, "%s (%s: 0x%08lx)", msg, what,
		            (unsigned long)rv);
	else
		g_set_error(error, SDR_ERROR, code, "%s (0x%08lx)", msg, (unsigned long)rv);
}

/* ---- Info structures ------------------------------------------------------------ */

static char *
ck_string(const CK_UTF8CHAR *s, gsize len)
{
	char *out = g_strndup((const char *)s, len);

	g_strchomp(out);
	if (!g_utf8_validate(out, -1, NULL)) {
		char *valid = g_utf8_make_valid(out, -1);
		g_free(out);
		out = valid;
	}
	return out;
}

static void
apply_token_flags(SdrTokenInfo *info, CK_FLAGS flags)
{
	info->login_required = (flags & CKF_LOGIN_REQUIRED) != 0;
	info->protected_auth_path = (flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	info->pin_count_low = (flags & CKF_USER_PIN_COUNT_LOW) != 0;
	info->pin_final_try = (flags & CKF_USER_PIN_FINAL_TRY) != 0;
	info->pin_locked = (flags & CKF_USER_PIN_LOCKED) != 0;
	info->pin_to_be_changed = (flags & CKF_USER_PIN_TO_BE_CHANGED) != 0;
}

/* ulMinPinLen / ulMaxPinLen as bounds we can trust: a value the token does not
 * know, beyond what a PIN can hold, or an inconsistent pair counts as "not
 * reported" (0), so a bad report never refuses a good PIN. */
static void
pin_lengths(const CK_TOKEN_INFO *ti, gulong *min_len, gulong *max_len)
{
	CK_ULONG lo = ti->ulMinPinLen, hi = ti->ulMaxPinLen;

	if (lo == CK_UNAVAILABLE_INFORMATION || lo > SDR_SECRET_MAX)
		lo = 0;
	if (hi == CK_UNAVAILABLE_INFORMATION || hi >= SDR_SECRET_MAX)
		hi = 0;
	if (hi != 0 && lo > hi)
		lo = hi = 0;
	*min_len = (gulong)lo;
	*max_len = (gulong)hi;
}

/* Fresh token information from the module (libp11 caches the flags). */
static SdrTokenInfo *
token_info_read(SdrModule *module, PKCS11_SLOT *slot, GError **error)
{
	CK_SLOT_ID slot_id = PKCS11_get_slotid_from_slot(slot);
	CK_TOKEN_INFO ti;
	CK_RV rv;
	SdrTokenInfo *info;

	memset(&ti, 0, sizeof ti);
	rv = module->fl->C_GetTokenInfo(slot_id, &ti);
	if (rv != CKR_OK) {
		sdr_token_set_ckr_error(error, rv, "C_GetTokenInfo");
		return NULL;
	}
	info = g_new0(SdrTokenInfo, 1);
	info->module_path = g_strdup(module->path);
	info->slot_id = slot_id;
	info->slot_description = g_strdup(slot->description ? slot->description : "");
	g_strchomp(info->slot_description);
	info->label = ck_string(ti.label, sizeof ti.label);
	info->manufacturer = ck_string(ti.manufacturerID, sizeof ti.manufacturerID);
	info->model = ck_string(ti.model, sizeof ti.model);
	info->serial = ck_string(ti.serialNumber, sizeof ti.serialNumber);
	apply_token_flags(info, ti.flags);
	pin_lengths(&ti, &info->pin_min_len, &info->pin_max_len);
	return info;
}

/* ---- Manager ------------------------------------------------------------------- */

SdrTokenManager *
sdr_token_manager_new(const SdrTokenOptions *options, GError **error)
{
	g_autoptr(SdrTokenManager) manager = g_new0(SdrTokenManager, 1);
	gboolean isolate = options == NULL || options->isolate_init;

	manager->infos = sdr_module_discover(options);
	manager->modules = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_module_unload);
	manager->module_infos = g_ptr_array_new();

	for (guint i = 0; i < manager->infos->len; i++) {
		SdrModuleInfo *info = manager->infos->pdata[i];
		GError *local = NULL;
		SdrModule *module;

		if (isolate && !sdr_module_is_loaded(info->path) &&
		    !sdr_module_probe(info->path, SDR_MODULE_PROBE_TIMEOUT_MS, &local)) {
			info->error = local;
			continue;
		}
		module = sdr_module_load(info, &local);
		if (module == NULL) {
			info->error = local;
			continue;
		}
		g_ptr_array_add(manager->modules, module);
		g_ptr_array_add(manager->module_infos, info);
	}

	if (options != NULL && options->only_module != NULL && manager->modules->len == 0) {
		SdrModuleInfo *info = manager->infos->len > 0 ? manager->infos->pdata[0] : NULL;
		if (info != NULL && info->error != NULL)
			g_set_error(error, SDR_ERROR, SDR_ERROR_NO_MODULE, "%s",
			            info->error->message);
		else
			g_set_error(error, SDR_ERROR, SDR_ERROR_NO_MODULE,
			            _("The PKCS#11 module %s cannot be used."),
			            options->only_module);
		return NULL;
	}
	return g_steal_pointer(&manager);
}

void
sdr_token_manager_free(SdrTokenManager *manager)
{
	if (manager == NULL)
		return;
	if (manager->modules != NULL)
		g_ptr_array_unref(manager->modules);
	if (manager->module_infos != NULL)
		g_ptr_array_unref(manager->module_infos);
	if (manager->infos != NULL)
		g_ptr_array_unref(manager->infos);
	g_free(manager);
}

GPtrArray *
sdr_token_manager_get_modules(SdrTokenManager *manager)
{
	g_return_val_if_fail(manager != NULL, NULL);
	return manager->infos;
}

gboolean
sdr_token_manager_refresh(SdrTokenManager *manager, GError **error)
{
	g_return_val_if_fail(manager != NULL, FALSE);

	for (guint i = 0; i < manager->modules->len; i++) {
		SdrModule *module = manager->modules->pdata[i];
		GError *local = NULL;

		/* One module failing to enumerate does not hide the others. */
		if (!sdr_module_enumerate(module, FALSE, &local)) {
			SdrModuleInfo *info = manager->module_infos->pdata[i];
			g_clear_error(&info->error);
			info->error = local;
		}
	}
	manager->enumerated = TRUE;
	return TRUE;
}

static gboolean
ensure_enumerated(SdrTokenManager *manager, GError **error)
{
	if (manager->enumerated)
		return TRUE;
	return sdr_token_manager_refresh(manager, error);
}

static gboolean
slot_has_token(PKCS11_SLOT *slot)
{
	return slot->token != NULL && slot->token->initialized;
}

GPtrArray *
sdr_token_manager_list_tokens(SdrTokenManager *manager, GError **error)
{
	g_autoptr(GPtrArray) out = NULL;

	g_return_val_if_fail(manager != NULL, NULL);
	if (!ensure_enumerated(manager, error))
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_token_info_free);
	for (guint i = 0; i < manager->modules->len; i++) {
		SdrModule *module = manager->modules->pdata[i];
		for (unsigned int s = 0; s < module->nslots; s++) {
			SdrTokenInfo *info;
			if (!slot_has_token(&module->slots[s]))
				continue;
			/* A token pulled since the enumeration is simply not listed. */
			info = token_info_read(module, &module->slots[s], NULL);
			if (info != NULL)
				g_ptr_array_add(out, info);
		}
	}
	return g_steal_pointer(&out);
}

static gboolean
ids_equal(const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len)
{
	return a_len == b_len && a_len > 0 && memcmp(a, b, a_len) == 0;
}

static gboolean
cert_is_ca(X509 *cert)
{
	return X509_check_ca(cert) != 0;
}

static gboolean
token_has_key_for(PKCS11_TOKEN *token, const PKCS11_CERT *cert, gboolean login_required)
{
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0;

	if (PKCS11_enumerate_keys(token, &keys, &n) == 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (ids_equal(keys[i].id, keys[i].id_len, cert->id, cert->id_len))
				return TRUE;
		}
	}
	/* Private keys are often invisible before login: a public key with the
	 * same CKA_ID tells the pair is there. */
	keys = NULL;
	n = 0;
	if (PKCS11_enumerate_public_keys(token, &keys, &n) == 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (ids_equal(keys[i].id, keys[i].id_len, cert->id, cert->id_len))
				return TRUE;
		}
	}
	/* Neither visible: an end-entity certificate on a token that hides its
	 * objects before login is presumed to have its key. */
	return login_required && !cert_is_ca(cert->x509) && cert->id_len > 0;
}

GPtrArray *
sdr_token_manager_list_certificates(SdrTokenManager *manager, GError **error)
{
	g_autoptr(GPtrArray) out = NULL;
	g_autoptr(GHashTable) seen = NULL;

	g_return_val_if_fail(manager != NULL, NULL);
	if (!ensure_enumerated(manager, error))
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_cert_info_free);
	seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < manager->modules->len; i++) {
		SdrModule *module = manager->modules->pdata[i];
		for (unsigned int s = 0; s < module->nslots; s++) {
			PKCS11_SLOT *slot = &module->slots[s];
			g_autoptr(SdrTokenInfo) token = NULL;
			PKCS11_CERT *certs = NULL;
			unsigned int ncerts = 0;

			if (!slot_has_token(slot))
				continue;
			token = token_info_read(module, slot, NULL);
			if (token == NULL)
				continue; /* pulled since the enumeration */
			if (PKCS11_enumerate_certs(slot->token, &certs, &ncerts) != 0)
				continue;
			for (unsigned int c = 0; c < ncerts; c++) {
				SdrCertInfo *info;

				if (certs[c].x509 == NULL || certs[c].id_len > SDR_CKA_ID_MAX)
					continue;
				info = sdr_cert_info_new_from_x509(certs[c].x509);
				if (info == NULL)
					continue;
				/* The same token seen through two modules: keep the first. */
				if (g_hash_table_contains(seen, info->id)) {
					sdr_cert_info_free(info);
					continue;
				}
				info->token = sdr_token_info_copy(token);
				info->cka_id = g_bytes_new(certs[c].id, certs[c].id_len);
				info->cka_label = g_strdup(certs[c].label);
				info->has_private_key = token_has_key_for(slot->token, &certs[c],
				                                          token->login_required);
				g_ptr_array_add(out, info);
				g_hash_table_add(seen, info->id);
			}
		}
	}
	return g_steal_pointer(&out);
}

/* ---- Sessions ------------------------------------------------------------------ */

static SdrModule *
module_for_path(SdrTokenManager *manager, const char *path)
{
	for (guint i = 0; i < manager->modules->len; i++) {
		SdrModule *module = manager->modules->pdata[i];
		if (g_strcmp0(module->path, path) == 0)
			return module;
	}
	return NULL;
}

/* Opens a session on the token of found (taken: freed on failure). */
static SdrTokenSession *
session_open_found(SdrTokenManager *manager, SdrCertInfo *found, GError **error)
{
	SdrTokenSession *session;
	SdrModule *module;
	CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
	CK_RV rv;

	module = found->token != NULL ? module_for_path(manager, found->token->module_path) : NULL;
	if (module == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		            _("The certificate %s is not on any token present."), found->id);
		sdr_cert_info_free(found);
		return NULL;
	}
	rv = module->fl->C_OpenSession(found->token->slot_id, CKF_SERIAL_SESSION, NULL, NULL,
	                               &handle);
	if (rv != CKR_OK) {
		sdr_token_set_ckr_error(error, rv, "C_OpenSession");
		sdr_cert_info_free(found);
		return NULL;
	}
	session = g_new0(SdrTokenSession, 1);
	session->manager = manager;
	session->module = module;
	session->fl = module->fl;
	session->slot_id = found->token->slot_id;
	session->handle = handle;
	session->open = TRUE;
	session->cert = found;
	return session;
}

SdrTokenSession *
sdr_token_session_open(SdrTokenManager *manager, const char *cert_id, GError **error)
{
	g_autoptr(GPtrArray) certs = NULL;

	g_return_val_if_fail(manager != NULL, NULL);
	g_return_val_if_fail(cert_id != NULL, NULL);

	certs = sdr_token_manager_list_certificates(manager, error);
	if (certs == NULL)
		return NULL;
	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *c = certs->pdata[i];

		/* Take the certificate out of the array, which frees the others. */
		if (g_ascii_strcasecmp(c->id, cert_id) == 0)
			return session_open_found(manager, g_ptr_array_steal_index(certs, i),
			                          error);
	}
	g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
	            _("The certificate %s is not on any token present."), cert_id);
	return NULL;
}

/* TRUE when the slot of the listed certificate still holds its token (the same serial
 * number and label): the listing can be trusted without being read again. */
static gboolean
slot_still_holds(SdrTokenManager *manager, const SdrCertInfo *cert)
{
	SdrModule *module;
	CK_TOKEN_INFO ti;
	g_autofree char *serial = NULL, *label = NULL;

	if (cert->token == NULL)
		return FALSE;
	module = module_for_path(manager, cert->token->module_path);
	memset(&ti, 0, sizeof ti);
	if (module == NULL || module->fl->C_GetTokenInfo(cert->token->slot_id, &ti) != CKR_OK)
		return FALSE;
	serial = ck_string(ti.serialNumber, sizeof ti.serialNumber);
	label = ck_string(ti.label, sizeof ti.label);
	return g_strcmp0(serial, cert->token->serial) == 0 &&
	       g_strcmp0(label, cert->token->label) == 0;
}

SdrTokenSession *
sdr_token_session_open_cert(SdrTokenManager *manager, const SdrCertInfo *cert, GError **error)
{
	SdrCertInfo *copy;

	g_return_val_if_fail(manager != NULL, NULL);
	g_return_val_if_fail(cert != NULL && cert->id != NULL, NULL);
	/* Another token in that slot since (or the module reloaded): look it up again. */
	if (!slot_still_holds(manager, cert) || (copy = sdr_cert_info_copy(cert)) == NULL)
		return sdr_token_session_open(manager, cert->id, error);
	return session_open_found(manager, copy, error);
}

const SdrCertInfo *
sdr_token_session_get_cert(SdrTokenSession *session)
{
	g_return_val_if_fail(session != NULL, NULL);
	return session->cert;
}

static void
session_close(SdrTokenSession *session)
{
	if (!session->open)
		return;
	if (session->logged_in && !session->borrowed_login)
		session->fl->C_Logout(session->handle);
	session->fl->C_CloseSession(session->handle);
	session->open = FALSE;
	session->logged_in = FALSE;
	session->borrowed_login = FALSE;
	session->key_found = FALSE;
}

void
sdr_token_session_free(SdrTokenSession *session)
{
	if (session == NULL)
		return;
	session_close(session);
	sdr_cert_info_free(session->cert);
	g_free(session);
}

/* The token is gone: forget the session without talking to it further. */
static void
session_mark_removed(SdrTokenSession *session)
{
	if (!session->open)
		return;
	session->fl->C_CloseSession(session->handle);
	session->open = FALSE;
	session->logged_in = FALSE;
	session->key_found = FALSE;
}

static gboolean
session_check_open(SdrTokenSession *session, GError **error)
{
	if (session->open)
		return TRUE;
	g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CARD_REMOVED,
	                    _("The token was removed. Insert it again and retry."));
	return FALSE;
}

static gboolean
read_token_info(SdrTokenSession *session, CK_TOKEN_INFO *ti, GError **error)
{
	CK_RV rv;

	memset(ti, 0, sizeof *ti);
	rv = session->fl->C_GetTokenInfo(session->slot_id, ti);
	if (rv != CKR_OK) {
		if (sdr_token_ckr_code(rv) == SDR_ERROR_CARD_REMOVED)
			session_mark_removed(session);
		sdr_token_set_ckr_error(error, rv, "C_GetTokenInfo");
		return FALSE;
	}
	return TRUE;
}

static gboolean
read_flags(SdrTokenSession *session, CK_FLAGS *flags, GError **error)
{
	CK_TOKEN_INFO ti;

	if (!read_token_info(session, &ti, error))
		return FALSE;
	*flags = ti.flags;
	return TRUE;
}

static void
set_locked_error(GError **error)
{
	sdr_token_set_ckr_error(error, CKR_PIN_LOCKED, NULL);
}

gboolean
sdr_token_session_is_logged_in(SdrTokenSession *session)
{
	CK_SESSION_INFO si;

	g_return_val_if_fail(session != NULL, FALSE);
	if (!session->open)
		return FALSE;
	if (session->fl->C_GetSessionInfo(session->handle, &si) != CKR_OK)
		return FALSE;
	return si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS;
}

char *
sdr_token_pin_length_hint(gulong min_len, gulong max_len)
{
	if (min_len > 0 && max_len > 0 && min_len == max_len)
		return g_strdup_printf(_("exactly %lu characters"), min_len);
	if (min_len > 0 && max_len > 0)
		return g_strdup_printf(_("%lu to %lu characters"), min_len, max_len);
	if (min_len > 0)
		return g_strdup_printf(_("at least %lu characters"), min_len);
	if (max_len > 0)
		return g_strdup_printf(_("at most %lu characters"), max_len);
	return NULL;
}

gboolean
sdr_token_pin_check(const SdrSecret *pin, gulong min_len, gulong max_len, GError **error)
{
	const char *p;
	gsize len;
	gboolean blank = TRUE;
	g_autofree char *hint = NULL;
	const char *why = NULL;

	g_return_val_if_fail(pin != NULL, FALSE);
	p = sdr_secret_get(pin);
	len = sdr_secret_len(pin);
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)p[i];

		if (c != ' ' && c != '\t')
			blank = FALSE;
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			why = _("The PIN contains a character that cannot be part of a PIN "
			        "(control character).");
			break;
		}
	}
	if (why == NULL && len == 0)
		why = _("No PIN was entered.");
	else if (why == NULL && blank)
		why = _("The PIN entered is only spaces.");
	else if (why == NULL && min_len > 0 && len < min_len)
		why = _("The PIN entered is too short for this key.");
	else if (why == NULL && max_len > 0 && len > max_len)
		why = _("The PIN entered is too long for this key.");
	if (why == NULL)
		return TRUE;
	hint = sdr_token_pin_length_hint(min_len, max_len);
	if (hint != NULL)
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("%s Nothing was sent to the key: no try was used (PIN of %s)."), why,
		            hint);
	else
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("%s Nothing was sent to the key: no try was used."), why);
	return FALSE;
}

/* Asks the callback (again while what it answers is refused locally). Returns the
 * PIN to send, or an empty secret on a protected path; NULL with *error. */
static SdrSecret *
ask_pin(SdrTokenSession *session, SdrPinRequest *request, SdrPinFunc pin_func, gpointer user_data,
        GError **error)
{
	g_autoptr(GError) refused = NULL;

	for (guint asks = 0; asks < SDR_PIN_MAX_ASKS; asks++) {
		g_autoptr(SdrSecret) pin = NULL;
		GError *local = NULL;

		request->attempt = ++session->attempts;
		request->rejected = refused != NULL ? refused->message : NULL;
		pin = pin_func(request, user_data, &local);
		if (pin == NULL) {
			if (local != NULL)
				g_propagate_error(error, local);
			else if (request->final_try)
				g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY,
				                    _("One PIN try is left and it was not "
				                      "confirmed: the token was not used."));
			else
				g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED,
				                    _("PIN entry was cancelled."));
			return NULL;
		}
		g_clear_error(&local);
		if (request->protected_path) {
			/* Never sent: the token asks by itself. */
			sdr_secret_clear(&pin);
			return sdr_secret_new();
		}
		g_clear_error(&refused);
		if (sdr_token_pin_check(pin, request->min_len, request->max_len, &refused))
			return g_steal_pointer(&pin);
	}
	g_propagate_error(error, g_steal_pointer(&refused));
	return NULL;
}

gboolean
sdr_token_session_login(SdrTokenSession *session, SdrPinFunc pin_func, gpointer user_data,
                        GError **error)
{
	CK_FLAGS before = 0, after = 0;
	g_autoptr(SdrSecret) pin = NULL;
	SdrPinRequest request;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	g_return_val_if_fail(session != NULL, FALSE);
	if (!session_check_open(session, error))
		return FALSE;
	if (sdr_token_session_is_logged_in(session)) {
		session->borrowed_login = !session->logged_in;
		session->logged_in = TRUE;
		return TRUE;
	}
	if (!read_token_info(session, &ti, error))
		return FALSE;
	before = ti.flags;
	if (before & CKF_USER_PIN_LOCKED) {
		set_locked_error(error);
		return FALSE;
	}

	memset(&request, 0, sizeof request);
	request.cert = session->cert;
	request.count_low = (before & CKF_USER_PIN_COUNT_LOW) != 0;
	request.final_try = (before & CKF_USER_PIN_FINAL_TRY) != 0;
	request.previous_incorrect = session->previous_incorrect;
	request.protected_path = (before & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	pin_lengths(&ti, &request.min_len, &request.max_len);

	if (pin_func == NULL && request.protected_path && request.final_try) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PIN_FINAL_TRY,
		                    _("One PIN try is left and nobody can confirm it: the token "
		                      "was not used."));
		return FALSE;
	}
	if (pin_func == NULL && !request.protected_path) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_CANCELLED,
		                    _("A PIN is needed and nobody can be asked for it."));
		return FALSE;
	}
	if (pin_func != NULL) {
		pin = ask_pin(session, &request, pin_func, user_data, error);
		if (pin == NULL)
			return FALSE;
	}
	if (request.protected_path) {
		/* The token or its middleware asks the PIN itself. */
		sdr_secret_clear(&pin);
		rv = session->fl->C_Login(session->handle, CKU_USER, NULL, 0);
	} else {
		rv = session->fl->C_Login(session->handle, CKU_USER,
		                          (CK_UTF8CHAR_PTR)sdr_secret_get(pin),
		                          (CK_ULONG)sdr_secret_len(pin));
		sdr_secret_clear(&pin);
	}

	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		session->logged_in = TRUE;
		session->previous_incorrect = FALSE;
		return TRUE;
	}
	if (sdr_token_ckr_code(rv) == SDR_ERROR_CARD_REMOVED) {
		session_mark_removed(session);
		sdr_token_set_ckr_error(error, rv, "C_Login");
		return FALSE;
	}
	session->previous_incorrect = sdr_token_ckr_code(rv) == SDR_ERROR_PIN_INCORRECT;
	/* Read the flags again to tell the caller where the token stands now. */
	if (read_flags(session, &after, NULL)) {
		if (after & CKF_USER_PIN_LOCKED) {
			set_locked_error(error);
			return FALSE;
		}
		if (session->previous_incorrect && (after & CKF_USER_PIN_FINAL_TRY)) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT,
			                    _("Incorrect PIN. Only one try is left: another wrong "
			                      "PIN will block the token."));
			return FALSE;
		}
		if (session->previous_incorrect && (after & CKF_USER_PIN_COUNT_LOW)) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_PIN_INCORRECT,
			                    _("Incorrect PIN. Few tries are left before the token "
			                      "is blocked."));
			return FALSE;
		}
	}
	sdr_token_set_ckr_error(error, rv, "C_Login");
	return FALSE;
}

void
sdr_token_session_logout(SdrTokenSession *session)
{
	if (session == NULL || !session->open)
		return;
	if (session->logged_in && !session->borrowed_login)
		session->fl->C_Logout(session->handle);
	session->logged_in = FALSE;
	session->borrowed_login = FALSE;
	session->key_found = FALSE;
}

static gboolean
find_key(SdrTokenSession *session, GError **error)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	gsize id_len = 0;
	const guint8 *id = g_bytes_get_data(session->cert->cka_id, &id_len);
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_ID, (void *)id, (CK_ULONG)id_len },
	};
	CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
	CK_ULONG count = 0;
	CK_RV rv;

	if (session->key_found)
		return TRUE;
	rv = session->fl->C_FindObjectsInit(session->handle, tmpl, G_N_ELEMENTS(tmpl));
	if (rv == CKR_OK) {
		rv = session->fl->C_FindObjects(session->handle, &obj, 1, &count);
		session->fl->C_FindObjectsFinal(session->handle);
	}
	if (rv != CKR_OK) {
		if (sdr_token_ckr_code(rv) == SDR_ERROR_CARD_REMOVED)
			session_mark_removed(session);
		sdr_token_set_ckr_error(error, rv, "C_FindObjects");
		return FALSE;
	}
	if (count == 0) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
		                    _("The private key of this certificate is not on the token."));
		return FALSE;
	}
	session->key = obj;
	session->key_found = TRUE;
	return TRUE;
}

static const guint8 digest_info_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                     0x01, 0x05, 0x00, 0x04, 0x20 };
static const guint8 digest_info_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                     0x02, 0x05, 0x00, 0x04, 0x30 };
static const guint8 digest_info_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                     0x03, 0x05, 0x00, 0x04, 0x40 };

GBytes *
sdr_token_session_sign(SdrTokenSession *session, SdrSigScheme scheme, SdrHashAlg hash,
                       const guint8 *digest, gsize digest_len, GError **error)
{
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS pss;
	guint8 input[128];
	gsize input_len = 0;
	const guint8 *prefix = NULL;
	gsize prefix_len = 0;
	CK_ULONG sig_len = 0;
	g_autofree guint8 *sig = NULL;
	CK_RV rv;

	g_return_val_if_fail(session != NULL, NULL);
	g_return_val_if_fail(digest != NULL, NULL);

	if (digest_len != sdr_hash_len(hash)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_BAD_REQUEST,
		            _("The digest is %zu bytes long; %s needs %zu."), (size_t)digest_len,
		            sdr_hash_name(hash), (size_t)sdr_hash_len(hash));
		return NULL;
	}
	if (!session_check_open(session, error))
		return NULL;
	if ((scheme == SDR_SIG_ECDSA) != (session->cert->key_scheme == SDR_SIG_ECDSA)) {
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("This signature scheme does not match the key of the "
		                      "certificate."));
		return NULL;
	}
	if (!find_key(session, error))
		return NULL;

	switch (scheme) {
	case SDR_SIG_RSA_PKCS1:
		switch (hash) {
		case SDR_HASH_SHA384:
			prefix = digest_info_sha384;
			prefix_len = sizeof digest_info_sha384;
			break;
		case SDR_HASH_SHA512:
			prefix = digest_info_sha512;
			prefix_len = sizeof digest_info_sha512;
			break;
		case SDR_HASH_SHA256:
		default:
			prefix = digest_info_sha256;
			prefix_len = sizeof digest_info_sha256;
			break;
		}
		memcpy(input, prefix, prefix_len);
		memcpy(input + prefix_len, digest, digest_len);
		input_len = prefix_len + digest_len;
		mech.mechanism = CKM_RSA_PKCS;
		break;
	case SDR_SIG_RSA_PSS:
		memset(&pss, 0, sizeof pss);
		switch (hash) {
		case SDR_HASH_SHA384:
			pss.hashAlg = CKM_SHA384;
			pss.mgf = CKG_MGF1_SHA384;
			break;
		case SDR_HASH_SHA512:
			pss.hashAlg = CKM_SHA512;
			pss.mgf = CKG_MGF1_SHA512;
			break;
		case SDR_HASH_SHA256:
		default:
			pss.hashAlg = CKM_SHA256;
			pss.mgf = CKG_MGF1_SHA256;
			break;
		}
		pss.sLen = digest_len;
		mech.mechanism = CKM_RSA_PKCS_PSS;
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof pss;
		memcpy(input, digest, digest_len);
		input_len = digest_len;
		break;
	case SDR_SIG_ECDSA:
		mech.mechanism = CKM_ECDSA;
		memcpy(input, digest, digest_len);
		input_len = digest_len;
		break;
	default:
		g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		                    _("Unknown signature scheme."));
		return NULL;
	}

	rv = session->fl->C_SignInit(session->handle, &mech, session->key);
	if (rv == CKR_OK)
		rv = session->fl->C_Sign(session->handle, input, (CK_ULONG)input_len, NULL,
		                         &sig_len);
	if (rv == CKR_OK && (sig_len == 0 || sig_len > SDR_SIGNATURE_MAX))
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK) {
		sig = g_malloc(sig_len);
		rv = session->fl->C_Sign(session->handle, input, (CK_ULONG)input_len, sig,
		                         &sig_len);
	}
	memset(input, 0, sizeof input);
	if (rv != CKR_OK) {
		if (sdr_token_ckr_code(rv) == SDR_ERROR_CARD_REMOVED)
			session_mark_removed(session);
		if (rv == CKR_USER_NOT_LOGGED_IN)
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_FAILED,
			                    _("Log in to the token before signing."));
		else
			sdr_token_set_ckr_error(error, rv, "C_Sign");
		return NULL;
	}
	return g_bytes_new_take(g_steal_pointer(&sig), sig_len);
}

/* Raw private-key operation for sdr-token-pkey.c (TLS client authentication):
 * the input goes to the token as is (CKM_RSA_PKCS: a DigestInfo or TLS 1.0's
 * MD5+SHA-1; CKM_RSA_X_509: a block padded by OpenSSL (PSS); CKM_ECDSA: the digest). */
GBytes *
sdr_token_session_sign_raw(SdrTokenSession *session, gulong mechanism, const guint8 *in,
                           gsize in_len, GError **error)
{
	CK_MECHANISM mech = { (CK_MECHANISM_TYPE)mechanism, NULL, 0 };
	CK_ULONG sig_len = 0;
	g_autofree guint8 *sig = NULL;
	CK_RV rv;

	g_return_val_if_fail(session != NULL, NULL);
	g_return_val_if_fail(in != NULL, NULL);
	if (!session_check_open(session, error))
		return NULL;
	if (!find_key(session, error))
		return NULL;
	rv = session->fl->C_SignInit(session->handle, &mech, session->key);
	if (rv == CKR_OK)
		rv = session->fl->C_Sign(session->handle, (CK_BYTE_PTR)in, (CK_ULONG)in_len, NULL,
		                         &sig_len);
	if (rv == CKR_OK && (sig_len == 0 || sig_len > SDR_SIGNATURE_MAX))
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK) {
		sig = g_malloc(sig_len);
		rv = session->fl->C_Sign(session->handle, (CK_BYTE_PTR)in, (CK_ULONG)in_len, sig,
		                         &sig_len);
	}
	if (rv != CKR_OK) {
		if (sdr_token_ckr_code(rv) == SDR_ERROR_CARD_REMOVED)
			session_mark_removed(session);
		sdr_token_set_ckr_error(error, rv, "C_Sign");
		return NULL;
	}
	return g_bytes_new_take(g_steal_pointer(&sig), sig_len);
}
