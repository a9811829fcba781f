/* test-train-dialog.c — fine-tuning from the annotator: the background job
 * (core/usam-train-job.h) on a project whose objects were committed from
 * real DSB 2018 labels, on folders, cancelled, and on an empty project;
 * then the dialog driven for real under Xvfb, down to "Use this model"
 * switching the window's model. A tiny random model (input 256²) and a
 * few steps keep it to seconds a step on two cores.
 */
#include "usam-error.h"
#include "usam-test-gui.h"
#include "usam-train-dialog.h"
#include "usam-train-job.h"
#include "usam-window.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_SECONDS 600

/* 256² fluorescence images of DSB 2018 with 14 to 54 nuclei each. */
static const char *const dsb_ids[] = {
  "371a67232f7c871ec11332292c83cd9bb16063b91d58e86f0b76ef8817bc9465",
  "245b995878370ef4ea977568b2b67f93d4ecaa9308761b9d3e148e0803780183",
  "6af82abb29539000be4696884fc822d3cafcb2105906dc7582c92dccad8948c5",
};

static char *
dsb_path (const char *folder, guint i)
{
  g_autofree char *relative = g_strdup_printf ("data/dsb2018/%s/%s.png", folder, dsb_ids[i]);
  return usam_test_shared_path (relative);
}

/* A tiny random model saved as a checkpoint: the "current model". */
static char *
start_checkpoint (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_test_tiny_model_with (256, NULL, 3);
  char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
  ck_assert_msg (usam_model_save (model, path, TRUE, &error), "%s", error ? error->message : "");
  return path;
}

static char *
encoder_hash (const char *checkpoint)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsamModel) model = usam_model_new_from_file (checkpoint, USAM_PRECISION_FP32, &error);
  ck_assert_msg (model != NULL, "%s: %s", checkpoint, error ? error->message : "");
  ck_assert_uint_eq (usam_model_get_input_size (model), 256);
  return usam_model_dup_encoder_hash (model);
}

/* A project of @n_images DSB images; the first @n_annotated get their
 * ground truth committed as objects, as the annotator's import does. */
static char *
make_project (const char *name, guint n_images, guint n_annotated)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (usam_test_tmpdir (), name, NULL);
  g_autoptr (UsamProject) project = usam_project_open (path, &error);
  ck_assert_msg (project != NULL, "%s", error ? error->message : "");
  for (guint i = 0; i < n_images; i++)
    {
      g_autofree char *image_path = dsb_path ("images", i);
      gint64 id = usam_project_add_image (project, image_path, &error);
      ck_assert_msg (id > 0, "%s", error ? error->message : "");
      g_autoptr (UsamImage) image = usam_image_load (image_path, &error);
      ck_assert_msg (image != NULL, "%s", error ? error->message : "");
      ck_assert (usam_project_set_image_info (project, id, image, &error));
      if (i >= n_annotated)
        continue;
      g_autofree char *label_path = dsb_path ("labels", i);
      g_autoptr (UsamImage) labels = usam_image_load (label_path, &error);
      ck_assert_msg (labels != NULL, "%s", error ? error->message : "");
      guint n = 0;
      ck_assert_msg (usam_project_import_labels (project, id, labels, &n, &error), "%s",
                     error ? error->message : "");
      ck_assert_uint_gt (n, 10);
    }
  return path;
}

static guint
count_entries (const char *dir, const char *prefix, const char *suffix)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    n += (!prefix || g_str_has_prefix (name, prefix)) && (!suffix || g_str_has_suffix (name, suffix));
  return n;
}

/* ---- the job ---- */

typedef struct
{
  GArray *events; /* UsamTrainProgress */
  GThread *thread;
  GCancellable *cancel_at_step;
  gint64 cancel_step;
  gboolean done;
  char *path;
  GError *error;
} Run;

