/* usam-ais-stack.c — AIS plane by plane (see usam-ais-stack.h). */
#include "usam-ais-stack.h"

#include "usam-ais-maps.h"
#include "usam-error.h"
#include "usam-progress-proxy.h"
#include "usam-workers.h"

UsamImage *
usam_ais_segment_stack (UsamModel *model, UsamImage *image, gboolean over_z, guint t, const UsamAisParams *params,
                        UsamNormalize normalize, UsamProgressFunc progress, gpointer progress_data,
                        GCancellable *cancellable, GError **error)
{
  if (!usam_model_has_decoder (model))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s: the checkpoint has no AIS decoder (decoder_state), which automatic segmentation of a stack "
                   "needs",
                   usam_model_get_path (model) ? usam_model_get_path (model) : "model");
      return NULL;
    }
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  guint depth = usam_image_get_depth (image), frames = usam_image_get_frames (image);
  if (over_z && t >= frames)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "frame %u of an image with %u frames", t, frames);
      return NULL;
    }
  if (!over_z && depth != 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "the frames are volumes (%u slices); segment each frame's slices instead", depth);
      return NULL;
    }
  guint n = over_z ? depth : frames;
  g_autoptr (UsamImage) labels
    = usam_image_new (USAM_PIXEL_TYPE_U32, w, h, 1, over_z ? depth : 1, over_z ? 1 : frames, error);
  if (!labels)
    return NULL;
  for (guint i = 0; i < n; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      guint pt = over_z ? t : i, pz = over_z ? i : 0;
      g_autoptr (UsamEmbedding) embedding
        = usam_model_encode (model, image, pt, pz, normalize, cancellable, NULL, NULL, error);
      g_autoptr (UsamAisMaps) maps = embedding ? usam_ais_maps_predict (model, embedding, error) : NULL;
      guint n_objects = 0;
      if (!maps ||
          !usam_ais_segment (maps->foreground, maps->center_distances, maps->boundary_distances, w, h, params,
                             usam_image_get_plane_mutable (labels, over_z ? 0 : i, over_z ? i : 0), &n_objects,
                             cancellable, error))
        {
          g_prefix_error (error, "%s %u: ", over_z ? "slice" : "frame", i);
          return NULL;
        }
      if (progress)
        progress ((double) (i + 1) / n, progress_data);
    }
  return g_steal_pointer (&labels);
}

/* The slices' share of the work; the merge is quick. */
typedef struct
{
  UsamProgressFunc func;
  gpointer data;
} Scaled;

static void
scaled_progress (double fraction, gpointer user_data)
{
  Scaled *s = user_data;
  s->func (0.95 * fraction, s->data);
}

UsamImage *
usam_ais_segment_volume (UsamModel *model, UsamImage *image, guint t, const UsamAisParams *params,
                         const UsamVolumeMergeParams *merge, UsamNormalize normalize, UsamProgressFunc progress,
                         gpointer progress_data, GCancellable *cancellable, guint *n_objects, GError **error)
{
  Scaled scaled = { progress, progress_data };
  g_autoptr (UsamImage) slices = usam_ais_segment_stack (model, image, TRUE, t, params, normalize,
                                                         progress ? scaled_progress : NULL, &scaled, cancellable, error);
  if (!slices)
    return NULL;
  guint w = usam_image_get_width (image), h = usam_image_get_height (image), d = usam_image_get_depth (image);
  g_autoptr (UsamImage) merged = usam_image_new (USAM_PIXEL_TYPE_U32, w, h, 1, d, 1, error);
  const UsamVolumeMergeParams defaults = usam_volume_merge_params_default ();
  guint n = 0;
  if (!merged
      || !usam_volume_merge (usam_image_get_plane_mutable (slices, 0, 0), w, h, d, merge ? merge : &defaults,
                             usam_image_get_plane_mutable (merged, 0, 0), &n, cancellable, error))
    return NULL;
  if (progress)
    progress (1.0, progress_data);
  if (n_objects)
    *n_objects = n;
  return g_steal_pointer (&merged);
}

typedef struct
{
  UsamModel *model;
  UsamImage *image;
  guint t, n_objects;
  UsamAisParams params;
  UsamVolumeMergeParams merge;
  UsamNormalize normalize;
  UsamProgressProxy *proxy;
} VolumeJob;

static void
volume_job_free (VolumeJob *job)
{
  g_clear_object (&job->model);
  g_clear_object (&job->image);
  usam_progress_proxy_unref (job->proxy);
  g_free (job);
}

static void
volume_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  VolumeJob *job = task_data;
  GError *error = NULL;
  UsamImage *labels = usam_ais_segment_volume (job->model, job->image, job->t, &job->params, &job->merge,
                                               job->normalize, job->proxy ? usam_progress_proxy_post : NULL,
                                               job->proxy, cancellable, &job->n_objects, &error);
  if (labels)
    g_task_return_pointer (task, labels, g_object_unref);
  else
    g_task_return_error (task, error);
}

void
usam_ais_segment_volume_async (UsamModel *model, UsamImage *image, guint t, const UsamAisParams *params,
                               const UsamVolumeMergeParams *merge, UsamNormalize normalize, UsamProgressFunc progress,
                               gpointer progress_data, GDestroyNotify progress_destroy, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_ais_segment_volume_async);
  VolumeJob *job = g_new0 (VolumeJob, 1);
  job->model = g_object_ref (model);
  job->image = g_object_ref (image);
  job->t = t;
  job->params = *params;
  job->merge = merge ? *merge : usam_volume_merge_params_default ();
  job->normalize = normalize;
  job->proxy = usam_progress_proxy_new (progress, progress_data, progress_destroy);
  g_task_set_task_data (task, job, (GDestroyNotify) volume_job_free);
  usam_task_run_in_thread (task, volume_thread);
}

UsamImage *
usam_ais_segment_volume_finish (GAsyncResult *result, guint *n_objects, GError **error)
{
  UsamImage *labels = g_task_propagate_pointer (G_TASK (result), error);
  if (labels && n_objects)
    *n_objects = ((VolumeJob *) g_task_get_task_data (G_TASK (result)))->n_objects;
  return labels;
}
