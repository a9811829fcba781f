/* test-annotator-volume.c — segmenting an object through a volume from the
 * annotator (Shift+S in a volume), under Xvfb with a tiny random model.
 * Its masks mean nothing, so what is checked is the mechanics: the slices
 * reached are those usam_projection_run() reaches from the same seed, they
 * become one object (one label) on each slice in one undo step, the bar
 * says where and why each projection stopped, Continue goes there and
 * carries the object on, several objects go at once, cancelling adds
 * nothing, and everything survives saving and reopening. */
#include "usam-ais-stack.h"
#include "usam-auto-panel.h"
#include "usam-error.h"
#include "usam-h5.h"
#include "usam-test-gui.h"
#include "usam-window.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { W = 64, H = 48, D = 6 };

static gboolean
projection_done (gpointer data)
{
  return !usam_projection_bar_is_running (usam_window_get_projection_bar (data));
}

static gboolean
projection_done_bar (gpointer data)
{
  return !usam_projection_bar_is_running (data);
}

/* A bright disc growing through Z, and a smaller one beside it. */
static char *
write_volume (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamImage) volume = usam_image_new (USAM_PIXEL_TYPE_U16, W, H, 1, D, 1, &error);
  ck_assert_msg (volume != NULL, "%s", error ? error->message : "");
  for (guint z = 0; z < D; z++)
    {
      guint16 *p = usam_image_get_plane_mutable (volume, 0, z);
      for (guint y = 0; y < H; y++)
        for (guint x = 0; x < W; x++)
          {
            double r = 8 + z, a = (x - 20.0) * (x - 20.0) + (y - 24.0) * (y - 24.0);
            double b = (x - 48.0) * (x - 48.0) + (y - 20.0) * (y - 20.0);
            p[y * W + x] = a <= r * r ? 3000 : b <= 36 ? 2000 : 300;
          }
    }
  char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
  ck_assert_msg (usam_image_save_tiff (volume, path, &error), "%s", error ? error->message : "");
  return path;
}

static UsamWindow *
open_volume (const char *path)
{
  g_autoptr (GError) error = NULL;
  UsamWindow *window = usam_test_new_window (900, 700);
  g_autoptr (UsamModel) model = usam_test_tiny_model ();
  usam_window_set_model (window, model);
  ck_assert_msg (usam_window_open (window, path, &error), "%s", error ? error->message : "");
  usam_test_wait_for (usam_test_image_shown, window, "the volume");
  ck_assert_uint_eq (usam_image_get_depth (usam_session_get_image (usam_window_get_session (window))), D);
  return window;
}

static void
set_threshold (UsamWindow *window, double iou_threshold)
{
  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = iou_threshold;
  usam_projection_bar_set_params (usam_window_get_projection_bar (window), &p);
}

/* Shift+S, and waits for the projection to end. */
static void
project (UsamWindow *window)
{
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment-batch", NULL));
  ck_assert (usam_projection_bar_is_running (usam_window_get_projection_bar (window)));
  usam_test_wait_for (projection_done, window, "the projection");
  usam_test_settle ();
}

static void
brush_disc (UsamWindow *window, double x, double y, double r)
{
  g_signal_emit_by_name (usam_window_get_canvas (window), "brush", x, y, x, y, r, FALSE);
}

static guint
count_label (GPtrArray *objects, guint label, gint z)
{
  guint n = 0;
  for (guint i = 0; i < objects->len; i++)
    {
      UsamObject *o = g_ptr_array_index (objects, i);
      n += o->label == label && (z < 0 || o->z == (guint) z);
    }
  return n;
}

static const char *
bar_text (UsamWindow *window)
{
  return usam_projection_bar_get_text (usam_window_get_projection_bar (window));
}

