/* usam-sam.h — Segment Anything (SAM, μSAM) from C.
 *
 * A pure C interface over the libtorch implementation in shim/. Loads the
 * official `sam_vit_{b,l,h}_*.pth` checkpoints and μSAM's `.pt` checkpoints,
 * encodes images and decodes masks from point, box and mask prompts with the
 * reference implementation's arithmetic.
 *
 * Thread safety
 * -------------
 *  - A usam_sam_model is immutable once loaded: any number of threads may call
 *    usam_sam_encode() and usam_sam_predict*() on one model at the same time.
 *  - A usam_sam_embedding is immutable once made: predictions from several
 *    threads on one embedding are safe. Free it only when no call uses it.
 *  - A usam_sam_prediction belongs to the caller and is not shared.
 *  - usam_sam_set_num_threads() changes a process-wide setting (libtorch keeps
 *    one intra-op thread pool); call it while no other call is running.
 *  - usam_sam_last_error() is per thread.
 *  - Progress and abort callbacks run on the thread that made the call.
 *
 * Errors
 * ------
 * Every fallible call returns a usam_sam_status. On failure, usam_sam_last_error()
 * gives one line naming the file (where there is one) and the problem, valid
 * until the next failing call on the same thread. No C++ exception crosses
 * this interface.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  USAM_SAM_STATUS_OK = 0,
  USAM_SAM_STATUS_INVALID_ARGUMENT,
  USAM_SAM_STATUS_IO,          /* cannot open, read or write a file */
  USAM_SAM_STATUS_FORMAT,      /* not a checkpoint, truncated, damaged */
  USAM_SAM_STATUS_UNSUPPORTED, /* a recognised but unsupported model or format */
  USAM_SAM_STATUS_SHAPE,       /* missing weights or weights of the wrong shape */
  USAM_SAM_STATUS_ABORTED,     /* the abort callback asked to stop */
  USAM_SAM_STATUS_NO_MEMORY,
  USAM_SAM_STATUS_INTERNAL,
} usam_sam_status;

const char *usam_sam_status_to_string (usam_sam_status status);
const char *usam_sam_last_error (void);
void usam_sam_free (void *data);

/* Intra-op threads for all models; n <= 0 uses every core. */
void usam_sam_set_num_threads (int n);
int usam_sam_get_num_threads (void);

typedef enum {
  USAM_SAM_PRECISION_AUTO = 0, /* bfloat16 where the CPU computes it natively, else float32 */
  USAM_SAM_PRECISION_FP32,
  USAM_SAM_PRECISION_BF16,
} usam_sam_precision;

const char *usam_sam_precision_to_string (usam_sam_precision precision);
/* True when the CPU has native bfloat16 dot products (AVX512-BF16 or AMX). */
bool usam_sam_cpu_has_bf16 (void);

/* Returns true to stop the running call, which then fails with USAM_SAM_STATUS_ABORTED. */
typedef bool (*usam_sam_abort_func) (void *user_data);
/* @fraction in [0, 1]. */
typedef void (*usam_sam_progress_func) (double fraction, void *user_data);

typedef struct usam_sam_model usam_sam_model;
typedef struct usam_sam_embedding usam_sam_embedding;
typedef struct usam_sam_prediction usam_sam_prediction;

/* ---- models --------------------------------------------------------- */

typedef struct {
  usam_sam_precision precision; /* of the image encoder; prompts always decode in float32 */
  /* μSAM's AIS decoder in a file of its own, as μSAM publishes it beside a
   * model (`vit_b_lm_decoder`: torch.save(decoder_state)); used when the
   * checkpoint has no decoder_state. NULL: none. */
  const char *decoder_path;
} usam_sam_model_params;

usam_sam_model_params usam_sam_model_default_params (void);

usam_sam_status usam_sam_model_load (const char *path, const usam_sam_model_params *params, usam_sam_model **out_model);
void usam_sam_model_free (usam_sam_model *model);

typedef struct {
  char type[16];         /* "vit_b", "vit_l", "vit_h" or "custom" */
  char format[16];       /* "sam" (official state dict) or "usam" (μSAM checkpoint) */
  char usam_type[32];    /* μSAM's model_type, when the checkpoint names one */
  int img_size;          /* encoder input side, 1024 for SAM */
  int patch_size;
  int embed_dim;
  int depth;
  int num_heads;
  int window_size;
  int n_global;
  int global_attn_indexes[16];
  int embedding_channels; /* 256 */
  int embedding_size;     /* 64 */
  int64_t n_parameters;
  bool has_decoder;       /* μSAM's AIS decoder is present */
  bool decoder_separate;  /* ... and came from params.decoder_path */
  usam_sam_precision precision; /* resolved: FP32 or BF16 */
} usam_sam_model_info;

void usam_sam_model_get_info (const usam_sam_model *model, usam_sam_model_info *info);

/* What usam_sam_model_load() would load, from the checkpoint's index and
 * tensor shapes only (milliseconds even for vit_h): everything in @info but
 * the precision, which is left FP32. Fails as the load would on a file that
 * is not a SAM checkpoint, is damaged or holds an unsupported model. */
