/* sdr-agent-tl.h - sinadur-agent's background refresh of the trusted lists' cache
 * (sdr-tl-cache.h). Only when [trust] lotl_signer_certs is set. A few seconds after
 * start, then whenever the cache is older than min(refresh_hours, the earliest
 * NextUpdate), it runs "trust-update" through sdr_handler_run_async (a worker
 * thread: never a download, a file or a signature check on the main loop); the
 * "trust-status" handler, async too, says when the next refresh is due. Failures
 * back off (15 min * 2^n, at most refresh_hours). */
#pragma once

#include "sdr-config.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdrAgentTl SdrAgentTl;

/* NULL when updates are not configured. config must outlive the refresher. */
SdrAgentTl *sdr_agent_tl_start(SdrConfig *config);
/* Stops the timer and waits for a running update (iterating the main context). */
void sdr_agent_tl_stop(SdrAgentTl *tl);

G_END_DECLS
