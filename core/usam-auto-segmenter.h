/* usam-auto-segmenter.h — automatic segmentation that re-runs cheaply.
 *
 * Each automatic mode splits into an expensive stage that runs the model and
 * a cheap stage that does not:
 *
 *   AIS  the decoder maps            | smoothing, seeds, watershed, size filter
 *   AMG  the grid's decoded masks    | IoU and stability thresholds, box NMS, painting
 *   APG  the decoder maps and the    | size filter, mask NMS, painting
 *        decoded point prompts       |
 *
 * The segmenter keeps the expensive stage's output for the last model,
 * embedding and stage parameters, so a panel whose parameters change live
 * re-runs only the cheap stage while the expensive ones stay the same. The
 * stage parameters are: AMG points_per_side, points_per_batch and
 * stability_score_offset (the stability scores are computed while
 * decoding); APG the three seed thresholds, batch_size and multimask (they
 * make the prompts); AIS none.
 *
 * Labels equal the one-shot paths with the same parameters:
 * usam_ais_maps_predict + usam_ais_segment, usam_amg_generate +
 * usam_amg_paint, usam_ais_maps_predict + usam_apg_generate + usam_apg_paint.
 * AMG keeps every candidate mask (3 per grid point, cropped to its box) so
 * its thresholds can go down as well as up: for 32² points that is a few
 * hundred megabytes at worst on a large image.
 *
 * Runs are serialised: one started while another runs waits for it, so
 * cancel the old one first.
 */
#pragma once

#include "usam-ais-post.h"
#include "usam-amg.h"
#include "usam-apg.h"
#include "usam-model.h"

G_BEGIN_DECLS

typedef enum {
  USAM_AUTO_MODE_AIS,
  USAM_AUTO_MODE_AMG,
  USAM_AUTO_MODE_APG,
  USAM_N_AUTO_MODES,
} UsamAutoMode;

/* "ais", "amg", "apg" */
const char *usam_auto_mode_to_string (UsamAutoMode mode);
/* AIS and APG need a model with an AIS decoder (usam_model_has_decoder). */
gboolean usam_auto_mode_needs_decoder (UsamAutoMode mode);

typedef struct
{
  UsamAutoMode mode;
  UsamAisParams ais;
  UsamAmgParams amg;
  UsamApgParams apg;
} UsamAutoParams;

/* micro-sam's defaults for every mode, with the AIS thresholds that
 * usam evaluate-auto stored beside @model's checkpoint (CKPT.presets) when
 * there are some. @model may be NULL. A presets file that cannot be read
 * sets @error and returns FALSE; @params then holds the defaults. */
gboolean usam_auto_params_init (UsamAutoParams *params, UsamModel *model, GError **error);

typedef struct
{
  guint width, height;
  guint32 *labels; /* width × height: 0 background, objects 1..n_objects */
  guint n_objects;
} UsamAutoResult;

void usam_auto_result_free (UsamAutoResult *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamAutoResult, usam_auto_result_free)

#define USAM_TYPE_AUTO_SEGMENTER (usam_auto_segmenter_get_type ())
G_DECLARE_FINAL_TYPE (UsamAutoSegmenter, usam_auto_segmenter, USAM, AUTO_SEGMENTER, GObject)

UsamAutoSegmenter *usam_auto_segmenter_new (void);

/* Segments the image of @embedding (its original size) with @params->mode.
 * Fails with USAM_ERROR_UNSUPPORTED for AIS or APG on a model without an
 * AIS decoder, USAM_ERROR_INVALID_ARGUMENT for bad parameters, and
 * G_IO_ERROR_CANCELLED. @progress runs in the calling thread. */
UsamAutoResult *usam_auto_segmenter_run (UsamAutoSegmenter *self, UsamModel *model, UsamEmbedding *embedding,
                                         const UsamAutoParams *params, GCancellable *cancellable,
                                         UsamProgressFunc progress, gpointer progress_data, GError **error);
/* The same in a worker thread; @progress is called in the thread-default
 * main context of the caller. */
void usam_auto_segmenter_run_async (UsamAutoSegmenter *self, UsamModel *model, UsamEmbedding *embedding,
                                    const UsamAutoParams *params, GCancellable *cancellable,
                                    UsamProgressFunc progress, gpointer progress_data,
                                    GDestroyNotify progress_destroy, GAsyncReadyCallback callback,
                                    gpointer user_data);
UsamAutoResult *usam_auto_segmenter_run_finish (UsamAutoSegmenter *self, GAsyncResult *result, GError **error);

/* How many times an expensive stage ran (AIS maps predicted, an AMG grid or
 * APG prompts decoded): what tests check to see the cache work. */
guint usam_auto_segmenter_get_n_decoder_runs (UsamAutoSegmenter *self);
/* Forgets the kept stages (and the model and embedding they came from). */
void usam_auto_segmenter_clear (UsamAutoSegmenter *self);

G_END_DECLS
