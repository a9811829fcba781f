/* The DSB segmentation accuracy of elf.evaluation (see usam-metrics.h):
 * one pass builds the contingency table in a hash map, then each threshold
 * is a maximum bipartite matching over the pairs that reach it. */
#include "usam-metrics.h"

#include <string.h>

#include "usam-error.h"

/* ---- an open-addressing map from 64-bit keys to counts ---- */

typedef struct
{
  guint64 key;
  guint64 value; /* 0 marks an empty slot: every stored value is > 0 */
} Slot;

typedef struct
{
  Slot *slots;
  gsize mask, len;
} Table;

static void
table_init (Table *t, gsize capacity)
{
  gsize cap = 64;
  while (cap < 2 * capacity)
    cap *= 2;
  t->slots = g_new0 (Slot, cap);
  t->mask = cap - 1;
  t->len = 0;
}

static inline gsize
table_hash (guint64 key)
{
  /* splitmix64's finaliser: cheap, and spreads ids that differ in few bits. */
  key ^= key >> 30;
  key *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  key ^= key >> 27;
  key *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  key ^= key >> 31;
  return (gsize) key;
}

static Slot *
table_slot (Table *t, guint64 key)
{
  gsize i = table_hash (key) & t->mask;
  while (t->slots[i].value != 0 && t->slots[i].key != key)
    i = (i + 1) & t->mask;
  return &t->slots[i];
}

static void
table_grow (Table *t)
{
  Slot *old = t->slots;
  gsize old_cap = t->mask + 1;
  t->slots = g_new0 (Slot, old_cap * 2);
  t->mask = old_cap * 2 - 1;
  for (gsize i = 0; i < old_cap; i++)
    if (old[i].value)
      *table_slot (t, old[i].key) = old[i];
  g_free (old);
}

/* Adds @count to @key's value, inserting it if new; returns the slot. */
static Slot *
table_add (Table *t, guint64 key, guint64 count)
{
  Slot *s = table_slot (t, key);
  if (s->value == 0)
    {
      if (2 * (t->len + 1) > t->mask + 1)
        {
          table_grow (t);
          s = table_slot (t, key);
        }
      s->key = key;
      t->len++;
    }
  s->value += count;
  return s;
}

/* ---- matching ---- */

typedef struct
{
  guint32 pred, gt; /* dense indices */
  double iou;
} Pair;

/* The most pairs with IoU ≥ @threshold that can be matched one to one
 * (Kuhn's augmenting paths, iterative; for thresholds ≥ 0.5 every object has
 * at most two candidates and the greedy start is already optimal). */
static guint
max_matching (const Pair *pairs, gsize n_pairs, guint n_pred, guint n_true, double threshold)
{
  g_autofree guint32 *start = g_new0 (guint32, (gsize) n_pred + 1);
  gsize n_edges = 0;
  for (gsize i = 0; i < n_pairs; i++)
    if (pairs[i].iou >= threshold)
      {
        start[pairs[i].pred + 1]++;
        n_edges++;
      }
  if (n_edges == 0)
    return 0;
  for (guint p = 0; p < n_pred; p++)
    start[p + 1] += start[p];
  g_autofree guint32 *adj = g_new (guint32, n_edges);
  g_autofree guint32 *fill = g_memdup2 (start, sizeof (guint32) * n_pred);
  for (gsize i = 0; i < n_pairs; i++)
    if (pairs[i].iou >= threshold)
      adj[fill[pairs[i].pred]++] = pairs[i].gt;

  g_autofree gint64 *match_gt = g_new (gint64, n_true); /* gt → pred, or −1 */
  g_autofree guint32 *seen = g_new0 (guint32, n_true);  /* stamp of the last search */
  for (guint g = 0; g < n_true; g++)
    match_gt[g] = -1;
  guint matched = 0;
  g_autofree gboolean *done = g_new0 (gboolean, n_pred);
  for (guint p = 0; p < n_pred; p++)
    for (guint32 e = start[p]; e < start[p + 1]; e++)
      if (match_gt[adj[e]] < 0)
        {
          match_gt[adj[e]] = p;
          done[p] = TRUE;
          matched++;
          break;
        }

  g_autofree guint32 *stack_p = g_new (guint32, (gsize) n_pred + 1);
  g_autofree guint32 *stack_e = g_new (guint32, (gsize) n_pred + 1);
  g_autofree guint32 *via = g_new (guint32, (gsize) n_pred + 1);
  guint32 stamp = 0;
  for (guint root = 0; root < n_pred; root++)
    {
      if (done[root] || start[root] == start[root + 1])
        continue;
      stamp++;
      gsize depth = 1;
      stack_p[0] = root;
      stack_e[0] = start[root];
      while (depth > 0)
        {
          guint32 p = stack_p[depth - 1];
          if (stack_e[depth - 1] == start[p + 1])
            {
              depth--;
              continue;
            }
          guint32 g = adj[stack_e[depth - 1]++];
          if (seen[g] == stamp)
            continue;
          seen[g] = stamp;
          via[depth - 1] = g;
          if (match_gt[g] < 0)
            {
              /* Flip the path: each level's pred takes the gt it went through. */
              for (gsize d = 0; d < depth; d++)
                match_gt[via[d]] = stack_p[d];
              matched++;
              break;
            }
          stack_p[depth] = (guint32) match_gt[g];
          stack_e[depth] = start[match_gt[g]];
          depth++;
        }
    }
  return matched;
}

