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
    case USAM_PROJECTION_STOP_MET:
      return "filled its half of the gap";
    case USAM_PROJECTION_STOP_TAKEN:
      return "another object is there";
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
  /* Following through time: "slices" are the frames of plane @t (a Z
   * index then), and each is prompted from the previous mask moved by the
   * object's last displacement. */
  gboolean frames;
  const guint8 *taken; /* frames only: other objects' pixels, per frame; or NULL */
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
    = c->embed    ? c->embed (z, c->embed_data, c->cancellable, error)
      : c->frames ? usam_model_encode (c->model, c->volume, z, c->t, c->p->normalize, c->cancellable, NULL, NULL, error)
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

/* One direction from slice @from towards slice @limit (inclusive), starting
 * from @from's mask in @masks and @start_logits; fills @end, which says
 * @reached when @limit was kept. */
static void
centroid (const Ctx *c, const guint8 *mask, double *x, double *y)
{
  double sx = 0, sy = 0, n = 0;
  for (guint yy = 0; yy < c->h; yy++)
    for (guint xx = 0; xx < c->w; xx++)
      if (mask[(gsize) yy * c->w + xx])
        {
          sx += xx;
          sy += yy;
          n++;
        }
  *x = n ? sx / n : 0;
  *y = n ? sy / n : 0;
}

/* @mask moved by (@dx, @dy) whole pixels into @out; what leaves the image is lost. */
static void
shift_mask (const Ctx *c, const guint8 *mask, int dx, int dy, guint8 *out)
{
  memset (out, 0, (gsize) c->w * c->h);
  for (guint y = 0; y < c->h; y++)
    {
      gint64 ty = (gint64) y + dy;
      if (ty < 0 || ty >= c->h)
        continue;
      for (guint x = 0; x < c->w; x++)
        {
          gint64 tx = (gint64) x + dx;
          if (tx >= 0 && tx < c->w)
            out[ty * c->w + tx] = mask[(gsize) y * c->w + x];
        }
    }
}

static gboolean
project (const Ctx *c, guint from, guint limit, const float *start_logits, UsamProjectionStop reached, guint8 *masks,
         guint *visited, UsamProgressFunc progress, gpointer progress_data, UsamProjectionEnd *end, GError **error)
{
  gsize plane = (gsize) c->w * c->h, nl = (gsize) c->low * c->low;
  g_autofree float *prev_logits = g_memdup2 (start_logits, nl * sizeof (float));
  g_autofree float *logits = g_new (float, nl);
  g_autofree guint8 *mask = g_new (guint8, plane);
  g_autofree guint8 *moved = c->frames ? g_new (guint8, plane) : NULL;
  g_autofree float *moved_logits = c->frames ? g_new (float, nl) : NULL;
  double vx = 0, vy = 0; /* the object's last displacement, frames only */
  *end = (UsamProjectionEnd) { reached, from, from, NAN };
  guint z = from;
  while (z != limit)
    {
      guint next = limit < z ? z - 1 : z + 1;
      /* Where the object should be now: the previous mask moved as it last
       * moved, prompted afresh from there. */
      const guint8 *prev = masks + z * plane;
      const float *prompt_logits = prev_logits;
      int dx = (int) lround (vx), dy = (int) lround (vy);
      if (c->frames && (dx || dy))
        {
          shift_mask (c, prev, dx, dy, moved);
          if (mask_area (c, moved) == 0)
            memcpy (moved, prev, plane);
          else
            {
              mask_to_logits (c, moved, moved_logits);
              prompt_logits = moved_logits;
            }
          prev = moved;
        }
      g_autoptr (GError) local = NULL;
      if (g_cancellable_is_cancelled (c->cancellable))
        {
          end->stop = USAM_PROJECTION_STOP_CANCELLED;
          return TRUE;
        }
      if (!predict_slice (c, next, prev, prompt_logits, mask, logits, &local))
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
        progress ((double) *visited / c->depth, progress_data);
      if (mask_area (c, mask) == 0)
        {
          *end = (UsamProjectionEnd) { USAM_PROJECTION_STOP_EMPTY, z, next, 0 };
          return TRUE;
        }
      if (c->taken)
        {
          /* Mostly on another object: the cell is someone else's there (the
           * mother, seen from a daughter). */
          gsize on = 0, area = 0;
          for (gsize i = 0; i < plane; i++)
            if (mask[i])
              {
                area++;
                on += c->taken[next * plane + i] != 0;
              }
          if (2 * on >= area)
            {
              *end = (UsamProjectionEnd) { USAM_PROJECTION_STOP_TAKEN, z, next, (double) on / (double) area };
              return TRUE;
            }
        }
      double iou = mask_iou (c, prev, mask);
      if (iou < c->p->iou_threshold)
        {
          *end = (UsamProjectionEnd) { USAM_PROJECTION_STOP_IOU, z, next, iou };
          return TRUE;
        }
      for (gsize i = 0; i < plane; i++)
        masks[next * plane + i] = mask[i] != 0;
      if (c->frames)
        {
          double x0, y0, x1, y1;
          centroid (c, masks + z * plane, &x0, &y0);
          centroid (c, masks + next * plane, &x1, &y1);
          vx = x1 - x0;
          vy = y1 - y0;
        }
      float *swap = prev_logits;
      prev_logits = logits;
      logits = swap;
      z = next;
      end->last = end->stop_slice = z;
    }
  return TRUE;
}

