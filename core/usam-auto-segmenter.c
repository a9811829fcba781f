#include "usam-auto-segmenter.h"
#include "usam-progress-proxy.h"
#include "usam-workers.h"

#include "usam-auto-eval.h"
#include "usam-error.h"

const char *
usam_auto_mode_to_string (UsamAutoMode mode)
{
  switch (mode)
    {
    case USAM_AUTO_MODE_AIS:
      return "ais";
    case USAM_AUTO_MODE_AMG:
      return "amg";
    case USAM_AUTO_MODE_APG:
      return "apg";
    case USAM_N_AUTO_MODES:
    default:
      return NULL;
    }
}

gboolean
usam_auto_mode_needs_decoder (UsamAutoMode mode)
{
  return mode == USAM_AUTO_MODE_AIS || mode == USAM_AUTO_MODE_APG;
}

gboolean
usam_auto_params_init (UsamAutoParams *params, UsamModel *model, GError **error)
{
  g_return_val_if_fail (params != NULL, FALSE);
  *params = (UsamAutoParams) {
    .mode = model && usam_model_has_decoder (model) ? USAM_AUTO_MODE_AIS : USAM_AUTO_MODE_AMG,
    .ais = usam_ais_params_default (),
    .amg = usam_amg_params_default (),
    .apg = usam_apg_params_default (),
  };
  const char *path = model ? usam_model_get_path (model) : NULL;
  if (!path)
    return TRUE;
  g_autoptr (GError) local = NULL;
  UsamAisParams ais = params->ais;
  if (usam_ais_params_load_presets (path, &ais, &local))
    params->ais = ais;
  else if (local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

void
usam_auto_result_free (UsamAutoResult *self)
{
  if (!self)
    return;
  g_free (self->labels);
  g_free (self);
}

struct _UsamAutoSegmenter
{
  GObject parent_instance;

  /* Held for a whole run: runs are serialised, and the kept stages are
   * read and replaced only under it. */
  GMutex lock;
  UsamModel *model;         /* what the kept stages came from */
  UsamEmbedding *embedding;
  UsamAisMaps *maps;        /* AIS and APG */
  UsamMaskSet *amg;         /* every candidate of the grid */
  UsamAmgParams amg_key;
  UsamMaskSet *apg;         /* the decoded prompts, before selection */
  UsamApgParams apg_key;
  guint n_decoder_runs;     /* atomic */
};

G_DEFINE_FINAL_TYPE (UsamAutoSegmenter, usam_auto_segmenter, G_TYPE_OBJECT)

static void
clear_locked (UsamAutoSegmenter *self)
{
  g_clear_object (&self->model);
  g_clear_pointer (&self->embedding, usam_embedding_unref);
  g_clear_pointer (&self->maps, usam_ais_maps_free);
  g_clear_pointer (&self->amg, usam_mask_set_free);
  g_clear_pointer (&self->apg, usam_mask_set_free);
}

void
usam_auto_segmenter_clear (UsamAutoSegmenter *self)
{
  g_return_if_fail (USAM_IS_AUTO_SEGMENTER (self));
  g_mutex_lock (&self->lock);
  clear_locked (self);
  g_mutex_unlock (&self->lock);
}

guint
usam_auto_segmenter_get_n_decoder_runs (UsamAutoSegmenter *self)
{
  g_return_val_if_fail (USAM_IS_AUTO_SEGMENTER (self), 0);
  return (guint) g_atomic_int_get (&self->n_decoder_runs);
}

static void
decoder_ran (UsamAutoSegmenter *self)
{
  g_atomic_int_inc (&self->n_decoder_runs);
}

static void
report (UsamProgressFunc progress, gpointer data, double fraction)
{
  if (progress)
    progress (fraction, data);
}

static gboolean
ensure_maps (UsamAutoSegmenter *self, GCancellable *cancellable, GError **error)
{
  if (self->maps)
    return TRUE;
  /* One decoder pass, which cannot be interrupted: check before it. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  self->maps = usam_ais_maps_predict (self->model, self->embedding, error);
  if (!self->maps)
    return FALSE;
  decoder_ran (self);
  return TRUE;
}

static gboolean
same_amg_stage (const UsamAmgParams *a, const UsamAmgParams *b)
{
  return a->points_per_side == b->points_per_side && a->points_per_batch == b->points_per_batch
         && a->stability_score_offset == b->stability_score_offset;
}

static gboolean
same_apg_stage (const UsamApgParams *a, const UsamApgParams *b)
{
  return a->center_distance_threshold == b->center_distance_threshold
         && a->boundary_distance_threshold == b->boundary_distance_threshold
         && a->foreground_threshold == b->foreground_threshold && a->batch_size == b->batch_size
         && !a->multimask == !b->multimask;
}

/* Scales a stage's progress into [0, 0.9]: the cheap stage takes the rest. */
typedef struct
{
  UsamProgressFunc progress;
  gpointer data;
} StageProgress;

static void
stage_progress (double fraction, gpointer user_data)
{
  StageProgress *s = user_data;
  s->progress (0.9 * fraction, s->data);
}

static UsamMaskSet *
amg_masks (UsamAutoSegmenter *self, const UsamAmgParams *params, GCancellable *cancellable,
           UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  if (!self->amg || !same_amg_stage (&self->amg_key, params))
    {
      g_clear_pointer (&self->amg, usam_mask_set_free);
      /* Keep everything, ranked by predicted IoU (an NMS that suppresses
       * nothing still orders), so usam_amg_select() can apply any
       * thresholds later. */
      UsamAmgParams all = *params;
      all.pred_iou_thresh = 0.0;
      all.stability_score_thresh = 0.0;
      all.box_nms_thresh = 2.0;
      StageProgress s = { progress, progress_data };
      self->amg = usam_amg_generate (self->model, self->embedding, &all, NULL, cancellable,
                                     progress ? stage_progress : NULL, &s, error);
      if (!self->amg)
        return NULL;
      self->amg_key = *params;
      decoder_ran (self);
    }
  UsamMaskSet *masks = usam_mask_set_copy (self->amg);
  usam_amg_select (masks, params);
  return masks;
}

static UsamMaskSet *
apg_masks (UsamAutoSegmenter *self, const UsamApgParams *params, GCancellable *cancellable, GError **error)
{
  if (!ensure_maps (self, cancellable, error))
    return NULL;
  if (!self->apg || !same_apg_stage (&self->apg_key, params))
    {
      g_clear_pointer (&self->apg, usam_mask_set_free);
      self->apg = usam_apg_decode (self->model, self->embedding, self->maps, params, cancellable, error);
      if (!self->apg)
        return NULL;
      self->apg_key = *params;
      decoder_ran (self);
    }
  UsamMaskSet *masks = usam_mask_set_copy (self->apg);
  usam_apg_select (masks, params);
  return masks;
}

static UsamAutoResult *
run_locked (UsamAutoSegmenter *self, UsamModel *model, UsamEmbedding *embedding, const UsamAutoParams *params,
            GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data, GError **error)
{
  if (usam_auto_mode_needs_decoder (params->mode) && !usam_model_has_decoder (model))
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_UNSUPPORTED,
                   "%s needs a model with an AIS decoder (a μSAM checkpoint with decoder_state)",
                   params->mode == USAM_AUTO_MODE_AIS ? "AIS" : "APG");
      return NULL;
    }
  if (self->model != model || self->embedding != embedding)
    {
      clear_locked (self);
      self->model = g_object_ref (model);
      self->embedding = usam_embedding_ref (embedding);
    }
  UsamEmbeddingShape shape;
  usam_embedding_get_shape (embedding, &shape);
  g_autoptr (UsamAutoResult) result = g_new0 (UsamAutoResult, 1);
  result->width = shape.original_width;
  result->height = shape.original_height;
  result->labels = g_try_new0 (guint32, (gsize) result->width * result->height);
  if (!result->labels)
    {
      g_set_error (error, USAM_ERROR, USAM_ERROR_FAILED, "out of memory for a %u × %u label image", result->width,
                   result->height);
      return NULL;
    }
  report (progress, progress_data, 0.0);
  gboolean ok = FALSE;
  switch (params->mode)
    {
    case USAM_AUTO_MODE_AIS:
      if (!ensure_maps (self, cancellable, error))
        return NULL;
      report (progress, progress_data, 0.9);
      ok = usam_ais_segment (self->maps->foreground, self->maps->center_distances, self->maps->boundary_distances,
                             self->maps->width, self->maps->height, &params->ais, result->labels,
                             &result->n_objects, cancellable, error);
      break;
    case USAM_AUTO_MODE_AMG:
      {
        g_autoptr (UsamMaskSet) masks = amg_masks (self, &params->amg, cancellable, progress, progress_data, error);
        ok = masks && usam_amg_paint (masks, &params->amg, result->labels, &result->n_objects, error);
        break;
      }
    case USAM_AUTO_MODE_APG:
      {
        g_autoptr (UsamMaskSet) masks = apg_masks (self, &params->apg, cancellable, error);
        report (progress, progress_data, 0.9);
        ok = masks && usam_apg_paint (masks, &params->apg, result->labels, &result->n_objects, error);
        break;
      }
    case USAM_N_AUTO_MODES:
    default:
      g_set_error (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "unknown automatic mode %d", (int) params->mode);
      break;
    }
  if (!ok)
    return NULL;
  report (progress, progress_data, 1.0);
  return g_steal_pointer (&result);
}

UsamAutoResult *
usam_auto_segmenter_run (UsamAutoSegmenter *self, UsamModel *model, UsamEmbedding *embedding,
                         const UsamAutoParams *params, GCancellable *cancellable, UsamProgressFunc progress,
                         gpointer progress_data, GError **error)
{
  g_return_val_if_fail (USAM_IS_AUTO_SEGMENTER (self), NULL);
  g_return_val_if_fail (USAM_IS_MODEL (model) && embedding != NULL && params != NULL, NULL);
  g_mutex_lock (&self->lock);
  UsamAutoResult *result = run_locked (self, model, embedding, params, cancellable, progress, progress_data, error);
  g_mutex_unlock (&self->lock);
  return result;
}

/* ---- asynchronous runs ---- */

typedef struct
{
  UsamModel *model;
  UsamEmbedding *embedding;
  UsamAutoParams params;
  UsamProgressProxy *proxy;
} RunData;

static void
run_data_free (RunData *d)
{
  g_clear_object (&d->model);
  g_clear_pointer (&d->embedding, usam_embedding_unref);
  g_clear_pointer (&d->proxy, usam_progress_proxy_unref);
  g_free (d);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  GError *error = NULL;
  UsamAutoResult *result = usam_auto_segmenter_run (USAM_AUTO_SEGMENTER (source), d->model, d->embedding,
                                                    &d->params, cancellable, d->proxy ? usam_progress_proxy_post : NULL, d->proxy,
                                                    &error);
  if (result)
    g_task_return_pointer (task, result, (GDestroyNotify) usam_auto_result_free);
  else
    g_task_return_error (task, error);
}

void
usam_auto_segmenter_run_async (UsamAutoSegmenter *self, UsamModel *model, UsamEmbedding *embedding,
                               const UsamAutoParams *params, GCancellable *cancellable, UsamProgressFunc progress,
                               gpointer progress_data, GDestroyNotify progress_destroy,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (USAM_IS_AUTO_SEGMENTER (self));
  g_return_if_fail (USAM_IS_MODEL (model) && embedding != NULL && params != NULL);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usam_auto_segmenter_run_async);
  RunData *d = g_new0 (RunData, 1);
  d->model = g_object_ref (model);
  d->embedding = usam_embedding_ref (embedding);
  d->params = *params;
  d->proxy = usam_progress_proxy_new (progress, progress_data, progress_destroy);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  usam_task_run_in_thread (task, run_thread);
}

UsamAutoResult *
usam_auto_segmenter_run_finish (UsamAutoSegmenter *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- life cycle ---- */

static void
usam_auto_segmenter_finalize (GObject *object)
{
  UsamAutoSegmenter *self = USAM_AUTO_SEGMENTER (object);
  clear_locked (self);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (usam_auto_segmenter_parent_class)->finalize (object);
}

static void
usam_auto_segmenter_class_init (UsamAutoSegmenterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usam_auto_segmenter_finalize;
}

static void
usam_auto_segmenter_init (UsamAutoSegmenter *self)
{
  g_mutex_init (&self->lock);
}

UsamAutoSegmenter *
usam_auto_segmenter_new (void)
{
  return g_object_new (USAM_TYPE_AUTO_SEGMENTER, NULL);
}
