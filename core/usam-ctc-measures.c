/* usam-ctc-measures.c — the Cell Tracking Challenge measures SEG, DET and
 * TRA (see usam-ctc.h for the rules, which follow java-ctcmetrics'
 * TrackDataCache, TRA, DET and SEG classes). */
#include "usam-ctc.h"

#include <math.h>
#include <string.h>

#include "usam-error.h"

/* Intersections are counted in a hash keyed by the pair of object indices
 * packed into one pointer-sized integer. */
G_STATIC_ASSERT (sizeof (gsize) >= 8);

/* ---- matching ---- */

/* One time point, as the reference's TemporalLevel: the objects of both
 * images, their sizes, and which reference object each result object covers
 * by more than half. */
typedef struct
{
  GArray *gt_lab, *res_lab;   /* guint32 */
  GArray *gt_size, *res_size; /* guint64 */
  GHashTable *gt_index, *res_index; /* label → index + 1 */
  gint *gt_match;             /* per reference object: the result index, or -1 */
  guint64 *gt_overlap;        /* |r ∩ g| with that match */
  guint *res_n_match;         /* per result object: how many reference objects it matches */
  gint *res_match;            /* the last of them */
} Level;

static void
level_clear (Level *lv)
{
  g_clear_pointer (&lv->gt_lab, g_array_unref);
  g_clear_pointer (&lv->res_lab, g_array_unref);
  g_clear_pointer (&lv->gt_size, g_array_unref);
  g_clear_pointer (&lv->res_size, g_array_unref);
  g_clear_pointer (&lv->gt_index, g_hash_table_unref);
  g_clear_pointer (&lv->res_index, g_hash_table_unref);
  g_clear_pointer (&lv->gt_match, g_free);
  g_clear_pointer (&lv->gt_overlap, g_free);
  g_clear_pointer (&lv->res_n_match, g_free);
  g_clear_pointer (&lv->res_match, g_free);
}

static guint
pair_hash (gconstpointer key)
{
  guint64 k = GPOINTER_TO_SIZE (key);
  k ^= k >> 29;
  k *= G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  return (guint) (k >> 32);
}

/* Index of @label in @labels/@index, adding it when new. */
static guint
object_index (GArray *labels, GArray *sizes, GHashTable *index, guint32 label)
{
  guint k = GPOINTER_TO_UINT (g_hash_table_lookup (index, GUINT_TO_POINTER (label)));
  if (k == 0)
    {
      guint64 zero = 0;
      g_array_append_val (labels, label);
      g_array_append_val (sizes, zero);
      k = labels->len;
      g_hash_table_insert (index, GUINT_TO_POINTER (label), GUINT_TO_POINTER (k));
    }
  return k - 1;
}

static void
level_build (Level *lv, const guint32 *gt, const guint32 *res, gsize n)
{
  lv->gt_lab = g_array_new (FALSE, FALSE, sizeof (guint32));
  lv->res_lab = g_array_new (FALSE, FALSE, sizeof (guint32));
  lv->gt_size = g_array_new (FALSE, FALSE, sizeof (guint64));
  lv->res_size = g_array_new (FALSE, FALSE, sizeof (guint64));
  lv->gt_index = g_hash_table_new (g_direct_hash, g_direct_equal);
  lv->res_index = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) inter = g_hash_table_new (pair_hash, g_direct_equal);
  /* Objects come in runs along rows: remember the last lookup. */
  guint32 last_g = 0, last_r = 0;
  guint gi = 0, ri = 0;
  for (gsize i = 0; i < n; i++)
    {
      guint32 g = gt[i], r = res[i];
      if (g)
        {
          if (g != last_g)
            gi = object_index (lv->gt_lab, lv->gt_size, lv->gt_index, last_g = g);
          g_array_index (lv->gt_size, guint64, gi)++;
        }
      if (r)
        {
          if (r != last_r)
            ri = object_index (lv->res_lab, lv->res_size, lv->res_index, last_r = r);
          g_array_index (lv->res_size, guint64, ri)++;
        }
      if (g && r)
        {
          gpointer key = GSIZE_TO_POINTER (((gsize) gi << 32) | ri);
          gsize count = GPOINTER_TO_SIZE (g_hash_table_lookup (inter, key));
          g_hash_table_insert (inter, key, GSIZE_TO_POINTER (count + 1));
        }
    }
  guint n_gt = lv->gt_lab->len, n_res = lv->res_lab->len;
  lv->gt_match = g_new (gint, MAX (n_gt, 1));
  lv->gt_overlap = g_new0 (guint64, MAX (n_gt, 1));
  lv->res_n_match = g_new0 (guint, MAX (n_res, 1));
  lv->res_match = g_new (gint, MAX (n_res, 1));
  for (guint i = 0; i < n_gt; i++)
    lv->gt_match[i] = -1;
  for (guint j = 0; j < n_res; j++)
    lv->res_match[j] = -1;
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, inter);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize k = GPOINTER_TO_SIZE (key);
      guint g = (guint) (k >> 32), r = (guint) (k & G_MAXUINT32);
      guint64 count = GPOINTER_TO_SIZE (value);
      /* More than half of the reference object: at most one r per g. */
      if ((double) count / (double) g_array_index (lv->gt_size, guint64, g) > 0.5)
        {
          lv->gt_match[g] = (gint) r;
          lv->gt_overlap[g] = count;
          lv->res_n_match[r]++;
          lv->res_match[r] = (gint) g;
        }
    }
}

