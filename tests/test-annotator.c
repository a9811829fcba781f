/* test-annotator.c — the annotator window, driven for real under Xvfb:
 * open the sample, prompt, segment with a tiny random model, commit, undo,
 * redo, save, reopen; checks the project and the rendered pixels, and
 * saves screenshots under the build tree (tests/artefacts/).
 *
 * Input goes in where the pointer and the keys put it: the canvas's
 * "point" signal (what a click emits) and the window's actions (what the
 * keys and buttons activate).
 */
#include "usam-error.h"
#include "usam-renderer.h"
#include "usam-test-gui.h"
#include "usam-window.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean
has_current (gpointer data)
{
  UsamSession *s = usam_window_get_session (data);
  return usam_session_get_current (s) != NULL && !usam_session_is_segmenting (s);
}

static gboolean
not_segmenting (gpointer data)
{
  return !usam_session_is_segmenting (usam_window_get_session (data));
}

/* The visible GtkScale whose upper bound is @upper: the Z or T slider. */
static GtkWidget *
find_scale (GtkWidget *root, double upper)
{
  if (GTK_IS_SCALE (root) && gtk_widget_is_visible (root)
      && gtk_adjustment_get_upper (gtk_range_get_adjustment (GTK_RANGE (root))) == upper)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_scale (child, upper);
      if (found)
        return found;
    }
  return NULL;
}

/* A pixel of the mask clear of the prompt's marker (drawn over the masks),
 * and inside the mask by a margin so that filtering does not blur it. */
static gboolean
find_mask_pixel (const guint8 *mask, guint w, guint h, double zoom, guint *x, guint *y)
{
  double clear = 12 / zoom + 3;
  for (guint yy = 2; yy + 2 < h; yy++)
    for (guint xx = 2; xx + 2 < w; xx++)
      {
        if (hypot ((double) xx - *x, (double) yy - *y) < clear)
          continue;
        gboolean inside = TRUE;
        for (int dy = -2; dy <= 2 && inside; dy++)
          for (int dx = -2; dx <= 2 && inside; dx++)
            inside = mask[(gsize) (yy + dy) * w + xx + dx] != 0;
        if (inside)
          {
            *x = xx;
            *y = yy;
            return TRUE;
          }
      }
  return FALSE;
}

