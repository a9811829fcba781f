#include "usam-window-private.h"

#include "usam-auto-panel.h"
#include "usam-histogram.h"
#include "usam-image-display.h"
#include "usam-projection-bar.h"
#include "usam-renderer.h"
#include "usam-toolbar.h"

#include <math.h>

/* Informational messages go away by themselves; errors stay until closed. */
#define MESSAGE_SECONDS 4

G_DEFINE_FINAL_TYPE (UsamWindow, usam_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---- messages ---- */

static gboolean
message_expired (gpointer user_data)
{
  UsamWindow *self = user_data;
  self->message_timeout = 0;
  gtk_revealer_set_reveal_child (self->message_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

void
usam_window_show_message (UsamWindow *self, const char *text, gboolean is_error)
{
  g_return_if_fail (USAM_IS_WINDOW (self));
  gtk_label_set_text (self->message_label, text);
  if (is_error)
    gtk_widget_add_css_class (self->message_box, "error");
  else
    gtk_widget_remove_css_class (self->message_box, "error");
  gtk_revealer_set_reveal_child (self->message_revealer, TRUE);
  g_clear_handle_id (&self->message_timeout, g_source_remove);
  if (!is_error)
    self->message_timeout = g_timeout_add_seconds (MESSAGE_SECONDS, message_expired, self);
}

const char *
usam_window_get_message (UsamWindow *self)
{
  if (!gtk_revealer_get_reveal_child (self->message_revealer))
    return NULL;
  return gtk_label_get_text (self->message_label);
}

void
usam_window_show_error (UsamWindow *self, GError *error)
{
  if (error)
    usam_window_show_message (self, error->message, TRUE);
}

static void
on_session_message (UsamSession *session, const char *text, gboolean is_error, UsamWindow *self)
{
  usam_window_show_message (self, text, is_error);
}

/* ---- keeping the controls in step with the session ---- */

void
usam_window_update_state (UsamWindow *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  if (!self->session)
    return; /* being destroyed */
  gboolean image = usam_session_get_image (self->session) != NULL;
  guint n_marks = 0;
  usam_session_get_marks (self->session, &n_marks);
  gboolean current = usam_session_get_current (self->session) != NULL;
  gtk_widget_action_set_enabled (w, "annotator.segment", image && n_marks > 0);
  UsamImage *shown = usam_session_get_image (self->session);
  gboolean volume = image && usam_image_get_depth (shown) > 1;
  gboolean series = image && usam_image_get_frames (shown) > 1;
  gtk_widget_action_set_enabled (w, "annotator.segment-batch", image && (n_marks > 0 || volume || series));
  gtk_widget_action_set_enabled (w, "annotator.follow", series);
  gtk_widget_action_set_enabled (w, "annotator.commit", image && current);
  gtk_widget_action_set_enabled (w, "annotator.clear", image && (current || n_marks));
  gtk_widget_action_set_enabled (w, "annotator.undo", usam_session_can_undo (self->session));
  gtk_widget_action_set_enabled (w, "annotator.redo", usam_session_can_redo (self->session));
  guint n = usam_session_get_n_images (self->session);
  gtk_widget_action_set_enabled (w, "annotator.next-image", n > 1 && usam_session_get_image_index (self->session) + 1 < n);
  gtk_widget_action_set_enabled (w, "annotator.save-as", usam_session_get_project (self->session) != NULL);

  usam_model_chooser_set_model (self->model_chooser, usam_session_get_model (self->session));

  const char *status;
  if (!usam_session_get_n_images (self->session))
    status = "Open an image, a folder or a project (Ctrl+O), or drop one here.";
  else if (!image)
    status = "Loading the image…";
  else if (!usam_session_get_model (self->session))
    status = "No model: choose one with the Model button to segment. Brush and eraser work without one.";
  else if (usam_session_is_encoding (self->session))
    status = "Computing the image embedding… you can already place prompts.";
  else if (usam_session_is_segmenting (self->session))
    status = "Segmenting…";
  else if (usam_session_has_embedding (self->session))
    status = "Ready: place prompts, S segments, C commits.";
  else
    status = "The embedding was not computed: press S to compute it.";
  gtk_label_set_text (self->status, status);
}

static void
set_spin_quietly (GtkSpinButton *spin, gulong handler, double min, double max, double value)
{
  g_signal_handler_block (spin, handler);
  double step = max - min > 1000 ? 1 : max - min > 2 ? 1 : (max - min) / 100;
  gtk_spin_button_set_digits (spin, step < 1 ? 3 : 0);
  gtk_spin_button_set_increments (spin, MAX (step, 1e-6), MAX (step * 10, 1e-5));
  gtk_spin_button_set_range (spin, min, max);
  gtk_spin_button_set_value (spin, value);
  g_signal_handler_unblock (spin, handler);
}

void
usam_window_update_contrast_controls (UsamWindow *self)
{
  double min, max, low, high;
  usam_canvas_get_value_range (self->canvas, &min, &max);
  usam_canvas_get_contrast (self->canvas, &low, &high);
  if (max <= min)
    max = min + 1;
  set_spin_quietly (self->low, self->low_handler, MIN (min, low), MAX (max, high), low);
  set_spin_quietly (self->high, self->high_handler, MIN (min, low), MAX (max, high), high);
  usam_histogram_set_limits (self->histogram, low, high);
}

static void
on_objects_changed (UsamSession *session, UsamWindow *self)
{
  g_autoptr (GPtrArray) objects = usam_session_get_objects (session);
  usam_canvas_set_objects (self->canvas, objects);
}

static void
on_current_changed (UsamSession *session, UsamWindow *self)
{
  guint n_marks = 0;
  const UsamMark *marks = usam_session_get_marks (session, &n_marks);
  usam_canvas_set_marks (self->canvas, marks, n_marks);
  usam_canvas_set_current (self->canvas, usam_session_get_current (session));
}

void
usam_window_update_titles (UsamWindow *self)
{
  UsamProject *project = usam_session_get_project (self->session);
  UsamImage *image = usam_session_get_image (self->session);
  guint n = usam_session_get_n_images (self->session);
  g_autofree char *name = image && usam_image_get_path (image) ? g_path_get_basename (usam_image_get_path (image))
                                                                : g_strdup ("usam");
  g_autofree char *title = n > 1 ? g_strdup_printf ("%s (%u of %u)", name, usam_session_get_image_index (self->session) + 1, n)
                                 : g_strdup (name);
  gtk_label_set_text (self->title, title);
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_label_set_text (self->subtitle, project ? usam_project_get_path (project) : "");
}

static void
on_image_changed (UsamSession *session, UsamWindow *self)
{
  UsamImage *image = usam_session_get_image (session);
  guint t = usam_session_get_t (session), z = usam_session_get_z (session);
  usam_canvas_set_plane (self->canvas, image, t, z);
  guint depth = image ? usam_image_get_depth (image) : 1, frames = image ? usam_image_get_frames (image) : 1;
  gtk_widget_set_visible (self->z_row, depth > 1);
  gtk_widget_set_visible (self->t_row, frames > 1);
  if (depth > 1)
    {
      gtk_range_set_range (GTK_RANGE (self->z_scale), 0, depth - 1);
      gtk_range_set_value (GTK_RANGE (self->z_scale), z);
    }
  if (frames > 1)
    {
      gtk_range_set_range (GTK_RANGE (self->t_scale), 0, frames - 1);
      gtk_range_set_value (GTK_RANGE (self->t_scale), t);
    }
  if (image)
    {
      double min, max;
      guint64 bins[128];
      usam_canvas_get_value_range (self->canvas, &min, &max);
      usam_image_plane_histogram (image, t, z, 0, min, max, bins, G_N_ELEMENTS (bins));
      usam_histogram_set_data (self->histogram, bins, G_N_ELEMENTS (bins), min, max);
      usam_window_update_contrast_controls (self);
    }
  else
    usam_histogram_set_data (self->histogram, NULL, 0, 0, 1);
  usam_window_update_titles (self);
}

static void
on_progress (UsamSession *session, double fraction, UsamWindow *self)
{
  gtk_widget_set_visible (self->progress_box, fraction >= 0);
  if (fraction >= 0)
    gtk_progress_bar_set_fraction (self->progress, fraction);
}

static void
on_plane_scale (GtkRange *range, UsamWindow *self)
{
  guint t = (guint) lround (gtk_range_get_value (GTK_RANGE (self->t_scale)));
  guint z = (guint) lround (gtk_range_get_value (GTK_RANGE (self->z_scale)));
  if (!gtk_widget_get_visible (self->t_row))
    t = 0;
  if (!gtk_widget_get_visible (self->z_row))
    z = 0;
  usam_session_set_plane (self->session, t, z);
}

/* ---- canvas input ---- */

static void
on_point (UsamCanvas *canvas, double x, double y, gboolean positive, UsamWindow *self)
{
  UsamMark mark = { positive ? USAM_MARK_POSITIVE : USAM_MARK_NEGATIVE, (float) x, (float) y, 0, 0 };
  usam_session_add_mark (self->session, &mark);
}

static void
on_box (UsamCanvas *canvas, double x0, double y0, double x1, double y1, UsamWindow *self)
{
  UsamMark mark = { USAM_MARK_BOX, (float) x0, (float) y0, (float) x1, (float) y1 };
  usam_session_add_mark (self->session, &mark);
}

static void
on_brush (UsamCanvas *canvas, double x0, double y0, double x1, double y1, double radius, gboolean erase,
          UsamWindow *self)
{
  usam_session_brush (self->session, x0, y0, x1, y1, radius, erase);
}

static void
on_pick (UsamCanvas *canvas, double x, double y, UsamWindow *self)
{
  /* With the automatic panel shown, a click on an automatic object commits it. */
  g_autoptr (GError) error = NULL;
  gboolean handled = FALSE;
  if (!usam_auto_panel_commit_at (self->auto_panel, (guint) x, (guint) y, &handled, &error))
    usam_window_show_error (self, error);
  if (handled)
    return;
  if (!usam_session_pick (self->session, (guint) x, (guint) y))
    usam_window_show_message (self, "There is no object there.", FALSE);
}

static void
on_delete (UsamCanvas *canvas, double x, double y, UsamWindow *self)
{
  g_autoptr (GError) error = NULL;
  if (!usam_session_delete_at (self->session, (guint) x, (guint) y, &error))
    usam_window_show_error (self, error);
}

static void
on_hover (UsamCanvas *canvas, double x, double y, UsamWindow *self)
{
  UsamImage *image = usam_session_get_image (self->session);
  if (!image || x < 0 || y < 0 || x >= usam_image_get_width (image) || y >= usam_image_get_height (image))
    {
      gtk_label_set_text (self->position, "");
      return;
    }
  g_autoptr (GString) text = g_string_new (NULL);
  g_string_printf (text, "x %d  y %d  ", (int) x, (int) y);
  guint channels = MIN (usam_image_get_channels (image), 4);
  for (guint c = 0; c < channels; c++)
    g_string_append_printf (text, "%s%g", c ? ", " : "",
                            usam_image_get_value (image, usam_session_get_t (self->session),
                                                  usam_session_get_z (self->session), (guint) y, (guint) x, c));
  gtk_label_set_text (self->position, text->str);
}

static void
on_contrast_spin (GtkSpinButton *spin, UsamWindow *self)
{
  usam_canvas_set_contrast (self->canvas, gtk_spin_button_get_value (self->low),
                            gtk_spin_button_get_value (self->high));
  usam_histogram_set_limits (self->histogram, gtk_spin_button_get_value (self->low),
                             gtk_spin_button_get_value (self->high));
}

/* ---- files ---- */

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, UsamWindow *self)
{
  GSList *files = g_value_get_boxed (value);
  if (!files)
    return FALSE;
  g_autofree char *path = g_file_get_path (files->data);
  return path && usam_window_open (self, path, NULL);
}

gboolean
usam_window_open (UsamWindow *self, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (!usam_session_open (self->session, path, &local))
    {
      usam_window_show_error (self, local);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  usam_window_update_titles (self);
  usam_window_update_state (self);
  return TRUE;
}

void
usam_window_set_model (UsamWindow *self, UsamModel *model)
{
  usam_session_set_model (self->session, model);
}

void
usam_window_load_model (UsamWindow *self, const char *path)
{
  gtk_label_set_text (self->status, "Loading the model…");
  usam_session_load_model (self->session, path);
}

UsamSession *
usam_window_get_session (UsamWindow *self)
{
  return self->session;
}

UsamAutoPanel *
usam_window_get_auto_panel (UsamWindow *self)
{
  return self->auto_panel;
}

UsamLineageView *
usam_window_get_lineage_view (UsamWindow *self)
{
  return self->lineage_view;
}

UsamCanvas *
usam_window_get_canvas (UsamWindow *self)
{
  return self->canvas;
}

UsamProjectionBar *
usam_window_get_projection_bar (UsamWindow *self)
{
  return self->projection_bar;
}


/* ---- construction ---- */

static GtkWidget *
icon_button (const char *icon, const char *tip, const char *action, GVariant *target)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);
  gtk_widget_set_tooltip_text (button, tip);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (target)
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), target);
  return button;
}

