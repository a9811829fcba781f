/* Segmentation accuracy: hand-made cases whose values follow from the
 * definition (see usam-metrics.h), and DSB 2018 ground truths against a
 * perturbed copy, checked against numbers from the reference. */
#include <math.h>
#include <string.h>

#include "usam-error.h"
#include "usam-image.h"
#include "usam-metrics.h"
#include "usam-test-util.h"

#define EPS 1e-12

static UsamMetrics
compute (const guint32 *gt, const guint32 *pred, guint width, guint height)
{
  UsamMetrics m;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_metrics_compute (gt, pred, width, height, &m, &error), "%s", error ? error->message : "");
  return m;
}

static void
assert_accuracies (const UsamMetrics *m, const double *expected)
{
  for (guint i = 0; i < USAM_METRICS_N_THRESHOLDS; i++)
    ck_assert_msg (fabs (m->accuracy[i] - expected[i]) < EPS, "SA(%.2f) = %.17g, expected %.17g", m->thresholds[i],
                   m->accuracy[i], expected[i]);
}

/* Fills the rectangle [y0, y0 + h) × [x0, x0 + w) of a @width-wide image. */
static void
rect (guint32 *img, guint width, guint y0, guint x0, guint h, guint w, guint32 id)
{
  for (guint y = y0; y < y0 + h; y++)
    for (guint x = x0; x < x0 + w; x++)
      img[y * width + x] = id;
}

START_TEST (test_thresholds_are_numpy_arange)
{
  guint32 one = 1;
  UsamMetrics m = compute (&one, &one, 1, 1);
  /* np.arange(0.5, 1.0, 0.05), printed with repr(). */
  static const double expected[] = { 0.5, 0.55, 0.6000000000000001, 0.6500000000000001, 0.7000000000000002,
                                     0.7500000000000002, 0.8000000000000003, 0.8500000000000003, 0.9000000000000004,
                                     0.9500000000000004 };
  for (guint i = 0; i < USAM_METRICS_N_THRESHOLDS; i++)
    ck_assert (m.thresholds[i] == expected[i]);
}
END_TEST

START_TEST (test_identical_and_permuted)
{
  enum { W = 40, H = 30 };
  guint32 gt[W * H] = { 0 }, pred[W * H] = { 0 };
  rect (gt, W, 2, 2, 5, 7, 1);
  rect (gt, W, 10, 3, 8, 8, 2);
  rect (gt, W, 20, 20, 6, 15, 3);
  rect (gt, W, 0, 30, 30, 10, 4); /* touches the border */
  UsamMetrics m = compute (gt, gt, W, H);
  ck_assert_uint_eq (m.n_true, 4);
  ck_assert_uint_eq (m.n_predicted, 4);
  ck_assert (m.mean_accuracy == 1.0 && m.precision == 1.0 && m.recall == 1.0 && m.f1 == 1.0);

  /* Other ids, not consecutive, some huge: nothing changes. */
  static const guint32 ids[] = { 0, 4000000000u, 7, 65536, 3 };
  for (guint i = 0; i < W * H; i++)
    pred[i] = ids[gt[i]];
  m = compute (gt, pred, W, H);
  ck_assert (m.mean_accuracy == 1.0 && m.f1 == 1.0);
  for (guint i = 0; i < USAM_METRICS_N_THRESHOLDS; i++)
    ck_assert_uint_eq (m.true_positives[i], 4);

  /* An image that is all one object: no background anywhere. */
  guint32 full[W * H];
  for (guint i = 0; i < W * H; i++)
    full[i] = 9;
  m = compute (full, full, W, H);
  ck_assert (m.n_true == 1 && m.mean_accuracy == 1.0);
}
END_TEST

