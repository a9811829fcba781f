/* bench-sam — the engine's speed and memory on a vit_b-sized model.
 *
 * Makes a vit_b checkpoint with random weights (once, cached beside the
 * build), loads it, encodes a 1024² image in each precision, and times
 * single prompts against the cached embedding (median of many runs) and one
 * batch of 64 prompts. Prints a table. */
#include <math.h>
#include <stdio.h>

#include <glib.h>

#include "bench-util.h"
#include "usam-model.h"

/* A smooth synthetic image: blobs on a gradient, like cells on background. */
static UsamImage *
synthetic_image (guint size)
{
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U16, size, size, 1, 1, 1, NULL);
  guint16 *p = usam_image_get_plane_mutable (image, 0, 0);
  GRand *rand = g_rand_new_with_seed (11);
  double cx[40], cy[40], r[40];
  for (int k = 0; k < 40; k++)
    {
      cx[k] = g_rand_double_range (rand, 0, size);
      cy[k] = g_rand_double_range (rand, 0, size);
      r[k] = g_rand_double_range (rand, 15, 60);
    }
  for (guint y = 0; y < size; y++)
    for (guint x = 0; x < size; x++)
      {
        double v = 500 + 0.2 * x;
        for (int k = 0; k < 40; k++)
          {
            double d2 = (x - cx[k]) * (x - cx[k]) + (y - cy[k]) * (y - cy[k]);
            v += 3000 * exp (-d2 / (2 * r[k] * r[k]));
          }
        p[y * size + x] = (guint16) MIN (v + g_rand_double_range (rand, 0, 100), 65535);
      }
  g_rand_free (rand);
  return g_steal_pointer (&image);
}

typedef struct
{
  const char *label;
  UsamPrompt prompt;
  UsamPredictFlags flags;
} PromptCase;

int
main (int argc, char **argv)
{
  g_autofree char *model_path = NULL;
  int runs = 60, threads = 0;
  gboolean no_bf16 = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "checkpoint to use (default: a random vit_b made once)",
      "CKPT" },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "prompt repetitions for the medians (default 60)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "CPU threads (default: all cores)", "N" },
    { "no-bf16", 0, 0, G_OPTION_ARG_NONE, &no_bf16, "skip the bfloat16 encoder", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— SAM engine benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-sam: %s\n", error->message);
      return 2;
    }
  if (threads > 0)
    {
      char v[16];
      g_snprintf (v, sizeof v, "%d", threads);
      g_setenv ("USAM_NUM_THREADS", v, TRUE);
    }
  runs = MAX (runs, 50);

  if (!model_path && !(model_path = bench_random_vit_b_path (&error)))
    {
      fprintf (stderr, "bench-sam: %s\n", error->message);
      return 1;
    }

  double t0 = bench_now ();
  g_autoptr (UsamModel) model = usam_model_new_from_file (model_path, USAM_PRECISION_FP32, &error);
  if (!model)
    {
      fprintf (stderr, "bench-sam: %s\n", error->message);
      return 1;
    }
  double load_s = bench_now () - t0;
  double rss_loaded = bench_peak_rss_mb ();
  g_autofree char *description = usam_model_dup_description (model);
  g_autoptr (UsamImage) image = synthetic_image (1024);

  printf ("\nmodel: %s\n%s\n\n", model_path, description);
  printf ("| measurement                          | value       |\n");
  printf ("|--------------------------------------|-------------|\n");
  printf ("| checkpoint load                      | %8.2f s  |\n", load_s);

  /* Encoder, fp32 then bf16. The first call also warms libtorch up. */
  g_autoptr (UsamEmbedding) embedding = NULL;
  for (int pass = 0; pass < 2; pass++)
    {
      t0 = bench_now ();
      g_clear_pointer (&embedding, usam_embedding_unref);
      embedding = usam_model_encode (model, image, 0, 0, USAM_NORMALIZE_MINMAX, NULL, NULL, NULL, &error);
      if (!embedding)
        {
          fprintf (stderr, "bench-sam: %s\n", error->message);
          return 1;
        }
      printf ("| encode 1024², fp32 (run %d)           | %8.2f s  |\n", pass + 1, bench_now () - t0);
    }
  double rss_fp32 = bench_peak_rss_mb ();
  if (!no_bf16)
    {
      g_autoptr (UsamModel) bf16 = usam_model_new_from_file (model_path, USAM_PRECISION_BF16, &error);
      for (int pass = 0; bf16 && pass < 2; pass++)
        {
          t0 = bench_now ();
          g_autoptr (UsamEmbedding) e = usam_model_encode (bf16, image, 0, 0, USAM_NORMALIZE_MINMAX, NULL, NULL, NULL,
                                                           &error);
          printf ("| encode 1024², bf16 (run %d)           | %8.2f s  |\n", pass + 1, bench_now () - t0);
        }
    }

  const float point[2] = { 512.0f, 512.0f };
  const gint32 positive[1] = { 1 };
  const float box[4] = { 400.0f, 380.0f, 640.0f, 610.0f };
  PromptCase cases[] = {
    { "point, 3 masks", { point, positive, 1, NULL, NULL }, USAM_PREDICT_MULTIMASK },
    { "point, 1 mask", { point, positive, 1, NULL, NULL }, 0 },
    { "box, 1 mask", { NULL, NULL, 0, box, NULL }, 0 },
    { "point, low-res only", { point, positive, 1, NULL, NULL }, USAM_PREDICT_LOW_RES | USAM_PREDICT_NO_MASKS },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree double *t = g_new (double, runs);
      for (int i = 0; i < runs + 2; i++)
        {
          double s = bench_now ();
          g_autoptr (UsamPrediction) p
              = usam_model_predict (model, embedding, &cases[c].prompt, 1, cases[c].flags, NULL, &error);
          if (!p)
            {
              fprintf (stderr, "bench-sam: %s\n", error->message);
              return 1;
            }
          if (i >= 2)
            t[i - 2] = bench_now () - s;
        }
      printf ("| prompt: %-20s (median) | %8.1f ms |\n", cases[c].label, 1e3 * bench_median (t, runs));
    }

  float points[64 * 2];
  gint32 labels[64];
  UsamPrompt batch[64];
  for (int i = 0; i < 64; i++)
    {
      points[2 * i] = 64.0f + 128.0f * (float) (i % 8);
      points[2 * i + 1] = 64.0f + 128.0f * (float) (i / 8);
      labels[i] = 1;
      batch[i] = (UsamPrompt) { points + 2 * i, labels + i, 1, NULL, NULL };
    }
  t0 = bench_now ();
  g_autoptr (UsamPrediction) many = usam_model_predict (model, embedding, batch, 64, USAM_PREDICT_MULTIMASK, NULL, &error);
  double batch_s = bench_now () - t0;
  printf ("| batch of 64 points, 3 masks each     | %8.2f s  |\n", batch_s);
  printf ("|   per prompt                         | %8.1f ms |\n", 1e3 * batch_s / 64);
  printf ("| peak RSS after load                  | %8.0f MB |\n", rss_loaded);
  printf ("| peak RSS after fp32 encode           | %8.0f MB |\n", rss_fp32);
  printf ("| peak RSS overall                     | %8.0f MB |\n", bench_peak_rss_mb ());
  return 0;
}