static GtkWidget *
text_button (const char *label, const char *tip, const char *action)
{
  GtkWidget *button = gtk_button_new_with_label (label);
  gtk_widget_set_tooltip_text (button, tip);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  return button;
}

static GtkWidget *
plane_row (UsamWindow *self, const char *name, GtkScale **scale)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), gtk_label_new (name));
  *scale = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 1));
  gtk_scale_set_draw_value (*scale, TRUE);
  gtk_scale_set_digits (*scale, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (*scale), TRUE);
  g_signal_connect (*scale, "value-changed", G_CALLBACK (on_plane_scale), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (*scale));
  gtk_widget_set_visible (row, FALSE);
  return row;
}

static GtkWidget *
build_header (UsamWindow *self)
{
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *titles = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_valign (titles, GTK_ALIGN_CENTER);
  self->title = GTK_LABEL (gtk_label_new ("usam"));
  gtk_widget_add_css_class (GTK_WIDGET (self->title), "title");
  self->subtitle = GTK_LABEL (gtk_label_new (""));
  gtk_widget_add_css_class (GTK_WIDGET (self->subtitle), "subtitle");
  gtk_label_set_ellipsize (self->subtitle, PANGO_ELLIPSIZE_START);
  gtk_box_append (GTK_BOX (titles), GTK_WIDGET (self->title));
  gtk_box_append (GTK_BOX (titles), GTK_WIDGET (self->subtitle));
  gtk_header_bar_set_title_widget (GTK_HEADER_BAR (header), titles);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), icon_button ("document-open-symbolic",
                             "Open an image, folder or project (Ctrl+O)", "annotator.choose",
                             g_variant_new_int32 (CHOOSE_OPEN)));
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), icon_button ("folder-open-symbolic",
                             "Open a folder of images as a series (Ctrl+Shift+O)", "annotator.choose",
                             g_variant_new_int32 (CHOOSE_FOLDER)));
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), icon_button ("document-save-as-symbolic",
                             "Save the project as… (Ctrl+S); edits are saved as you make them",
                             "annotator.save-as", NULL));
  self->model_chooser = USAM_MODEL_CHOOSER (usam_model_chooser_new (CHOOSE_MODEL));
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), GTK_WIDGET (self->model_chooser));
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), text_button ("Train…", "Fine-tune a model on this project's "
                                                                   "objects or on folders", "annotator.train"));
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), icon_button ("document-send-symbolic",
                           "Export the labels as TIFF", "annotator.choose", g_variant_new_int32 (CHOOSE_EXPORT)));
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), icon_button ("insert-object-symbolic",
                           "Import a label image as objects", "annotator.choose", g_variant_new_int32 (CHOOSE_IMPORT)));
  return header;
}

