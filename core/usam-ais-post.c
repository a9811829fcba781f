/* AIS post-processing, reproducing micro-sam's pipeline on bioimage-cpp's
 * kernels step by step (see usam-ais-post.h). Where the reference's result
 * depends on arithmetic order (the Gaussian's float sums, the watershed's
 * quantisation and queue order) the same order is kept, so that labels
 * match the reference's pixel for pixel. */
#include "usam-ais-post.h"

#include <math.h>
#include <string.h>

#include "usam-error.h"

/* Bits of the per-pixel flag array: foreground, seed, and which of the four
 * neighbours exist, so the flooding loop needs no division. */
enum {
  PX_FG = 1 << 0,
  PX_SEED = 1 << 1,
  PX_UP = 1 << 2,
  PX_DOWN = 1 << 3,
  PX_LEFT = 1 << 4,
  PX_RIGHT = 1 << 5,
  PX_OPEN = 1 << 6, /* foreground the flooding has not reached yet */
};

#define N_LEVELS 65536
#define NO_NODE G_MAXUINT32
/* Cancellation is polled this often (rows, or flooded pixels). */
#define POLL_ROWS 64
#define POLL_PIXELS (1u << 20)

UsamAisParams
usam_ais_params_default (void)
{
  return (UsamAisParams) {
    .center_distance_threshold = 0.5,
    .boundary_distance_threshold = 0.5,
    .foreground_threshold = 0.5,
    .foreground_smoothing = 1.0,
    .distance_smoothing = 1.6,
    .min_size = 100,
  };
}

/* micro_sam/_model_settings.py, AIS_SETTINGS. */
static const struct
{
  const char *model;
  double center, boundary, smoothing;
  guint min_size;
} model_settings[] = {
  { "vit_t_lm", 0.5, 0.5, 2.0, 100 },
  { "vit_b_lm", 0.4, 0.5, 2.0, 100 },
  { "vit_l_lm", 0.4, 0.4, 1.6, 100 },
  { "vit_h_lm", 0.5, 0.5, 1.4, 100 },
  { "vit_t_em_organelles", 0.4, 0.5, 1.2, 100 },
  { "vit_b_em_organelles", 0.3, 0.4, 1.2, 100 },
  { "vit_l_em_organelles", 0.3, 0.4, 1.2, 100 },
  { "vit_h_em_organelles", 0.3, 0.4, 1.2, 100 },
};

gboolean
usam_ais_params_for_model (const char *model_type, UsamAisParams *params)
{
  g_return_val_if_fail (params != NULL, FALSE);
  *params = usam_ais_params_default ();
  for (guint i = 0; model_type && i < G_N_ELEMENTS (model_settings); i++)
    if (g_str_equal (model_type, model_settings[i].model))
      {
        params->center_distance_threshold = model_settings[i].center;
        params->boundary_distance_threshold = model_settings[i].boundary;
        params->distance_smoothing = model_settings[i].smoothing;
        params->min_size = model_settings[i].min_size;
        return TRUE;
      }
  return FALSE;
}

static gboolean
check_size (guint width, guint height, GError **error)
{
  /* Pixel indices must fit a guint32 with one value to spare (NO_NODE). */
  if (width == 0 || height == 0 || (guint64) width * height >= G_MAXUINT32)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "cannot segment a %u × %u image", width, height);
      return FALSE;
    }
  return TRUE;
}

/* ---- Gaussian smoothing (bioimage-cpp filters::gaussian_smoothing_2d) ---- */

/* scipy's "mirror" border: reflection without repeating the edge pixel. */
static gsize
mirror_index (gssize x, gssize n)
{
  if (n <= 1)
    return 0;
  gssize period = 2 * (n - 1);
  gssize r = x % period;
  if (r < 0)
    r += period;
  if (r >= n)
    r = period - r;
  return (gsize) r;
}

/* Half of a normalised Gaussian, computed in double and rounded to float
 * as the reference does; returns the radius. */
static int
gaussian_kernel (double sigma, float **half)
{
  int radius = MAX (1, (int) ceil (3.0 * sigma));
  double inv_2sigma2 = 0.5 * (1.0 / (sigma * sigma));
  g_autofree double *raw = g_new (double, radius + 1);
  for (int i = 0; i <= radius; i++)
    {
      double x = i;
      raw[i] = exp (-x * x * inv_2sigma2);
    }
  double sum = raw[0];
  for (int i = 1; i <= radius; i++)
    sum += 2.0 * raw[i];
  double scale = 1.0 / sum;
  *half = g_new (float, radius + 1);
  for (int i = 0; i <= radius; i++)
    (*half)[i] = (float) (raw[i] * scale);
  return radius;
}

