/* Cell Tracking Challenge measures: hand-made sequences whose SEG, DET and
 * TRA follow from the rules in usam-ctc.h, the challenge's fixture, the file
 * format, and `usam evaluate-tracks`. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "usam-ctc.h"
#include "usam-error.h"
#include "usam-test-util.h"

#define EPS 1e-12
enum { W = 20, H = 10, T = 3 };

static void
rect (UsamImage *img, guint t, guint x0, guint x1, guint y0, guint y1, guint32 id)
{
  guint32 *p = usam_image_get_plane_mutable (img, t, 0);
  for (guint y = y0; y < y1; y++)
    for (guint x = x0; x < x1; x++)
      p[y * W + x] = id;
}

/* The reference: cell 1 moves right (24 then 32 pixels) and divides into 2
 * and 3 in frame 2. 4 nodes, 3 edges (one within track 1, two divisions):
 * AOGM₀ = 10 · 4 + 1.5 · 3 = 44.5. */
static UsamImage *
reference (void)
{
  UsamImage *img = usam_image_new (USAM_PIXEL_TYPE_U32, W, H, 1, 1, T, NULL);
  rect (img, 0, 2, 8, 2, 6, 1);
  rect (img, 1, 4, 12, 2, 6, 1);
  rect (img, 2, 2, 8, 2, 6, 2);
  rect (img, 2, 10, 16, 2, 6, 3);
  return img;
}
static const UsamCtcTrack reference_tracks[] = { { 1, 0, 1, 0 }, { 2, 2, 2, 1 }, { 3, 2, 2, 1 } };
#define AOGM0 44.5

static UsamCtcScores
measure (UsamImage *gt, const UsamCtcTrack *gt_tracks, guint n_gt, UsamImage *res, const UsamCtcTrack *res_tracks,
         guint n_res)
{
  UsamCtcScores s;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_ctc_measure_tracking (gt, gt_tracks, n_gt, res, res_tracks, n_res, &s, &error), "%s",
                 error ? error->message : "");
  ck_assert_msg (usam_ctc_measure_seg (gt, res, &s.seg, &s.seg_objects, &error), "%s", error ? error->message : "");
  return s;
}

static void
expect (const UsamCtcScores *s, double seg, double det, double tra)
{
  ck_assert_msg (fabs (s->seg - seg) < EPS, "SEG %.17g, expected %.17g", s->seg, seg);
  ck_assert_msg (fabs (s->det - det) < EPS, "DET %.17g, expected %.17g", s->det, det);
  ck_assert_msg (fabs (s->tra - tra) < EPS, "TRA %.17g, expected %.17g (AOGM %g: NS %u FN %u FP %u ED %u EA %u EC %u)",
                 s->tra, tra, s->aogm, s->n_split, s->n_fn, s->n_fp, s->n_ed, s->n_ea, s->n_ec);
}

START_TEST (test_perfect_result)
{
  g_autoptr (UsamImage) gt = reference ();
  /* the same objects under other labels */
  g_autoptr (UsamImage) res = usam_image_new (USAM_PIXEL_TYPE_U32, W, H, 1, 1, T, NULL);
  rect (res, 0, 2, 8, 2, 6, 7);
  rect (res, 1, 4, 12, 2, 6, 7);
  rect (res, 2, 2, 8, 2, 6, 9);
  rect (res, 2, 10, 16, 2, 6, 8);
  const UsamCtcTrack tracks[] = { { 7, 0, 1, 0 }, { 8, 2, 2, 7 }, { 9, 2, 2, 7 } };
  UsamCtcScores s = measure (gt, reference_tracks, 3, res, tracks, 3);
  expect (&s, 1.0, 1.0, 1.0);
  ck_assert (s.aogm == 0 && s.aogm_empty == AOGM0 && s.aogm_det_empty == 40);
  ck_assert_uint_eq (s.seg_objects, 4);
}
END_TEST

START_TEST (test_missing_object)
{
  g_autoptr (UsamImage) gt = reference ();
  g_autoptr (UsamImage) res = reference ();
  rect (res, 2, 10, 16, 2, 6, 0);
  /* FN 10 for daughter 3, EA 1.5 for its division edge */
  UsamCtcScores s = measure (gt, reference_tracks, 3, res, reference_tracks, 2);
  ck_assert_uint_eq (s.n_fn, 1);
  ck_assert_uint_eq (s.n_ea, 1);
  expect (&s, 3.0 / 4, 1 - 10.0 / 40, 1 - 11.5 / AOGM0);
}
END_TEST

