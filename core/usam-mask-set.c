#include "usam-mask-set.h"

#include <math.h>
#include <string.h>

#include "usam-ais-post.h"
#include "usam-error.h"
#include "usam-h5.h"

typedef struct
{
  guint x0, y0, x1, y1; /* inclusive; all 0 when empty */
  guint64 area;
  float iou, stability;
  float point[2];
  gboolean has_point;
  guint8 *bits; /* (y1 − y0 + 1) × (x1 − x0 + 1), NULL when empty */
} Entry;

struct _UsamMaskSet
{
  guint width, height;
  GArray *entries; /* Entry */
};

static void
entry_clear (gpointer data)
{
  Entry *e = data;
  g_clear_pointer (&e->bits, g_free);
}

UsamMaskSet *
usam_mask_set_new (guint width, guint height)
{
  UsamMaskSet *self = g_new0 (UsamMaskSet, 1);
  self->width = width;
  self->height = height;
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  return self;
}

void
usam_mask_set_free (UsamMaskSet *self)
{
  if (!self)
    return;
  g_array_unref (self->entries);
  g_free (self);
}

UsamMaskSet *
usam_mask_set_copy (UsamMaskSet *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  UsamMaskSet *copy = usam_mask_set_new (self->width, self->height);
  g_array_set_size (copy->entries, self->entries->len);
  for (guint i = 0; i < self->entries->len; i++)
    {
      const Entry *e = &g_array_index (self->entries, Entry, i);
      Entry *c = &g_array_index (copy->entries, Entry, i);
      *c = *e;
      if (e->bits)
        c->bits = g_memdup2 (e->bits, (gsize) (e->x1 - e->x0 + 1) * (e->y1 - e->y0 + 1));
    }
  return copy;
}

guint
usam_mask_set_get_n (UsamMaskSet *self)
{
  return self->entries->len;
}

guint
usam_mask_set_get_width (UsamMaskSet *self)
{
  return self->width;
}

guint
usam_mask_set_get_height (UsamMaskSet *self)
{
  return self->height;
}

static Entry *
entry_at (UsamMaskSet *self, guint i)
{
  /* An index past the end is a programming error, never data. */
  g_assert (i < self->entries->len);
  return &g_array_index (self->entries, Entry, i);
}

float
usam_mask_stability_score (const float *logits, gsize n, float threshold, float offset)
{
  /* The cuts are formed in float, as torch adds a Python float to a float
   * threshold before comparing float32 logits. */
  const float high = threshold + offset, low = threshold - offset;
  guint64 intersections = 0, unions = 0;
  for (gsize i = 0; i < n; i++)
    {
      intersections += logits[i] > high;
      unions += logits[i] > low;
    }
  return (float) intersections / (float) unions;
}

/* Crops the mask given by @inside(i) to its box and appends it. */
#define ADD_MASK(self, inside, iou_, stability_, point_)                                                         \
  do                                                                                                             \
    {                                                                                                            \
      guint x0 = G_MAXUINT, y0 = G_MAXUINT, x1 = 0, y1 = 0;                                                      \
      guint64 area = 0;                                                                                          \
      for (guint y = 0; y < (self)->height; y++)                                                                 \
        {                                                                                                        \
          gsize row = (gsize) y * (self)->width;                                                                 \
          guint first = G_MAXUINT, last = 0;                                                                     \
          for (guint x = 0; x < (self)->width; x++)                                                              \
            if (inside (row + x))                                                                                \
              {                                                                                                  \
                if (first == G_MAXUINT)                                                                          \
                  first = x;                                                                                     \
                last = x;                                                                                        \
                area++;                                                                                          \
              }                                                                                                  \
          if (first != G_MAXUINT)                                                                                \
            {                                                                                                    \
              y0 = MIN (y0, y);                                                                                  \
              y1 = y;                                                                                            \
              x0 = MIN (x0, first);                                                                              \
              x1 = MAX (x1, last);                                                                               \
            }                                                                                                    \
        }                                                                                                        \
      Entry e = { 0 };                                                                                           \
      e.iou = (iou_);                                                                                            \
      e.stability = (stability_);                                                                                \
      e.area = area;                                                                                             \
      if (point_)                                                                                                \
        {                                                                                                        \
          e.point[0] = (point_)[0];                                                                              \
          e.point[1] = (point_)[1];                                                                              \
          e.has_point = TRUE;                                                                                    \
        }                                                                                                        \
      if (area > 0)                                                                                              \
        {                                                                                                        \
          e.x0 = x0, e.y0 = y0, e.x1 = x1, e.y1 = y1;                                                            \
          guint bw = x1 - x0 + 1;                                                                                \
          e.bits = g_malloc ((gsize) bw * (y1 - y0 + 1));                                                        \
          for (guint y = y0; y <= y1; y++)                                                                       \
            for (guint x = x0; x <= x1; x++)                                                                     \
              e.bits[(gsize) (y - y0) * bw + (x - x0)] = (inside ((gsize) y * (self)->width + x)) ? 1 : 0;       \
        }                                                                                                        \
      g_array_append_val ((self)->entries, e);                                                                   \
    }                                                                                                            \
  while (0)

