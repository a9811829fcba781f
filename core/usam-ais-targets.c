/* AIS training targets, following torch_em's PerObjectDistanceTransform
 * (see usam-ais-targets.h) on bioimage-cpp's label() and
 * distance_transform(), whose results this reproduces exactly. */
#include "usam-ais-targets.h"

#include <math.h>
#include <string.h>

#include "usam-ais-post.h"
#include "usam-error.h"

/* torch_em's eps, added in float32 as numpy does for a float32 array. */
#define NORM_EPS 1e-7f

typedef struct
{
  guint y0, y1, x0, x1; /* bounding box, inclusive */
  guint64 sum_y, sum_x;
  guint32 count;
} ObjectStats;

/* Scratch shared by all objects, sized for the largest bounding box. */
typedef struct
{
  double *d2;  /* squared distances over the box */
  float *dist; /* boundary distances over the box */
  double *f, *z, *out;
  int *v;
} Scratch;

/* Felzenszwalb–Huttenlocher: the lower envelope of the parabolas rooted at
 * the finite samples of @f, evaluated at 0..n-1 into @out (squared
 * distances). INFINITY where no sample is finite. */
static void
edt_1d (const double *f, double *out, int *v, double *z, int n)
{
  int start = 0;
  while (start < n && isinf (f[start]))
    start++;
  if (start == n)
    {
      for (int q = 0; q < n; q++)
        out[q] = INFINITY;
      return;
    }
  int k = 0;
  v[0] = start;
  z[0] = -INFINITY;
  z[1] = INFINITY;
  for (int q = start + 1; q < n; q++)
    {
      if (isinf (f[q]))
        continue;
      double s;
      for (;;)
        {
          double vk = v[k];
          s = ((f[q] + (double) q * q) - (f[v[k]] + vk * vk)) / (2.0 * (q - vk));
          if (s > z[k])
            break;
          if (k == 0)
            break;
          k--;
        }
      if (s <= z[k])
        {
          /* The new parabola is lowest everywhere so far: it alone remains. */
          v[0] = q;
          z[1] = INFINITY;
          continue;
        }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = INFINITY;
    }
  for (int q = 0, j = 0; q < n; q++)
    {
      while (z[j + 1] < q)
        j++;
      double d = q - v[j];
      out[q] = d * d + f[v[j]];
    }
}

/* Distances from each pixel of a @bh × @bw box of @boundary (row stride
 * @stride) to the nearest boundary pixel in the box, into s->dist. Columns
 * first, then rows, as the reference sweeps axis 0 before axis 1. */
static void
box_distance_transform (const guint8 *boundary, gsize stride, guint bh, guint bw, Scratch *s)
{
  gboolean any = FALSE;
  for (guint y = 0; y < bh && !any; y++)
    any = memchr (boundary + y * stride, 1, bw) != NULL;
  if (!any)
    {
      /* No boundary in the box: scipy measures from a virtual background
       * pixel at row −1, column 0, and so does the reference. */
      for (guint y = 0; y < bh; y++)
        for (guint x = 0; x < bw; x++)
          s->dist[(gsize) y * bw + x] = (float) sqrt ((double) (y + 1) * (y + 1) + (double) x * x);
      return;
    }
  for (guint x = 0; x < bw; x++)
    {
      for (guint y = 0; y < bh; y++)
        s->f[y] = boundary[y * stride + x] ? 0.0 : INFINITY;
      edt_1d (s->f, s->out, s->v, s->z, (int) bh);
      for (guint y = 0; y < bh; y++)
        s->d2[(gsize) y * bw + x] = s->out[y];
    }
  for (guint y = 0; y < bh; y++)
    {
      double *row = s->d2 + (gsize) y * bw;
      edt_1d (row, s->out, s->v, s->z, (int) bw);
      for (guint x = 0; x < bw; x++)
        s->dist[(gsize) y * bw + x] = (float) sqrt (s->out[x]);
    }
}