START_TEST (test_wrong_division_links)
{
  g_autoptr (UsamImage) gt = reference ();
  g_autoptr (UsamImage) res = reference ();
  /* Daughters without a parent: both division edges must be added (EA 2 × 1.5). */
  const UsamCtcTrack orphans[] = { { 1, 0, 1, 0 }, { 2, 2, 2, 0 }, { 3, 2, 2, 0 } };
  UsamCtcScores s = measure (gt, reference_tracks, 3, res, orphans, 3);
  expect (&s, 1.0, 1.0, 1 - 3.0 / AOGM0);

  /* Track 1 continues into daughter 2: that edge exists in the reference but
   * as a division (EC 1); the edge to daughter 3 is missing (EA 1.5). */
  rect (res, 2, 2, 8, 2, 6, 1);
  const UsamCtcTrack continued[] = { { 1, 0, 2, 0 }, { 3, 2, 2, 0 } };
  s = measure (gt, reference_tracks, 3, res, continued, 2);
  ck_assert_uint_eq (s.n_ec, 1);
  ck_assert_uint_eq (s.n_ea, 1);
  expect (&s, 1.0, 1.0, 1 - 2.5 / AOGM0);

  /* A division where the reference has none: a parent → daughter edge
   * between two frames of track 1 (EC 1). */
  g_autoptr (UsamImage) res2 = reference ();
  rect (res2, 1, 4, 12, 2, 6, 5);
  const UsamCtcTrack spurious[] = { { 1, 0, 0, 0 }, { 5, 1, 1, 1 }, { 2, 2, 2, 5 }, { 3, 2, 2, 5 } };
  s = measure (gt, reference_tracks, 3, res2, spurious, 4);
  ck_assert_uint_eq (s.n_ec, 1);
  expect (&s, 1.0, 1.0, 1 - 1.0 / AOGM0);
}
END_TEST

START_TEST (test_split_and_merged_objects)
{
  g_autoptr (UsamImage) gt = reference ();
  /* Cell 1 in frame 1 cut in two: 24 of its 32 pixels keep label 1 (the
   * match), 8 become a one-frame track 4 (FP 1). SEG of that object 0.75. */
  g_autoptr (UsamImage) res = reference ();
  rect (res, 1, 10, 12, 2, 6, 4);
  const UsamCtcTrack split[] = { { 1, 0, 1, 0 }, { 2, 2, 2, 1 }, { 3, 2, 2, 1 }, { 4, 1, 1, 0 } };
  UsamCtcScores s = measure (gt, reference_tracks, 3, res, split, 4);
  ck_assert_uint_eq (s.n_fp, 1);
  expect (&s, 3.75 / 4, 1 - 1.0 / 40, 1 - 1.0 / AOGM0);

  /* Both daughters under one result object that continues track 1: NS 5;
   * both division edges have a merged end, so both are missing (EA 3);
   * the result's edge 1 → 1 ends in a merged object and is not judged. */
  g_autoptr (UsamImage) merged = reference ();
  rect (merged, 2, 2, 16, 2, 6, 1);
  const UsamCtcTrack one[] = { { 1, 0, 2, 0 } };
  s = measure (gt, reference_tracks, 3, merged, one, 1);
  ck_assert_uint_eq (s.n_split, 1);
  ck_assert_uint_eq (s.n_ea, 2);
  /* 2 and 3 (24 pixels each) are both matched by the 56-pixel object:
   * Jaccard 24/56 each. */
  expect (&s, (2 + 2 * 24.0 / 56) / 4, 1 - 5.0 / 40, 1 - 8.0 / AOGM0);
}
END_TEST

