/* usam-ais-targets.h — the AIS decoder's training targets from instance labels.
 *
 * The three maps μSAM trains its decoder on, as torch_em's
 * PerObjectDistanceTransform computes them with the options micro-sam's
 * training uses (distances, boundary distances, foreground; no directed
 * distances):
 *
 *  - the labels are split into 8-connected components of equal value, and
 *    components of fewer than @min_size pixels are dropped (micro-sam trains
 *    with min_size 25);
 *  - foreground: 1 on objects, 0 elsewhere;
 *  - center distance: per object, the Euclidean distance to its center (its
 *    centroid rounded half to even, or, if that pixel is not in the object,
 *    the object pixel farthest from any boundary), divided by the largest
 *    such distance in the object (+ 1e-7);
 *  - boundary distance: per object, (dmax − d) / (dmax − dmin + 1e-7), where
 *    d is the exact Euclidean distance to the nearest inner boundary pixel
 *    (a labelled pixel with a 4-neighbour of another value) within the
 *    object's bounding box, and dmax, dmin its extremes over the object;
 *  - both distance maps are 1 outside objects.
 *
 * Arithmetic follows the reference's float32/float64 steps, so the maps
 * equal torch_em's bit for bit. Linear in the pixels of the objects'
 * bounding boxes (Felzenszwalb–Huttenlocher distance transforms).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The minimum object size micro-sam's training passes. */
#define USAM_AIS_TARGETS_TRAINING_MIN_SIZE 25

/* @labels: @width × @height, row-major, 0 = background. Any of the outputs
 * may be NULL. Fails with USAM_ERROR_INVALID_ARGUMENT for bad sizes and with
 * G_IO_ERROR_CANCELLED. */
gboolean usam_ais_targets (const guint32 *labels, guint width, guint height, guint min_size, float *foreground,
                           float *center_distances, float *boundary_distances, GCancellable *cancellable,
                           GError **error);

G_END_DECLS