/* ---- SEG ---- */

static void
seg_accumulate (const Level *lv, double *sum, guint *count)
{
  for (guint i = 0; i < lv->gt_lab->len; i++)
    {
      if (lv->gt_match[i] >= 0)
        {
          double inter = (double) lv->gt_overlap[i];
          double uni = (double) g_array_index (lv->gt_size, guint64, i) +
                       (double) g_array_index (lv->res_size, guint64, lv->gt_match[i]) - inter;
          *sum += inter / uni;
        }
      (*count)++;
    }
}

static gboolean
same_shape (UsamImage *a, UsamImage *b, GError **error)
{
  if (usam_image_get_width (a) == usam_image_get_width (b) && usam_image_get_height (a) == usam_image_get_height (b) &&
      usam_image_get_depth (a) == usam_image_get_depth (b) && usam_image_get_frames (a) == usam_image_get_frames (b))
    return TRUE;
  g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
               "the reference (%u×%u×%u, %u frames) and the result (%u×%u×%u, %u frames) differ in shape",
               usam_image_get_width (a), usam_image_get_height (a), usam_image_get_depth (a),
               usam_image_get_frames (a), usam_image_get_width (b), usam_image_get_height (b),
               usam_image_get_depth (b), usam_image_get_frames (b));
  return FALSE;
}

gboolean
usam_ctc_measure_seg (UsamImage *gt_seg, UsamImage *result, double *seg, guint *n_objects, GError **error)
{
  if (!same_shape (gt_seg, result, error))
    return FALSE;
  gsize n = (gsize) usam_image_get_width (gt_seg) * usam_image_get_height (gt_seg) * usam_image_get_depth (gt_seg);
  g_autofree guint32 *gt = g_new (guint32, n);
  g_autofree guint32 *res = g_new (guint32, n);
  double sum = 0;
  guint count = 0;
  for (guint t = 0; t < usam_image_get_frames (gt_seg); t++)
    {
      if (!usam_ctc_get_frame_labels (gt_seg, t, gt, error) || !usam_ctc_get_frame_labels (result, t, res, error))
        return FALSE;
      Level lv = { 0 };
      level_build (&lv, gt, res, n);
      seg_accumulate (&lv, &sum, &count);
      level_clear (&lv);
    }
  *seg = count ? sum / count : NAN;
  if (n_objects)
    *n_objects = count;
  return TRUE;
}

/* ---- TRA and DET ---- */

typedef struct
{
  Level *levels;
  guint n_levels;
  GHashTable *gt_tracks, *res_tracks; /* label → const UsamCtcTrack * */
} Graphs;

static GHashTable *
track_table (const UsamCtcTrack *tracks, guint n, guint n_levels, const char *what, GError **error)
{
  g_autoptr (GHashTable) table = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < n; i++)
    {
      if (tracks[i].label == 0 || tracks[i].begin > tracks[i].end || tracks[i].end >= n_levels)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s track %u (frames %u to %u) lies outside the sequence of %u frames", what, tracks[i].label,
                       tracks[i].begin, tracks[i].end, n_levels);
          return NULL;
        }
      if (!g_hash_table_insert (table, GUINT_TO_POINTER (tracks[i].label), (gpointer) &tracks[i]))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s track %u appears twice", what, tracks[i].label);
          return NULL;
        }
    }
  for (guint i = 0; i < n; i++)
    {
      const UsamCtcTrack *parent = g_hash_table_lookup (table, GUINT_TO_POINTER (tracks[i].parent));
      if (tracks[i].parent && (!parent || parent->end >= tracks[i].begin))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s track %u has parent %u, which %s", what, tracks[i].label, tracks[i].parent,
                       parent ? "does not end before it begins" : "is not in the track table");
          return NULL;
        }
    }
  return g_steal_pointer (&table);
}

