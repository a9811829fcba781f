#include "usam-train-dialog.h"

#include <math.h>

#include "usam-train-job.h"

struct _UsamTrainDialog
{
  GtkWindow parent_instance;

  UsamSession *session;
  char *image_dir, *label_dir;
  GPtrArray *starts; /* per drop-down row: a checkpoint path or a preset id */
  guint n_checkpoints; /* the first rows are checkpoints, then presets */
  guint step_limit, val_every;

  GtkCheckButton *use_project, *use_folders;
  GtkLabel *project_label, *folders_label;
  GtkDropDown *start;
  GtkLabel *start_note;
  GtkSpinButton *minutes;
  UsamTrainPlot *plot;
  GtkLabel *status, *error;

  GCancellable *cancellable; /* set while a run is going */
  gboolean disposed;         /* the widgets are gone; a run may still end */
  char *result;
};

G_DEFINE_FINAL_TYPE (UsamTrainDialog, usam_train_dialog, GTK_TYPE_WINDOW)

static void
show_error (UsamTrainDialog *self, const char *text)
{
  gtk_label_set_text (self->error, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error), text != NULL);
}

static void
update_sensitivity (UsamTrainDialog *self)
{
  gboolean running = self->cancellable != NULL;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.start", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.cancel", running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.use", !running && self->result != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->start), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->minutes), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->use_project), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->use_folders), !running);
}

/* ---- choices ---- */

static void
fill_starts (UsamTrainDialog *self, const char *select)
{
  g_ptr_array_set_size (self->starts, 0);
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  UsamModel *current = usam_session_get_model (self->session);
  const char *current_path = current ? usam_model_get_path (current) : NULL;
  if (current_path)
    {
      g_autofree char *base = g_path_get_basename (current_path);
      g_autofree char *text = g_strdup_printf ("Fine-tune the current model (%s)", base);
      gtk_string_list_append (names, text);
      g_ptr_array_add (self->starts, g_strdup (current_path));
    }
  g_auto (GStrv) trained = usam_train_list_models ();
  for (guint i = 0; trained[i]; i++)
    {
      if (g_strcmp0 (trained[i], current_path) == 0)
        continue;
      g_autofree char *base = g_path_get_basename (trained[i]);
      g_autofree char *text = g_strdup_printf ("Fine-tune %s (trained here)", base);
      gtk_string_list_append (names, text);
      g_ptr_array_add (self->starts, g_strdup (trained[i]));
    }
  self->n_checkpoints = self->starts->len;
  guint n = 0;
  const UsamTrainPreset *presets = usam_train_presets (&n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("From scratch: %s", presets[i].label);
      gtk_string_list_append (names, text);
      g_ptr_array_add (self->starts, g_strdup (presets[i].id));
    }
  gtk_drop_down_set_model (self->start, G_LIST_MODEL (names));
  guint selected = 0;
  for (guint i = 0; select && i < self->starts->len; i++)
    if (g_strcmp0 (self->starts->pdata[i], select) == 0)
      selected = i;
  gtk_drop_down_set_selected (self->start, selected);
}

static void
on_start_selected (UsamTrainDialog *self)
{
  guint i = gtk_drop_down_get_selected (self->start);
  if (i >= self->starts->len)
    return;
  g_autofree char *text = NULL;
  if (i < self->n_checkpoints)
    text = g_strdup ((const char *) self->starts->pdata[i]);
  else
    {
      guint n = 0;
      const UsamTrainPreset *presets = usam_train_presets (&n);
      g_autofree char *shape = usam_train_preset_describe (self->starts->pdata[i]);
      text = g_strdup_printf ("%s — %s", shape, presets[i - self->n_checkpoints].note);
    }
  gtk_label_set_text (self->start_note, text);
}

/* Counting is a few indexed queries: cheap enough for the main loop. */
static void
describe_project (UsamTrainDialog *self)
{
  UsamProject *project = usam_session_get_project (self->session);
  g_autoptr (GPtrArray) images = project ? usam_project_list_images (project, NULL) : NULL;
  guint n_images = 0, n_objects = 0;
  for (guint i = 0; images && i < images->len; i++)
    {
      guint n = usam_project_count_objects (project, ((UsamProjectImage *) images->pdata[i])->id);
      n_images += n > 0;
      n_objects += n;
    }
  g_autofree char *text = project ? g_strdup_printf ("This project: %u committed objects in %u images", n_objects,
                                                     n_images)
                                  : g_strdup ("This project (none is open)");
  gtk_label_set_text (self->project_label, text);
}

