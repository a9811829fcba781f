/* usam info — what a checkpoint holds. */
#include "usam-cli-private.h"

#include <stdio.h>

int
usam_cli_info (const char *name, int argc, char **argv)
{
  g_autofree char *model_path = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "SAM or μSAM checkpoint", "CKPT" },
    { NULL },
  };
  if (!usam_cli_parse (name, "describe a checkpoint", entries, &argc, &argv))
    return USAM_EXIT_USAGE;
  if (!model_path)
    return usam_cli_usage_error (name, "--model CKPT is required");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file (model_path, USAM_PRECISION_FP32, &error);
  if (!model)
    return usam_cli_failure (name, error);
  g_autofree char *description = usam_model_dup_description (model);
  printf ("%s: %s\n", model_path, description);
  return USAM_EXIT_OK;
}