void
usam_mask_set_add_logits (UsamMaskSet *self, const float *logits, float threshold, float predicted_iou,
                          float stability_score, const float *point)
{
  g_return_if_fail (self != NULL && logits != NULL);
#define INSIDE_LOGITS(i) (logits[i] > threshold)
  ADD_MASK (self, INSIDE_LOGITS, predicted_iou, stability_score, point);
#undef INSIDE_LOGITS
}

void
usam_mask_set_add_mask (UsamMaskSet *self, const guint8 *mask, float predicted_iou, float stability_score,
                        const float *point)
{
  g_return_if_fail (self != NULL && mask != NULL);
#define INSIDE_MASK(i) (mask[i] != 0)
  ADD_MASK (self, INSIDE_MASK, predicted_iou, stability_score, point);
#undef INSIDE_MASK
}

float
usam_mask_set_get_predicted_iou (UsamMaskSet *self, guint i)
{
  return entry_at (self, i)->iou;
}

float
usam_mask_set_get_stability_score (UsamMaskSet *self, guint i)
{
  return entry_at (self, i)->stability;
}

guint64
usam_mask_set_get_area (UsamMaskSet *self, guint i)
{
  return entry_at (self, i)->area;
}

void
usam_mask_set_get_box (UsamMaskSet *self, guint i, guint box[4])
{
  const Entry *e = entry_at (self, i);
  box[0] = e->x0, box[1] = e->y0, box[2] = e->x1, box[3] = e->y1;
}

gboolean
usam_mask_set_get_point (UsamMaskSet *self, guint i, float point[2])
{
  const Entry *e = entry_at (self, i);
  point[0] = e->point[0], point[1] = e->point[1];
  return e->has_point;
}

void
usam_mask_set_get_mask (UsamMaskSet *self, guint i, guint8 *out)
{
  const Entry *e = entry_at (self, i);
  memset (out, 0, (gsize) self->width * self->height);
  if (!e->bits)
    return;
  guint bw = e->x1 - e->x0 + 1;
  for (guint y = e->y0; y <= e->y1; y++)
    memcpy (out + (gsize) y * self->width + e->x0, e->bits + (gsize) (y - e->y0) * bw, bw);
}

/* Moves the entries listed in @order (indices, each at most once) to the
 * front in that order and frees the others. */
static void
keep_in_order (UsamMaskSet *self, const guint *order, guint n)
{
  guint total = self->entries->len;
  g_autofree gboolean *used = g_new0 (gboolean, total);
  GArray *kept = g_array_sized_new (FALSE, TRUE, sizeof (Entry), n);
  g_array_set_clear_func (kept, entry_clear);
  for (guint k = 0; k < n; k++)
    {
      g_array_append_val (kept, g_array_index (self->entries, Entry, order[k]));
      used[order[k]] = TRUE;
    }
  /* The moved entries now belong to @kept; only the rest are freed. */
  for (guint i = 0; i < total; i++)
    if (!used[i])
      entry_clear (&g_array_index (self->entries, Entry, i));
  g_array_set_clear_func (self->entries, NULL);
  g_array_unref (self->entries);
  self->entries = kept;
}