START_TEST (test_match_needs_more_than_half)
{
  g_autoptr (UsamImage) gt = reference ();
  g_autoptr (UsamImage) res = reference ();
  /* exactly half of cell 1 in frame 0: no match (FN 10, FP 1), and the
   * result's edge 1 → 1 starts in an unmatched object: EA 1.5 for the
   * reference's edge */
  rect (res, 0, 5, 8, 2, 6, 0);
  UsamCtcScores s = measure (gt, reference_tracks, 3, res, reference_tracks, 3);
  ck_assert_uint_eq (s.n_fn, 1);
  ck_assert_uint_eq (s.n_fp, 1);
  expect (&s, 3.0 / 4, 1 - 11.0 / 40, 1 - 12.5 / AOGM0);
}
END_TEST

START_TEST (test_fixture)
{
  /* java-ctcmetrics' test data: its result is the reference segmentation
   * relabelled (13 → 130, 20 → 200, 24 → 240), so every measure is 1; 18
   * objects in 6 frames, 3 tracks of 6 frames: AOGM₀ = 180 + 1.5 · 15. */
  g_autofree char *gt = usam_test_shared_path ("data/ctc-metrics-fixture/GT");
  g_autofree char *res = usam_test_shared_path ("data/ctc-metrics-fixture/res");
  UsamCtcScores s;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_ctc_evaluate (gt, res, &s, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (s.n_frames, 6);
  ck_assert_uint_eq (s.seg_objects, 18);
  ck_assert (s.aogm_empty == 202.5 && s.aogm_det_empty == 180);
  expect (&s, 1.0, 1.0, 1.0);

  /* The fixture with one object taken out of frame 3 and its track cut in
   * two there: FN 10; the reference's edges 2 → 3 and 3 → 4 of cell 20
   * are missing (EA 3); SEG loses that object (its Jaccard was 1). */
  g_autofree char *tra_dir = g_build_filename (gt, "TRA", NULL);
  g_autoptr (UsamImage) markers = usam_ctc_frames_load (tra_dir, "man_track", 0, &error);
  ck_assert_msg (markers, "%s", error ? error->message : "");
  g_autoptr (UsamImage) result = usam_ctc_frames_load (res, "mask", 6, &error);
  ck_assert_msg (result, "%s", error ? error->message : "");
  guint32 *plane = usam_image_get_plane_mutable (result, 3, 0);
  gsize n = (gsize) usam_image_get_width (result) * usam_image_get_height (result);
  for (guint t = 4; t < 6; t++)
    {
      guint32 *p = usam_image_get_plane_mutable (result, t, 0);
      for (gsize i = 0; i < n; i++)
        p[i] = p[i] == 200 ? 201 : p[i];
    }
  for (gsize i = 0; i < n; i++)
    plane[i] = plane[i] == 200 ? 0 : plane[i];
  g_autofree char *out = g_build_filename (usam_test_tmpdir (), "fixture-cut", NULL);
  const UsamCtcTrack cut[] = { { 130, 0, 5, 0 }, { 200, 0, 2, 0 }, { 201, 4, 5, 0 }, { 240, 0, 5, 0 } };
  ck_assert_msg (usam_ctc_result_save (out, result, cut, 4, &error), "%s", error ? error->message : "");
  ck_assert_msg (usam_ctc_evaluate (gt, out, &s, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (s.n_fn, 1);
  ck_assert_uint_eq (s.n_ea, 2);
  expect (&s, 17.0 / 18, 1 - 10.0 / 180, 1 - 13.0 / 202.5);
}
END_TEST

START_TEST (test_files)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) gt = reference ();
  g_autofree char *dir = g_build_filename (usam_test_tmpdir (), "roundtrip", NULL);
  ck_assert_msg (usam_ctc_result_save (dir, gt, reference_tracks, 3, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) back = usam_ctc_frames_load (dir, "mask", 0, &error);
  ck_assert_msg (back, "%s", error ? error->message : "");
  ck_assert_uint_eq (usam_image_get_frames (back), T);
  for (guint t = 0; t < T; t++)
    ck_assert (memcmp (usam_image_get_plane (back, t, 0), usam_image_get_plane (gt, t, 0), W * H * 4) == 0);
  g_autofree char *track_path = g_build_filename (dir, "res_track.txt", NULL);
  g_autoptr (GArray) tracks = usam_ctc_tracks_load (track_path, &error);
  ck_assert_msg (tracks, "%s", error ? error->message : "");
  ck_assert_uint_eq (tracks->len, 3);
  ck_assert (memcmp (tracks->data, reference_tracks, sizeof reference_tracks) == 0);

  /* asking for more frames than there are */
  g_autoptr (UsamImage) none = usam_ctc_frames_load (dir, "mask", 4, &error);
  ck_assert (!none && g_error_matches (error, USAM_ERROR, USAM_ERROR_NOT_FOUND));
  g_clear_error (&error);

  /* the tracks implied by labels alone: no parents */
  g_autoptr (GArray) implied = usam_ctc_tracks_from_labels (gt, &error);
  ck_assert_msg (implied, "%s", error ? error->message : "");
  ck_assert_uint_eq (implied->len, 3);
  ck_assert (g_array_index (implied, UsamCtcTrack, 0).end == 1 && g_array_index (implied, UsamCtcTrack, 2).begin == 2);
  rect (gt, 1, 0, W, 0, H, 0);
  rect (gt, 2, 0, 1, 0, 1, 1);
  g_autoptr (GArray) gap = usam_ctc_tracks_from_labels (gt, &error);
  ck_assert (!gap && g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA));
  g_clear_error (&error);

  /* malformed track tables name the file and line */
  static const char *bad[] = { "1 0 2\n", "1 0 2 0\n1 3 4 0\n", "0 0 1 0\n", "2 3 1 0\n", "1 0 x 0\n", "1 -1 2 0\n" };
  g_autofree char *bad_path = g_build_filename (usam_test_tmpdir (), "bad_track.txt", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      ck_assert (g_file_set_contents (bad_path, bad[i], -1, NULL));
      g_autoptr (GArray) t = usam_ctc_tracks_load (bad_path, &error);
      ck_assert_msg (!t && g_error_matches (error, USAM_ERROR, USAM_ERROR_INVALID_DATA) &&
                       strstr (error->message, "line"), "'%s' accepted", bad[i]);
      g_clear_error (&error);
    }

  /* a result track outside the sequence, a parent that is missing */
  g_autoptr (UsamImage) ref = reference ();
  const UsamCtcTrack outside[] = { { 1, 0, 3, 0 } };
  const UsamCtcTrack orphan[] = { { 2, 2, 2, 9 } };
  UsamCtcScores s;
  ck_assert (!usam_ctc_measure_tracking (ref, reference_tracks, 3, ref, outside, 1, &s, &error));
  g_clear_error (&error);
  ck_assert (!usam_ctc_measure_tracking (ref, reference_tracks, 3, ref, orphan, 1, &s, &error));
  g_clear_error (&error);
}
END_TEST

/* 3D frames, and SEG from a whole-volume man_segTTT.tif and from one slice
 * (man_seg_TTT_ZZZ.tif) as the challenge publishes for 3D sets. */
START_TEST (test_volumes_and_slice_seg)
{
  enum { D = 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) gt = usam_image_new (USAM_PIXEL_TYPE_U32, W, H, 1, D, 2, NULL);
  g_autoptr (UsamImage) res = usam_image_new (USAM_PIXEL_TYPE_U32, W, H, 1, D, 2, NULL);
  for (guint t = 0; t < 2; t++)
    for (guint z = 0; z < D; z++)
      {
        guint32 *g = usam_image_get_plane_mutable (gt, t, z), *r = usam_image_get_plane_mutable (res, t, z);
        for (guint y = 2; y < 6; y++)
          for (guint x = 2; x < 8; x++)
            g[y * W + x] = 1, r[y * W + x] = 5;
      }
  const char *tmp = usam_test_tmpdir ();
  g_autofree char *gt_dir = g_build_filename (tmp, "gt3d", NULL);
  g_autofree char *tra = g_build_filename (gt_dir, "TRA", NULL);
  g_autofree char *seg = g_build_filename (gt_dir, "SEG", NULL);
  g_autofree char *res_dir = g_build_filename (tmp, "res3d", NULL);
  const UsamCtcTrack gt_tracks[] = { { 1, 0, 1, 0 } }, res_tracks[] = { { 5, 0, 1, 0 } };
  ck_assert (usam_ctc_result_save (tra, gt, gt_tracks, 1, &error));
  ck_assert (usam_ctc_result_save (res_dir, res, res_tracks, 1, &error));
  ck_assert (g_mkdir_with_parents (seg, 0755) == 0);
  for (guint t = 0; t < 2; t++)
    {
      g_autofree char *from = g_strdup_printf ("%s/mask%03u.tif", tra, t);
      g_autofree char *to = g_strdup_printf ("%s/man_track%03u.tif", tra, t);
      ck_assert (g_rename (from, to) == 0);
    }
  g_autofree char *from = g_build_filename (tra, "res_track.txt", NULL);
  g_autofree char *to = g_build_filename (tra, "man_track.txt", NULL);
  ck_assert (g_rename (from, to) == 0);
  /* frame 0 in full: Jaccard 1 */
  g_autofree char *whole = g_build_filename (seg, "man_seg000.tif", NULL);
  g_autoptr (UsamImage) frame0 = usam_image_new (USAM_PIXEL_TYPE_U16, W, H, 1, D, 1, NULL);
  for (guint z = 0; z < D; z++)
    {
      guint16 *p = usam_image_get_plane_mutable (frame0, 0, z);
      for (guint y = 2; y < 6; y++)
        for (guint x = 2; x < 8; x++)
          p[y * W + x] = 1;
    }
  ck_assert (usam_image_save_tiff (frame0, whole, &error));
  /* slice 2 of frame 1 annotated as half the object: 12 of the result's 24
   * pixels, Jaccard 0.5 */
  g_autofree char *slice = g_build_filename (seg, "man_seg_001_002.tif", NULL);
  g_autoptr (UsamImage) half = usam_image_new (USAM_PIXEL_TYPE_U16, W, H, 1, 1, 1, NULL);
  guint16 *p = usam_image_get_plane_mutable (half, 0, 0);
  for (guint y = 2; y < 6; y++)
    for (guint x = 2; x < 5; x++)
      p[y * W + x] = 1;
  ck_assert (usam_image_save_tiff (half, slice, &error));
  UsamCtcScores s;
  ck_assert_msg (usam_ctc_evaluate (gt_dir, res_dir, &s, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (s.seg_objects, 2);
  expect (&s, 0.75, 1.0, 1.0);
}
END_TEST

START_TEST (test_cli)
{
  g_autofree char *gt = usam_test_shared_path ("data/ctc-metrics-fixture/GT");
  g_autofree char *res = usam_test_shared_path ("data/ctc-metrics-fixture/res");
  g_autofree char *out = NULL, *err = NULL;
  const char *plain[] = { "evaluate-tracks", "--gt", gt, "--res", res, NULL };
  ck_assert_int_eq (usam_test_run_usam_full (plain, &out, &err), 0);
  ck_assert_msg (strstr (out, "SEG 1.000000") && strstr (out, "DET 1.000000") && strstr (out, "TRA 1.000000"), "%s",
                 out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  const char *csv[] = { "evaluate-tracks", "--gt", gt, "--res", res, "--csv", NULL };
  ck_assert_int_eq (usam_test_run_usam_full (csv, &out, &err), 0);
  ck_assert_msg (g_str_has_prefix (out, "seg,det,tra,aogm,") && strstr (out, "\n1,1,1,0,"), "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  const char *missing[] = { "evaluate-tracks", "--gt", gt, NULL };
  ck_assert_int_eq (usam_test_run_usam_full (missing, &out, &err), 2);
  g_autofree char *line = g_strchomp (g_strdup (err));
  ck_assert_msg (strchr (line, '\n') == NULL && strstr (line, "--res"), "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  const char *wrong[] = { "evaluate-tracks", "--gt", res, "--res", res, NULL };
  ck_assert_int_eq (usam_test_run_usam_full (wrong, &out, &err), 1);
  ck_assert_msg (strstr (err, "man_track"), "%s", err);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("ctc");
  TCase *tc = usam_test_tcase_new ("ctc");
  tcase_add_test (tc, test_perfect_result);
  tcase_add_test (tc, test_missing_object);
  tcase_add_test (tc, test_wrong_division_links);
  tcase_add_test (tc, test_split_and_merged_objects);
  tcase_add_test (tc, test_match_needs_more_than_half);
  tcase_add_test (tc, test_fixture);
  tcase_add_test (tc, test_files);
  tcase_add_test (tc, test_volumes_and_slice_seg);
  tcase_add_test (tc, test_cli);
  suite_add_tcase (s, tc);
  return usam_test_run (s);
}