/* Four floats (one SSE or NEON register), for loops GCC leaves scalar at
 * -O2. Each lane does the scalar code's operations in the scalar code's
 * order, so results are the same bit for bit. */
typedef float Vec4 __attribute__ ((vector_size (16)));

static inline Vec4
load4 (const float *p)
{
  Vec4 v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
store4 (float *p, Vec4 v)
{
  memcpy (p, &v, sizeof v);
}

/* Separable smoothing, rows (Y) first into @work, then columns (X) into
 * @out. Each output is h0·x + Σk hk·(x₋k + x₊k) accumulated in float in
 * order of k: the reference's order, which fixes the rounding. */
static void
gaussian_smooth (const float *in, float *out, float *work, guint width, guint height, double sigma)
{
  g_autofree float *h = NULL;
  int radius = gaussian_kernel (sigma, &h);
  gsize w = width;
  g_autofree const float **up = g_new (const float *, radius + 1);
  g_autofree const float **dn = g_new (const float *, radius + 1);

  for (gsize y = 0; y < height; y++)
    {
      float *acc = work + y * w;
      const float *c = in + y * w;
      for (int k = 1; k <= radius; k++)
        {
          up[k] = in + mirror_index ((gssize) y - k, height) * w;
          dn[k] = in + mirror_index ((gssize) y + k, height) * w;
        }
      gsize x = 0;
      for (; x + 4 <= w; x += 4)
        {
          Vec4 a = h[0] * load4 (c + x);
          for (int k = 1; k <= radius; k++)
            a += h[k] * (load4 (up[k] + x) + load4 (dn[k] + x));
          store4 (acc + x, a);
        }
      for (; x < w; x++)
        {
          float a = h[0] * c[x];
          for (int k = 1; k <= radius; k++)
            a += h[k] * (up[k][x] + dn[k][x]);
          acc[x] = a;
        }
    }

  /* A row padded with its mirror image, so the inner loop has no branches. */
  g_autofree float *padded = g_new (float, w + 2 * (gsize) radius);
  float *p = padded + radius;
  for (gsize y = 0; y < height; y++)
    {
      const float *row = work + y * w;
      memcpy (p, row, w * sizeof (float));
      for (int k = 1; k <= radius; k++)
        {
          p[-k] = row[mirror_index (-k, (gssize) w)];
          p[w - 1 + k] = row[mirror_index ((gssize) w - 1 + k, (gssize) w)];
        }
      float *o = out + y * w;
      gsize x = 0;
      for (; x + 4 <= w; x += 4)
        {
          Vec4 a = h[0] * load4 (p + x);
          for (int k = 1; k <= radius; k++)
            a += h[k] * (load4 (p + x - k) + load4 (p + x + k));
          store4 (o + x, a);
        }
      for (; x < w; x++)
        {
          float a = h[0] * p[x];
          for (int k = 1; k <= radius; k++)
            a += h[k] * (p[(gssize) x - k] + p[x + k]);
          o[x] = a;
        }
    }
}

/* ---- connected components (bioimage-cpp segmentation::label) ---- */

typedef struct
{
  guint32 *parent;
  guint32 len, cap;
} UnionFind;

static guint32
uf_new (UnionFind *uf)
{
  if (uf->len == uf->cap)
    {
      uf->cap = uf->cap ? uf->cap * 2 : 1024;
      uf->parent = g_renew (guint32, uf->parent, uf->cap);
    }
  uf->parent[uf->len] = uf->len;
  return uf->len++;
}

static guint32
uf_find (UnionFind *uf, guint32 a)
{
  while (uf->parent[a] != a)
    {
      uf->parent[a] = uf->parent[uf->parent[a]];
      a = uf->parent[a];
    }
  return a;
}

/* Joins @b's set into @a's running label; the smaller root wins. */
static guint32
uf_merge (UnionFind *uf, guint32 lbl, guint32 b)
{
  if (lbl == 0)
    return b;
  guint32 ra = uf_find (uf, lbl), rb = uf_find (uf, b);
  if (ra == rb)
    return ra;
  if (ra > rb)
    {
      guint32 t = ra;
      ra = rb;
      rb = t;
    }
  uf->parent[rb] = ra;
  return ra;
}

/* Two-pass labelling in place on @prov. With @values NULL, @prov holds a
 * binary image (non-zero = object) on entry; otherwise objects are runs of
 * equal non-zero @values, which may alias @prov: the rows a pixel looks back
 * at are kept aside before they are overwritten. Output: dense labels in
 * row-major order of first pixels. */
static gboolean
label_in_place (const guint32 *values, guint32 *prov, guint width, guint height, guint *n_components,
                GCancellable *cancellable, GError **error)
{
  gsize w = width;
  UnionFind uf = { 0 };
  uf_new (&uf); /* 0 is the background */
  g_autofree guint32 *rows = values ? g_new (guint32, 2 * w) : NULL;
  guint32 *prev = rows, *cur = rows ? rows + w : NULL;

  for (gsize y = 0; y < height; y++)
    {
      if (y % POLL_ROWS == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_free (uf.parent);
          return FALSE;
        }
      guint32 *p = prov + y * w;
      if (values)
        memcpy (cur, values + y * w, w * sizeof (guint32));
      for (gsize x = 0; x < w; x++)
        {
          guint32 v = values ? cur[x] : p[x];
          if (v == 0)
            {
              p[x] = 0;
              continue;
            }
          guint32 lbl = 0;
          /* Neighbours already visited: NW, N, NE, W. */
          if (y > 0)
            {
              const guint32 *pp = p - w;
              if (x > 0 && pp[x - 1] && (!values || prev[x - 1] == v))
                lbl = uf_merge (&uf, lbl, pp[x - 1]);
              if (pp[x] && (!values || prev[x] == v))
                lbl = uf_merge (&uf, lbl, pp[x]);
              if (x + 1 < w && pp[x + 1] && (!values || prev[x + 1] == v))
                lbl = uf_merge (&uf, lbl, pp[x + 1]);
            }
          if (x > 0 && p[x - 1] && (!values || cur[x - 1] == v))
            lbl = uf_merge (&uf, lbl, p[x - 1]);
          p[x] = lbl ? lbl : uf_new (&uf);
        }
      if (values)
        {
          guint32 *t = prev;
          prev = cur;
          cur = t;
        }
    }

  g_autofree guint32 *dense = g_new0 (guint32, uf.len);
  guint32 n = 0;
  gsize total = w * height;
  for (gsize i = 0; i < total; i++)
    {
      if (prov[i] == 0)
        continue;
      guint32 root = uf_find (&uf, prov[i]);
      if (dense[root] == 0)
        dense[root] = ++n;
      prov[i] = dense[root];
    }
  g_free (uf.parent);
  *n_components = n;
  return TRUE;
}

gboolean
usam_label_components (const guint32 *labels, guint width, guint height, guint32 *components, guint *n_components,
                       GError **error)
{
  g_return_val_if_fail (labels != NULL && components != NULL, FALSE);
  if (!check_size (width, height, error))
    return FALSE;
  guint n = 0;
  if (!label_in_place (labels, components, width, height, &n, NULL, error))
    return FALSE;
  if (n_components)
    *n_components = n;
  return TRUE;
}

/* ---- size filter (torch_em size_filter: np.unique, isin, relabel_sequential) ---- */

/* With dense ids ≤ @max_id, a count per id. */
static guint
remove_small_dense (guint32 *labels, gsize total, guint32 max_id, guint min_size)
{
  g_autofree guint32 *map = g_new0 (guint32, (gsize) max_id + 1);
  for (gsize i = 0; i < total; i++)
    map[labels[i]]++;
  guint32 n = 0;
  map[0] = 0;
  for (gsize id = 1; id <= max_id; id++)
    map[id] = map[id] == 0 ? 0 : map[id] < min_size ? 0 : ++n;
  for (gsize i = 0; i < total; i++)
    labels[i] = map[labels[i]];
  return n;
}

static int
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return (x > y) - (x < y);
}