/* One prompt, the object through the volume, one undo, redo, save, reopen. */
START_TEST (test_project_current_object)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_volume ("projected.tif");
  g_autofree char *saved = g_build_filename (usam_test_tmpdir (), "projected-saved.usam", NULL);
  g_autofree guint8 *expected = g_malloc0 ((gsize) D * W * H);
  UsamProjectionEnd down, up;
  guint label;
  {
    UsamWindow *window = open_volume (path);
    UsamSession *session = usam_window_get_session (window);
    usam_session_set_plane (session, 0, 2);
    ck_assert_uint_eq (usam_session_get_z (session), 2);
    brush_disc (window, 20, 24, 9);
    g_autofree guint8 *seed = g_memdup2 (usam_session_get_current (session), W * H);
    set_threshold (window, 0);
    project (window);

    /* What the projection alone gives from the same seed. */
    UsamProjectionParams p = usam_projection_params_default ();
    p.iou_threshold = 0;
    g_autoptr (UsamModel) model = g_object_ref (usam_session_get_model (session));
    ck_assert_msg (usam_projection_run (model, usam_session_get_image (session), 0, 2, seed, &p, NULL, NULL, NULL,
                                        NULL, NULL, expected, &down, &up, &error),
                   "%s", error ? error->message : "");
    g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
    guint n = up.last - down.last + 1;
    ck_assert_uint_eq (objects->len, n);
    label = ((UsamObject *) g_ptr_array_index (objects, 0))->label;
    for (guint z = 0; z < D; z++)
      ck_assert_uint_eq (count_label (objects, label, (gint) z), z >= down.last && z <= up.last);
    for (guint i = 0; i < objects->len; i++)
      {
        UsamObject *o = g_ptr_array_index (objects, i);
        g_autofree guint8 *mask = g_malloc0 (W * H);
        ck_assert (usam_object_paint_mask (o, mask, W, H, 1, NULL));
        ck_assert_msg (memcmp (mask, expected + (gsize) o->z * W * H, W * H) == 0, "slice %u", o->z);
        ck_assert_int_eq (o->source, o->z == 2 ? USAM_OBJECT_SOURCE_BRUSH : USAM_OBJECT_SOURCE_PROMPT);
      }
    /* The current object went into the projection. */
    ck_assert_ptr_null (usam_session_get_current (session));
    /* Where and why it stopped. */
    g_autofree char *range = g_strdup_printf ("object %u: z %u–%u", label, down.last, up.last);
    ck_assert_msg (strstr (bar_text (window), range), "%s", bar_text (window));
    ck_assert_msg (strstr (bar_text (window), up.stop == USAM_PROJECTION_STOP_END ? "reached the last slice"
                                                                                  : "the model found nothing"),
                   "%s", bar_text (window));

    /* One undo takes the whole projection back, seed included; redo
     * brings it again. */
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
    g_autoptr (GPtrArray) undone = usam_test_objects_of (window);
    ck_assert_uint_eq (undone->len, 0);
    ck_assert (!usam_session_can_undo (session));
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.redo", NULL));
    g_autoptr (GPtrArray) redone = usam_test_objects_of (window);
    ck_assert_uint_eq (redone->len, n);

    ck_assert_msg (usam_session_save_as (session, saved, &error), "%s", error ? error->message : "");
    gtk_window_destroy (GTK_WINDOW (window));
    usam_test_settle ();
  }
  {
    UsamWindow *window = usam_test_new_window (900, 700);
    ck_assert_msg (usam_window_open (window, saved, &error), "%s", error ? error->message : "");
    usam_test_wait_for (usam_test_image_shown, window, "the saved project");
    g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
    ck_assert_uint_eq (objects->len, up.last - down.last + 1);
    for (guint z = 0; z < D; z++)
      ck_assert_uint_eq (count_label (objects, label, (gint) z), z >= down.last && z <= up.last);
    for (guint i = 0; i < objects->len; i++)
      {
        UsamObject *o = g_ptr_array_index (objects, i);
        g_autofree guint8 *mask = g_malloc0 (W * H);
        ck_assert (usam_object_paint_mask (o, mask, W, H, 1, NULL));
        ck_assert_msg (memcmp (mask, expected + (gsize) o->z * W * H, W * H) == 0, "reopened slice %u", o->z);
      }
    /* The history came along: one undo still takes it all. */
    ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
    g_autoptr (GPtrArray) undone = usam_test_objects_of (window);
    ck_assert_uint_eq (undone->len, 0);
    gtk_window_destroy (GTK_WINDOW (window));
    usam_test_settle ();
  }
}
END_TEST

