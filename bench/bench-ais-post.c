/* bench-ais-post — speed of AIS post-processing, training targets and metrics.
 *
 * Builds 1024² and 4096² label images by tiling the 256 × 256 ground truths
 * of the DSB 2018 val split (each tile's ids offset so objects stay
 * distinct), derives perfect decoder maps from them with the training
 * targets, segments those with the default parameters and scores the result
 * against the tiles. Prints the median time of each step and the peak RSS.
 *
 * Usage: bench-ais-post [SHARED_DIR] (default: $USAM_SHARED_DIR, then the
 * build's shared_data). */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "bench-util.h"
#include "usam-ais-post.h"
#include "usam-ais-targets.h"
#include "usam-image.h"
#include "usam-metrics.h"

#define TILE 256

/* The 256 × 256 val ground truths, in manifest order. */
static GPtrArray *
load_tiles (const char *shared)
{
  g_autofree char *manifest_path = g_build_filename (shared, "data", "dsb2018", "manifest.csv", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (manifest_path, &text, NULL, &error))
    g_error ("%s", error->message);
  GPtrArray *tiles = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (g_strstrip (lines[i]), ",", -1);
      if (g_strv_length (f) < 6 || !g_str_equal (f[5], "val") || !g_str_equal (f[1], "256") || !g_str_equal (f[2], "256"))
        continue;
      g_autofree char *name = g_strconcat (f[0], ".png", NULL);
      g_autofree char *path = g_build_filename (shared, "data", "dsb2018", "labels", name, NULL);
      g_autoptr (UsamImage) image = usam_image_load (path, &error);
      if (!image)
        g_error ("%s", error->message);
      guint32 *tile = g_new (guint32, TILE * TILE);
      for (guint y = 0; y < TILE; y++)
        for (guint x = 0; x < TILE; x++)
          tile[y * TILE + x] = (guint32) usam_image_get_value (image, 0, 0, y, x, 0);
      g_ptr_array_add (tiles, tile);
    }
  if (tiles->len == 0)
    g_error ("no 256 × 256 val labels under %s", shared);
  return tiles;
}

static guint32 *
tiled_labels (GPtrArray *tiles, guint size)
{
  guint32 *labels = g_new (guint32, (gsize) size * size);
  guint per_row = size / TILE;
  for (guint ty = 0; ty < per_row; ty++)
    for (guint tx = 0; tx < per_row; tx++)
      {
        guint k = ty * per_row + tx;
        const guint32 *tile = g_ptr_array_index (tiles, k % tiles->len);
        guint32 offset = k * 65536;
        for (guint y = 0; y < TILE; y++)
          for (guint x = 0; x < TILE; x++)
            {
              guint32 v = tile[y * TILE + x];
              labels[(gsize) (ty * TILE + y) * size + tx * TILE + x] = v ? v + offset : 0;
            }
      }
  return labels;
}

static void
bench_size (GPtrArray *tiles, guint size, int runs)
{
  gsize n = (gsize) size * size;
  g_autofree guint32 *gt = tiled_labels (tiles, size);
  g_autofree float *maps = g_new (float, 3 * n);
  g_autofree guint32 *seg = g_new (guint32, n);
  UsamAisParams params = usam_ais_params_default ();
  double t_targets[9], t_segment[9], t_metrics[9];
  guint n_objects = 0;
  UsamMetrics m;
  g_autoptr (GError) error = NULL;
  for (int r = 0; r < runs; r++)
    {
      double t0 = bench_now ();
      if (!usam_ais_targets (gt, size, size, USAM_AIS_TARGETS_TRAINING_MIN_SIZE, maps, maps + n, maps + 2 * n, NULL,
                             &error))
        g_error ("%s", error->message);
      double t1 = bench_now ();
      if (!usam_ais_segment (maps, maps + n, maps + 2 * n, size, size, &params, seg, &n_objects, NULL, &error))
        g_error ("%s", error->message);
      double t2 = bench_now ();
      if (!usam_metrics_compute (gt, seg, size, size, &m, &error))
        g_error ("%s", error->message);
      double t3 = bench_now ();
      t_targets[r] = t1 - t0;
      t_segment[r] = t2 - t1;
      t_metrics[r] = t3 - t2;
    }
  printf ("| %4u² | %6u | %6u | %9.3f | %9.3f | %9.3f | %.4f |\n", size, m.n_true, n_objects,
          bench_median (t_segment, runs), bench_median (t_targets, runs), bench_median (t_metrics, runs), m.mean_accuracy);
}

int
main (int argc, char **argv)
{
  const char *shared = argc > 1 ? argv[1] : g_getenv ("USAM_SHARED_DIR");
  if (!shared)
    shared = USAM_BENCH_SHARED_DIR;
  g_autoptr (GPtrArray) tiles = load_tiles (shared);
  printf ("AIS on perfect maps from tiled DSB 2018 val labels (%u tiles of 256²), default parameters.\n",
          tiles->len);
  printf ("Median seconds per call.\n\n");
  printf ("| size  |     GT | found  | post-proc | targets   | metrics   | mSA    |\n");
  printf ("|-------|--------|--------|-----------|-----------|-----------|--------|\n");
  bench_size (tiles, 1024, 5);
  bench_size (tiles, 4096, 3);
  printf ("\npeak RSS %.0f MB\n", bench_peak_rss_mb ());
  return 0;
}
