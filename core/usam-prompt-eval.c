#include "usam-prompt-eval.h"

#include <math.h>
#include <string.h>

#include "usam-ais-targets.h"
#include "usam-error.h"
#include "usam-metrics.h"

UsamPromptEvalOptions
usam_prompt_eval_options_default (void)
{
  UsamPromptEvalOptions o = { TRUE, 8, 32, 1 };
  return o;
}

guint
usam_otsu_threshold (const guint64 *hist)
{
  guint64 total = 0;
  double sum = 0;
  for (guint i = 0; i < 256; i++)
    {
      total += hist[i];
      sum += (double) i * hist[i];
    }
  double sum_b = 0, best = -1;
  guint64 w_b = 0;
  guint t = 0;
  for (guint i = 0; i < 256; i++)
    {
      w_b += hist[i];
      if (w_b == 0)
        continue;
      guint64 w_f = total - w_b;
      if (w_f == 0)
        break;
      sum_b += (double) i * hist[i];
      double m_b = sum_b / w_b, m_f = (sum - sum_b) / w_f;
      double between = (double) w_b * (double) w_f * (m_b - m_f) * (m_b - m_f);
      if (between > best)
        {
          best = between;
          t = i;
        }
    }
  return t;
}

typedef struct
{
  gsize area;
  guint index;
} AreaIndex;