static void
on_progress (const UsamTrainProgress *p, gpointer user_data)
{
  Run *r = user_data;
  /* Delivered on the caller's main context, not the worker's thread. */
  ck_assert_ptr_eq (g_thread_self (), r->thread);
  g_array_append_val (r->events, *p);
  if (r->cancel_at_step && p->step >= r->cancel_step)
    g_cancellable_cancel (r->cancel_at_step);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *r = user_data;
  r->path = usam_train_job_run_finish (USAM_TRAIN_JOB (source), result, &r->error);
  r->done = TRUE;
}

static gboolean
run_done (gpointer data)
{
  return ((Run *) data)->done;
}

static void
run_job (UsamTrainJob *job, GCancellable *cancellable, Run *r)
{
  r->events = g_array_new (FALSE, FALSE, sizeof (UsamTrainProgress));
  r->thread = g_thread_self ();
  usam_train_job_run_async (job, cancellable, on_progress, r, NULL, on_done, r);
  usam_test_wait_within (WAIT_SECONDS, run_done, r, "the training run");
  /* Progress queued before the result has been dispatched by now. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->events, g_array_unref);
  g_clear_pointer (&r->path, g_free);
  g_clear_error (&r->error);
}

START_TEST (test_job_project)
{
  g_autofree char *start = start_checkpoint ("start-job.pt");
  g_autofree char *project = make_project ("job.usam", 3, 3);
  g_autofree char *models = g_build_filename (usam_test_tmpdir (), "models-job", NULL);
  g_autoptr (UsamTrainJob) job = usam_train_job_new ();
  usam_train_job_set_project (job, project);
  usam_train_job_set_checkpoint (job, start);
  usam_train_job_set_budget (job, 0, 4);
  usam_train_job_set_val_every (job, 2);
  usam_train_job_set_models_dir (job, models);
  Run r = { 0 };
  run_job (job, NULL, &r);
  ck_assert_msg (r.path != NULL, "%s", r.error ? r.error->message : "");

  /* One event a step, in order, with finite numbers; validated at 2 and 4. */
  ck_assert_uint_eq (r.events->len, 4);
  guint n_validated = 0;
  for (guint i = 0; i < r.events->len; i++)
    {
      const UsamTrainProgress *p = &g_array_index (r.events, UsamTrainProgress, i);
      ck_assert_int_eq (p->step, i + 1);
      ck_assert_msg (isfinite (p->loss) && p->loss > 0, "step %u: loss %g", i + 1, p->loss);
      ck_assert (isfinite (p->elapsed) && p->elapsed > 0);
      ck_assert (p->eta >= 0);
      if (p->validated)
        {
          n_validated++;
          ck_assert_int_eq (p->step % 2, 0);
          ck_assert (isfinite (p->val_loss));
          ck_assert (p->val_iou >= 0 && p->val_iou <= 1);
        }
    }
  ck_assert_uint_eq (n_validated, 2);
  g_autofree char *summary = usam_train_job_dup_summary (job);
  ck_assert_str_eq (summary, "2 annotated images for training, 1 held out for validation");

  /* The result: in the models folder, loadable, trained, and alone there. */
  g_autofree char *dir = g_path_get_dirname (r.path);
  ck_assert_str_eq (dir, models);
  ck_assert (g_str_has_prefix (strrchr (r.path, '/') + 1, "start-job-"));
  g_autofree char *before = encoder_hash (start);
  g_autofree char *after = encoder_hash (r.path);
  ck_assert_str_ne (before, after);
  ck_assert_uint_eq (count_entries (models, NULL, ".pt"), 1);
  ck_assert_uint_eq (count_entries (models, ".run-", NULL), 0);
  run_clear (&r);
}
END_TEST

