#include "usam-sam-model.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "usam-error.hpp"

namespace usam {

bool
SamConfig::is_global (int block) const
{
  return std::find (global_attn_indexes.begin (), global_attn_indexes.end (), block) != global_attn_indexes.end ();
}

std::string
SamConfig::type_name () const
{
  static const char *names[] = { "vit_b", "vit_l", "vit_h" };
  for (const char *n : names)
    {
      SamConfig p = sam_config_preset (n);
      if (p.embed_dim == embed_dim && p.depth == depth && p.num_heads == num_heads
          && p.global_attn_indexes == global_attn_indexes && p.patch_size == patch_size && p.img_size == img_size)
        return n;
    }
  return "custom";
}

SamConfig
sam_config_preset (const std::string &name)
{
  SamConfig c;
  if (name == "vit_b")
    return c;
  if (name == "vit_l")
    {
      c.embed_dim = 1024;
      c.depth = 24;
      c.num_heads = 16;
      c.global_attn_indexes = { 5, 11, 17, 23 };
    }
  else if (name == "vit_h")
    {
      c.embed_dim = 1280;
      c.depth = 32;
      c.num_heads = 16;
      c.global_attn_indexes = { 7, 15, 23, 31 };
    }
  else if (name == "tiny")
    {
      c.embed_dim = 64;
      c.depth = 4;
      c.num_heads = 2;
      c.global_attn_indexes = { 1, 3 };
    }
  else
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "unknown model preset '" + name + "' (expected vit_b, vit_l, vit_h or tiny)");
  c.mlp_dim = c.embed_dim * 4;
  return c;
}

namespace {

using Init = ParamSpec::Init;

void
add (std::vector<ParamSpec> &v, const std::string &name, std::vector<int64_t> shape, Init init, int64_t fan_in = 0)
{
  v.push_back (ParamSpec { name, std::move (shape), init, fan_in });
}

void
add_linear (std::vector<ParamSpec> &v, const std::string &name, int64_t out, int64_t in)
{
  add (v, name + ".weight", { out, in }, Init::Uniform, in);
  add (v, name + ".bias", { out }, Init::Uniform, in);
}

void
add_norm (std::vector<ParamSpec> &v, const std::string &name, int64_t n)
{
  add (v, name + ".weight", { n }, Init::Ones);
  add (v, name + ".bias", { n }, Init::Zeros);
}

void
add_attention (std::vector<ParamSpec> &v, const std::string &name, int64_t dim, int64_t internal)
{
  add_linear (v, name + ".q_proj", internal, dim);
  add_linear (v, name + ".k_proj", internal, dim);
  add_linear (v, name + ".v_proj", internal, dim);
  add_linear (v, name + ".out_proj", dim, internal);
}

} // namespace

