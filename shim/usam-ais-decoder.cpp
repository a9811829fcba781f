/* μSAM's AIS decoder: torch_em's UNETR decoder as micro-sam's DecoderAdapter
 * runs it on an image embedding. */
#include "usam-ais-decoder.hpp"

#include <cmath>
#include <set>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "usam-error.hpp"

namespace usam {

const char *
ais_variant_name (AisVariant variant)
{
  return variant == AisVariant::Deconvolution ? "deconvolution" : "interpolation";
}

AisVariant
ais_variant_from_name (const std::string &name)
{
  if (name == "interpolation")
    return AisVariant::Interpolation;
  if (name == "deconvolution")
    return AisVariant::Deconvolution;
  fail (USAM_SAM_STATUS_INVALID_ARGUMENT,
        "unknown AIS decoder variant '" + name + "' (expected interpolation or deconvolution)");
}

namespace {

using Init = AisParamSpec::Init;

void
add (std::vector<AisParamSpec> &v, const std::string &name, std::vector<int64_t> shape, Init init, int64_t fan_in = 0)
{
  v.push_back (AisParamSpec { name, std::move (shape), init, fan_in });
}

void
add_conv (std::vector<AisParamSpec> &v, const std::string &name, int64_t out, int64_t in, int64_t k)
{
  add (v, name + ".weight", { out, in, k, k }, Init::Uniform, in * k * k);
  add (v, name + ".bias", { out }, Init::Uniform, in * k * k);
}

/* torch_em's ConvBlock2d with its default InstanceNorm, which has no weights:
 * norm, conv (block.1), ReLU, norm, conv (block.4), ReLU. */
void
add_conv_block (std::vector<AisParamSpec> &v, const std::string &prefix, int64_t in, int64_t out)
{
  add_conv (v, prefix + "block.1", out, in, 3);
  add_conv (v, prefix + "block.4", out, out, 3);
}

/* Upsampler2d (bilinear, then a 1×1 `conv`) or SingleDeconv2DBlock (`block`,
 * a ConvTranspose2d whose weight is (in, out, 2, 2); torch takes its fan-in
 * from dimension 1). */
void
add_upsampler (std::vector<AisParamSpec> &v, AisVariant variant, const std::string &prefix, int64_t in, int64_t out)
{
  if (variant == AisVariant::Interpolation)
    add_conv (v, prefix + "conv", out, in, 1);
  else
    {
      add (v, prefix + "block.weight", { in, out, 2, 2 }, Init::Uniform, out * 4);
      add (v, prefix + "block.bias", { out }, Init::Uniform, out * 4);
    }
}

/* Deconv2DBlock: upsampler, 3×3 conv, BatchNorm2d, ReLU. */
void
add_deconv_block (std::vector<AisParamSpec> &v, AisVariant variant, const std::string &prefix, int64_t in, int64_t out)
{
  add_upsampler (v, variant, prefix + "block.0.", in, out);
  add_conv (v, prefix + "block.1.block", out, out, 3);
  const std::string bn = prefix + "block.2.";
  add (v, bn + "weight", { out }, Init::Ones);
  add (v, bn + "bias", { out }, Init::Zeros);
  add (v, bn + "running_mean", { out }, Init::Zeros);
  add (v, bn + "running_var", { out }, Init::Ones);
  add (v, bn + "num_batches_tracked", {}, Init::Counter);
}

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
ends_with (const std::string &s, const std::string &suffix)
{
  return s.size () >= suffix.size () && s.compare (s.size () - suffix.size (), suffix.size (), suffix) == 0;
}

} // namespace

std::vector<AisParamSpec>
ais_param_specs (const AisConfig &c)
{
  std::vector<AisParamSpec> v;
  const std::vector<int> &f = c.features;
  const int depth = c.depth ();

  /* The order of UNETR.__init__: decoder (blocks, then samplers), deconv1…,
   * base, out_conv, deconv_out, decoder_head. */
  for (int i = 0; i < depth; i++)
    add_conv_block (v, "decoder.blocks." + std::to_string (i) + ".", f[i], f[i + 1]);
  for (int i = 0; i < depth; i++)
    add_upsampler (v, c.variant, "decoder.samplers." + std::to_string (i) + ".", f[i], f[i + 1]);
  for (int k = 0; k <= depth; k++)
    add_deconv_block (v, c.variant, "deconv" + std::to_string (k + 1) + ".", k == 0 ? c.embed_dim : f[k - 1], f[k]);
  add_conv_block (v, "base.", c.embed_dim, f[0]);
  add_conv (v, "out_conv", c.out_channels, f[depth], 1);
  add_upsampler (v, c.variant, "deconv_out.", f[depth], f[depth]);
  add_conv_block (v, "decoder_head.", 2 * f[depth], f[depth]);
  return v;
}

AisConfig
ais_config_from_state_dict (const StateDict &sd, const std::string &path)
{
  AisConfig c;
  const std::string where = path + ": decoder weight '";

  /* micro-sam's rule (get_unetr): transposed convolutions live in a `block`
   * submodule of the samplers, interpolation's 1×1 convolutions in `conv`. */
  c.variant = AisVariant::Interpolation;
  for (const auto &kv : sd.items ())
    if (kv.first.rfind ("decoder.samplers", 0) == 0 && kv.first.find (".block.") != std::string::npos)
      c.variant = AisVariant::Deconvolution;
  const std::string expectation
      = std::string (" (expected the ") + ais_variant_name (c.variant) + " variant of micro-sam's UNETR decoder)";

  auto conv_weight = [&] (const std::string &name) {
    at::Tensor t = sd.find (name);
    if (!t.defined ())
      fail (USAM_SAM_STATUS_SHAPE, where + name + "' is missing" + expectation);
    if (t.dim () != 4 || t.size (0) <= 0 || t.size (1) <= 0)
      fail (USAM_SAM_STATUS_SHAPE, where + name + "' has shape " + shape_str (t.sizes ()) + ", expected a convolution");
    return t;
  };

  at::Tensor base = conv_weight ("base.block.1.weight");
  c.embed_dim = (int) base.size (1);
  c.features = { (int) base.size (0) };
  for (int i = 0; sd.contains ("decoder.blocks." + std::to_string (i) + ".block.1.weight"); i++)
    c.features.push_back ((int) conv_weight ("decoder.blocks." + std::to_string (i) + ".block.1.weight").size (0));
  if (c.depth () < 1)
    fail (USAM_SAM_STATUS_SHAPE, where + "decoder.blocks.0.block.1.weight' is missing" + expectation);
  /* Without encoder skips, each stage concatenates the centre channels of the
   * previous level's features (Decoder._crop crops the channel axis too): the
   * convolutions fit only when every level halves the channels, UNETR's gain 2. */
  for (int i = 0; i < c.depth (); i++)
    if (c.features[i] != 2 * c.features[i + 1])
      fail (USAM_SAM_STATUS_SHAPE, where + "decoder.blocks." + std::to_string (i) + ".block.1.weight' has "
                                      + std::to_string (c.features[i + 1]) + " outputs after a level of "
                                      + std::to_string (c.features[i]) + " channels; UNETR halves the channels per level");
  c.out_channels = (int) conv_weight ("out_conv.weight").size (0);

  std::set<std::string> expected;
  for (const auto &spec : ais_param_specs (c))
    {
      expected.insert (spec.name);
      at::Tensor t = sd.find (spec.name);
      if (!t.defined ())
        fail (USAM_SAM_STATUS_SHAPE, where + spec.name + "' is missing" + expectation);
      if (t.sizes () != at::IntArrayRef (spec.shape))
        fail (USAM_SAM_STATUS_SHAPE, where + spec.name + "' has shape " + shape_str (t.sizes ()) + ", expected "
                                        + shape_str (spec.shape));
      if (spec.init == Init::Counter)
        {
          if (at::isFloatingType (t.scalar_type ()) || t.scalar_type () == at::kBool)
            fail (USAM_SAM_STATUS_SHAPE, where + spec.name + "' is not an integer");
          continue;
        }
      if (t.scalar_type () != at::kFloat)
        fail (USAM_SAM_STATUS_SHAPE, where + spec.name + "' is not floating point");
      if (!t.isfinite ().all ().item<bool> ())
        fail (USAM_SAM_STATUS_FORMAT, where + spec.name + "' holds NaN or infinite values");
      if (ends_with (spec.name, ".running_var") && (t < 0).any ().item<bool> ())
        fail (USAM_SAM_STATUS_FORMAT, where + spec.name + "' holds negative variances");
    }
  for (const auto &kv : sd.items ())
    if (!expected.count (kv.first))
      fail (USAM_SAM_STATUS_SHAPE, where + kv.first + "' is unexpected" + expectation);
  return c;
}

AisDecoder::AisDecoder (StateDict weights, const std::string &path)
  : cfg_ (ais_config_from_state_dict (weights, path)), weights_ (std::move (weights))
{
}

at::Tensor
AisDecoder::w (const std::string &name) const
{
  at::Tensor t = weights_.find (name);
  if (!t.defined ())
    fail (USAM_SAM_STATUS_INTERNAL, "AIS decoder has no weight '" + name + "'");
  return t;
}

at::Tensor
AisDecoder::conv_block (const std::string &prefix, const at::Tensor &x) const
{
  /* InstanceNorm2d(affine=False): statistics of each image and channel, eps 1e-5. */
  at::Tensor h = at::instance_norm (x, {}, {}, {}, {}, true, 0.1, 1e-5, false);
  h = at::relu (at::conv2d (h, w (prefix + "block.1.weight"), w (prefix + "block.1.bias"), 1, 1));
  h = at::instance_norm (h, {}, {}, {}, {}, true, 0.1, 1e-5, false);
  return at::relu (at::conv2d (h, w (prefix + "block.4.weight"), w (prefix + "block.4.bias"), 1, 1));
}

at::Tensor
AisDecoder::upsample (const std::string &prefix, const at::Tensor &x) const
{
  if (cfg_.variant == AisVariant::Deconvolution)
    return at::conv_transpose2d (x, w (prefix + "block.weight"), w (prefix + "block.bias"), 2);
  /* F.interpolate(scale_factor=2) hands the scale itself to the kernel. */
  at::Tensor up = at::upsample_bilinear2d (x, { 2 * x.size (2), 2 * x.size (3) }, false, 2.0, 2.0);
  return at::conv2d (up, w (prefix + "conv.weight"), w (prefix + "conv.bias"));
}

at::Tensor
AisDecoder::deconv_block (const std::string &prefix, const at::Tensor &x, bool training) const
{
  at::Tensor h = upsample (prefix + "block.0.", x);
  h = at::conv2d (h, w (prefix + "block.1.block.weight"), w (prefix + "block.1.block.bias"), 1, 1);
  const std::string bn = prefix + "block.2.";
  h = at::batch_norm (h, w (bn + "weight"), w (bn + "bias"), w (bn + "running_mean"), w (bn + "running_var"), training,
                      0.1, 1e-5, false);
  if (training)
    w (bn + "num_batches_tracked").add_ (1);
  return at::relu (h);
}

namespace {

/* Decoder._crop: the centre of @skip in the shape of @like, on every axis. */
at::Tensor
crop_like (const at::Tensor &skip, const at::Tensor &like)
{
  at::Tensor s = skip;
  for (int64_t d = 0; d < s.dim (); d++)
    {
      int64_t diff = s.size (d) - like.size (d);
      if (diff < 0)
        fail (USAM_SAM_STATUS_INTERNAL, "AIS decoder: a skip tensor is smaller than the features it joins");
      if (diff > 0)
        s = s.slice (d, diff / 2, s.size (d) - diff / 2);
    }
  return s;
}

} // namespace

at::Tensor
AisDecoder::forward (const at::Tensor &embedding, bool training) const
{
  if (embedding.dim () != 4 || embedding.size (1) != cfg_.embed_dim)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "AIS decoder: the embedding has shape " + shape_str (embedding.sizes ())
                                               + ", expected (B, " + std::to_string (cfg_.embed_dim) + ", e, e)");
  const int depth = cfg_.depth ();