START_TEST (test_split_object)
{
  enum { W = 20, H = 20 };
  guint32 gt[W * H] = { 0 }, pred[W * H] = { 0 };
  rect (gt, W, 5, 5, 10, 10, 1);
  /* Halves: IoU exactly 0.5 with each; only one may be matched. */
  rect (pred, W, 5, 5, 10, 5, 1);
  rect (pred, W, 5, 10, 10, 5, 2);
  UsamMetrics m = compute (gt, pred, W, H);
  ck_assert_uint_eq (m.true_positives[0], 1);
  /* SA(0.5) = 1 / (1 + 1 + 0); nothing passes 0.55. */
  static const double halves[] = { 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  assert_accuracies (&m, halves);
  ck_assert (fabs (m.mean_accuracy - 0.05) < EPS);
  ck_assert (fabs (m.precision - 0.5) < EPS && fabs (m.recall - 1.0) < EPS && fabs (m.f1 - 2.0 / 3.0) < EPS);

  /* 60/40: IoU 60/100 = 0.6 passes 0.5 and 0.55 but not arange's
   * 0.6000000000000001. */
  memset (pred, 0, sizeof pred);
  rect (pred, W, 5, 5, 10, 6, 1);
  rect (pred, W, 5, 11, 10, 4, 2);
  m = compute (gt, pred, W, H);
  static const double sixty[] = { 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0 };
  assert_accuracies (&m, sixty);
  ck_assert (fabs (m.mean_accuracy - 0.1) < EPS);

  /* The reverse: two true objects, one prediction covering both. */
  m = compute (pred, gt, W, H);
  assert_accuracies (&m, sixty);
  ck_assert (fabs (m.precision - 1.0) < EPS && fabs (m.recall - 0.5) < EPS);
}
END_TEST

START_TEST (test_shifted_objects)
{
  enum { W = 60, H = 20 };
  guint32 gt[W * H] = { 0 }, pred[W * H] = { 0 };
  /* 10 × 10 squares shifted right by d: IoU = (10 − d) / (10 + d), so
   * 9/11 ≈ 0.818, 8/12 ≈ 0.667 and 7/13 ≈ 0.538. */
  for (guint k = 0; k < 3; k++)
    {
      rect (gt, W, 5, 2 + 18 * k, 10, 10, k + 1);
      rect (pred, W, 5, 2 + 18 * k + (k + 1), 10, 10, 10 + k);
    }
  UsamMetrics m = compute (gt, pred, W, H);
  /* TP = 3, 2, 2, 2, 1, 1, 1, 0, 0, 0 and SA = TP / (6 − TP). */
  static const double expected[] = { 1.0, 0.5, 0.5, 0.5, 0.2, 0.2, 0.2, 0, 0, 0 };
  assert_accuracies (&m, expected);
  ck_assert (fabs (m.mean_accuracy - 0.31) < EPS);

  /* IoU exactly 0.75 (90 of 120 pixels) fails arange's 0.7500000000000002. */
  memset (gt, 0, sizeof gt);
  memset (pred, 0, sizeof pred);
  rect (gt, W, 2, 2, 12, 10, 1);
  rect (pred, W, 2, 2, 9, 10, 1);
  m = compute (gt, pred, W, H);
  static const double three_quarters[] = { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0 };
  assert_accuracies (&m, three_quarters);
  ck_assert (fabs (m.mean_accuracy - 0.5) < EPS);
}
END_TEST

START_TEST (test_empty_images)
{
  enum { W = 16, H = 16 };
  guint32 gt[W * H] = { 0 }, empty[W * H] = { 0 };
  rect (gt, W, 1, 1, 4, 4, 1);
  rect (gt, W, 8, 8, 4, 4, 2);

  UsamMetrics m = compute (gt, empty, W, H);
  ck_assert_uint_eq (m.n_true, 2);
  ck_assert_uint_eq (m.n_predicted, 0);
  ck_assert (m.mean_accuracy == 0 && m.precision == 0 && m.recall == 0 && m.f1 == 0);

  m = compute (empty, gt, W, H);
  ck_assert (m.n_true == 0 && m.n_predicted == 2 && m.mean_accuracy == 0);

  /* SA is 0 whenever TP is 0, even with nothing to find. */
  m = compute (empty, empty, W, H);
  ck_assert (m.n_true == 0 && m.n_predicted == 0 && m.mean_accuracy == 0);
}
END_TEST

START_TEST (test_many_objects)
{
  /* 4800 objects of 3 × 3 in 5 × 5 cells; the prediction loses one pixel
   * of every second object (IoU 8/9 ≈ 0.889: passes up to 0.85). */
  enum { W = 400, H = 300 };
  g_autofree guint32 *gt = g_new0 (guint32, W * H);
  g_autofree guint32 *pred = g_new0 (guint32, W * H);
  guint32 id = 0;
  for (guint y = 0; y + 5 <= H; y += 5)
    for (guint x = 0; x + 5 <= W; x += 5)
      {
        id++;
        rect (gt, W, y + 1, x + 1, 3, 3, id);
        rect (pred, W, y + 1, x + 1, 3, 3, id * 2654435761u);
        if (id % 2)
          pred[(y + 1) * W + x + 1] = 0;
      }
  ck_assert_uint_eq (id, 4800);
  UsamMetrics m = compute (gt, pred, W, H);
  ck_assert_uint_eq (m.n_true, 4800);
  ck_assert_uint_eq (m.n_predicted, 4800);
  for (guint i = 0; i < USAM_METRICS_N_THRESHOLDS; i++)
    ck_assert_uint_eq (m.true_positives[i], m.thresholds[i] < 8.0 / 9.0 ? 4800 : 2400);
  /* Eight thresholds at 1, two at 2400 / 7200. */
  ck_assert (fabs (m.mean_accuracy - (8 + 2 * (1.0 / 3.0)) / 10) < EPS);
}
END_TEST

START_TEST (test_bad_size)
{
  guint32 one = 1;
  UsamMetrics m;
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_metrics_compute (&one, &one, 0, 1, &m, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT));
}
END_TEST

/* ---- DSB 2018 against a perturbed copy ---- */

