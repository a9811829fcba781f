/* usam-sam-model.hpp — Segment Anything as plain functions over named weights.
 *
 * The model is its state dict: weights keep the names of the official
 * checkpoints, so loading, saving and training address the same tensors.
 * Sizes are read from the weights' shapes, never assumed.
 */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "usam-checkpoint.hpp"

namespace usam {

struct SamConfig
{
  /* image encoder */
  int img_size = 1024;
  int patch_size = 16;
  int embed_dim = 768;
  int depth = 12;
  int num_heads = 12;
  int mlp_dim = 3072;
  int window_size = 14;
  int out_chans = 256;
  std::vector<int> global_attn_indexes { 2, 5, 8, 11 };
  bool use_rel_pos = true;
  bool use_abs_pos = true;
  /* prompt encoder and mask decoder */
  int prompt_dim = 256;
  int mask_in_chans = 16;
  int transformer_depth = 2;
  int transformer_heads = 8;
  int transformer_mlp_dim = 2048;
  int attention_downsample = 2;
  int num_mask_tokens = 4;
  int iou_head_depth = 3;
  int iou_head_hidden = 256;

  int embedding_size () const { return img_size / patch_size; }
  bool is_global (int block) const;
  /* "vit_b", "vit_l", "vit_h" when the encoder matches an official one, else "custom" */
  std::string type_name () const;
};

/* The official presets, plus "tiny" (width 64, depth 4) for tests. */
SamConfig sam_config_preset (const std::string &name);

struct ParamSpec
{
  enum class Init { Uniform, Ones, Zeros, Normal, SmallNormal };

  std::string name;
  std::vector<int64_t> shape;
  Init init = Init::Uniform;
  int64_t fan_in = 0; /* Uniform: bound 1/sqrt(fan_in), as torch's Linear and Conv do */
};

/* Every weight the model needs, with its shape, in state-dict order. */
std::vector<ParamSpec> sam_param_specs (const SamConfig &cfg);

/* Reads the architecture from the weights; throws usam::Error naming @path. */
SamConfig sam_config_from_state_dict (const StateDict &sd, const std::string &path);

/* Checks that @sd holds exactly the weights of @cfg, with the right shapes. */
void sam_validate_state_dict (const SamConfig &cfg, const StateDict &sd, const std::string &path);

/* Initialises a model as PyTorch's default initialisers would. */
StateDict sam_random_state_dict (const SamConfig &cfg, uint64_t seed);

/* at::layer_norm over the last dimension. Under bf16 autocast the input can
 * be bf16 while the weights stay float32, which libtorch 1.13's CPU kernel
 * refuses: normalise in the weights' type then. */
inline at::Tensor
layer_norm_last (const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, double eps)
{
  if (x.scalar_type () == at::kBFloat16 || w.scalar_type () == at::kBFloat16)
    {
      /* libtorch 1.13's bf16 layer norm is a scalar loop, several times slower
       * than converting to float32 and back; it also refuses mixed types. */
      at::Tensor y = at::layer_norm (x.to (at::kFloat), { x.size (-1) }, w.to (at::kFloat), b.to (at::kFloat), eps);
      return w.scalar_type () == at::kBFloat16 ? y.to (at::kBFloat16) : y;
    }
  return at::layer_norm (x, { x.size (-1) }, w, b, eps);
}

using AbortCheck = std::function<bool ()>;
using ProgressReport = std::function<void (double)>;

/* Precision of the image encoder's matrix products. */
enum class EncoderPrecision { Float32, BFloat16 };

class SamModel
{
public:
  SamModel (SamConfig cfg, StateDict weights);

  const SamConfig &config () const { return cfg_; }
  const StateDict &weights () const { return weights_; }
  at::Tensor w (const std::string &name) const;

  void set_encoder_precision (EncoderPrecision p);
  EncoderPrecision encoder_precision () const { return precision_; }

  /* @image: (1, 3, img_size, img_size) normalised, padded. Returns (1, C, e, e). */
  at::Tensor encode (const at::Tensor &image, const AbortCheck &abort, const ProgressReport &progress) const;

  /* SAM's prompt encoder. @points (B, N, 2) and @labels (B, N) or undefined;
   * @boxes (B, 4) or undefined; @masks (B, 1, 4e, 4e) or undefined. Coordinates
   * are in the resized-input frame. Returns sparse (B, n, C) and dense (B, C, e, e). */
  std::pair<at::Tensor, at::Tensor> encode_prompts (const at::Tensor &points, const at::Tensor &labels,
                                                    const at::Tensor &boxes, const at::Tensor &masks) const;

  /* What the first decoder layer computes from the image alone, for prompts
   * without a mask: the same for every such prompt on one embedding. */
  struct DecoderCache
  {
    at::Tensor keys, keys_pe, t2i_k, t2i_v, i2t_q; /* (1, e·e, ·) */
  };
  DecoderCache decoder_cache (const at::Tensor &embedding) const;

  /* Mask decoder: low-res logits (B, M, 4e, 4e) and IoU predictions (B, M).
   * With @cache (from decoder_cache() of this embedding), @dense must be the
   * no-mask embedding. */
  std::pair<at::Tensor, at::Tensor> decode_masks (const at::Tensor &embedding, const at::Tensor &sparse,
                                                  const at::Tensor &dense, bool multimask,
                                                  const DecoderCache *cache = nullptr) const;

  /* Dense positional encoding (1, C, e, e). */
  const at::Tensor &dense_pe () const { return dense_pe_; }

  /* Upscales low-res logits to the original image: bilinear to img_size²,
   * crop to @input_h × @input_w, bilinear to @orig_h × @orig_w. */
  at::Tensor postprocess_masks (const at::Tensor &low_res, int input_h, int input_w, int orig_h, int orig_w) const;

  int64_t n_parameters () const;

  /* Recomputes what inference caches from the weights (after training). */
  void refresh ();

  /* Replaces the weights by copies autograd can track: weights loaded under
   * inference mode cannot require gradients. */
  void make_trainable ();

  /* Runs the model on other tensors for the weights named in @sd (training
   * uses bf16 casts of its float32 weights), until called with nullptr. The
   * forward functions compute in the type of those weights. */
  void use_weights (const StateDict *sd);

private:
  struct Block
  {
    at::Tensor norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b, norm2_w, norm2_b;
    at::Tensor lin1_w, lin1_b, lin2_w, lin2_b;
    at::Tensor rel_pos_h, rel_pos_w; /* the weights */
    at::Tensor rel_h, rel_w; /* gathered (q, k, head_dim) tables for this block's attention size */
    int window = 0;          /* 0: global attention */
  };

  void bind_encoder ();
  void bind_blocks ();
  void bind_decoder ();
  at::Tensor block_forward (const Block &b, const at::Tensor &x) const;
  at::Tensor attention (const Block &b, const at::Tensor &x) const;

  SamConfig cfg_;
  StateDict weights_;
  const StateDict *override_ = nullptr;
  std::vector<Block> blocks_;
  at::Tensor dense_pe_;
  at::Tensor dense_pe_tokens_; /* (1, e·e, C) */
  at::Tensor upscale1_w_, upscale1_b_, upscale2_w_, upscale2_b_;
  EncoderPrecision precision_ = EncoderPrecision::Float32;
};

} // namespace usam
