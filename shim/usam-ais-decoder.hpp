/* usam-ais-decoder.hpp — μSAM's decoder for automatic instance segmentation.
 *
 * torch_em's UNETR without its encoder, configured as micro-sam configures it
 * (no skip connections from the encoder, 3 outputs, sigmoid): it maps the
 * image embedding to foreground, center-distance and boundary-distance maps.
 * Like SamModel, the decoder is its state dict under micro-sam's names
 * (`decoder_state`); every size is read from the weights.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "usam-checkpoint.hpp"

namespace usam {

/* How the decoder upsamples by 2: bilinear interpolation followed by a 1×1
 * convolution (torch_em's default), or a 2×2 transposed convolution. */
enum class AisVariant { Interpolation, Deconvolution };

/* "interpolation" or "deconvolution". */
const char *ais_variant_name (AisVariant variant);
/* Throws USAM_SAM_STATUS_INVALID_ARGUMENT for an unknown name. */
AisVariant ais_variant_from_name (const std::string &name);

struct AisConfig
{
  AisVariant variant = AisVariant::Interpolation;
  int embed_dim = 256;                          /* channels of the image embedding */
  std::vector<int> features { 512, 256, 128, 64 }; /* UNETR's features_decoder: depth + 1 levels */
  int out_channels = 3;

  int depth () const { return (int) features.size () - 1; }
  /* Output side / embedding side: the decoder's stages plus deconv_out. */
  int upscale () const { return 1 << (depth () + 1); }
};

struct AisParamSpec
{
  enum class Init { Uniform, Ones, Zeros, Counter };

  std::string name;
  std::vector<int64_t> shape;
  Init init = Init::Uniform;
  int64_t fan_in = 0; /* Uniform: bound 1/sqrt(fan_in), as torch's Conv2d and ConvTranspose2d do */
};

/* Every weight of the decoder, in the order torch's state_dict() lists them. */
std::vector<AisParamSpec> ais_param_specs (const AisConfig &cfg);

/* Tells the variant as micro-sam does (".block." in a key under
 * `decoder.samplers`), reads the sizes and validates every weight; throws
 * usam::Error naming @path. */
AisConfig ais_config_from_state_dict (const StateDict &sd, const std::string &path);

class AisDecoder
{
public:
  /* Validates @weights (see ais_config_from_state_dict); @path names them in errors. */
  AisDecoder (StateDict weights, const std::string &path);

  const AisConfig &config () const { return cfg_; }
  const StateDict &weights () const { return weights_; }

  /* @embedding (B, C, e, e) → (B, out_channels, upscale·e, upscale·e) after the
   * sigmoid. Free of in-place operations on anything autograd tracks. With
   * @training, BatchNorm uses the batch statistics and updates its running
   * statistics, as torch does in train mode. */
  at::Tensor forward (const at::Tensor &embedding, bool training = false) const;

  /* A decoder as micro-sam builds it (UNETR's 64 initial features, depth 3,
   * 3 outputs) for embeddings of @embed_dim channels, initialised as PyTorch's
   * Conv2d, ConvTranspose2d and BatchNorm2d initialise themselves. */
  static StateDict random_state_dict (int embed_dim, AisVariant variant, uint64_t seed);
  static StateDict random_state_dict (const AisConfig &cfg, uint64_t seed);

private:
  at::Tensor w (const std::string &name) const;
  at::Tensor conv_block (const std::string &prefix, const at::Tensor &x) const;
  at::Tensor upsample (const std::string &prefix, const at::Tensor &x) const;
  at::Tensor deconv_block (const std::string &prefix, const at::Tensor &x, bool training) const;

  AisConfig cfg_;
  StateDict weights_;
};

/* The decoder of a μSAM checkpoint at @path, checked against the SAM model
 * whose embeddings it decodes (@embedding_channels) and against what μSAM's
 * automatic segmentation reads from it (3 outputs). */
std::shared_ptr<AisDecoder> ais_decoder_load (const StateDict &sd, int embedding_channels, const std::string &path);

/* What a usam_sam_model holds of its AIS decoder. */
struct AisState
{
  std::shared_ptr<AisDecoder> decoder; /* null when the model has none */
  std::string source;                  /* the checkpoint, for messages; empty for models made in memory */
};

/* The state for a model loaded from @path: the decoder built (and so
 * validated) when @sd, the checkpoint's `decoder_state`, is not empty. */
AisState ais_state_load (const StateDict &sd, int embedding_channels, const std::string &path);

} // namespace usam
