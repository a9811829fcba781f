#include "usam-apg.h"

#include <math.h>
#include <string.h>

#include "usam-ais-post.h"
#include "usam-error.h"
#include "usam-upscale.h"

UsamApgParams
usam_apg_params_default (void)
{
  return (UsamApgParams) {
    .center_distance_threshold = 0.5,
    .boundary_distance_threshold = 0.5,
    .foreground_threshold = 0.5,
    .min_size = 25,
    .nms_thresh = 0.9,
    .batch_size = 32,
    .multimask = FALSE,
  };
}

/* Felzenszwalb and Huttenlocher's exact squared distance transform of one
 * line: @f holds 0 at features and BIG elsewhere; @d receives the result.
 * @v and @z are scratch of n and n + 1. */
#define BIG 1e20

static void
edt_1d (const double *f, double *d, guint n, guint *v, double *z)
{
  guint k = 0;
  v[0] = 0;
  z[0] = -INFINITY;
  z[1] = INFINITY;
  for (guint q = 1; q < n; q++)
    {
      /* z[0] = −∞ stops the loop at the first parabola. */
      double s = ((f[q] + (double) q * q) - (f[v[k]] + (double) v[k] * v[k])) / (2.0 * q - 2.0 * v[k]);
      while (s <= z[k])
        {
          k--;
          s = ((f[q] + (double) q * q) - (f[v[k]] + (double) v[k] * v[k])) / (2.0 * q - 2.0 * v[k]);
        }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = INFINITY;
    }
  k = 0;
  for (guint q = 0; q < n; q++)
    {
      while (z[k + 1] < q)
        k++;
      double dq = (double) q - v[k];
      d[q] = dq * dq + f[v[k]];
    }
}

/* Squared Euclidean distance of every pixel to the nearest pixel where
 * @feature is set; integers, so ties compare exactly. */
static double *
squared_edt (const gboolean *feature, guint w, guint h)
{
  gsize total = (gsize) w * h;
  double *dist = g_new (double, total);
  guint m = MAX (w, h);
  g_autofree double *f = g_new (double, m);
  g_autofree double *d = g_new (double, m);
  g_autofree guint *v = g_new (guint, m);
  g_autofree double *z = g_new (double, m + 1);
  for (guint x = 0; x < w; x++)
    {
      for (guint y = 0; y < h; y++)
        f[y] = feature[(gsize) y * w + x] ? 0.0 : BIG;
      edt_1d (f, d, h, v, z);
      for (guint y = 0; y < h; y++)
        dist[(gsize) y * w + x] = d[y];
    }
  for (guint y = 0; y < h; y++)
    {
      memcpy (f, dist + (gsize) y * w, w * sizeof (double));
      edt_1d (f, d, w, v, z);
      memcpy (dist + (gsize) y * w, d, w * sizeof (double));
    }
  return dist;
}

gboolean
usam_apg_point_prompts (const UsamAisMaps *maps, const UsamApgParams *params, float **points, guint *n_points,
                        GError **error)
{
  g_return_val_if_fail (maps != NULL && params != NULL && points != NULL && n_points != NULL, FALSE);
  *points = NULL;
  *n_points = 0;
  guint w = maps->width, h = maps->height;
  gsize total = (gsize) w * h;
  g_autofree guint32 *cc = g_new (guint32, total);
  for (gsize i = 0; i < total; i++)
    cc[i] = !(maps->foreground[i] < params->foreground_threshold)
            && maps->center_distances[i] < params->center_distance_threshold
            && maps->boundary_distances[i] < params->boundary_distance_threshold;
  guint n = 0;
  if (!usam_label_components (cc, w, h, cc, &n, error))
    return FALSE;
  if (n == 0)
    return TRUE;

  /* skimage's find_boundaries(mode="outer"): background pixels with an
   * object among their 4 neighbours. The distances are taken to those and
   * to the image border, so a center never sits on the border. */
  g_autofree gboolean *feature = g_new0 (gboolean, total);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        gsize i = (gsize) y * w + x;
        if (y == 0 || x == 0 || y == h - 1 || x == w - 1)
          feature[i] = TRUE;
        else if (cc[i] == 0)
          feature[i] = cc[i - 1] || cc[i + 1] || cc[i - w] || cc[i + w];
      }
  g_autofree double *dist = squared_edt (feature, w, h);

  /* Per component, regionprops' bounding box, then the first maximum of
   * the distances inside it with every pixel outside the component at 0. */
  g_autofree guint *box = g_new (guint, 4 * (gsize) n);
  for (guint c = 0; c < n; c++)
    box[4 * c] = box[4 * c + 1] = G_MAXUINT, box[4 * c + 2] = box[4 * c + 3] = 0;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        guint32 c = cc[(gsize) y * w + x];
        if (!c)
          continue;
        guint *b = box + 4 * (gsize) (c - 1);
        b[0] = MIN (b[0], x), b[1] = MIN (b[1], y), b[2] = MAX (b[2], x), b[3] = MAX (b[3], y);
      }
  float *out = g_new (float, 2 * (gsize) n);
  for (guint c = 0; c < n; c++)
    {
      const guint *b = box + 4 * (gsize) c;
      double best = -1.0;
      guint bx = b[0], by = b[1];
      for (guint y = b[1]; y <= b[3]; y++)
        for (guint x = b[0]; x <= b[2]; x++)
          {
            gsize i = (gsize) y * w + x;
            double v = cc[i] == c + 1 ? dist[i] : 0.0;
            if (v > best)
              best = v, bx = x, by = y;
          }
      out[2 * c] = (float) bx;
      out[2 * c + 1] = (float) by;
    }
  *points = out;
  *n_points = n;
  return TRUE;
}