START_TEST (test_annotate_save_reopen)
{
  usam_test_gui_setup ();
  g_autofree char *sample = usam_test_source_path ("data/samples/nuclei.tif");
  g_autofree char *saved = g_build_filename (usam_test_tmpdir (), "saved.usam", NULL);
  g_autoptr (GError) error = NULL;
  guint px = 0, py = 0, area = 0;
  {
    UsamWindow *window = usam_test_new_window (900, 700);
    g_autoptr (UsamModel) model = usam_test_tiny_model ();
    usam_window_set_model (window, model);
    ck_assert_msg (usam_window_open (window, sample, &error), "%s", error ? error->message : "");
    usam_test_wait_for (usam_test_has_embedding, window, "the embedding");
    UsamSession *session = usam_window_get_session (window);
    UsamImage *image = usam_session_get_image (session);
    guint w = usam_image_get_width (image), h = usam_image_get_height (image);
    px = w / 2;
    py = h / 2;

    g_autoptr (GdkTexture) before = usam_test_render_canvas (window, "annotator-0-image.png");
    int rgb[3];
    usam_test_pixel_at (window, before, px, py, rgb);
    ck_assert_msg (usam_test_is_grey (rgb), "the image is drawn in grey (%d %d %d)", rgb[0], rgb[1], rgb[2]);

    /* A click's worth: a positive point, then S. */
    g_signal_emit_by_name (usam_window_get_canvas (window), "point", (double) px, (double) py, TRUE);
    guint n_marks = 0;
    usam_session_get_marks (session, &n_marks);
    ck_assert_uint_eq (n_marks, 1);
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment", NULL));
    usam_test_wait_for (has_current, window, "the mask");
    const guint8 *mask = usam_session_get_current (session);
    for (gsize i = 0; i < (gsize) w * h; i++)
      area += mask[i] != 0;
    ck_assert_msg (area > 0 && area < (gsize) w * h, "the random model's mask has %u pixels", area);
    ck_assert_msg (find_mask_pixel (mask, w, h, usam_canvas_get_zoom (usam_window_get_canvas (window)), &px, &py),
                   "the mask has no pixel clear of the prompt");
    g_autoptr (GdkTexture) segmented = usam_test_render_canvas (window, "annotator-1-segmented.png");
    usam_test_pixel_at (window, segmented, px, py, rgb);
    /* The current object is tinted cyan: blue and green above red. */
    ck_assert_msg (rgb[2] > rgb[0] + 40 && rgb[1] > rgb[0] + 40, "current mask drawn (%d %d %d)", rgb[0], rgb[1],
                   rgb[2]);

    /* C commits: one object, with its prompt, in the project. */
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.commit", NULL));
    ck_assert_ptr_null (usam_session_get_current (session));
    {
      g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
      ck_assert_uint_eq (objects->len, 1);
      UsamObject *o = g_ptr_array_index (objects, 0);
      ck_assert_uint_eq (o->area, area);
      ck_assert_uint_eq (o->label, 1);
      ck_assert_uint_eq (o->source, USAM_OBJECT_SOURCE_PROMPT);
      ck_assert_uint_eq (o->marks->len, 1);
      ck_assert_uint_eq (g_array_index (o->marks, UsamMark, 0).kind, USAM_MARK_POSITIVE);
    }
    g_autoptr (GdkTexture) committed = usam_test_render_canvas (window, "annotator-2-committed.png");
    g_object_unref (usam_test_render_widget (GTK_WIDGET (window), GTK_WIDGET (window), "annotator-window.png"));
    int grey[3], tinted[3];
    usam_test_pixel_at (window, before, px, py, grey);
    usam_test_pixel_at (window, committed, px, py, tinted);
    GdkRGBA colour;
    usam_canvas_label_colour (1, &colour);
    const double expected[3] = { colour.red * 255, colour.green * 255, colour.blue * 255 };
    for (int c = 0; c < 3; c++)
      {
        /* The object layer at its default opacity over the grey image. */
        double want = grey[c] * 0.55 + expected[c] * 0.45;
        ck_assert_msg (fabs (tinted[c] - want) <= 12, "channel %d: drawn %d, expected about %.0f", c, tinted[c],
                       want);
      }

    /* Ctrl+Z, Ctrl+Shift+Z. */
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
    {
      g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
      ck_assert_uint_eq (objects->len, 0);
    }
    g_autoptr (GdkTexture) undone = usam_test_render_canvas (window, "annotator-3-undone.png");
    usam_test_pixel_at (window, undone, px, py, rgb);
    ck_assert_msg (usam_test_is_grey (rgb), "undone object no longer drawn (%d %d %d)", rgb[0], rgb[1], rgb[2]);
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.redo", NULL));
    {
      g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
      ck_assert_uint_eq (objects->len, 1);
    }
    /* Batched (Shift+S): each positive point and box its own object, in
     * one step; the negative point is left out. */
    UsamCanvas *canvas = usam_window_get_canvas (window);
    g_signal_emit_by_name (canvas, "point", w / 4.0, h / 4.0, TRUE);
    g_signal_emit_by_name (canvas, "point", w * 0.75, h * 0.75, TRUE);
    g_signal_emit_by_name (canvas, "point", w * 0.75, h / 4.0, FALSE);
    g_signal_emit_by_name (canvas, "box", 10.0, 10.0, 60.0, 50.0);
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment-batch", NULL));
    usam_test_wait_for (not_segmenting, window, "the batch");
    {
      g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
      ck_assert_uint_gt (objects->len, 1);
      ck_assert_uint_le (objects->len, 4);
      for (guint i = 1; i < objects->len; i++)
        {
          UsamObject *b = g_ptr_array_index (objects, i);
          ck_assert_uint_eq (b->marks->len, 1);
          ck_assert_uint_ne (g_array_index (b->marks, UsamMark, 0).kind, USAM_MARK_NEGATIVE);
        }
    }
    g_object_unref (usam_test_render_canvas (window, "annotator-3b-batch.png"));
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
    {
      g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
      ck_assert_uint_eq (objects->len, 1);
    }
    /* Shift+C on a fresh prompt leaves the committed object alone. */
    g_signal_emit_by_name (usam_window_get_canvas (window), "point", 3.0, 3.0, FALSE);
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.clear", NULL));
    guint n_left = 9;
    usam_session_get_marks (session, &n_left);
    ck_assert_uint_eq (n_left, 0);

    ck_assert_msg (usam_session_save_as (session, saved, &error), "%s", error ? error->message : "");
    ck_assert_ptr_null (usam_window_get_message (window) && strstr (usam_window_get_message (window), "rror")
                            ? usam_window_get_message (window)
                            : NULL);
    gtk_window_destroy (GTK_WINDOW (window));
    usam_test_settle ();
  }
  /* Reopen the saved project in a new window: everything is in place. */
  {
    UsamWindow *window = usam_test_new_window (900, 700);
    ck_assert_msg (usam_window_open (window, saved, &error), "%s", error ? error->message : "");
    usam_test_wait_for (usam_test_image_shown, window, "the image of the saved project");
    g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
    ck_assert_uint_eq (objects->len, 1);
    ck_assert_uint_eq (((UsamObject *) g_ptr_array_index (objects, 0))->area, area);
    g_autoptr (GdkTexture) reopened = usam_test_render_canvas (window, "annotator-4-reopened.png");
    int rgb[3];
    usam_test_pixel_at (window, reopened, px, py, rgb);
    ck_assert_msg (!usam_test_is_grey (rgb), "the object is drawn after reopening (%d %d %d)", rgb[0], rgb[1], rgb[2]);
    /* The history came along. */
    UsamSession *session = usam_window_get_session (window);
    ck_assert (usam_session_can_undo (session));
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
    g_autoptr (GPtrArray) after = usam_test_objects_of (window);
    ck_assert_uint_eq (after->len, 0);
    /* No model here: segmenting says so in the window instead of failing
     * silently. */
    g_signal_emit_by_name (usam_window_get_canvas (window), "point", 10.0, 10.0, TRUE);
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment", NULL));
    ck_assert_ptr_nonnull (usam_window_get_message (window));
    ck_assert (strstr (usam_window_get_message (window), "model") != NULL);
    gtk_window_destroy (GTK_WINDOW (window));
    usam_test_settle ();
  }
}
END_TEST

