/* The classical baseline: an exact distance transform (against brute force),
 * touching discs split by the watershed, and a real fluorescence image. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "usam-auto-eval.h"
#include "usam-baseline.h"
#include "usam-error.h"
#include "usam-image.h"
#include "usam-metrics.h"
#include "usam-test-util.h"

#define BAR 0.6 /* measured: mSA 0.661, F1 0.956 */

START_TEST (test_distance_transform_is_exact)
{
  enum { W = 23, H = 17 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  for (guint round = 0; round < 20; round++)
    {
      guint8 mask[W * H];
      /* from sparse zeros (long distances) to dense ones */
      double p_zero = 0.01 + 0.05 * round;
      for (guint i = 0; i < W * H; i++)
        mask[i] = g_rand_double (rand) >= p_zero;
      mask[g_rand_int_range (rand, 0, W * H)] = 0;
      float dt[W * H];
      usam_distance_transform_sq (mask, W, H, dt);
      for (guint i = 0; i < W * H; i++)
        {
          double best = mask[i] ? G_MAXDOUBLE : 0;
          for (guint j = 0; j < W * H && mask[i]; j++)
            if (!mask[j])
              {
                double dx = (double) (i % W) - (double) (j % W), dy = (double) (i / W) - (double) (j / W);
                best = MIN (best, dx * dx + dy * dy);
              }
          ck_assert_msg (dt[i] == (float) best, "round %u pixel %u: %g, expected %g", round, i, dt[i], best);
        }
    }
}
END_TEST

START_TEST (test_touching_discs_split)
{
  enum { W = 80, H = 50 };
  guint8 grey[W * H];
  guint32 truth[W * H];
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      {
        double d1 = hypot ((double) x - 25, (double) y - 25), d2 = hypot ((double) x - 54, (double) y - 25);
        /* two discs of radius 15 overlapping by 1 pixel: one blob with a neck */
        gboolean in1 = d1 <= 15, in2 = d2 <= 15;
        grey[y * W + x] = in1 || in2 ? 200 : 20;
        truth[y * W + x] = in1 && (!in2 || d1 < d2) ? 1 : in2 ? 2 : 0;
      }
  guint32 labels[W * H];
  guint n = 0;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_baseline_otsu_watershed (grey, W, H, 10, labels, &n, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (n, 2);
  UsamMetrics m;
  ck_assert (usam_metrics_compute (truth, labels, W, H, &m, &error));
  ck_assert_msg (m.accuracy[0] == 1.0 && m.mean_accuracy > 0.8, "SA50 %g mSA %g", m.accuracy[0], m.mean_accuracy);
}
END_TEST

START_TEST (test_real_fluorescence)
{
  /* a 256² DSB 2018 fluorescence image (validation split) with 45 nuclei */
  const char *id = "6af82abb29539000be4696884fc822d3cafcb2105906dc7582c92dccad8948c5";
  g_autofree char *image_rel = g_strdup_printf ("data/dsb2018/images/%s.png", id);
  g_autofree char *labels_rel = g_strdup_printf ("data/dsb2018/labels/%s.png", id);
  g_autofree char *image_path = usam_test_shared_path (image_rel);
  g_autofree char *labels_path = usam_test_shared_path (labels_rel);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_load (image_path, &error);
  ck_assert_msg (image, "%s", error ? error->message : "");
  g_autoptr (UsamImage) gt_image = usam_image_load (labels_path, &error);
  ck_assert_msg (gt_image, "%s", error ? error->message : "");
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  gsize n = (gsize) w * h;
  g_autofree guint8 *grey = g_new (guint8, n);
  g_autofree guint32 *gt = g_new (guint32, n);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        grey[(gsize) y * w + x] = (guint8) usam_image_get_value (image, 0, 0, y, x, 0);
        gt[(gsize) y * w + x] = (guint32) usam_image_get_value (gt_image, 0, 0, y, x, 0);
      }
  g_autofree guint32 *labels = g_new (guint32, n);
  guint n_objects = 0;
  ck_assert (usam_baseline_otsu_watershed (grey, w, h, 10, labels, &n_objects, &error));
  UsamMetrics m;
  ck_assert (usam_metrics_compute (gt, labels, w, h, &m, &error));
  g_print ("baseline on %s: %u objects (%u true), mSA %.4f, F1 %.4f\n", id, n_objects, m.n_true, m.mean_accuracy,
           m.f1);
  /* a broken threshold, polarity or watershed falls far below */
  ck_assert_msg (m.mean_accuracy > BAR, "mSA %g", m.mean_accuracy);
}
END_TEST

START_TEST (test_presets_round_trip)
{
  g_autofree char *ckpt = g_build_filename (usam_test_tmpdir (), "model.pt", NULL);
  g_autofree char *presets = g_strconcat (ckpt, ".presets", NULL);
  g_autoptr (GError) error = NULL;
  UsamAisParams p = usam_ais_params_default (), q = usam_ais_params_default ();
  g_unlink (presets);
  ck_assert (!usam_ais_params_load_presets (ckpt, &q, &error) && error == NULL);
  p.center_distance_threshold = 0.3;
  p.boundary_distance_threshold = 0.7;
  p.foreground_threshold = 0.4;
  p.min_size = 25;
  ck_assert_msg (usam_ais_params_save_presets (&p, ckpt, &error), "%s", error ? error->message : "");
  ck_assert (usam_ais_params_load_presets (ckpt, &q, &error));
  ck_assert (p.center_distance_threshold == q.center_distance_threshold
             && p.boundary_distance_threshold == q.boundary_distance_threshold
             && p.foreground_threshold == q.foreground_threshold && p.foreground_smoothing == q.foreground_smoothing
             && p.distance_smoothing == q.distance_smoothing && p.min_size == q.min_size);

  ck_assert (g_file_set_contents (presets, "[ais]\nforeground-threshold=abc\n", -1, NULL));
  ck_assert (!usam_ais_params_load_presets (ckpt, &q, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA));
  ck_assert_msg (strstr (error->message, presets) && strstr (error->message, "foreground-threshold"), "%s",
                 error->message);
  ck_assert (q.foreground_threshold == p.foreground_threshold);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("baseline");
  TCase *tc = usam_test_tcase_new ("baseline");
  tcase_add_test (tc, test_distance_transform_is_exact);
  tcase_add_test (tc, test_touching_discs_split);
  tcase_add_test (tc, test_real_fluorescence);
  tcase_add_test (tc, test_presets_round_trip);
  suite_add_tcase (s, tc);
  return usam_test_run (s);
}
