/* usam-tracking.c — greedy overlap/distance linking with divisions and gap
 * closing (see usam-tracking.h for the rules). */
#include "usam-tracking.h"

#include <math.h>
#include <string.h>

#include "usam-ctc.h"
#include "usam-error.h"

/* Overlaps are counted in a hash keyed by both frame-local object indices
 * packed into one pointer-sized integer. */
G_STATIC_ASSERT (sizeof (gsize) >= 8);

UsamTrackingParams
usam_tracking_params_default (void)
{
  return (UsamTrackingParams) {
    .max_distance = 30,
    .max_gap = 1,
    .divisions = TRUE,
    .division_max_daughter = 0.9,
    .division_min_total = 0.5,
    .division_max_total = 1.6,
    .min_size = 1,
  };
}

typedef struct
{
  guint32 label; /* the per-frame label */
  guint t;
  guint64 size;
  double sz, sy, sx; /* coordinate sums, then the centroid */
  gint next;   /* the object at t + 1 that continues this one's track, or -1 */
  gint prev;   /* the object at t − 1 whose track this one continues, or -1 */
  gint parent; /* the mother (division) or the object before a gap, or -1 */
  gint pending; /* a first daughter candidate while looking for a second */
  gboolean divides;
  gboolean ends_gap; /* joined to a later track across a gap */
  guint track; /* index into the track table */
} Obj;

typedef struct
{
  gint a, b; /* global object indices */
  double cost;
} Cand;

typedef struct
{
  UsamImage *labels;
  const UsamTrackingParams *p;
  guint w, h, d, frames;
  gsize n;
  GArray *objs;        /* Obj, all frames */
  guint *first;        /* per frame: index of its first object in @objs */
  guint *count;        /* per frame: how many */
  GHashTable **index;  /* per frame: label → global index + 1 */
} Linker;

static void
linker_clear (Linker *L)
{
  g_clear_pointer (&L->objs, g_array_unref);
  if (L->index)
    for (guint t = 0; t < L->frames; t++)
      g_clear_pointer (&L->index[t], g_hash_table_unref);
  g_clear_pointer (&L->index, g_free);
  g_clear_pointer (&L->first, g_free);
  g_clear_pointer (&L->count, g_free);
}

static inline Obj *
obj (Linker *L, gint i)
{
  return &g_array_index (L->objs, Obj, i);
}

/* The objects of frame @t: sizes and centroids; small ones dropped. */
static void
scan_frame (Linker *L, guint t, const guint32 *buf)
{
  g_autoptr (GHashTable) local = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) found = g_array_new (FALSE, TRUE, sizeof (Obj));
  guint32 last = 0;
  guint li = 0;
  gsize plane = (gsize) L->w * L->h;
  for (gsize i = 0; i < L->n; i++)
    {
      guint32 v = buf[i];
      if (!v)
        continue;
      if (v != last)
        {
          last = v;
          li = GPOINTER_TO_UINT (g_hash_table_lookup (local, GUINT_TO_POINTER (v)));
          if (li == 0)
            {
              Obj o = { .label = v, .t = t, .next = -1, .prev = -1, .parent = -1, .pending = -1 };
              g_array_append_val (found, o);
              li = found->len;
              g_hash_table_insert (local, GUINT_TO_POINTER (v), GUINT_TO_POINTER (li));
            }
        }
      Obj *o = &g_array_index (found, Obj, li - 1);
      o->size++;
      o->sz += (double) (i / plane);
      o->sy += (double) (i % plane / L->w);
      o->sx += (double) (i % L->w);
    }
  L->first[t] = L->objs->len;
  L->index[t] = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint k = 0; k < found->len; k++)
    {
      Obj *o = &g_array_index (found, Obj, k);
      if (o->size < L->p->min_size)
        continue;
      o->sz /= (double) o->size;
      o->sy /= (double) o->size;
      o->sx /= (double) o->size;
      g_array_append_val (L->objs, *o);
      g_hash_table_insert (L->index[t], GUINT_TO_POINTER (o->label), GUINT_TO_POINTER (L->objs->len));
    }
  L->count[t] = L->objs->len - L->first[t];
}

static double
distance (const Obj *a, const Obj *b)
{
  double dz = a->sz - b->sz, dy = a->sy - b->sy, dx = a->sx - b->sx;
  return sqrt (dz * dz + dy * dy + dx * dx);
}

static int
cand_compare (gconstpointer pa, gconstpointer pb)
{
  const Cand *a = pa, *b = pb;
  if (a->cost != b->cost)
    return a->cost < b->cost ? -1 : 1;
  /* ties in a fixed order, so results never depend on the sort */
  if (a->a != b->a)
    return a->a < b->a ? -1 : 1;
  return a->b < b->b ? -1 : a->b > b->b;
}

