/* lock-module.c - a well-behaved PKCS#11 module (no slot) whose C_Initialize takes
 * the mutex of libsdr-test-lock.so, as a vendor module takes the locks of the
 * libraries it shares with its host (libcrypto, libpcsclite). Probed from a
 * process whose other thread holds that mutex, it initialises fine in a process of
 * its own and waits for ever in a fork()ed copy of the host (test-probe.c). */
#include "test-lock.h"

#include <p11-kit/pkcs11.h>

#include <string.h>

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST lock_list;

static CK_RV
lock_initialize(CK_VOID_PTR args)
{
	(void)args;
	sdr_test_lock_touch();
	return CKR_OK;
}

static CK_RV
lock_finalize(CK_VOID_PTR reserved)
{
	(void)reserved;
	return CKR_OK;
}

static CK_RV
lock_get_info(CK_INFO_PTR info)
{
	memset(info, 0, sizeof *info);
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	memset(info->manufacturerID, ' ', sizeof info->manufacturerID);
	memcpy(info->manufacturerID, "sinadur tests", 13);
	memset(info->libraryDescription, ' ', sizeof info->libraryDescription);
	memcpy(info->libraryDescription, "lock module", 11);
	return CKR_OK;
}

static CK_RV
lock_get_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR slots, CK_ULONG_PTR count)
{
	(void)present;
	(void)slots;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	*count = 0;
	return CKR_OK;
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(&lock_list, 0, sizeof lock_list);
	lock_list.version.major = 2;
	lock_list.version.minor = 40;
	lock_list.C_Initialize = lock_initialize;
	lock_list.C_Finalize = lock_finalize;
	lock_list.C_GetInfo = lock_get_info;
	lock_list.C_GetSlotList = lock_get_slot_list;
	*list = &lock_list;
	return CKR_OK;
}
