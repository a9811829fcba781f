/* usam evaluate-prompts — μSAM's interactive evaluation: a prompt per object,
 * then correction points from the errors, mSA after every iteration. */
#include "usam-cli-private.h"

#include <math.h>
#include <stdio.h>

#include "usam-plot.h"
#include "usam-prompt-eval.h"

static void
report_progress (guint image, guint n_images, gpointer user_data)
{
  if (image % 10 == 0 || image == n_images)
    {
      fprintf (stderr, "\r%u/%u images", image, n_images);
      if (image == n_images)
        fprintf (stderr, "\n");
    }
}

static gboolean
write_csv (const char *path, const UsamPromptEvalResult *r, GError **error)
{
  g_autoptr (GString) s = g_string_new ("iteration,msa,sa50,sa75\n");
  for (guint i = 0; i < r->n_iterations; i++)
    g_string_append_printf (s, "%u,%.4f,%.4f,%.4f\n", i, r->msa[i], r->sa50[i], r->sa75[i]);
  if (isfinite (r->baseline_msa))
    g_string_append_printf (s, "otsu-in-box,%.4f,%.4f,%.4f\n", r->baseline_msa, r->baseline_sa50, r->baseline_sa75);
  return g_file_set_contents (path, s->str, (gssize) s->len, error);
}

static gboolean
write_plot (const char *path, const char *title, const UsamPromptEvalResult *r, GError **error)
{
  g_autoptr (UsamPlot) plot = usam_plot_new (title, "correction iteration", "mSA");
  double x[USAM_PROMPT_EVAL_MAX_ITERATIONS];
  for (guint i = 0; i < r->n_iterations; i++)
    x[i] = i;
  usam_plot_add_series (plot, "usam", x, r->msa, r->n_iterations, FALSE);
  if (isfinite (r->baseline_msa))
    {
      double b[USAM_PROMPT_EVAL_MAX_ITERATIONS];
      for (guint i = 0; i < r->n_iterations; i++)
        b[i] = r->baseline_msa;
      usam_plot_add_series (plot, "Otsu in box", x, b, r->n_iterations, TRUE);
    }
  usam_plot_set_y_range (plot, 0, 1);
  return usam_plot_save_png (plot, path, 640, 400, error);
}

int
usam_cli_evaluate_prompts (const char *name, int argc, char **argv)
{
  g_autofree char *model_path = NULL, *start = NULL, *csv = NULL, *plot = NULL, *precision_name = NULL;
  g_auto (GStrv) images = NULL, labels = NULL, lists = NULL;
  int iterations = 7, batch = 32, seed = 1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "SAM or μSAM checkpoint", "CKPT" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, "image folder, with --labels (repeatable)", "DIR" },
    { "labels", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &labels, "label folder matching --images by name", "DIR" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &lists, "list of 'IMAGE LABELS' lines (repeatable)", "LIST" },
    { "start", 0, 0, G_OPTION_ARG_STRING, &start, "first prompt: box (default) or point", "KIND" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "correction iterations after the first prompt (default 7)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "objects decoded together (default 32)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "seed for the correction points (default 1)", "N" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision_name, "auto (default), fp32 or bf16", "P" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "write the table as CSV", "FILE" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &plot, "write mSA per iteration as a PNG plot", "FILE" },
    { NULL },
  };
  if (!usam_cli_parse (name, "evaluate interactive segmentation against ground truth", entries, &argc, &argv))
    return USAM_EXIT_USAGE;
  if (!model_path)
    return usam_cli_usage_error (name, "--model CKPT is required");
  if (!images && !lists)
    return usam_cli_usage_error (name, "give the data with --images DIR --labels DIR or --data LIST");
  if ((images ? g_strv_length (images) : 0) != (labels ? g_strv_length (labels) : 0))
    return usam_cli_usage_error (name, "each --images folder needs a --labels folder");
  if (start && g_strcmp0 (start, "box") != 0 && g_strcmp0 (start, "point") != 0)
    return usam_cli_usage_error (name, "--start must be box or point, not '%s'", start);
  if (iterations < 0 || iterations + 1 > USAM_PROMPT_EVAL_MAX_ITERATIONS || batch <= 0)
    return usam_cli_usage_error (name, "--iterations must be 0–%d and --batch positive",
                                 USAM_PROMPT_EVAL_MAX_ITERATIONS - 1);
  UsamPrecision precision = USAM_PRECISION_AUTO;
  if (precision_name && !usam_precision_from_string (precision_name, &precision))
    return usam_cli_usage_error (name, "--precision must be auto, fp32 or bf16");

  g_autoptr (GError) error = NULL;
  g_autoptr (UsamTrainData) data = usam_train_data_new ();
  for (guint i = 0; lists && lists[i]; i++)
    if (!usam_train_data_add_list (data, lists[i], &error))
      return usam_cli_failure (name, error);
  for (guint i = 0; images && images[i]; i++)
    if (!usam_train_data_add_folders (data, images[i], labels[i], &error))
      return usam_cli_failure (name, error);
  g_autoptr (UsamModel) model = usam_model_new_from_file (model_path, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);

  UsamPromptEvalOptions o = usam_prompt_eval_options_default ();
  o.box_start = !start || g_str_equal (start, "box");
  o.n_iterations = (guint) iterations + 1;
  o.batch_size = (guint) batch;
  o.seed = (guint64) seed;
  UsamPromptEvalResult r;
  if (!usam_prompt_eval_run (model, data, &o, &r, NULL, report_progress, NULL, &error))
    return usam_cli_failure (name, error);

  printf ("%s, %s start: %u images, %u objects, %.0f s\n", model_path, o.box_start ? "box" : "point", r.n_images,
          r.n_objects, r.seconds);
  printf ("| iteration | mSA    | SA50   | SA75   |\n|-----------|--------|--------|--------|\n");
  for (guint i = 0; i < r.n_iterations; i++)
    printf ("| %9u | %.4f | %.4f | %.4f |\n", i, r.msa[i], r.sa50[i], r.sa75[i]);
  if (isfinite (r.baseline_msa))
    printf ("| Otsu/box  | %.4f | %.4f | %.4f |\n", r.baseline_msa, r.baseline_sa50, r.baseline_sa75);
  if (csv && !write_csv (csv, &r, &error))
    return usam_cli_failure (name, error);
  if (plot && !write_plot (plot, o.box_start ? "box start" : "point start", &r, &error))
    return usam_cli_failure (name, error);
  return USAM_EXIT_OK;
}