  /* z9, z6, z3 and z0 of UNETR.forward: a chain of upsampling blocks. */
  std::vector<at::Tensor> skips;
  at::Tensor z = embedding;
  for (int k = 1; k <= depth + 1; k++)
    {
      z = deconv_block ("deconv" + std::to_string (k) + ".", z, training);
      skips.push_back (z);
    }
  z = at::Tensor ();

  at::Tensor x = conv_block ("base.", embedding);
  for (int i = 0; i < depth; i++)
    {
      const std::string n = std::to_string (i);
      x = upsample ("decoder.samplers." + n + ".", x);
      x = at::cat ({ x, crop_like (skips[(size_t) i], x) }, 1);
      skips[(size_t) i] = at::Tensor (); /* the largest tensors: let each go once joined */
      x = conv_block ("decoder.blocks." + n + ".", x);
    }
  x = upsample ("deconv_out.", x);
  x = at::cat ({ x, skips[(size_t) depth] }, 1);
  skips.clear ();
  x = conv_block ("decoder_head.", x);
  x = at::conv2d (x, w ("out_conv.weight"), w ("out_conv.bias"));
  return at::sigmoid (x);
}

StateDict
AisDecoder::random_state_dict (int embed_dim, AisVariant variant, uint64_t seed)
{
  AisConfig cfg;
  cfg.variant = variant;
  cfg.embed_dim = embed_dim;
  return random_state_dict (cfg, seed);
}