START_TEST (test_job_folders_from_scratch)
{
  g_autofree char *images = g_build_filename (usam_test_tmpdir (), "folder-images", NULL);
  g_autofree char *labels = g_build_filename (usam_test_tmpdir (), "folder-labels", NULL);
  g_mkdir_with_parents (images, 0755);
  g_mkdir_with_parents (labels, 0755);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.png", dsb_ids[i]);
      g_autofree char *image = dsb_path ("images", i), *label = dsb_path ("labels", i);
      g_autofree char *image_link = g_build_filename (images, name, NULL);
      g_autofree char *label_link = g_build_filename (labels, name, NULL);
      ck_assert (symlink (image, image_link) == 0 && symlink (label, label_link) == 0);
    }
  g_autofree char *models = g_build_filename (usam_test_tmpdir (), "models-scratch", NULL);
  g_autoptr (UsamTrainJob) job = usam_train_job_new ();
  usam_train_job_set_folders (job, images, labels);
  usam_train_job_set_preset (job, "tiny");
  usam_train_job_set_budget (job, 0, 2);
  usam_train_job_set_models_dir (job, models);
  Run r = { 0 };
  run_job (job, NULL, &r);
  ck_assert_msg (r.path != NULL, "%s", r.error ? r.error->message : "");
  ck_assert_uint_eq (r.events->len, 2);
  g_autofree char *summary = usam_train_job_dup_summary (job);
  ck_assert_str_eq (summary, "1 image for training, 1 held out for validation");
  ck_assert (g_str_has_prefix (strrchr (r.path, '/') + 1, "usam-tiny-"));
  g_autofree char *hash = encoder_hash (r.path);
  ck_assert_uint_eq (count_entries (models, ".run-", NULL), 0);
  run_clear (&r);
}
END_TEST

START_TEST (test_job_cancel)
{
  g_autofree char *start = start_checkpoint ("start-cancel.pt");
  g_autofree char *project = make_project ("cancel.usam", 1, 1);
  g_autofree char *models = g_build_filename (usam_test_tmpdir (), "models-cancel", NULL);
  g_autoptr (UsamTrainJob) job = usam_train_job_new ();
  usam_train_job_set_project (job, project);
  usam_train_job_set_checkpoint (job, start);
  usam_train_job_set_budget (job, 3600, 1000);
  usam_train_job_set_val_every (job, 1);
  usam_train_job_set_models_dir (job, models);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Run r = { 0 };
  r.cancel_at_step = cancellable;
  r.cancel_step = 2;
  run_job (job, cancellable, &r);
  ck_assert_ptr_null (r.path);
  ck_assert_msg (g_error_matches (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "%s",
                 r.error ? r.error->message : "no error");
  /* Stops at the next step boundary: the event of step 2 may race one more step. */
  ck_assert_uint_ge (r.events->len, 2);
  ck_assert_uint_le (r.events->len, 3);
  g_autofree char *summary = usam_train_job_dup_summary (job);
  ck_assert_str_eq (summary, "1 annotated image, also used for validation (too few to hold one out)");
  ck_assert_uint_eq (count_entries (models, NULL, ".pt"), 0);
  ck_assert_uint_eq (count_entries (models, ".run-", NULL), 0);
  run_clear (&r);
}
END_TEST

START_TEST (test_job_empty_project)
{
  g_autofree char *start = start_checkpoint ("start-empty.pt");
  g_autofree char *project = make_project ("empty.usam", 2, 0);
  g_autofree char *models = g_build_filename (usam_test_tmpdir (), "models-empty", NULL);
  g_autoptr (UsamTrainJob) job = usam_train_job_new ();
  usam_train_job_set_project (job, project);
  usam_train_job_set_checkpoint (job, start);
  usam_train_job_set_budget (job, 60, 0);
  usam_train_job_set_models_dir (job, models);
  Run r = { 0 };
  run_job (job, NULL, &r);
  ck_assert_ptr_null (r.path);
  ck_assert (r.error != NULL);
  ck_assert_msg (strstr (r.error->message, "no committed objects to train on") != NULL, "%s", r.error->message);
  ck_assert_uint_eq (r.events->len, 0);
  ck_assert_uint_eq (count_entries (models, NULL, ".pt"), 0);
  run_clear (&r);
}
END_TEST

/* @widget of @native as drawn by its renderer, saved under the build tree
 * as @artefact; returns the pixels (B, G, R, A per pixel). */
static guint8 *
render_widget (GtkWidget *native, GtkWidget *widget, const char *artefact, int *width, int *height)
{
  g_autoptr (GdkTexture) texture = usam_test_render_widget (native, widget, artefact);
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  guint8 *pixels = g_malloc ((gsize) *width * *height * 4);
  gdk_texture_download (texture, pixels, (gsize) *width * 4);
  return pixels;
}

/* Pixels within a small distance of the colour (r, g, b) in 0..255. */
static guint
count_colour (const guint8 *pixels, int width, int height, int r, int g, int b)
{
  guint n = 0;
  for (gsize i = 0; i < (gsize) width * height; i++)
    n += abs (pixels[4 * i + 2] - r) + abs (pixels[4 * i + 1] - g) + abs (pixels[4 * i] - b) < 40;
  return n;
}

/* ---- the dialog ---- */

typedef struct
{
  UsamWindow *window;
  const char *path;
} ModelWait;

static gboolean
model_is (gpointer data)
{
  ModelWait *w = data;
  UsamModel *model = usam_session_get_model (usam_window_get_session (w->window));
  return model && g_strcmp0 (usam_model_get_path (model), w->path) == 0;
}

static gboolean
dialog_idle (gpointer data)
{
  return !usam_train_dialog_is_running (data);
}

/* The dialog "annotator.train" opened. */
static UsamTrainDialog *
find_dialog (UsamWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels (); /* transfer none */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (USAM_IS_TRAIN_DIALOG (w) && gtk_window_get_transient_for (GTK_WINDOW (w)) == GTK_WINDOW (window))
        return USAM_TRAIN_DIALOG (w);
    }
  return NULL;
}