START_TEST (test_series_brush_pick_delete)
{
  usam_test_gui_setup ();
  /* A folder of two images is a series. */
  g_autofree char *dir = g_build_filename (usam_test_tmpdir (), "series", NULL);
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *sample = usam_test_source_path ("data/samples/nuclei.tif");
  g_autofree char *contents = NULL;
  gsize size = 0;
  ck_assert (g_file_get_contents (sample, &contents, &size, NULL));
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/image-%d.tif", dir, i);
      ck_assert (g_file_set_contents (name, contents, (gssize) size, NULL));
    }
  UsamWindow *window = usam_test_new_window (900, 700);
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_window_open (window, dir, &error), "%s", error ? error->message : "");
  usam_test_wait_for (usam_test_image_shown, window, "the first image");
  UsamSession *session = usam_window_get_session (window);
  UsamCanvas *canvas = usam_window_get_canvas (window);
  ck_assert_uint_eq (usam_session_get_n_images (session), 2);
  ck_assert_uint_eq (usam_session_get_image_index (session), 0);

  /* Brush strokes, as the canvas emits them while dragging; no model needed. */
  g_signal_emit_by_name (canvas, "brush", 10.0, 20.0, 40.0, 20.0, 4.0, FALSE);
  g_signal_emit_by_name (canvas, "brush-end");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.commit", NULL));
  g_autoptr (GPtrArray) painted = usam_test_objects_of (window);
  ck_assert_uint_eq (painted->len, 1);
  UsamObject *o = g_ptr_array_index (painted, 0);
  ck_assert_uint_eq (o->source, USAM_OBJECT_SOURCE_BRUSH);
  ck_assert (usam_object_contains (o, 25, 20));
  ck_assert (!usam_object_contains (o, 25, 30));
  guint64 area = o->area;

  /* Pick it, erase part of it, commit: a new version with the same label. */
  g_signal_emit_by_name (canvas, "pick", 25.0, 20.0);
  ck_assert_ptr_nonnull (usam_session_get_current (session));
  g_signal_emit_by_name (canvas, "brush", 30.0, 20.0, 50.0, 20.0, 5.0, TRUE);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.commit", NULL));
  g_autoptr (GPtrArray) corrected = usam_test_objects_of (window);
  ck_assert_uint_eq (corrected->len, 1);
  UsamObject *c = g_ptr_array_index (corrected, 0);
  ck_assert_uint_eq (c->label, o->label);
  ck_assert_uint_lt (c->area, area);
  ck_assert (!usam_object_contains (c, 35, 20));

  /* Delete it, and undo the delete. */
  g_signal_emit_by_name (canvas, "delete", 15.0, 20.0);
  g_autoptr (GPtrArray) deleted = usam_test_objects_of (window);
  ck_assert_uint_eq (deleted->len, 0);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
  g_autoptr (GPtrArray) back = usam_test_objects_of (window);
  ck_assert_uint_eq (back->len, 1);

  /* Import a label image as objects: one step, drawn at once. */
  g_autofree char *labels = usam_test_source_path ("data/samples/nuclei-labels.tif");
  guint n_imported = 0;
  ck_assert_msg (usam_session_import_labels (session, labels, &n_imported, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_gt (n_imported, 5);
  g_autoptr (GPtrArray) imported = usam_test_objects_of (window);
  ck_assert_uint_eq (imported->len, 1 + n_imported);
  g_object_unref (usam_test_render_canvas (window, "annotator-5-imported.png"));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
  g_autoptr (GPtrArray) before_import = usam_test_objects_of (window);
  ck_assert_uint_eq (before_import->len, 1);

  /* N: the next image of the series; the first is done. */
  gint64 first = usam_session_get_image_id (session);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.next-image", NULL));
  ck_assert_uint_eq (usam_session_get_image_index (session), 1);
  g_autoptr (UsamProjectImage) im = usam_project_get_image (usam_session_get_project (session), first, NULL);
  ck_assert_uint_eq (im->status, USAM_IMAGE_STATUS_DONE);
  usam_test_wait_for (usam_test_has_image, window, "the second image");
  ck_assert_int_ne (usam_session_get_image_id (session), first);
  g_autoptr (GPtrArray) second = usam_test_objects_of (window);
  ck_assert_uint_eq (second->len, 0);
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

static void
count_progress (UsamSession *session, double fraction, guint *n)
{
  if (fraction >= 0)
    (*n)++;
}

/* A model read from a file keeps its embeddings on disk: the second window
 * on the same image gets it without encoding. */
START_TEST (test_embedding_disk_cache)
{
  usam_test_gui_setup ();
  g_autofree char *sample = usam_test_source_path ("data/samples/nuclei.tif");
  g_autofree char *model_path = g_build_filename (usam_test_tmpdir (), "tiny.pt", NULL);
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "usam", "embeddings", NULL);
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (UsamModel) random = usam_test_tiny_model ();
    ck_assert_msg (usam_model_save (random, model_path, FALSE, &error), "%s", error ? error->message : "");
  }
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (UsamModel) model = usam_model_new_from_file (model_path, USAM_PRECISION_FP32, &error);
      ck_assert_msg (model != NULL, "%s", error ? error->message : "");
      UsamWindow *window = usam_test_new_window (900, 700);
      guint progress = 0;
      g_signal_connect (usam_window_get_session (window), "progress", G_CALLBACK (count_progress), &progress);
      usam_window_set_model (window, model);
      ck_assert (usam_window_open (window, sample, NULL));
      usam_test_wait_for (usam_test_has_embedding, window, "the embedding");
      /* The first round encodes and writes the file; the second reads it. */
      if (round == 0)
        ck_assert_uint_gt (progress, 0);
      else
        ck_assert_uint_eq (progress, 0);
      gtk_window_destroy (GTK_WINDOW (window));
      usam_test_settle ();
      /* Let the writing thread finish before looking. */
      gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
      while (count_files (cache) != 1 && g_get_monotonic_time () < end)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      ck_assert_uint_eq (count_files (cache), 1);
    }
}
END_TEST

