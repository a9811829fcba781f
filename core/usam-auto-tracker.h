/* usam-auto-tracker.h — automatic tracking of a 2D time series: every
 * frame segmented on its own by the model's AIS decoder
 * (usam-ais-stack.h), then the frames linked into tracks with divisions
 * (usam-tracking.h). What `usam track --model` and the annotator's
 * *Track automatically* both run; its result is the starting point a person
 * corrects.
 */
#pragma once

#include <gio/gio.h>

#include "usam-ais-post.h"
#include "usam-model.h"
#include "usam-tracking.h"

G_BEGIN_DECLS

typedef struct
{
  UsamAisParams ais;
  UsamNormalize normalize;
  UsamTrackingParams tracking;
} UsamAutoTrackParams;

/* μSAM's AIS defaults, min-max normalisation, usam_tracking_params_default(). */
UsamAutoTrackParams usam_auto_track_params_default (void);

/* Segments every frame of @image (T frames, each 2D) and links them:
 * @tracked gets the labels by track (32-bit, @image's shape with one
 * channel), @tracks the UsamCtcTrack table. @progress (may be NULL) is
 * called after each frame with the fraction done. @ms_per_frame, when not
 * NULL, gets the segmentation time per frame. Fails with
 * USAM_ERROR_UNSUPPORTED for a model without an AIS decoder or a 3D time
 * series, and G_IO_ERROR_CANCELLED between frames. */
gboolean usam_auto_track (UsamModel *model, UsamImage *image, const UsamAutoTrackParams *params,
                          UsamProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                          UsamImage **tracked, GArray **tracks, double *ms_per_frame, GError **error);

typedef struct
{
  UsamImage *tracked;
  GArray *tracks; /* UsamCtcTrack */
} UsamAutoTrackResult;

void usam_auto_track_result_free (UsamAutoTrackResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamAutoTrackResult, usam_auto_track_result_free)

/* usam_auto_track() in a worker thread. @progress is called in the
 * thread-default main context of the caller; @progress_destroy frees
 * @progress_data once the last call is done. */
void usam_auto_track_async (UsamModel *model, UsamImage *image, const UsamAutoTrackParams *params,
                            GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                            GDestroyNotify progress_destroy, GAsyncReadyCallback callback, gpointer user_data);
UsamAutoTrackResult *usam_auto_track_finish (GAsyncResult *result, GError **error);

G_END_DECLS
