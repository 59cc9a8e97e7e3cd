/* sdr-agent-update.h - sinadur-agent notices that its executable was replaced (a
 * package upgrade) and asks to re-execute itself once idle.
 *
 * At start the identity (device, inode, size, mtime) of the running executable is
 * taken from /proc/self/exe and its path remembered. A GFileMonitor on that path
 * (inotify: no wake-up while nothing changes) schedules a check a second after the
 * last change. The update is "pending" only when the file at the path now has another
 * identity than the running one AND is a regular executable file starting with the
 * ELF magic (a half-written file, a script or a removed file never trigger it; a file
 * that changes again is checked again). While pending, the idle function is asked
 * every second; the first time it answers TRUE, the ready function is called (once):
 * the agent stops its main loop, shuts down (bridge sockets closed) and execv()s
 * sdr_agent_update_get_path(). The new process takes its own identity at start: no loop.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdrAgentUpdate SdrAgentUpdate;

/* TRUE when nothing is in progress (main loop). */
typedef gboolean (*SdrAgentUpdateIdleFunc)(gpointer data);
/* The new executable is in place and the agent is idle (main loop, called once). */
typedef void (*SdrAgentUpdateReadyFunc)(gpointer data);

/* NULL (and a log line) when the executable's path cannot be known. */
SdrAgentUpdate *sdr_agent_update_start(SdrAgentUpdateIdleFunc idle, SdrAgentUpdateReadyFunc ready,
                                       gpointer data);
/* The installed executable's path (what to execv). */
const char *sdr_agent_update_get_path(SdrAgentUpdate *update);
/* Marks every descriptor above 2 close-on-exec, flushes stdout and execv()s the
 * path with argv (argv[0] = the path). Returns only on failure (logged). */
void sdr_agent_update_exec(SdrAgentUpdate *update, char **argv);
/* Accepts NULL. */
void sdr_agent_update_free(SdrAgentUpdate *update);

G_END_DECLS