static void
folder_chosen (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  UsamTrainDialog *self = USAM_TRAIN_DIALOG (user_data);
  gboolean labels = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "labels"));
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))
                                                           : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  if (path)
    usam_train_dialog_set_folders (self, labels ? self->image_dir : path, labels ? path : self->label_dir);
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
choose_folder (UsamTrainDialog *self, gboolean labels)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      labels ? "Choose the label folder" : "Choose the image folder", GTK_WINDOW (self),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Select", "_Cancel");
  g_object_set_data (G_OBJECT (chooser), "labels", GINT_TO_POINTER (labels));
  g_signal_connect (chooser, "response", G_CALLBACK (folder_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_choose_images (UsamTrainDialog *self)
{
  choose_folder (self, FALSE);
}

static void
on_choose_labels (UsamTrainDialog *self)
{
  choose_folder (self, TRUE);
}

/* ---- running ---- */

static char *
format_time (double seconds)
{
  if (seconds < 90)
    return g_strdup_printf ("%.0f s", seconds);
  return g_strdup_printf ("%.0f min", seconds / 60);
}

static void
on_progress (const UsamTrainProgress *p, gpointer user_data)
{
  UsamTrainDialog *self = user_data;
  if (!self->cancellable || self->disposed)
    return; /* a late event of a run that has ended */
  usam_train_plot_add_loss (self->plot, (double) p->step, p->loss);
  if (p->validated)
    usam_train_plot_add_val_iou (self->plot, (double) p->step, p->val_iou);
  g_autofree char *elapsed = format_time (p->elapsed);
  g_autofree char *left = p->eta >= 0 ? format_time (p->eta) : g_strdup ("?");
  g_autofree char *summary = NULL;
  GObject *job = g_object_get_data (G_OBJECT (self), "job");
  if (job)
    summary = usam_train_job_dup_summary (USAM_TRAIN_JOB (job));
  g_autofree char *val = isfinite (p->best_val_loss) ? g_strdup_printf (", best validation loss %.3f",
                                                                        p->best_val_loss)
                                                     : g_strdup ("");
  g_autofree char *text = g_strdup_printf ("Step %" G_GINT64_FORMAT ": loss %.3f%s; %.1f s a step, %s so far, %s "
                                           "left. %s.",
                                           p->step, p->loss, val, p->seconds_per_step, elapsed, left,
                                           summary ? summary : "");
  gtk_label_set_text (self->status, text);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (UsamTrainDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = usam_train_job_run_finish (USAM_TRAIN_JOB (source), result, &error);
  g_clear_object (&self->cancellable);
  g_object_set_data (G_OBJECT (self), "job", NULL);
  if (self->disposed)
    return;
  if (path)
    {
      g_free (self->result);
      self->result = g_steal_pointer (&path);
      g_autofree char *base = g_path_get_basename (self->result);
      g_autofree char *text = g_strdup_printf ("Done: %s is in the models folder. “Use this model” switches to it.",
                                               base);
      gtk_label_set_text (self->status, text);
      fill_starts (self, self->result);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_label_set_text (self->status, "Cancelled; no model was saved.");
  else
    {
      gtk_label_set_text (self->status, "Training failed.");
      show_error (self, error->message);
    }
  update_sensitivity (self);
}

static void
action_start (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamTrainDialog *self = USAM_TRAIN_DIALOG (widget);
  if (self->cancellable)
    return;
  show_error (self, NULL);
  g_autoptr (UsamTrainJob) job = usam_train_job_new ();
  if (gtk_check_button_get_active (self->use_folders))
    {
      if (!self->image_dir || !self->label_dir)
        {
          show_error (self, "Choose an image folder and a label folder first.");
          return;
        }
      usam_train_job_set_folders (job, self->image_dir, self->label_dir);
    }
  else
    {
      UsamProject *project = usam_session_get_project (self->session);
      if (!project)
        {
          show_error (self, "Open an image or a project first, or train on folders.");
          return;
        }
      usam_train_job_set_project (job, usam_project_get_path (project));
    }
  guint i = gtk_drop_down_get_selected (self->start);
  if (i >= self->starts->len)
    return;
  if (i < self->n_checkpoints)
    usam_train_job_set_checkpoint (job, self->starts->pdata[i]);
  else
    usam_train_job_set_preset (job, self->starts->pdata[i]);
  usam_train_job_set_budget (job, gtk_spin_button_get_value (self->minutes) * 60, self->step_limit);
  usam_train_job_set_val_every (job, self->val_every);

  g_clear_pointer (&self->result, g_free);
  usam_train_plot_clear (self->plot);
  gtk_label_set_text (self->status, "Preparing the data and the model…");
  self->cancellable = g_cancellable_new ();
  g_object_set_data_full (G_OBJECT (self), "job", g_object_ref (job), g_object_unref);
  usam_train_job_run_async (job, self->cancellable, on_progress, g_object_ref (self), g_object_unref, run_done,
                            g_object_ref (self));
  update_sensitivity (self);
}

static void
action_cancel (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamTrainDialog *self = USAM_TRAIN_DIALOG (widget);
  if (!self->cancellable)
    return;
  g_cancellable_cancel (self->cancellable);
  gtk_label_set_text (self->status, "Stopping after the current step…");
}

static void
action_use (GtkWidget *widget, const char *name, GVariant *parameter)
{
  UsamTrainDialog *self = USAM_TRAIN_DIALOG (widget);
  if (!self->result)
    return;
  /* The session loads it in the background and reports it as "message". */
  usam_session_load_model (self->session, self->result);
  gtk_label_set_text (self->status, "Switching the annotator to the new model…");
}

/* ---- public ---- */

void
usam_train_dialog_set_folders (UsamTrainDialog *self, const char *image_dir, const char *label_dir)
{
  g_return_if_fail (USAM_IS_TRAIN_DIALOG (self));
  char *images = g_strdup (image_dir), *labels = g_strdup (label_dir);
  g_free (self->image_dir);
  g_free (self->label_dir);
  self->image_dir = images;
  self->label_dir = labels;
  g_autofree char *text = g_strdup_printf ("Images: %s\nLabels: %s", images ? images : "(choose)",
                                           labels ? labels : "(choose)");
  gtk_label_set_text (self->folders_label, text);
  if (images || labels)
    gtk_check_button_set_active (self->use_folders, TRUE);
}

gboolean
usam_train_dialog_select_start (UsamTrainDialog *self, const char *checkpoint_or_preset)
{
  fill_starts (self, NULL);
  for (guint i = 0; i < self->starts->len; i++)
    if (g_strcmp0 (self->starts->pdata[i], checkpoint_or_preset) == 0)
      {
        gtk_drop_down_set_selected (self->start, i);
        return TRUE;
      }
  return FALSE;
}

void
usam_train_dialog_set_minutes (UsamTrainDialog *self, double minutes)
{
  gtk_spin_button_set_value (self->minutes, minutes);
}

void
usam_train_dialog_set_step_limit (UsamTrainDialog *self, guint steps)
{
  self->step_limit = steps;
}

void
usam_train_dialog_set_val_every (UsamTrainDialog *self, guint steps)
{
  self->val_every = MAX (steps, 1u);
}

gboolean
usam_train_dialog_is_running (UsamTrainDialog *self)
{
  return self->cancellable != NULL;
}

const char *
usam_train_dialog_get_result (UsamTrainDialog *self)
{
  return self->result;
}

const char *
usam_train_dialog_get_status (UsamTrainDialog *self)
{
  return gtk_label_get_text (self->status);
}

const char *
usam_train_dialog_get_error (UsamTrainDialog *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error)) ? gtk_label_get_text (self->error) : NULL;
}

UsamTrainPlot *
usam_train_dialog_get_plot (UsamTrainDialog *self)
{
  return self->plot;
}

/* ---- construction ---- */

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static GtkWidget *
note (GtkLabel **out)
{
  GtkWidget *label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "dim-label");
  *out = GTK_LABEL (label);
  return label;
}

static GtkWidget *
action_button (const char *label, const char *action)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  return button;
}

