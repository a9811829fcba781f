/* usam-baseline.h — the classical automatic segmentation usam's models are
 * judged against: Otsu's threshold, then a watershed on the Euclidean
 * distance transform of the foreground.
 *
 * The foreground is the side of Otsu's threshold that covers less of the
 * image (objects are the minority: bright nuclei in fluorescence, dark ones
 * in brightfield). Each foreground component's distance transform is
 * normalised by its maximum; seeds are where it exceeds half that maximum, so
 * touching round objects joined by a neck split, and the watershed runs on
 * the normalised distances inside the foreground (usam_ais_segment, with no
 * smoothing, so the same flooding as the AIS path).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Squared Euclidean distance of every non-zero pixel of @mask to the nearest
 * zero pixel (0 on zeros); pixels beyond the border count as non-zero.
 * Exact (Felzenszwalb and Huttenlocher's separable transform). */
void usam_distance_transform_sq (const guint8 *mask, guint width, guint height, float *out);

/* Segments the @width × @height 8-bit @grey image into @labels (0
 * background, objects 1..@n_objects), dropping objects under @min_size pixels. */
gboolean usam_baseline_otsu_watershed (const guint8 *grey, guint width, guint height, guint min_size,
                                       guint32 *labels, guint *n_objects, GError **error);

G_END_DECLS
