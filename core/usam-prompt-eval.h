/* usam-prompt-eval.h — interactive segmentation quality, by μSAM's protocol.
 *
 * For every ground-truth object of every image: a first prompt (its box, or
 * one positive point at the object's most interior pixel with three masks,
 * keeping the one of highest predicted IoU), then correction iterations that
 * each add a positive point in a missed part and a negative point in a wrongly
 * covered part of the current mask. After every iteration the objects' masks
 * are painted into a label image (larger first) and scored against the ground
 * truth: mean segmentation accuracy (mSA), SA at 0.5 and 0.75, averaged over
 * the images. A classical baseline for box prompts — Otsu's threshold inside
 * the box, the largest connected component — is scored on the same objects.
 */
#pragma once

#include <gio/gio.h>

#include "usam-model.h"
#include "usam-train-data.h"

G_BEGIN_DECLS

#define USAM_PROMPT_EVAL_MAX_ITERATIONS 32

typedef struct {
  gboolean box_start;     /* TRUE: the box; FALSE: one point */
  guint n_iterations;     /* prompt rounds, the first included (μSAM: 8) */
  guint batch_size;       /* objects decoded together */
  guint64 seed;           /* for the correction points */
} UsamPromptEvalOptions;

UsamPromptEvalOptions usam_prompt_eval_options_default (void);

typedef struct {
  guint n_images;
  guint n_objects;
  guint n_iterations;
  double msa[USAM_PROMPT_EVAL_MAX_ITERATIONS];  /* per iteration, mean over images */
  double sa50[USAM_PROMPT_EVAL_MAX_ITERATIONS];
  double sa75[USAM_PROMPT_EVAL_MAX_ITERATIONS];
  double baseline_msa, baseline_sa50, baseline_sa75; /* Otsu in the box; NAN for point starts */
  double seconds;
} UsamPromptEvalResult;

typedef void (*UsamPromptEvalProgress) (guint image, guint n_images, gpointer user_data);

/* Evaluates @model on the images and labels of @data (see UsamTrainData). */
gboolean usam_prompt_eval_run (UsamModel *model, UsamTrainData *data, const UsamPromptEvalOptions *options,
                               UsamPromptEvalResult *result, GCancellable *cancellable, UsamPromptEvalProgress progress,
                               gpointer progress_data, GError **error);

/* Otsu's threshold of the 8-bit values in @hist (256 bins). */
guint usam_otsu_threshold (const guint64 *hist);

/* Paints binary masks (each @width × @height, 0/1) into @labels, larger
 * first so smaller ones stay on top; ids follow @masks' order from 1. */
void usam_paint_masks (const guint8 *const *masks, guint n_masks, guint width, guint height, guint32 *labels);

G_END_DECLS