usam_sam_status usam_sam_checkpoint_inspect (const char *path, const char *decoder_path, usam_sam_model_info *info);

/* A model with PyTorch's default initialisation, for tests and benchmarks.
 * @preset: "vit_b", "vit_l", "vit_h" or "tiny" (width 64, depth 4, 2 heads). */
usam_sam_status usam_sam_model_new_random (const char *preset, uint64_t seed, const usam_sam_model_params *params,
                                   usam_sam_model **out_model);

/* The architecture of a model to make from scratch. Sizes follow SAM's
 * ImageEncoderViT, PromptEncoder and MaskDecoder; a model made with any of
 * them loads in the official Python code when built with the same sizes. */
typedef struct {
  int img_size;          /* encoder input side (SAM: 1024) */
  int patch_size;        /* (SAM: 16); img_size / patch_size is the embedding side */
  int embed_dim;         /* encoder width */
  int depth;             /* encoder blocks */
  int num_heads;
  int mlp_dim;           /* 0: 4 × embed_dim */
  int window_size;       /* (SAM: 14) */
  int n_global;
  int global_attn_indexes[16];
  int prompt_dim;        /* embedding channels and decoder width (SAM: 256) */
  int decoder_depth;     /* two-way transformer layers (SAM: 2) */
  int decoder_mlp_dim;   /* (SAM: 2048) */
  int mask_in_chans;     /* (SAM: 16) */
  int iou_head_hidden;   /* (SAM: 256) */
} usam_sam_model_config;

/* "vit_b", "vit_l", "vit_h", "tiny"; unknown names give img_size 0. */
usam_sam_model_config usam_sam_model_config_preset (const char *name);
usam_sam_status usam_sam_model_new_from_config (const usam_sam_model_config *config, uint64_t seed,
                                                const usam_sam_model_params *params, usam_sam_model **out_model);
/* The architecture of a loaded model. */
void usam_sam_model_get_config (const usam_sam_model *model, usam_sam_model_config *config);

typedef enum {
  USAM_SAM_CHECKPOINT_SAM = 0,  /* torch.save(state_dict), like sam_vit_b_01ec64.pth */
  USAM_SAM_CHECKPOINT_USAM,     /* μSAM: {model_type, model_state (sam.…), decoder_state} */
  USAM_SAM_CHECKPOINT_DECODER,  /* the AIS decoder alone, as μSAM publishes `vit_b_lm_decoder` */
} usam_sam_checkpoint_format;

/* The model's weights, in state-dict order, under the names of the official
 * checkpoints; borrowed, valid while the model lives. */
int usam_sam_model_get_n_weights (const usam_sam_model *model);
usam_sam_status usam_sam_model_get_weight (const usam_sam_model *model, int index, const char **name, int *ndim,
                                           const int64_t **sizes, const float **data);

/* Writes a checkpoint PyTorch's torch.load() reads; atomic (temporary file + rename). */
usam_sam_status usam_sam_model_save (const usam_sam_model *model, const char *path, usam_sam_checkpoint_format format);

/* ---- images and embeddings ------------------------------------------ */

typedef enum {
  USAM_SAM_PIXEL_U8 = 0,
  USAM_SAM_PIXEL_U16,
  USAM_SAM_PIXEL_I16,
  USAM_SAM_PIXEL_U32,
  USAM_SAM_PIXEL_I32,
  USAM_SAM_PIXEL_F32,
  USAM_SAM_PIXEL_F64,
} usam_sam_pixel_type;

/* A borrowed 2D image, channels interleaved (H × W × C). */
typedef struct {
  const void *data;
  usam_sam_pixel_type type;
  int width;
  int height;
  int channels;
  size_t row_stride; /* bytes between rows; 0 means width × channels × pixel size */
} usam_sam_image_view;

typedef enum {
  USAM_SAM_NORMALIZE_MINMAX = 0, /* μSAM: per-channel min–max to uint8 */
  USAM_SAM_NORMALIZE_NONE,       /* the image is 8-bit and goes in unchanged */
} usam_sam_normalize;

typedef struct {
  usam_sam_normalize normalize;
  usam_sam_progress_func progress;
  usam_sam_abort_func abort;
  void *user_data;
} usam_sam_encode_params;

usam_sam_encode_params usam_sam_encode_default_params (void);

/* The image → RGB uint8 mapping the encoder sees (μSAM's `_to_image`):
 * grey to 3 channels, 2 channels plus a zero channel, the first 3 of more.
 * @out holds height × width × 3 bytes. */
usam_sam_status usam_sam_image_to_rgb8 (const usam_sam_image_view *image, usam_sam_normalize normalize, uint8_t *out);

/* SamPredictor's resize of the long side to the model's input size (Pillow
 * bilinear with antialiasing). @out must hold out_h × out_w × 3 bytes; call
 * with out == NULL to learn the size. */
usam_sam_status usam_sam_resize_longest_side (const uint8_t *rgb, int width, int height, int target, uint8_t *out,
                                      int *out_width, int *out_height);

