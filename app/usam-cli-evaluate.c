/* usam evaluate — segmentation accuracy of label images against ground truth. */
#include "usam-cli-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "usam-error.h"
#include "usam-metrics.h"

guint32 *
usam_cli_load_labels (const char *path, guint *width, guint *height, GError **error)
{
  g_autoptr (UsamImage) image = usam_image_load (path, error);
  if (!image)
    return NULL;
  if (usam_image_get_depth (image) > 1 || usam_image_get_frames (image) > 1 || usam_image_get_channels (image) != 1)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                   "%s: labels must be one 2D plane with one channel (got %u channels, %u slices, %u frames)", path,
                   usam_image_get_channels (image), usam_image_get_depth (image), usam_image_get_frames (image));
      return NULL;
    }
  guint w = usam_image_get_width (image), h = usam_image_get_height (image);
  g_autofree guint32 *labels = g_new (guint32, (gsize) w * h);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        double v = usam_image_get_value (image, 0, 0, y, x, 0);
        if (!(v >= 0.0 && v <= G_MAXUINT32) || v != floor (v))
          {
            g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA,
                         "%s: pixel (%u, %u) is %g; labels must be whole numbers from 0", path, x, y, v);
            return NULL;
          }
        labels[(gsize) y * w + x] = (guint32) v;
      }
  *width = w;
  *height = h;
  return g_steal_pointer (&labels);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* A folder pairs its label images with the other folder's by file name. */
static gboolean
expand_pairs (char **pred, char **gt, GPtrArray *pred_files, GPtrArray *gt_files, GError **error)
{
  for (guint i = 0; pred[i]; i++)
    {
      gboolean pd = g_file_test (pred[i], G_FILE_TEST_IS_DIR), gd = g_file_test (gt[i], G_FILE_TEST_IS_DIR);
      if (pd != gd)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT,
                       "%s and %s: give two files or two folders", pred[i], gt[i]);
          return FALSE;
        }
      if (!pd)
        {
          g_ptr_array_add (pred_files, g_strdup (pred[i]));
          g_ptr_array_add (gt_files, g_strdup (gt[i]));
          continue;
        }
      g_autoptr (GDir) dir = g_dir_open (gt[i], 0, error);
      if (!dir)
        return FALSE;
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      for (const char *n; (n = g_dir_read_name (dir));)
        if (g_str_has_suffix (n, ".tif") || g_str_has_suffix (n, ".tiff") || g_str_has_suffix (n, ".png"))
          g_ptr_array_add (names, g_strdup (n));
      g_ptr_array_sort (names, compare_names);
      for (guint k = 0; k < names->len; k++)
        {
          g_autofree char *p = g_build_filename (pred[i], (char *) names->pdata[k], NULL);
          if (!g_file_test (p, G_FILE_TEST_EXISTS))
            {
              g_set_error (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "%s: no prediction for the ground truth %s/%s", p,
                           gt[i], (char *) names->pdata[k]);
              return FALSE;
            }
          g_ptr_array_add (pred_files, g_steal_pointer (&p));
          g_ptr_array_add (gt_files, g_build_filename (gt[i], (char *) names->pdata[k], NULL));
        }
    }
  if (pred_files->len == 0)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_NOT_FOUND, "no label images to compare");
      return FALSE;
    }
  return TRUE;
}

static void
print_row (FILE *out, const char *name, const UsamMetrics *m)
{
  fprintf (out, "%-24s %6u %6u", name, m->n_true, m->n_predicted);
  for (int t = 0; t < USAM_METRICS_N_THRESHOLDS; t++)
    fprintf (out, " %5.3f", m->accuracy[t]);
  fprintf (out, "  %5.3f  %5.3f %5.3f %5.3f\n", m->mean_accuracy, m->precision, m->recall, m->f1);
}

static void
csv_row (GString *csv, const char *name, const UsamMetrics *m)
{
  g_autofree char *quoted = NULL;
  /* Quoted when a file name holds a comma or a quote. */
  if (strpbrk (name, ",\"\n"))
    {
      g_auto (GStrv) parts = g_strsplit (name, "\"", -1);
      g_autofree char *joined = g_strjoinv ("\"\"", parts);
      quoted = g_strdup_printf ("\"%s\"", joined);
    }
  g_string_append_printf (csv, "%s,%u,%u", quoted ? quoted : name, m->n_true, m->n_predicted);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (int t = 0; t < USAM_METRICS_N_THRESHOLDS; t++)
    g_string_append_printf (csv, ",%s", g_ascii_formatd (buf, sizeof buf, "%.6f", m->accuracy[t]));
  double tail[4] = { m->mean_accuracy, m->precision, m->recall, m->f1 };
  for (int k = 0; k < 4; k++)
    g_string_append_printf (csv, ",%s", g_ascii_formatd (buf, sizeof buf, "%.6f", tail[k]));
  g_string_append_c (csv, '\n');
}