static UsamWindow *
open_window (const char *project, const char *model)
{
  ck_assert (gtk_init_check ());
  UsamWindow *window = usam_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  g_autoptr (GError) error = NULL;
  ck_assert_msg (usam_window_open (window, project, &error), "%s", error ? error->message : "");
  usam_test_wait_within (WAIT_SECONDS, usam_test_has_image, window, "the image");
  usam_window_load_model (window, model);
  ModelWait w = { window, model };
  usam_test_wait_within (WAIT_SECONDS, model_is, &w, "the starting model");
  return window;
}

START_TEST (test_dialog_train_and_use)
{
  g_autofree char *start = start_checkpoint ("start-gui.pt");
  g_autofree char *project = make_project ("gui.usam", 2, 2);
  UsamWindow *window = open_window (project, start);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "annotator.train", NULL));
  UsamTrainDialog *dialog = find_dialog (window);
  ck_assert_ptr_nonnull (dialog);
  /* It offers the window's model first, and selects it. */
  ck_assert (usam_train_dialog_select_start (dialog, start));
  ck_assert (!usam_train_dialog_select_start (dialog, "/no/such/model.pt"));
  ck_assert (usam_train_dialog_select_start (dialog, start));
  usam_train_dialog_set_step_limit (dialog, 3);
  usam_train_dialog_set_val_every (dialog, 2);
  usam_train_dialog_set_minutes (dialog, 30);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  ck_assert (usam_train_dialog_is_running (dialog));
  usam_test_wait_within (WAIT_SECONDS, dialog_idle, dialog, "the dialog's run");
  ck_assert_msg (usam_train_dialog_get_error (dialog) == NULL, "%s", usam_train_dialog_get_error (dialog));
  const char *result = usam_train_dialog_get_result (dialog);
  ck_assert_ptr_nonnull (result);
  /* Registered: in the models folder, which the dialog offers as a start. */
  g_autofree char *models = usam_train_models_dir ();
  g_autofree char *dir = g_path_get_dirname (result);
  ck_assert_str_eq (dir, models);
  g_auto (GStrv) listed = usam_train_list_models ();
  ck_assert (g_strv_contains ((const char *const *) listed, result));
  ck_assert (usam_train_dialog_select_start (dialog, result));
  /* The live plot got every step and the validation at step 2. */
  ck_assert_uint_eq (usam_train_plot_get_n_losses (usam_train_dialog_get_plot (dialog)), 3);
  ck_assert_uint_eq (usam_train_plot_get_n_val (usam_train_dialog_get_plot (dialog)), 1);
  ck_assert_msg (strstr (usam_train_dialog_get_status (dialog), "Done") != NULL, "%s",
                 usam_train_dialog_get_status (dialog));

  /* Both curves are drawn: the loss in blue, the validation IoU in orange. */
  int w = 0, h = 0;
  g_autofree guint8 *shot = render_widget (GTK_WIDGET (dialog), GTK_WIDGET (dialog), "train-dialog.png", &w, &h);
  g_autofree guint8 *plot = render_widget (GTK_WIDGET (dialog), GTK_WIDGET (usam_train_dialog_get_plot (dialog)),
                                           "train-plot.png", &w, &h);
  ck_assert_uint_gt (count_colour (plot, w, h, 31, 97, 191), 30);
  ck_assert_uint_gt (count_colour (plot, w, h, 217, 115, 26), 4);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.use", NULL));
  ModelWait mw = { window, result };
  /* A tiny model loads in well under a second. */
  usam_test_wait_within (60, model_is, &mw, "the trained model in the window");
  g_autofree char *before = encoder_hash (start);
  g_autofree char *after = encoder_hash (result);
  ck_assert_str_ne (before, after);

  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

