/* usam evaluate-auto — automatic instance segmentation (AIS) against ground
 * truth and the Otsu + watershed baseline, thresholds tuned on a validation
 * split and optionally stored with the model. */
#include "usam-cli-private.h"

#include <stdio.h>

#include "usam-auto-eval.h"

static void
report_progress (const char *stage, guint done, guint total, gpointer user_data)
{
  if (done % 5 == 0 || done == total)
    fprintf (stderr, "\r%s: %u/%u%s", stage, done, total, done == total ? "\n" : "");
}

static gboolean
add_data (UsamTrainData *data, GStrv lists, GStrv images, GStrv labels, GError **error)
{
  for (guint i = 0; lists && lists[i]; i++)
    if (!usam_train_data_add_list (data, lists[i], error))
      return FALSE;
  for (guint i = 0; images && images[i]; i++)
    if (!usam_train_data_add_folders (data, images[i], labels[i], error))
      return FALSE;
  return TRUE;
}

static void
print_row (GString *csv, const char *method, const UsamAutoScore *s)
{
  printf ("| %-16s | %6u | %.4f | %.4f | %.4f | %.4f |\n", method, s->n_images, s->msa, s->sa50, s->sa75, s->f1);
  g_string_append_printf (csv, "%s,%u,%.4f,%.4f,%.4f,%.4f\n", method, s->n_images, s->msa, s->sa50, s->sa75, s->f1);
}

int
usam_cli_evaluate_auto (const char *name, int argc, char **argv)
{
  g_autofree char *model_path = NULL, *csv_path = NULL, *precision_name = NULL;
  g_auto (GStrv) images = NULL, labels = NULL, lists = NULL, val_lists = NULL;
  gboolean save_presets = FALSE;
  UsamAisParams params = usam_ais_params_default ();
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "μSAM checkpoint with an AIS decoder", "CKPT" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &lists, "list of 'IMAGE LABELS' lines (repeatable)", "LIST" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, "image folder, with --labels (repeatable)", "DIR" },
    { "labels", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &labels, "label folder matching --images by name", "DIR" },
    { "val-data", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &val_lists, "tune the thresholds on this list first", "LIST" },
    { "save-presets", 0, 0, G_OPTION_ARG_NONE, &save_presets, "store the tuned thresholds as CKPT.presets", NULL },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision_name, "auto (default), fp32 or bf16", "P" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path, "write the table as CSV", "FILE" },
    { NULL },
  };
  if (!usam_cli_parse (name, "score automatic segmentation against ground truth", entries, &argc, &argv))
    return USAM_EXIT_USAGE;
  if (!model_path)
    return usam_cli_usage_error (name, "--model CKPT is required");
  if (!images && !lists)
    return usam_cli_usage_error (name, "give the data with --images DIR --labels DIR or --data LIST");
  if ((images ? g_strv_length (images) : 0) != (labels ? g_strv_length (labels) : 0))
    return usam_cli_usage_error (name, "each --images folder needs a --labels folder");
  if (save_presets && !val_lists)
    return usam_cli_usage_error (name, "--save-presets needs --val-data to tune on");
  UsamPrecision precision = USAM_PRECISION_AUTO;
  if (precision_name && !usam_precision_from_string (precision_name, &precision))
    return usam_cli_usage_error (name, "--precision must be auto, fp32 or bf16");

  g_autoptr (GError) error = NULL;
  g_autoptr (UsamTrainData) data = usam_train_data_new ();
  g_autoptr (UsamTrainData) validation = usam_train_data_new ();
  if (!add_data (data, lists, images, labels, &error) || !add_data (validation, val_lists, NULL, NULL, &error))
    return usam_cli_failure (name, error);
  g_autoptr (UsamModel) model = usam_model_new_from_file (model_path, precision, &error);
  if (!model)
    return usam_cli_failure (name, error);
  /* start from what was tuned before, if anything */
  if (!usam_ais_params_load_presets (model_path, &params, &error) && error)
    return usam_cli_failure (name, error);

  if (val_lists)
    {
      if (!usam_auto_eval_tune_ais (model, validation, &params, NULL, report_progress, NULL, &error))
        return usam_cli_failure (name, error);
      if (save_presets && !usam_ais_params_save_presets (&params, model_path, &error))
        return usam_cli_failure (name, error);
    }
  UsamAutoEvalResult r;
  if (!usam_auto_eval_run (model, data, &params, &r, NULL, report_progress, NULL, &error))
    return usam_cli_failure (name, error);

  printf ("%s: AIS with center %.2f, boundary %.2f, foreground %.2f, min size %u; %.0f s\n", model_path,
          params.center_distance_threshold, params.boundary_distance_threshold, params.foreground_threshold,
          params.min_size, r.seconds);
  printf ("| method           | images | mSA    | SA50   | SA75   | F1     |\n"
          "|------------------|--------|--------|--------|--------|--------|\n");
  g_autoptr (GString) csv = g_string_new ("method,images,msa,sa50,sa75,f1\n");
  print_row (csv, "AIS", &r.model);
  print_row (csv, "Otsu + watershed", &r.baseline);
  if (csv_path && !g_file_set_contents (csv_path, csv->str, (gssize) csv->len, &error))
    return usam_cli_failure (name, error);
  return USAM_EXIT_OK;
}
