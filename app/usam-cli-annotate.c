/* usam annotate — the GTK4 annotator. */
#include "usam-cli-private.h"

#include <stdio.h>

#include "usam-known-model.h"
#include "usam-window.h"
#include "usam-workers.h"

typedef struct
{
  char *model;
  char *path;
  gint64 started; /* monotonic µs at the start of the command */
  gboolean timing;
} Annotate;

static void
on_first_paint (GdkFrameClock *clock, gpointer user_data)
{
  Annotate *a = user_data;
  g_signal_handlers_disconnect_by_func (clock, on_first_paint, user_data);
  fprintf (stderr, "usam annotate: window painted %.0f ms after start\n",
           (g_get_monotonic_time () - a->started) / 1000.0);
}

static void
on_map (GtkWidget *window, Annotate *a)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);
  if (clock)
    g_signal_connect (clock, "after-paint", G_CALLBACK (on_first_paint), a);
}

static void
on_activate (GtkApplication *app, Annotate *a)
{
  UsamWindow *window = usam_window_new (app);
  if (a->timing)
    g_signal_connect (window, "map", G_CALLBACK (on_map), a);
  gtk_window_present (GTK_WINDOW (window));
  /* Both load in the background: the window is up first. */
  if (a->path)
    usam_window_open (window, a->path, NULL);
  /* The model: --model, else the one the project was last worked with,
   * else the starter model. */
  g_autofree char *model = g_strdup (a->model);
  UsamProject *project = usam_session_get_project (usam_window_get_session (window));
  if (!model && project)
    {
      g_autofree char *used = usam_project_dup_setting (project, "model");
      if (used && g_file_test (used, G_FILE_TEST_IS_REGULAR))
        model = g_steal_pointer (&used);
    }
  if (!model)
    model = usam_known_models_find_starter ();
  if (model && g_file_test (model, G_FILE_TEST_IS_REGULAR))
    usam_window_load_model (window, model);
  else if (model)
    {
      /* The window still opens: the image can be looked at and painted,
       * and another model chosen. */
      g_autofree char *text = g_strdup_printf ("%s: no such model file. Choose a checkpoint with Model….", model);
      usam_window_show_message (window, text, TRUE);
    }
  else
    usam_window_show_message (window,
                              "The starter model (usam-starter.pt) is not installed yet. Choose a SAM or μSAM "
                              "checkpoint with Model…, or start usam with --model CKPT.",
                              TRUE);
}

int
usam_cli_annotate (const char *name, int argc, char **argv)
{
  Annotate a = { 0 };
  a.started = g_get_monotonic_time ();
  a.timing = g_getenv ("USAM_TIMING") != NULL;
  g_auto (GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &a.model, "SAM or μSAM checkpoint (default: the starter model)",
      "CKPT" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[FILE|DIR|PROJECT.usam]");
  g_option_context_set_summary (context, "annotate — segment, correct and commit objects in a window");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  int status = USAM_EXIT_OK;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    status = usam_cli_usage_error (name, "%s", error->message);
  else if (rest && g_strv_length (rest) > 1)
    status = usam_cli_usage_error (name, "one FILE, DIR or PROJECT.usam at a time, not %u", g_strv_length (rest));
  else if (rest && !g_file_test (rest[0], G_FILE_TEST_EXISTS) && !usam_image_path_exists (rest[0]))
    {
      g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: no such file or folder", rest[0]);
      status = usam_cli_failure (name, error);
    }
  else if (!gtk_init_check ())
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open a display");
      status = usam_cli_failure (name, error);
    }
  if (status == USAM_EXIT_OK)
    {
      a.path = rest ? rest[0] : NULL;
      /* Non-unique: every `usam annotate` is its own process and window. */
      g_autoptr (GtkApplication) app = gtk_application_new ("io.github.usam.Usam", G_APPLICATION_NON_UNIQUE);
      g_signal_connect (app, "activate", G_CALLBACK (on_activate), &a);
      char *app_argv[] = { argv[0], NULL };
      status = g_application_run (G_APPLICATION (app), 1, app_argv) == 0 ? USAM_EXIT_OK : USAM_EXIT_FAILURE;
      /* The closed window cancelled its work; some of it only notices
       * between blocks or frames, and must not be inside libtorch at exit. */
      if (!usam_workers_wait (30 * G_USEC_PER_SEC))
        g_printerr ("%s: background work did not stop within 30 s\n", name);
    }
  g_free (a.model);
  return status;
}
