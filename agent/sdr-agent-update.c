/* sdr-agent-update.c - the replaced executable, noticed (sdr-agent-update.h). */
#include "sdr-agent-update.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SETTLE_MS 1000 /* after the last change event */
#define IDLE_POLL_S 1

typedef struct {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} Identity;

struct _SdrAgentUpdate {
	char *path;
	Identity running; /* the executable this process runs */
	Identity seen;    /* the last one checked at path (checked once per identity) */
	gboolean have_seen;
	GFileMonitor *monitor;
	guint settle_source;
	guint idle_source;
	gboolean done; /* ready() was called */
	SdrAgentUpdateIdleFunc idle;
	SdrAgentUpdateReadyFunc ready;
	gpointer data;
};

static void
identity_from_stat(Identity *id, const struct stat *st)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

static gboolean
identity_equal(const Identity *a, const Identity *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* A regular file we may execute, starting with the ELF magic. */
static gboolean
is_executable_elf(const char *path, const struct stat *st)
{
	unsigned char magic[4] = { 0 };
	ssize_t n;
	int fd;

	if (!S_ISREG(st->st_mode) || access(path, X_OK) != 0)
		return FALSE;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return FALSE;
	n = read(fd, magic, sizeof magic);
	close(fd);
	return n == (ssize_t)sizeof magic && memcmp(magic, "\177ELF", 4) == 0;
}

static gboolean
idle_poll(gpointer data)
{
	SdrAgentUpdate *self = data;

	if (self->done || !self->idle(self->data))
		return G_SOURCE_CONTINUE;
	self->done = TRUE;
	self->idle_source = 0;
	g_print("update: %s replaced and the agent is idle: restarting\n", self->path);
	self->ready(self->data);
	return G_SOURCE_REMOVE;
}

static gboolean
settle_done(gpointer data)
{
	SdrAgentUpdate *self = data;
	struct stat st;
	Identity now;

	self->settle_source = 0;
	if (self->done || self->idle_source != 0)
		return G_SOURCE_REMOVE;
	if (stat(self->path, &st) != 0)
		return G_SOURCE_REMOVE; /* removed (dpkg renames over it): wait for the next event
		                         */
	identity_from_stat(&now, &st);
	if (identity_equal(&now, &self->running) ||
	    (self->have_seen && identity_equal(&now, &self->seen)))
		return G_SOURCE_REMOVE;
	self->seen = now;
	self->have_seen = TRUE;
	if (!is_executable_elf(self->path, &st)) {
		g_print("update: %s changed but is not an executable program: ignored\n",
		        self->path);
		return G_SOURCE_REMOVE;
	}
	g_print("update: %s was replaced: restarting once idle\n", self->path);
	self->idle_source = g_timeout_add_seconds(IDLE_POLL_S, idle_poll, self);
	return G_SOURCE_REMOVE;
}

static void
on_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
	SdrAgentUpdate *self = data;

	(void)monitor;
	(void)file;
	(void)other;
	(void)event;
	if (self->done)
		return;
	if (self->settle_source != 0)
		g_source_remove(self->settle_source);
	self->settle_source = g_timeout_add(SETTLE_MS, settle_done, self);
}

SdrAgentUpdate *
sdr_agent_update_start(SdrAgentUpdateIdleFunc idle, SdrAgentUpdateReadyFunc ready, gpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GFile) file = NULL;
	g_autofree char *link = g_file_read_link("/proc/self/exe", &error);
	SdrAgentUpdate *self;
	struct stat st;

	/* The inode this process runs, even if the path was replaced since the exec. */
	if (link == NULL || stat("/proc/self/exe", &st) != 0) {
		g_print("update: the agent's executable is unknown (%s): no restart after "
		        "upgrades\n",
		        link == NULL ? error->message : g_strerror(errno));
		return NULL;
	}
	if (g_str_has_suffix(link, " (deleted)"))
		link[strlen(link) - strlen(" (deleted)")] = '\0';
	self = g_new0(SdrAgentUpdate, 1);
	self->path = g_steal_pointer(&link);
	identity_from_stat(&self->running, &st);
	self->idle = idle;
	self->ready = ready;
	self->data = data;
	file = g_file_new_for_path(self->path);
	self->monitor = g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (self->monitor == NULL) {
		g_print("update: %s cannot be watched (%s): no restart after upgrades\n",
		        self->path, error->message);
		sdr_agent_update_free(self);
		return NULL;
	}
	g_signal_connect(self->monitor, "changed", G_CALLBACK(on_changed), self);
	/* Replaced between our exec and now: checked at once. */
	self->settle_source = g_timeout_add(SETTLE_MS, settle_done, self);
	return self;
}

const char *
sdr_agent_update_get_path(SdrAgentUpdate *update)
{
	return update->path;
}

/* The bridge and the queue are closed by now; anything left open (a library's
 * descriptor without O_CLOEXEC) must not leak into the new process. */
static void
set_cloexec_all(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	const char *name;

	if (dir == NULL)
		return;
	while ((name = g_dir_read_name(dir)) != NULL) {
		gint64 fd = g_ascii_strtoll(name, NULL, 10);

		if (fd > 2 && fd <= G_MAXINT)
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
}

void
sdr_agent_update_exec(SdrAgentUpdate *update, char **argv)
{
	set_cloexec_all();
	g_print("update: re-executing %s\n", update->path);
	fflush(stdout);
	fflush(stderr);
	execv(update->path, argv);
	g_printerr("sinadur-agent: %s: %s\n", update->path, g_strerror(errno));
}

void
sdr_agent_update_free(SdrAgentUpdate *update)
{
	if (update == NULL)
		return;
	if (update->monitor != NULL) {
		g_signal_handlers_disconnect_by_data(update->monitor, update);
		g_file_monitor_cancel(update->monitor);
		g_object_unref(update->monitor);
	}
	if (update->settle_source != 0)
		g_source_remove(update->settle_source);
	if (update->idle_source != 0)
		g_source_remove(update->idle_source);
	g_free(update->path);
	g_free(update);
}
