/* usam-projection.c — prompt projection through Z (see usam-projection.h). */
#include "usam-projection.h"

#include <math.h>
#include <string.h>

#include "usam-baseline.h"
#include "usam-error.h"

/* logit (0.999): a mask's pixels as nearly certain probabilities */
#define MASK_LOGIT 6.906754778648554

const char *
usam_projection_stop_to_string (UsamProjectionStop stop)
{
  switch (stop)
    {
    case USAM_PROJECTION_STOP_END:
      return "end of volume";
    case USAM_PROJECTION_STOP_EMPTY:
      return "empty mask";
    case USAM_PROJECTION_STOP_IOU:
      return "IoU below threshold";
    case USAM_PROJECTION_STOP_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
    }
}

UsamProjectionParams
usam_projection_params_default (void)
{
  return (UsamProjectionParams) {
    .prompts = USAM_PROJECTION_BOX | USAM_PROJECTION_MASK,
    .box_margin = 0.1,
    .iou_threshold = 0.8,
    .normalize = USAM_NORMALIZE_MINMAX,
  };
}

typedef struct
{
  UsamModel *model;
  UsamImage *volume;
  guint t, w, h, depth, low;
  const UsamProjectionParams *p;
  UsamProjectionEmbedFunc embed;
  gpointer embed_data;
  GCancellable *cancellable;
} Ctx;

/* The mask as the decoder's low-resolution mask input: the image scaled so
 * its longer side fills the model's input, padded right and bottom, sampled
 * at the centres of the low-resolution pixels. */
static void
mask_to_logits (const Ctx *c, const guint8 *mask, float *logits)
{
  double step = (double) MAX (c->w, c->h) / c->low;
  for (guint v = 0; v < c->low; v++)
    for (guint u = 0; u < c->low; u++)
      {
        guint x = (guint) ((u + 0.5) * step), y = (guint) ((v + 0.5) * step);
        gboolean in = x < c->w && y < c->h && mask[(gsize) y * c->w + x];
        logits[v * c->low + u] = in ? (float) MASK_LOGIT : (float) -MASK_LOGIT;
      }
}

static gsize
mask_area (const Ctx *c, const guint8 *mask)
{
  gsize n = 0;
  for (gsize i = 0; i < (gsize) c->w * c->h; i++)
    n += mask[i] != 0;
  return n;
}

static double
mask_iou (const Ctx *c, const guint8 *a, const guint8 *b)
{
  gsize inter = 0, uni = 0;
  for (gsize i = 0; i < (gsize) c->w * c->h; i++)
    {
      inter += a[i] && b[i];
      uni += a[i] || b[i];
    }
  return uni ? (double) inter / (double) uni : 0;
}

/* Predicts slice @z from the previous slice's @prev mask and @prev_logits
 * into @mask and @logits. */
static gboolean
predict_slice (const Ctx *c, guint z, const guint8 *prev, const float *prev_logits, guint8 *mask, float *logits,
               GError **error)
{
  g_autoptr (UsamEmbedding) embedding
    = c->embed ? c->embed (z, c->embed_data, c->cancellable, error)
               : usam_model_encode (c->model, c->volume, c->t, z, c->p->normalize, c->cancellable, NULL, NULL, error);
  if (!embedding)
    return FALSE;
  UsamPrompt prompt = { 0 };
  float box[4], point[2];
  gint32 point_label = 1;
  if (c->p->prompts & USAM_PROJECTION_BOX)
    {
      guint x0 = c->w, y0 = c->h, x1 = 0, y1 = 0;
      for (guint y = 0; y < c->h; y++)
        for (guint x = 0; x < c->w; x++)
          if (prev[(gsize) y * c->w + x])
            {
              x0 = MIN (x0, x), x1 = MAX (x1, x);
              y0 = MIN (y0, y), y1 = MAX (y1, y);
            }
      double mx = c->p->box_margin * (x1 - x0 + 1), my = c->p->box_margin * (y1 - y0 + 1);
      box[0] = (float) MAX (0.0, x0 - mx);
      box[1] = (float) MAX (0.0, y0 - my);
      box[2] = (float) MIN ((double) c->w - 1, x1 + mx);
      box[3] = (float) MIN ((double) c->h - 1, y1 + my);
      prompt.box = box;
    }
  if (c->p->prompts & USAM_PROJECTION_MASK)
    prompt.mask_input = prev_logits;
  if (c->p->prompts & USAM_PROJECTION_POINTS)
    {
      /* the interior point farthest from the boundary */
      gsize n = (gsize) c->w * c->h, best = 0;
      g_autofree float *dist = g_new (float, n);
      usam_distance_transform_sq (prev, c->w, c->h, dist);
      for (gsize i = 1; i < n; i++)
        if (dist[i] > dist[best])
          best = i;
      point[0] = (float) (best % c->w);
      point[1] = (float) (best / c->w);
      prompt.points = point;
      prompt.labels = &point_label;
      prompt.n_points = 1;
    }
  g_autoptr (UsamPrediction) prediction
    = usam_model_predict (c->model, embedding, &prompt, 1, USAM_PREDICT_LOW_RES, c->cancellable, error);
  if (!prediction)
    return FALSE;
  guint ph, pw;
  usam_prediction_get_size (prediction, &ph, &pw);
  if (ph != c->h || pw != c->w || usam_prediction_get_low_res_size (prediction) != c->low)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "slice %u: a %u×%u prediction for a %u×%u slice", z, pw, ph,
                   c->w, c->h);
      return FALSE;
    }
  memcpy (mask, usam_prediction_get_masks (prediction, 0), (gsize) c->w * c->h);
  memcpy (logits, usam_prediction_get_low_res_logits (prediction, 0), (gsize) c->low * c->low * sizeof (float));
  return TRUE;
}

