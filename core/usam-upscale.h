/* usam-upscale.h — SAM's low-res mask logits brought to the original image.
 *
 * SAM's postprocess_masks: bilinear (align_corners=False) from the decoder's
 * low-res logits to the model's input size, crop to the resized image,
 * bilinear again to the original size — with torch's index and weight
 * arithmetic (height outside, width inside), so thresholds agree with the
 * reference's up to float noise (logits equal to 3e-7 relative for
 * power-of-two scales, 1e-4 otherwise). Computed one mask at a time,
 * separably and without the input-size intermediate the reference
 * materialises: automatic segmentation upscales thousands of masks, and
 * gigabytes of intermediates would dominate its time.
 *
 * Not thread-safe: one upscaler per thread (it owns its scratch).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _UsamUpscale UsamUpscale;

/* @low_res: side of the low-res logits (256); @img_size: the model's input
 * side (1024); @input_*: the resized image inside it; @orig_*: the output. */
UsamUpscale *usam_upscale_new (guint low_res, guint img_size, guint input_width, guint input_height,
                               guint original_width, guint original_height);
void usam_upscale_free (UsamUpscale *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsamUpscale, usam_upscale_free)

/* @low_res: low_res² logits; @out: original_width × original_height. */
void usam_upscale_run (UsamUpscale *self, const float *low_res, float *out);

G_END_DECLS
