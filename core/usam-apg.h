/* usam-apg.h — automatic prompt generation (APG), micro-sam's third mode.
 *
 * AIS's decoder maps become point prompts for SAM (micro-sam's
 * AutomaticPromptGenerator): seeds are the pixels whose center and boundary
 * distances are both below their thresholds inside the foreground (maps as
 * the decoder gives them, unsmoothed); each 8-connected seed component gives
 * one positive point at its distance maximum (the pixel farthest from the
 * component's outer boundary and from the image border, first in row-major
 * order). The prompts are decoded in batches, one mask each; masks of at
 * most min_size pixels are dropped, duplicates removed by mask NMS (IoU
 * above nms_thresh, scored by predicted IoU × stability), and the rest
 * painted largest first, each only where no larger one painted.
 */
#pragma once

#include "usam-ais-maps.h"
#include "usam-mask-set.h"

G_BEGIN_DECLS

typedef struct
{
  double center_distance_threshold;
  double boundary_distance_threshold;
  double foreground_threshold; /* foreground: probability ≥ this */
  guint min_size;
  double nms_thresh;
  guint batch_size;
  gboolean multimask; /* decode 3 masks per prompt and keep the best */
} UsamApgParams;

/* micro-sam's generate() defaults: thresholds 0.5, min size 25, NMS 0.9,
 * batches of 32, one mask per prompt. */
UsamApgParams usam_apg_params_default (void);

/* The point prompts, (x, y) pairs in pixels, one per seed component in the
 * order of the components. Returns the number of points in @n_points;
 * *@points is NULL when there are none. */
gboolean usam_apg_point_prompts (const UsamAisMaps *maps, const UsamApgParams *params, float **points,
                                 guint *n_points, GError **error);

/* Prompts, decoding and NMS: the masks that will be painted. */
UsamMaskSet *usam_apg_generate (UsamModel *model, UsamEmbedding *embedding, const UsamAisMaps *maps,
                                const UsamApgParams *params, GCancellable *cancellable, GError **error);
/* The same on tiled embeddings, with @maps of the whole plane (from
 * usam_ais_maps_predict_tiled()): each seed is decoded on the tile that
 * holds it, its mask pasted back in image coordinates. */
UsamMaskSet *usam_apg_generate_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice,
                                      const UsamAisMaps *maps, const UsamApgParams *params,
                                      GCancellable *cancellable, GError **error);
UsamMaskSet *usam_apg_decode_tiled (UsamModel *model, UsamEmbeddingCache *cache, guint slice,
                                    const UsamAisMaps *maps, const UsamApgParams *params,
                                    GCancellable *cancellable, GError **error);

/* usam_apg_generate() in two steps: the prompts decoded, one mask each in
 * the order of the prompts (min_size and nms_thresh unused); then, in
 * place, micro-sam's size filter and mask NMS. Lets min_size and nms_thresh
 * change without decoding again (select a copy, usam_mask_set_copy()). */
UsamMaskSet *usam_apg_decode (UsamModel *model, UsamEmbedding *embedding, const UsamAisMaps *maps,
                              const UsamApgParams *params, GCancellable *cancellable, GError **error);
void usam_apg_select (UsamMaskSet *decoded, const UsamApgParams *params);

/* micro-sam's painting of APG masks into @labels (width × height). */
gboolean usam_apg_paint (UsamMaskSet *masks, const UsamApgParams *params, guint32 *labels, guint *n_objects,
                         GError **error);

G_END_DECLS
