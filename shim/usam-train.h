/* usam-train.h — training SAM as μSAM does, from C.
 *
 * One step takes a minibatch of images with instance labels: the encoder
 * runs once per image; for a fixed number of objects per image the model is
 * prompted with one positive point (three masks, the loss of the best by
 * predicted IoU) or with the box, then for several sub-iterations with a
 * positive point in a false-negative and a negative point in a false-positive
 * region of its own prediction (falling back to random points inside and
 * outside), the previous logits given as a mask prompt with a probability.
 * Dice loss on the masks plus MSE between predicted and true IoU, averaged
 * over sub-iterations; when the model has an AIS decoder, its Dice-based
 * distance loss on the same embeddings is added; one AdamW step.
 *
 * Thread safety: a trainer owns its model while it lives — no other call may
 * use that model concurrently. Call usam_sam_trainer_sync() before using the
 * model for inference again (usam_sam_trainer_free() does it too).
 */
#pragma once

#include "usam-sam.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct usam_sam_trainer usam_sam_trainer;

typedef struct {
  float learning_rate;          /* AdamW */
  float weight_decay;
  float beta1, beta2;
  float clip_grad_norm;         /* 0: no clipping */
  int n_sub_iterations;         /* prompt updates per object (μSAM: 8) */
  float mask_prompt_probability;/* previous logits as mask prompt (μSAM: 0.5) */
  bool train_encoder;           /* false freezes the image encoder */
  float ais_loss_weight;        /* 0 disables the AIS decoder's loss */
  usam_sam_precision precision; /* bf16 autocast where the CPU supports it */
  uint64_t seed;
} usam_sam_train_params;

usam_sam_train_params usam_sam_train_default_params (void);

/* The trainer changes @model's weights in place. */
usam_sam_status usam_sam_trainer_new (usam_sam_model *model, const usam_sam_train_params *params,
                                      usam_sam_trainer **out_trainer);
void usam_sam_trainer_free (usam_sam_trainer *trainer);

typedef struct {
  int n_images;
  int image_size;            /* side of the square images: the model's img_size */
  const uint8_t *images;     /* n × image_size × image_size × 3, RGB, already resized */
  int label_size;            /* side of the square label patches */
  const int32_t *labels;     /* n × label_size × label_size instance ids, 0 background */
  int n_objects;             /* objects per image */
  const int32_t *object_ids; /* n × n_objects ids to prompt, each present in its labels */
  const float *ais_targets;  /* n × 3 × label_size² (foreground, center, boundary distances) or NULL */
} usam_sam_train_batch;

typedef struct {
  double loss;
  double mask_loss;          /* Dice, averaged over sub-iterations */
  double iou_loss;           /* MSE of the IoU prediction */
  double ais_loss;
  double mean_iou;           /* true IoU of the final masks */
  double seconds;
} usam_sam_train_losses;

/* One optimiser step. Steps alternate between point and box starts. */
usam_sam_status usam_sam_trainer_step (usam_sam_trainer *trainer, const usam_sam_train_batch *batch,
                                       usam_sam_train_losses *losses);
/* The same losses without learning, with prompts drawn from @seed. */
usam_sam_status usam_sam_trainer_evaluate (usam_sam_trainer *trainer, const usam_sam_train_batch *batch,
                                           uint64_t seed, bool box_start, usam_sam_train_losses *losses);

void usam_sam_trainer_set_learning_rate (usam_sam_trainer *trainer, float learning_rate);
float usam_sam_trainer_get_learning_rate (const usam_sam_trainer *trainer);
int64_t usam_sam_trainer_get_step (const usam_sam_trainer *trainer);

/* Brings the model's inference caches up to date with the trained weights. */
void usam_sam_trainer_sync (usam_sam_trainer *trainer);

/* The optimiser state (moments, step, learning rate) to resume training. */
usam_sam_status usam_sam_trainer_save_state (const usam_sam_trainer *trainer, const char *path);
usam_sam_status usam_sam_trainer_load_state (usam_sam_trainer *trainer, const char *path);

#ifdef __cplusplus
}
#endif