/* Decodes point prompts (image coordinates) on @embedding, the embedding of
 * @tile's outer box (NULL: of the whole @width × @height plane), adding the
 * best mask of each, in image coordinates, to @masks. */
static gboolean
decode_points (UsamModel *model, UsamEmbedding *embedding, const UsamTile *tile, guint width, guint height,
               const float *points, guint n_points, const UsamApgParams *params, UsamMaskSet *masks,
               GCancellable *cancellable, GError **error)
{
  UsamEmbeddingShape shape;
  usam_embedding_get_shape (embedding, &shape);
  gsize plane = (gsize) width * height, part = (gsize) shape.original_width * shape.original_height;
  guint dx = tile ? tile->outer.x : 0, dy = tile ? tile->outer.y : 0;
  /* Low-res logits upscaled one mask at a time, as in AMG (usam-upscale.h). */
  g_autoptr (UsamUpscale) upscale = NULL;
  g_autofree float *logits = g_try_new (float, plane);
  g_autofree float *tile_logits = tile ? g_try_new (float, part) : NULL;
  if (!logits || (tile && !tile_logits))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "out of memory for the masks of a %u × %u image", width,
                   height);
      return FALSE;
    }
  /* Outside the tile nothing is inside any mask, nor near the threshold. */
  if (tile)
    for (gsize i = 0; i < plane; i++)
      logits[i] = -1e4f;
  static const gint32 positive = 1;
  g_autofree UsamPrompt *prompts = g_new0 (UsamPrompt, params->batch_size);
  g_autofree float *local = g_new (float, 2 * (gsize) params->batch_size);
  for (guint start = 0; start < n_points; start += params->batch_size)
    {
      guint n = MIN (params->batch_size, n_points - start);
      for (guint k = 0; k < n; k++)
        {
          local[2 * k] = points[2 * (gsize) (start + k)] - (float) dx;
          local[2 * k + 1] = points[2 * (gsize) (start + k) + 1] - (float) dy;
          prompts[k] = (UsamPrompt) { .points = local + 2 * k, .labels = &positive, .n_points = 1 };
        }
      UsamPredictFlags flags = USAM_PREDICT_LOW_RES | USAM_PREDICT_NO_MASKS;
      if (params->multimask)
        flags |= USAM_PREDICT_MULTIMASK;
      g_autoptr (UsamPrediction) prediction = usam_model_predict (model, embedding, prompts, n, flags, cancellable,
                                                                  error);
      if (!prediction)
        return FALSE;
      guint n_masks = usam_prediction_get_n_masks (prediction);
      guint lr = usam_prediction_get_low_res_size (prediction);
      if (!upscale)
        upscale = usam_upscale_new (lr, usam_model_get_input_size (model), shape.input_width, shape.input_height,
                                    shape.original_width, shape.original_height);
      for (guint k = 0; k < n; k++)
        {
          const float *iou = usam_prediction_get_iou (prediction, k);
          /* micro-sam's reduce_multimasking: the mask of highest predicted IoU. */
          guint best = 0;
          for (guint m = 1; m < n_masks; m++)
            if (iou[m] > iou[best])
              best = m;
          usam_upscale_run (upscale, usam_prediction_get_low_res_logits (prediction, k) + (gsize) best * lr * lr,
                            tile ? tile_logits : logits);
          if (tile)
            for (guint y = 0; y < tile->outer.height; y++)
              memcpy (logits + (gsize) (dy + y) * width + dx, tile_logits + (gsize) y * tile->outer.width,
                      tile->outer.width * sizeof (float));
          float stability = usam_mask_stability_score (logits, plane, 0.0f, 1.0f);
          usam_mask_set_add_logits (masks, logits, 0.0f, iou[best], stability, points + 2 * (gsize) (start + k));
        }
    }
  return TRUE;
}

