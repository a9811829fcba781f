/* bench-tiles — tiled embedding of a large image, and the memory it needs.
 *
 * Encodes a synthetic SIZE² image (4096 by default) in tiles of TILE² with
 * a halo of HALO into an embedding cache file, tile by tile as `usam embed
 * --tile` does, and prints the time per tile and the resident memory after
 * each: a tiled image must not hold all its tile embeddings in memory, so
 * the memory after the last tile should be that after the first. Then reads
 * every tile back from the file, as a later run does.
 *
 * Usage: bench-tiles [PRESET [SIZE [TILE [HALO]]]] — PRESET vit_b (a random
 * vit_b, as bench-sam) or tiny.
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-util.h"
#include "usam-embedding-cache.h"

static double
rss_mb (void)
{
  g_autofree char *statm = NULL;
  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    return 0;
  unsigned long size = 0, resident = 0;
  if (sscanf (statm, "%lu %lu", &size, &resident) != 2)
    return 0;
  return (double) resident * (double) sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* Cells on a gradient: a plausible fluorescence field. */
static UsamImage *
synthetic_image (guint size)
{
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U16, size, size, 1, 1, 1, NULL);
  guint16 *p = usam_image_get_plane_mutable (image, 0, 0);
  for (guint y = 0; y < size; y++)
    for (guint x = 0; x < size; x++)
      {
        guint cx = x % 64, cy = y % 64;
        gboolean cell = (cx - 32) * (cx - 32) + (cy - 32) * (cy - 32) < 20 * 20;
        p[(gsize) y * size + x] = (guint16) (400 + x / 16 + (cell ? 3000 : 0));
      }
  return g_steal_pointer (&image);
}

static UsamModel *
bench_model (const char *preset, GError **error)
{
  if (g_strcmp0 (preset, "vit_b") != 0)
    return usam_model_new_random (preset, 1, USAM_PRECISION_AUTO, error);
  g_autofree char *path = bench_random_vit_b_path (error);
  return path ? usam_model_new_from_file (path, USAM_PRECISION_AUTO, error) : NULL;
}

int
main (int argc, char **argv)
{
  const char *preset = argc > 1 ? argv[1] : "vit_b";
  guint size = argc > 2 ? (guint) atoi (argv[2]) : 4096;
  guint tile = argc > 3 ? (guint) atoi (argv[3]) : 1024;
  guint halo = argc > 4 ? (guint) atoi (argv[4]) : 256;
  g_autoptr (GError) error = NULL;

  double t0 = bench_now ();
  g_autoptr (UsamModel) model = bench_model (preset, &error);
  if (!model)
    {
      fprintf (stderr, "bench-tiles: %s\n", error->message);
      return 1;
    }
  double load_s = bench_now () - t0;
  g_autoptr (UsamImage) image = synthetic_image (size);
  g_autofree char *dir = g_dir_make_tmp ("bench-tiles-XXXXXX", &error);
  g_autofree char *path = dir ? g_build_filename (dir, "tiles.h5", NULL) : NULL;
  UsamEmbeddingCacheOptions options = { .tile_width = tile, .tile_height = tile, .halo_width = halo,
                                        .halo_height = halo };
  g_autoptr (UsamEmbeddingCache) cache = path ? usam_embedding_cache_open (path, model, image, &options, &error) : NULL;
  if (!cache)
    {
      fprintf (stderr, "bench-tiles: %s\n", error->message);
      return 1;
    }
  guint n = usam_embedding_cache_get_n_tiles (cache);
  printf ("tiled embedding of a %u² image: %s (%s), %u tiles of %u² with a halo of %u, load %.2f s\n\n", size, preset,
          usam_precision_to_string (usam_model_get_precision (model)), n, tile, halo, load_s);
  printf ("| tile | outer box       | encode   | RSS after |\n|------|-----------------|----------|-----------|\n");
  double rss_image = rss_mb (), rss_first = 0, total = 0;
  for (guint i = 0; i < n; i++)
    {
      UsamTile t;
      usam_tiling_get_tile (usam_embedding_cache_get_tiling (cache), i, &t);
      double s = bench_now ();
      g_autoptr (UsamEmbedding) e = usam_embedding_cache_dup_tile (cache, 0, i, NULL, NULL, NULL, &error);
      if (!e)
        {
          fprintf (stderr, "bench-tiles: %s\n", error->message);
          return 1;
        }
      double dt = bench_now () - s;
      total += dt;
      g_clear_pointer (&e, usam_embedding_unref);
      double rss = rss_mb ();
      if (i == 0)
        rss_first = rss;
      printf ("| %4u | %4u×%-4u @%4u,%-4u | %6.2f s | %6.0f MB |\n", i, t.outer.width, t.outer.height, t.outer.x,
              t.outer.y, dt, rss);
    }
  double rss_last = rss_mb ();
  double r0 = bench_now ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (UsamEmbedding) e = usam_embedding_cache_dup_tile (cache, 0, i, NULL, NULL, NULL, &error);
      if (!e)
        {
          fprintf (stderr, "bench-tiles: %s\n", error->message);
          return 1;
        }
    }
  double read_s = bench_now () - r0;
  GStatBuf st;
  double file_mb = g_stat (path, &st) == 0 ? (double) st.st_size / (1024.0 * 1024.0) : 0;
  printf ("\n| measurement | value |\n|---|---|\n");
  printf ("| encode, all tiles | %.1f s (%.2f s a tile) |\n", total, total / n);
  printf ("| read back, all tiles | %.3f s |\n", read_s);
  printf ("| cache file | %.0f MB |\n", file_mb);
  printf ("| RSS with the image loaded | %.0f MB |\n", rss_image);
  printf ("| RSS after the first tile / the last | %.0f / %.0f MB |\n", rss_first, rss_last);
  printf ("| peak RSS | %.0f MB |\n", bench_peak_rss_mb ());
  g_clear_object (&cache);
  g_unlink (path);
  g_rmdir (dir);
  return 0;
}