/* Candidate links between frames @t and @t + 1, cheapest first. */
static GArray *
candidates (Linker *L, guint t, const guint32 *ba, const guint32 *bb)
{
  g_autoptr (GHashTable) overlap = g_hash_table_new (g_direct_hash, g_direct_equal);
  GHashTable *ia = L->index[t], *ib = L->index[t + 1];
  guint32 la = 0, lb = 0;
  guint ka = 0, kb = 0;
  for (gsize i = 0; i < L->n; i++)
    {
      if (!ba[i] || !bb[i])
        continue;
      if (ba[i] != la)
        ka = GPOINTER_TO_UINT (g_hash_table_lookup (ia, GUINT_TO_POINTER (la = ba[i])));
      if (bb[i] != lb)
        kb = GPOINTER_TO_UINT (g_hash_table_lookup (ib, GUINT_TO_POINTER (lb = bb[i])));
      if (!ka || !kb)
        continue;
      gpointer key = GSIZE_TO_POINTER (((gsize) (ka - 1) << 32) | (kb - 1));
      g_hash_table_insert (overlap, key, GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (overlap, key)) + 1));
    }
  GArray *cands = g_array_new (FALSE, FALSE, sizeof (Cand));
  double maxd = L->p->max_distance;
  for (guint i = 0; i < L->count[t]; i++)
    for (guint j = 0; j < L->count[t + 1]; j++)
      {
        gint a = (gint) (L->first[t] + i), b = (gint) (L->first[t + 1] + j);
        const Obj *oa = obj (L, a), *ob = obj (L, b);
        /* motion compensation: a cell that moved keeps going */
        double dist = distance (oa, ob);
        if (oa->prev >= 0)
          {
            const Obj *op = obj (L, oa->prev);
            Obj predicted = *oa;
            predicted.sz += oa->sz - op->sz;
            predicted.sy += oa->sy - op->sy;
            predicted.sx += oa->sx - op->sx;
            dist = MIN (dist, distance (&predicted, ob));
          }
        gsize key = ((gsize) (guint) a << 32) | (guint) b;
        double ov = (double) GPOINTER_TO_SIZE (g_hash_table_lookup (overlap, GSIZE_TO_POINTER (key)));
        if (ov == 0 && dist > maxd)
          continue;
        double iou = ov / ((double) oa->size + (double) ob->size - ov);
        Cand c = { a, b, (1.0 - iou) + dist / maxd };
        g_array_append_val (cands, c);
      }
  g_array_sort (cands, cand_compare);
  return cands;
}

static gboolean
division_fits (Linker *L, gint mother, gint d1, gint d2)
{
  double m = (double) obj (L, mother)->size, s1 = (double) obj (L, d1)->size, s2 = (double) obj (L, d2)->size;
  const UsamTrackingParams *p = L->p;
  return s1 <= p->division_max_daughter * m && s2 <= p->division_max_daughter * m &&
         s1 + s2 >= p->division_min_total * m && s1 + s2 <= p->division_max_total * m;
}

static void
divide (Linker *L, gint mother, gint d1, gint d2)
{
  Obj *m = obj (L, mother);
  if (m->next >= 0)
    obj (L, m->next)->prev = -1;
  m->next = -1;
  m->divides = TRUE;
  obj (L, d1)->parent = mother;
  obj (L, d2)->parent = mother;
}

static void
link_pair (Linker *L, GArray *cands)
{
  for (guint k = 0; k < cands->len; k++)
    {
      const Cand *c = &g_array_index (cands, Cand, k);
      Obj *a = obj (L, c->a), *b = obj (L, c->b);
      if (a->next < 0 && b->prev < 0)
        {
          a->next = c->b;
          b->prev = c->a;
        }
    }
  if (!L->p->divisions)
    return;
  /* Cheapest first: a free object becomes a daughter of the mother it is
   * closest to, paired with her successor or with an earlier free one. */
  for (guint k = 0; k < cands->len; k++)
    {
      const Cand *c = &g_array_index (cands, Cand, k);
      Obj *a = obj (L, c->a), *b = obj (L, c->b);
      if (a->divides || b->prev >= 0 || b->parent >= 0)
        continue;
      if (a->next >= 0 && division_fits (L, c->a, a->next, c->b))
        divide (L, c->a, a->next, c->b);
      else if (a->next < 0 && a->pending >= 0 && obj (L, a->pending)->parent < 0 &&
               obj (L, a->pending)->prev < 0 && division_fits (L, c->a, a->pending, c->b))
        divide (L, c->a, a->pending, c->b);
      else if (a->next < 0 && (a->pending < 0 || obj (L, a->pending)->parent >= 0))
        a->pending = c->b;
    }
}

