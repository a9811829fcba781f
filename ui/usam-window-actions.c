#include "usam-window-private.h"

#include "usam-projection-bar.h"
#include "usam-train-dialog.h"

/* ---- actions ---- */

static void
action_tool (GtkWidget *widget, const char *name, GVariant *parameter)
{
  usam_toolbar_set_tool (USAM_WINDOW (widget)->toolbar, (UsamTool) g_variant_get_int32 (parameter));
}

static void
action_toggle_polarity (GtkWidget *widget, const char *name, GVariant *parameter)
{
  usam_toolbar_toggle_polarity (USAM_WINDOW (widget)->toolbar);
}

static void
action_segment (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  if (!usam_session_segment (self->session, &error))
    usam_window_show_error (self, error);
}

static void
action_segment_batch (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  UsamImage *image = usam_session_get_image (self->session);
  /* In a volume Shift+S is μSAM's "segment object in volume"; in a time
   * series without Z, its "track object" (Shift+F everywhere). */
  gboolean ok;
  if (image && usam_image_get_depth (image) > 1)
    ok = usam_projection_bar_start (self->projection_bar, &error);
  else if (image && usam_image_get_frames (image) > 1)
    ok = usam_projection_bar_start_follow (self->projection_bar, &error);
  else
    ok = usam_session_segment_batch (self->session, &error);
  if (!ok)
    usam_window_show_error (self, error);
}

static void
action_follow (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  if (!usam_projection_bar_start_follow (self->projection_bar, &error))
    usam_window_show_error (self, error);
}

static void
action_commit (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  if (!usam_session_commit (self->session, &error))
    usam_window_show_error (self, error);
}

static void
action_clear (GtkWidget *widget, const char *name, GVariant *parameter)
{
  usam_session_clear (USAM_WINDOW (widget)->session);
}

static void
action_undo (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  if (!usam_session_undo (self->session, &error))
    usam_window_show_error (self, error);
}

static void
action_redo (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  if (!usam_session_redo (self->session, &error))
    usam_window_show_error (self, error);
}

static void
action_next_image (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  if (!usam_session_next_image (self->session, &error))
    usam_window_show_message (self, error->message, FALSE);
}

static void
action_cancel (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  /* Escape stops a projection first: it says so in its own bar. */
  if (usam_projection_bar_is_running (self->projection_bar))
    {
      usam_projection_bar_cancel (self->projection_bar);
      return;
    }
  usam_session_cancel_encoding (self->session);
  usam_window_show_message (self, "Cancelled the embedding; S computes it again.", FALSE);
}

static void
action_zoom (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamCanvas *canvas = USAM_WINDOW (widget)->canvas;
  double factor = g_variant_get_double (parameter);
  if (factor == 0)
    usam_canvas_zoom_fit (canvas);
  else if (factor < 0)
    usam_canvas_set_zoom (canvas, -factor, NULL); /* absolute, e.g. 1:1 */
  else
    usam_canvas_set_zoom (canvas, usam_canvas_get_zoom (canvas) * factor, NULL);
}

static void
action_auto_contrast (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  usam_canvas_auto_contrast (self->canvas, 0.4, 99.6);
  usam_window_update_contrast_controls (self);
}

/* ---- files ---- */