std::vector<ParamSpec>
sam_param_specs (const SamConfig &c)
{
  std::vector<ParamSpec> v;
  const int64_t D = c.embed_dim, e = c.embedding_size (), C = c.prompt_dim;
  const std::string enc = "image_encoder.";

  if (c.use_abs_pos)
    add (v, enc + "pos_embed", { 1, e, e, D }, Init::SmallNormal);
  add (v, enc + "patch_embed.proj.weight", { D, 3, c.patch_size, c.patch_size }, Init::Uniform,
       3 * c.patch_size * c.patch_size);
  add (v, enc + "patch_embed.proj.bias", { D }, Init::Uniform, 3 * c.patch_size * c.patch_size);
  const int64_t head_dim = D / c.num_heads;
  for (int i = 0; i < c.depth; i++)
    {
      const std::string b = enc + "blocks." + std::to_string (i) + ".";
      add_norm (v, b + "norm1", D);
      if (c.use_rel_pos)
        {
          int64_t size = c.is_global (i) ? e : c.window_size;
          add (v, b + "attn.rel_pos_h", { 2 * size - 1, head_dim }, Init::SmallNormal);
          add (v, b + "attn.rel_pos_w", { 2 * size - 1, head_dim }, Init::SmallNormal);
        }
      add_linear (v, b + "attn.qkv", 3 * D, D);
      add_linear (v, b + "attn.proj", D, D);
      add_norm (v, b + "norm2", D);
      add_linear (v, b + "mlp.lin1", c.mlp_dim, D);
      add_linear (v, b + "mlp.lin2", D, c.mlp_dim);
    }
  add (v, enc + "neck.0.weight", { c.out_chans, D, 1, 1 }, Init::Uniform, D);
  add_norm (v, enc + "neck.1", c.out_chans);
  add (v, enc + "neck.2.weight", { c.out_chans, c.out_chans, 3, 3 }, Init::Uniform, c.out_chans * 9);
  add_norm (v, enc + "neck.3", c.out_chans);

  const std::string pe = "prompt_encoder.";
  const int64_t m = c.mask_in_chans;
  add (v, pe + "pe_layer.positional_encoding_gaussian_matrix", { 2, C / 2 }, Init::Normal);
  for (int i = 0; i < 4; i++)
    add (v, pe + "point_embeddings." + std::to_string (i) + ".weight", { 1, C }, Init::Normal);
  add (v, pe + "not_a_point_embed.weight", { 1, C }, Init::Normal);
  add (v, pe + "mask_downscaling.0.weight", { m / 4, 1, 2, 2 }, Init::Uniform, 4);
  add (v, pe + "mask_downscaling.0.bias", { m / 4 }, Init::Uniform, 4);
  add_norm (v, pe + "mask_downscaling.1", m / 4);
  add (v, pe + "mask_downscaling.3.weight", { m, m / 4, 2, 2 }, Init::Uniform, m);
  add (v, pe + "mask_downscaling.3.bias", { m }, Init::Uniform, m);
  add_norm (v, pe + "mask_downscaling.4", m);
  add (v, pe + "mask_downscaling.6.weight", { C, m, 1, 1 }, Init::Uniform, m);
  add (v, pe + "mask_downscaling.6.bias", { C }, Init::Uniform, m);
  add (v, pe + "no_mask_embed.weight", { 1, C }, Init::Normal);

  const std::string md = "mask_decoder.";
  const int64_t internal = C / c.attention_downsample;
  for (int i = 0; i < c.transformer_depth; i++)
    {
      const std::string l = md + "transformer.layers." + std::to_string (i) + ".";
      add_attention (v, l + "self_attn", C, C);
      add_norm (v, l + "norm1", C);
      add_attention (v, l + "cross_attn_token_to_image", C, internal);
      add_norm (v, l + "norm2", C);
      add_linear (v, l + "mlp.lin1", c.transformer_mlp_dim, C);
      add_linear (v, l + "mlp.lin2", C, c.transformer_mlp_dim);
      add_norm (v, l + "norm3", C);
      add_norm (v, l + "norm4", C);
      add_attention (v, l + "cross_attn_image_to_token", C, internal);
    }
  add_attention (v, md + "transformer.final_attn_token_to_image", C, internal);
  add_norm (v, md + "transformer.norm_final_attn", C);
  add (v, md + "iou_token.weight", { 1, C }, Init::Normal);
  add (v, md + "mask_tokens.weight", { c.num_mask_tokens, C }, Init::Normal);
  /* ConvTranspose2d weights are (in, out, k, k); torch takes fan_in from dim 1. */
  add (v, md + "output_upscaling.0.weight", { C, C / 4, 2, 2 }, Init::Uniform, C / 4 * 4);
  add (v, md + "output_upscaling.0.bias", { C / 4 }, Init::Uniform, C / 4 * 4);
  add_norm (v, md + "output_upscaling.1", C / 4);
  add (v, md + "output_upscaling.3.weight", { C / 4, C / 8, 2, 2 }, Init::Uniform, C / 8 * 4);
  add (v, md + "output_upscaling.3.bias", { C / 8 }, Init::Uniform, C / 8 * 4);
  for (int i = 0; i < c.num_mask_tokens; i++)
    {
      const std::string h = md + "output_hypernetworks_mlps." + std::to_string (i) + ".layers.";
      add_linear (v, h + "0", C, C);
      add_linear (v, h + "1", C, C);
      add_linear (v, h + "2", C / 8, C);
    }
  for (int i = 0; i < c.iou_head_depth; i++)
    {
      int64_t in = i == 0 ? C : c.iou_head_hidden;
      int64_t out = i == c.iou_head_depth - 1 ? c.num_mask_tokens : c.iou_head_hidden;
      add_linear (v, md + "iou_prediction_head.layers." + std::to_string (i), out, in);
    }
  return v;
}