/* Two committed objects at once; both stop next to the seed (an IoU
 * threshold no mask reaches), the bar says so, Continue goes to the first
 * stop and carries that object on from a correction there; cancelling
 * adds nothing. */
START_TEST (test_several_stop_continue_cancel)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_volume ("stops.tif");
  UsamWindow *window = open_volume (path);
  UsamSession *session = usam_window_get_session (window);
  UsamProjectionBar *bar = usam_window_get_projection_bar (window);
  usam_session_set_plane (session, 0, 2);
  brush_disc (window, 20, 24, 9);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.commit", NULL));
  brush_disc (window, 48, 20, 5);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.commit", NULL));
  g_autoptr (GPtrArray) committed = usam_test_objects_of (window);
  ck_assert_uint_eq (committed->len, 2);
  guint first = ((UsamObject *) g_ptr_array_index (committed, 0))->label;
  guint second = ((UsamObject *) g_ptr_array_index (committed, 1))->label;

  set_threshold (window, 1.5);
  project (window);
  g_autoptr (GPtrArray) after = usam_test_objects_of (window);
  ck_assert_uint_eq (after->len, 2); /* nothing kept beyond the seeds */
  const char *text = bar_text (window);
  g_autofree char *one = g_strdup_printf ("object %u: z 2–2; stopped at z=1 going down", first);
  g_autofree char *two = g_strdup_printf ("object %u: z 2–2; stopped at z=1 going down", second);
  ck_assert_msg (strstr (text, one) && strstr (text, two), "%s", text);
  ck_assert_msg (strstr (text, "stopped at z=3 going up"), "%s", text);
  ck_assert_msg (strstr (text, "< 1.50") || strstr (text, "the model found nothing"), "%s", text);

  /* Continue goes to where the first object was lost... */
  ck_assert_msg (usam_projection_bar_continue (bar, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (usam_session_get_z (session), 1);
  g_autofree char *lost = g_strdup_printf ("Object %u was lost on slice z=1", first);
  ck_assert_msg (strstr (bar_text (window), lost), "%s", bar_text (window));
  /* ...and from a correction there carries it on under its label. */
  brush_disc (window, 20, 24, 8);
  set_threshold (window, 0);
  ck_assert_msg (usam_projection_bar_continue (bar, &error), "%s", error ? error->message : "");
  usam_test_wait_for (projection_done, window, "the continued projection");
  usam_test_settle ();
  g_autoptr (GPtrArray) continued = usam_test_objects_of (window);
  ck_assert_uint_eq (count_label (continued, first, 1), 1);
  ck_assert_uint_eq (count_label (continued, first, 2), 1); /* the committed one stays */
  ck_assert_uint_eq (count_label (continued, second, -1), 1);
  for (guint z = 0; z < D; z++)
    ck_assert_uint_le (count_label (continued, first, (gint) z), 1);
  ck_assert_uint_ge (continued->len, 4); /* slice 1, and at least 0 or 3 */
  /* The other stops are left to continue, less those where the object now
   * is. */
  ck_assert_msg (usam_projection_bar_continue (bar, &error), "%s", error ? error->message : "");
  guint next_label = 0, next_z = 0;
  ck_assert_msg (sscanf (bar_text (window), "Object %u was lost on slice z=%u", &next_label, &next_z) == 2, "%s",
                 bar_text (window));
  ck_assert_uint_eq (usam_session_get_z (session), next_z);
  ck_assert_uint_eq (count_label (continued, next_label, (gint) next_z), 0);

  /* Cancelled at once: the project is as it was. */
  usam_session_set_plane (session, 0, 2);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment-batch", NULL));
  ck_assert (usam_projection_bar_is_running (bar));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.cancel", NULL)); /* Escape */
  usam_test_wait_for (projection_done, window, "the cancelled projection");
  usam_test_settle ();
  g_autoptr (GPtrArray) cancelled = usam_test_objects_of (window);
  ck_assert_uint_eq (cancelled->len, continued->len);
  for (guint i = 0; i < cancelled->len; i++)
    ck_assert_int_eq (((UsamObject *) g_ptr_array_index (cancelled, i))->id,
                      ((UsamObject *) g_ptr_array_index (continued, i))->id);
  ck_assert_msg (strstr (bar_text (window), "cancelled"), "%s", bar_text (window));

  /* Closing the window while projecting stops it without harm. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.segment-batch", NULL));
  g_object_ref (bar);
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_wait_for (projection_done_bar, bar, "the projection of a closed window");
  usam_test_settle ();
  g_object_unref (bar);
}
END_TEST

/* One label committed on two slices: Shift+S with no current object seeds
 * it on both, fills the gap between them from both ends (as
 * usam_projection_run_multi() does from the same slices), leaves the seeds
 * as they are, says how the gap went, and one undo takes it back. */
START_TEST (test_fill_gap_between_slices)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_volume ("gap.tif");
  UsamWindow *window = open_volume (path);
  UsamSession *session = usam_window_get_session (window);
  g_autofree guint8 *disc = g_malloc0 (W * H);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      disc[y * W + x] = (x - 20.0) * (x - 20.0) + (y - 24.0) * (y - 24.0) <= 81;
  guint label = usam_project_next_label (usam_session_get_project (session), usam_session_get_image_id (session));
  g_autoptr (GPtrArray) seeds = g_ptr_array_new_with_free_func ((GDestroyNotify) usam_object_unref);
  const guint z[2] = { 1, 4 };
  for (guint i = 0; i < 2; i++)
    {
      UsamObject *o = usam_object_new_from_mask (disc, W, H, USAM_OBJECT_SOURCE_BRUSH);
      o->z = z[i];
      o->label = label;
      g_ptr_array_add (seeds, o);
    }
  ck_assert_msg (usam_session_add_volume_objects (session, seeds, 0, FALSE, "seeds", &error), "%s",
                 error ? error->message : "");
  usam_session_set_plane (session, 0, 1);
  ck_assert_ptr_null (usam_session_get_current (session));
  set_threshold (window, 0);
  project (window);

  UsamProjectionParams p = usam_projection_params_default ();
  p.iou_threshold = 0;
  const guint8 *masks[2] = { disc, disc };
  g_autofree guint8 *expected = g_malloc0 ((gsize) D * W * H);
  UsamProjectionEnd down, up;
  UsamProjectionGap gap;
  g_autoptr (UsamModel) model = g_object_ref (usam_session_get_model (session));
  ck_assert_msg (usam_projection_run_multi (model, usam_session_get_image (session), 0, 2, z, masks, &p, NULL, NULL,
                                            NULL, NULL, NULL, expected, &down, &up, &gap, &error),
                 "%s", error ? error->message : "");
  g_autoptr (GPtrArray) objects = usam_test_objects_of (window);
  for (guint k = 0; k < D; k++)
    {
      gboolean filled = FALSE;
      for (gsize j = 0; j < W * H; j++)
        filled = filled || expected[k * W * H + j];
      ck_assert_uint_eq (count_label (objects, label, (gint) k), filled);
    }
  ck_assert_uint_eq (objects->len, count_label (objects, label, -1));
  for (guint i = 0; i < objects->len; i++)
    {
      UsamObject *o = g_ptr_array_index (objects, i);
      g_autofree guint8 *mask = g_malloc0 (W * H);
      ck_assert (usam_object_paint_mask (o, mask, W, H, 1, NULL));
      ck_assert_msg (memcmp (mask, expected + (gsize) o->z * W * H, W * H) == 0, "slice %u", o->z);
      /* the seeds are the committed objects, untouched */
      ck_assert_int_eq (o->source, o->z == 1 || o->z == 4 ? USAM_OBJECT_SOURCE_BRUSH : USAM_OBJECT_SOURCE_PROMPT);
    }
  g_print ("gap fill: %s\n", bar_text (window));
  /* both halves of the gap (z 2 from below, z 3 from above) said how they went */
  g_autofree char *between = g_strdup_printf ("object %u: z %u–%u", label, down.last, up.last);
  ck_assert_msg (strstr (bar_text (window), between), "%s", bar_text (window));
  ck_assert_msg (strstr (bar_text (window), "between z=1 and z=4: "), "%s", bar_text (window));
  if (gap.up.stop == USAM_PROJECTION_STOP_MET)
    ck_assert_msg (strstr (bar_text (window), "filled to z=2 going up"), "%s", bar_text (window));
  if (gap.down.stop == USAM_PROJECTION_STOP_MET)
    ck_assert_msg (strstr (bar_text (window), "filled to z=3 going down"), "%s", bar_text (window));

  /* one undo takes the projection back, the two seeds stay */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
  g_autoptr (GPtrArray) undone = usam_test_objects_of (window);
  ck_assert_uint_eq (undone->len, 2);
  ck_assert_uint_eq (count_label (undone, label, 1) + count_label (undone, label, 4), 2);
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

/* A volume kept as an HDF5 dataset, as μSAM's data often is, opens with
 * its Z slider and gets its embedding, and reopens from its project. */
START_TEST (test_open_hdf5_volume)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *tiff = write_volume ("for-h5.tif");
  g_autoptr (UsamImage) volume = usam_image_load (tiff, &error);
  ck_assert (volume != NULL);
  g_autofree char *file = g_build_filename (usam_test_tmpdir (), "volume.h5", NULL);
  {
    g_autoptr (UsamH5Output) out = usam_h5_output_new (file, &error);
    const hsize_t dims[3] = { D, H, W };
    ck_assert (usam_h5_write (usam_h5_output_get_file (out), "/raw", H5T_NATIVE_UINT16, 3, dims,
                              usam_image_get_plane (volume, 0, 0), TRUE, &error));
    const hsize_t ldims[3] = { D, H, W };
    g_autofree guint32 *labels = g_new0 (guint32, D * H * W);
    ck_assert (usam_h5_write (usam_h5_output_get_file (out), "/labels", H5T_NATIVE_UINT32, 3, ldims, labels, TRUE,
                              &error));
    ck_assert_msg (usam_h5_output_commit (out, &error), "%s", error ? error->message : "");
  }
  g_autofree char *path = g_strdup_printf ("%s:/raw", file);
  for (int round = 0; round < 2; round++)
    {
      UsamWindow *window = open_volume (path);
      UsamSession *session = usam_window_get_session (window);
      UsamImage *shown = usam_session_get_image (session);
      ck_assert_str_eq (usam_image_get_path (shown), path);
      ck_assert (memcmp (usam_image_get_plane (shown, 0, 0), usam_image_get_plane (volume, 0, 0), D * H * W * 2) == 0);
      usam_session_set_plane (session, 0, 3);
      usam_test_wait_for (usam_test_has_embedding, window, "slice 3's embedding");
      gtk_window_destroy (GTK_WINDOW (window));
      usam_test_settle ();
    }
  /* The bare file: of its two datasets, "raw" is the image. */
  UsamWindow *window = open_volume (file);
  ck_assert (memcmp (usam_image_get_plane (usam_session_get_image (usam_window_get_session (window)), 0, 0),
                     usam_image_get_plane (volume, 0, 0), D * H * W * 2)
             == 0);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static gboolean
auto_panel_idle (gpointer data)
{
  return !usam_auto_panel_is_running (usam_window_get_auto_panel (data));
}

/* Automatic 3D from the panel: what usam_ais_segment_volume() gives — the
 * same objects slice by slice, one label per object across slices — in
 * one undo step. Moving through the volume meanwhile does not stop it. */
START_TEST (test_automatic_3d)
{
  usam_test_gui_setup ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_volume ("auto3d.tif");
  UsamWindow *window = usam_test_new_window (900, 700);
  g_autoptr (UsamModel) model = usam_test_tiny_model_with (256, "interpolation", 9);
  usam_window_set_model (window, model);
  ck_assert_msg (usam_window_open (window, path, &error), "%s", error ? error->message : "");
  usam_test_wait_for (usam_test_image_shown, window, "the volume");
  UsamSession *session = usam_window_get_session (window);
  UsamAutoPanel *panel = usam_window_get_auto_panel (window);

  ck_assert_msg (usam_auto_panel_run_volume (panel, &error), "%s", error ? error->message : "");
  usam_session_set_plane (session, 0, 4);
  ck_assert (usam_auto_panel_is_running (panel));
  usam_test_wait_for (auto_panel_idle, window, "automatic 3D");
  usam_test_settle ();

  UsamAutoParams p;
  ck_assert (usam_auto_params_init (&p, model, &error));
  guint n = 0;
  g_autoptr (UsamImage) expected = usam_ais_segment_volume (model, usam_session_get_image (session), 0, &p.ais, NULL,
                                                            USAM_NORMALIZE_MINMAX, NULL, NULL, NULL, &n, &error);
  ck_assert_msg (expected != NULL, "%s", error ? error->message : "");
  ck_assert_uint_gt (n, 0);
  g_autoptr (GPtrArray) objects = usam_project_list_objects (usam_session_get_project (session),
                                                             usam_session_get_image_id (session), -1, -1, &error);
  g_autoptr (GHashTable) labels = g_hash_table_new (NULL, NULL);
  g_autofree guint8 *mask = g_new (guint8, W * H);
  for (guint i = 0; i < objects->len; i++)
    {
      UsamObject *o = objects->pdata[i];
      ck_assert_int_eq (o->source, USAM_OBJECT_SOURCE_AUTOMATIC);
      g_hash_table_add (labels, GUINT_TO_POINTER (o->label));
      memset (mask, 0, W * H);
      usam_object_paint_mask (o, mask, W, H, 1, NULL);
      /* the object is one label of the expected slice, all of it */
      const guint32 *want = (const guint32 *) usam_image_get_plane (expected, 0, o->z);
      guint32 value = 0;
      for (guint k = 0; k < W * H; k++)
        if (mask[k])
          {
            ck_assert (want[k] != 0 && (value == 0 || want[k] == value));
            value = want[k];
          }
      for (guint k = 0; k < W * H; k++)
        ck_assert (!(want[k] == value) || mask[k]);
    }
  ck_assert_uint_eq (g_hash_table_size (labels), n);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.undo", NULL));
  usam_test_settle ();
  ck_assert_uint_eq (usam_project_count_objects (usam_session_get_project (session),
                                                 usam_session_get_image_id (session)),
                     0);
  gtk_window_destroy (GTK_WINDOW (window));
  usam_test_settle ();
}
END_TEST

static Suite *
annotator_volume_suite (void)
{
  Suite *suite = suite_create ("annotator-volume");
  TCase *tc = usam_test_tcase_new ("projection");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_project_current_object);
  tcase_add_test (tc, test_several_stop_continue_cancel);
  tcase_add_test (tc, test_fill_gap_between_slices);
  tcase_add_test (tc, test_open_hdf5_volume);
  tcase_add_test (tc, test_automatic_3d);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return usam_test_gui_run (annotator_volume_suite ());
}