/* ---- the metric ---- */

/* np.mean of ten values: numpy's pairwise sum (eight partial sums, then
 * the rest in order), so the mean matches to the last bit. */
static double
numpy_mean10 (const double *a)
{
  G_STATIC_ASSERT (USAM_METRICS_N_THRESHOLDS == 10);
  double res = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  res += a[8];
  res += a[9];
  return res / 10;
}

/* Dense index of @id in @ids (values are index + 1), added if new. */
static guint32
dense_index (Table *ids, guint32 id, guint *n)
{
  Slot *s = table_slot (ids, id);
  if (s->value == 0)
    s = table_add (ids, id, ++*n);
  return (guint32) (s->value - 1);
}

gboolean
usam_metrics_compute (const guint32 *ground_truth, const guint32 *prediction, guint width, guint height,
                      UsamMetrics *metrics, GError **error)
{
  g_return_val_if_fail (ground_truth != NULL && prediction != NULL && metrics != NULL, FALSE);
  if (width == 0 || height == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "cannot compare %u × %u label images", width,
                   height);
      return FALSE;
    }
  gsize total = (gsize) width * height;

  /* The contingency table, one insertion per run of equal pairs. */
  Table table;
  table_init (&table, 1024);
  for (gsize i = 0; i < total;)
    {
      guint32 p = prediction[i], g = ground_truth[i];
      gsize j = i + 1;
      while (j < total && prediction[j] == p && ground_truth[j] == g)
        j++;
      table_add (&table, (guint64) p << 32 | g, j - i);
      i = j;
    }

  /* Object sizes include their overlap with the other image's background. */
  Table pred_ids, gt_ids;
  table_init (&pred_ids, 256);
  table_init (&gt_ids, 256);
  guint n_pred = 0, n_true = 0;
  for (gsize s = 0; s <= table.mask; s++)
    if (table.slots[s].value)
      {
        guint32 p = (guint32) (table.slots[s].key >> 32), g = (guint32) table.slots[s].key;
        if (p)
          dense_index (&pred_ids, p, &n_pred);
        if (g)
          dense_index (&gt_ids, g, &n_true);
      }
  g_autofree guint64 *pred_size = g_new0 (guint64, (gsize) n_pred + 1);
  g_autofree guint64 *gt_size = g_new0 (guint64, (gsize) n_true + 1);
  g_autoptr (GArray) pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  for (gsize s = 0; s <= table.mask; s++)
    if (table.slots[s].value)
      {
        guint32 p = (guint32) (table.slots[s].key >> 32), g = (guint32) table.slots[s].key;
        guint64 c = table.slots[s].value;
        if (p)
          pred_size[table_slot (&pred_ids, p)->value - 1] += c;
        if (g)
          gt_size[table_slot (&gt_ids, g)->value - 1] += c;
      }
  for (gsize s = 0; s <= table.mask; s++)
    if (table.slots[s].value)
      {
        guint32 p = (guint32) (table.slots[s].key >> 32), g = (guint32) table.slots[s].key;
        if (!p || !g)
          continue;
        guint64 c = table.slots[s].value;
        Pair pair = { .pred = (guint32) (table_slot (&pred_ids, p)->value - 1),
                      .gt = (guint32) (table_slot (&gt_ids, g)->value - 1) };
        pair.iou = (double) c / (double) (pred_size[pair.pred] + gt_size[pair.gt] - c);
        g_array_append_val (pairs, pair);
      }
  g_free (table.slots);
  g_free (pred_ids.slots);
  g_free (gt_ids.slots);

  memset (metrics, 0, sizeof *metrics);
  metrics->n_true = n_true;
  metrics->n_predicted = n_pred;
  /* numpy's arange: start + i * (second − start). */
  double step = (0.5 + 0.05) - 0.5;
  for (guint i = 0; i < USAM_METRICS_N_THRESHOLDS; i++)
    {
      double t = 0.5 + i * step;
      guint tp = max_matching ((const Pair *) pairs->data, pairs->len, n_pred, n_true, t);
      metrics->thresholds[i] = t;
      metrics->true_positives[i] = tp;
      metrics->accuracy[i] = tp > 0 ? (double) tp / ((double) n_pred + n_true - tp) : 0.0;
    }
  metrics->mean_accuracy = numpy_mean10 (metrics->accuracy);
  guint tp = metrics->true_positives[0];
  if (tp > 0)
    {
      metrics->precision = (double) tp / n_pred;
      metrics->recall = (double) tp / n_true;
      metrics->f1 = 2.0 * tp / ((double) n_pred + n_true);
    }
  return TRUE;
}

gboolean
usam_metrics_compute_3d (const guint32 *ground_truth, const guint32 *prediction, guint width, guint height,
                         guint depth, UsamMetrics *metrics, GError **error)
{
  /* Sizes and overlaps are voxel counts either way; only the row count must
   * fit the 2D function's argument. */
  if (depth == 0 || (guint64) height * depth > G_MAXUINT)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "cannot compare %u × %u × %u label volumes", width,
                   height, depth);
      return FALSE;
    }
  return usam_metrics_compute (ground_truth, prediction, width, height * depth, metrics, error);
}