static GtkWidget *
build_message (UsamWindow *self)
{
  self->message_revealer = GTK_REVEALER (gtk_revealer_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->message_revealer), GTK_ALIGN_START);
  gtk_widget_set_halign (GTK_WIDGET (self->message_revealer), GTK_ALIGN_CENTER);
  self->message_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (self->message_box, "osd");
  gtk_widget_add_css_class (self->message_box, "toolbar");
  self->message_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->message_label, TRUE);
  gtk_label_set_max_width_chars (self->message_label, 80);
  gtk_label_set_selectable (self->message_label, TRUE);
  gtk_box_append (GTK_BOX (self->message_box), GTK_WIDGET (self->message_label));
  GtkWidget *close = icon_button ("window-close-symbolic", "Close", "annotator.dismiss", NULL);
  gtk_box_append (GTK_BOX (self->message_box), close);
  gtk_revealer_set_child (self->message_revealer, self->message_box);
  return GTK_WIDGET (self->message_revealer);
}

static GtkWidget *
build_status (UsamWindow *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (bar, "toolbar");
  self->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_ellipsize (self->status, PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (self->status, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->status), TRUE);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->status));
  self->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (GTK_WIDGET (self->progress), 160, -1);
  gtk_box_append (GTK_BOX (self->progress_box), GTK_WIDGET (self->progress));
  gtk_box_append (GTK_BOX (self->progress_box), icon_button ("process-stop-symbolic", "Cancel the embedding",
                                                             "annotator.cancel", NULL));
  gtk_widget_set_visible (self->progress_box, FALSE);
  gtk_box_append (GTK_BOX (bar), self->progress_box);
  self->position = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_width_chars (self->position, 24);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->position));
  gtk_box_append (GTK_BOX (bar), gtk_label_new ("Contrast"));
  self->histogram = USAM_HISTOGRAM (usam_histogram_new ());
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->histogram));
  self->low = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 1, 1));
  self->high = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 1, 1));
  self->low_handler = g_signal_connect (self->low, "value-changed", G_CALLBACK (on_contrast_spin), self);
  self->high_handler = g_signal_connect (self->high, "value-changed", G_CALLBACK (on_contrast_spin), self);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->low));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->high));
  gtk_box_append (GTK_BOX (bar), text_button ("Auto", "Contrast from the 0.4 and 99.6 percentiles",
                                              "annotator.auto-contrast"));
  return bar;
}

