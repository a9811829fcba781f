/* Per-frame AIS, then linking: automatic tracking in one call. */
#include "usam-auto-tracker.h"
#include "usam-progress-proxy.h"
#include "usam-workers.h"

#include "usam-ais-stack.h"
#include "usam-error.h"

UsamAutoTrackParams
usam_auto_track_params_default (void)
{
  return (UsamAutoTrackParams) {
    .ais = usam_ais_params_default (),
    .normalize = USAM_NORMALIZE_MINMAX,
    .tracking = usam_tracking_params_default (),
  };
}

gboolean
usam_auto_track (UsamModel *model, UsamImage *image, const UsamAutoTrackParams *params, UsamProgressFunc progress,
                 gpointer progress_data, GCancellable *cancellable, UsamImage **tracked, GArray **tracks,
                 double *ms_per_frame, GError **error)
{
  g_return_val_if_fail (tracked != NULL && tracks != NULL, FALSE);
  if (usam_image_get_frames (image) > 1 && usam_image_get_depth (image) > 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: a 3D time series; automatic tracking segments 2D frames",
                   usam_image_get_path (image) ? usam_image_get_path (image) : "the image");
      return FALSE;
    }
  gint64 start = g_get_monotonic_time ();
  g_autoptr (UsamImage) labels = usam_ais_segment_stack (model, image, FALSE, 0, &params->ais, params->normalize,
                                                         progress, progress_data, cancellable, error);
  if (!labels)
    return FALSE;
  if (ms_per_frame)
    *ms_per_frame = (double) (g_get_monotonic_time () - start) / 1000.0 / usam_image_get_frames (image);
  return usam_tracking_link (labels, &params->tracking, tracked, tracks, cancellable, error);
}

void
usam_auto_track_result_free (UsamAutoTrackResult *result)
{
  if (!result)
    return;
  g_clear_object (&result->tracked);
  g_clear_pointer (&result->tracks, g_array_unref);
  g_free (result);
}

typedef struct
{
  UsamModel *model;
  UsamImage *image;
  UsamAutoTrackParams params;
  UsamProgressProxy *proxy;
} RunData;

static void
run_data_free (RunData *d)
{
  g_clear_object (&d->model);
  g_clear_object (&d->image);
  g_clear_pointer (&d->proxy, usam_progress_proxy_unref);
  g_free (d);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  GError *error = NULL;
  g_autoptr (UsamAutoTrackResult) result = g_new0 (UsamAutoTrackResult, 1);
  if (usam_auto_track (d->model, d->image, &d->params, d->proxy ? usam_progress_proxy_post : NULL, d->proxy, cancellable,
                       &result->tracked, &result->tracks, NULL, &error))
    g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) usam_auto_track_result_free);
  else
    g_task_return_error (task, error);
}

void
usam_auto_track_async (UsamModel *model, UsamImage *image, const UsamAutoTrackParams *params,
                       GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                       GDestroyNotify progress_destroy, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (USAM_IS_MODEL (model) && USAM_IS_IMAGE (image) && params != NULL);
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_auto_track_async);
  RunData *d = g_new0 (RunData, 1);
  d->model = g_object_ref (model);
  d->image = g_object_ref (image);
  d->params = *params;
  d->proxy = usam_progress_proxy_new (progress, progress_data, progress_destroy);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  usam_task_run_in_thread (task, run_thread);
}

UsamAutoTrackResult *
usam_auto_track_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
