/* usam-trainer.h — training runs: data, schedule, validation, checkpoints.
 *
 * A run trains a model (from a checkpoint, or from scratch with a chosen
 * architecture) on a UsamTrainData, validates every so often on held-out
 * data with fixed prompts, lowers the learning rate when validation stops
 * improving, stops early or at a step or time budget, and keeps in its
 * folder: best.pt and last.pt (μSAM checkpoints that usam and the official
 * Python code load), state.pt (optimiser state, to resume) and log.csv.
 */
#pragma once

#include <gio/gio.h>

#include "usam-model.h"
#include "usam-train-data.h"

G_BEGIN_DECLS

typedef struct {
  /* schedule */
  guint max_steps;           /* 0: no limit */
  double max_seconds;        /* 0: no limit */
  guint val_every;           /* steps between validations */
  guint val_batches;         /* fixed validation batches */
  guint warmup_steps;        /* linear warm-up of the learning rate */
  guint plateau_patience;    /* validations without improvement before the rate drops */
  double plateau_factor;     /* ReduceLROnPlateau factor (μSAM: 0.9) */
  guint early_stop_patience; /* validations without improvement before stopping; 0: never */
  /* optimisation */
  double learning_rate;
  double weight_decay;
  double clip_grad_norm;
  guint n_sub_iterations;
  double mask_prompt_probability;
  gboolean freeze_encoder;
  double ais_loss_weight;
  UsamPrecision precision;
  guint64 seed;
  /* data */
  UsamBatchSpec batch;
} UsamTrainOptions;

UsamTrainOptions usam_train_options_default (guint image_size);

typedef struct {
  gint64 step;
  double loss, mask_loss, iou_loss, ais_loss, mean_iou;
  double learning_rate;
  double seconds_per_step;
  double elapsed;           /* seconds since the run started */
  double eta;               /* seconds to the step or time budget, -1 if unknown */
  gboolean validated;       /* the validation fields below are fresh */
  double val_loss, val_iou, best_val_loss;
} UsamTrainProgress;

typedef void (*UsamTrainProgressFunc) (const UsamTrainProgress *progress, gpointer user_data);

/* Trains @model in place. @out_dir is created; when it holds state.pt and
 * last.pt from an earlier run of the same model, and @resume is set, training
 * continues from there. @progress runs in the calling thread. Returns FALSE
 * with G_IO_ERROR_CANCELLED when cancelled (the last checkpoint is kept). */
gboolean usam_train_run (UsamModel *model, UsamTrainData *train, UsamTrainData *val, const UsamTrainOptions *options,
                         const char *out_dir, gboolean resume, GCancellable *cancellable,
                         UsamTrainProgressFunc progress, gpointer progress_data, GError **error);

G_END_DECLS
