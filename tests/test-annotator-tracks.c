/* test-annotator-tracks.c — tracks and lineages in the annotator, under
 * Xvfb: a synthetic time-lapse whose cell divides, imported as a tracker
 * without division detection would give it, corrected in the lineage panel
 * (mark the division, rename, delete, undo), exported as CTC and measured
 * against the true lineage, and reopened; automatic tracking with a tiny
 * random model, for its mechanics (progress, one undo step, cancel).
 *
 * The series: 6 frames of 64 × 64. A cell moves right for frames 0–2 and
 * divides at frame 3; a second cell sits in a corner throughout.
 */
#include "usam-ctc.h"
#include "usam-error.h"
#include "usam-projection-bar.h"
#include "usam-test-gui.h"
#include "usam-window.h"

#include <glib/gstdio.h>
#include <string.h>

enum { W = USAM_TEST_SERIES_WIDTH, H = USAM_TEST_SERIES_HEIGHT, T = USAM_TEST_SERIES_FRAMES };

static gboolean
not_tracking (gpointer data)
{
  return !usam_lineage_view_is_tracking (data);
}

static gboolean
only_ref (gpointer data)
{
  return G_OBJECT (data)->ref_count == 1;
}

/* The time-lapse itself: bright cells on a dark background. */
static char *
write_series (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) labels = usam_test_series_labels (TRUE);
  g_autoptr (UsamImage) image = usam_image_new (USAM_PIXEL_TYPE_U16, W, H, 1, 1, T, &error);
  for (guint t = 0; t < T; t++)
    {
      const guint16 *l = usam_image_get_plane (labels, t, 0);
      guint16 *p = usam_image_get_plane_mutable (image, t, 0);
      for (guint i = 0; i < W * H; i++)
        p[i] = l[i] ? 3000 : 300;
    }
  char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
  ck_assert_msg (usam_image_save_tiff (image, path, &error), "%s", error ? error->message : "");
  return path;
}

static UsamWindow *
open_window (const char *path, UsamModel *model)
{
  g_autoptr (GError) error = NULL;
  UsamWindow *window = usam_test_new_window (1100, 700);
  if (model)
    usam_window_set_model (window, model);
  ck_assert_msg (usam_window_open (window, path, &error), "%s", error ? error->message : "");
  usam_test_wait_for (usam_test_image_shown, window, "the time-lapse");
  ck_assert_uint_eq (usam_image_get_frames (usam_session_get_image (usam_window_get_session (window))), T);
  /* The panel is hidden until its header-bar toggle shows it. */
  UsamLineageView *view = usam_window_get_lineage_view (window);
  ck_assert (!gtk_widget_get_visible (GTK_WIDGET (view)));
  gtk_widget_set_visible (GTK_WIDGET (view), TRUE);
  usam_test_settle ();
  return window;
}

typedef struct
{
  guint label, depth;
  const char *text; /* a part of the row's text, or NULL */
} Row;

/* The panel shows exactly @rows, in order. */
static void
assert_rows (UsamLineageView *view, const Row *rows, guint n)
{
  ck_assert_uint_eq (usam_lineage_view_get_n_rows (view), n);
  for (guint i = 0; i < n; i++)
    {
      guint label = 0, depth = 0;
      g_autofree char *text = NULL;
      ck_assert (usam_lineage_view_get_row (view, i, &label, &depth, &text));
      ck_assert_msg (label == rows[i].label && depth == rows[i].depth, "row %u: track %u at depth %u, not %u at %u",
                     i, label, depth, rows[i].label, rows[i].depth);
      if (rows[i].text)
        ck_assert_msg (strstr (text, rows[i].text), "row %u: '%s' lacks '%s'", i, text, rows[i].text);
    }
}

static void
undo (UsamWindow *window)
{
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
  usam_test_settle ();
}

static void
redo (UsamWindow *window)
{
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.redo", NULL));
  usam_test_settle ();
}

