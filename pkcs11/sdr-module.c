/* sdr-module.c - finding PKCS#11 modules, probing them in a process of their own
 * (sinadur-p11-probe) so a module that crashes or hangs cannot take the agent down, and loading
 * them (libp11 for enumeration, the raw function list for token flags, login and signing).
 */
#include "sdr-token-private.h"

#include "sdr-probe-build.h"
#include "sdr-probe-report.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SDR_P11KIT_FILE_MAX (64 * 1024)
#define SDR_P11KIT_FILES_MAX 256
#define SDR_MODULE_SLOTS_MAX 256

static const struct {
	const char *name;
	const char *path;
} known_modules[] = {
	{ "Idopte Smart Card Middleware", "/usr/lib/SCMiddleware/libidop11.so" },
	{ "Idopte Smart Card Middleware", "/usr/lib/libidop11.so" },
	{ "SafeNet Authentication Client", "/usr/lib/libeTPkcs11.so" },
	{ "SafeNet Authentication Client", "/usr/lib/x86_64-linux-gnu/libeTPkcs11.so" },
	{ "Thales IDPrime", "/usr/lib/libIDPrimePKCS11.so" },
	{ "Thales IDPrime", "/usr/lib/x86_64-linux-gnu/libIDPrimePKCS11.so" },
	{ "OpenSC", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so" },
	{ "OpenSC", "/usr/lib/opensc-pkcs11.so" },
};

/* Names for modules found elsewhere (p11-kit, configuration), by basename. */
static const struct {
	const char *basename;
	const char *name;
} known_basenames[] = {
	{ "libidop11.so", "Idopte Smart Card Middleware" },
	{ "libeTPkcs11.so", "SafeNet Authentication Client" },
	{ "libIDPrimePKCS11.so", "Thales IDPrime" },
	{ "opensc-pkcs11.so", "OpenSC" },
	{ "onepin-opensc-pkcs11.so", "OpenSC (one PIN)" },
	{ "libsofthsm2.so", "SoftHSM 2" },
};

const char *
sdr_module_known_name(const char *path)
{
	g_autofree char *base = NULL;

	if (path == NULL)
		return NULL;
	base = g_path_get_basename(path);
	for (gsize i = 0; i < G_N_ELEMENTS(known_basenames); i++) {
		if (strcmp(base, known_basenames[i].basename) == 0)
			return known_basenames[i].name;
	}
	return NULL;
}

void
sdr_module_info_free(SdrModuleInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->path);
	g_free(info->name);
	g_clear_error(&info->error);
	g_free(info->manufacturer);
	g_free(info->description);
	g_free(info);
}

/* ---- Discovery ---------------------------------------------------------------- */

typedef struct {
	GPtrArray *modules;  /* SdrModuleInfo */
	GHashTable *seen;    /* real paths */
	GHashTable *ignored; /* real paths */
} Discovery;

static char *
real_path_of(const char *path)
{
	char *rp = realpath(path, NULL);
	char *out;

	if (rp == NULL)
		return g_strdup(path);
	out = g_strdup(rp);
	free(rp);
	return out;
}

/* must_exist: FALSE for explicit paths (option, configuration, ATR), which are
 * reported when missing; TRUE for guesses (known table), skipped when absent. */
static void
discovery_add(Discovery *d, const char *path, const char *name, SdrModuleSource source,
              gboolean must_exist)
{
	g_autofree char *rp = NULL;
	SdrModuleInfo *info;

	if (path == NULL || *path == '\0')
		return;
	if (must_exist && !g_file_test(path, G_FILE_TEST_EXISTS))
		return;
	rp = real_path_of(path);
	if (g_hash_table_contains(d->seen, rp) || g_hash_table_contains(d->ignored, rp))
		return;
	g_hash_table_add(d->seen, g_strdup(rp));

	info = g_new0(SdrModuleInfo, 1);
	info->path = g_path_is_absolute(path) ? g_strdup(path) : real_path_of(path);
	info->source = source;
	if (name != NULL)
		info->name = g_strdup(name);
	else if (sdr_module_known_name(path) != NULL)
		info->name = g_strdup(sdr_module_known_name(path));
	else
		info->name = g_path_get_basename(path);
	g_ptr_array_add(d->modules, info);
}

