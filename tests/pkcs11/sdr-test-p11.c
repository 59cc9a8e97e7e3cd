/* sdr-test-p11.c - a PKCS#11 module for the tests: forwards every call to SoftHSM2
 * and adds what SoftHSM cannot do, driven by files in $SDR_TESTP11_DIR:
 *
 *   tries      remaining user PIN tries (absent = 3). A wrong PIN decrements it,
 *              the right PIN resets it to 3, 0 = CKR_PIN_LOCKED. C_GetTokenInfo
 *              reports CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED accordingly.
 *   removed    exists = the token is pulled: no token in the slot, sessions
 *              closed, calls fail with CKR_DEVICE_REMOVED. Delete = re-insertion.
 *   protected  exists = the token has a protected authentication path
 *              (CKF_PROTECTED_AUTHENTICATION_PATH); C_Login with a NULL PIN
 *              "types" the PIN written in this file on the imaginary PIN pad.
 *   pad_wait   exists = that C_Login waits (up to two minutes) until the file is
 *              deleted: the person has not typed on the PIN pad yet.
 *   logins     counter of user C_Login calls (written by the module), so tests
 *              can check that nobody retried behind their back.
 *   remove_after  N = the token is pulled (removed is created) after N more
 *              signatures (C_Sign returning a signature); decremented by each.
 *   signs      counter of signatures made (C_Sign returning a signature), written
 *              by the module.
 *   delay_ms   N = each signature takes N more milliseconds (a slow key).
 *   hold_at    N = the signature that brings signs to N or more waits (up to two
 *              minutes) until this file is deleted, so that a test can act in the
 *              middle of a batch (cancel it) without racing the key.
 *   min_len    ulMinPinLen / ulMaxPinLen reported by C_GetTokenInfo (absent =
 *   max_len    SoftHSM's own values). Only reported: C_Login does not check them.
 *   trace      exists = each user C_Login writes "sdr-test-p11: C_Login" on
 *              stderr (fd 2, unbuffered), so a test can check what was printed
 *              before the login started.
 *
 * $SDR_TESTP11_MODULE names the wrapped module (default SoftHSM2).
 */
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TRIES 3

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST real_list;
static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST wrapped;
static int was_removed;

static void
state_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("SDR_TESTP11_DIR");

	snprintf(buf, len, "%s/%s", dir != NULL ? dir : "/nonexistent", name);
}

static int
state_exists(const char *name)
{
	char path[4096];

	state_path(path, sizeof path, name);
	return access(path, F_OK) == 0;
}

static int
read_int(const char *name, int fallback)
{
	char path[4096];
	FILE *f;
	int value = fallback;

	state_path(path, sizeof path, name);
	f = fopen(path, "r");
	if (f == NULL)
		return fallback;
	if (fscanf(f, "%d", &value) != 1)
		value = fallback;
	fclose(f);
	return value;
}

static void
write_int(const char *name, int value)
{
	char path[4096];
	FILE *f;

	state_path(path, sizeof path, name);
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "%d\n", value);
	fclose(f);
}

/* A pulled token loses its sessions and its login, as a real one does. */
static int
removed(void)
{
	int now = state_exists("removed");

	if (now && !was_removed) {
		CK_SLOT_ID slots[64];
		CK_ULONG n = 64;
		if (real->C_GetSlotList(CK_FALSE, slots, &n) == CKR_OK) {
			for (CK_ULONG i = 0; i < n; i++)
				real->C_CloseAllSessions(slots[i]);
		}
	}
	was_removed = now;
	return now;
}

static CK_RV
t_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	if (present && removed()) {
		*count = 0;
		return CKR_OK;
	}
	return real->C_GetSlotList(present, list, count);
}

static CK_RV
t_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CK_RV rv = real->C_GetSlotInfo(slot, info);

	if (rv == CKR_OK && removed())
		info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
	return rv;
}

static CK_RV
t_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;
	int tries;

	if (removed())
		return CKR_TOKEN_NOT_PRESENT;
	rv = real->C_GetTokenInfo(slot, info);
	if (rv != CKR_OK)
		return rv;
	tries = read_int("tries", MAX_TRIES);
	info->flags &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
	                           CKF_USER_PIN_LOCKED | CKF_PROTECTED_AUTHENTICATION_PATH);
	if (tries > 0 && tries < MAX_TRIES)
		info->flags |= CKF_USER_PIN_COUNT_LOW;
	if (tries == 1)
		info->flags |= CKF_USER_PIN_FINAL_TRY;
	if (tries <= 0)
		info->flags |= CKF_USER_PIN_LOCKED;
	if (state_exists("protected"))
		info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	info->ulMinPinLen = (CK_ULONG)read_int("min_len", (int)info->ulMinPinLen);
	info->ulMaxPinLen = (CK_ULONG)read_int("max_len", (int)info->ulMaxPinLen);
	return CKR_OK;
}

static CK_RV
t_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
              CK_SESSION_HANDLE_PTR session)
{
	if (removed())
		return CKR_TOKEN_NOT_PRESENT;
	return real->C_OpenSession(slot, flags, app, notify, session);
}