/* A volume: the Z slider appears, and objects belong to their slice. */
START_TEST (test_volume_planes)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) volume = usam_image_new (USAM_PIXEL_TYPE_U16, 64, 48, 1, 3, 1, &error);
  ck_assert_msg (volume != NULL, "%s", error ? error->message : "");
  for (guint z = 0; z < 3; z++)
    {
      guint16 *plane = usam_image_get_plane_mutable (volume, 0, z);
      for (guint i = 0; i < 64 * 48; i++)
        plane[i] = (guint16) (100 * z + i % 64);
    }
  g_autofree char *path = g_build_filename (usam_test_tmpdir (), "volume.tif", NULL);
  ck_assert_msg (usam_image_save_tiff (volume, path, &error), "%s", error ? error->message : "");

  UsamWindow *window = usam_test_new_window (900, 700);
  ck_assert (usam_window_open (window, path, NULL));
  usam_test_wait_for (usam_test_image_shown, window, "the volume");
  UsamSession *session = usam_window_get_session (window);
  ck_assert_uint_eq (usam_image_get_depth (usam_session_get_image (session)), 3);
  /* The Z slider is there, and moving it changes the plane. */
  GtkWidget *scale = find_scale (GTK_WIDGET (window), 2);
  ck_assert_ptr_nonnull (scale);
  ck_assert (gtk_widget_is_visible (scale));
  gtk_range_set_value (GTK_RANGE (scale), 2);
  ck_assert_uint_eq (usam_session_get_z (session), 2);
  g_signal_emit_by_name (usam_window_get_canvas (window), "brush", 10.0, 10.0, 20.0, 10.0, 3.0, FALSE);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.commit", NULL));
  UsamProject *project = usam_session_get_project (session);
  gint64 id = usam_session_get_image_id (session);
  g_autoptr (GPtrArray) on2 = usam_project_list_objects (project, id, 0, 2, NULL);
  g_autoptr (GPtrArray) on0 = usam_project_list_objects (project, id, 0, 0, NULL);
  ck_assert_uint_eq (on2->len, 1);
  ck_assert_uint_eq (on0->len, 0);
  g_object_unref (usam_test_render_widget (GTK_WIDGET (window), GTK_WIDGET (window), "annotator-volume.png"));
  /* Back on slice 0 the object is not drawn there. */
  gtk_range_set_value (GTK_RANGE (scale), 0);
  ck_assert_uint_eq (usam_session_get_z (session), 0);
  g_autoptr (GPtrArray) shown = usam_session_get_objects (session);
  ck_assert_uint_eq (shown->len, 0);
  /* Exported labels have the volume's shape. */
  g_autofree char *out = g_build_filename (usam_test_tmpdir (), "volume-labels.tif", NULL);
  ck_assert_msg (usam_project_export_labels (project, id, out, &error), "%s", error ? error->message : "");
  g_autoptr (UsamImage) labels = usam_image_load (out, &error);
  ck_assert_uint_eq (usam_image_get_depth (labels), 3);
  ck_assert_uint_eq ((guint) usam_image_get_value (labels, 0, 2, 10, 15, 0), 1);
  ck_assert_uint_eq ((guint) usam_image_get_value (labels, 0, 0, 10, 15, 0), 0);
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

