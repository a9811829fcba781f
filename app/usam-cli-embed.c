/* usam embed — image embeddings, as an HDF5 file μSAM can read: one for a
 * 2D image, one per Z slice for a volume (--volume). The file is an
 * embedding cache, so an interrupted run resumes and a finished one is
 * reused when nothing changed. */
#include "usam-cli-private.h"

#include <math.h>
#include <stdio.h>

#include "usam-embedding-cache.h"
#include "usam-error.h"

typedef struct
{
  guint n, printed;
  const char *what;
} Progress;

/* One line per finished slice or tile, as `usam segment --volume` reports. */
static void
print_progress (double fraction, gpointer user_data)
{
  Progress *p = user_data;
  guint done = (guint) floor (fraction * p->n + 1e-6);
  if (done > p->printed)
    {
      p->printed = done;
      fprintf (stderr, "embedding %s: %3.0f %% (%u/%u)\n", p->what, 100.0 * done / p->n, done, p->n);
    }
}

static UsamImage *
load_volume (const char *path, GError **error)
{
  g_autoptr (UsamImage) image = usam_image_load (path, error);
  if (image && usam_image_get_frames (image) > 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: a time series (%u frames); --volume embeds the Z slices of one volume", path,
                   usam_image_get_frames (image));
      return NULL;
    }
  return g_steal_pointer (&image);
}

static int
run (const char *name, UsamCliCommon *c, gboolean volume, UsamEmbeddingCacheOptions *options,
     UsamPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = volume ? load_volume (c->image, &error) : usam_cli_load_2d_image (c->image, &error);
  if (!image)
    return usam_cli_failure (name, error);
  g_autoptr (UsamModel) model = usam_model_new_from_file (c->model, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);
  g_autoptr (UsamEmbeddingCache) cache = usam_embedding_cache_open (c->out, model, image, options, &error);
  if (!cache)
    return usam_cli_failure (name, error);
  g_autofree char *reason = usam_embedding_cache_dup_reset_reason (cache);
  if (reason)
    fprintf (stderr, "usam %s: %s\n", name, reason);
  guint n = usam_embedding_cache_get_n_slices (cache), tiles = usam_embedding_cache_get_n_tiles (cache);
  Progress progress = { n * tiles, 0, tiles > 1 ? "tiles" : "slices" };
  if (!usam_embedding_cache_precompute (cache, 0, n - 1, 0, NULL, volume || tiles > 1 ? print_progress : NULL,
                                        &progress, &error))
    return usam_cli_failure (name, error);
  return USAM_EXIT_OK;
}

int
usam_cli_embed (const char *name, int argc, char **argv)
{
  UsamCliCommon c = { 0 };
  gboolean volume = FALSE;
  g_autofree char *tile = NULL, *halo = NULL;
  GOptionEntry entries[] = {
    COMMON_ENTRIES (c),
    { "volume", 0, 0, G_OPTION_ARG_NONE, &volume, "the image is a volume: one embedding per Z slice", NULL },
    TILING_ENTRIES (tile, halo),
    { NULL },
  };
  UsamEmbeddingCacheOptions options = { 0 };
  UsamPrecision precision;
  int status = USAM_EXIT_USAGE;
  if (usam_cli_parse (name, "compute the image embedding", entries, &argc, &argv))
    status = usam_cli_common_check (name, &c, TRUE, &options.normalize, &precision);
  if (status == USAM_EXIT_OK)
    status = usam_cli_tiling_check (name, tile, halo, &options);
  if (status == USAM_EXIT_OK)
    status = run (name, &c, volume, &options, precision);
  usam_cli_common_clear (&c);
  return status;
}
