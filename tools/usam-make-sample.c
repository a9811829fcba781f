/* usam-make-sample — writes the synthetic fluorescence image usam ships as
 * its sample (data/samples/), with its instance labels.
 *
 * Nuclei are textured ellipses, blurred by a Gaussian point-spread function,
 * on a dim uneven background with shot and read noise, stored as 16-bit like
 * a camera would. Deterministic for a given seed.
 *
 *   usam-make-sample OUT.tif LABELS.tif [SIZE] [SEED]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "usam-image.h"

typedef struct
{
  double cx, cy, a, b, angle, brightness, texture_phase;
} Nucleus;

static double
gauss (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1.0), v = g_rand_double (rand);
  return sqrt (-2.0 * log (u)) * cos (2 * G_PI * v);
}

static void
blur (float *img, guint size, double sigma)
{
  int r = (int) ceil (3 * sigma);
  g_autofree double *k = g_new (double, 2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; i++)
    sum += k[i + r] = exp (-0.5 * i * i / (sigma * sigma));
  for (int i = 0; i < 2 * r + 1; i++)
    k[i] /= sum;
  g_autofree float *tmp = g_new (float, (gsize) size * size);
  for (int pass = 0; pass < 2; pass++)
    {
      float *src = pass == 0 ? img : tmp, *dst = pass == 0 ? tmp : img;
      for (guint y = 0; y < size; y++)
        for (guint x = 0; x < size; x++)
          {
            double acc = 0;
            for (int i = -r; i <= r; i++)
              {
                int xx = (int) x + (pass == 0 ? i : 0), yy = (int) y + (pass == 0 ? 0 : i);
                xx = CLAMP (xx, 0, (int) size - 1);
                yy = CLAMP (yy, 0, (int) size - 1);
                acc += k[i + r] * src[(gsize) yy * size + xx];
              }
            dst[(gsize) y * size + x] = (float) acc;
          }
    }
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      fprintf (stderr, "usage: usam-make-sample OUT.tif LABELS.tif [SIZE] [SEED]\n");
      return 2;
    }
  guint size = argc > 3 ? (guint) atoi (argv[3]) : 512;
  guint32 seed = argc > 4 ? (guint32) atoi (argv[4]) : 2026;
  GRand *rand = g_rand_new_with_seed (seed);

  /* Place non-overlapping nuclei by rejection. */
  GArray *nuclei = g_array_new (FALSE, FALSE, sizeof (Nucleus));
  for (int attempt = 0; attempt < 4000 && nuclei->len < size * size / 4500; attempt++)
    {
      Nucleus n;
      n.a = g_rand_double_range (rand, 9, 20);
      n.b = n.a * g_rand_double_range (rand, 0.6, 1.0);
      n.cx = g_rand_double_range (rand, 4, size - 4);
      n.cy = g_rand_double_range (rand, 4, size - 4);
      n.angle = g_rand_double_range (rand, 0, G_PI);
      n.brightness = g_rand_double_range (rand, 0.45, 1.0);
      n.texture_phase = g_rand_double_range (rand, 0, 2 * G_PI);
      gboolean clash = FALSE;
      for (guint i = 0; i < nuclei->len && !clash; i++)
        {
          Nucleus *o = &g_array_index (nuclei, Nucleus, i);
          clash = hypot (o->cx - n.cx, o->cy - n.cy) < (o->a + n.a) * 0.95;
        }
      if (!clash)
        g_array_append_val (nuclei, n);
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U16, size, size, 1, 1, 1, &error);
  g_autoptr (UsamImage) labels = usam_image_new (USAM_PIXEL_TYPE_U16, size, size, 1, 1, 1, &error);
  guint16 *px = usam_image_get_plane_mutable (image, 0, 0);
  guint16 *lab = usam_image_get_plane_mutable (labels, 0, 0);
  g_autofree float *signal = g_new0 (float, (gsize) size * size);

  for (guint i = 0; i < nuclei->len; i++)
    {
      Nucleus *n = &g_array_index (nuclei, Nucleus, i);
      double c = cos (n->angle), s = sin (n->angle);
      int x0 = MAX (0, (int) (n->cx - n->a - 2)), x1 = MIN ((int) size - 1, (int) (n->cx + n->a + 2));
      int y0 = MAX (0, (int) (n->cy - n->a - 2)), y1 = MIN ((int) size - 1, (int) (n->cy + n->a + 2));
      for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
          {
            double dx = x - n->cx, dy = y - n->cy;
            double u = (dx * c + dy * s) / n->a, v = (-dx * s + dy * c) / n->b;
            double r2 = u * u + v * v;
            if (r2 > 1.0)
              continue;
            /* chromatin texture and a brighter rim */
            double texture = 0.85 + 0.15 * sin (0.9 * x + n->texture_phase) * cos (0.7 * y - n->texture_phase);
            signal[(gsize) y * size + x] = (float) (n->brightness * texture * (0.8 + 0.2 * r2));
            lab[(gsize) y * size + x] = (guint16) (i + 1);
          }
    }
  blur (signal, size, 1.3);
  for (guint y = 0; y < size; y++)
    for (guint x = 0; x < size; x++)
      {
        double background = 300 + 120 * sin (x / (double) size * G_PI) * cos (y / (double) size * 0.7);
        double photons = background + 2600 * signal[(gsize) y * size + x];
        double value = photons + sqrt (photons) * gauss (rand) + 12 * gauss (rand);
        px[(gsize) y * size + x] = (guint16) CLAMP (value, 0, 65535);
      }
  g_rand_free (rand);

  if (!usam_image_save_tiff (image, argv[1], &error) || !usam_image_save_tiff (labels, argv[2], &error))
    {
      fprintf (stderr, "usam-make-sample: %s\n", error->message);
      return 1;
    }
  printf ("%s: %u×%u, %u nuclei\n", argv[1], size, size, nuclei->len);
  g_array_unref (nuclei);
  return 0;
}
