/* crash-module.c - a PKCS#11 module that crashes in C_Initialize, as broken vendor
 * middleware sometimes does. The token layer must survive loading it and report
 * it (SDR_ERROR_MODULE_LOAD). */
#include <p11-kit/pkcs11.h>

#include <stdlib.h>
#include <string.h>

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST crash_list;

static CK_RV
crash_initialize(CK_VOID_PTR args)
{
	(void)args;
	abort();
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(&crash_list, 0, sizeof crash_list);
	crash_list.version.major = 2;
	crash_list.version.minor = 40;
	crash_list.C_Initialize = crash_initialize;
	*list = &crash_list;
	return CKR_OK;
}