static int
by_area_desc (gconstpointer a, gconstpointer b)
{
  const AreaIndex *x = a, *y = b;
  if (x->area != y->area)
    return x->area < y->area ? 1 : -1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

void
usam_paint_masks (const guint8 *const *masks, guint n_masks, guint width, guint height, guint32 *labels)
{
  const gsize n = (gsize) width * height;
  memset (labels, 0, n * sizeof (guint32));
  g_autofree AreaIndex *order = g_new (AreaIndex, MAX (n_masks, 1u));
  for (guint m = 0; m < n_masks; m++)
    {
      order[m].index = m;
      order[m].area = 0;
      for (gsize i = 0; i < n; i++)
        order[m].area += masks[m][i] != 0;
    }
  /* μSAM's mask_data_to_segmentation: larger masks first, smaller on top */
  qsort (order, n_masks, sizeof *order, by_area_desc);
  for (guint k = 0; k < n_masks; k++)
    {
      const guint8 *mask = masks[order[k].index];
      for (gsize i = 0; i < n; i++)
        if (mask[i])
          labels[i] = order[k].index + 1;
    }
}

typedef struct
{
  guint32 id;
  guint x0, y0, x1, y1; /* inclusive */
  gsize center;         /* the most interior pixel */
  GArray *pixels;       /* gsize indices */
  GArray *points;       /* float x, y */
  GArray *labels;       /* gint32 */
  guint8 *mask;         /* current prediction, width × height */
} Object;

static void
object_clear (Object *o)
{
  g_clear_pointer (&o->pixels, g_array_unref);
  g_clear_pointer (&o->points, g_array_unref);
  g_clear_pointer (&o->labels, g_array_unref);
  g_clear_pointer (&o->mask, g_free);
}

static gsize
pick (GArray *indices, GRand *rand)
{
  return g_array_index (indices, gsize, (guint) g_rand_int_range (rand, 0, (gint32) indices->len));
}

static void
add_point (Object *o, gsize index, guint width, gint32 label)
{
  float xy[2] = { (float) (index % width), (float) (index / width) };
  g_array_append_vals (o->points, xy, 2);
  g_array_append_val (o->labels, label);
}

/* The classical baseline: Otsu's threshold inside the box, the side that
 * touches the box less, its largest 8-connected component. */
static void
otsu_in_box (const guint8 *grey, guint width, const Object *o, guint8 *mask, gsize n)
{
  memset (mask, 0, n);
  guint64 hist[256] = { 0 };
  for (guint y = o->y0; y <= o->y1; y++)
    for (guint x = o->x0; x <= o->x1; x++)
      hist[grey[(gsize) y * width + x]]++;
  guint t = usam_otsu_threshold (hist);
  guint bw = o->x1 - o->x0 + 1, bh = o->y1 - o->y0 + 1;
  guint64 border = 0, border_bright = 0;
  for (guint y = o->y0; y <= o->y1; y++)
    for (guint x = o->x0; x <= o->x1; x++)
      if (y == o->y0 || y == o->y1 || x == o->x0 || x == o->x1)
        {
          border++;
          border_bright += grey[(gsize) y * width + x] > t;
        }
  gboolean bright = border_bright * 2 <= border;
  g_autofree guint8 *fg = g_new0 (guint8, (gsize) bw * bh);
  for (guint y = 0; y < bh; y++)
    for (guint x = 0; x < bw; x++)
      {
        guint8 v = grey[(gsize) (o->y0 + y) * width + o->x0 + x];
        fg[(gsize) y * bw + x] = bright ? v > t : v <= t;
      }
  /* largest component by flood fill */
  g_autofree gint32 *comp = g_new0 (gint32, (gsize) bw * bh);
  g_autofree gsize *stack = g_new (gsize, (gsize) bw * bh);
  gint32 best = 0, next = 0;
  gsize best_size = 0;
  for (gsize s = 0; s < (gsize) bw * bh; s++)
    {
      if (!fg[s] || comp[s])
        continue;
      gsize top = 0, size = 0;
      comp[s] = ++next;
      stack[top++] = s;
      while (top)
        {
          gsize p = stack[--top];
          size++;
          int px = (int) (p % bw), py = (int) (p / bw);
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              {
                int qx = px + dx, qy = py + dy;
                if (qx < 0 || qy < 0 || qx >= (int) bw || qy >= (int) bh)
                  continue;
                gsize q = (gsize) qy * bw + (gsize) qx;
                if (fg[q] && !comp[q])
                  {
                    comp[q] = next;
                    stack[top++] = q;
                  }
              }
        }
      if (size > best_size)
        {
          best_size = size;
          best = next;
        }
    }
  for (guint y = 0; y < bh; y++)
    for (guint x = 0; x < bw; x++)
      if (best && comp[(gsize) y * bw + x] == best)
        mask[(gsize) (o->y0 + y) * width + o->x0 + x] = 1;
}

static void
score (const guint8 *const *masks, guint n_masks, const guint32 *gt, guint width, guint height, double *msa,
       double *sa50, double *sa75)
{
  g_autofree guint32 *labels = g_new (guint32, (gsize) width * height);
  usam_paint_masks (masks, n_masks, width, height, labels);
  UsamMetrics m;
  usam_metrics_compute (gt, labels, width, height, &m, NULL);
  *msa += m.mean_accuracy;
  *sa50 += m.accuracy[0];
  *sa75 += m.accuracy[5];
}

static gboolean
eval_image (UsamModel *model, const guint8 *rgb, const gint32 *raw_labels, guint width, guint height,
            const UsamPromptEvalOptions *o, GRand *rand, UsamPromptEvalResult *r, GCancellable *cancellable,
            GError **error)
{
  const gsize n = (gsize) width * height;
  /* consecutive ids, as μSAM relabels the ground truth */
  g_autofree guint32 *gt = g_new (guint32, n);
  g_autoptr (GHashTable) ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) objects = g_array_new (FALSE, TRUE, sizeof (Object));
  g_array_set_clear_func (objects, (GDestroyNotify) object_clear);
  for (gsize i = 0; i < n; i++)
    {
      gt[i] = 0;
      if (raw_labels[i] <= 0)
        continue;
      guint k = GPOINTER_TO_UINT (g_hash_table_lookup (ids, GINT_TO_POINTER (raw_labels[i])));
      if (k == 0)
        {
          Object ob = { 0 };
          ob.id = objects->len + 1;
          ob.x0 = ob.y0 = G_MAXUINT;
          ob.pixels = g_array_new (FALSE, FALSE, sizeof (gsize));
          ob.points = g_array_new (FALSE, FALSE, sizeof (float));
          ob.labels = g_array_new (FALSE, FALSE, sizeof (gint32));
          g_array_append_val (objects, ob);
          k = objects->len;
          g_hash_table_insert (ids, GINT_TO_POINTER (raw_labels[i]), GUINT_TO_POINTER (k));
        }
      Object *ob = &g_array_index (objects, Object, k - 1);
      guint x = (guint) (i % width), y = (guint) (i / width);
      ob->x0 = MIN (ob->x0, x);
      ob->y0 = MIN (ob->y0, y);
      ob->x1 = MAX (ob->x1, x);
      ob->y1 = MAX (ob->y1, y);
      g_array_append_val (ob->pixels, i);
      gt[i] = k;
    }
  if (objects->len == 0)
    return TRUE;

  /* The most interior pixel: the minimum of the normalised boundary distance. */
  g_autofree float *boundary = g_new (float, n);
  if (!usam_ais_targets (gt, width, height, 0, NULL, NULL, boundary, cancellable, error))
    return FALSE;
  for (guint k = 0; k < objects->len; k++)
    {
      Object *ob = &g_array_index (objects, Object, k);
      ob->center = g_array_index (ob->pixels, gsize, 0);
      for (guint j = 0; j < ob->pixels->len; j++)
        {
          gsize p = g_array_index (ob->pixels, gsize, j);
          if (boundary[p] < boundary[ob->center])
            ob->center = p;
        }
      ob->mask = g_new0 (guint8, n);
    }

  g_autoptr (GBytes) bytes = g_bytes_new (rgb, n * 3);
  g_autoptr (UsamImage) image = usam_image_new_from_bytes (bytes, USAM_PIXEL_TYPE_U8, width, height, 3, 1, 1, error);
  if (!image)
    return FALSE;
  g_autoptr (UsamEmbedding) embedding
      = usam_model_encode (model, image, 0, 0, USAM_NORMALIZE_NONE, cancellable, NULL, NULL, error);
  if (!embedding)
    return FALSE;

  const guint K = objects->len;
  g_autofree const guint8 **masks = g_new (const guint8 *, K);
  for (guint k = 0; k < K; k++)
    masks[k] = g_array_index (objects, Object, k).mask;

  if (o->box_start)
    {
      g_autofree guint8 *grey = g_new (guint8, n);
      for (gsize i = 0; i < n; i++)
        grey[i] = (guint8) ((rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3);
      for (guint k = 0; k < K; k++)
        otsu_in_box (grey, width, &g_array_index (objects, Object, k), g_array_index (objects, Object, k).mask, n);
      score (masks, K, gt, width, height, &r->baseline_msa, &r->baseline_sa50, &r->baseline_sa75);
    }
  else
    for (guint k = 0; k < K; k++)
      {
        Object *ob = &g_array_index (objects, Object, k);
        add_point (ob, ob->center, width, 1);
      }

  for (guint it = 0; it < o->n_iterations; it++)
    {
      const gboolean multimask = it == 0 && !o->box_start;
      for (guint start = 0; start < K; start += o->batch_size)
        {
          guint count = MIN (o->batch_size, K - start);
          g_autofree UsamPrompt *prompts = g_new0 (UsamPrompt, count);
          g_autofree float *boxes = g_new (float, 4 * count);
          for (guint j = 0; j < count; j++)
            {
              Object *ob = &g_array_index (objects, Object, start + j);
              prompts[j].points = (const float *) ob->points->data;
              prompts[j].labels = (const gint32 *) ob->labels->data;
              prompts[j].n_points = ob->labels->len;
              if (o->box_start)
                {
                  boxes[4 * j + 0] = (float) ob->x0;
                  boxes[4 * j + 1] = (float) ob->y0;
                  boxes[4 * j + 2] = (float) (ob->x1 + 1);
                  boxes[4 * j + 3] = (float) (ob->y1 + 1);
                  prompts[j].box = boxes + 4 * j;
                }
            }
          g_autoptr (UsamPrediction) p = usam_model_predict (
              model, embedding, prompts, count, multimask ? USAM_PREDICT_MULTIMASK : 0, cancellable, error);
          if (!p)
            return FALSE;
          const guint nm = usam_prediction_get_n_masks (p);
          for (guint j = 0; j < count; j++)
            {
              const float *iou = usam_prediction_get_iou (p, j);
              guint best = 0;
              for (guint m = 1; m < nm; m++)
                if (iou[m] > iou[best])
                  best = m;
              memcpy (g_array_index (objects, Object, start + j).mask, usam_prediction_get_masks (p, j) + best * n, n);
            }
        }
      score (masks, K, gt, width, height, &r->msa[it], &r->sa50[it], &r->sa75[it]);
      if (it + 1 == o->n_iterations)
        break;

      /* correction points from the errors of each object's mask */
      g_autoptr (GArray) fn = g_array_new (FALSE, FALSE, sizeof (gsize));
      g_autoptr (GArray) ok = g_array_new (FALSE, FALSE, sizeof (gsize));
      g_autoptr (GArray) fp = g_array_new (FALSE, FALSE, sizeof (gsize));
      for (guint k = 0; k < K; k++)
        {
          Object *ob = &g_array_index (objects, Object, k);
          g_array_set_size (fn, 0);
          g_array_set_size (ok, 0);
          g_array_set_size (fp, 0);
          for (guint j = 0; j < ob->pixels->len; j++)
            {
              gsize p = g_array_index (ob->pixels, gsize, j);
              g_array_append_val (ob->mask[p] ? ok : fn, p);
            }
          for (gsize i = 0; i < n; i++)
            if (ob->mask[i] && gt[i] != ob->id)
              g_array_append_val (fp, i);
          add_point (ob, pick (fn->len ? fn : ok->len ? ok : ob->pixels, rand), width, 1);
          if (fp->len == 0)
            {
              /* nothing to correct outside: background near the object, else anywhere */
              for (guint y = ob->y0 >= 3 ? ob->y0 - 3 : 0; y <= MIN (height - 1, ob->y1 + 3); y++)
                for (guint x = ob->x0 >= 3 ? ob->x0 - 3 : 0; x <= MIN (width - 1, ob->x1 + 3); x++)
                  if (gt[(gsize) y * width + x] != ob->id)
                    {
                      gsize q = (gsize) y * width + x;
                      g_array_append_val (fp, q);
                    }
              for (gsize i = 0; fp->len == 0 && i < n; i++)
                if (gt[i] != ob->id)
                  g_array_append_val (fp, i);
            }
          if (fp->len)
            add_point (ob, pick (fp, rand), width, 0);
          else
            add_point (ob, ob->center, width, 1);
        }
    }
  r->n_objects += K;
  return TRUE;
}

gboolean
usam_prompt_eval_run (UsamModel *model, UsamTrainData *data, const UsamPromptEvalOptions *options,
                      UsamPromptEvalResult *result, GCancellable *cancellable, UsamPromptEvalProgress progress,
                      gpointer progress_data, GError **error)
{
  UsamPromptEvalOptions o = *options;
  if (o.n_iterations == 0 || o.n_iterations > USAM_PROMPT_EVAL_MAX_ITERATIONS)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "iterations must be 1–%d",
                   USAM_PROMPT_EVAL_MAX_ITERATIONS);
      return FALSE;
    }
  o.batch_size = MAX (o.batch_size, 1u);
  memset (result, 0, sizeof *result);
  result->n_iterations = o.n_iterations;
  g_autoptr (GRand) rand = g_rand_new_with_seed ((guint32) o.seed);
  gint64 start = g_get_monotonic_time ();
  const guint n_images = usam_train_data_get_n_items (data);
  for (guint i = 0; i < n_images; i++)
    {
      const guint8 *rgb;
      const gint32 *labels;
      guint w, h;
      usam_train_data_get_item (data, i, &rgb, &labels, &w, &h);
      if (!eval_image (model, rgb, labels, w, h, &o, rand, result, cancellable, error))
        {
          if (error && *error && (*error)->domain != G_IO_ERROR)
            g_prefix_error (error, "%s: ", usam_train_data_get_name (data, i));
          return FALSE;
        }
      result->n_images++;
      if (progress)
        progress (i + 1, n_images, progress_data);
    }
  const double d = MAX (result->n_images, 1u);
  for (guint it = 0; it < o.n_iterations; it++)
    {
      result->msa[it] /= d;
      result->sa50[it] /= d;
      result->sa75[it] /= d;
    }
  if (o.box_start)
    {
      result->baseline_msa /= d;
      result->baseline_sa50 /= d;
      result->baseline_sa75 /= d;
    }
  else
    result->baseline_msa = result->baseline_sa50 = result->baseline_sa75 = NAN;
  result->seconds = (g_get_monotonic_time () - start) / 1e6;
  return TRUE;
}