/* With sparse ids, a hash table from id to count, then to the new id. */
static guint
remove_small_sparse (guint32 *labels, gsize total, guint min_size)
{
  g_autoptr (GHashTable) counts = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (gsize i = 0; i < total;)
    {
      guint32 v = labels[i];
      gsize run = 1;
      while (i + run < total && labels[i + run] == v)
        run++;
      i += run;
      if (v == 0)
        continue;
      gpointer key = GUINT_TO_POINTER (v);
      gsize c = GPOINTER_TO_SIZE (g_hash_table_lookup (counts, key));
      g_hash_table_insert (counts, key, GSIZE_TO_POINTER (c + run));
    }
  g_autoptr (GArray) kept = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, counts);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (GPOINTER_TO_SIZE (value) >= min_size)
      {
        guint32 id = GPOINTER_TO_UINT (key);
        g_array_append_val (kept, id);
      }
  g_array_sort (kept, compare_u32);
  g_hash_table_remove_all (counts);
  for (guint j = 0; j < kept->len; j++)
    g_hash_table_insert (counts, GUINT_TO_POINTER (g_array_index (kept, guint32, j)), GUINT_TO_POINTER (j + 1));
  for (gsize i = 0; i < total; i++)
    if (labels[i])
      labels[i] = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GUINT_TO_POINTER (labels[i])));
  return kept->len;
}

