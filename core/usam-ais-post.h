/* usam-ais-post.h — automatic instance segmentation (AIS) post-processing.
 *
 * μSAM's AIS decoder predicts three maps per image: a foreground
 * probability, the distance to the object's center and the distance to the
 * object's boundary (both normalised to [0, 1], 0 at the center, 1 at the
 * boundary and in the background). usam_ais_segment() turns them into
 * instances the way micro-sam does (InstanceSegmentationWithDecoder.generate
 * and torch_em's watershed_from_center_and_boundary_distances):
 *
 *  1. Gaussian smoothing of the foreground (sigma foreground_smoothing) and of
 *     both distance maps (sigma distance_smoothing); mirror borders, radius
 *     ceil(3 sigma), float arithmetic, as bioimage-cpp's gaussian_smoothing.
 *  2. Foreground = smoothed foreground > foreground_threshold.
 *  3. Seeds = center < center_distance_threshold and boundary <
 *     boundary_distance_threshold, inside the foreground; their 8-connected
 *     components, numbered in row-major order of their first pixel.
 *  4. A seeded watershed on the smoothed boundary distances, 4-connected,
 *     restricted to the foreground: the heights are quantised to 65536 levels
 *     over the foreground's range and flooded level by level, last-in
 *     first-out within a level, a pixel taking the label of the neighbour that
 *     reaches it first (bioimage-cpp's bucket-queue watershed, reproduced
 *     exactly, ties included). skimage's watershed, which older releases
 *     used, compares the float heights themselves and floods equal heights
 *     first-in first-out, so where two basins meet on a plateau or within
 *     one quantisation step the dividing line can sit a pixel or two apart.
 *  5. Objects of fewer than min_size pixels are removed and the rest
 *     renumbered 1..n keeping their order.
 *
 * Runs in time linear in the number of pixels, with about 11 bytes of
 * scratch memory per pixel besides the caller's arrays. Labels equal the
 * reference's pixel for pixel where floats are computed without fused
 * multiply-add (as on x86-64); elsewhere the smoothing may round
 * differently in the last bit.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  double center_distance_threshold;   /* seeds: smoothed center distance below this */
  double boundary_distance_threshold; /* seeds: smoothed boundary distance below this */
  double foreground_threshold;        /* foreground: smoothed probability above this */
  double foreground_smoothing;        /* Gaussian sigma for the foreground; 0 smooths nothing */
  double distance_smoothing;          /* Gaussian sigma for both distance maps; 0 smooths nothing */
  guint min_size;                     /* objects smaller than this (in pixels) are removed */
} UsamAisParams;

/* What micro-sam's annotator starts with: thresholds 0.5, 0.5 and 0.5,
 * foreground smoothing 1.0, distance smoothing 1.6 and a minimum object size
 * of 100. (Its Python generate() defaults to a minimum size of 0.) */
UsamAisParams usam_ais_params_default (void);

/* micro-sam's tuned settings for a model ("vit_b_lm", "vit_t_em_organelles",
 * …) on top of the defaults. Returns FALSE, leaving @params at the defaults,
 * for a model that has none. */
gboolean usam_ais_params_for_model (const char *model_type, UsamAisParams *params);

/* Segments @width × @height maps (row-major) into @labels: 0 for background,
 * objects 1..@n_objects. Fails with USAM_ERROR_INVALID_ARGUMENT for bad sizes
 * or parameters, USAM_ERROR_INVALID_DATA when a map holds NaN or infinity,
 * and G_IO_ERROR_CANCELLED; @labels is then undefined. */
gboolean usam_ais_segment (const float *foreground, const float *center_distances, const float *boundary_distances,
                           guint width, guint height, const UsamAisParams *params, guint32 *labels, guint *n_objects,
                           GCancellable *cancellable, GError **error);

/* Connected components of equal non-zero values, 8-connected, numbered
 * 1..@n_components in row-major order of their first pixel (skimage's and
 * bioimage-cpp's label()). @labels and @components may be the same array. */
gboolean usam_label_components (const guint32 *labels, guint width, guint height, guint32 *components,
                                guint *n_components, GError **error);

/* Sets objects of fewer than @min_size pixels to 0 and renumbers the rest
 * 1..@n_objects in the order of their old ids (torch_em's size_filter). */
gboolean usam_label_remove_small (guint32 *labels, guint width, guint height, guint min_size, guint *n_objects,
                                  GError **error);

G_END_DECLS
