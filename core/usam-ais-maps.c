#include "usam-ais-maps.h"

#include <math.h>
#include <string.h>

#include "usam-ais.h"
#include "usam-error.h"
#include "usam-h5.h"
#include "usam-model-private.h"

static const char *const map_names[3] = { "foreground", "center_distances", "boundary_distances" };

/* One allocation holds the three planes, in the decoder's order. */
static UsamAisMaps *
maps_new_take (float *data, guint width, guint height)
{
  UsamAisMaps *self = g_new0 (UsamAisMaps, 1);
  gsize plane = (gsize) width * height;
  self->width = width;
  self->height = height;
  self->foreground = data;
  self->center_distances = data + plane;
  self->boundary_distances = data + 2 * plane;
  return self;
}

void
usam_ais_maps_free (UsamAisMaps *self)
{
  if (!self)
    return;
  g_free (self->foreground);
  g_free (self);
}

UsamAisMaps *
usam_ais_maps_predict (UsamModel *model, UsamEmbedding *embedding, GError **error)
{
  g_return_val_if_fail (USAM_IS_MODEL (model) && embedding != NULL, NULL);
  if (!usam_model_has_decoder (model))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: the checkpoint has no AIS decoder (decoder_state); use --mode amg, or a μSAM model such as "
                   "vit_b_lm",
                   usam_model_get_path (model) ? usam_model_get_path (model) : "model");
      return NULL;
    }
  UsamEmbeddingShape shape;
  usam_embedding_get_shape (embedding, &shape);
  gsize plane = (gsize) shape.original_width * shape.original_height;
  g_autofree float *data = g_try_new (float, 3 * plane);
  if (!data)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "out of memory for the AIS maps of a %u × %u image",
                   shape.original_width, shape.original_height);
      return NULL;
    }
  usam_sam_status status = usam_sam_ais_predict (usam_model_get_sam (model), usam_embedding_get_sam (embedding), data);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  return maps_new_take (g_steal_pointer (&data), shape.original_width, shape.original_height);
}

UsamAisMaps *
usam_ais_maps_predict_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice, GCancellable *cancellable,
                             UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  const UsamTiling *tiling = usam_embedding_cache_get_tiling (cache);
  guint n = usam_embedding_cache_get_n_tiles (cache);
  gsize plane = (gsize) tiling->width * tiling->height;
  g_autofree float *data = g_try_new (float, 3 * plane);
  if (!data)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "out of memory for the AIS maps of a %u × %u image",
                   tiling->width, tiling->height);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      UsamTile tile;
      usam_tiling_get_tile (tiling, i, &tile);
      g_autoptr (UsamEmbedding) embedding = usam_embedding_cache_dup_tile (cache, slice, i, cancellable, NULL, NULL, error);
      if (!embedding)
        return NULL;
      g_autoptr (UsamAisMaps) part = usam_ais_maps_predict (model, embedding, error);
      if (!part)
        return NULL;
      const float *src[3] = { part->foreground, part->center_distances, part->boundary_distances };
      guint dx = tile.inner.x - tile.outer.x, dy = tile.inner.y - tile.outer.y;
      for (int c = 0; c < 3; c++)
        for (guint y = 0; y < tile.inner.height; y++)
          memcpy (data + c * plane + (gsize) (tile.inner.y + y) * tiling->width + tile.inner.x,
                  src[c] + (gsize) (dy + y) * part->width + dx, tile.inner.width * sizeof (float));
      if (progress)
        progress ((double) (i + 1) / n, progress_data);
    }
  return maps_new_take (g_steal_pointer (&data), tiling->width, tiling->height);
}

gboolean
usam_ais_maps_save (const UsamAisMaps *self, const char *path, GError **error)
{
  g_autoptr (UsamH5Output) output = usam_h5_output_new (path, error);
  if (!output)
    return FALSE;
  hsize_t dims[2] = { self->height, self->width };
  const float *planes[3] = { self->foreground, self->center_distances, self->boundary_distances };
  for (int i = 0; i < 3; i++)
    if (!usam_h5_write (usam_h5_output_get_file (output), map_names[i], H5T_NATIVE_FLOAT, 2, dims, planes[i], TRUE,
                        error))
      return FALSE;
  return usam_h5_output_commit (output, error);
}

UsamAisMaps *
usam_ais_maps_load (const char *path, GError **error)
{
  g_auto (UsamH5File) file = usam_h5_open (path, FALSE, error);
  if (file < 0)
    return NULL;
  g_autofree float *data = NULL;
  hsize_t shape[2] = { 0, 0 };
  for (int i = 0; i < 3; i++)
    {
      if (!usam_h5_exists (file, map_names[i]))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: no '/%s' map (AIS maps need /foreground, "
                       "/center_distances and /boundary_distances)", path, map_names[i]);
          return NULL;
        }
      int rank = 0;
      hsize_t dims[USAM_H5_MAX_RANK] = { 0 };
      g_autofree float *map = usam_h5_read (file, map_names[i], H5T_NATIVE_FLOAT, &rank, dims, error);
      if (!map)
        return NULL;
      if (rank != 2 || dims[0] == 0 || dims[1] == 0 || dims[0] > G_MAXUINT32 || dims[1] > G_MAXUINT32
          || (i > 0 && (dims[0] != shape[0] || dims[1] != shape[1])))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s: '/%s' must be a 2D map (H, W) of the same shape as the others", path, map_names[i]);
          return NULL;
        }
      gsize plane = (gsize) dims[0] * dims[1];
      if (i == 0)
        {
          shape[0] = dims[0], shape[1] = dims[1];
          data = g_try_new (float, 3 * plane);
          if (!data)
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "%s: out of memory", path);
              return NULL;
            }
        }
      for (gsize k = 0; k < plane; k++)
        if (!isfinite (map[k]))
          {
            g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: '/%s' holds NaN or infinity", path,
                         map_names[i]);
            return NULL;
          }
      memcpy (data + i * plane, map, plane * sizeof (float));
    }
  return maps_new_take (g_steal_pointer (&data), (guint) shape[1], (guint) shape[0]);
}
