/* usam-ais-stack.h — automatic instance segmentation (AIS) of every plane of
 * a volume or time series, the first step of automatic 3D (then
 * usam-volume-merge.h) and automatic tracking (then usam-tracking.h).
 *
 * Each plane is encoded, the model's AIS decoder predicts its three maps and
 * micro-sam's post-processing (usam_ais_segment) numbers its objects 1..n,
 * on its own: objects are joined across planes afterwards.
 */
#pragma once

#include "usam-ais-post.h"
#include "usam-model.h"
#include "usam-volume-merge.h"

G_BEGIN_DECLS

/* Segments the planes of @image: its frames (@over_z FALSE; every frame must
 * be 2D) or the slices of frame @t (@over_z TRUE). Returns a 32-bit label
 * image of the same width and height with one plane per segmented plane, laid
 * out as the input (frames stay frames, slices stay slices). @progress is
 * called after each plane. Fails with USAM_ERROR_UNSUPPORTED for a model
 * without an AIS decoder, USAM_ERROR_INVALID_ARGUMENT for a shape that does
 * not fit, or the model's error; G_IO_ERROR_CANCELLED between planes. */
UsamImage *usam_ais_segment_stack (UsamModel *model, UsamImage *image, gboolean over_z, guint t,
                                   const UsamAisParams *params, UsamNormalize normalize, UsamProgressFunc progress,
                                   gpointer progress_data, GCancellable *cancellable, GError **error);

/* Automatic 3D of frame @t: AIS on every slice, then the objects joined
 * across slices (usam_volume_merge(), @merge NULL: its defaults). A 32-bit
 * label volume of frame @t's shape (one frame), objects 1..*@n_objects. */
UsamImage *usam_ais_segment_volume (UsamModel *model, UsamImage *image, guint t, const UsamAisParams *params,
                                    const UsamVolumeMergeParams *merge, UsamNormalize normalize,
                                    UsamProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                                    guint *n_objects, GError **error);
/* The same in a worker; @progress runs in the caller's thread-default main context. */
void usam_ais_segment_volume_async (UsamModel *model, UsamImage *image, guint t, const UsamAisParams *params,
                                    const UsamVolumeMergeParams *merge, UsamNormalize normalize,
                                    UsamProgressFunc progress, gpointer progress_data,
                                    GDestroyNotify progress_destroy, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
UsamImage *usam_ais_segment_volume_finish (GAsyncResult *result, guint *n_objects, GError **error);

G_END_DECLS