START_TEST (test_correct_lineage)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *image = write_series ("cells.tif");
  g_autofree char *project_path = g_build_filename (usam_test_tmpdir (), "cells.usam", NULL);
  {
    g_autoptr (UsamProject) p = usam_project_open (project_path, &error);
    ck_assert_msg (p != NULL, "%s", error ? error->message : "");
    ck_assert (usam_project_add_image (p, image, &error) > 0);
  }
  UsamWindow *window = open_window (project_path, NULL);
  UsamSession *session = usam_window_get_session (window);
  UsamLineageView *view = usam_window_get_lineage_view (window);
  ck_assert_uint_eq (usam_lineage_view_get_n_rows (view), 0);

  /* What a tracker that missed the division gives. */
  g_autoptr (UsamImage) flat = usam_test_series_labels (FALSE);
  g_autofree char *flat_gt
      = usam_test_write_ctc_gt (flat, usam_test_undivided, G_N_ELEMENTS (usam_test_undivided), "gt-undivided");
  ck_assert_msg (usam_lineage_view_import_ctc (view, flat_gt, &error), "%s", error ? error->message : "");
  usam_test_settle ();
  const Row flat_rows[] = { { 1, 0, "Track 1 · frames 0–5" }, { 2, 0, "frames 3–5" }, { 3, 0, "frames 0–5" } };
  assert_rows (view, flat_rows, G_N_ELEMENTS (flat_rows));
  /* The frame's objects are on the canvas's list. */
  ck_assert_uint_eq (usam_session_get_objects (session)->len, 2);

  /* Picking a track goes to its first frame. */
  usam_session_set_plane (session, 5, 0);
  guint two = 2;
  usam_lineage_view_select (view, &two, 1);
  usam_test_settle ();
  ck_assert_uint_eq (usam_session_get_t (session), 3);
  ck_assert_uint_eq (usam_canvas_get_highlight (usam_window_get_canvas (window)), 2);

  /* The division gesture: pick the new track (which goes to frame 3, where
   * it starts), Ctrl+click the mother. The mother's label goes on as the
   * left daughter, which becomes track 4. */
  guint pair[] = { 2, 1 };
  usam_lineage_view_select (view, pair, 2);
  usam_test_settle ();
  ck_assert_uint_eq (usam_session_get_t (session), 3); /* a multiple selection does not jump */
  ck_assert_uint_eq (usam_canvas_get_highlight (usam_window_get_canvas (window)), 0);
  ck_assert_msg (usam_lineage_view_divide (view, &error), "%s", error ? error->message : "");
  usam_test_settle ();
  const Row tree[] = { { 1, 0, "frames 0–2" }, { 2, 1, "frames 3–5" }, { 4, 1, "frames 3–5" }, { 3, 0, NULL } };
  assert_rows (view, tree, G_N_ELEMENTS (tree));
  /* the frame shown has the daughters, under their new labels */
  GPtrArray *now = usam_session_get_objects (session);
  ck_assert_uint_eq (now->len, 3);
  for (guint i = 0; i < now->len; i++)
    ck_assert_uint_ne (((UsamObject *) now->pdata[i])->label, 1);
  undo (window);
  assert_rows (view, flat_rows, G_N_ELEMENTS (flat_rows));
  redo (window);
  assert_rows (view, tree, G_N_ELEMENTS (tree));

  /* rename, undo, redo */
  guint four = 4;
  usam_lineage_view_select (view, &four, 1);
  ck_assert_msg (usam_lineage_view_rename (view, "left", &error), "%s", error ? error->message : "");
  usam_test_settle ();
  const Row named[] = { { 1, 0, NULL }, { 2, 1, "Track 2" }, { 4, 1, "left (4)" }, { 3, 0, NULL } };
  assert_rows (view, named, G_N_ELEMENTS (named));
  undo (window);
  assert_rows (view, tree, G_N_ELEMENTS (tree));
  const Row unnamed[] = { { 1, 0, NULL }, { 2, 1, NULL }, { 4, 1, "Track 4" }, { 3, 0, NULL } };
  assert_rows (view, unnamed, G_N_ELEMENTS (unnamed));
  redo (window);
  assert_rows (view, named, G_N_ELEMENTS (named));

  /* delete the mother: her daughters become roots; undo brings her back */
  guint one = 1;
  usam_lineage_view_select (view, &one, 1);
  ck_assert_msg (usam_lineage_view_delete (view, &error), "%s", error ? error->message : "");
  usam_test_settle ();
  const Row orphans[] = { { 2, 0, NULL }, { 3, 0, NULL }, { 4, 0, "left" } };
  assert_rows (view, orphans, G_N_ELEMENTS (orphans));
  undo (window);
  assert_rows (view, named, G_N_ELEMENTS (named));

  /* split the corner cell's track at frame 2 (a tracker that gave it a new
   * label there), join the halves again: each one step */
  guint corner = 3;
  usam_lineage_view_select (view, &corner, 1);
  usam_session_set_plane (session, 2, 0);
  ck_assert_msg (usam_lineage_view_split (view, &error), "%s", error ? error->message : "");
  usam_test_settle ();
  ck_assert_uint_eq (usam_lineage_view_get_n_rows (view), 5);
  guint label = 0, depth = 0;
  g_autofree char *last = NULL;
  ck_assert (usam_lineage_view_get_row (view, 4, &label, &depth, &last));
  ck_assert_msg (strstr (last, "frames 2–5") && depth == 0, "%s", last);
  g_autofree char *first_half = NULL;
  guint l3 = 0;
  ck_assert (usam_lineage_view_get_row (view, 3, &l3, &depth, &first_half));
  ck_assert_msg (l3 == 3 && strstr (first_half, "frames 0–1"), "%s", first_half);
  guint halves[] = { label, 3 };
  usam_lineage_view_select (view, halves, 2);
  ck_assert_msg (usam_lineage_view_join (view, &error), "%s", error ? error->message : "");
  usam_test_settle ();
  assert_rows (view, named, G_N_ELEMENTS (named));
  guint overlapping[] = { 2, 3 };
  usam_lineage_view_select (view, overlapping, 2);
  ck_assert (!usam_lineage_view_join (view, &error));
  g_clear_error (&error);
  undo (window);
  ck_assert_uint_eq (usam_lineage_view_get_n_rows (view), 5);
  undo (window);
  assert_rows (view, named, G_N_ELEMENTS (named));

  /* exported, the corrected tracks are the true lineage */
  g_autofree char *res = g_build_filename (usam_test_tmpdir (), "res", NULL);
  ck_assert_msg (usam_lineage_view_export_ctc (view, res, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) truth = usam_test_series_labels (TRUE);
  g_autofree char *gt = usam_test_write_ctc_gt (truth, usam_test_lineage, G_N_ELEMENTS (usam_test_lineage), "gt");
  UsamCtcScores scores;
  ck_assert_msg (usam_ctc_evaluate (gt, res, &scores, &error), "%s", error ? error->message : "");
  ck_assert_double_eq (scores.tra, 1.0);
  ck_assert_double_eq (scores.det, 1.0);
  g_autofree char *table = g_build_filename (res, "res_track.txt", NULL);
  g_autoptr (GArray) exported = usam_ctc_tracks_load (table, &error);
  ck_assert_uint_eq (exported->len, 4);
  guint daughters = 0;
  for (guint i = 0; i < exported->len; i++)
    daughters += g_array_index (exported, UsamCtcTrack, i).parent == 1;
  ck_assert_uint_eq (daughters, 2);

  /* closed and reopened: the same tree and names, and the history */
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
  window = open_window (project_path, NULL);
  view = usam_window_get_lineage_view (window);
  assert_rows (view, named, G_N_ELEMENTS (named));
  /* the history came back too: the last step is the rename */
  undo (window);
  assert_rows (view, unnamed, G_N_ELEMENTS (unnamed));
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

static guint
n_objects (UsamWindow *window)
{
  UsamSession *s = usam_window_get_session (window);
  return usam_project_count_objects (usam_session_get_project (s), usam_session_get_image_id (s));
}

/* A random model's objects mean nothing; what is checked is the way the
 * result comes in: in the background, as tracks consistent with their
 * objects, in one undo step, and not at all when cancelled. */
START_TEST (test_automatic_tracking)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *image = write_series ("auto.tif");
  UsamWindow *window = open_window (image, NULL);
  UsamLineageView *view = usam_window_get_lineage_view (window);

  /* the starter model has no AIS decoder: refused with a reason */
  g_autoptr (UsamModel) plain = usam_test_tiny_model ();
  usam_window_set_model (window, plain);
  ck_assert (!usam_lineage_view_track (view, &error));
  ck_assert (g_error_matches (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED));
  g_clear_error (&error);

  /* A 256² input: at the preset's 1024² the AIS decoder alone made this case
   * take 160 s for 64 × 64 frames. */
  g_autoptr (UsamModel) model = usam_test_tiny_model_with (256, "interpolation", 9);
  usam_window_set_model (window, model);
  /* cancelled at once: nothing comes in */
  ck_assert_msg (usam_lineage_view_track (view, &error), "%s", error ? error->message : "");
  ck_assert (usam_lineage_view_is_tracking (view));
  ck_assert (!usam_lineage_view_track (view, &error)); /* one at a time */
  g_clear_error (&error);
  usam_lineage_view_cancel (view);
  usam_test_wait_for (not_tracking, view, "the cancelled tracking");
  usam_test_settle ();
  ck_assert_uint_eq (n_objects (window), 0);
  ck_assert (!usam_session_can_undo (usam_window_get_session (window)));

  ck_assert_msg (usam_lineage_view_track (view, &error), "%s", error ? error->message : "");
  usam_test_wait_for (not_tracking, view, "automatic tracking");
  usam_test_settle ();
  guint n = n_objects (window);
  g_print ("automatic tracking with a random model: %u objects\n", n);
  /* seed 9 gives objects (32 when written), so the undo below is exercised */
  ck_assert_uint_gt (n, 0);
  UsamSession *s = usam_window_get_session (window);
  g_autoptr (GPtrArray) tracks = usam_project_list_tracks (usam_session_get_project (s),
                                                           usam_session_get_image_id (s), &error);
  ck_assert_uint_eq (usam_lineage_view_get_n_rows (view), tracks->len);
  ck_assert_uint_gt (tracks->len, 0);
  /* every track is contiguous, as the linker makes them */
  for (guint i = 0; i < tracks->len; i++)
    {
      const UsamProjectTrack *t = tracks->pdata[i];
      ck_assert_uint_eq (t->n_frames, t->end - t->begin + 1);
    }
  undo (window);
  ck_assert_uint_eq (n_objects (window), 0);
  ck_assert_uint_eq (usam_lineage_view_get_n_rows (view), 0);
  redo (window);
  ck_assert_uint_eq (n_objects (window), n);

  /* Closing the window while it runs: the late result and progress find
   * no panel and touch nothing. */
  ck_assert (usam_lineage_view_track (view, &error));
  g_object_ref (view);
  gtk_window_destroy (GTK_WINDOW (window));
  /* The job holds the panel until its result has come back. */
  usam_test_wait_for (only_ref, view, "the cancelled job to end");
  g_object_unref (view);
}
END_TEST