namespace {

std::string
shape_str (at::IntArrayRef s)
{
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size (); i++)
    o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str ();
}

bool
starts_with (const std::string &s, const char *prefix)
{
  return s.rfind (prefix, 0) == 0;
}

int
count_indexed (const StateDict &sd, const std::string &prefix, const std::string &suffix)
{
  int n = 0;
  while (sd.contains (prefix + std::to_string (n) + suffix))
    n++;
  return n;
}

} // namespace

SamConfig
sam_config_from_state_dict (const StateDict &sd, const std::string &path)
{
  for (const auto &kv : sd.items ())
    {
      const std::string &k = kv.first;
      if (starts_with (k, "image_encoder.layers.") || starts_with (k, "image_encoder.patch_embed.seq."))
        fail (USAM_SAM_STATUS_UNSUPPORTED,
              path + ": a MobileSAM vit_t (TinyViT encoder) checkpoint; vit_t is not supported yet");
      if (starts_with (k, "image_encoder.trunk.") || starts_with (k, "sam_mask_decoder."))
        fail (USAM_SAM_STATUS_UNSUPPORTED, path + ": a SAM 2 checkpoint; only SAM (v1) and μSAM models are supported");
    }

  auto need = [&] (const std::string &name, int64_t dim) {
    at::Tensor t = sd.find (name);
    if (!t.defined ())
      fail (USAM_SAM_STATUS_SHAPE, path + ": not a SAM checkpoint (missing weight '" + name + "')");
    if (t.dim () != dim)
      fail (USAM_SAM_STATUS_SHAPE, path + ": weight '" + name + "' has shape " + shape_str (t.sizes ()) + ", expected "
                                  + std::to_string (dim) + " dimensions");
    return t;
  };

  SamConfig c;
  at::Tensor patch = need ("image_encoder.patch_embed.proj.weight", 4);
  if (patch.size (1) != 3 || patch.size (2) != patch.size (3) || patch.size (2) <= 0)
    fail (USAM_SAM_STATUS_SHAPE, path + ": weight 'image_encoder.patch_embed.proj.weight' has shape "
                                + shape_str (patch.sizes ()) + ", expected [width, 3, p, p]");
  c.embed_dim = (int) patch.size (0);
  c.patch_size = (int) patch.size (2);

  at::Tensor pos = sd.find ("image_encoder.pos_embed");
  c.use_abs_pos = pos.defined ();
  if (c.use_abs_pos)
    {
      if (pos.dim () != 4 || pos.size (1) != pos.size (2) || pos.size (3) != c.embed_dim)
        fail (USAM_SAM_STATUS_SHAPE, path + ": weight 'image_encoder.pos_embed' has shape " + shape_str (pos.sizes ()));
      c.img_size = (int) pos.size (1) * c.patch_size;
    }
  else
    c.img_size = 1024;

  c.depth = count_indexed (sd, "image_encoder.blocks.", ".norm1.weight");
  if (c.depth == 0)
    fail (USAM_SAM_STATUS_SHAPE, path + ": not a SAM checkpoint (the image encoder has no blocks)");
  c.mlp_dim = (int) need ("image_encoder.blocks.0.mlp.lin1.weight", 2).size (0);

  const int e = c.embedding_size ();
  c.use_rel_pos = sd.contains ("image_encoder.blocks.0.attn.rel_pos_h");
  c.global_attn_indexes.clear ();
  if (c.use_rel_pos)
    {
      int head_dim = 0;
      c.window_size = 0;
      for (int i = 0; i < c.depth; i++)
        {
          const std::string name = "image_encoder.blocks." + std::to_string (i) + ".attn.rel_pos_h";
          at::Tensor r = need (name, 2);
          if (head_dim == 0)
            head_dim = (int) r.size (1);
          if (r.size (1) != head_dim || head_dim <= 0 || c.embed_dim % head_dim != 0 || r.size (0) % 2 == 0)
            fail (USAM_SAM_STATUS_SHAPE, path + ": weight '" + name + "' has shape " + shape_str (r.sizes ()));
          int size = (int) (r.size (0) + 1) / 2;
          if (size == e)
            c.global_attn_indexes.push_back (i);
          else if (c.window_size == 0 || c.window_size == size)
            c.window_size = size;
          else
            fail (USAM_SAM_STATUS_SHAPE, path + ": blocks disagree on the attention window (" + std::to_string (c.window_size)
                                        + " and " + std::to_string (size) + ")");
        }
      if (c.window_size == 0)
        c.window_size = 14;
      c.num_heads = c.embed_dim / head_dim;
    }
  else
    {
      /* Without relative positions nothing in the weights tells the head count:
       * fall back on the official models of this width and depth. */
      bool known = false;
      for (const char *n : { "vit_b", "vit_l", "vit_h" })
        {
          SamConfig p = sam_config_preset (n);
          if (p.embed_dim == c.embed_dim && p.depth == c.depth)
            {
              c.num_heads = p.num_heads;
              c.global_attn_indexes = p.global_attn_indexes;
              known = true;
            }
        }
      if (!known)
        fail (USAM_SAM_STATUS_SHAPE, path + ": cannot tell the encoder's heads without relative position weights");
    }

  c.out_chans = (int) need ("image_encoder.neck.0.weight", 4).size (0);
  c.prompt_dim = (int) need ("prompt_encoder.point_embeddings.0.weight", 2).size (1);
  if (c.prompt_dim != c.out_chans)
    fail (USAM_SAM_STATUS_SHAPE, path + ": the encoder's output width (" + std::to_string (c.out_chans)
                                + ") differs from the prompt width (" + std::to_string (c.prompt_dim) + ")");
  c.mask_in_chans = (int) need ("prompt_encoder.mask_downscaling.3.weight", 4).size (0);
  c.transformer_depth = count_indexed (sd, "mask_decoder.transformer.layers.", ".norm1.weight");
  if (c.transformer_depth == 0)
    fail (USAM_SAM_STATUS_SHAPE, path + ": not a SAM checkpoint (the mask decoder has no transformer layers)");
  c.transformer_mlp_dim = (int) need ("mask_decoder.transformer.layers.0.mlp.lin1.weight", 2).size (0);
  int64_t internal = need ("mask_decoder.transformer.layers.0.cross_attn_token_to_image.q_proj.weight", 2).size (0);
  if (internal <= 0 || c.prompt_dim % internal != 0)
    fail (USAM_SAM_STATUS_SHAPE, path + ": unexpected cross-attention width " + std::to_string (internal));
  c.attention_downsample = (int) (c.prompt_dim / internal);
  c.num_mask_tokens = (int) need ("mask_decoder.mask_tokens.weight", 2).size (0);
  c.iou_head_depth = count_indexed (sd, "mask_decoder.iou_prediction_head.layers.", ".weight");
  c.iou_head_hidden = (int) need ("mask_decoder.iou_prediction_head.layers.0.weight", 2).size (0);
  if (c.num_mask_tokens < 2 || c.iou_head_depth < 1)
    fail (USAM_SAM_STATUS_SHAPE, path + ": unexpected mask decoder layout");

  sam_validate_state_dict (c, sd, path);
  return c;
}