static guint32 *
load_labels (const char *id_prefix, guint *width, guint *height)
{
  g_autofree char *dir = usam_test_shared_path ("data/dsb2018/labels");
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  ck_assert (d != NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) && !g_str_has_prefix (name, id_prefix))
    ;
  ck_assert_msg (name != NULL, "no label image %s*", id_prefix);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) image = usam_image_load (path, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  guint32 *labels = g_new (guint32, (gsize) w * h);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      labels[(gsize) y * w + x] = (guint32) usam_image_get_value (image, 0, 0, y, x, 0);
  *width = w;
  *height = h;
  return labels;
}

/* Erodes every object by its inner boundary (pixels with a 4-neighbour of
 * another id), shifts the result 1 down and 2 right, drops ids divisible
 * by 5 and renumbers the rest id → id · 7919 mod 100003 + 1. */
static guint32 *
perturb (const guint32 *gt, guint w, guint h)
{
  g_autofree guint32 *eroded = g_new0 (guint32, (gsize) w * h);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        guint32 v = gt[y * w + x];
        gboolean inner = (y == 0 || gt[(y - 1) * w + x] == v) && (y + 1 == h || gt[(y + 1) * w + x] == v)
                         && (x == 0 || gt[y * w + x - 1] == v) && (x + 1 == w || gt[y * w + x + 1] == v);
        eroded[y * w + x] = inner ? v : 0;
      }
  guint32 *pred = g_new0 (guint32, (gsize) w * h);
  for (guint y = 1; y < h; y++)
    for (guint x = 2; x < w; x++)
      {
        guint64 v = eroded[(y - 1) * w + x - 2];
        pred[y * w + x] = v == 0 || v % 5 == 0 ? 0 : (guint32) ((v * 7919) % 100003 + 1);
      }
  return pred;
}

/* Expected values from elf.evaluation.mean_segmentation_accuracy(pred, gt,
 * return_accuracies=True) and elf.evaluation.matching(pred, gt) (elf at
 * 9f57884, its bioimage_cpp contingency table stood in for by numpy's
 * unique counts), with the same perturbation written in numpy. */
static const struct
{
  const char *id;
  double msa;
  double sa[USAM_METRICS_N_THRESHOLDS];
  double precision, recall, f1;
} dsb_expected[] = {
  { "0d3640c1f1b8", 0.5231206502945633,
    { 0.7272727272727273, 0.7272727272727273, 0.7272727272727273, 0.7272727272727273, 0.6521739130434783,
      0.6521739130434783, 0.5833333333333334, 0.4074074074074074, 0.02702702702702703, 0.0 },
    0.9411764705882353, 0.7619047619047619, 0.8421052631578947 },
  { "5afb7932e9c7", 0.35957749535696026,
    { 0.7562724014336918, 0.7314487632508834, 0.6896551724137931, 0.6387959866220736, 0.5360501567398119,
      0.23115577889447236, 0.012396694214876033, 0.0, 0.0, 0.0 },
    0.9678899082568807, 0.7757352941176471, 0.8612244897959184 },
  { "76a372bfd3fa", 0.19731141963717236,
    { 0.5616438356164384, 0.4074074074074074, 0.3902439024390244, 0.32558139534883723, 0.2127659574468085,
      0.07547169811320754, 0.0, 0.0, 0.0, 0.0 },
    0.803921568627451, 0.6507936507936508, 0.7192982456140351 },
};

START_TEST (test_dsb_against_reference)
{
  for (guint k = 0; k < G_N_ELEMENTS (dsb_expected); k++)
    {
      guint w, h;
      g_autofree guint32 *gt = load_labels (dsb_expected[k].id, &w, &h);
      g_autofree guint32 *pred = perturb (gt, w, h);
      UsamMetrics m = compute (gt, pred, w, h);
      g_print ("%s (%u x %u, %u objects): mSA %.6f, F1 %.6f\n", dsb_expected[k].id, w, h, m.n_true, m.mean_accuracy,
               m.f1);
      assert_accuracies (&m, dsb_expected[k].sa);
      ck_assert (fabs (m.mean_accuracy - dsb_expected[k].msa) < EPS);
      ck_assert (fabs (m.precision - dsb_expected[k].precision) < EPS);
      ck_assert (fabs (m.recall - dsb_expected[k].recall) < EPS);
      ck_assert (fabs (m.f1 - dsb_expected[k].f1) < EPS);
    }
}
END_TEST

static Suite *
metrics_suite (void)
{
  Suite *s = suite_create ("metrics");
  TCase *tc = usam_test_tcase_new ("accuracy");
  tcase_add_test (tc, test_thresholds_are_numpy_arange);
  tcase_add_test (tc, test_identical_and_permuted);
  tcase_add_test (tc, test_split_object);
  tcase_add_test (tc, test_shifted_objects);
  tcase_add_test (tc, test_empty_images);
  tcase_add_test (tc, test_many_objects);
  tcase_add_test (tc, test_bad_size);
  suite_add_tcase (s, tc);
  TCase *dsb = usam_test_tcase_new ("dsb2018");
  tcase_add_test (dsb, test_dsb_against_reference);
  suite_add_tcase (s, dsb);
  return s;
}

int
main (void)
{
  return usam_test_run (metrics_suite ());
}
