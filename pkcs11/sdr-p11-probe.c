/* sdr-p11-probe.c - sinadur-p11-probe MODULE: loads one PKCS#11 module in a process
 * of its own and says how that went, so that a module that crashes, hangs or exits
 * during its initialisation cannot take sinadur down.
 *
 * The token layer (sdr-module.c) starts it with posix_spawn() (stdin and stderr on
 * /dev/null, stdout a pipe) for every module before loading that module in
 * process: dlopen, C_GetFunctionList, C_Initialize, C_GetInfo, C_GetSlotList,
 * C_Finalize. The report (sdr-probe-report.h) is written on the standard output as
 * it was at start; the module's own output to stdout goes to /dev/null. Exit 0 once
 * the report is written, 2 on a wrong command line (nothing written), 3 when the
 * report could not be written. Installed in $libexecdir/sinadur; not for people to
 * run (though running it by hand on a module prints the report).
 */
#include "sdr-probe-report.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <string.h>
#include <unistd.h>

/* ISO C has no object-to-function pointer conversion; POSIX guarantees dlsym()
 * results can be used this way. */
static CK_C_GetFunctionList
lookup_get_function_list(void *dl)
{
	CK_C_GetFunctionList fn = NULL;
	void *sym = dlsym(dl, "C_GetFunctionList");

	G_STATIC_ASSERT(sizeof fn == sizeof sym);
	memcpy(&fn, &sym, sizeof fn);
	return fn;
}

/* A CK_UTF8CHAR[32] field, blank-padded, as a C string (validity is the writer's). */
static void
copy_padded(char *out, gsize out_size, const CK_UTF8CHAR *in, gsize in_len)
{
	gsize n = MIN(in_len, out_size - 1);

	memcpy(out, in, n);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
	/* An embedded NUL ends the string: the rest is padding to us. */
}

static void
probe(const char *path, SdrProbeReport *report)
{
	void *dl;
	CK_C_GetFunctionList get_list;
	CK_FUNCTION_LIST_PTR fl = NULL;
	CK_C_INITIALIZE_ARGS args;
	CK_INFO info;
	CK_ULONG count = 0;
	CK_RV rv;
	const char *err;

	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;

	if (access(path, F_OK) != 0) {
		report->stage = SDR_PROBE_NO_FILE;
		return;
	}
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		report->stage = SDR_PROBE_DLOPEN;
		err = dlerror();
		if (err != NULL)
			g_strlcpy(report->detail, err, sizeof report->detail);
		return;
	}
	get_list = lookup_get_function_list(dl);
	if (get_list == NULL) {
		report->stage = SDR_PROBE_NO_SYMBOL;
		return;
	}
	rv = get_list(&fl);
	if (rv != CKR_OK || fl == NULL || fl->C_Initialize == NULL) {
		report->stage = SDR_PROBE_GET_FUNCTION_LIST;
		report->rv = rv;
		return;
	}
	rv = fl->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		report->stage = SDR_PROBE_INITIALIZE;
		report->rv = rv;
		return;
	}
	memset(&info, 0, sizeof info);
	rv = fl->C_GetInfo != NULL ? fl->C_GetInfo(&info) : CKR_FUNCTION_NOT_SUPPORTED;
	if (rv != CKR_OK) {
		report->stage = SDR_PROBE_INFO;
		report->rv = rv;
		return;
	}
	report->cryptoki_major = info.cryptokiVersion.major;
	report->cryptoki_minor = info.cryptokiVersion.minor;
	copy_padded(report->manufacturer, sizeof report->manufacturer, info.manufacturerID,
	            sizeof info.manufacturerID);
	copy_padded(report->description, sizeof report->description, info.libraryDescription,
	            sizeof info.libraryDescription);
	rv = fl->C_GetSlotList != NULL ? fl->C_GetSlotList(CK_FALSE, NULL, &count)
	                               : CKR_FUNCTION_NOT_SUPPORTED;
	if (rv != CKR_OK) {
		report->stage = SDR_PROBE_SLOT_LIST;
		report->rv = rv;
		return;
	}
	report->slots = (guint)MIN(count, (CK_ULONG)SDR_PROBE_SLOTS_MAX);
	if (fl->C_Finalize != NULL)
		fl->C_Finalize(NULL);
	report->stage = SDR_PROBE_OK;
}

static gboolean
write_all(int fd, const char *data, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

int
main(int argc, char **argv)
{
	SdrProbeReport report;
	g_autofree char *text = NULL;
	int out, null_fd;

	if (argc != 2 || argv[1][0] == '\0')
		return 2;
	/* The report keeps the standard output we were given; the module gets
	 * /dev/null there, so nothing it prints can mix with the report. */
	out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out < 0 || null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		_exit(3);
	close(null_fd);

	memset(&report, 0, sizeof report);
	probe(argv[1], &report);
	text = sdr_probe_report_format(&report);
	/* _exit: no atexit handler or library destructor of the module runs. */
	_exit(write_all(out, text, strlen(text)) ? 0 : 3);
}