/* p11-kit registration files are "key: value" lines. We read them ourselves
 * instead of p11_kit_modules_load(), which would dlopen every registered module
 * in this process before we had a chance to probe it in a child. */
static char *
p11kit_file_value(const char *contents, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
	gsize key_len = strlen(key);

	for (gsize i = 0; lines[i] != NULL; i++) {
		const char *line = lines[i];
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ':')
			return g_strstrip(g_strdup(line + key_len + 1));
	}
	return NULL;
}

static const char *const p11kit_module_dirs[] = {
	"/usr/lib/x86_64-linux-gnu/pkcs11",
	"/usr/lib64/pkcs11",
	"/usr/lib/pkcs11",
};

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void
discover_p11kit_dir(Discovery *d, const char *dir)
{
	g_autoptr(GDir) gdir = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *entry;

	if (gdir == NULL)
		return;
	while ((entry = g_dir_read_name(gdir)) != NULL && names->len < SDR_P11KIT_FILES_MAX) {
		if (g_str_has_suffix(entry, ".module"))
			g_ptr_array_add(names, g_strdup(entry));
	}
	g_ptr_array_sort(names, compare_strings);

	for (guint i = 0; i < names->len; i++) {
		g_autofree char *file = g_build_filename(dir, names->pdata[i], NULL);
		g_autofree char *contents = NULL;
		g_autofree char *module = NULL, *trust = NULL, *enable = NULL, *disable = NULL;
		g_autofree char *name = NULL;
		gsize len = 0;
		struct stat st;

		if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_size > SDR_P11KIT_FILE_MAX)
			continue;
		if (!g_file_get_contents(file, &contents, &len, NULL))
			continue;
		module = p11kit_file_value(contents, "module");
		trust = p11kit_file_value(contents, "trust-policy");
		enable = p11kit_file_value(contents, "enable-in");
		disable = p11kit_file_value(contents, "disable-in");
		if (module == NULL || *module == '\0')
			continue;
		/* The trust module holds CA anchors, not a user's token. */
		if (trust != NULL && g_ascii_strcasecmp(trust, "yes") == 0)
			continue;
		if (enable != NULL && strstr(enable, "sinadur") == NULL)
			continue;
		if (disable != NULL && strstr(disable, "sinadur") != NULL)
			continue;
		name = g_strndup(names->pdata[i], strlen(names->pdata[i]) - strlen(".module"));
		if (g_path_is_absolute(module)) {
			discovery_add(d, module, sdr_module_known_name(module),
			              SDR_MODULE_SOURCE_P11KIT, TRUE);
			continue;
		}
		for (gsize j = 0; j < G_N_ELEMENTS(p11kit_module_dirs); j++) {
			g_autofree char *full =
			        g_build_filename(p11kit_module_dirs[j], module, NULL);
			if (g_file_test(full, G_FILE_TEST_EXISTS)) {
				discovery_add(d, full, sdr_module_known_name(full),
				              SDR_MODULE_SOURCE_P11KIT, TRUE);
				break;
			}
		}
	}
}

static void
discover_p11kit(Discovery *d)
{
	g_autofree char *user_dir =
	        g_build_filename(g_get_user_config_dir(), "pkcs11", "modules", NULL);

	discover_p11kit_dir(d, user_dir);
	discover_p11kit_dir(d, "/etc/pkcs11/modules");
	discover_p11kit_dir(d, "/usr/share/p11-kit/modules");
}

/* A card whose ATR names a vendor module (sdr-atr.c): that module is tried too,
 * and reported when it is not installed. No pcscd: nothing to add. */
static const char *const atr_module_dirs[] = {
	"/usr/lib/x86_64-linux-gnu",
	"/usr/lib/x86_64-linux-gnu/pkcs11",
	"/usr/lib",
	"/usr/lib/pkcs11",
};

