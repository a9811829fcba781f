/* usam-auto-eval.c — AIS against ground truth and the classical baseline. */
#include "usam-auto-eval.h"

#include <math.h>
#include <string.h>

#include "usam-ais-maps.h"
#include "usam-baseline.h"
#include "usam-error.h"
#include "usam-metrics.h"

/* What one image contributes: its maps and its ground truth. */
typedef struct {
  UsamAisMaps *maps;
  guint32 *truth;
} Item;

static void
item_clear (Item *item)
{
  g_clear_pointer (&item->maps, usam_ais_maps_free);
  g_clear_pointer (&item->truth, g_free);
}

static UsamAisMaps *
predict_maps (UsamModel *model, UsamTrainData *data, guint index, GCancellable *cancellable, GError **error)
{
  const guint8 *rgb;
  const gint32 *labels;
  guint width, height;
  usam_train_data_get_item (data, index, &rgb, &labels, &width, &height);
  g_autoptr (GBytes) bytes = g_bytes_new_static (rgb, (gsize) width * height * 3);
  g_autoptr (UsamImage) image = usam_image_new_from_bytes (bytes, USAM_PIXEL_TYPE_U8, width, height, 3, 1, 1, error);
  if (!image)
    return NULL;
  /* the data are normalised already, as μSAM normalises at inference */
  g_autoptr (UsamEmbedding) embedding
      = usam_model_encode (model, image, 0, 0, USAM_NORMALIZE_NONE, cancellable, NULL, NULL, error);
  if (!embedding)
    return NULL;
  UsamAisMaps *maps = usam_ais_maps_predict (model, embedding, error);
  if (!maps)
    g_prefix_error (error, "%s: ", usam_train_data_get_name (data, index));
  return maps;
}

static guint32 *
dup_truth (UsamTrainData *data, guint index)
{
  const guint8 *rgb;
  const gint32 *labels;
  guint width, height;
  usam_train_data_get_item (data, index, &rgb, &labels, &width, &height);
  gsize n = (gsize) width * height;
  guint32 *truth = g_new (guint32, n);
  for (gsize i = 0; i < n; i++)
    truth[i] = labels[i] > 0 ? (guint32) labels[i] : 0;
  return truth;
}

static void
score_add (UsamAutoScore *s, const UsamMetrics *m)
{
  s->n_images++;
  s->msa += m->mean_accuracy;
  s->sa50 += m->accuracy[0];
  s->sa75 += m->accuracy[5];
  s->f1 += m->f1;
}

static void
score_finish (UsamAutoScore *s)
{
  if (s->n_images == 0)
    return;
  s->msa /= s->n_images;
  s->sa50 /= s->n_images;
  s->sa75 /= s->n_images;
  s->f1 /= s->n_images;
}

static gboolean
score_ais (const Item *items, guint n_items, const UsamAisParams *params, UsamAutoScore *score,
           GCancellable *cancellable, GError **error)
{
  memset (score, 0, sizeof *score);
  for (guint i = 0; i < n_items; i++)
    {
      const UsamAisMaps *maps = items[i].maps;
      g_autofree guint32 *labels = g_new (guint32, (gsize) maps->width * maps->height);
      UsamMetrics m;
      if (!usam_ais_segment (maps->foreground, maps->center_distances, maps->boundary_distances, maps->width,
                             maps->height, params, labels, NULL, cancellable, error)
          || !usam_metrics_compute (items[i].truth, labels, maps->width, maps->height, &m, error))
        return FALSE;
      score_add (score, &m);
    }
  score_finish (score);
  return TRUE;
}

static gboolean
load_items (UsamModel *model, UsamTrainData *data, Item *items, GCancellable *cancellable,
            UsamAutoEvalProgress progress, gpointer progress_data, GError **error)
{
  guint n = usam_train_data_get_n_items (data);
  for (guint i = 0; i < n; i++)
    {
      items[i].maps = predict_maps (model, data, i, cancellable, error);
      if (!items[i].maps)
        return FALSE;
      items[i].truth = dup_truth (data, i);
      if (progress)
        progress ("decoder maps", i + 1, n, progress_data);
    }
  return TRUE;
}

gboolean
usam_auto_eval_tune_ais (UsamModel *model, UsamTrainData *validation, UsamAisParams *params,
                         GCancellable *cancellable, UsamAutoEvalProgress progress, gpointer progress_data,
                         GError **error)
{
  guint n = usam_train_data_get_n_items (validation);
  if (n == 0)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "the validation data hold no images");
      return FALSE;
    }
  g_autofree Item *items = g_new0 (Item, n);
  gboolean ok = load_items (model, validation, items, cancellable, progress, progress_data, error);

  /* μSAM's grid search covers the two distance thresholds; the foreground
   * threshold matters as much for a small model's softer maps */
  static const double distance_grid[] = { 0.3, 0.4, 0.5, 0.6, 0.7 };
  static const double foreground_grid[] = { 0.4, 0.5, 0.6 };
  const guint total = G_N_ELEMENTS (distance_grid) * G_N_ELEMENTS (distance_grid) * G_N_ELEMENTS (foreground_grid);
  UsamAisParams best = *params;
  double best_msa = -1;
  guint done = 0;
  for (guint a = 0; ok && a < G_N_ELEMENTS (distance_grid); a++)
    for (guint b = 0; ok && b < G_N_ELEMENTS (distance_grid); b++)
      for (guint f = 0; ok && f < G_N_ELEMENTS (foreground_grid); f++)
        {
          UsamAisParams p = *params;
          p.center_distance_threshold = distance_grid[a];
          p.boundary_distance_threshold = distance_grid[b];
          p.foreground_threshold = foreground_grid[f];
          UsamAutoScore s;
          ok = score_ais (items, n, &p, &s, cancellable, error);
          if (ok && s.msa > best_msa)
            {
              best_msa = s.msa;
              best = p;
            }
          if (progress)
            progress ("grid search", ++done, total, progress_data);
        }
  for (guint i = 0; i < n; i++)
    item_clear (&items[i]);
  if (ok)
    *params = best;
  return ok;
}