/* The middle slice @m of a gap, from the neighbours its halves reached. */
static gboolean
fill_middle (const Ctx *c, guint m, UsamProjectionGap *gap, guint8 *masks, guint *visited, UsamProgressFunc progress,
             gpointer progress_data, GError **error)
{
  gsize plane = (gsize) c->w * c->h, nl = (gsize) c->low * c->low;
  UsamProjectionEnd *ends[2] = { NULL, NULL };
  guint n = 0;
  if (gap->up.stop == USAM_PROJECTION_STOP_MET && gap->up.last + 1 == m)
    ends[n++] = &gap->up;
  if (gap->down.stop == USAM_PROJECTION_STOP_MET && gap->down.last == m + 1)
    ends[n++] = &gap->down;
  if (n == 0)
    return TRUE;
  if (g_cancellable_is_cancelled (c->cancellable))
    {
      for (guint i = 0; i < n; i++)
        ends[i]->stop = USAM_PROJECTION_STOP_CANCELLED;
      return TRUE;
    }
  /* As μSAM: the union of the neighbours, given afresh — neither side's
   * logits speak for the other. */
  g_autofree guint8 *prompt = g_malloc0 (plane);
  for (guint i = 0; i < n; i++)
    for (gsize j = 0; j < plane; j++)
      prompt[j] |= masks[ends[i]->last * plane + j];
  g_autofree float *prompt_logits = g_new (float, nl);
  g_autofree float *logits = g_new (float, nl);
  g_autofree guint8 *mask = g_new (guint8, plane);
  mask_to_logits (c, prompt, prompt_logits);
  g_autoptr (GError) local = NULL;
  if (!predict_slice (c, m, prompt, prompt_logits, mask, logits, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          for (guint i = 0; i < n; i++)
            ends[i]->stop = USAM_PROJECTION_STOP_CANCELLED;
          return TRUE;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "projecting to slice %u: ", m);
      return FALSE;
    }
  (*visited)++;
  if (progress)
    progress ((double) *visited / c->depth, progress_data);
  double iou = 0;
  for (guint i = 0; i < n; i++)
    iou = MAX (iou, mask_iou (c, masks + ends[i]->last * plane, mask));
  UsamProjectionStop stop = mask_area (c, mask) == 0 ? USAM_PROJECTION_STOP_EMPTY
                            : iou < c->p->iou_threshold ? USAM_PROJECTION_STOP_IOU
                                                        : USAM_PROJECTION_STOP_MET;
  for (guint i = 0; i < n; i++)
    {
      ends[i]->stop = stop;
      ends[i]->stop_slice = m;
      if (stop == USAM_PROJECTION_STOP_MET)
        ends[i]->last = m;
      else
        ends[i]->stop_iou = stop == USAM_PROJECTION_STOP_EMPTY ? 0 : iou;
    }
  if (stop == USAM_PROJECTION_STOP_MET)
    for (gsize j = 0; j < plane; j++)
      masks[m * plane + j] = mask[j] != 0;
  return TRUE;
}

