#include "usam-amg.h"

#include "usam-tiling.h"

#include <math.h>

#include "usam-error.h"
#include "usam-upscale.h"

UsamAmgParams
usam_amg_params_default (void)
{
  return (UsamAmgParams) {
    .points_per_side = 32,
    .points_per_batch = 64,
    .pred_iou_thresh = 0.88,
    .stability_score_thresh = 0.95,
    .stability_score_offset = 1.0,
    .box_nms_thresh = 0.7,
    .min_size = 0,
    .remove_largest = TRUE,
  };
}

/* micro_sam/_model_settings.py, AMG_SETTINGS. */
static const struct
{
  const char *model;
  double pred_iou, stability;
  guint min_size;
} model_settings[] = {
  { "vit_t_lm", 0.6, 0.65, 100 },
  { "vit_b_lm", 0.65, 0.7, 100 },
  { "vit_l_lm", 0.65, 0.73, 100 },
  { "vit_h_lm", 0.65, 0.7, 100 },
  { "vit_t_em_organelles", 0.75, 0.75, 100 },
  { "vit_b_em_organelles", 0.75, 0.75, 100 },
  { "vit_l_em_organelles", 0.8, 0.8, 100 },
  { "vit_h_em_organelles", 0.8, 0.8, 100 },
};

gboolean
usam_amg_params_for_model (const char *model_type, UsamAmgParams *params)
{
  g_return_val_if_fail (params != NULL, FALSE);
  *params = usam_amg_params_default ();
  for (guint i = 0; model_type && i < G_N_ELEMENTS (model_settings); i++)
    if (g_str_equal (model_type, model_settings[i].model))
      {
        params->pred_iou_thresh = model_settings[i].pred_iou;
        params->stability_score_thresh = model_settings[i].stability;
        params->min_size = model_settings[i].min_size;
        return TRUE;
      }
  return FALSE;
}

void
usam_amg_point_grid (guint n, double *points)
{
  g_return_if_fail (n > 0 && points != NULL);
  /* numpy.linspace(offset, 1 − offset, n): start + i · step, the last
   * value set to the end exactly. */
  double offset = 1.0 / (2.0 * n);
  double stop = 1.0 - offset;
  g_autofree double *side = g_new (double, n);
  double step = n > 1 ? (stop - offset) / (double) (n - 1) : 0.0;
  for (guint i = 0; i < n; i++)
    side[i] = (double) i * step + offset;
  if (n > 1)
    side[n - 1] = stop;
  for (guint y = 0; y < n; y++)
    for (guint x = 0; x < n; x++)
      {
        points[2 * ((gsize) y * n + x)] = side[x];
        points[2 * ((gsize) y * n + x) + 1] = side[y];
      }
}

static gboolean
check_params (const UsamAmgParams *p, GError **error)
{
  if (p->points_per_side == 0 || p->points_per_side > 1024)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "points per side must be in 1…1024, not %u",
                   p->points_per_side);
      return FALSE;
    }
  if (p->points_per_batch == 0)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "points per batch must be positive");
      return FALSE;
    }
  if (!isfinite (p->pred_iou_thresh) || !isfinite (p->stability_score_thresh)
      || !isfinite (p->stability_score_offset) || !isfinite (p->box_nms_thresh))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "AMG thresholds must be finite");
      return FALSE;
    }
  return TRUE;
}

