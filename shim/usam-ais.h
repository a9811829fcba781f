/* usam-ais.h — μSAM's automatic instance segmentation (AIS) decoder from C.
 *
 * μSAM checkpoints may carry, next to SAM, a convolutional decoder
 * (`decoder_state`: torch_em's UNETR decoder as micro-sam configures it) that
 * maps an image embedding to three maps — foreground, distance to the object
 * center, distance to the object boundary, each in [0, 1] after a sigmoid —
 * from which micro-sam's watershed segments every object at once.
 *
 * Both variants micro-sam builds are read: upsampling by bilinear
 * interpolation plus a 1×1 convolution, and by transposed convolution.
 * usam_sam_model_load() validates the decoder, so a model that loads decodes.
 *
 * Same conventions as usam-sam.h: statuses, usam_sam_last_error(), no C++
 * exception crosses this interface, and the thread-safety rules of a model
 * (predictions from any number of threads; usam_sam_model_add_random_ais_decoder()
 * changes the model and must not run alongside any other call on it).
 */
#pragma once

#include "usam-sam.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of maps the decoder gives, in this order. */
#define USAM_SAM_AIS_N_OUTPUTS 3
enum {
  USAM_SAM_AIS_FOREGROUND = 0,
  USAM_SAM_AIS_CENTER_DISTANCES = 1,
  USAM_SAM_AIS_BOUNDARY_DISTANCES = 2,
};

bool usam_sam_model_has_ais_decoder (const usam_sam_model *model);
/* "interpolation", "deconvolution", or NULL without a decoder. Static string. */
const char *usam_sam_model_get_ais_variant (const usam_sam_model *model);

/* Decodes @embedding and brings the maps to the original image as micro-sam
 * does (bilinear to the model's input size, crop to the resized image,
 * bilinear to the original size). @out holds 3 × original_height ×
 * original_width floats (see usam_sam_embedding_get_shape()), planes in the
 * order above. Fails with USAM_SAM_STATUS_INVALID_ARGUMENT on a model without
 * decoder. */
usam_sam_status usam_sam_ais_predict (const usam_sam_model *model, const usam_sam_embedding *embedding, float *out);

/* The decoder's maps before any cropping: 3 × img_size × img_size floats
 * (usam_sam_model_info.img_size; the decoder's own output, which for every
 * SAM model already has that size). */
usam_sam_status usam_sam_ais_predict_raw (const usam_sam_model *model, const usam_sam_embedding *embedding, float *out);

/* Gives @model a new decoder as micro-sam builds one before training, with
 * PyTorch's default initialisation; replaces any decoder it had. It is saved
 * by usam_sam_model_save (…, USAM_SAM_CHECKPOINT_USAM).
 * @variant: "interpolation" or "deconvolution". */
usam_sam_status usam_sam_model_add_random_ais_decoder (usam_sam_model *model, const char *variant, uint64_t seed);
/* The same with the decoder's widths per level: @features[0] at the
 * embedding, halving at each of the @n_levels − 1 upsamplings (micro-sam:
 * 512, 256, 128, 64). Fewer or narrower levels make a cheaper decoder. */
usam_sam_status usam_sam_model_add_random_ais_decoder_sized (usam_sam_model *model, const char *variant,
                                                             const int *features, int n_levels, uint64_t seed);

#ifdef __cplusplus
}
#endif