static gboolean
check_batch (const UsamApgParams *params, GError **error)
{
  if (params->batch_size == 0)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "the APG batch size must be positive");
      return FALSE;
    }
  return TRUE;
}

UsamMaskSet *
usam_apg_decode (UsamModel *model, UsamEmbedding *embedding, const UsamAisMaps *maps, const UsamApgParams *params,
                 GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (USAM_IS_MODEL (model) && embedding != NULL && maps != NULL && params != NULL, NULL);
  UsamEmbeddingShape shape;
  usam_embedding_get_shape (embedding, &shape);
  if (shape.original_width != maps->width || shape.original_height != maps->height)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "the AIS maps (%u × %u) and the embedding (%u × %u) are of different images", maps->width,
                   maps->height, shape.original_width, shape.original_height);
      return NULL;
    }
  if (!check_batch (params, error))
    return NULL;
  g_autofree float *points = NULL;
  guint n_points = 0;
  if (!usam_apg_point_prompts (maps, params, &points, &n_points, error))
    return NULL;
  g_autoptr (UsamMaskSet) masks = usam_mask_set_new (maps->width, maps->height);
  if (!decode_points (model, embedding, NULL, maps->width, maps->height, points, n_points, params, masks, cancellable,
                      error))
    return NULL;
  return g_steal_pointer (&masks);
}

UsamMaskSet *
usam_apg_decode_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice, const UsamAisMaps *maps,
                       const UsamApgParams *params, GCancellable *cancellable, GError **error)
{
  const UsamTiling *tiling = usam_embedding_cache_get_tiling (cache);
  if (tiling->width != maps->width || tiling->height != maps->height)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "the AIS maps (%u × %u) and the tiled embeddings (%u × %u) are of different images", maps->width,
                   maps->height, tiling->width, tiling->height);
      return NULL;
    }
  if (!check_batch (params, error))
    return NULL;
  g_autofree float *points = NULL;
  guint n_points = 0;
  if (!usam_apg_point_prompts (maps, params, &points, &n_points, error))
    return NULL;
  /* Each seed goes to the tile that holds it, as an interactive prompt does. */
  guint n_tiles = usam_embedding_cache_get_n_tiles (cache);
  g_autoptr (GArray) bucket = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr (UsamMaskSet) masks = usam_mask_set_new (maps->width, maps->height);
  for (guint i = 0; i < n_tiles; i++)
    {
      g_array_set_size (bucket, 0);
      for (guint k = 0; k < n_points; k++)
        if (usam_tiling_find_tile (tiling, points[2 * k], points[2 * k + 1]) == i)
          g_array_append_vals (bucket, points + 2 * (gsize) k, 2);
      if (bucket->len == 0)
        continue;
      UsamTile tile;
      usam_tiling_get_tile (tiling, i, &tile);
      g_autoptr (UsamEmbedding) embedding = usam_embedding_cache_dup_tile (cache, slice, i, cancellable, NULL, NULL,
                                                                         error);
      if (!embedding
          || !decode_points (model, embedding, &tile, maps->width, maps->height, (const float *) bucket->data,
                             bucket->len / 2, params, masks, cancellable, error))
        return NULL;
    }
  return g_steal_pointer (&masks);
}

void
usam_apg_select (UsamMaskSet *decoded, const UsamApgParams *params)
{
  g_return_if_fail (decoded != NULL && params != NULL);
  /* micro-sam keeps masks strictly larger than min_size before the NMS. */
  guint n = usam_mask_set_get_n (decoded);
  g_autofree gboolean *keep = g_new (gboolean, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    keep[i] = usam_mask_set_get_area (decoded, i) > params->min_size;
  usam_mask_set_filter (decoded, keep);
  usam_mask_set_mask_nms (decoded, params->nms_thresh);
}

UsamMaskSet *
usam_apg_generate (UsamModel *model, UsamEmbedding *embedding, const UsamAisMaps *maps, const UsamApgParams *params,
                   GCancellable *cancellable, GError **error)
{
  UsamMaskSet *masks = usam_apg_decode (model, embedding, maps, params, cancellable, error);
  if (masks)
    usam_apg_select (masks, params);
  return masks;
}

UsamMaskSet *
usam_apg_generate_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice, const UsamAisMaps *maps,
                         const UsamApgParams *params, GCancellable *cancellable, GError **error)
{
  UsamMaskSet *masks = usam_apg_decode_tiled (model, cache, slice, maps, params, cancellable, error);
  if (masks)
    usam_apg_select (masks, params);
  return masks;
}

gboolean
usam_apg_paint (UsamMaskSet *masks, const UsamApgParams *params, guint32 *labels, guint *n_objects, GError **error)
{
  UsamMaskPaintParams paint = { .min_size = params->min_size, .exclusive = TRUE, .remove_largest = FALSE };
  return usam_mask_set_paint (masks, &paint, labels, n_objects, error);
}
