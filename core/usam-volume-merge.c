/* usam-volume-merge.c — per-slice labels joined into 3D objects (see
 * usam-volume-merge.h for the rules). */
#include "usam-volume-merge.h"

#include "usam-error.h"

/* Overlaps are counted in a hash keyed by two slice-object indices packed
 * into one pointer-sized integer. */
G_STATIC_ASSERT (sizeof (gsize) >= 8);

UsamVolumeMergeParams
usam_volume_merge_params_default (void)
{
  return (UsamVolumeMergeParams) {
    .min_overlap = 0.5, .split_ratio = 0.5, .max_gap = 1, .min_z_extent = 1, .min_size = 1
  };
}

typedef struct
{
  guint32 label; /* in its slice */
  guint z;
  guint64 size;
  gint next, prev; /* matched object in the next / previous slice, or -1 */
  gboolean absorbed; /* a fragment joined to another object */
} Piece;

typedef struct
{
  gint a, b; /* a in the lower slice */
  guint64 overlap;
  double iou;
} Pair;

typedef struct
{
  const guint32 *slices;
  gsize plane;
  guint depth;
  const UsamVolumeMergeParams *p;
  GArray *pieces;       /* Piece */
  GHashTable **index;   /* per slice: label → piece index + 1 */
  guint *uf;            /* union-find parent per piece */
  GArray *fills;        /* Pair: a gap slice to fill between a and b */
} Merge;

static guint
uf_find (guint *uf, guint i)
{
  while (uf[i] != i)
    {
      uf[i] = uf[uf[i]];
      i = uf[i];
    }
  return i;
}

static void
uf_union (guint *uf, guint a, guint b)
{
  a = uf_find (uf, a);
  b = uf_find (uf, b);
  if (a != b)
    uf[MAX (a, b)] = MIN (a, b);
}

static inline Piece *
piece (Merge *m, gint i)
{
  return &g_array_index (m->pieces, Piece, i);
}

static void
scan_slice (Merge *m, guint z)
{
  const guint32 *s = m->slices + z * m->plane;
  m->index[z] = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint32 last = 0;
  guint k = 0;
  for (gsize i = 0; i < m->plane; i++)
    {
      if (!s[i])
        continue;
      if (s[i] != last)
        {
          last = s[i];
          k = GPOINTER_TO_UINT (g_hash_table_lookup (m->index[z], GUINT_TO_POINTER (last)));
          if (!k)
            {
              Piece p = { .label = last, .z = z, .next = -1, .prev = -1 };
              g_array_append_val (m->pieces, p);
              k = m->pieces->len;
              g_hash_table_insert (m->index[z], GUINT_TO_POINTER (last), GUINT_TO_POINTER (k));
            }
        }
      piece (m, (gint) k - 1)->size++;
    }
}

static int
pair_compare (gconstpointer pa, gconstpointer pb)
{
  const Pair *a = pa, *b = pb;
  if (a->iou != b->iou)
    return a->iou > b->iou ? -1 : 1;
  if (a->a != b->a)
    return a->a < b->a ? -1 : 1;
  return a->b < b->b ? -1 : a->b > b->b;
}

/* Overlapping pieces of slices @za < @zb, those passing min_overlap only,
 * by decreasing IoU. With @only_ends, only pieces of @za that continue
 * nowhere and pieces of @zb that come from nowhere (gap closing). */
static GArray *
overlaps (Merge *m, guint za, guint zb, gboolean only_ends)
{
  const guint32 *sa = m->slices + za * m->plane, *sb = m->slices + zb * m->plane;
  g_autoptr (GHashTable) counts = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint32 la = 0, lb = 0;
  guint ka = 0, kb = 0;
  for (gsize i = 0; i < m->plane; i++)
    {
      if (!sa[i] || !sb[i])
        continue;
      if (sa[i] != la)
        ka = GPOINTER_TO_UINT (g_hash_table_lookup (m->index[za], GUINT_TO_POINTER (la = sa[i])));
      if (sb[i] != lb)
        kb = GPOINTER_TO_UINT (g_hash_table_lookup (m->index[zb], GUINT_TO_POINTER (lb = sb[i])));
      gpointer key = GSIZE_TO_POINTER (((gsize) (ka - 1) << 32) | (kb - 1));
      g_hash_table_insert (counts, key, GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (counts, key)) + 1));
    }
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize k = GPOINTER_TO_SIZE (key);
      Pair p = { (gint) (k >> 32), (gint) (k & G_MAXUINT32), GPOINTER_TO_SIZE (value), 0 };
      Piece *a = piece (m, p.a), *b = piece (m, p.b);
      if (only_ends && (a->next >= 0 || a->absorbed || b->prev >= 0 || b->absorbed))
        continue;
      double ov = (double) p.overlap;
      if (ov < m->p->min_overlap * (double) MIN (a->size, b->size))
        continue;
      p.iou = ov / ((double) a->size + (double) b->size - ov);
      g_array_append_val (pairs, p);
    }
  g_array_sort (pairs, pair_compare);
  return pairs;
}