static void
discover_atr(Discovery *d)
{
	g_autoptr(GPtrArray) readers = NULL;

	readers = sdr_pcsc_list_readers(NULL);
	if (readers == NULL)
		return;
	for (guint i = 0; i < readers->len; i++) {
		SdrReaderInfo *r = readers->pdata[i];
		if (!r->card_present || r->module_hint == NULL)
			continue;
		if (g_path_is_absolute(r->module_hint)) {
			discovery_add(d, r->module_hint, NULL, SDR_MODULE_SOURCE_ATR, FALSE);
			continue;
		}
		for (gsize j = 0; j < G_N_ELEMENTS(atr_module_dirs); j++) {
			g_autofree char *full =
			        g_build_filename(atr_module_dirs[j], r->module_hint, NULL);
			if (g_file_test(full, G_FILE_TEST_EXISTS)) {
				discovery_add(d, full, NULL, SDR_MODULE_SOURCE_ATR, TRUE);
				break;
			}
		}
	}
}

GPtrArray *
sdr_module_discover(const SdrTokenOptions *options)
{
	Discovery d;

	d.modules = g_ptr_array_new_with_free_func((GDestroyNotify)sdr_module_info_free);
	d.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	d.ignored = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (options != NULL && options->ignore_modules != NULL) {
		for (gsize i = 0; options->ignore_modules[i] != NULL; i++)
			g_hash_table_add(d.ignored, real_path_of(options->ignore_modules[i]));
	}

	if (options != NULL && options->only_module != NULL) {
		discovery_add(&d, options->only_module, NULL, SDR_MODULE_SOURCE_OPTION, FALSE);
		goto out;
	}
	if (options != NULL && options->config_modules != NULL) {
		for (gsize i = 0; options->config_modules[i] != NULL; i++)
			discovery_add(&d, options->config_modules[i], NULL,
			              SDR_MODULE_SOURCE_CONFIG, FALSE);
	}
	if (options == NULL || !options->skip_p11kit)
		discover_p11kit(&d);
	if (options == NULL || !options->skip_known) {
		for (gsize i = 0; i < G_N_ELEMENTS(known_modules); i++)
			discovery_add(&d, known_modules[i].path, known_modules[i].name,
			              SDR_MODULE_SOURCE_KNOWN, TRUE);
		discover_atr(&d);
	}
out:
	g_hash_table_unref(d.seen);
	g_hash_table_unref(d.ignored);
	return d.modules;
}

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

/* ---- Probe in a process of its own ---------------------------------------------- */

/* The probe is a program (sinadur-p11-probe) started with posix_spawn(), never a
 * fork() that runs code: sinadur-agent has other threads (bridge connections, GTask
 * workers, hashing) that may hold a lock of OpenSSL, GLib or stdio at that moment,
 * and a forked child calling dlopen() or a module's C_Initialize() would then wait
 * on it for ever. posix_spawn() runs nothing but the file actions and exec. */

/* $SINADUR_P11_PROBE (tests), this build's probe when the running program is in
 * this build tree, else the installed one. */
static char *
probe_program(void)
{
	const char *env = g_getenv("SINADUR_P11_PROBE");
	g_autofree char *self = NULL;

	if (env != NULL && *env != '\0')
		return g_strdup(env);
	self = g_file_read_link("/proc/self/exe", NULL);
	if (self != NULL && g_str_has_prefix(self, SDR_BUILD_ROOT "/"))
		return g_strdup(SDR_P11_PROBE_BUILD);
	return g_strdup(SDR_P11_PROBE_INSTALLED);
}

/* stdout = the pipe, stdin and stderr = /dev/null, no other descriptor, default
 * signal dispositions and an empty mask (the agent's are not the module's). */