UsamMaskSet *
usam_amg_generate (UsamModel *model, UsamEmbedding *embedding, const UsamAmgParams *params, UsamAmgStats *stats,
                   GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (USAM_IS_MODEL (model) && embedding != NULL && params != NULL, NULL);
  if (!check_params (params, error))
    return NULL;
  UsamAmgStats local = { 0 };
  UsamEmbeddingShape shape;
  usam_embedding_get_shape (embedding, &shape);
  guint width = shape.original_width, height = shape.original_height;
  gsize plane = (gsize) width * height;

  guint n_points = params->points_per_side * params->points_per_side;
  g_autofree double *grid = g_new (double, 2 * (gsize) n_points);
  usam_amg_point_grid (params->points_per_side, grid);
  /* micro-sam hands the scaled grid to the model in float32. */
  g_autofree float *points = g_new (float, 2 * (gsize) n_points);
  for (guint i = 0; i < n_points; i++)
    {
      points[2 * i] = (float) (grid[2 * i] * width);
      points[2 * i + 1] = (float) (grid[2 * i + 1] * height);
    }
  static const gint32 positive = 1;

  /* SAM compares float32 scores with the thresholds as float32. */
  const float iou_cut = (float) params->pred_iou_thresh;
  const float stability_cut = (float) params->stability_score_thresh;
  const float offset = (float) params->stability_score_offset;

  g_autoptr (UsamMaskSet) masks = usam_mask_set_new (width, height);
  /* The decoder's low-res logits are upscaled here, one mask at a time:
   * asking the engine for full-size logits would allocate them for every
   * mask of a batch at once, which costs more than decoding. */
  g_autoptr (UsamUpscale) upscale = NULL;
  g_autofree float *logits = g_try_new (float, plane);
  if (!logits)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "out of memory for a %u × %u mask", width, height);
      return NULL;
    }
  guint batch = params->points_per_batch;
  g_autofree UsamPrompt *prompts = g_new0 (UsamPrompt, batch);
  for (guint start = 0; start < n_points; start += batch)
    {
      guint n = MIN (batch, n_points - start);
      for (guint k = 0; k < n; k++)
        prompts[k] = (UsamPrompt) { .points = points + 2 * (gsize) (start + k), .labels = &positive, .n_points = 1 };
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (UsamPrediction) prediction
          = usam_model_predict (model, embedding, prompts, n,
                                USAM_PREDICT_MULTIMASK | USAM_PREDICT_LOW_RES | USAM_PREDICT_NO_MASKS, cancellable,
                                error);
      if (!prediction)
        return NULL;
      gint64 t1 = g_get_monotonic_time ();
      local.decode += (t1 - t0) / 1e6;
      guint n_masks = usam_prediction_get_n_masks (prediction);
      guint lr = usam_prediction_get_low_res_size (prediction);
      if (!upscale)
        upscale = usam_upscale_new (lr, usam_model_get_input_size (model), shape.input_width, shape.input_height,
                                    width, height);
      for (guint k = 0; k < n; k++)
        {
          const float *low_res = usam_prediction_get_low_res_logits (prediction, k);
          const float *iou = usam_prediction_get_iou (prediction, k);
          for (guint m = 0; m < n_masks; m++)
            {
              local.n_candidates++;
              if (params->pred_iou_thresh > 0.0 && !(iou[m] > iou_cut))
                continue;
              usam_upscale_run (upscale, low_res + (gsize) m * lr * lr, logits);
              float stability = usam_mask_stability_score (logits, plane, 0.0f, offset);
              if (params->stability_score_thresh > 0.0 && !(stability >= stability_cut))
                continue;
              /* SAM's mask_threshold is 0 for every model. */
              usam_mask_set_add_logits (masks, logits, 0.0f, iou[m], stability, points + 2 * (gsize) (start + k));
            }
        }
      local.filter += (g_get_monotonic_time () - t1) / 1e6;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (progress)
        progress ((double) (start + n) / n_points, progress_data);
    }
  local.n_filtered = usam_mask_set_get_n (masks);

  gint64 t2 = g_get_monotonic_time ();
  usam_mask_set_box_nms (masks, NULL, params->box_nms_thresh);
  usam_mask_set_sort_by_predicted_iou (masks);
  local.nms = (g_get_monotonic_time () - t2) / 1e6;
  local.n_kept = usam_mask_set_get_n (masks);
  if (stats)
    *stats = local;
  return g_steal_pointer (&masks);
}

void
usam_amg_select (UsamMaskSet *candidates, const UsamAmgParams *params)
{
  g_return_if_fail (candidates != NULL && params != NULL);
  /* The same float comparisons as usam_amg_generate(). */
  const float iou_cut = (float) params->pred_iou_thresh;
  const float stability_cut = (float) params->stability_score_thresh;
  guint n = usam_mask_set_get_n (candidates);
  g_autofree gboolean *keep = g_new (gboolean, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      float iou = usam_mask_set_get_predicted_iou (candidates, i);
      float stability = usam_mask_set_get_stability_score (candidates, i);
      keep[i] = !(params->pred_iou_thresh > 0.0 && !(iou > iou_cut))
                && !(params->stability_score_thresh > 0.0 && !(stability >= stability_cut));
    }
  usam_mask_set_filter (candidates, keep);
  /* The candidates are already ranked by predicted IoU, ties in grid order,
   * so the greedy NMS visits the survivors in the order it would have. */
  usam_mask_set_box_nms (candidates, NULL, params->box_nms_thresh);
  usam_mask_set_sort_by_predicted_iou (candidates);
}