/* One object's two distance maps, written into its pixels of the outputs. */
static void
object_targets (const guint32 *cc, const guint8 *boundary, gsize width, guint32 id, const ObjectStats *o,
                Scratch *s, float *center_out, float *boundary_out)
{
  guint bh = o->y1 - o->y0 + 1, bw = o->x1 - o->x0 + 1;
  gsize origin = (gsize) o->y0 * width + o->x0;
  const guint32 *box = cc + origin;

  box_distance_transform (boundary + origin, width, bh, bw, s);

  /* Distances outside the object count as 0, and the maximum is taken over
   * the whole box, first in row-major order: a thin object whose pixels
   * are all boundary therefore gets the box's first pixel, inside or not. */
  gsize best = 0;
  float dmax = -1;
  for (guint y = 0; y < bh; y++)
    for (guint x = 0; x < bw; x++)
      {
        gsize i = (gsize) y * bw + x;
        if (box[(gsize) y * width + x] != id)
          s->dist[i] = 0;
        if (s->dist[i] > dmax)
          {
            dmax = s->dist[i];
            best = i;
          }
      }

  /* regionprops' centroid, rounded half to even by np.round. */
  double cy = rint ((double) o->sum_y / o->count) - o->y0;
  double cx = rint ((double) o->sum_x / o->count) - o->x0;
  if (box[(gsize) cy * width + (gsize) cx] != id)
    {
      cy = (double) (best / bw);
      cx = (double) (best % bw);
    }

  float cmax = 0, bmax = 0;
  for (guint y = 0; y < bh; y++)
    for (guint x = 0; x < bw; x++)
      {
        gsize i = (gsize) y * bw + x;
        if (box[(gsize) y * width + x] != id)
          continue;
        float dy = (float) (cy - y), dx = (float) (cx - x);
        float c = sqrtf (dy * dy + dx * dx);
        float b = dmax - s->dist[i];
        s->dist[i] = b;
        cmax = MAX (cmax, c);
        bmax = MAX (bmax, b);
      }
  float cden = cmax + NORM_EPS, bden = bmax + NORM_EPS;
  for (guint y = 0; y < bh; y++)
    for (guint x = 0; x < bw; x++)
      {
        gsize g = origin + (gsize) y * width + x;
        if (cc[g] != id)
          continue;
        float dy = (float) (cy - y), dx = (float) (cx - x);
        if (center_out)
          center_out[g] = sqrtf (dy * dy + dx * dx) / cden;
        if (boundary_out)
          boundary_out[g] = s->dist[(gsize) y * bw + x] / bden;
      }
}

/* skimage find_boundaries(mode="inner"): labelled pixels with a 4-neighbour
 * (inside the image) of another value. */
static void
inner_boundaries (const guint32 *cc, guint width, guint height, guint8 *boundary)
{
  gsize w = width;
  for (gsize y = 0; y < height; y++)
    for (gsize x = 0; x < w; x++)
      {
        gsize i = y * w + x;
        guint32 v = cc[i];
        boundary[i] = v != 0 && ((y > 0 && cc[i - w] != v) || (y + 1 < height && cc[i + w] != v)
                                 || (x > 0 && cc[i - 1] != v) || (x + 1 < w && cc[i + 1] != v));
      }
}

gboolean
usam_ais_targets (const guint32 *labels, guint width, guint height, guint min_size, float *foreground,
                  float *center_distances, float *boundary_distances, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (labels != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gsize w = width, total = w * height;
  g_autofree guint32 *cc = g_try_new (guint32, total ? total : 1);
  if (!cc)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "not enough memory for a %u × %u label image", width, height);
      return FALSE;
    }
  guint n = 0;
  if (!usam_label_components (labels, width, height, cc, &n, error))
    return FALSE;
  if (min_size > 0 && !usam_label_remove_small (cc, width, height, min_size, &n, error))
    return FALSE;

  g_autofree ObjectStats *stats = g_new0 (ObjectStats, (gsize) n + 1);
  for (guint32 id = 1; id <= n; id++)
    {
      stats[id].y0 = G_MAXUINT;
      stats[id].x0 = G_MAXUINT;
    }
  for (gsize y = 0, i = 0; y < height; y++)
    for (gsize x = 0; x < w; x++, i++)
      {
        guint32 id = cc[i];
        if (foreground)
          foreground[i] = id ? 1.0f : 0.0f;
        if (center_distances)
          center_distances[i] = 1.0f;
        if (boundary_distances)
          boundary_distances[i] = 1.0f;
        if (!id)
          continue;
        ObjectStats *o = &stats[id];
        o->y0 = MIN (o->y0, (guint) y);
        o->y1 = MAX (o->y1, (guint) y);
        o->x0 = MIN (o->x0, (guint) x);
        o->x1 = MAX (o->x1, (guint) x);
        o->sum_y += y;
        o->sum_x += x;
        o->count++;
      }
  if (n == 0 || (!center_distances && !boundary_distances))
    return TRUE;

  g_autofree guint8 *boundary = g_new (guint8, total);
  inner_boundaries (cc, width, height, boundary);

  gsize max_area = 0;
  guint max_side = 0;
  for (guint32 id = 1; id <= n; id++)
    {
      guint bh = stats[id].y1 - stats[id].y0 + 1, bw = stats[id].x1 - stats[id].x0 + 1;
      max_area = MAX (max_area, (gsize) bh * bw);
      max_side = MAX (max_side, MAX (bh, bw));
    }
  g_autofree double *d2 = g_new (double, max_area);
  g_autofree float *dist = g_new (float, max_area);
  g_autofree double *f = g_new (double, max_side);
  g_autofree double *z = g_new (double, max_side + 1);
  g_autofree double *out = g_new (double, max_side);
  g_autofree int *v = g_new (int, max_side);
  Scratch s = { d2, dist, f, z, out, v };

  for (guint32 id = 1; id <= n; id++)
    {
      if (id % 256 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      object_targets (cc, boundary, w, id, &stats[id], &s, center_distances, boundary_distances);
    }
  return TRUE;
}