static int
spawn_probe(const char *program, const char *path, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char *argv[] = { (char *)program, (char *)path, NULL };
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	rc = posix_spawn_file_actions_init(&actions);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&attr);
	if (rc != 0) {
		posix_spawn_file_actions_destroy(&actions);
		return rc;
	}
	/* dup2 first: out_fd may itself be 0 or 2. */
	rc = posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY,
		                                      0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
		                                      O_WRONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr,
		                              POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawn(pid, program, &actions, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	return rc;
}

static gint64
now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static gboolean
report_complete(const char *buf, gsize got)
{
	return got >= 5 && memcmp(buf + got - 5, "\nend\n", 5) == 0;
}

/* Reads into buf (size bytes: one more than a report may have) until the report's
 * last line, the end of the pipe, a full buffer or the deadline (then FALSE). */
static gboolean
read_report(int fd, gint64 deadline, char *buf, gsize size, gsize *got)
{
	*got = 0;
	while (*got < size && !report_complete(buf, *got)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 left = deadline - now_ms();
		int n;
		ssize_t r;

		if (left <= 0)
			return FALSE;
		n = poll(&pfd, 1, (int)MIN(left, G_MAXINT));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return FALSE;
		if (n < 0)
			break;
		r = read(fd, buf + *got, size - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* the probe ended (or died) */
		*got += (gsize)r;
	}
	return TRUE;
}

/* waitpid() until the deadline; FALSE when the probe still runs then. */
static gboolean
wait_probe(pid_t pid, gint64 deadline, int *status)
{
	gulong pause_us = 500;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return TRUE;
		if (r < 0 && errno == ECHILD) {
			/* Reaped behind our back (SIGCHLD ignored): the report decides. */
			*status = 0;
			return TRUE;
		}
		if (now_ms() >= deadline)
			return FALSE;
		g_usleep(pause_us);
		pause_us = MIN(pause_us * 2, 50000);
	}
}

static void
kill_probe(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void
set_probe_error(GError **error, const char *path, const SdrProbeReport *report)
{
	unsigned long rv = (unsigned long)report->rv;

	switch (report->stage) {
	case SDR_PROBE_NO_FILE:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s does not exist."), path);
		break;
	case SDR_PROBE_DLOPEN:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("%s is not a loadable library: %s"), path, report->detail);
		break;
	case SDR_PROBE_NO_SYMBOL:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("%s is not a PKCS#11 module (no C_GetFunctionList)."), path);
		break;
	case SDR_PROBE_GET_FUNCTION_LIST:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s returned no function list (error 0x%08lx)."),
		            path, rv);
		break;
	case SDR_PROBE_INITIALIZE:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s failed to initialise (error 0x%08lx)."), path,
		            rv);
		break;
	case SDR_PROBE_INFO:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s cannot describe itself (C_GetInfo, error "
		              "0x%08lx)."),
		            path, rv);
		break;
	case SDR_PROBE_SLOT_LIST:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s cannot list its slots (error 0x%08lx)."), path,
		            rv);
		break;
	case SDR_PROBE_OK:
	case SDR_PROBE_N_STAGES:
	default:
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s could not be checked."), path);
		break;
	}
}

/* What the probe's end and its report say. */
static gboolean
judge_probe(const char *path, int status, const char *buf, gsize got, GError **error)
{
	g_autoptr(GError) parse_error = NULL;
	SdrProbeReport report;

	if (WIFSIGNALED(status)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s crashed while initialising (signal %d); it "
		              "was not loaded."),
		            path, WTERMSIG(status));
		return FALSE;
	}
	if (got <= SDR_PROBE_REPORT_MAX &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !report_complete(buf, got))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s ended the process while initialising; it "
		              "was not loaded."),
		            path);
		return FALSE;
	}
	if (!sdr_probe_report_parse(buf, got, &report, &parse_error)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The check of the PKCS#11 module %s gave an unreadable answer (%s); "
		              "it was not loaded."),
		            path, parse_error->message);
		return FALSE;
	}
	if (report.stage != SDR_PROBE_OK) {
		set_probe_error(error, path, &report);
		return FALSE;
	}
	return TRUE;
}