/* GetResMatch: how many reference objects the result object @label at
 * @level matches, and (when one) which. A label the image lacks counts as
 * one match to nothing (-1), so that an edge to it is redundant. */
static guint
res_match (const Level *lv, guint32 label, gint *gt_index)
{
  guint k = GPOINTER_TO_UINT (g_hash_table_lookup (lv->res_index, GUINT_TO_POINTER (label)));
  if (k == 0)
    {
      *gt_index = -1;
      return 1;
    }
  *gt_index = lv->res_match[k - 1];
  return lv->res_n_match[k - 1];
}

/* GetGTMatch: the result object the reference object @label matches, or -1. */
static gint
gt_match (const Level *lv, guint32 label)
{
  guint k = GPOINTER_TO_UINT (g_hash_table_lookup (lv->gt_index, GUINT_TO_POINTER (label)));
  return k ? lv->gt_match[k - 1] : -1;
}

/* Whether @tracks has an edge from object @a at @la to object @b at @lb
 * (labels), and whether it is a parent → daughter edge. */
static gboolean
edge_exists (GHashTable *tracks, guint la, guint32 a, guint lb, guint32 b, gboolean *parental)
{
  if (a == b)
    {
      *parental = FALSE;
      return la + 1 == lb;
    }
  const UsamCtcTrack *parent = g_hash_table_lookup (tracks, GUINT_TO_POINTER (a));
  const UsamCtcTrack *child = g_hash_table_lookup (tracks, GUINT_TO_POINTER (b));
  *parental = TRUE;
  return parent && child && parent->end == la && child->begin == lb && child->parent == a;
}

/* A result edge (@la, @a) → (@lb, @b): ED when the reference lacks it, EC
 * when the reference's edge is of the other kind. */
static void
check_res_edge (const Graphs *g, guint la, guint32 a, guint lb, guint32 b, gboolean res_parental,
                UsamCtcScores *s)
{
  gint ga, gb;
  if (res_match (&g->levels[la], a, &ga) != 1 || res_match (&g->levels[lb], b, &gb) != 1)
    return;
  gboolean parental = FALSE;
  if (ga >= 0 && gb >= 0 &&
      edge_exists (g->gt_tracks, la, g_array_index (g->levels[la].gt_lab, guint32, ga), lb,
                   g_array_index (g->levels[lb].gt_lab, guint32, gb), &parental))
    {
      if (parental != res_parental)
        s->n_ec++;
    }
  else
    s->n_ed++;
}

/* A reference edge: EA unless both ends match result objects uniquely and
 * the result has an edge between them. */
static void
check_gt_edge (const Graphs *g, guint la, guint32 a, guint lb, guint32 b, UsamCtcScores *s)
{
  gint ra = gt_match (&g->levels[la], a), rb = gt_match (&g->levels[lb], b);
  gboolean parental;
  if (ra >= 0 && rb >= 0 && g->levels[la].res_n_match[ra] == 1 && g->levels[lb].res_n_match[rb] == 1 &&
      edge_exists (g->res_tracks, la, g_array_index (g->levels[la].res_lab, guint32, ra), lb,
                   g_array_index (g->levels[lb].res_lab, guint32, rb), &parental))
    return;
  s->n_ea++;
}

static void
count_edges (const Graphs *g, const UsamCtcTrack *gt_tracks, guint n_gt, const UsamCtcTrack *res_tracks,
             guint n_res, UsamCtcScores *s)
{
  for (guint i = 0; i < n_res; i++)
    {
      const UsamCtcTrack *tr = &res_tracks[i];
      if (tr->parent)
        {
          const UsamCtcTrack *p = g_hash_table_lookup (g->res_tracks, GUINT_TO_POINTER (tr->parent));
          check_res_edge (g, p->end, p->label, tr->begin, tr->label, TRUE, s);
        }
      for (guint t = tr->begin; t < tr->end; t++)
        check_res_edge (g, t, tr->label, t + 1, tr->label, FALSE, s);
    }
  for (guint i = 0; i < n_gt; i++)
    {
      const UsamCtcTrack *tr = &gt_tracks[i];
      if (tr->parent)
        {
          const UsamCtcTrack *p = g_hash_table_lookup (g->gt_tracks, GUINT_TO_POINTER (tr->parent));
          check_gt_edge (g, p->end, p->label, tr->begin, tr->label, s);
        }
      for (guint t = tr->begin; t < tr->end; t++)
        check_gt_edge (g, t, tr->label, t + 1, tr->label, s);
    }
}