START_TEST (test_dialog_empty_project)
{
  g_autofree char *start = start_checkpoint ("start-gui-empty.pt");
  g_autofree char *project = make_project ("gui-empty.usam", 1, 0);
  UsamWindow *window = open_window (project, start);
  GtkWidget *dialog = usam_train_dialog_new (GTK_WINDOW (window), usam_window_get_session (window));
  gtk_window_present (GTK_WINDOW (dialog));
  ck_assert (gtk_widget_activate_action (dialog, "train.start", NULL));
  usam_test_wait_within (WAIT_SECONDS, dialog_idle, dialog, "the dialog's run");
  const char *error = usam_train_dialog_get_error (USAM_TRAIN_DIALOG (dialog));
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (strstr (error, "no committed objects to train on") != NULL, "%s", error);
  ck_assert_ptr_null (usam_train_dialog_get_result (USAM_TRAIN_DIALOG (dialog)));
  /* Nothing to use; the window keeps its model. */
  ck_assert (!gtk_widget_activate_action (dialog, "train.use", NULL)
             || usam_train_dialog_get_result (USAM_TRAIN_DIALOG (dialog)) == NULL);
  ModelWait w = { window, start };
  ck_assert (model_is (&w));
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
train_suite (void)
{
  Suite *suite = suite_create ("train-dialog");
  TCase *job = usam_test_tcase_new ("job");
  tcase_add_test (job, test_job_project);
  tcase_add_test (job, test_job_folders_from_scratch);
  tcase_add_test (job, test_job_cancel);
  tcase_add_test (job, test_job_empty_project);
  suite_add_tcase (suite, job);
  TCase *dialog = usam_test_tcase_new ("dialog");
  tcase_add_test (dialog, test_dialog_train_and_use);
  tcase_add_test (dialog, test_dialog_empty_project);
  suite_add_tcase (suite, dialog);
  return suite;
}

int
main (void)
{
  usam_test_set_xdg_dirs ();
  /* No GL probing under Xvfb (see test-annotator.c). */
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
  return usam_test_run (train_suite ());
}