gboolean
sdr_module_probe(const char *path, guint timeout_ms, GError **error)
{
	g_autofree char *program = NULL;
	g_autofree char *buf = NULL;
	int fds[2];
	pid_t pid = 0;
	gsize got = 0;
	int status = 0, rc;
	gboolean answered;
	gint64 deadline;

	g_return_val_if_fail(path != NULL, FALSE);

	program = probe_program();
	if (access(program, X_OK) != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The program that checks PKCS#11 modules (%s) is missing, so the "
		              "module %s was not loaded. Reinstall sinadur."),
		            program, path);
		return FALSE;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("Cannot check the PKCS#11 module %s: %s"), path, g_strerror(errno));
		return FALSE;
	}
	rc = spawn_probe(program, path, fds[1], &pid);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("Cannot check the PKCS#11 module %s: %s"), path, g_strerror(rc));
		return FALSE;
	}

	buf = g_malloc(SDR_PROBE_REPORT_MAX + 1);
	deadline = now_ms() + timeout_ms;
	answered = read_report(fds[0], deadline, buf, SDR_PROBE_REPORT_MAX + 1, &got);
	close(fds[0]);
	if (answered && got > SDR_PROBE_REPORT_MAX) {
		/* Too long to be a report: the parser says so; the probe is stopped. */
		kill_probe(pid);
		return judge_probe(path, 0, buf, got, error);
	}
	if (!answered || !wait_probe(pid, deadline, &status)) {
		kill_probe(pid);
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s did not answer within %u seconds while "
		              "initialising; it was not loaded."),
		            path, timeout_ms / 1000);
		return FALSE;
	}
	return judge_probe(path, status, buf, got, error);
}

/* ---- Loading in process ------------------------------------------------------------ */

static char *
trimmed(const char *s)
{
	if (s == NULL)
		return NULL;
	return g_strstrip(g_strdup(s));
}

/* Modules loaded in this process, by real path. */
G_LOCK_DEFINE_STATIC(registry);
static GHashTable *registry;

static void
fill_info(SdrModuleInfo *info, const SdrModule *module)
{
	info->loaded = TRUE;
	g_clear_error(&info->error);
	g_free(info->manufacturer);
	g_free(info->description);
	info->manufacturer = g_strdup(module->manufacturer);
	info->description = g_strdup(module->description);
}

gboolean
sdr_module_is_loaded(const char *path)
{
	g_autofree char *rp = real_path_of(path);
	gboolean loaded;

	G_LOCK(registry);
	loaded = registry != NULL && g_hash_table_contains(registry, rp);
	G_UNLOCK(registry);
	return loaded;
}

static SdrModule *
load_new(SdrModuleInfo *info, const char *rp, GError **error)
{
	SdrModule *module;
	CK_C_GetFunctionList get_list;
	void *dl;
	CK_FUNCTION_LIST_PTR fl = NULL;
	PKCS11_CTX *ctx;

	if (!g_file_test(info->path, G_FILE_TEST_EXISTS)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s does not exist."), info->path);
		return NULL;
	}
	dl = dlopen(info->path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		const char *err = dlerror();
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("%s is not a loadable library: %s"), info->path, err ? err : "");
		return NULL;
	}
	get_list = lookup_get_function_list(dl);
	if (get_list == NULL) {
		dlclose(dl);
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("%s is not a PKCS#11 module (no C_GetFunctionList)."), info->path);
		return NULL;
	}
	if (get_list(&fl) != CKR_OK || fl == NULL) {
		dlclose(dl);
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s returned no function list (error 0x%08lx)."),
		            info->path, (unsigned long)CKR_GENERAL_ERROR);
		return NULL;
	}

	/* libp11 dlopens the same file: the same instance and function list. */
	ctx = PKCS11_CTX_new();
	if (ctx == NULL || PKCS11_CTX_load(ctx, info->path) != 0) {
		if (ctx != NULL)
			PKCS11_CTX_free(ctx);
		dlclose(dl);
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("The PKCS#11 module %s failed to initialise."), info->path);
		return NULL;
	}

	module = g_new0(SdrModule, 1);
	module->path = g_strdup(info->path);
	module->real_path = g_strdup(rp);
	module->refs = 1;
	module->dl = dl;
	module->fl = fl;
	module->ctx = ctx;
	module->manufacturer = trimmed(ctx->manufacturer);
	module->description = trimmed(ctx->description);
	return module;
}