gboolean
usam_label_remove_small (guint32 *labels, guint width, guint height, guint min_size, guint *n_objects,
                         GError **error)
{
  g_return_val_if_fail (labels != NULL, FALSE);
  if (!check_size (width, height, error))
    return FALSE;
  gsize total = (gsize) width * height;
  guint32 max_id = 0;
  for (gsize i = 0; i < total; i++)
    max_id = MAX (max_id, labels[i]);
  /* A count per possible id is the fast path; past a few per pixel it
   * would cost more memory than the image. */
  guint n = max_id <= 4 * total ? remove_small_dense (labels, total, max_id, min_size)
                                : remove_small_sparse (labels, total, min_size);
  if (n_objects)
    *n_objects = n;
  return TRUE;
}

/* ---- seeded watershed (bioimage-cpp detail_ws::watershed_2d) ---- */

/* Floods from the seeds already in @labels over the PX_FG pixels of @flags.
 * Buckets are LIFO lists threaded through @next (one slot per pixel: every
 * pixel is queued at most once, when it is labelled), which gives the
 * reference's std::vector push_back/pop_back order without its allocations. */
static gboolean
watershed (const float *height_map, guint8 *flags, guint32 *labels, guint16 *levels, guint32 *next,
           gsize width, gsize total, GCancellable *cancellable, GError **error)
{
  float h_min = 0, h_max = 0;
  gboolean any = FALSE;
  for (gsize i = 0; i < total; i++)
    {
      if (!(flags[i] & PX_FG))
        continue;
      float v = height_map[i];
      if (!any)
        {
          h_min = h_max = v;
          any = TRUE;
        }
      else
        {
          h_min = MIN (h_min, v);
          h_max = MAX (h_max, v);
        }
    }
  if (!any)
    return TRUE;

  double range = (double) h_max - (double) h_min;
  double scale = range > 0.0 ? (double) (N_LEVELS - 1) / range : 0.0;
  for (gsize i = 0; i < total; i++)
    {
      if (!(flags[i] & PX_FG) || range <= 0.0)
        {
          levels[i] = 0;
          continue;
        }
      double q = ((double) height_map[i] - (double) h_min) * scale;
      q = CLAMP (q, 0.0, (double) (N_LEVELS - 1));
      levels[i] = (guint16) q;
    }

  g_autofree guint32 *head = g_new (guint32, N_LEVELS);
  memset (head, 0xff, N_LEVELS * sizeof (guint32));
  gsize level = N_LEVELS;
  for (gsize i = 0; i < total; i++)
    {
      if (!(flags[i] & PX_FG))
        continue;
      if (!labels[i])
        {
          flags[i] |= PX_OPEN;
          continue;
        }
      next[i] = head[levels[i]];
      head[levels[i]] = (guint32) i;
      level = MIN (level, (gsize) levels[i]);
    }

  guint poll = 0;
  for (; level < N_LEVELS; level++)
    while (head[level] != NO_NODE)
      {
        if (++poll == POLL_PIXELS)
          {
            poll = 0;
            if (g_cancellable_set_error_if_cancelled (cancellable, error))
              return FALSE;
          }
        gsize node = head[level];
        head[level] = next[node];
        guint32 label = labels[node];
        guint8 f = flags[node];
        gsize nb[4];
        int n_nb = 0;
        /* The reference's neighbour order: up, down, left, right. */
        if (f & PX_UP)
          nb[n_nb++] = node - width;
        if (f & PX_DOWN)
          nb[n_nb++] = node + width;
        if (f & PX_LEFT)
          nb[n_nb++] = node - 1;
        if (f & PX_RIGHT)
          nb[n_nb++] = node + 1;
        for (int j = 0; j < n_nb; j++)
          {
            gsize n = nb[j];
            if (!(flags[n] & PX_OPEN))
              continue;
            flags[n] &= ~PX_OPEN;
            labels[n] = label;
            gsize l = MAX ((gsize) levels[n], level);
            next[n] = head[l];
            head[l] = (guint32) n;
          }
      }
  return TRUE;
}

/* ---- the pipeline ---- */

