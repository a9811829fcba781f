/* usam-amg.h — automatic mask generation (AMG): SAM prompted with a grid.
 *
 * SAM's SamAutomaticMaskGenerator as micro-sam runs it (one crop, the
 * image's own embedding): a regular grid of points_per_side² point prompts,
 * decoded points_per_batch at a time with three masks per point; masks kept
 * when their predicted IoU is above pred_iou_thresh and their stability
 * score (logits cut at ±stability_score_offset around 0) is at least
 * stability_score_thresh (a threshold ≤ 0 disables its filter, as in SAM);
 * duplicates removed by box NMS at box_nms_thresh; the rest ordered by
 * predicted IoU, highest first. usam_amg_paint() then merges them into one
 * label image the way micro-sam's AutomaticMaskGenerator.generate() does.
 */
#pragma once

#include "usam-embedding-cache.h"
#include "usam-mask-set.h"
#include "usam-model.h"

G_BEGIN_DECLS

typedef struct
{
  guint points_per_side;         /* grid points along each side */
  guint points_per_batch;        /* prompts decoded together */
  double pred_iou_thresh;        /* keep predicted IoU > this; ≤ 0 keeps all */
  double stability_score_thresh; /* keep stability ≥ this; ≤ 0 keeps all */
  double stability_score_offset; /* half-width of the logit band of the stability score */
  double box_nms_thresh;         /* drop masks whose box IoU with a better one is above this */
  guint min_size;                /* painting: objects smaller than this (pixels) are dropped */
  gboolean remove_largest;       /* painting: drop the largest object if it outgrows the background */
} UsamAmgParams;

/* micro-sam's defaults: 32 points per side, batches of 64, pred IoU 0.88,
 * stability 0.95 with offset 1.0, box NMS 0.7, no minimum size, and the
 * largest object taken for background (generate(with_background=True)). */
UsamAmgParams usam_amg_params_default (void);

/* micro-sam's tuned AMG settings for a model ("vit_b_lm", …) on top of the
 * defaults (_model_settings.AMG_SETTINGS). FALSE, leaving @params at the
 * defaults, for a model that has none. */
gboolean usam_amg_params_for_model (const char *model_type, UsamAmgParams *params);

/* SAM's build_point_grid: @n × @n points (x, y) in [0, 1], row by row,
 * into @points (2 n² doubles). */
void usam_amg_point_grid (guint n, double *points);

/* Wall-clock seconds of the stages of one usam_amg_generate() call. */
typedef struct
{
  double decode; /* the mask decoder (prompt encoder, two-way transformer, heads) */
  double filter; /* upscaling of the logits, stability scores, thresholds, cropping */
  double nms;    /* box NMS and sorting */
  guint n_candidates, n_filtered, n_kept;
} UsamAmgStats;

/* Runs the grid through the model. @stats may be NULL. @progress runs in
 * the calling thread, once per batch. */
UsamMaskSet *usam_amg_generate (UsamModel *model, UsamEmbedding *embedding, const UsamAmgParams *params,
                                UsamAmgStats *stats, GCancellable *cancellable, UsamProgressFunc progress,
                                gpointer progress_data, GError **error);

/* SAM's crop_nms_thresh: box NMS across tiles, micro-sam's default. */
#define USAM_AMG_CROP_NMS_THRESH 0.7

/* μSAM's tiled AMG (SAM's multi-crop scheme, a crop per tile): the grid on
 * every tile's outer box of @slice, the thresholds, masks dropped whose box
 * runs into a tile side that is not an image side, box NMS within each
 * tile, then box NMS across tiles preferring smaller tiles. Masks in image
 * coordinates. @progress runs once per tile. */
UsamMaskSet *usam_amg_generate_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice,
                                      const UsamAmgParams *params, GCancellable *cancellable,
                                      UsamProgressFunc progress, gpointer progress_data, GError **error);

/* The thresholds and box NMS of @params on candidates that
 * usam_amg_generate() kept all of (pred_iou_thresh and
 * stability_score_thresh ≤ 0, box_nms_thresh ≥ 1, the same points and
 * stability_score_offset), in place: the masks usam_amg_generate() with
 * @params gives, in its order. Lets the thresholds change without decoding
 * again. */
void usam_amg_select (UsamMaskSet *candidates, const UsamAmgParams *params);

/* micro-sam's painting of AMG masks: largest first, smaller on top, not
 * exclusive; then components, min_size and the background rule of @params.
 * @labels: width × height of @masks. */
gboolean usam_amg_paint (UsamMaskSet *masks, const UsamAmgParams *params, guint32 *labels, guint *n_objects,
                         GError **error);

G_END_DECLS