static void
usam_train_dialog_init (UsamTrainDialog *self)
{
  self->starts = g_ptr_array_new_with_free_func (g_free);
  self->val_every = 25;
  gtk_window_set_title (GTK_WINDOW (self), "Train a model");
  gtk_window_set_default_size (GTK_WINDOW (self), 560, 560);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (box, 16);
  gtk_widget_set_margin_end (box, 16);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);

  gtk_box_append (GTK_BOX (box), heading ("Data"));
  self->use_project = GTK_CHECK_BUTTON (gtk_check_button_new ());
  self->project_label = GTK_LABEL (gtk_label_new (""));
  gtk_check_button_set_child (self->use_project, GTK_WIDGET (self->project_label));
  gtk_check_button_set_active (self->use_project, TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->use_project));
  GtkWidget *folders = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->use_folders = GTK_CHECK_BUTTON (gtk_check_button_new_with_label ("Folders:"));
  gtk_check_button_set_group (self->use_folders, self->use_project);
  gtk_box_append (GTK_BOX (folders), GTK_WIDGET (self->use_folders));
  GtkWidget *images = gtk_button_new_with_label ("Images…");
  g_signal_connect_swapped (images, "clicked", G_CALLBACK (on_choose_images), self);
  GtkWidget *labels = gtk_button_new_with_label ("Labels…");
  g_signal_connect_swapped (labels, "clicked", G_CALLBACK (on_choose_labels), self);
  gtk_box_append (GTK_BOX (folders), images);
  gtk_box_append (GTK_BOX (folders), labels);
  gtk_box_append (GTK_BOX (box), folders);
  gtk_box_append (GTK_BOX (box), note (&self->folders_label));

  gtk_box_append (GTK_BOX (box), heading ("Starting model"));
  self->start = GTK_DROP_DOWN (gtk_drop_down_new (NULL, NULL));
  g_signal_connect_swapped (self->start, "notify::selected", G_CALLBACK (on_start_selected), self);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->start));
  gtk_box_append (GTK_BOX (box), note (&self->start_note));

  GtkWidget *budget = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (budget), heading ("Time budget"));
  self->minutes = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, 24 * 60, 1));
  gtk_spin_button_set_value (self->minutes, 10);
  gtk_box_append (GTK_BOX (budget), GTK_WIDGET (self->minutes));
  gtk_box_append (GTK_BOX (budget), gtk_label_new ("minutes"));
  gtk_box_append (GTK_BOX (box), budget);

  self->plot = USAM_TRAIN_PLOT (usam_train_plot_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->plot), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->plot));
  GtkWidget *legend = gtk_label_new ("blue: training loss · orange: validation IoU");
  gtk_widget_add_css_class (legend, "dim-label");
  gtk_box_append (GTK_BOX (box), legend);
  self->status = GTK_LABEL (gtk_label_new ("Training runs in the background; the annotator stays usable."));
  gtk_label_set_wrap (self->status, TRUE);
  gtk_label_set_xalign (self->status, 0);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->status));
  self->error = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->error, TRUE);
  gtk_label_set_xalign (self->error, 0);
  gtk_label_set_selectable (self->error, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->error), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->error));

  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (buttons), action_button ("_Cancel", "train.cancel"));
  gtk_box_append (GTK_BOX (buttons), action_button ("_Use this model", "train.use"));
  GtkWidget *start = action_button ("_Start", "train.start");
  gtk_widget_add_css_class (start, "suggested-action");
  gtk_box_append (GTK_BOX (buttons), start);
  gtk_box_append (GTK_BOX (box), buttons);
  gtk_window_set_child (GTK_WINDOW (self), box);
  usam_train_dialog_set_folders (self, NULL, NULL);
}

