/* test-annotator-auto.c — the annotator's automatic segmentation panel,
 * driven for real under Xvfb with a small random model that has an AIS
 * decoder: AIS and AMG runs, live parameters that re-run the
 * post-processing only, committing every automatic object in one undo step
 * or one with the pick tool; saves screenshots under the build tree
 * (tests/artefacts/).
 */
#include "usam-error.h"
#include "usam-test-gui.h"
#include "usam-window.h"

typedef struct
{
  UsamWindow *window;
  UsamAutoPanel *panel;
  guint finished; /* runs ended */
} AutoFixture;

static void
on_auto_finished (UsamAutoPanel *panel, AutoFixture *f)
{
  f->finished++;
}

static guint want_finished;

static gboolean
auto_done (gpointer data)
{
  AutoFixture *f = data;
  return f->finished >= want_finished && !usam_auto_panel_is_running (f->panel);
}

/* Waits for the run that a change just started (debounced) to end. */
static void
wait_auto (AutoFixture *f)
{
  want_finished = f->finished + 1;
  usam_test_wait_for (auto_done, f, "the automatic segmentation");
}

static void
set_spin (AutoFixture *f, UsamAutoMode mode, const char *key, double value)
{
  GtkSpinButton *spin = usam_auto_panel_get_spin (f->panel, mode, key);
  ck_assert_msg (spin != NULL, "no spin button %s", key);
  gtk_spin_button_set_value (spin, value);
}

/* A window on a fresh copy of the sample with a small random model that has
 * an AIS decoder, the panel shown and a first AMG result with objects. */
static void
auto_fixture_open (AutoFixture *f, const char *name)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *sample = usam_test_source_path ("data/samples/nuclei.tif");
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
  g_autofree char *contents = NULL;
  gsize size = 0;
  ck_assert (g_file_get_contents (sample, &contents, &size, NULL));
  ck_assert (g_file_set_contents (path, contents, (gssize) size, NULL));
  f->window = usam_test_new_window (900, 700);
  g_autoptr (UsamModel) model = usam_test_tiny_model_with (256, "interpolation", 11);
  usam_window_set_model (f->window, model);
  ck_assert_msg (usam_window_open (f->window, path, &error), "%s", error ? error->message : "");
  usam_test_wait_for (usam_test_has_embedding, f->window, "the embedding");
  f->panel = usam_window_get_auto_panel (f->window);
  f->finished = 0;
  g_signal_connect (f->panel, "finished", G_CALLBACK (on_auto_finished), f);
  ck_assert (!gtk_widget_get_visible (GTK_WIDGET (f->panel)));

  /* Shown, it segments at once with the model's presets (AIS: it has a decoder). */
  gtk_widget_set_visible (GTK_WIDGET (f->panel), TRUE);
  ck_assert_int_eq (usam_auto_panel_get_mode (f->panel), USAM_AUTO_MODE_AIS);
  wait_auto (f);
  ck_assert_ptr_nonnull (usam_auto_panel_get_result (f->panel));
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (usam_auto_panel_get_segmenter (f->panel)), 1);
  /* An AIS threshold re-runs the post-processing only. */
  set_spin (f, USAM_AUTO_MODE_AIS, "foreground_threshold", 0.3);
  wait_auto (f);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (usam_auto_panel_get_segmenter (f->panel)), 1);

  /* AMG on a coarse grid, keeping every mask: objects for sure. */
  ck_assert (usam_auto_panel_set_mode (f->panel, USAM_AUTO_MODE_AMG));
  set_spin (f, USAM_AUTO_MODE_AMG, "points_per_side", 6);
  set_spin (f, USAM_AUTO_MODE_AMG, "pred_iou_thresh", 0);
  set_spin (f, USAM_AUTO_MODE_AMG, "stability_score_thresh", 0);
  wait_auto (f);
  const UsamAutoResult *r = usam_auto_panel_get_result (f->panel);
  ck_assert_ptr_nonnull (r);
  ck_assert_uint_gt (r->n_objects, 0);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (usam_auto_panel_get_segmenter (f->panel)), 2);
}

static guint64
count_label (const UsamAutoResult *r, guint32 label)
{
  guint64 n = 0;
  for (gsize i = 0; i < (gsize) r->width * r->height; i++)
    n += label ? r->labels[i] == label : r->labels[i] != 0;
  return n;
}