gboolean
usam_ctc_measure_tracking (UsamImage *gt_markers, const UsamCtcTrack *gt_tracks, guint n_gt_tracks,
                           UsamImage *result, const UsamCtcTrack *res_tracks, guint n_res_tracks,
                           UsamCtcScores *scores, GError **error)
{
  if (!same_shape (gt_markers, result, error))
    return FALSE;
  UsamCtcScores s = { 0 };
  s.seg = NAN;
  s.n_frames = usam_image_get_frames (gt_markers);
  Graphs g = { 0 };
  g.n_levels = s.n_frames;
  g.gt_tracks = track_table (gt_tracks, n_gt_tracks, g.n_levels, "reference", error);
  if (!g.gt_tracks)
    return FALSE;
  g.res_tracks = track_table (res_tracks, n_res_tracks, g.n_levels, "result", error);
  if (!g.res_tracks)
    {
      g_hash_table_unref (g.gt_tracks);
      return FALSE;
    }
  gsize n = (gsize) usam_image_get_width (gt_markers) * usam_image_get_height (gt_markers) *
            usam_image_get_depth (gt_markers);
  g_autofree guint32 *gt = g_new (guint32, n);
  g_autofree guint32 *res = g_new (guint32, n);
  g.levels = g_new0 (Level, g.n_levels);
  gboolean ok = TRUE;
  guint64 gt_objects = 0;
  for (guint t = 0; ok && t < g.n_levels; t++)
    {
      ok = usam_ctc_get_frame_labels (gt_markers, t, gt, error) && usam_ctc_get_frame_labels (result, t, res, error);
      if (!ok)
        break;
      Level *lv = &g.levels[t];
      level_build (lv, gt, res, n);
      gt_objects += lv->gt_lab->len;
      for (guint i = 0; i < lv->gt_lab->len; i++)
        s.n_fn += lv->gt_match[i] < 0;
      for (guint j = 0; j < lv->res_lab->len; j++)
        {
          if (lv->res_n_match[j] == 0)
            s.n_fp++;
          else
            s.n_split += lv->res_n_match[j] - 1;
        }
    }
  if (ok)
    count_edges (&g, gt_tracks, n_gt_tracks, res_tracks, n_res_tracks, &s);
  for (guint t = 0; t < g.n_levels; t++)
    level_clear (&g.levels[t]);
  g_free (g.levels);
  g_hash_table_unref (g.gt_tracks);
  g_hash_table_unref (g.res_tracks);
  if (!ok)
    return FALSE;
  if (gt_objects == 0 || n_gt_tracks == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "the reference holds no %s",
                   gt_objects == 0 ? "objects" : "tracks");
      return FALSE;
    }

  s.aogm_det = USAM_CTC_WEIGHT_NS * s.n_split + USAM_CTC_WEIGHT_FN * s.n_fn + USAM_CTC_WEIGHT_FP * s.n_fp;
  s.aogm = s.aogm_det + USAM_CTC_WEIGHT_ED * s.n_ed + USAM_CTC_WEIGHT_EA * s.n_ea + USAM_CTC_WEIGHT_EC * s.n_ec;
  s.aogm_det_empty = USAM_CTC_WEIGHT_FN * (double) gt_objects;
  /* AOGM₀ counts nodes and edges from the track table, as the reference. */
  guint64 edges = 0, parents = 0;
  for (guint i = 0; i < n_gt_tracks; i++)
    {
      edges += gt_tracks[i].end - gt_tracks[i].begin;
      parents += gt_tracks[i].parent != 0;
    }
  s.aogm_empty = USAM_CTC_WEIGHT_FN * (double) (edges + n_gt_tracks) + USAM_CTC_WEIGHT_EA * (double) (edges + parents);
  s.det = 1.0 - MIN (s.aogm_det, s.aogm_det_empty) / s.aogm_det_empty;
  s.tra = 1.0 - MIN (s.aogm, s.aogm_empty) / s.aogm_empty;
  *scores = s;
  return TRUE;
}

/* ---- from folders ---- */

