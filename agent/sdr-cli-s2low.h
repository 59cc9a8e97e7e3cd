/* sdr-cli-s2low.h - the teletransmission commands of `sinadur` (sdr-cli-s2low.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the command line names s2low, send or status. */
gboolean sdr_cli_s2low_wants(int argc, char **argv);
/* Runs it; returns the exit code (docs/sinadur.1). */
int sdr_cli_s2low_main(int argc, char **argv);

G_END_DECLS