gboolean
usam_auto_eval_run (UsamModel *model, UsamTrainData *data, const UsamAisParams *params, UsamAutoEvalResult *result,
                    GCancellable *cancellable, UsamAutoEvalProgress progress, gpointer progress_data, GError **error)
{
  gint64 start = g_get_monotonic_time ();
  memset (result, 0, sizeof *result);
  result->params = *params;
  guint n = usam_train_data_get_n_items (data);
  g_autofree Item *items = g_new0 (Item, n);
  gboolean ok = load_items (model, data, items, cancellable, progress, progress_data, error)
                && score_ais (items, n, params, &result->model, cancellable, error);

  for (guint i = 0; ok && i < n; i++)
    {
      const guint8 *rgb;
      const gint32 *labels;
      guint width, height;
      usam_train_data_get_item (data, i, &rgb, &labels, &width, &height);
      gsize count = (gsize) width * height;
      g_autofree guint8 *grey = g_new (guint8, count);
      for (gsize p = 0; p < count; p++)
        grey[p] = (guint8) ((rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2]) / 3);
      g_autofree guint32 *baseline = g_new (guint32, count);
      UsamMetrics m;
      ok = usam_baseline_otsu_watershed (grey, width, height, params->min_size, baseline, NULL, error)
           && usam_metrics_compute (items[i].truth, baseline, width, height, &m, error);
      if (ok)
        score_add (&result->baseline, &m);
    }
  score_finish (&result->baseline);
  for (guint i = 0; i < n; i++)
    item_clear (&items[i]);
  result->seconds = (g_get_monotonic_time () - start) / 1e6;
  return ok;
}

static char *
presets_path (const char *checkpoint_path)
{
  return g_strconcat (checkpoint_path, ".presets", NULL);
}

gboolean
usam_ais_params_save_presets (const UsamAisParams *params, const char *checkpoint_path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = presets_path (checkpoint_path);
  /* keep other groups a later tool may have written */
  if (g_file_test (path, G_FILE_TEST_EXISTS) && !g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, error))
    return FALSE;
  struct { const char *key; double value; } keys[] = {
    { "center-distance-threshold", params->center_distance_threshold },
    { "boundary-distance-threshold", params->boundary_distance_threshold },
    { "foreground-threshold", params->foreground_threshold },
    { "foreground-smoothing", params->foreground_smoothing },
    { "distance-smoothing", params->distance_smoothing },
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      /* shortest text that reads back to the same double */
      char text[G_ASCII_DTOSTR_BUF_SIZE];
      g_key_file_set_value (kf, "ais", keys[i].key, g_ascii_dtostr (text, sizeof text, keys[i].value));
    }
  g_key_file_set_integer (kf, "ais", "min-size", (gint) params->min_size);
  return g_key_file_save_to_file (kf, path, error);
}

gboolean
usam_ais_params_load_presets (const char *checkpoint_path, UsamAisParams *params, GError **error)
{
  g_autofree char *path = presets_path (checkpoint_path);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return FALSE;
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: %s", path, local->message);
      return FALSE;
    }
  UsamAisParams p = *params;
  struct { const char *key; double *value; } keys[] = {
    { "center-distance-threshold", &p.center_distance_threshold },
    { "boundary-distance-threshold", &p.boundary_distance_threshold },
    { "foreground-threshold", &p.foreground_threshold },
    { "foreground-smoothing", &p.foreground_smoothing },
    { "distance-smoothing", &p.distance_smoothing },
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_key_file_has_key (kf, "ais", keys[i].key, NULL))
      {
        double v = g_key_file_get_double (kf, "ais", keys[i].key, &local);
        if (local || !isfinite (v) || v < 0)
          {
            g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: [ais] %s is not a valid number", path,
                         keys[i].key);
            return FALSE;
          }
        *keys[i].value = v;
      }
  if (g_key_file_has_key (kf, "ais", "min-size", NULL))
    {
      gint v = g_key_file_get_integer (kf, "ais", "min-size", &local);
      if (local || v < 0)
        {
          g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_DATA, "%s: [ais] min-size is not a valid size", path);
          return FALSE;
        }
      p.min_size = (guint) v;
    }
  *params = p;
  return TRUE;
}