/* SAM's is_box_near_crop_edge (atol 20): a box within 20 pixels of a side
 * of its crop that is not a side of the image runs out of the crop, so its
 * mask is likely cut; another tile sees the object whole. */
static gboolean
near_crop_edge (const guint box[4], const UsamRect *crop, guint width, guint height)
{
  const double b[4] = { box[0], box[1], box[2], box[3] };
  const double c[4] = { crop->x, crop->y, crop->x + crop->width, crop->y + crop->height };
  const double image[4] = { 0, 0, width, height };
  for (int k = 0; k < 4; k++)
    if (fabs (b[k] - c[k]) <= 20.0 && !(fabs (b[k] - image[k]) <= 20.0))
      return TRUE;
  return FALSE;
}

UsamMaskSet *
usam_amg_generate_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice, const UsamAmgParams *params,
                         GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (USAM_IS_MODEL (model) && USAM_IS_EMBEDDING_CACHE (cache) && params != NULL, NULL);
  const UsamTiling *tiling = usam_embedding_cache_get_tiling (cache);
  guint n_tiles = usam_embedding_cache_get_n_tiles (cache);
  g_autoptr (UsamMaskSet) masks = usam_mask_set_new (tiling->width, tiling->height);
  g_autoptr (GArray) crop_area = g_array_new (FALSE, FALSE, sizeof (float));
  /* The per-tile box NMS comes after the crop-edge filter, as in μSAM. */
  UsamAmgParams per_tile = *params;
  per_tile.box_nms_thresh = 1.0;
  for (guint i = 0; i < n_tiles; i++)
    {
      UsamTile tile;
      usam_tiling_get_tile (tiling, i, &tile);
      g_autoptr (UsamEmbedding) embedding = usam_embedding_cache_dup_tile (cache, slice, i, cancellable, NULL, NULL,
                                                                         error);
      if (!embedding)
        return NULL;
      g_autoptr (UsamMaskSet) part
          = usam_amg_generate (model, embedding, &per_tile, NULL, cancellable, NULL, NULL, error);
      if (!part)
        return NULL;
      guint n = usam_mask_set_get_n (part);
      g_autofree gboolean *keep = g_new (gboolean, MAX (n, 1));
      for (guint k = 0; k < n; k++)
        {
          guint box[4];
          usam_mask_set_get_box (part, k, box);
          for (int c = 0; c < 4; c++)
            box[c] += c % 2 ? tile.outer.y : tile.outer.x;
          keep[k] = !near_crop_edge (box, &tile.outer, tiling->width, tiling->height);
        }
      usam_mask_set_filter (part, keep);
      usam_mask_set_box_nms (part, NULL, params->box_nms_thresh);
      /* Masks of smaller tiles win across tiles (SAM's crop NMS). */
      float score = 1.0f / ((float) tile.outer.width * (float) tile.outer.height);
      for (guint k = 0; k < usam_mask_set_get_n (part); k++)
        g_array_append_val (crop_area, score);
      usam_mask_set_take_translated (masks, part, tile.outer.x, tile.outer.y);
      if (progress)
        progress ((double) (i + 1) / n_tiles, progress_data);
    }
  if (n_tiles > 1)
    usam_mask_set_box_nms (masks, (const float *) crop_area->data, USAM_AMG_CROP_NMS_THRESH);
  return g_steal_pointer (&masks);
}

gboolean
usam_amg_paint (UsamMaskSet *masks, const UsamAmgParams *params, guint32 *labels, guint *n_objects, GError **error)
{
  g_return_val_if_fail (masks != NULL && params != NULL, FALSE);
  UsamMaskPaintParams paint = {
    .min_size = params->min_size,
    .exclusive = FALSE,
    .remove_largest = params->remove_largest,
  };
  return usam_mask_set_paint (masks, &paint, labels, n_objects, error);
}
