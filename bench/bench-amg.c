/* bench-amg — automatic mask generation, stage by stage.
 *
 * Encodes a synthetic 512² image with a randomly initialised model (vit_b by
 * default; the mask decoder, which dominates AMG, is the same in every SAM
 * model) and runs AMG with a 32 × 32 grid twice: with micro-sam's default
 * filters, and with every filter open so that all 3072 masks go through
 * filtering, NMS and painting (random weights give few masks that pass the
 * defaults, so the second run bounds the post-processing from above).
 *
 * Usage: bench-amg [PRESET [SIZE [POINTS_PER_SIDE [POINTS_PER_BATCH]]]] — PRESET vit_b|vit_l|vit_h|tiny. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"
#include "usam-amg.h"

/* Bright discs on a gradient, like cells on a background. */
static UsamImage *
synthetic_image (guint size)
{
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U16, size, size, 1, 1, 1, NULL);
  guint16 *p = usam_image_get_plane_mutable (image, 0, 0);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  double cx[30], cy[30], r[30];
  for (int k = 0; k < 30; k++)
    {
      cx[k] = g_rand_double_range (rand, 0, size);
      cy[k] = g_rand_double_range (rand, 0, size);
      r[k] = g_rand_double_range (rand, 8, 40);
    }
  for (guint y = 0; y < size; y++)
    for (guint x = 0; x < size; x++)
      {
        double v = 400 + 0.3 * x;
        for (int k = 0; k < 30; k++)
          if (hypot (x - cx[k], y - cy[k]) < r[k])
            v += 2000;
        p[(gsize) y * size + x] = (guint16) MIN (v, 65535.0);
      }
  return g_steal_pointer (&image);
}

static void
run (UsamModel *model, UsamEmbedding *embedding, const char *label, const UsamAmgParams *params, guint size)
{
  g_autoptr (GError) error = NULL;
  UsamAmgStats stats;
  double t0 = bench_now ();
  g_autoptr (UsamMaskSet) masks = usam_amg_generate (model, embedding, params, &stats, NULL, NULL, NULL, &error);
  if (!masks)
    {
      fprintf (stderr, "bench-amg: %s\n", error->message);
      exit (1);
    }
  double t1 = bench_now ();
  g_autofree guint32 *labels = g_new (guint32, (gsize) size * size);
  guint n = 0;
  if (!usam_amg_paint (masks, params, labels, &n, &error))
    {
      fprintf (stderr, "bench-amg: %s\n", error->message);
      exit (1);
    }
  double t2 = bench_now ();
  printf ("%-22s %8.2f %8.2f %8.3f %8.3f %8.2f   %5u %5u %5u %5u\n", label, stats.decode, stats.filter, stats.nms,
          t2 - t1, t2 - t0, stats.n_candidates, stats.n_filtered, stats.n_kept, n);
}

int
main (int argc, char **argv)
{
  const char *preset = argc > 1 ? argv[1] : "vit_b";
  guint size = argc > 2 ? (guint) atoi (argv[2]) : 512;
  guint pps = argc > 3 ? (guint) atoi (argv[3]) : 32;
  guint batch = argc > 4 ? (guint) atoi (argv[4]) : 64;
  g_autoptr (GError) error = NULL;
  double t0 = bench_now ();
  g_autoptr (UsamModel) model = usam_model_new_random (preset, 1, USAM_PRECISION_FP32, &error);
  if (!model)
    {
      fprintf (stderr, "bench-amg: %s\n", error->message);
      return 1;
    }
  double t1 = bench_now ();
  g_autoptr (UsamImage) image = synthetic_image (size);
  g_autoptr (UsamEmbedding) embedding
      = usam_model_encode (model, image, 0, 0, USAM_NORMALIZE_MINMAX, NULL, NULL, NULL, &error);
  if (!embedding)
    {
      fprintf (stderr, "bench-amg: %s\n", error->message);
      return 1;
    }
  double t2 = bench_now ();
  printf ("AMG on a %u² image, %s with random weights, %u × %u grid in batches of %u, threads %s\n", size, preset,
          pps, pps, batch,
          g_getenv ("USAM_NUM_THREADS") ? g_getenv ("USAM_NUM_THREADS") : "all");
  printf ("model %.2f s, encoder (fp32) %.2f s\n\n", t1 - t0, t2 - t1);
  printf ("%-22s %8s %8s %8s %8s %8s   %5s %5s %5s %5s\n", "filters", "decode", "filter", "nms", "paint", "total",
          "cand", "pass", "kept", "objs");
  UsamAmgParams p = usam_amg_params_default ();
  p.points_per_side = pps;
  p.points_per_batch = batch;
  run (model, embedding, "micro-sam defaults", &p, size);
  p.pred_iou_thresh = 0.0;
  p.stability_score_thresh = 0.0;
  run (model, embedding, "all masks pass", &p, size);
  printf ("\nseconds; AMG total = decode + filter + nms + paint (encoder not included); peak RSS %.0f MB\n",
          bench_peak_rss_mb ());
  return 0;
}
