#include "usam-cli.h"

int
main (int argc, char **argv)
{
  return usam_cli_main (argc, argv);
}