static void
usam_window_init (UsamWindow *self)
{
  self->session = usam_session_new ();
  gtk_window_set_default_size (GTK_WINDOW (self), 1100, 800);
  gtk_window_set_titlebar (GTK_WINDOW (self), build_header (self));

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->canvas = USAM_CANVAS (usam_canvas_new ());
  self->toolbar = USAM_TOOLBAR (usam_toolbar_new (self->canvas, self->session));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->toolbar));
  GtkWidget *overlay = gtk_overlay_new ();
  gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (self->canvas));
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), build_message (self));
  self->auto_panel = USAM_AUTO_PANEL (usam_auto_panel_new (self->canvas, self->session));
  gtk_widget_set_visible (GTK_WIDGET (self->auto_panel), FALSE);
  GtkWidget *middle = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_box_append (GTK_BOX (middle), overlay);
  gtk_box_append (GTK_BOX (middle), GTK_WIDGET (self->auto_panel));
  self->lineage_view = USAM_LINEAGE_VIEW (usam_lineage_view_new (self->session, self->canvas));
  gtk_box_append (GTK_BOX (middle), GTK_WIDGET (self->lineage_view));
  gtk_box_append (GTK_BOX (box), middle);
  self->z_row = plane_row (self, "Z", &self->z_scale);
  self->t_row = plane_row (self, "T", &self->t_scale);
  gtk_box_append (GTK_BOX (box), self->z_row);
  gtk_box_append (GTK_BOX (box), self->t_row);
  self->projection_bar = USAM_PROJECTION_BAR (usam_projection_bar_new (self->session));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->projection_bar));
  gtk_box_append (GTK_BOX (box), build_status (self));
  gtk_window_set_child (GTK_WINDOW (self), box);

  g_signal_connect (self->canvas, "point", G_CALLBACK (on_point), self);
  g_signal_connect (self->canvas, "box", G_CALLBACK (on_box), self);
  g_signal_connect (self->canvas, "brush", G_CALLBACK (on_brush), self);
  g_signal_connect (self->canvas, "pick", G_CALLBACK (on_pick), self);
  g_signal_connect (self->canvas, "delete", G_CALLBACK (on_delete), self);
  g_signal_connect (self->canvas, "hover", G_CALLBACK (on_hover), self);
  g_signal_connect_object (self->session, "image-changed", G_CALLBACK (on_image_changed), self, 0);
  g_signal_connect_object (self->session, "objects-changed", G_CALLBACK (on_objects_changed), self, 0);
  g_signal_connect_object (self->session, "current-changed", G_CALLBACK (on_current_changed), self, 0);
  g_signal_connect_object (self->session, "state-changed", G_CALLBACK (usam_window_update_state), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "progress", G_CALLBACK (on_progress), self, 0);
  g_signal_connect_object (self->session, "message", G_CALLBACK (on_session_message), self, 0);
  g_signal_connect_object (self->auto_panel, "message", G_CALLBACK (on_session_message), self, 0);
  GtkWidget *auto_toggle = gtk_toggle_button_new_with_label ("Automatic");
  gtk_widget_set_tooltip_text (auto_toggle, "Automatic segmentation (AIS, AMG, APG) in a side panel");
  g_object_bind_property (auto_toggle, "active", self->auto_panel, "visible", G_BINDING_BIDIRECTIONAL);
  gtk_header_bar_pack_end (GTK_HEADER_BAR (gtk_window_get_titlebar (GTK_WINDOW (self))), auto_toggle);
  gtk_header_bar_pack_end (GTK_HEADER_BAR (gtk_window_get_titlebar (GTK_WINDOW (self))),
                           usam_lineage_view_new_toggle (self->lineage_view));
  g_signal_connect_object (self->lineage_view, "message", G_CALLBACK (on_session_message), self, 0);

  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self->canvas), GTK_EVENT_CONTROLLER (drop));
  usam_window_update_state (self);
}

static void
usam_window_dispose (GObject *object)
{
  UsamWindow *self = USAM_WINDOW (object);
  g_clear_handle_id (&self->message_timeout, g_source_remove);
  if (self->session)
    {
      /* The toolbar and tasks may keep the session a little longer. */
      g_signal_handlers_disconnect_by_data (self->session, self);
      usam_session_cancel_encoding (self->session);
    }
  g_clear_object (&self->session);
  G_OBJECT_CLASS (usam_window_parent_class)->dispose (object);
}

static void
usam_window_class_init (UsamWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = usam_window_dispose;
  usam_window_class_init_actions (widget_class);
  /* Before the first window is realised: GSK picks its renderer then. */
  g_autofree char *gl = usam_renderer_choose ();
  g_debug ("GL renderer: %s", gl ? gl : "none or not probed");
}

UsamWindow *
usam_window_new (GtkApplication *application)
{
  return g_object_new (USAM_TYPE_WINDOW, "application", application, NULL);
}