START_TEST (test_open_errors)
{
  usam_test_gui_setup ();
  UsamWindow *window = usam_test_new_window (900, 700);
  g_autoptr (GError) error = NULL;
  ck_assert (!usam_window_open (window, "/no/such/image.tif", &error));
  ck_assert_ptr_nonnull (usam_window_get_message (window));
  ck_assert (strstr (usam_window_get_message (window), "/no/such/image.tif") != NULL);
  /* A damaged image: the error arrives from the loading thread. */
  g_autofree char *bad = g_build_filename (usam_test_tmpdir (), "bad.tif", NULL);
  ck_assert (g_file_set_contents (bad, "II*\0garbage", 11, NULL));
  ck_assert (usam_window_open (window, bad, NULL));
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!usam_window_get_message (window) || !strstr (usam_window_get_message (window), "bad.tif"))
    {
      ck_assert (g_get_monotonic_time () < end);
      g_main_context_iteration (NULL, TRUE);
    }
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

/* ---- timings: written to the log and to tests/artefacts/ ---- */

typedef struct
{
  gint64 last, worst;
  guint frames;
  gboolean active;
} FrameStats;

/* Redraws the canvas on every frame, as a pan or zoom does, and records
 * the longest gap between frames. */
static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  FrameStats *f = data;
  gint64 now = g_get_monotonic_time ();
  if (f->active && f->last)
    {
      f->worst = MAX (f->worst, now - f->last);
      f->frames++;
    }
  f->last = now;
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

static void
note_time (gint64 *when)
{
  *when = g_get_monotonic_time ();
}

static void
count_paint (GdkFrameClock *clock, guint *paints)
{
  (*paints)++;
}

