/* usam-model.h — a Segment Anything model, its embeddings and predictions.
 *
 * The GObject face of shim/usam-sam.h: GErrors instead of status codes,
 * GCancellable instead of abort callbacks, UsamImage planes as input, and
 * asynchronous variants for everything slow.
 */
#pragma once

#include <gio/gio.h>

#include "usam-image.h"

G_BEGIN_DECLS

typedef enum {
  USAM_PRECISION_AUTO, /* bfloat16 where the CPU computes it natively */
  USAM_PRECISION_FP32,
  USAM_PRECISION_BF16,
} UsamPrecision;

typedef enum {
  USAM_NORMALIZE_MINMAX, /* μSAM: per-channel min–max to 8 bits */
  USAM_NORMALIZE_NONE,   /* 8-bit images go in unchanged */
} UsamNormalize;

gboolean usam_precision_from_string (const char *text, UsamPrecision *out);
const char *usam_precision_to_string (UsamPrecision precision);
gboolean usam_normalize_from_string (const char *text, UsamNormalize *out);

/* Progress of a long operation, @fraction in [0, 1]. */
typedef void (*UsamProgressFunc) (double fraction, gpointer user_data);

typedef struct _UsamEmbedding UsamEmbedding;
typedef struct _UsamPrediction UsamPrediction;

#define USAM_TYPE_MODEL (usam_model_get_type ())
G_DECLARE_FINAL_TYPE (UsamModel, usam_model, USAM, MODEL, GObject)

/* An AIS decoder in a file of its own beside @path (see
 * usam_model_find_decoder_file) is loaded when the checkpoint has none. */