StateDict
AisDecoder::random_state_dict (const AisConfig &cfg, uint64_t seed)
{
  if (cfg.embed_dim <= 0 || cfg.depth () < 1 || cfg.out_channels <= 0)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "AIS decoder: invalid configuration");
  for (int i = 0; i < cfg.depth (); i++)
    if (cfg.features[(size_t) i] != 2 * cfg.features[(size_t) i + 1])
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "AIS decoder: UNETR halves the channels per level");

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl> (seed);
  StateDict sd;
  for (const auto &spec : ais_param_specs (cfg))
    {
      if (spec.init == Init::Counter)
        {
          sd.set (spec.name, at::zeros (spec.shape, at::TensorOptions ().dtype (at::kLong)));
          continue;
        }
      at::Tensor t = at::empty (spec.shape, at::TensorOptions ().dtype (at::kFloat));
      switch (spec.init)
        {
        case Init::Uniform:
          {
            /* kaiming_uniform_(a=√5) for weights and the bias rule of _ConvNd both give 1/√fan_in. */
            double bound = 1.0 / std::sqrt ((double) std::max<int64_t> (spec.fan_in, 1));
            t.uniform_ (-bound, bound, gen);
            break;
          }
        case Init::Ones: t.fill_ (1.0); break;
        case Init::Zeros: t.zero_ (); break;
        case Init::Counter: break;
        }
      sd.set (spec.name, t);
    }
  return sd;
}

std::shared_ptr<AisDecoder>
ais_decoder_load (const StateDict &sd, int embedding_channels, const std::string &path)
{
  auto decoder = std::make_shared<AisDecoder> (sd, path);
  const AisConfig &c = decoder->config ();
  if (c.embed_dim != embedding_channels)
    fail (USAM_SAM_STATUS_SHAPE, path + ": decoder weight 'base.block.1.weight' takes embeddings of "
                                    + std::to_string (c.embed_dim) + " channels, but the image encoder makes "
                                    + std::to_string (embedding_channels));
  if (c.out_channels != 3)
    fail (USAM_SAM_STATUS_SHAPE, path + ": decoder weight 'out_conv.weight' has " + std::to_string (c.out_channels)
                                    + " outputs, expected 3 (foreground, center and boundary distances)");
  return decoder;
}

AisState
ais_state_load (const StateDict &sd, int embedding_channels, const std::string &path)
{
  AisState state;
  state.source = path;
  if (!sd.empty ())
    state.decoder = ais_decoder_load (sd, embedding_channels, path);
  return state;
}

} // namespace usam