gboolean
usam_projection_run_multi (UsamModel *model, UsamImage *volume, guint t, guint n_seeds, const guint *z_seeds,
                           const guint8 *const *seed_masks, const UsamProjectionParams *params,
                           UsamProjectionEmbedFunc embed, gpointer embed_data, UsamProgressFunc progress,
                           gpointer progress_data, GCancellable *cancellable, guint8 *masks, UsamProjectionEnd *down,
                           UsamProjectionEnd *up, UsamProjectionGap *gaps, GError **error)
{
  Ctx c = { model, volume, t, usam_image_get_width (volume), usam_image_get_height (volume),
            usam_image_get_depth (volume), 4 * usam_model_get_embedding_size (model), params, embed, embed_data,
            cancellable };
  gboolean ascending = n_seeds > 0;
  for (guint i = 0; i < n_seeds; i++)
    ascending = ascending && z_seeds[i] < c.depth && (i == 0 || z_seeds[i - 1] < z_seeds[i]);
  if (t >= usam_image_get_frames (volume) || !ascending || !(params->iou_threshold >= 0) ||
      !(params->box_margin >= 0) || params->prompts == 0 ||
      (params->prompts & ~(USAM_PROJECTION_BOX | USAM_PROJECTION_MASK | USAM_PROJECTION_POINTS)))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "projection: %u seed slice%s from %u of frame %u of a %u-slice, %u-frame volume; prompts 0x%x, "
                   "margin %g, IoU threshold %g",
                   n_seeds, n_seeds == 1 ? "" : "s", n_seeds ? z_seeds[0] : 0, t, c.depth,
                   usam_image_get_frames (volume), params->prompts, params->box_margin, params->iou_threshold);
      return FALSE;
    }
  gsize plane = (gsize) c.w * c.h;
  memset (masks, 0, plane * c.depth);
  for (guint i = 0; i < n_seeds; i++)
    {
      guint8 *dest = masks + z_seeds[i] * plane;
      for (gsize j = 0; j < plane; j++)
        dest[j] = seed_masks[i][j] != 0;
      if (mask_area (&c, dest) == 0)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "projection: the mask on slice %u is empty",
                       z_seeds[i]);
          return FALSE;
        }
    }
  g_autofree float *lower_logits = g_new (float, (gsize) c.low * c.low);
  g_autofree float *upper_logits = g_new (float, (gsize) c.low * c.low);
  guint visited = n_seeds, first = z_seeds[0], last = z_seeds[n_seeds - 1];
  mask_to_logits (&c, masks + first * plane, lower_logits);
  if (!project (&c, first, 0, lower_logits, USAM_PROJECTION_STOP_END, masks, &visited, progress, progress_data, down,
                error))
    return FALSE;
  for (guint i = 0; i + 1 < n_seeds; i++)
    {
      UsamProjectionGap gap = { .lower = z_seeds[i], .upper = z_seeds[i + 1] };
      /* the lower half is the lower seed's, the upper half the upper
       * seed's; an odd gap's middle slice is both's */
      guint n = gap.upper - gap.lower - 1, half = n / 2;
      mask_to_logits (&c, masks + gap.lower * plane, lower_logits);
      mask_to_logits (&c, masks + gap.upper * plane, upper_logits);
      if (!project (&c, gap.lower, gap.lower + half, lower_logits, USAM_PROJECTION_STOP_MET, masks, &visited,
                    progress, progress_data, &gap.up, error) ||
          !project (&c, gap.upper, gap.upper - half, upper_logits, USAM_PROJECTION_STOP_MET, masks, &visited,
                    progress, progress_data, &gap.down, error))
        return FALSE;
      if (n % 2 && !fill_middle (&c, gap.lower + half + 1, &gap, masks, &visited, progress, progress_data, error))
        return FALSE;
      if (gaps)
        gaps[i] = gap;
    }
  mask_to_logits (&c, masks + last * plane, upper_logits);
  return project (&c, last, c.depth - 1, upper_logits, USAM_PROJECTION_STOP_END, masks, &visited, progress,
                  progress_data, up, error);
}

gboolean
usam_projection_run (UsamModel *model, UsamImage *volume, guint t, guint z_seed, const guint8 *seed_mask,
                     const UsamProjectionParams *params, UsamProjectionEmbedFunc embed, gpointer embed_data,
                     UsamProgressFunc progress, gpointer progress_data, GCancellable *cancellable, guint8 *masks,
                     UsamProjectionEnd *down, UsamProjectionEnd *up, GError **error)
{
  return usam_projection_run_multi (model, volume, t, 1, &z_seed, &seed_mask, params, embed, embed_data, progress,
                                    progress_data, cancellable, masks, down, up, NULL, error);
}

gboolean
usam_projection_follow (UsamModel *model, UsamImage *series, guint z, guint t_seed, const guint8 *seed_mask,
                        const guint8 *taken, const UsamProjectionParams *params, UsamProjectionEmbedFunc embed,
                        gpointer embed_data,
                        UsamProgressFunc progress, gpointer progress_data, GCancellable *cancellable, guint8 *masks,
                        UsamProjectionEnd *back, UsamProjectionEnd *forward, GError **error)
{
  Ctx c = { model, series, z, usam_image_get_width (series), usam_image_get_height (series),
            usam_image_get_frames (series), 4 * usam_model_get_embedding_size (model), params, embed, embed_data,
            cancellable, TRUE, taken };
  if (z >= usam_image_get_depth (series) || t_seed >= c.depth || !(params->iou_threshold >= 0)
      || !(params->box_margin >= 0) || params->prompts == 0
      || (params->prompts & ~(USAM_PROJECTION_BOX | USAM_PROJECTION_MASK | USAM_PROJECTION_POINTS)))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "following: frame %u, slice %u of a %u-frame, %u-slice series; prompts 0x%x, margin %g, IoU "
                   "threshold %g",
                   t_seed, z, c.depth, usam_image_get_depth (series), params->prompts, params->box_margin,
                   params->iou_threshold);
      return FALSE;
    }
  gsize plane = (gsize) c.w * c.h;
  memset (masks, 0, plane * c.depth);
  guint8 *seed = masks + t_seed * plane;
  for (gsize j = 0; j < plane; j++)
    seed[j] = seed_mask[j] != 0;
  if (mask_area (&c, seed) == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "following: the mask in frame %u is empty", t_seed);
      return FALSE;
    }
  g_autofree float *logits = g_new (float, (gsize) c.low * c.low);
  guint visited = 1;
  mask_to_logits (&c, seed, logits);
  if (!project (&c, t_seed, c.depth - 1, logits, USAM_PROJECTION_STOP_END, masks, &visited, progress, progress_data,
                forward, error))
    return FALSE;
  mask_to_logits (&c, seed, logits);
  return project (&c, t_seed, 0, logits, USAM_PROJECTION_STOP_END, masks, &visited, progress, progress_data, back,
                  error);
}