static gboolean
is_encoding (gpointer data)
{
  return usam_session_is_encoding (usam_window_get_session (data));
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median time from a point prompt to the first frame painted after its
 * mask arrives, over ten prompts with @model's embedding cached; appended
 * to @report. */
static double
prompt_latency (UsamWindow *window, UsamModel *model, const char *what, GString *report)
{
  usam_window_set_model (window, model);
  usam_test_wait_for (usam_test_has_embedding, window, "the embedding");
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  guint paints = 0;
  gulong handler = g_signal_connect (clock, "after-paint", G_CALLBACK (count_paint), &paints);
  UsamSession *session = usam_window_get_session (window);
  double latency[10], arrival[10];
  gint64 arrived = 0;
  gulong on_mask = g_signal_connect_swapped (session, "current-changed", G_CALLBACK (note_time), &arrived);
  for (guint i = 0; i < G_N_ELEMENTS (latency); i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (window), "annotator.clear", NULL);
      usam_test_settle ();
      gint64 start = g_get_monotonic_time ();
      g_signal_emit_by_name (usam_window_get_canvas (window), "point", 40.0 + 20 * i, 60.0 + 15 * i, TRUE);
      gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment", NULL);
      usam_test_wait_for (has_current, window, "the mask");
      guint seen = paints;
      while (paints == seen)
        g_main_context_iteration (NULL, TRUE);
      latency[i] = (g_get_monotonic_time () - start) / 1000.0;
      arrival[i] = (arrived - start) / 1000.0;
    }
  g_signal_handler_disconnect (clock, handler);
  g_signal_handler_disconnect (session, on_mask);
  ck_assert_ptr_nonnull (usam_session_get_current (session));
  qsort (arrival, G_N_ELEMENTS (arrival), sizeof (double), compare_doubles);
  qsort (latency, G_N_ELEMENTS (latency), sizeof (double), compare_doubles);
  g_string_append_printf (report,
                          "prompt → mask drawn (%s, cached embedding): median %.1f ms, max %.1f ms "
                          "(mask back in the main loop: median %.1f ms)\n",
                          what, latency[G_N_ELEMENTS (latency) / 2], latency[G_N_ELEMENTS (latency) - 1],
                          arrival[G_N_ELEMENTS (arrival) / 2]);
  return latency[G_N_ELEMENTS (latency) / 2];
}

START_TEST (test_timings)
{
  usam_test_gui_setup ();
  g_autofree char *sample = usam_test_source_path ("data/samples/nuclei.tif");
  g_autoptr (GString) report = g_string_new (NULL);

  /* Window: from creation to the first frame showing the image. */
  gint64 t0 = g_get_monotonic_time ();
  UsamWindow *window = usam_test_new_window (900, 700);
  gint64 mapped = g_get_monotonic_time ();
  ck_assert (usam_window_open (window, sample, NULL));
  usam_test_wait_for (usam_test_image_shown, window, "the image");
  double appear_ms = (mapped - t0) / 1000.0;
  double image_ms = (usam_canvas_get_first_image_frame_time (usam_window_get_canvas (window)) - t0) / 1000.0;
  g_string_append_printf (report, "window mapped: %.0f ms; first frame with the image: %.0f ms\n", appear_ms,
                          image_ms);

  /* Prompt → mask on screen, with the embedding cached: the tiny random
   * model (1024² input, SAM's full decoder) and the bundled starter model
   * (256² input), the default. */
  g_autoptr (UsamModel) model = usam_test_tiny_model ();
  double tiny_ms = prompt_latency (window, model, "tiny model", report);
  g_autoptr (GError) error = NULL;
  g_autofree char *starter_path = usam_test_source_path ("data/models/usam-starter.pt");
  g_autoptr (UsamModel) starter = usam_model_new_from_file (starter_path, USAM_PRECISION_AUTO, &error);
  ck_assert_msg (starter != NULL, "%s", error ? error->message : "");
  prompt_latency (window, starter, "starter model", report);
  UsamSession *session = usam_window_get_session (window);

  /* Frames while an embedding computes in the background, against the
   * same second without one. */
  FrameStats idle = { 0 }, busy = { 0 };
  idle.active = TRUE;
  guint tick = gtk_widget_add_tick_callback (GTK_WIDGET (usam_window_get_canvas (window)), on_tick, &idle, NULL);
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_remove_tick_callback (GTK_WIDGET (usam_window_get_canvas (window)), tick);

  UsamArchitecture arch;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, NULL));
  arch.width = 384;
  arch.heads = 6;
  arch.mlp_dim = 4 * 384;
  g_autoptr (UsamModel) bigger = usam_model_new_from_architecture (&arch, 5, USAM_PRECISION_FP32, &error);
  ck_assert_msg (bigger != NULL, "%s", error ? error->message : "");
  tick = gtk_widget_add_tick_callback (GTK_WIDGET (usam_window_get_canvas (window)), on_tick, &busy, NULL);
  gint64 encode_start = g_get_monotonic_time ();
  usam_window_set_model (window, bigger);
  ck_assert (usam_session_is_encoding (session));
  busy.active = TRUE;
  while (is_encoding (window))
    g_main_context_iteration (NULL, TRUE);
  busy.active = FALSE;
  double encode_ms = (g_get_monotonic_time () - encode_start) / 1000.0;
  gtk_widget_remove_tick_callback (GTK_WIDGET (usam_window_get_canvas (window)), tick);
  ck_assert (usam_session_has_embedding (session));
  g_string_append_printf (report,
                          "frames: longest gap %.1f ms over %u frames during a %.0f ms embedding "
                          "(idle: %.1f ms over %u frames)\n",
                          busy.worst / 1000.0, busy.frames, encode_ms, idle.worst / 1000.0, idle.frames);
  g_string_append_printf (report, "renderer: %s\n",
                          G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));
  fputs (report->str, stdout);
  g_autofree char *dir = usam_test_build_path ("tests/artefacts");
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *path = g_build_filename (dir, "annotator-timings.txt", NULL);
  ck_assert (g_file_set_contents (path, report->str, -1, NULL));

  /* Generous bounds: these catch work on the main loop, not slow machines. */
  ck_assert_msg (image_ms < 5000, "%s", report->str);
  ck_assert_msg (tiny_ms < 5000, "%s", report->str);
  /* Frames keep coming while the model works: at least 10 a second, and
   * no stall longer than half the encode (the whole encode on the main
   * loop would be one). The numbers themselves go to the report: they
   * depend on what else the cores are doing. */
  ck_assert_msg (busy.frames >= encode_ms / 100 && busy.worst < encode_ms * 1000 / 2, "%s", report->str);
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