static void
chooser_done (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  UsamWindow *self = USAM_WINDOW (g_object_get_data (G_OBJECT (dialog), "window"));
  Choice choice = (Choice) GPOINTER_TO_INT (user_data);
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))
                                                           : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_autoptr (GError) error = NULL;
  UsamProject *project = usam_session_get_project (self->session);
  gint64 image_id = usam_session_get_image_id (self->session);
  guint n = 0;
  if (path)
    switch (choice)
      {
      case CHOOSE_OPEN:
      case CHOOSE_FOLDER:
        usam_window_open (self, path, NULL);
        break;
      case CHOOSE_MODEL:
        usam_window_load_model (self, path);
        break;
      case CHOOSE_SAVE_AS:
        if (usam_session_save_as (self->session, path, &error))
          usam_window_show_message (self, "Saved. Further changes are written to this project as you make them.",
                                    FALSE);
        usam_window_update_titles (self);
        break;
      case CHOOSE_EXPORT:
        if (!project || !image_id)
          g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "Open an image first.");
        else if (usam_project_export_labels (project, image_id, path, &error))
          usam_window_show_message (self, "Exported the labels.", FALSE);
        break;
      case CHOOSE_IMPORT:
        if (usam_session_import_labels (self->session, path, &n, &error))
          {
            g_autofree char *text = g_strdup_printf ("Imported %u objects.", n);
            usam_window_show_message (self, text, FALSE);
          }
        break;
      default:
        break;
      }
  usam_window_show_error (self, error);
  usam_window_update_state (self);
  g_object_unref (dialog);
}

static void
choose (UsamWindow *self, Choice choice)
{
  static const char *const titles[] = { "Open an image, a folder or a project", "Choose a model checkpoint",
                                        "Save the project as", "Export labels as TIFF", "Import a label image",
                                        "Open a folder of images as a series" };
  gboolean save = choice == CHOOSE_SAVE_AS || choice == CHOOSE_EXPORT;
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      titles[choice], GTK_WINDOW (self),
      save                      ? GTK_FILE_CHOOSER_ACTION_SAVE
      : choice == CHOOSE_FOLDER ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                : GTK_FILE_CHOOSER_ACTION_OPEN,
      save ? "_Save" : "_Open", "_Cancel");
  if (choice == CHOOSE_SAVE_AS)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "annotations.usam");
  if (choice == CHOOSE_EXPORT)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "labels.tif");
  g_object_set_data (G_OBJECT (dialog), "window", self);
  g_signal_connect (dialog, "response", G_CALLBACK (chooser_done), GINT_TO_POINTER (choice));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_choose (GtkWidget *widget, const char *name, GVariant *parameter)
{
  choose (USAM_WINDOW (widget), (Choice) g_variant_get_int32 (parameter));
}

