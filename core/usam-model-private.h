/* usam-model-private.h — core's access to the shim behind UsamModel. */
#pragma once

#include "usam-model.h"
#include "usam-sam.h"

G_BEGIN_DECLS

usam_sam_model *usam_model_get_sam (UsamModel *self);
usam_sam_embedding *usam_embedding_get_sam (UsamEmbedding *self);
UsamEmbedding *usam_embedding_new_take (usam_sam_embedding *embedding);
UsamPrediction *usam_prediction_new_take (usam_sam_prediction *prediction);

/* Sets @error from a failed shim call: the shim's one-line message, with a
 * UsamError code (or G_IO_ERROR_CANCELLED) that fits @status. */
void usam_set_error_from_sam (GError **error, usam_sam_status status);

/* The shim's view of plane (@t, @z) of @image. */
gboolean usam_image_get_sam_view (UsamImage *image, guint t, guint z, usam_sam_image_view *view, GError **error);

/* Forgets the kept encoder hash: the weights were trained in place. */
void usam_model_forget_encoder_hash (UsamModel *self);

/* A shim abort callback polling a GCancellable (which may be NULL). */
bool usam_cancellable_abort_func (void *cancellable);

G_END_DECLS
