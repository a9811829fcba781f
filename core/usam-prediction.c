#include "usam-model-private.h"

#include "usam-error.h"

struct _UsamPrediction
{
  gatomicrefcount ref;
  usam_sam_prediction *sam;
};

G_DEFINE_BOXED_TYPE (UsamPrediction, usam_prediction, usam_prediction_ref, usam_prediction_unref)

UsamPrediction *
usam_prediction_new_take (usam_sam_prediction *prediction)
{
  UsamPrediction *self = g_new0 (UsamPrediction, 1);
  g_atomic_ref_count_init (&self->ref);
  self->sam = prediction;
  return self;
}

UsamPrediction *
usam_prediction_ref (UsamPrediction *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
usam_prediction_unref (UsamPrediction *self)
{
  if (self && g_atomic_ref_count_dec (&self->ref))
    {
      usam_sam_prediction_free (self->sam);
      g_free (self);
    }
}

UsamPrediction *
usam_model_predict (UsamModel *self, UsamEmbedding *embedding, const UsamPrompt *prompts, guint n_prompts,
                    UsamPredictFlags flags, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (USAM_IS_MODEL (self), NULL);
  g_return_val_if_fail (embedding != NULL, NULL);
  if (n_prompts == 0)
    {
      g_set_error_literal (error, USAM_ERROR, USAM_ERROR_INVALID_ARGUMENT, "no prompt to segment");
      return NULL;
    }
  g_autofree usam_sam_prompt *sp = g_new0 (usam_sam_prompt, n_prompts);
  for (guint i = 0; i < n_prompts; i++)
    {
      sp[i].points = prompts[i].points;
      sp[i].labels = prompts[i].labels;
      sp[i].n_points = (int) prompts[i].n_points;
      sp[i].box = prompts[i].box;
      sp[i].mask_input = prompts[i].mask_input;
    }
  usam_sam_predict_params params = usam_sam_predict_default_params ();
  params.multimask = (flags & USAM_PREDICT_MULTIMASK) != 0;
  params.outputs = 0;
  if (!(flags & USAM_PREDICT_NO_MASKS))
    params.outputs |= USAM_SAM_OUTPUT_MASKS;
  if (flags & USAM_PREDICT_LOGITS)
    params.outputs |= USAM_SAM_OUTPUT_LOGITS;
  if (flags & USAM_PREDICT_LOW_RES)
    params.outputs |= USAM_SAM_OUTPUT_LOW_RES;
  params.abort = usam_cancellable_abort_func;
  params.user_data = cancellable;
  usam_sam_prediction *out = NULL;
  usam_sam_status status = usam_sam_predict_batch (usam_model_get_sam (self), usam_embedding_get_sam (embedding), sp,
                                                   (int) n_prompts, &params, &out);
  if (status != USAM_SAM_STATUS_OK)
    {
      usam_set_error_from_sam (error, status);
      return NULL;
    }
  return usam_prediction_new_take (out);
}

guint
usam_prediction_get_n_prompts (UsamPrediction *self)
{
  return (guint) usam_sam_prediction_get_n_prompts (self->sam);
}

guint
usam_prediction_get_n_masks (UsamPrediction *self)
{
  return (guint) usam_sam_prediction_get_n_masks (self->sam);
}

void
usam_prediction_get_size (UsamPrediction *self, guint *height, guint *width)
{
  int h = 0, w = 0;
  usam_sam_prediction_get_size (self->sam, &h, &w);
  if (height)
    *height = (guint) h;
  if (width)
    *width = (guint) w;
}

const guint8 *
usam_prediction_get_masks (UsamPrediction *self, guint prompt)
{
  return usam_sam_prediction_get_masks (self->sam, (int) prompt);
}

const float *
usam_prediction_get_logits (UsamPrediction *self, guint prompt)
{
  return usam_sam_prediction_get_logits (self->sam, (int) prompt);
}

const float *
usam_prediction_get_low_res_logits (UsamPrediction *self, guint prompt)
{
  return usam_sam_prediction_get_low_res_logits (self->sam, (int) prompt);
}

const float *
usam_prediction_get_iou (UsamPrediction *self, guint prompt)
{
  return usam_sam_prediction_get_iou (self->sam, (int) prompt);
}

guint
usam_prediction_get_low_res_size (UsamPrediction *self)
{
  return (guint) usam_sam_prediction_get_low_res_size (self->sam);
}