static CK_RV
t_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	char pad[256];
	int tries;
	CK_RV rv;

	if (removed())
		return CKR_DEVICE_REMOVED;
	if (user != CKU_USER)
		return real->C_Login(session, user, pin, len);
	write_int("logins", read_int("logins", 0) + 1);
	if (state_exists("trace")) {
		static const char msg[] = "sdr-test-p11: C_Login\n";
		if (write(2, msg, sizeof msg - 1) < 0) {
			/* nothing to do: the trace is best effort */
		}
	}
	tries = read_int("tries", MAX_TRIES);
	if (tries <= 0)
		return CKR_PIN_LOCKED;
	if (pin == NULL) {
		char path[4096];
		FILE *f;
		size_t n;

		if (!state_exists("protected"))
			return CKR_ARGUMENTS_BAD;
		for (int waited = 0; state_exists("pad_wait") && waited < 120 * 50; waited++)
			usleep(20 * 1000);
		state_path(path, sizeof path, "protected");
		f = fopen(path, "r");
		if (f == NULL)
			return CKR_FUNCTION_CANCELED;
		n = fread(pad, 1, sizeof pad - 1, f);
		fclose(f);
		while (n > 0 && (pad[n - 1] == '\n' || pad[n - 1] == '\r'))
			n--;
		pad[n] = '\0';
		pin = (CK_UTF8CHAR_PTR)pad;
		len = (CK_ULONG)n;
	}
	rv = real->C_Login(session, user, pin, len);
	memset(pad, 0, sizeof pad);
	if (rv == CKR_PIN_INCORRECT) {
		write_int("tries", tries - 1);
		if (tries - 1 <= 0)
			return CKR_PIN_LOCKED;
	} else if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		write_int("tries", MAX_TRIES);
	}
	return rv;
}

#define GONE_IF_REMOVED                                                                            \
	if (removed())                                                                             \
	return CKR_DEVICE_REMOVED

static CK_RV
t_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR i)
{
	GONE_IF_REMOVED;
	return real->C_GetSessionInfo(s, i);
}

static CK_RV
t_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	GONE_IF_REMOVED;
	return real->C_FindObjectsInit(s, t, n);
}

static CK_RV
t_FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o, CK_ULONG max, CK_ULONG_PTR n)
{
	GONE_IF_REMOVED;
	return real->C_FindObjects(s, o, max, n);
}

static CK_RV
t_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	GONE_IF_REMOVED;
	return real->C_GetAttributeValue(s, o, t, n);
}

static CK_RV
t_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	GONE_IF_REMOVED;
	return real->C_SignInit(s, m, k);
}

static CK_RV
t_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig, CK_ULONG_PTR sl)
{
	CK_RV rv;
	int left;

	GONE_IF_REMOVED;
	rv = real->C_Sign(s, d, dl, sig, sl);
	if (rv == CKR_OK && sig != NULL) {
		int n = read_int("signs", 0) + 1;

		write_int("signs", n);
		if (read_int("delay_ms", 0) > 0)
			usleep((useconds_t)read_int("delay_ms", 0) * 1000);
		/* hold_at N: the N-th signature waits until the test deletes the file. */
		for (int waited = 0; state_exists("hold_at") && n >= read_int("hold_at", n + 1) &&
		                     waited < 120 * 50;
		     waited++)
			usleep(20 * 1000);
	}
	/* remove_after N: the token is pulled after N signatures (a mid-batch removal). */
	if (rv == CKR_OK && sig != NULL && state_exists("remove_after")) {
		left = read_int("remove_after", 0) - 1;
		write_int("remove_after", left);
		if (left <= 0) {
			char path[4096];
			FILE *f;

			state_path(path, sizeof path, "removed");
			f = fopen(path, "w");
			if (f != NULL)
				fclose(f);
		}
	}
	return rv;
}

static CK_RV
t_Logout(CK_SESSION_HANDLE s)
{
	GONE_IF_REMOVED;
	return real->C_Logout(s);
}

static void *
lookup(void *dl, const char *name)
{
	return dlsym(dl, name);
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if (real == NULL) {
		const char *path = getenv("SDR_TESTP11_MODULE");
		CK_C_GetFunctionList get_list = NULL;
		CK_FUNCTION_LIST_PTR r = NULL;
		void *dl, *sym;

		if (path == NULL)
			path = "/usr/lib/softhsm/libsofthsm2.so";
		dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (dl == NULL)
			return CKR_GENERAL_ERROR;
		sym = lookup(dl, "C_GetFunctionList");
		if (sym == NULL)
			return CKR_GENERAL_ERROR;
		memcpy(&get_list, &sym, sizeof get_list);
		if (get_list(&r) != CKR_OK || r == NULL)
			return CKR_GENERAL_ERROR;
		real_list = *r;
		real = &real_list;
		wrapped = *r;
		wrapped.C_GetSlotList = t_GetSlotList;
		wrapped.C_GetSlotInfo = t_GetSlotInfo;
		wrapped.C_GetTokenInfo = t_GetTokenInfo;
		wrapped.C_OpenSession = t_OpenSession;
		wrapped.C_Login = t_Login;
		wrapped.C_Logout = t_Logout;
		wrapped.C_GetSessionInfo = t_GetSessionInfo;
		wrapped.C_FindObjectsInit = t_FindObjectsInit;
		wrapped.C_FindObjects = t_FindObjects;
		wrapped.C_GetAttributeValue = t_GetAttributeValue;
		wrapped.C_SignInit = t_SignInit;
		wrapped.C_Sign = t_Sign;
	}
	*list = &wrapped;
	return CKR_OK;
}