/* One direction (@dir = ±1) from the seed; fills @end. */
static gboolean
project (const Ctx *c, guint z_seed, int dir, const float *seed_logits, guint8 *masks, guint *visited, guint total,
         UsamProgressFunc progress, gpointer progress_data, UsamProjectionEnd *end, GError **error)
{
  gsize plane = (gsize) c->w * c->h, nl = (gsize) c->low * c->low;
  g_autofree float *prev_logits = g_memdup2 (seed_logits, nl * sizeof (float));
  g_autofree float *logits = g_new (float, nl);
  g_autofree guint8 *mask = g_new (guint8, plane);
  *end = (UsamProjectionEnd) { USAM_PROJECTION_STOP_END, z_seed, z_seed, NAN };
  guint z = z_seed;
  while (dir < 0 ? z > 0 : z + 1 < c->depth)
    {
      guint next = dir < 0 ? z - 1 : z + 1;
      g_autoptr (GError) local = NULL;
      if (g_cancellable_is_cancelled (c->cancellable))
        {
          end->stop = USAM_PROJECTION_STOP_CANCELLED;
          return TRUE;
        }
      if (!predict_slice (c, next, masks + z * plane, prev_logits, mask, logits, &local))
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              end->stop = USAM_PROJECTION_STOP_CANCELLED;
              return TRUE;
            }
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "projecting to slice %u: ", next);
          return FALSE;
        }
      (*visited)++;
      if (progress)
        progress ((double) *visited / total, progress_data);
      if (mask_area (c, mask) == 0)
        {
          *end = (UsamProjectionEnd) { USAM_PROJECTION_STOP_EMPTY, z, next, 0 };
          return TRUE;
        }
      double iou = mask_iou (c, masks + z * plane, mask);
      if (iou < c->p->iou_threshold)
        {
          *end = (UsamProjectionEnd) { USAM_PROJECTION_STOP_IOU, z, next, iou };
          return TRUE;
        }
      for (gsize i = 0; i < plane; i++)
        masks[next * plane + i] = mask[i] != 0;
      float *swap = prev_logits;
      prev_logits = logits;
      logits = swap;
      z = next;
      end->last = end->stop_slice = z;
    }
  return TRUE;
}

gboolean
usam_projection_run (UsamModel *model, UsamImage *volume, guint t, guint z_seed, const guint8 *seed_mask,
                     const UsamProjectionParams *params, UsamProjectionEmbedFunc embed, gpointer embed_data,
                     UsamProgressFunc progress, gpointer progress_data, GCancellable *cancellable, guint8 *masks,
                     UsamProjectionEnd *down, UsamProjectionEnd *up, GError **error)
{
  Ctx c = { model, volume, t, usam_image_get_width (volume), usam_image_get_height (volume),
            usam_image_get_depth (volume), 4 * usam_model_get_embedding_size (model), params, embed, embed_data,
            cancellable };
  if (t >= usam_image_get_frames (volume) || z_seed >= c.depth || !(params->iou_threshold >= 0) ||
      !(params->box_margin >= 0) || params->prompts == 0 ||
      (params->prompts & ~(USAM_PROJECTION_BOX | USAM_PROJECTION_MASK | USAM_PROJECTION_POINTS)))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "projection: slice %u of frame %u of a %u-slice, %u-frame volume; prompts 0x%x, margin %g, IoU "
                   "threshold %g",
                   z_seed, t, c.depth, usam_image_get_frames (volume), params->prompts, params->box_margin,
                   params->iou_threshold);
      return FALSE;
    }
  gsize plane = (gsize) c.w * c.h;
  memset (masks, 0, plane * c.depth);
  for (gsize i = 0; i < plane; i++)
    masks[z_seed * plane + i] = seed_mask[i] != 0;
  if (mask_area (&c, masks + z_seed * plane) == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "projection: the mask on slice %u is empty",
                   z_seed);
      return FALSE;
    }
  g_autofree float *seed_logits = g_new (float, (gsize) c.low * c.low);
  mask_to_logits (&c, masks + z_seed * plane, seed_logits);
  guint visited = 1;
  return project (&c, z_seed, -1, seed_logits, masks, &visited, c.depth, progress, progress_data, down, error) &&
         project (&c, z_seed, +1, seed_logits, masks, &visited, c.depth, progress, progress_data, up, error);
}