void
sam_validate_state_dict (const SamConfig &cfg, const StateDict &sd, const std::string &path)
{
  std::set<std::string> expected;
  for (const auto &spec : sam_param_specs (cfg))
    {
      expected.insert (spec.name);
      at::Tensor t = sd.find (spec.name);
      if (!t.defined ())
        fail (USAM_SAM_STATUS_SHAPE, path + ": missing weight '" + spec.name + "'");
      if (t.sizes () != at::IntArrayRef (spec.shape))
        fail (USAM_SAM_STATUS_SHAPE, path + ": weight '" + spec.name + "' has shape " + shape_str (t.sizes ()) + ", expected "
                                    + shape_str (spec.shape));
      if (t.scalar_type () != at::kFloat)
        fail (USAM_SAM_STATUS_SHAPE, path + ": weight '" + spec.name + "' is not floating point");
      if (!t.is_meta () && !t.isfinite ().all ().item<bool> ()) /* meta: described, not loaded */
        fail (USAM_SAM_STATUS_FORMAT, path + ": weight '" + spec.name + "' holds NaN or infinite values");
    }
  for (const auto &kv : sd.items ())
    if (!expected.count (kv.first))
      {
        std::string hint;
        if (kv.first.find ("lora") != std::string::npos || kv.first.find ("w_a") != std::string::npos
            || kv.first.find ("w_b") != std::string::npos)
          hint = " (LoRA/PEFT checkpoints must be merged first)";
        fail (USAM_SAM_STATUS_SHAPE, path + ": unexpected weight '" + kv.first + "'" + hint);
      }
}