UsamModel *usam_model_new_from_file (const char *path, UsamPrecision precision, GError **error);
void usam_model_new_from_file_async (const char *path, UsamPrecision precision, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
UsamModel *usam_model_new_from_file_finish (GAsyncResult *result, GError **error);

/* PyTorch-style random initialisation; @preset: vit_b, vit_l, vit_h or tiny. */
UsamModel *usam_model_new_random (const char *preset, guint64 seed, UsamPrecision precision, GError **error);

/* The shape of a model made from scratch (see usam_sam_model_config). */
typedef struct {
  guint img_size, patch_size, width, depth, heads, mlp_dim, window;
  guint n_global;
  guint global[16];
  guint prompt_dim, decoder_depth, decoder_mlp_dim;
  const char *ais_variant; /* NULL: no AIS decoder; "interpolation" or "deconvolution" */
  guint n_ais_features;     /* 0: micro-sam's 512, 256, 128, 64 */
  guint ais_features[8];
} UsamArchitecture;

/* vit_b, vit_l, vit_h or tiny, without an AIS decoder. */
gboolean usam_architecture_from_preset (const char *preset, UsamArchitecture *out, GError **error);
UsamModel *usam_model_new_from_architecture (const UsamArchitecture *architecture, guint64 seed,
                                             UsamPrecision precision, GError **error);

/* @usam_format: μSAM's layout (model_state, decoder_state) instead of a bare state dict. */
gboolean usam_model_save (UsamModel *self, const char *path, gboolean usam_format, GError **error);
/* The AIS decoder alone, as μSAM publishes it (`vit_b_lm_decoder`). */
gboolean usam_model_save_decoder (UsamModel *self, const char *path, GError **error);

/* μSAM's separate decoder file for @checkpoint, when there is one:
 * `CKPT_decoder` (μSAM's model cache) or `STEM_decoder.EXT` (bioimage.io). */
char *usam_model_find_decoder_file (const char *checkpoint);
/* What a checkpoint holds, in usam_model_dup_description()'s words, read from
 * its index and tensor shapes without loading the weights. */
char *usam_model_describe_file (const char *path, gboolean *has_decoder, GError **error);

const char *usam_model_get_path (UsamModel *self);
/* "vit_b", "vit_l", "vit_h" or "custom" */
const char *usam_model_get_architecture (UsamModel *self);
UsamPrecision usam_model_get_precision (UsamModel *self);
gboolean usam_model_has_decoder (UsamModel *self);
/* The AIS decoder's own file, or NULL when it came with the checkpoint. */
const char *usam_model_get_decoder_path (UsamModel *self);
guint usam_model_get_input_size (UsamModel *self);
/* Side of the image embedding (64 for SAM); low-res masks are 4 × this. */
guint usam_model_get_embedding_size (UsamModel *self);
gint64 usam_model_get_n_parameters (UsamModel *self);
/* One line for people: architecture, size, format, decoder, precision. */
char *usam_model_dup_description (UsamModel *self);
/* A 64-bit hash (16 hex digits) of the image encoder's weights, names and
 * shapes: what decides an embedding besides the precision and the pixels.
 * Computed on first use and kept (training forgets it); thread-safe. */
char *usam_model_dup_encoder_hash (UsamModel *self);

/* Encodes plane (@t, @z) of @image. @progress runs in the calling thread. */
UsamEmbedding *usam_model_encode (UsamModel *self, UsamImage *image, guint t, guint z, UsamNormalize normalize,
                                  GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                                  GError **error);
/* Runs in a worker thread; @progress is called in the thread-default main
 * context of the caller, so a UI can update a progress bar from it. */
void usam_model_encode_async (UsamModel *self, UsamImage *image, guint t, guint z, UsamNormalize normalize,
                              GCancellable *cancellable, UsamProgressFunc progress, gpointer progress_data,
                              GDestroyNotify progress_destroy, GAsyncReadyCallback callback, gpointer user_data);
UsamEmbedding *usam_model_encode_finish (UsamModel *self, GAsyncResult *result, GError **error);

/* ---- embeddings ---- */

typedef struct {
  guint channels, height, width;        /* 256 × 64 × 64 */
  guint original_height, original_width;
  guint input_height, input_width;      /* the resized image inside the padded input */
} UsamEmbeddingShape;

GType usam_embedding_get_type (void) G_GNUC_CONST;
#define USAM_TYPE_EMBEDDING (usam_embedding_get_type ())
UsamEmbedding *usam_embedding_ref (UsamEmbedding *self);
void usam_embedding_unref (UsamEmbedding *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamEmbedding, usam_embedding_unref)

void usam_embedding_get_shape (UsamEmbedding *self, UsamEmbeddingShape *shape);
const float *usam_embedding_get_features (UsamEmbedding *self);
UsamEmbedding *usam_embedding_new (UsamModel *model, const float *features, const UsamEmbeddingShape *shape,
                                   GError **error);

/* HDF5: /features float32 (1, C, h, w) with attributes input_size and
 * original_size (h, w), as μSAM writes them. Loading also reads the cache
 * file of a 2D image (usam-embedding-cache.h) once its slice is complete. */
gboolean usam_embedding_save (UsamEmbedding *self, UsamModel *model, const char *path, GError **error);
UsamEmbedding *usam_embedding_load (UsamModel *model, const char *path, GError **error);

/* ---- prompts and predictions ---- */

/* Coordinates are (x, y) in pixels of the original image. */
typedef struct {
  const float *points;    /* n_points × 2 */
  const gint32 *labels;   /* 1 positive, 0 negative */
  guint n_points;
  const float *box;       /* x0, y0, x1, y1, or NULL */
  const float *mask_input; /* low-res logits (4 × embedding size)², or NULL */
} UsamPrompt;

typedef enum {
  USAM_PREDICT_MULTIMASK = 1 << 0, /* three masks per prompt */
  USAM_PREDICT_LOGITS = 1 << 1,    /* also float logits at the original size */
  USAM_PREDICT_LOW_RES = 1 << 2,   /* also the low-res logits */
  USAM_PREDICT_NO_MASKS = 1 << 3,  /* skip the binary masks */
} UsamPredictFlags;

UsamPrediction *usam_model_predict (UsamModel *self, UsamEmbedding *embedding, const UsamPrompt *prompts,
                                    guint n_prompts, UsamPredictFlags flags, GCancellable *cancellable,
                                    GError **error);

GType usam_prediction_get_type (void) G_GNUC_CONST;
#define USAM_TYPE_PREDICTION (usam_prediction_get_type ())
UsamPrediction *usam_prediction_ref (UsamPrediction *self);
void usam_prediction_unref (UsamPrediction *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamPrediction, usam_prediction_unref)

guint usam_prediction_get_n_prompts (UsamPrediction *self);
guint usam_prediction_get_n_masks (UsamPrediction *self);
void usam_prediction_get_size (UsamPrediction *self, guint *height, guint *width);
guint usam_prediction_get_low_res_size (UsamPrediction *self);
const guint8 *usam_prediction_get_masks (UsamPrediction *self, guint prompt);
const float *usam_prediction_get_logits (UsamPrediction *self, guint prompt);
const float *usam_prediction_get_low_res_logits (UsamPrediction *self, guint prompt);
const float *usam_prediction_get_iou (UsamPrediction *self, guint prompt);

G_END_DECLS
