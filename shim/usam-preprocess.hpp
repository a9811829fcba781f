/* usam-preprocess.hpp — the image path in front of SAM's encoder, bit-exact
 * with the reference: μSAM's `_to_image` (channels to RGB, per-channel
 * min–max to uint8 in float32 arithmetic), SamPredictor's ResizeLongestSide
 * (Pillow's two-pass bilinear resampling with antialiasing, in Pillow's
 * fixed-point arithmetic) and Sam.preprocess (pixel mean/std, zero padding).
 */
#pragma once

#include <cstdint>
#include <vector>

#include "usam-sam.h"

namespace usam {

struct Rgb8
{
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels; /* height × width × 3 */
};

/* Throws usam::Error on an unusable image. */
Rgb8 image_to_rgb8 (const usam_sam_image_view *image, usam_sam_normalize normalize);

/* SamPredictor's target size for a long side of @target: (h, w). */
void resize_longest_shape (int h, int w, int target, int *out_h, int *out_w);

/* Pillow's Image.resize(…, BILINEAR) on an RGB image. */
Rgb8 resize_bilinear_pil (const Rgb8 &in, int out_w, int out_h);

/* (x − mean) / std into @out (3 × size × size floats), zero padding right and below. */
void normalize_and_pad (const Rgb8 &in, int size, float *out);

} // namespace usam