static void
match (Merge *m, GArray *pairs)
{
  for (guint k = 0; k < pairs->len; k++)
    {
      const Pair *p = &g_array_index (pairs, Pair, k);
      Piece *a = piece (m, p->a), *b = piece (m, p->b);
      if (a->next >= 0 || b->prev >= 0)
        continue;
      a->next = p->b;
      b->prev = p->a;
    }
}

/* Cuts chains at necks: a slice whose cross-section is a local minimum and
 * smaller than split_ratio of the largest cross-section on either side is
 * where two objects stacked in Z touch (round nuclei meet pole to pole). The
 * neck slice stays with its smaller neighbour, whose pole it continues. */
static void
split_necks (Merge *m)
{
  if (m->p->split_ratio <= 0)
    return;
  g_autoptr (GArray) chain = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autoptr (GArray) suffix = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint i = 0; i < m->pieces->len; i++)
    {
      if (piece (m, (gint) i)->prev >= 0)
        continue;
      g_array_set_size (chain, 0);
      for (gint k = (gint) i; k >= 0; k = piece (m, k)->next)
        g_array_append_val (chain, k);
      guint len = chain->len;
      if (len < 3)
        continue;
      g_array_set_size (suffix, len);
      guint64 *suf = (guint64 *) suffix->data;
      for (guint k = len; k-- > 0;)
        {
          guint64 sz = piece (m, g_array_index (chain, gint, k))->size;
          suf[k] = k + 1 < len ? MAX (suf[k + 1], sz) : sz;
        }
      /* the segment being cut starts at @start; @prefix is its widest slice before k */
      guint start = 0;
      guint64 prefix = piece (m, g_array_index (chain, gint, 0))->size;
      for (guint k = 1; k + 1 < len; k++)
        {
          Piece *before = piece (m, g_array_index (chain, gint, k - 1));
          Piece *here = piece (m, g_array_index (chain, gint, k));
          Piece *after = piece (m, g_array_index (chain, gint, k + 1));
          if (k == start)
            {
              prefix = here->size;
              continue;
            }
          double limit = m->p->split_ratio * (double) MIN (prefix, suf[k + 1]);
          if (here->size <= before->size && here->size <= after->size && (double) here->size < limit)
            {
              if (before->size > after->size)
                {
                  before->next = -1;
                  here->prev = -1;
                  start = k;
                  prefix = here->size;
                }
              else
                {
                  here->next = -1;
                  after->prev = -1;
                  start = k + 1;
                }
              continue;
            }
          prefix = MAX (prefix, here->size);
        }
    }
}

/* A piece matched nowhere that lies mostly inside a matched piece of the
 * neighbouring slice is a fragment of that object's cross-section. */
static void
absorb_fragments (Merge *m, GArray *pairs)
{
  for (guint k = 0; k < pairs->len; k++)
    {
      const Pair *p = &g_array_index (pairs, Pair, k);
      Piece *a = piece (m, p->a), *b = piece (m, p->b);
      gboolean a_alone = a->next < 0 && a->prev < 0 && !a->absorbed;
      gboolean b_alone = b->next < 0 && b->prev < 0 && !b->absorbed;
      double ov = (double) p->overlap;
      if (a_alone && !b_alone && ov >= m->p->min_overlap * (double) a->size)
        {
          a->absorbed = TRUE;
          uf_union (m->uf, (guint) p->a, (guint) p->b);
        }
      else if (b_alone && !a_alone && ov >= m->p->min_overlap * (double) b->size)
        {
          b->absorbed = TRUE;
          uf_union (m->uf, (guint) p->a, (guint) p->b);
        }
    }
}