static void
action_load_model (GtkWidget *widget, const char *name, GVariant *parameter)
{
  usam_window_load_model (USAM_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
action_dismiss (GtkWidget *widget, const char *name, GVariant *parameter)
{
  gtk_revealer_set_reveal_child (USAM_WINDOW (widget)->message_revealer, FALSE);
}

static void
action_save_as (GtkWidget *widget, const char *name, GVariant *parameter)
{
  choose (USAM_WINDOW (widget), CHOOSE_SAVE_AS);
}

/* The dialog hands its result to the session, which the window follows. */
static void
action_train (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamWindow *self = USAM_WINDOW (widget);
  gtk_window_present (GTK_WINDOW (usam_train_dialog_new (GTK_WINDOW (self), self->session)));
}

static void
bind (GtkWidgetClass *klass, guint key, GdkModifierType mods, const char *action, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  GVariant *target = format ? g_variant_new_va (format, NULL, &args) : NULL;
  va_end (args);
  gtk_widget_class_add_binding_action (klass, key, mods, action, format, target);
  if (target)
    g_variant_unref (g_variant_ref_sink (target));
}

void
usam_window_class_init_actions (GtkWidgetClass *widget_class)
{

  gtk_widget_class_install_action (widget_class, "annotator.segment", NULL, action_segment);
  gtk_widget_class_install_action (widget_class, "annotator.segment-batch", NULL, action_segment_batch);
  gtk_widget_class_install_action (widget_class, "annotator.follow", NULL, action_follow);
  gtk_widget_class_install_action (widget_class, "annotator.commit", NULL, action_commit);
  gtk_widget_class_install_action (widget_class, "annotator.clear", NULL, action_clear);
  gtk_widget_class_install_action (widget_class, "annotator.undo", NULL, action_undo);
  gtk_widget_class_install_action (widget_class, "annotator.redo", NULL, action_redo);
  gtk_widget_class_install_action (widget_class, "annotator.next-image", NULL, action_next_image);
  gtk_widget_class_install_action (widget_class, "annotator.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "annotator.dismiss", NULL, action_dismiss);
  gtk_widget_class_install_action (widget_class, "annotator.tool", "i", action_tool);
  gtk_widget_class_install_action (widget_class, "annotator.toggle-polarity", NULL, action_toggle_polarity);
  gtk_widget_class_install_action (widget_class, "annotator.zoom", "d", action_zoom);
  gtk_widget_class_install_action (widget_class, "annotator.auto-contrast", NULL, action_auto_contrast);
  gtk_widget_class_install_action (widget_class, "annotator.choose", "i", action_choose);
  gtk_widget_class_install_action (widget_class, "annotator.load-model", "s", action_load_model);
  gtk_widget_class_install_action (widget_class, "annotator.save-as", NULL, action_save_as);
  gtk_widget_class_install_action (widget_class, "annotator.train", NULL, action_train);

  /* μSAM's keys. */
  bind (widget_class, GDK_KEY_s, 0, "annotator.segment", NULL);
  bind (widget_class, GDK_KEY_S, GDK_SHIFT_MASK, "annotator.segment-batch", NULL);
  bind (widget_class, GDK_KEY_F, GDK_SHIFT_MASK, "annotator.follow", NULL);
  bind (widget_class, GDK_KEY_c, 0, "annotator.commit", NULL);
  bind (widget_class, GDK_KEY_C, GDK_SHIFT_MASK, "annotator.clear", NULL);
  bind (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "annotator.undo", NULL);
  bind (widget_class, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "annotator.redo", NULL);
  bind (widget_class, GDK_KEY_y, GDK_CONTROL_MASK, "annotator.redo", NULL);
  bind (widget_class, GDK_KEY_n, 0, "annotator.next-image", NULL);
  bind (widget_class, GDK_KEY_t, 0, "annotator.toggle-polarity", NULL);
  bind (widget_class, GDK_KEY_Escape, 0, "annotator.cancel", NULL);
  /* Tools. */
  bind (widget_class, GDK_KEY_p, 0, "annotator.tool", "i", USAM_TOOL_POINT);
  bind (widget_class, GDK_KEY_b, 0, "annotator.tool", "i", USAM_TOOL_BOX);
  bind (widget_class, GDK_KEY_r, 0, "annotator.tool", "i", USAM_TOOL_BRUSH);
  bind (widget_class, GDK_KEY_e, 0, "annotator.tool", "i", USAM_TOOL_ERASER);
  bind (widget_class, GDK_KEY_i, 0, "annotator.tool", "i", USAM_TOOL_PICK);
  bind (widget_class, GDK_KEY_d, 0, "annotator.tool", "i", USAM_TOOL_DELETE);
  bind (widget_class, GDK_KEY_h, 0, "annotator.tool", "i", USAM_TOOL_PAN);
  /* View. */
  bind (widget_class, GDK_KEY_plus, 0, "annotator.zoom", "d", 1.25);
  bind (widget_class, GDK_KEY_equal, 0, "annotator.zoom", "d", 1.25);
  bind (widget_class, GDK_KEY_minus, 0, "annotator.zoom", "d", 0.8);
  bind (widget_class, GDK_KEY_0, 0, "annotator.zoom", "d", 0.0);
  bind (widget_class, GDK_KEY_1, 0, "annotator.zoom", "d", -1.0);
  /* Files. */
  bind (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "annotator.choose", "i", CHOOSE_OPEN);
  bind (widget_class, GDK_KEY_O, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "annotator.choose", "i", CHOOSE_FOLDER);
  bind (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "annotator.save-as", NULL);
}