/* "man_segTTT.tif", "man_seg_TTT.tif" or "man_seg_TTT_ZZZ.tif". */
static gboolean
parse_seg_name (const char *name, guint *t, gint *z)
{
  if (!g_str_has_prefix (name, "man_seg") || !g_str_has_suffix (name, ".tif"))
    return FALSE;
  const char *p = name + strlen ("man_seg");
  if (*p == '_')
    p++;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  char *end;
  *t = (guint) g_ascii_strtoull (p, &end, 10);
  *z = -1;
  if (*end == '_' && g_ascii_isdigit (end[1]))
    *z = (gint) g_ascii_strtoull (end + 1, &end, 10);
  return g_str_equal (end, ".tif");
}

static gboolean
evaluate_seg (const char *seg_dir, UsamImage *result, double *seg, guint *n_objects, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (seg_dir, 0, NULL);
  if (!dir)
    {
      *seg = NAN;
      *n_objects = 0;
      return TRUE;
    }
  guint w = usam_image_get_width (result), h = usam_image_get_height (result), d = usam_image_get_depth (result);
  gsize n = (gsize) w * h * d;
  g_autofree guint32 *res = g_new (guint32, n);
  double sum = 0;
  guint count = 0, files = 0;
  const char *name;
  while ((name = g_dir_read_name (dir)))
    {
      guint t;
      gint z;
      if (!parse_seg_name (name, &t, &z))
        continue;
      g_autofree char *path = g_build_filename (seg_dir, name, NULL);
      g_autoptr (UsamImage) gt_image = usam_image_load (path, error);
      if (!gt_image)
        return FALSE;
      guint gd = usam_image_get_depth (gt_image);
      if (t >= usam_image_get_frames (result) || usam_image_get_width (gt_image) != w ||
          usam_image_get_height (gt_image) != h || usam_image_get_frames (gt_image) != 1 ||
          (z < 0 ? gd != d : (gd != 1 || (guint) z >= d)))
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                       "%s: does not fit the result (%u frames of %u×%u×%u)", path, usam_image_get_frames (result), w,
                       h, d);
          return FALSE;
        }
      gsize gn = (gsize) w * h * gd;
      g_autofree guint32 *gt = g_new (guint32, gn);
      if (!usam_ctc_get_frame_labels (gt_image, 0, gt, error) || !usam_ctc_get_frame_labels (result, t, res, error))
        return FALSE;
      Level lv = { 0 };
      level_build (&lv, gt, z < 0 ? res : res + (gsize) z * w * h, gn);
      seg_accumulate (&lv, &sum, &count);
      level_clear (&lv);
      files++;
    }
  if (files > 0 && count == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: the reference segmentation holds no objects",
                   seg_dir);
      return FALSE;
    }
  *seg = count ? sum / count : NAN;
  *n_objects = count;
  return TRUE;
}

gboolean
usam_ctc_evaluate (const char *gt_dir, const char *res_dir, UsamCtcScores *scores, GError **error)
{
  g_autofree char *tra_dir = g_build_filename (gt_dir, "TRA", NULL);
  g_autofree char *seg_dir = g_build_filename (gt_dir, "SEG", NULL);
  g_autofree char *gt_track_path = g_build_filename (tra_dir, "man_track.txt", NULL);
  g_autofree char *res_track_path = g_build_filename (res_dir, "res_track.txt", NULL);
  g_autoptr (UsamImage) markers = usam_ctc_frames_load (tra_dir, "man_track", 0, error);
  if (!markers)
    return FALSE;
  g_autoptr (UsamImage) result = usam_ctc_frames_load (res_dir, "mask", usam_image_get_frames (markers), error);
  if (!result)
    return FALSE;
  g_autoptr (GArray) gt_tracks = usam_ctc_tracks_load (gt_track_path, error);
  if (!gt_tracks)
    return FALSE;
  g_autoptr (GArray) res_tracks = usam_ctc_tracks_load (res_track_path, error);
  if (!res_tracks)
    return FALSE;
  UsamCtcScores s;
  if (!usam_ctc_measure_tracking (markers, (const UsamCtcTrack *) gt_tracks->data, gt_tracks->len, result,
                                  (const UsamCtcTrack *) res_tracks->data, res_tracks->len, &s, error))
    {
      g_prefix_error (error, "%s against %s: ", res_dir, gt_dir);
      return FALSE;
    }
  if (!evaluate_seg (seg_dir, result, &s.seg, &s.seg_objects, error))
    return FALSE;
  *scores = s;
  return TRUE;
}
