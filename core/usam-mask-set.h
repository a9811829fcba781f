/* usam-mask-set.h — candidate object masks with SAM's scores.
 *
 * What the automatic modes (AMG, APG) produce before they become one label
 * image: binary masks of one image size, each with the model's predicted
 * IoU, its stability score, the point prompt that made it and its box, and
 * the operations micro-sam applies to such sets — de-duplication by box NMS
 * (torchvision's nms) or by mask NMS (micro_sam.util.apply_nms), sorting,
 * and painting into instances (micro_sam.util.mask_data_to_segmentation).
 *
 * Masks are stored cropped to their bounding box: automatic segmentation
 * keeps hundreds of masks of mostly small objects, which would take
 * hundreds of megabytes at full size.
 *
 * Boxes follow SAM's batched_mask_to_box: (x0, y0, x1, y1) with x1, y1 the
 * last pixel inside (inclusive), and (0, 0, 0, 0) for an empty mask.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _UsamMaskSet UsamMaskSet;

UsamMaskSet *usam_mask_set_new (guint width, guint height);
void usam_mask_set_free (UsamMaskSet *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamMaskSet, usam_mask_set_free)

/* A deep copy: lets a caller keep a decoded set and filter copies of it
 * (usam_auto_segmenter re-runs NMS with other thresholds this way). */
UsamMaskSet *usam_mask_set_copy (UsamMaskSet *self);

guint usam_mask_set_get_n (UsamMaskSet *self);
guint usam_mask_set_get_width (UsamMaskSet *self);
guint usam_mask_set_get_height (UsamMaskSet *self);

/* SAM's calculate_stability_score for one mask: the number of logits above
 * @threshold + @offset over the number above @threshold − @offset, in
 * float; NaN when none is above the lower cut (0/0, as in torch). */
float usam_mask_stability_score (const float *logits, gsize n, float threshold, float offset);

/* Adds the mask logits > @threshold of a width × height logit map.
 * @point: the (x, y) prompt, or NULL. */
void usam_mask_set_add_logits (UsamMaskSet *self, const float *logits, float threshold, float predicted_iou,
                               float stability_score, const float *point);
/* Adds a width × height mask (non-zero: inside). */
void usam_mask_set_add_mask (UsamMaskSet *self, const guint8 *mask, float predicted_iou, float stability_score,
                             const float *point);

float usam_mask_set_get_predicted_iou (UsamMaskSet *self, guint i);
float usam_mask_set_get_stability_score (UsamMaskSet *self, guint i);
guint64 usam_mask_set_get_area (UsamMaskSet *self, guint i);
/* Inclusive (x0, y0, x1, y1); (0, 0, 0, 0) when empty. */
void usam_mask_set_get_box (UsamMaskSet *self, guint i, guint box[4]);
/* FALSE when the mask was added without a point. */
gboolean usam_mask_set_get_point (UsamMaskSet *self, guint i, float point[2]);
/* Writes mask @i at full size (0/1) into @out (width × height bytes). */
void usam_mask_set_get_mask (UsamMaskSet *self, guint i, guint8 *out);

/* Moves the masks of @src, made on the box of this set's image whose
 * top-left corner is (@x, @y), to the end of @self in image coordinates
 * (boxes and points too); @src is left empty. */
void usam_mask_set_take_translated (UsamMaskSet *self, UsamMaskSet *src, guint x, guint y);
/* Keeps the masks whose @keep is TRUE, in their order. */
void usam_mask_set_filter (UsamMaskSet *self, const gboolean *keep);

/* Stable sort by predicted IoU, highest first (SAM's output order). */
void usam_mask_set_sort_by_predicted_iou (UsamMaskSet *self);

/* torchvision.ops.nms on the boxes (float, area (x1 − x0)(y1 − y0) as
 * torchvision computes it on SAM's inclusive boxes), scored by @scores
 * (NULL: the predicted IoUs): a mask is dropped when its box has an IoU
 * above @threshold with the box of a kept mask of higher score. The masks
 * left are ordered by score, highest first, ties in their former order. */
void usam_mask_set_box_nms (UsamMaskSet *self, const float *scores, double threshold);

/* micro-sam's mask NMS (util._batched_mask_nms): the same greedy scheme on
 * the IoU of the masks themselves, scored by predicted IoU × stability
 * score; a mask is kept while its IoU with every kept mask is ≤ @threshold. */
void usam_mask_set_mask_nms (UsamMaskSet *self, double threshold);

typedef struct
{
  guint min_size;          /* masks, then components, smaller than this are dropped */
  gboolean exclusive;      /* a mask paints only pixels no larger mask painted */
  gboolean remove_largest; /* drop the largest object, which is usually the background */
} UsamMaskPaintParams;

/* micro_sam.util.mask_data_to_segmentation: masks painted largest first
 * (stable by area), so smaller ones stay on top; then 8-connected
 * components, objects below min_size (and the largest, if asked) removed,
 * numbered 1..@n_objects in row-major order of their first pixel. @labels:
 * width × height. */
gboolean usam_mask_set_paint (UsamMaskSet *self, const UsamMaskPaintParams *params, guint32 *labels,
                              guint *n_objects, GError **error);

/* HDF5, in the layout of SamAutomaticMaskGenerator's records: /masks
 * (N, H, W) uint8, /predicted_iou (N) and /stability_score (N) float32,
 * /bbox_xywh (N, 4) and /point_coords (N, 2) float32, in the set's order.
 * Written atomically. */
gboolean usam_mask_set_save (UsamMaskSet *self, const char *path, GError **error);

G_END_DECLS
