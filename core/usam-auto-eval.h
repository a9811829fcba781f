/* usam-auto-eval.h — automatic instance segmentation (AIS) judged against
 * ground truth, next to the classical baseline, with the post-processing
 * thresholds chosen on a validation split.
 *
 * The decoder's maps are computed once per image; the grid search then only
 * re-runs the post-processing, which takes milliseconds. Scores are the mean
 * over images of mSA, SA(0.5), SA(0.75) and F1(0.5) (usam-metrics.h); the
 * baseline is Otsu + distance-transform watershed (usam-baseline.h) on the
 * same images, with the same minimum object size.
 */
#pragma once

#include <gio/gio.h>

#include "usam-ais-post.h"
#include "usam-model.h"
#include "usam-train-data.h"

G_BEGIN_DECLS

typedef struct {
  guint n_images;
  double msa, sa50, sa75, f1;
} UsamAutoScore;

typedef struct {
  UsamAutoScore model;
  UsamAutoScore baseline;
  UsamAisParams params; /* what was used (the grid search's best, if any) */
  double seconds;
} UsamAutoEvalResult;

typedef void (*UsamAutoEvalProgress) (const char *stage, guint done, guint total, gpointer user_data);

/* Picks the AIS thresholds (center and boundary distance, foreground) that
 * maximise mean mSA over @validation, starting from and written to @params. */
gboolean usam_auto_eval_tune_ais (UsamModel *model, UsamTrainData *validation, UsamAisParams *params,
                                  GCancellable *cancellable, UsamAutoEvalProgress progress, gpointer progress_data,
                                  GError **error);

/* Scores AIS with @params and the baseline on @data. */
gboolean usam_auto_eval_run (UsamModel *model, UsamTrainData *data, const UsamAisParams *params,
                             UsamAutoEvalResult *result, GCancellable *cancellable, UsamAutoEvalProgress progress,
                             gpointer progress_data, GError **error);

/* AIS settings stored beside a checkpoint (CKPT.presets, a key file), so the
 * model's users get the tuned values. Missing file: FALSE without error. */
gboolean usam_ais_params_save_presets (const UsamAisParams *params, const char *checkpoint_path, GError **error);
gboolean usam_ais_params_load_presets (const char *checkpoint_path, UsamAisParams *params, GError **error);

G_END_DECLS