static gboolean
check_finite (const float *map, gsize total, const char *name, GError **error)
{
  /* x · 0 is NaN exactly for NaN and ±inf: a cheap vector test first. */
  Vec4 acc = { 0 };
  gsize i = 0;
  for (; i + 4 <= total; i += 4)
    acc += load4 (map + i) * 0.0f;
  float any = acc[0] + acc[1] + acc[2] + acc[3];
  for (; i < total; i++)
    any += map[i] * 0.0f;
  if (!isnan (any))
    return TRUE;
  for (i = 0; i < total; i++)
    if (!isfinite (map[i]))
      {
        g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "the %s map has a non-finite value at pixel %zu",
                     name, i);
        return FALSE;
      }
  return TRUE;
}

static gboolean
check_params (const UsamAisParams *p, GError **error)
{
  if (!isfinite (p->center_distance_threshold) || !isfinite (p->boundary_distance_threshold)
      || !isfinite (p->foreground_threshold))
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "AIS thresholds must be finite");
      return FALSE;
    }
  /* The kernel radius ceil(3 sigma) must stay a sane int. */
  gboolean sane = p->foreground_smoothing >= 0 && p->foreground_smoothing <= 1000 && p->distance_smoothing >= 0
                  && p->distance_smoothing <= 1000;
  if (!sane)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                           "AIS smoothing must be between 0 and 1000 pixels");
      return FALSE;
    }
  return TRUE;
}

gboolean
usam_ais_segment (const float *foreground, const float *center_distances, const float *boundary_distances,
                  guint width, guint height, const UsamAisParams *params, guint32 *labels, guint *n_objects,
                  GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (foreground != NULL && center_distances != NULL && boundary_distances != NULL, FALSE);
  g_return_val_if_fail (params != NULL && labels != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_size (width, height, error) || !check_params (params, error))
    return FALSE;
  gsize w = width, total = w * height;
  /* bioimage-cpp's smoothing refuses non-finite input; without smoothing a
   * NaN would still poison the watershed's range, so refuse it always. */
  if (!check_finite (foreground, total, "foreground", error)
      || !check_finite (center_distances, total, "center distance", error)
      || !check_finite (boundary_distances, total, "boundary distance", error))
    return FALSE;

  g_autofree float *smooth = g_try_new (float, total);
  g_autofree float *work = g_try_new (float, total);
  g_autofree guint8 *flags = g_try_new (guint8, total);
  g_autofree guint16 *levels = g_try_new (guint16, total);
  if (!smooth || !work || !flags || !levels)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "not enough memory to segment a %u × %u image", width,
                   height);
      return FALSE;
    }

  /* numpy compares a float32 map with a Python float in float32. */
  float fg_t = (float) params->foreground_threshold;
  float center_t = (float) params->center_distance_threshold;
  float boundary_t = (float) params->boundary_distance_threshold;

  const float *src = foreground;
  if (params->foreground_smoothing > 0)
    {
      gaussian_smooth (foreground, smooth, work, width, height, params->foreground_smoothing);
      src = smooth;
    }
  for (gsize y = 0, i = 0; y < height; y++)
    for (gsize x = 0; x < w; x++, i++)
      {
        guint8 f = src[i] > fg_t ? PX_FG : 0;
        f |= y > 0 ? PX_UP : 0;
        f |= y + 1 < height ? PX_DOWN : 0;
        f |= x > 0 ? PX_LEFT : 0;
        f |= x + 1 < w ? PX_RIGHT : 0;
        flags[i] = f;
      }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  src = center_distances;
  if (params->distance_smoothing > 0)
    {
      gaussian_smooth (center_distances, smooth, work, width, height, params->distance_smoothing);
      src = smooth;
    }
  for (gsize i = 0; i < total; i++)
    if ((flags[i] & PX_FG) && src[i] < center_t)
      flags[i] |= PX_SEED;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  const float *heights = boundary_distances;
  if (params->distance_smoothing > 0)
    {
      gaussian_smooth (boundary_distances, smooth, work, width, height, params->distance_smoothing);
      heights = smooth;
    }
  for (gsize i = 0; i < total; i++)
    labels[i] = (flags[i] & PX_SEED) && heights[i] < boundary_t;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  guint n = 0;
  if (!label_in_place (NULL, labels, width, height, &n, cancellable, error))
    return FALSE;
  /* The Gaussian's scratch buffer is free now: it becomes the queue links. */
  G_STATIC_ASSERT (sizeof (float) == sizeof (guint32));
  if (!watershed (heights, flags, labels, levels, (guint32 *) work, w, total, cancellable, error))
    return FALSE;

  /* Every seed keeps its label, so without the filter 1..n are all there. */
  if (params->min_size > 0)
    n = remove_small_dense (labels, total, n, params->min_size);
  if (n_objects)
    *n_objects = n;
  return TRUE;
}