void
usam_mask_set_filter (UsamMaskSet *self, const gboolean *keep)
{
  guint n = 0;
  g_autofree guint *order = g_new (guint, MAX (self->entries->len, 1));
  for (guint i = 0; i < self->entries->len; i++)
    if (keep[i])
      order[n++] = i;
  keep_in_order (self, order, n);
}

void
usam_mask_set_take_translated (UsamMaskSet *self, UsamMaskSet *src, guint x, guint y)
{
  g_return_if_fail (self != NULL && src != NULL && src != self);
  g_return_if_fail (x + src->width <= self->width && y + src->height <= self->height);
  for (guint i = 0; i < src->entries->len; i++)
    {
      Entry e = g_array_index (src->entries, Entry, i);
      if (e.bits)
        {
          e.x0 += x;
          e.x1 += x;
          e.y0 += y;
          e.y1 += y;
        }
      if (e.has_point)
        {
          e.point[0] += (float) x;
          e.point[1] += (float) y;
        }
      g_array_append_val (self->entries, e);
    }
  /* The masks' bits now belong to @self. */
  g_array_set_clear_func (src->entries, NULL);
  g_array_set_size (src->entries, 0);
  g_array_set_clear_func (src->entries, entry_clear);
}

typedef struct
{
  float score;
  guint index;
} Ranked;

