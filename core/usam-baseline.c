/* usam-baseline.c — Otsu + distance-transform watershed. */
#include "usam-baseline.h"

#include <math.h>

#include "usam-ais-post.h"
#include "usam-prompt-eval.h"

/* Stands for "no zero pixel in reach"; large, but its sums with squared
 * coordinates stay finite in float. */
#define FAR 1e20f

/* One dimension of the squared distance transform: the lower envelope of
 * the parabolas rooted at the samples of @f (length @n, stride @stride). */
static void
edt_1d (float *f, gsize n, gsize stride, float *d, guint *v, float *z)
{
  guint k = 0;
  v[0] = 0;
  z[0] = -INFINITY;
  z[1] = INFINITY;
  for (guint q = 1; q < n; q++)
    {
      float s;
      while (TRUE)
        {
          guint p = v[k];
          s = ((f[q * stride] + (float) q * q) - (f[p * stride] + (float) p * p)) / (2.0f * (float) (q - p));
          if (s > z[k] || k == 0)
            break;
          k--;
        }
      if (s <= z[k])
        {
          /* only at k == 0: the new parabola is lower everywhere */
          v[k] = q;
          z[k + 1] = INFINITY;
          continue;
        }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = INFINITY;
    }
  k = 0;
  for (guint q = 0; q < n; q++)
    {
      while (z[k + 1] < (float) q)
        k++;
      float dq = (float) q - (float) v[k];
      d[q] = MIN (dq * dq + f[v[k] * stride], FAR);
    }
  for (guint q = 0; q < n; q++)
    f[q * stride] = d[q];
}

void
usam_distance_transform_sq (const guint8 *mask, guint width, guint height, float *out)
{
  const gsize n = (gsize) width * height, longest = MAX (width, height);
  for (gsize i = 0; i < n; i++)
    out[i] = mask[i] ? FAR : 0.0f;
  g_autofree float *d = g_new (float, longest);
  g_autofree guint *v = g_new (guint, longest);
  g_autofree float *z = g_new (float, longest + 1);
  for (guint x = 0; x < width; x++)
    edt_1d (out + x, height, width, d, v, z);
  for (guint y = 0; y < height; y++)
    edt_1d (out + (gsize) y * width, width, 1, d, v, z);
  /* a mask without a zero: everything is as deep as the image is long */
  for (gsize i = 0; i < n; i++)
    out[i] = MIN (out[i], (float) longest * (float) longest);
}

gboolean
usam_baseline_otsu_watershed (const guint8 *grey, guint width, guint height, guint min_size, guint32 *labels,
                              guint *n_objects, GError **error)
{
  const gsize n = (gsize) width * height;
  guint64 hist[256] = { 0 };
  for (gsize i = 0; i < n; i++)
    hist[grey[i]]++;
  guint t = usam_otsu_threshold (hist);
  guint64 above = 0;
  for (guint v = t + 1; v < 256; v++)
    above += hist[v];
  gboolean bright = above * 2 <= n;

  g_autofree guint8 *fg = g_new (guint8, n);
  g_autofree guint32 *comp = g_new (guint32, n);
  for (gsize i = 0; i < n; i++)
    {
      fg[i] = bright ? grey[i] > t : grey[i] <= t;
      comp[i] = fg[i];
    }
  guint n_comp = 0;
  if (!usam_label_components (comp, width, height, comp, &n_comp, error))
    return FALSE;

  g_autofree float *dist = g_new (float, n);
  usam_distance_transform_sq (fg, width, height, dist);
  g_autofree float *peak = g_new0 (float, (gsize) n_comp + 1);
  for (gsize i = 0; i < n; i++)
    {
      dist[i] = sqrtf (dist[i]);
      peak[comp[i]] = MAX (peak[comp[i]], dist[i]);
    }
  /* 0 at a component's deepest point, 1 at its edge and in the background:
   * the convention of the AIS decoder's distance maps */
  g_autofree float *foreground = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    {
      foreground[i] = fg[i];
      dist[i] = comp[i] ? 1.0f - dist[i] / peak[comp[i]] : 1.0f;
    }
  UsamAisParams params = usam_ais_params_default ();
  params.foreground_smoothing = 0;
  params.distance_smoothing = 0;
  params.min_size = min_size;
  return usam_ais_segment (foreground, dist, dist, width, height, &params, labels, n_objects, NULL, error);
}
