/* usam-ais-stack.c — AIS plane by plane (see usam-ais-stack.h). */
#include "usam-ais-stack.h"

#include "usam-ais-maps.h"
#include "usam-error.h"

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