static void
usam_train_dialog_dispose (GObject *object)
{
  UsamTrainDialog *self = USAM_TRAIN_DIALOG (object);
  /* Closing the dialog ends its run: nobody would be left to use it. */
  self->disposed = TRUE;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (usam_train_dialog_parent_class)->dispose (object);
}

static void
usam_train_dialog_finalize (GObject *object)
{
  UsamTrainDialog *self = USAM_TRAIN_DIALOG (object);
  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->starts);
  g_free (self->image_dir);
  g_free (self->label_dir);
  g_free (self->result);
  G_OBJECT_CLASS (usam_train_dialog_parent_class)->finalize (object);
}

static void
usam_train_dialog_class_init (UsamTrainDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usam_train_dialog_dispose;
  G_OBJECT_CLASS (klass)->finalize = usam_train_dialog_finalize;
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  gtk_widget_class_install_action (widget_class, "train.start", NULL, action_start);
  gtk_widget_class_install_action (widget_class, "train.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "train.use", NULL, action_use);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

GtkWidget *
usam_train_dialog_new (GtkWindow *parent, UsamSession *session)
{
  g_return_val_if_fail (USAM_IS_SESSION (session), NULL);
  UsamTrainDialog *self = g_object_new (USAM_TYPE_TRAIN_DIALOG, "transient-for", parent, NULL);
  self->session = g_object_ref (session);
  describe_project (self);
  fill_starts (self, NULL);
  on_start_selected (self);
  update_sensitivity (self);
  return GTK_WIDGET (self);
}