StateDict
sam_random_state_dict (const SamConfig &cfg, uint64_t seed)
{
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl> (seed);
  StateDict sd;
  for (const auto &spec : sam_param_specs (cfg))
    {
      at::Tensor t = at::empty (spec.shape, at::TensorOptions ().dtype (at::kFloat));
      switch (spec.init)
        {
        case Init::Uniform:
          {
            double bound = 1.0 / std::sqrt ((double) std::max<int64_t> (spec.fan_in, 1));
            t.uniform_ (-bound, bound, gen);
            break;
          }
        case Init::Ones: t.fill_ (1.0); break;
        case Init::Zeros: t.zero_ (); break;
        case Init::Normal: t.normal_ (0.0, 1.0, gen); break;
        case Init::SmallNormal: t.normal_ (0.0, 0.02, gen); break;
        }
      sd.set (spec.name, t);
    }
  return sd;
}

SamModel::SamModel (SamConfig cfg, StateDict weights) : cfg_ (std::move (cfg)), weights_ (std::move (weights))
{
  refresh ();
}

void
SamModel::use_weights (const StateDict *sd)
{
  override_ = sd;
  bind_blocks ();
}

at::Tensor
SamModel::w (const std::string &name) const
{
  if (override_)
    {
      at::Tensor o = override_->find (name);
      if (o.defined ())
        return o;
    }
  at::Tensor t = weights_.find (name);
  if (!t.defined ())
    fail (USAM_SAM_STATUS_INTERNAL, "model has no weight '" + name + "'");
  return t;
}

void
SamModel::refresh ()
{
  at::NoGradGuard no_grad;
  bind_encoder ();
  bind_decoder ();
}

void
SamModel::make_trainable ()
{
  StateDict fresh;
  for (const auto &kv : weights_.items ())
    fresh.set (kv.first, kv.second.is_inference () ? kv.second.clone () : kv.second);
  weights_ = std::move (fresh);
  refresh ();
}

int64_t
SamModel::n_parameters () const
{
  int64_t n = 0;
  for (const auto &kv : weights_.items ())
    n += kv.second.numel ();
  return n;
}

} // namespace usam