static gboolean
not_following (gpointer data)
{
  return !usam_projection_bar_is_running (usam_window_get_projection_bar (data));
}

/* Shift+S in a time series follows the current object through the frames:
 * each frame's object is what the core's usam_projection_follow() gives
 * (random weights: the masks mean nothing, the plumbing is checked), all
 * under the seed's label — one track — and one undo takes them back. */
START_TEST (test_follow_through_time)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_series ("follow.tif");
  g_autoptr (UsamModel) model = usam_test_tiny_model_with (256, NULL, 3);
  UsamWindow *window = open_window (path, model);
  UsamSession *s = usam_window_get_session (window);
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = 0; /* a random model: follow as far as it finds anything */
  usam_projection_bar_set_params (usam_window_get_projection_bar (window), &p);
  usam_session_set_plane (s, 2, 0);
  usam_test_wait_for (usam_test_has_embedding, window, "frame 2's embedding");
  g_signal_emit_by_name (usam_window_get_canvas (window), "brush", 20.0, 30.0, 20.0, 30.0, 7.0, FALSE);
  ck_assert_ptr_nonnull (usam_session_get_current (s));
  g_autofree guint8 *seed = g_memdup2 (usam_session_get_current (s), W * H);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment-batch", NULL));
  ck_assert (usam_projection_bar_is_running (usam_window_get_projection_bar (window)));
  usam_test_wait_for (not_following, window, "following through time");
  usam_test_settle ();
  const char *text = usam_projection_bar_get_text (usam_window_get_projection_bar (window));
  ck_assert_msg (strstr (text, "track ") && strstr (text, "frames "), "%s", text);

  g_autofree guint8 *masks = g_new (guint8, T * W * H);
  UsamProjectionEnd back, forward;
  ck_assert_msg (usam_projection_follow (model, usam_session_get_image (s), 0, 2, seed, NULL, &p, NULL, NULL, NULL, NULL,
                                         NULL, masks, &back, &forward, &error),
                 "%s", error ? error->message : "");
  g_autoptr (GPtrArray) all = usam_project_list_objects (usam_session_get_project (s), usam_session_get_image_id (s),
                                                         -1, -1, &error);
  ck_assert (all != NULL && all->len > 0);
  guint label = ((UsamObject *) all->pdata[0])->label;
  guint expected = 0;
  g_autofree guint8 *drawn = g_new (guint8, W * H);
  for (guint t = 0; t < T; t++)
    {
      gboolean any = FALSE;
      for (guint i = 0; i < W * H; i++)
        any = any || masks[t * W * H + i];
      expected += any;
      UsamObject *found = NULL;
      for (guint i = 0; i < all->len; i++)
        if (((UsamObject *) all->pdata[i])->t == t)
          found = all->pdata[i];
      ck_assert_msg (!found == !any, "frame %u: %s object", t, found ? "an unexpected" : "no");
      if (!found)
        continue;
      ck_assert_uint_eq (found->label, label);
      memset (drawn, 0, W * H);
      usam_object_paint_mask (found, drawn, W, H, 1, NULL);
      ck_assert_msg (memcmp (drawn, masks + t * W * H, W * H) == 0, "frame %u differs from the core's", t);
    }
  ck_assert_uint_eq (all->len, expected);
  ck_assert_uint_gt (expected, 1);
  g_autoptr (GPtrArray) tracks = usam_project_list_tracks (usam_session_get_project (s), usam_session_get_image_id (s),
                                                           &error);
  ck_assert_uint_eq (tracks->len, 1);

  undo (window);
  ck_assert_uint_eq (n_objects (window), 0);
  redo (window);
  ck_assert_uint_eq (n_objects (window), expected);
}
END_TEST

static Suite *
annotator_tracks_suite (void)
{
  Suite *suite = suite_create ("annotator-tracks");
  TCase *tc = usam_test_tcase_new ("tracks");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_correct_lineage);
  tcase_add_test (tc, test_automatic_tracking);
  tcase_add_test (tc, test_follow_through_time);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_gui_run (annotator_tracks_suite ());
}
