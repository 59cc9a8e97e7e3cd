/* sdr-cli-trust.h - `sinadur trust update|status`: the trusted lists' cache (handlers
 * "trust-update" and "trust-status"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the first word of the command line is "trust". */
gboolean sdr_cli_trust_wants(int argc, char **argv);
int sdr_cli_trust_main(int argc, char **argv);

G_END_DECLS