/* ---- the renderer ---- */

/* Without a GPU (Xvfb here: Mesa's llvmpipe, or no GL at all) the window
 * draws with cairo, which the timing case measured several times faster. */
START_TEST (test_renderer_software_gl)
{
  usam_test_gui_setup ();
  g_unsetenv ("GSK_RENDERER");
  g_autofree char *gl = usam_renderer_choose ();
  UsamWindow *window = usam_test_new_window (400, 300);
  const char *renderer = G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window)));
  printf ("GL: %s; window renderer: %s\n", gl ? gl : "(none)", renderer);
  gboolean software = !gl || strstr (gl, "llvmpipe") || strstr (gl, "softpipe") || strstr (gl, "swrast");
  if (software)
    ck_assert_str_eq (renderer, "GskCairoRenderer");
  else
    ck_assert_str_ne (renderer, "GskCairoRenderer");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A renderer the user asked for is kept, and GL is not even probed. */
START_TEST (test_renderer_explicit)
{
  usam_test_gui_setup ();
  g_setenv ("GSK_RENDERER", "gl", TRUE);
  ck_assert_ptr_null (usam_renderer_choose ());
  ck_assert_str_eq (g_getenv ("GSK_RENDERER"), "gl");
}
END_TEST

static Suite *
annotator_suite (void)
{
  Suite *suite = suite_create ("annotator");
  TCase *tc = usam_test_tcase_new ("window");
  tcase_add_test (tc, test_annotate_save_reopen);
  tcase_add_test (tc, test_renderer_software_gl);
  tcase_add_test (tc, test_renderer_explicit);
  tcase_add_test (tc, test_series_brush_pick_delete);
  tcase_add_test (tc, test_embedding_disk_cache);
  tcase_add_test (tc, test_volume_planes);
  tcase_add_test (tc, test_open_errors);
  suite_add_tcase (suite, tc);
  /* Its own case, so CK_RUN_CASE=timing runs it alone. */
  TCase *timing = usam_test_tcase_new ("timing");
  tcase_add_test (timing, test_timings);
  suite_add_tcase (suite, timing);
  return suite;
}

int
main (void)
{
  return usam_test_gui_run (annotator_suite ());
}