gboolean
usam_volume_merge (const guint32 *slices, guint width, guint height, guint depth,
                   const UsamVolumeMergeParams *params, guint32 *out, guint *n_objects, GCancellable *cancellable,
                   GError **error)
{
  if (width == 0 || height == 0 || depth == 0 || !(params->min_overlap > 0 && params->min_overlap <= 1) ||
      params->max_gap > 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "volume merge: a %u × %u × %u volume, min_overlap %g (0 < … ≤ 1), max_gap %u (0 or 1)", width,
                   height, depth, params->min_overlap, params->max_gap);
      return FALSE;
    }
  Merge m = { slices, (gsize) width * height, depth, params, NULL, NULL, NULL, NULL };
  m.pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  m.index = g_new0 (GHashTable *, depth);
  m.fills = g_array_new (FALSE, FALSE, sizeof (Pair));
  g_autoptr (GPtrArray) all_pairs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  gboolean ok = TRUE;
  for (guint z = 0; z < depth; z++)
    scan_slice (&m, z);
  m.uf = g_new (guint, MAX (m.pieces->len, 1));
  for (guint i = 0; i < m.pieces->len; i++)
    m.uf[i] = i;
  for (guint z = 0; z + 1 < depth; z++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      GArray *pairs = overlaps (&m, z, z + 1, FALSE);
      match (&m, pairs);
      g_ptr_array_add (all_pairs, pairs);
    }
  for (guint z = 0; ok && params->max_gap && z + 2 < depth; z++)
    {
      g_autoptr (GArray) pairs = overlaps (&m, z, z + 2, TRUE);
      for (guint k = 0; k < pairs->len; k++)
        {
          const Pair *p = &g_array_index (pairs, Pair, k);
          Piece *a = piece (&m, p->a), *b = piece (&m, p->b);
          if (a->next >= 0 || b->prev >= 0)
            continue;
          a->next = p->b;
          b->prev = p->a;
          g_array_append_val (m.fills, *p);
        }
    }
  if (ok)
    {
      split_necks (&m);
      for (guint i = 0; i < m.pieces->len; i++)
        if (piece (&m, (gint) i)->next >= 0)
          uf_union (m.uf, i, (guint) piece (&m, (gint) i)->next);
      /* gap fills whose link a neck cut are not filled */
      for (guint f = m.fills->len; f-- > 0;)
        if (piece (&m, g_array_index (m.fills, Pair, f).a)->next != g_array_index (m.fills, Pair, f).b)
          g_array_remove_index (m.fills, f);
      for (guint z = 0; z + 1 < depth; z++)
        absorb_fragments (&m, all_pairs->pdata[z]);
    }

  if (ok)
    {
      /* Each object's extent and size, on its union-find root. */
      guint n = m.pieces->len;
      g_autofree guint *zmin = g_new (guint, MAX (n, 1));
      g_autofree guint *zmax = g_new0 (guint, MAX (n, 1));
      g_autofree guint64 *size = g_new0 (guint64, MAX (n, 1));
      g_autofree guint32 *final = g_new0 (guint32, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        zmin[i] = G_MAXUINT;
      for (guint i = 0; i < n; i++)
        {
          guint r = uf_find (m.uf, i);
          Piece *p = piece (&m, (gint) i);
          zmin[r] = MIN (zmin[r], p->z);
          zmax[r] = MAX (zmax[r], p->z);
          size[r] += p->size;
        }
      /* Paint roots + 1, fill the bridged slices, then number in order of
       * first voxel, dropping what is too thin or small. */
      gsize total = m.plane * depth;
      for (guint z = 0; z < depth; z++)
        {
          const guint32 *s = slices + z * m.plane;
          guint32 *o = out + z * m.plane;
          guint32 last = 0, value = 0;
          for (gsize i = 0; i < m.plane; i++)
            {
              if (s[i] != last)
                {
                  last = s[i];
                  guint k = last ? GPOINTER_TO_UINT (g_hash_table_lookup (m.index[z], GUINT_TO_POINTER (last))) : 0;
                  value = k ? uf_find (m.uf, k - 1) + 1 : 0;
                }
              o[i] = value;
            }
        }
      for (guint f = 0; f < m.fills->len; f++)
        {
          const Pair *p = &g_array_index (m.fills, Pair, f);
          Piece *a = piece (&m, p->a), *b = piece (&m, p->b);
          const guint32 *sa = slices + a->z * m.plane, *sb = slices + b->z * m.plane;
          guint32 *o = out + (a->z + 1) * m.plane;
          guint32 value = uf_find (m.uf, (guint) p->a) + 1;
          for (gsize i = 0; i < m.plane; i++)
            if (o[i] == 0 && sa[i] == a->label && sb[i] == b->label)
              {
                o[i] = value;
                size[value - 1]++;
              }
        }
      guint next_id = 0;
      for (gsize i = 0; i < total; i++)
        {
          if (!out[i])
            continue;
          guint r = out[i] - 1;
          if (!final[r])
            {
              gboolean keep = zmax[r] - zmin[r] + 1 >= params->min_z_extent && size[r] >= params->min_size;
              final[r] = keep ? ++next_id : G_MAXUINT32;
            }
          out[i] = final[r] == G_MAXUINT32 ? 0 : final[r];
        }
      *n_objects = next_id;
    }

  for (guint z = 0; z < depth; z++)
    g_clear_pointer (&m.index[z], g_hash_table_unref);
  g_free (m.index);
  g_free (m.uf);
  g_array_unref (m.pieces);
  g_array_unref (m.fills);
  return ok;
}
