/* crash-module.c - a PKCS#11 module that crashes in C_Initialize, as broken vendor
 * middleware sometimes does. The token layer must survive loading it and report
 * it (SDR_ERROR_MODULE_LOAD). $SDR_CRASH_MODE: "abort" (default), "hang" (sleeps
 * a minute), "exit" (calls exit(3)). */
#include <p11-kit/pkcs11.h>

#include <stdlib.h>
#include <unistd.h>
#include <string.h>

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST crash_list;

static CK_RV
crash_initialize(CK_VOID_PTR args)
{
	const char *mode = getenv("SDR_CRASH_MODE");

	(void)args;
	if (mode != NULL && strcmp(mode, "hang") == 0)
		sleep(60);
	if (mode != NULL && strcmp(mode, "exit") == 0)
		exit(3);
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