START_TEST (test_auto_commit_all)
{
  AutoFixture f = { 0 };
  auto_fixture_open (&f, "auto-all.tif");
  UsamSession *session = usam_window_get_session (f.window);
  UsamAutoSegmenter *seg = usam_auto_panel_get_segmenter (f.panel);

  /* Live: a post-processing parameter re-runs without decoding again. */
  set_spin (&f, USAM_AUTO_MODE_AMG, "min_size", 3);
  wait_auto (&f);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 2);
  set_spin (&f, USAM_AUTO_MODE_AMG, "box_nms_thresh", 0.5);
  wait_auto (&f);
  ck_assert_uint_eq (usam_auto_segmenter_get_n_decoder_runs (seg), 2);
  const UsamAutoResult *r = usam_auto_panel_get_result (f.panel);
  ck_assert_ptr_nonnull (r);
  guint n = r->n_objects;
  ck_assert_uint_gt (n, 0);
  guint64 pixels = count_label (r, 0);

  /* Drawn on the automatic layer, and hidden with it. */
  guint x = 0, y = 0;
  for (gsize i = 0; i < (gsize) r->width * r->height; i++)
    if (r->labels[i] && !x)
      x = (guint) (i % r->width), y = (guint) (i / r->width);
  g_autoptr (GdkTexture) shown = usam_test_render_canvas (f.window, "annotator-auto-amg.png");
  int rgb[3];
  usam_test_pixel_at (f.window, shown, x, y, rgb);
  ck_assert_msg (!usam_test_is_grey (rgb), "automatic object drawn (%d %d %d)", rgb[0], rgb[1], rgb[2]);
  g_object_unref (usam_test_render_widget (GTK_WIDGET (f.window), GTK_WIDGET (f.window), "annotator-auto-window.png"));

  ck_assert (usam_auto_panel_commit_all (f.panel, NULL));
  {
    g_autoptr (GPtrArray) objects = usam_test_objects_of (f.window);
    ck_assert_uint_eq (objects->len, n);
    guint64 area = 0;
    for (guint i = 0; i < objects->len; i++)
      {
        UsamObject *o = g_ptr_array_index (objects, i);
        ck_assert_uint_eq (o->source, USAM_OBJECT_SOURCE_AUTOMATIC);
        area += o->area;
      }
    ck_assert_uint_eq (area, pixels);
  }
  ck_assert_ptr_null (usam_auto_panel_get_result (f.panel));
  /* One undo step takes them all back, one redo brings them again. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (f.window), "annotator.undo", NULL));
  {
    g_autoptr (GPtrArray) objects = usam_test_objects_of (f.window);
    ck_assert_uint_eq (objects->len, 0);
  }
  ck_assert (!usam_session_can_undo (session));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (f.window), "annotator.redo", NULL));
  {
    g_autoptr (GPtrArray) objects = usam_test_objects_of (f.window);
    ck_assert_uint_eq (objects->len, n);
  }

  /* A model without an AIS decoder: AMG only. */
  g_autoptr (UsamModel) plain = usam_test_tiny_model ();
  usam_window_set_model (f.window, plain);
  ck_assert_int_eq (usam_auto_panel_get_mode (f.panel), USAM_AUTO_MODE_AMG);
  ck_assert (!usam_auto_panel_set_mode (f.panel, USAM_AUTO_MODE_AIS));
  ck_assert (!usam_auto_panel_set_mode (f.panel, USAM_AUTO_MODE_APG));
  gtk_widget_set_visible (GTK_WIDGET (f.panel), FALSE);
  gtk_window_destroy (GTK_WINDOW (f.window));
  usam_test_settle ();
}
END_TEST

START_TEST (test_auto_commit_one)
{
  AutoFixture f = { 0 };
  auto_fixture_open (&f, "auto-one.tif");
  UsamSession *session = usam_window_get_session (f.window);
  const UsamAutoResult *r = usam_auto_panel_get_result (f.panel);
  guint n = r->n_objects;
  /* The largest automatic object, clicked with the pick tool. */
  guint32 label = 0;
  guint64 best = 0;
  for (guint32 l = 1; l <= n; l++)
    if (count_label (r, l) > best)
      best = count_label (r, l), label = l;
  gsize at = 0;
  while (r->labels[at] != label)
    at++;
  double x = (double) (at % r->width), y = (double) (at / r->width);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (f.window), "annotator.tool", "i", USAM_TOOL_PICK));
  g_signal_emit_by_name (usam_window_get_canvas (f.window), "pick", x, y);
  {
    g_autoptr (GPtrArray) objects = usam_test_objects_of (f.window);
    ck_assert_uint_eq (objects->len, 1);
    UsamObject *o = g_ptr_array_index (objects, 0);
    ck_assert_uint_eq (o->source, USAM_OBJECT_SOURCE_AUTOMATIC);
    ck_assert_uint_eq (o->area, best);
    ck_assert (usam_object_contains (o, (guint) x, (guint) y));
  }
  /* It left the preview; the rest stays. */
  r = usam_auto_panel_get_result (f.panel);
  ck_assert_uint_eq (count_label (r, label), 0);
  ck_assert_ptr_null (usam_session_get_current (session));
  /* Clicked again, it is the committed object that is picked. */
  g_signal_emit_by_name (usam_window_get_canvas (f.window), "pick", x, y);
  ck_assert_ptr_nonnull (usam_session_get_current (session));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (f.window), "annotator.clear", NULL));
  /* Undo removes it like any edit. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (f.window), "annotator.undo", NULL));
  {
    g_autoptr (GPtrArray) objects = usam_test_objects_of (f.window);
    ck_assert_uint_eq (objects->len, 0);
  }
  /* Hidden, the panel's layer no longer takes clicks: pick says there is nothing. */
  gtk_widget_set_visible (GTK_WIDGET (f.panel), FALSE);
  g_signal_emit_by_name (usam_window_get_canvas (f.window), "pick", x, y);
  {
    g_autoptr (GPtrArray) objects = usam_test_objects_of (f.window);
    ck_assert_uint_eq (objects->len, 0);
  }
  gtk_window_destroy (GTK_WINDOW (f.window));
  usam_test_settle ();
}
END_TEST

static Suite *
annotator_auto_suite (void)
{
  Suite *suite = suite_create ("annotator-auto");
  TCase *tc = usam_test_tcase_new ("auto");
  tcase_add_test (tc, test_auto_commit_all);
  tcase_add_test (tc, test_auto_commit_one);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_gui_run (annotator_auto_suite ());
}