static int
run (const char *name, char **pred, char **gt, const char *csv_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pred_files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) gt_files = g_ptr_array_new_with_free_func (g_free);
  if (!expand_pairs (pred, gt, pred_files, gt_files, &error))
    return usam_cli_failure (name, error);

  g_autoptr (GString) csv = g_string_new ("image,n_true,n_predicted");
  UsamMetrics first = { 0 };
  usam_metrics_compute ((const guint32[]) { 0 }, (const guint32[]) { 0 }, 1, 1, &first, NULL);
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  for (int t = 0; t < USAM_METRICS_N_THRESHOLDS; t++)
    g_string_append_printf (csv, ",sa_%s", g_ascii_formatd (number, sizeof number, "%.2f", first.thresholds[t]));
  g_string_append (csv, ",msa,precision,recall,f1\n");

  printf ("%-24s %6s %6s", "image", "true", "pred");
  for (int t = 0; t < USAM_METRICS_N_THRESHOLDS; t++)
    printf ("  SA%02d", (int) lround (first.thresholds[t] * 100));
  printf ("    mSA   P@.5  R@.5 F1@.5\n");

  UsamMetrics mean = { 0 };
  guint n = pred_files->len;
  for (guint i = 0; i < n; i++)
    {
      guint pw = 0, ph = 0, gw = 0, gh = 0;
      g_autofree guint32 *p = usam_cli_load_labels (pred_files->pdata[i], &pw, &ph, &error);
      if (!p)
        return usam_cli_failure (name, error);
      g_autofree guint32 *g = usam_cli_load_labels (gt_files->pdata[i], &gw, &gh, &error);
      if (!g)
        return usam_cli_failure (name, error);
      if (pw != gw || ph != gh)
        {
          g_set_error (&error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "%s is %u×%u but %s is %u×%u",
                       (char *) pred_files->pdata[i], pw, ph, (char *) gt_files->pdata[i], gw, gh);
          return usam_cli_failure (name, error);
        }
      UsamMetrics m;
      if (!usam_metrics_compute (g, p, gw, gh, &m, &error))
        return usam_cli_failure (name, error);
      g_autofree char *base = g_path_get_basename (pred_files->pdata[i]);
      print_row (stdout, base, &m);
      csv_row (csv, pred_files->pdata[i], &m);
      mean.n_true += m.n_true;
      mean.n_predicted += m.n_predicted;
      for (int t = 0; t < USAM_METRICS_N_THRESHOLDS; t++)
        mean.accuracy[t] += m.accuracy[t] / n;
      mean.mean_accuracy += m.mean_accuracy / n;
      mean.precision += m.precision / n;
      mean.recall += m.recall / n;
      mean.f1 += m.f1 / n;
    }
  if (n > 1)
    {
      /* μSAM reports the mean of the per-image scores. */
      print_row (stdout, "mean", &mean);
      csv_row (csv, "mean", &mean);
    }
  if (csv_path && !g_file_set_contents (csv_path, csv->str, (gssize) csv->len, &error))
    return usam_cli_failure (name, error);
  return USAM_EXIT_OK;
}

int
usam_cli_evaluate (const char *name, int argc, char **argv)
{
  g_auto (GStrv) pred = NULL, gt = NULL;
  g_autofree char *csv = NULL;
  GOptionEntry entries[] = {
    { "pred", 'p', 0, G_OPTION_ARG_FILENAME_ARRAY, &pred, "predicted labels, a file or a folder (repeatable)",
      "LABELS" },
    { "gt", 'g', 0, G_OPTION_ARG_FILENAME_ARRAY, &gt, "ground-truth labels matching --pred (repeatable)", "LABELS" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "also write the table as CSV", "OUT.csv" },
    { NULL },
  };
  if (!usam_cli_parse (name, "SA at IoU 0.5…0.95, mSA, precision, recall and F1 at 0.5", entries, &argc, &argv))
    return USAM_EXIT_USAGE;
  if (!pred || !gt)
    return usam_cli_usage_error (name, "--pred LABELS and --gt LABELS are required");
  if (g_strv_length (pred) != g_strv_length (gt))
    return usam_cli_usage_error (name, "each --pred needs a --gt (got %u and %u)", g_strv_length (pred),
                                 g_strv_length (gt));
  return run (name, pred, gt, csv);
}
