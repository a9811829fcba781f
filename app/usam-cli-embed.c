/* usam embed — the image embedding, as an HDF5 file μSAM can read. */
#include "usam-cli-private.h"

static int
run (const char *name, UsamCliCommon *c, UsamNormalize normalize, UsamPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_cli_load_2d_image (c->image, &error);
  if (!image)
    return usam_cli_failure (name, error);
  g_autoptr (UsamModel) model = usam_model_new_from_file (c->model, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);
  g_autoptr (UsamEmbedding) embedding = usam_model_encode (model, image, 0, 0, normalize, NULL, NULL, NULL, &error);
  if (!embedding || !usam_embedding_save (embedding, model, c->out, &error))
    return usam_cli_failure (name, error);
  return USAM_EXIT_OK;
}

int
usam_cli_embed (const char *name, int argc, char **argv)
{
  UsamCliCommon c = { 0 };
  GOptionEntry entries[] = { COMMON_ENTRIES (c), { NULL } };
  UsamNormalize normalize;
  UsamPrecision precision;
  int status = USAM_EXIT_USAGE;
  if (usam_cli_parse (name, "compute the image embedding", entries, &argc, &argv))
    status = usam_cli_common_check (name, &c, TRUE, &normalize, &precision);
  if (status == USAM_EXIT_OK)
    status = run (name, &c, normalize, precision);
  usam_cli_common_clear (&c);
  return status;
}