/* Joins track ends to track starts up to max_gap frames later. */
static void
close_gaps (Linker *L)
{
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (gint));
  for (guint i = 0; i < L->objs->len; i++)
    {
      Obj *o = obj (L, (gint) i);
      if (o->next < 0 && !o->divides && o->t + 2 < L->frames)
        g_array_append_val (ends, i);
      if (o->prev < 0 && o->parent < 0 && o->t >= 2)
        g_array_append_val (starts, i);
    }
  g_autoptr (GArray) cands = g_array_new (FALSE, FALSE, sizeof (Cand));
  for (guint i = 0; i < ends->len; i++)
    for (guint j = 0; j < starts->len; j++)
      {
        gint e = g_array_index (ends, gint, i), s = g_array_index (starts, gint, j);
        Obj *oe = obj (L, e), *os = obj (L, s);
        if (os->t <= oe->t + 1 || os->t - oe->t - 1 > L->p->max_gap)
          continue;
        double reach = L->p->max_distance * (os->t - oe->t);
        double dist = distance (oe, os);
        if (dist > reach)
          continue;
        Cand c = { e, s, dist / reach };
        g_array_append_val (cands, c);
      }
  g_array_sort (cands, cand_compare);
  for (guint k = 0; k < cands->len; k++)
    {
      const Cand *c = &g_array_index (cands, Cand, k);
      Obj *oe = obj (L, c->a), *os = obj (L, c->b);
      if (oe->ends_gap || os->parent >= 0)
        continue;
      oe->ends_gap = TRUE;
      os->parent = c->a;
    }
}

gboolean
usam_tracking_link (UsamImage *labels, const UsamTrackingParams *params, UsamImage **tracked, GArray **tracks,
                    GCancellable *cancellable, GError **error)
{
  if (!(params->max_distance > 0) || !(params->division_max_daughter > 0) ||
      !(params->division_min_total <= params->division_max_total))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "tracking: max_distance must be positive and the division size ratios ordered");
      return FALSE;
    }
  Linker L = { 0 };
  L.labels = labels;
  L.p = params;
  L.w = usam_image_get_width (labels);
  L.h = usam_image_get_height (labels);
  L.d = usam_image_get_depth (labels);
  L.frames = usam_image_get_frames (labels);
  L.n = (gsize) L.w * L.h * L.d;
  L.objs = g_array_new (FALSE, FALSE, sizeof (Obj));
  L.first = g_new0 (guint, L.frames);
  L.count = g_new0 (guint, L.frames);
  L.index = g_new0 (GHashTable *, L.frames);
  g_autofree guint32 *prev = g_new (guint32, L.n);
  g_autofree guint32 *cur = g_new (guint32, L.n);
  gboolean ok = TRUE;
  for (guint t = 0; ok && t < L.frames; t++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !usam_ctc_get_frame_labels (labels, t, cur, error))
        {
          ok = FALSE;
          break;
        }
      scan_frame (&L, t, cur);
      if (t > 0)
        {
          g_autoptr (GArray) cands = candidates (&L, t - 1, prev, cur);
          link_pair (&L, cands);
        }
      guint32 *swap = prev;
      prev = cur;
      cur = swap;
    }
  if (!ok)
    {
      linker_clear (&L);
      return FALSE;
    }
  if (params->max_gap > 0)
    close_gaps (&L);

  /* Track labels in order of first appearance. */
  g_autoptr (GArray) table = g_array_new (FALSE, FALSE, sizeof (UsamCtcTrack));
  for (guint i = 0; i < L.objs->len; i++)
    {
      Obj *o = obj (&L, (gint) i);
      if (o->prev >= 0)
        {
          o->track = obj (&L, o->prev)->track;
          g_array_index (table, UsamCtcTrack, o->track).end = o->t;
          continue;
        }
      UsamCtcTrack track = { table->len + 1, o->t, o->t, 0 };
      if (o->parent >= 0)
        track.parent = g_array_index (table, UsamCtcTrack, obj (&L, o->parent)->track).label;
      o->track = table->len;
      g_array_append_val (table, track);
    }

  g_autoptr (UsamImage) out = usam_image_new (USAM_PIXEL_TYPE_U32, L.w, L.h, 1, L.d, L.frames, error);
  for (guint t = 0; out && t < L.frames; t++)
    {
      if (!usam_ctc_get_frame_labels (labels, t, cur, error))
        {
          g_clear_object (&out);
          break;
        }
      guint32 *dst = usam_image_get_plane_mutable (out, t, 0);
      guint32 last = 0, value = 0;
      for (gsize i = 0; i < L.n; i++)
        {
          if (cur[i] != last)
            {
              last = cur[i];
              guint k = last ? GPOINTER_TO_UINT (g_hash_table_lookup (L.index[t], GUINT_TO_POINTER (last))) : 0;
              value = k ? g_array_index (table, UsamCtcTrack, obj (&L, (gint) k - 1)->track).label : 0;
            }
          dst[i] = value;
        }
    }
  linker_clear (&L);
  if (!out)
    return FALSE;
  *tracked = g_steal_pointer (&out);
  *tracks = g_steal_pointer (&table);
  return TRUE;
}
