/* usam-cli.h — the `usam` command line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs `usam ARGS…`; returns the process exit status: 0 on success, 1 when
 * an input cannot be read or the work fails, 2 on bad arguments. */
int usam_cli_main (int argc, char **argv);

G_END_DECLS