SdrModule *
sdr_module_load(SdrModuleInfo *info, GError **error)
{
	g_autofree char *rp = NULL;
	SdrModule *module;

	g_return_val_if_fail(info != NULL, NULL);

	rp = real_path_of(info->path);
	G_LOCK(registry);
	if (registry == NULL)
		registry = g_hash_table_new(g_str_hash, g_str_equal);
	module = g_hash_table_lookup(registry, rp);
	if (module != NULL) {
		module->refs++;
	} else {
		module = load_new(info, rp, error);
		if (module != NULL)
			g_hash_table_insert(registry, module->real_path, module);
	}
	G_UNLOCK(registry);
	if (module != NULL)
		fill_info(info, module);
	return module;
}

void
sdr_module_release_slots(SdrModule *module)
{
	if (module == NULL || module->slots == NULL)
		return;
	PKCS11_release_all_slots(module->ctx, module->slots, module->nslots);
	module->slots = NULL;
	module->nslots = 0;
}

/* "slot:label:serial;" for every slot with a token, straight from the module. */
static char *
present_tokens(SdrModule *module)
{
	CK_SLOT_ID ids[SDR_MODULE_SLOTS_MAX];
	CK_ULONG n = G_N_ELEMENTS(ids);
	GString *out = g_string_new(NULL);

	if (module->fl->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK)
		n = 0;
	for (CK_ULONG i = 0; i < n && i < G_N_ELEMENTS(ids); i++) {
		CK_TOKEN_INFO ti;
		memset(&ti, 0, sizeof ti);
		if (module->fl->C_GetTokenInfo(ids[i], &ti) != CKR_OK)
			continue;
		g_string_append_printf(out, "%lu:%.*s:%.*s;", (unsigned long)ids[i],
		                       (int)sizeof ti.label, (const char *)ti.label,
		                       (int)sizeof ti.serialNumber, (const char *)ti.serialNumber);
	}
	return g_string_free(out, FALSE);
}

gboolean
sdr_module_enumerate(SdrModule *module, gboolean force, GError **error)
{
	PKCS11_SLOT *slots = NULL;
	unsigned int n = 0;
	g_autofree char *present = NULL;

	g_return_val_if_fail(module != NULL, FALSE);

	present = present_tokens(module);
	if (!force && module->slots != NULL && g_strcmp0(present, module->present) == 0)
		return TRUE;

	/* libp11 0.4.12 crashes in PKCS11_update_slots() after a removal: always
	 * release everything and enumerate from scratch. */
	sdr_module_release_slots(module);
	if (PKCS11_enumerate_slots(module->ctx, &slots, &n) != 0) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_MODULE_LOAD,
		            _("Cannot list the slots of the PKCS#11 module %s."), module->path);
		return FALSE;
	}
	module->slots = slots;
	module->nslots = n;
	g_free(module->present);
	module->present = g_steal_pointer(&present);
	return TRUE;
}

void
sdr_module_unload(SdrModule *module)
{
	gboolean last;

	if (module == NULL)
		return;
	G_LOCK(registry);
	last = --module->refs == 0;
	if (last)
		g_hash_table_remove(registry, module->real_path);
	G_UNLOCK(registry);
	if (!last)
		return;
	sdr_module_release_slots(module);
	if (module->ctx != NULL) {
		PKCS11_CTX_unload(module->ctx);
		PKCS11_CTX_free(module->ctx);
	}
	if (module->dl != NULL)
		dlclose(module->dl);
	g_free(module->present);
	g_free(module->path);
	g_free(module->real_path);
	g_free(module->manufacturer);
	g_free(module->description);
	g_free(module);
}
