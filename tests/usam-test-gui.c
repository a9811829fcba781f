#include "usam-test-gui.h"

#include <glib/gstdio.h>
#include <stdlib.h>

void
usam_test_wait_within (double seconds, UsamTestCondition condition, gpointer data, const char *what)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (!condition (data))
    {
      ck_assert_msg (g_get_monotonic_time () < end, "timed out waiting for %s", what);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }
}

void
usam_test_wait_for (UsamTestCondition condition, gpointer data, const char *what)
{
  usam_test_wait_within (USAM_TEST_WAIT_SECONDS, condition, data, what);
}

void
usam_test_settle (void)
{
  for (int i = 0; i < 20 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

gboolean
usam_test_is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

gboolean
usam_test_image_shown (gpointer data)
{
  return usam_canvas_get_first_image_frame_time (usam_window_get_canvas (data)) != 0;
}

gboolean
usam_test_has_image (gpointer data)
{
  return usam_session_get_image (usam_window_get_session (data)) != NULL;
}

gboolean
usam_test_has_embedding (gpointer data)
{
  UsamSession *s = usam_window_get_session (data);
  return usam_session_get_image (s) && usam_session_has_embedding (s);
}

void
usam_test_set_xdg_dirs (void)
{
  g_autofree char *data = g_build_filename (usam_test_tmpdir (), "xdg-data", NULL);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_autofree char *cache = g_build_filename (usam_test_tmpdir (), "xdg-cache", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
}

void
usam_test_gui_setup (void)
{
  usam_test_set_xdg_dirs ();
  ck_assert (gtk_init_check ());
}

int
usam_test_gui_run (Suite *suite)
{
#if defined(__SANITIZE_ADDRESS__)
  /* GDK probes GL when it opens the display, and Mesa's drivers are
   * dlclose'd again: LeakSanitizer then reports what they keep as leaks of
   * an unknown module, which no suppression can name. Without GL the
   * window draws with the cairo renderer. */
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
#endif
  return usam_test_run (suite);
}

UsamModel *
usam_test_tiny_model (void)
{
  g_autoptr (GError) error = NULL;
  UsamModel *model = usam_model_new_random ("tiny", 3, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  return model;
}

UsamModel *
usam_test_tiny_model_with (guint img_size, const char *ais_variant, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  UsamArchitecture arch;
  ck_assert (usam_architecture_from_preset ("tiny", &arch, &error));
  if (img_size)
    arch.img_size = img_size;
  if (ais_variant)
    arch.ais_variant = ais_variant;
  UsamModel *model = usam_model_new_from_architecture (&arch, seed, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s", error ? error->message : "");
  return model;
}

UsamWindow *
usam_test_new_window (int width, int height)
{
  UsamWindow *window = usam_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  usam_test_wait_for (usam_test_is_mapped, window, "the window to appear");
  return window;
}

GPtrArray *
usam_test_objects_of (UsamWindow *window)
{
  UsamSession *s = usam_window_get_session (window);
  g_autoptr (GError) error = NULL;
  GPtrArray *objects
      = usam_project_list_objects (usam_session_get_project (s), usam_session_get_image_id (s), -1, -1, &error);
  ck_assert_msg (objects != NULL, "%s", error ? error->message : "");
  return objects;
}

typedef struct
{
  GtkWidget *widget;
  GskRenderNode *node;
  int width, height;
} Drawing;

/* A widget whose allocation is pending (a slider just appeared, say) draws
 * nothing until the frame clock has laid it out again. */
static gboolean
drawn (gpointer data)
{
  Drawing *d = data;
  d->width = gtk_widget_get_width (d->widget);
  d->height = gtk_widget_get_height (d->widget);
  if (d->width <= 0 || d->height <= 0 || !gtk_widget_get_mapped (d->widget))
    return FALSE;
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (d->widget);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, d->width, d->height);
  d->node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  return d->node != NULL;
}

GdkTexture *
usam_test_render_widget (GtkWidget *native, GtkWidget *widget, const char *artefact)
{
  usam_test_settle ();
  Drawing d = { widget, NULL, 0, 0 };
  usam_test_wait_for (drawn, &d, "the widget to draw");
  g_autoptr (GskRenderNode) node = d.node;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (native));
  GdkTexture *texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, d.width, d.height));
  g_autofree char *dir = usam_test_build_path ("tests/artefacts");
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *path = g_build_filename (dir, artefact, NULL);
  ck_assert (gdk_texture_save_to_png (texture, path));
  return texture;
}

GdkTexture *
usam_test_render_canvas (UsamWindow *window, const char *artefact)
{
  return usam_test_render_widget (GTK_WIDGET (window), GTK_WIDGET (usam_window_get_canvas (window)), artefact);
}

void
usam_test_pixel_at (UsamWindow *window, GdkTexture *texture, double x, double y, int rgb[3])
{
  double wx, wy;
  usam_canvas_image_to_widget (usam_window_get_canvas (window), x + 0.5, y + 0.5, &wx, &wy);
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  int px = (int) wx, py = (int) wy;
  ck_assert (px >= 0 && py >= 0 && px < w && py < h);
  g_autofree guint8 *data = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, data, (gsize) w * 4); /* B8G8R8A8 premultiplied, opaque here */
  const guint8 *p = data + ((gsize) py * w + px) * 4;
  rgb[0] = p[2];
  rgb[1] = p[1];
  rgb[2] = p[0];
}

gboolean
usam_test_is_grey (const int rgb[3])
{
  return abs (rgb[0] - rgb[1]) <= 2 && abs (rgb[1] - rgb[2]) <= 2;
}