usam_sam_status usam_sam_encode (const usam_sam_model *model, const usam_sam_image_view *image, const usam_sam_encode_params *params,
                         usam_sam_embedding **out_embedding);

/* Encodes an RGB image already resized so its long side is the model's input
 * size; @original_width × @original_height is the size prompts refer to. */
usam_sam_status usam_sam_encode_resized (const usam_sam_model *model, const uint8_t *rgb, int width, int height,
                                 int original_width, int original_height, const usam_sam_encode_params *params,
                                 usam_sam_embedding **out_embedding);

void usam_sam_embedding_free (usam_sam_embedding *embedding);

typedef struct {
  int channels;        /* 256 */
  int height, width;   /* 64 × 64 */
  int original_height, original_width;
  int input_height, input_width; /* after the resize, before padding */
} usam_sam_embedding_shape;

void usam_sam_embedding_get_shape (const usam_sam_embedding *embedding, usam_sam_embedding_shape *shape);
/* channels × height × width floats, row-major; valid while the embedding lives. */
const float *usam_sam_embedding_get_features (const usam_sam_embedding *embedding);

/* Wraps features computed earlier (a cache, a file). @features is copied. */
usam_sam_status usam_sam_embedding_new (const usam_sam_model *model, const float *features, const usam_sam_embedding_shape *shape,
                                usam_sam_embedding **out_embedding);

/* A self-describing little-endian blob ("USAMEMB1", shape, features); free with usam_sam_free(). */
usam_sam_status usam_sam_embedding_serialize (const usam_sam_embedding *embedding, void **out_data, size_t *out_size);
usam_sam_status usam_sam_embedding_deserialize (const usam_sam_model *model, const void *data, size_t size,
                                        usam_sam_embedding **out_embedding);

/* ---- prompts and masks ----------------------------------------------- */

/* Coordinates are (x, y) in pixels of the original image. */
typedef struct {
  const float *points;     /* n_points × 2, or NULL */
  const int32_t *labels;   /* n_points: 1 positive, 0 negative */
  int n_points;
  const float *box;        /* x0, y0, x1, y1, or NULL */
  const float *mask_input; /* low-res logits, 256 × 256 (4 × embedding size), or NULL */
} usam_sam_prompt;

enum {
  USAM_SAM_OUTPUT_MASKS = 1 << 0,   /* binary masks at the original size */
  USAM_SAM_OUTPUT_LOGITS = 1 << 1,  /* float logits at the original size */
  USAM_SAM_OUTPUT_LOW_RES = 1 << 2, /* low-res logits, 256 × 256 */
};

typedef struct {
  bool multimask;        /* 3 masks per prompt instead of 1 */
  unsigned outputs;      /* USAM_SAM_OUTPUT_* bits; IoU predictions always come */
  float mask_threshold;  /* on the logits, 0 in SAM */
  usam_sam_progress_func progress;
  usam_sam_abort_func abort;
  void *user_data;
} usam_sam_predict_params;

usam_sam_predict_params usam_sam_predict_default_params (void);

usam_sam_status usam_sam_predict (const usam_sam_model *model, const usam_sam_embedding *embedding, const usam_sam_prompt *prompt,
                          const usam_sam_predict_params *params, usam_sam_prediction **out_prediction);

/* Decodes @n_prompts prompts against one embedding. Prompts of the same
 * kind (same number of points, with or without box and mask) are batched
 * together; each gives the same masks as a usam_sam_predict() call of its own. */
usam_sam_status usam_sam_predict_batch (const usam_sam_model *model, const usam_sam_embedding *embedding, const usam_sam_prompt *prompts,
                                int n_prompts, const usam_sam_predict_params *params, usam_sam_prediction **out_prediction);

void usam_sam_prediction_free (usam_sam_prediction *prediction);
int usam_sam_prediction_get_n_prompts (const usam_sam_prediction *prediction);
int usam_sam_prediction_get_n_masks (const usam_sam_prediction *prediction); /* per prompt: 1 or 3 */
void usam_sam_prediction_get_size (const usam_sam_prediction *prediction, int *height, int *width);
/* Side of the low-res logits: 256 for SAM. */
int usam_sam_prediction_get_low_res_size (const usam_sam_prediction *prediction);
/* n_masks × height × width, 0/1; NULL unless USAM_SAM_OUTPUT_MASKS was asked for. */
const uint8_t *usam_sam_prediction_get_masks (const usam_sam_prediction *prediction, int prompt);
/* n_masks × height × width; NULL unless USAM_SAM_OUTPUT_LOGITS. */
const float *usam_sam_prediction_get_logits (const usam_sam_prediction *prediction, int prompt);
/* n_masks × 256 × 256; NULL unless USAM_SAM_OUTPUT_LOW_RES. */
const float *usam_sam_prediction_get_low_res_logits (const usam_sam_prediction *prediction, int prompt);
/* n_masks */
const float *usam_sam_prediction_get_iou (const usam_sam_prediction *prediction, int prompt);

#ifdef __cplusplus
}
#endif