/* Highest score first, then the lower index: a stable descending sort. */
static int
compare_ranked (gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;
  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

static Ranked *
rank (const float *scores, guint n)
{
  Ranked *r = g_new (Ranked, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    r[i] = (Ranked) { scores[i], i };
  qsort (r, n, sizeof *r, compare_ranked);
  return r;
}

void
usam_mask_set_sort_by_predicted_iou (UsamMaskSet *self)
{
  guint n = self->entries->len;
  g_autofree float *scores = g_new (float, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    scores[i] = entry_at (self, i)->iou;
  g_autofree Ranked *r = rank (scores, n);
  g_autofree guint *order = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    order[i] = r[i].index;
  keep_in_order (self, order, n);
}

void
usam_mask_set_box_nms (UsamMaskSet *self, const float *scores, double threshold)
{
  guint n = self->entries->len;
  g_autofree float *own = NULL;
  if (!scores)
    {
      own = g_new (float, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        own[i] = entry_at (self, i)->iou;
      scores = own;
    }
  g_autofree Ranked *r = rank (scores, n);
  g_autofree float *areas = g_new (float, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      const Entry *e = entry_at (self, i);
      areas[i] = ((float) e->x1 - (float) e->x0) * ((float) e->y1 - (float) e->y0);
    }
  /* torchvision compares the float IoU with the threshold cast to float. */
  const float limit = (float) threshold;
  g_autofree gboolean *suppressed = g_new0 (gboolean, MAX (n, 1));
  g_autofree guint *order = g_new (guint, MAX (n, 1));
  guint n_kept = 0;
  for (guint a = 0; a < n; a++)
    {
      guint i = r[a].index;
      if (suppressed[i])
        continue;
      order[n_kept++] = i;
      const Entry *ei = entry_at (self, i);
      float ix0 = (float) ei->x0, iy0 = (float) ei->y0, ix1 = (float) ei->x1, iy1 = (float) ei->y1;
      for (guint b = a + 1; b < n; b++)
        {
          guint j = r[b].index;
          if (suppressed[j])
            continue;
          const Entry *ej = entry_at (self, j);
          float w = MAX (0.0f, MIN (ix1, (float) ej->x1) - MAX (ix0, (float) ej->x0));
          float h = MAX (0.0f, MIN (iy1, (float) ej->y1) - MAX (iy0, (float) ej->y0));
          float inter = w * h;
          float ovr = inter / (areas[i] + areas[j] - inter);
          /* NaN (two empty boxes) compares false and suppresses nothing, as in torchvision. */
          if (ovr > limit)
            suppressed[j] = TRUE;
        }
    }
  keep_in_order (self, order, n_kept);
}

/* Pixels both masks cover, from their cropped bits. */
static guint64
intersection (UsamMaskSet *self, const Entry *a, const Entry *b)
{
  if (!a->bits || !b->bits)
    return 0;
  guint x0 = MAX (a->x0, b->x0), x1 = MIN (a->x1, b->x1), y0 = MAX (a->y0, b->y0), y1 = MIN (a->y1, b->y1);
  if (x0 > x1 || y0 > y1)
    return 0;
  (void) self;
  guint aw = a->x1 - a->x0 + 1, bw = b->x1 - b->x0 + 1;
  guint64 n = 0;
  for (guint y = y0; y <= y1; y++)
    {
      const guint8 *pa = a->bits + (gsize) (y - a->y0) * aw + (x0 - a->x0);
      const guint8 *pb = b->bits + (gsize) (y - b->y0) * bw + (x0 - b->x0);
      for (guint x = 0; x <= x1 - x0; x++)
        n += pa[x] & pb[x];
    }
  return n;
}

void
usam_mask_set_mask_nms (UsamMaskSet *self, double threshold)
{
  guint n = self->entries->len;
  g_autofree float *scores = g_new (float, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    scores[i] = entry_at (self, i)->iou * entry_at (self, i)->stability;
  g_autofree Ranked *r = rank (scores, n);
  const float limit = (float) threshold;
  g_autofree gboolean *removed = g_new0 (gboolean, MAX (n, 1));
  g_autofree guint *order = g_new (guint, MAX (n, 1));
  guint n_kept = 0;
  for (guint a = 0; a < n; a++)
    {
      guint i = r[a].index;
      if (removed[i])
        continue;
      order[n_kept++] = i;
      const Entry *ei = entry_at (self, i);
      for (guint b = a + 1; b < n; b++)
        {
          guint j = r[b].index;
          if (removed[j])
            continue;
          const Entry *ej = entry_at (self, j);
          /* micro-sam compares masks only where their inclusive boxes
           * overlap with a positive area; others count as IoU 0. */
          float ow = MAX (0.0f, (float) MIN (ei->x1, ej->x1) - (float) MAX (ei->x0, ej->x0));
          float oh = MAX (0.0f, (float) MIN (ei->y1, ej->y1) - (float) MAX (ei->y0, ej->y0));
          if (!(ow * oh > 0.0f))
            continue;
          guint64 inter = intersection (self, ei, ej);
          guint64 uni = ei->area + ej->area - inter;
          float iou = (float) inter / (float) uni;
          if (!(iou <= limit))
            removed[j] = TRUE;
        }
    }
  keep_in_order (self, order, n_kept);
}

static int
compare_area (gconstpointer a, gconstpointer b, gpointer data)
{
  UsamMaskSet *self = data;
  guint i = *(const guint *) a, j = *(const guint *) b;
  guint64 ai = entry_at (self, i)->area, aj = entry_at (self, j)->area;
  if (ai != aj)
    return ai > aj ? -1 : 1;
  return (i > j) - (i < j);
}

gboolean
usam_mask_set_paint (UsamMaskSet *self, const UsamMaskPaintParams *params, guint32 *labels, guint *n_objects,
                     GError **error)
{
  g_return_val_if_fail (self != NULL && params != NULL && labels != NULL, FALSE);
  guint n = self->entries->len, w = self->width;
  gsize total = (gsize) w * self->height;
  memset (labels, 0, total * sizeof *labels);
  g_autofree guint *order = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, (gint) n, sizeof *order, compare_area, self);

  guint32 id = 1;
  for (guint k = 0; k < n; k++)
    {
      const Entry *e = entry_at (self, order[k]);
      /* Skipped masks take no id, as in micro-sam. */
      if (e->area < params->min_size || !e->bits)
        {
          if (e->area >= params->min_size)
            id++;
          continue;
        }
      guint bw = e->x1 - e->x0 + 1;
      for (guint y = e->y0; y <= e->y1; y++)
        {
          const guint8 *src = e->bits + (gsize) (y - e->y0) * bw;
          guint32 *dst = labels + (gsize) y * w + e->x0;
          for (guint x = 0; x < bw; x++)
            if (src[x] && (!params->exclusive || dst[x] == 0))
              dst[x] = id;
        }
      id++;
    }

  guint n_components = 0;
  if (!usam_label_components (labels, w, self->height, labels, &n_components, error))
    return FALSE;
  if (params->remove_largest && n_components > 0)
    {
      g_autofree guint64 *sizes = g_new0 (guint64, (gsize) n_components + 1);
      for (gsize i = 0; i < total; i++)
        sizes[labels[i]]++;
      /* The background competes too: when it is the largest region no
       * object is removed (numpy's argmax over the unique ids, 0 first). */
      guint32 largest = 0;
      for (guint32 c = 1; c <= n_components; c++)
        if (sizes[c] > sizes[largest])
          largest = c;
      if (largest != 0)
        for (gsize i = 0; i < total; i++)
          if (labels[i] == largest)
            labels[i] = 0;
    }
  return usam_label_remove_small (labels, w, self->height, params->min_size, n_objects, error);
}

gboolean
usam_mask_set_save (UsamMaskSet *self, const char *path, GError **error)
{
  g_autoptr (UsamH5Output) output = usam_h5_output_new (path, error);
  if (!output)
    return FALSE;
  hid_t file = usam_h5_output_get_file (output);
  guint n = self->entries->len;
  hsize_t dims[3] = { n, self->height, self->width };
  /* Written one mask at a time: the full stack can be far larger than the set. */
  g_auto (UsamH5Space) space = H5Screate_simple (3, dims, NULL);
  g_auto (UsamH5Plist) plist = H5Pcreate (H5P_DATASET_CREATE);
  if (n > 0)
    {
      hsize_t chunk[3] = { 1, self->height, self->width };
      H5Pset_chunk (plist, 3, chunk);
      H5Pset_deflate (plist, 4);
    }
  g_auto (UsamH5Dataset) dset = H5Dcreate2 (file, "masks", H5T_STD_U8LE, space, H5P_DEFAULT, plist, H5P_DEFAULT);
  if (dset < 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot create '/masks'", path);
      return FALSE;
    }
  g_autofree guint8 *mask = g_malloc ((gsize) self->width * self->height);
  hsize_t one[3] = { 1, self->height, self->width };
  g_auto (UsamH5Space) mem = H5Screate_simple (3, one, NULL);
  for (guint i = 0; i < n; i++)
    {
      usam_mask_set_get_mask (self, i, mask);
      hsize_t start[3] = { i, 0, 0 };
      H5Sselect_hyperslab (space, H5S_SELECT_SET, start, NULL, one, NULL);
      if (H5Dwrite (dset, H5T_NATIVE_UINT8, mem, space, H5P_DEFAULT, mask) < 0)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_IO, "%s: cannot write '/masks'", path);
          return FALSE;
        }
    }

  g_autofree float *iou = g_new (float, MAX (n, 1));
  g_autofree float *stability = g_new (float, MAX (n, 1));
  g_autofree float *boxes = g_new (float, (gsize) MAX (n, 1) * 4);
  g_autofree float *points = g_new0 (float, (gsize) MAX (n, 1) * 2);
  for (guint i = 0; i < n; i++)
    {
      const Entry *e = entry_at (self, i);
      iou[i] = e->iou;
      stability[i] = e->stability;
      boxes[4 * i] = (float) e->x0;
      boxes[4 * i + 1] = (float) e->y0;
      boxes[4 * i + 2] = (float) (e->x1 - e->x0);
      boxes[4 * i + 3] = (float) (e->y1 - e->y0);
      points[2 * i] = e->point[0];
      points[2 * i + 1] = e->point[1];
    }
  hsize_t d1[1] = { n }, d4[2] = { n, 4 }, d2[2] = { n, 2 };
  if (!usam_h5_write (file, "predicted_iou", H5T_NATIVE_FLOAT, 1, d1, iou, FALSE, error)
      || !usam_h5_write (file, "stability_score", H5T_NATIVE_FLOAT, 1, d1, stability, FALSE, error)
      || !usam_h5_write (file, "bbox_xywh", H5T_NATIVE_FLOAT, 2, d4, boxes, FALSE, error)
      || !usam_h5_write (file, "point_coords", H5T_NATIVE_FLOAT, 2, d2, points, FALSE, error))
    return FALSE;
  return usam_h5_output_commit (output, error);
}
