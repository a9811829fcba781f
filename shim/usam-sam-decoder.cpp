/* SAM's prompt encoder, two-way transformer and mask decoder. */
#include "usam-sam-model.hpp"

#include <cmath>

#include <ATen/core/grad_mode.h>

#include "usam-error.hpp"

namespace usam {

namespace {

at::Tensor
layer_norm_2d (const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
  at::Tensor u = x.mean (1, true);
  at::Tensor d = x - u;
  at::Tensor s = d.pow (2).mean (1, true);
  return w.view ({ -1, 1, 1 }) * (d / at::sqrt (s + 1e-6)) + b.view ({ -1, 1, 1 });
}

struct Weights
{
  const SamModel &m;
  at::Tensor operator() (const std::string &name) const { return m.w (name); }
};

at::Tensor
linear (const Weights &W, const std::string &name, const at::Tensor &x)
{
  return at::linear (x, W (name + ".weight"), W (name + ".bias"));
}

at::Tensor
layer_norm (const Weights &W, const std::string &name, const at::Tensor &x)
{
  return layer_norm_last (x, W (name + ".weight"), W (name + ".bias"), 1e-5);
}

/* segment_anything.modeling.transformer.Attention on projected (Bq, Tq, I)
 * queries and (Bk, Tk, I) keys and values, where Bq or Bk may be 1 (the image
 * side shared by a batch of prompts). The 1/sqrt(d) scale goes on the queries. */
at::Tensor
attend (const at::Tensor &q_proj, const at::Tensor &k, const at::Tensor &v, int heads)
{
  const int64_t Bq = q_proj.size (0), Tq = q_proj.size (1), I = q_proj.size (2), d = I / heads;
  const int64_t Bk = k.size (0), Tk = k.size (1), B = std::max (Bq, Bk);
  at::Tensor q = q_proj * (1.0 / std::sqrt ((double) d));
  /* shared keys: the batch's queries are just more queries; shared queries
   * (the cached image side) broadcast over the batch's keys */
  const bool fold = Bk == 1 && Bq > 1;
  at::Tensor qh = (fold ? q.reshape ({ 1, Bq * Tq, heads, d }) : q.view ({ Bq, Tq, heads, d })).transpose (1, 2);
  at::Tensor kh = k.view ({ Bk, Tk, heads, d }).permute ({ 0, 2, 3, 1 });
  at::Tensor vh = v.view ({ Bk, Tk, heads, d }).transpose (1, 2);
  at::Tensor attn = at::softmax (at::matmul (qh, kh), -1);
  at::Tensor out = at::matmul (attn, vh).transpose (1, 2);
  return out.reshape ({ B, Tq, I });
}

/* Projections computed beforehand (per embedding, for prompts without a mask). */
struct Projected
{
  at::Tensor q, k, v;
};

at::Tensor
two_way_attention (const Weights &W, const std::string &name, int heads, const at::Tensor &q_in,
                   const at::Tensor &k_in, const at::Tensor &v_in, const Projected &pre = {})
{
  at::Tensor q = pre.q.defined () ? pre.q : linear (W, name + ".q_proj", q_in);
  at::Tensor k = pre.k.defined () ? pre.k : linear (W, name + ".k_proj", k_in);
  at::Tensor v = pre.v.defined () ? pre.v : linear (W, name + ".v_proj", v_in);
  return linear (W, name + ".out_proj", attend (q, k, v, heads));
}

at::Tensor
mlp (const Weights &W, const std::string &name, int layers, const at::Tensor &x)
{
  at::Tensor h = x;
  for (int i = 0; i < layers; i++)
    {
      h = linear (W, name + ".layers." + std::to_string (i), h);
      if (i < layers - 1)
        h = at::relu (h);
    }
  return h;
}

/* A 2×2, stride-2 transposed convolution (weights (in, out, dy, dx)) as a
 * linear layer whose outputs are ordered (dy, dx, out). */
void
upscale_as_linear (const at::Tensor &w, const at::Tensor &b, at::Tensor &lw, at::Tensor &lb)
{
  const int64_t in = w.size (0), out = w.size (1);
  lw = w.permute ({ 2, 3, 1, 0 }).reshape ({ 4 * out, in }).contiguous ();
  lb = b.repeat ({ 4 }).contiguous ();
}

} // namespace

std::pair<at::Tensor, at::Tensor>
SamModel::encode_prompts (const at::Tensor &points, const at::Tensor &labels, const at::Tensor &boxes,
                          const at::Tensor &masks) const
{
  const Weights W { *this };
  const std::string pe = "prompt_encoder.";
  const int64_t C = cfg_.prompt_dim, e = cfg_.embedding_size ();
  const at::Tensor gauss = w (pe + "pe_layer.positional_encoding_gaussian_matrix");
  auto encode_coords = [&] (at::Tensor coords /* (B, N, 2) pixel + 0.5 */) {
    coords = coords / (double) cfg_.img_size;
    coords = 2 * coords - 1;
    coords = at::matmul (coords, gauss);
    coords = coords * (float) (2 * M_PI);
    return at::cat ({ at::sin (coords), at::cos (coords) }, -1);
  };

  int64_t bs = points.defined () ? points.size (0) : boxes.defined () ? boxes.size (0) : masks.defined () ? masks.size (0) : 1;
  at::TensorOptions opts = at::TensorOptions ().dtype (at::kFloat);
  at::Tensor sparse = at::empty ({ bs, 0, C }, opts);

  if (points.defined ())
    {
      at::Tensor p = points + 0.5;
      at::Tensor l = labels;
      if (!boxes.defined ())
        {
          p = at::cat ({ p, at::zeros ({ p.size (0), 1, 2 }, opts) }, 1);
          l = at::cat ({ l, -at::ones ({ l.size (0), 1 }, l.options ()) }, 1);
        }
      at::Tensor emb = encode_coords (p);
      at::Tensor lu = l.unsqueeze (-1);
      emb = at::where (lu == -1, at::zeros_like (emb), emb);
      emb = emb + (lu == -1).to (at::kFloat) * w (pe + "not_a_point_embed.weight");
      emb = emb + (lu == 0).to (at::kFloat) * w (pe + "point_embeddings.0.weight");
      emb = emb + (lu == 1).to (at::kFloat) * w (pe + "point_embeddings.1.weight");
      sparse = at::cat ({ sparse, emb }, 1);
    }
  if (boxes.defined ())
    {
      at::Tensor corners = encode_coords ((boxes + 0.5).reshape ({ -1, 2, 2 }));
      at::Tensor add = at::cat ({ w (pe + "point_embeddings.2.weight"), w (pe + "point_embeddings.3.weight") }, 0);
      sparse = at::cat ({ sparse, corners + add.unsqueeze (0) }, 1);
    }

  at::Tensor dense;
  if (masks.defined ())
    {
      const std::string md = pe + "mask_downscaling.";
      const at::Tensor w0 = W (md + "0.weight");
      at::Tensor h = at::conv2d (masks.to (w0.scalar_type ()), w0, W (md + "0.bias"), { 2, 2 });
      h = at::gelu (layer_norm_2d (h, W (md + "1.weight"), W (md + "1.bias")));
      h = at::conv2d (h, W (md + "3.weight"), W (md + "3.bias"), { 2, 2 });
      h = at::gelu (layer_norm_2d (h, W (md + "4.weight"), W (md + "4.bias")));
      dense = at::conv2d (h, W (md + "6.weight"), W (md + "6.bias"));
    }
  else
    {
      dense = w (pe + "no_mask_embed.weight").reshape ({ 1, -1, 1, 1 }).expand ({ bs, -1, e, e });
    }
  /* compute in the type of the weights (bf16 when training casts them) */
  const at::ScalarType type = w (pe + "point_embeddings.0.weight").scalar_type ();
  return { sparse.to (type), dense.to (type) };
}

std::pair<at::Tensor, at::Tensor>
SamModel::decode_masks (const at::Tensor &embedding, const at::Tensor &sparse, const at::Tensor &dense,
                        bool multimask, const DecoderCache *cache) const
{
  const Weights W { *this };
  const std::string md = "mask_decoder.";
  const int T = cfg_.num_mask_tokens;
  const int heads = cfg_.transformer_heads;

  at::Tensor output_tokens = at::cat ({ w (md + "iou_token.weight"), w (md + "mask_tokens.weight") }, 0);
  output_tokens = output_tokens.unsqueeze (0).expand ({ sparse.size (0), -1, -1 });
  at::Tensor tokens = at::cat ({ output_tokens, sparse }, 1);

  const int64_t B = tokens.size (0);
  const int64_t c = embedding.size (1), h = embedding.size (2), wd = embedding.size (3);

  /* TwoWayTransformer, on channels-last image tokens (B, h·w, C). Without a
   * mask prompt the image side of the first layer is the same for every
   * prompt: the cache holds it, computed once per embedding. */
  at::Tensor keys;
  if (cache)
    keys = cache->keys;
  else
    {
      at::Tensor src = embedding.size (0) == B ? embedding : at::repeat_interleave (embedding, B, 0);
      keys = (src + dense).flatten (2).transpose (1, 2).contiguous ();
    }
  const at::Tensor key_pe = dense_pe_tokens_.to (keys.scalar_type ());
  at::Tensor queries = tokens;
  const at::Tensor &query_pe = tokens;
  const std::string tr = md + "transformer.";
  for (int i = 0; i < cfg_.transformer_depth; i++)
    {
      const std::string l = tr + "layers." + std::to_string (i) + ".";
      const bool cached = cache && i == 0;
      if (i == 0)
        queries = two_way_attention (W, l + "self_attn", heads, queries, queries, queries);
      else
        {
          at::Tensor q = queries + query_pe;
          queries = queries + two_way_attention (W, l + "self_attn", heads, q, q, queries);
        }
      queries = layer_norm (W, l + "norm1", queries);

      at::Tensor q = queries + query_pe;
      at::Tensor k = cached ? cache->keys_pe : keys + key_pe;
      queries = queries + two_way_attention (W, l + "cross_attn_token_to_image", heads, q, k, keys,
                                             cached ? Projected { {}, cache->t2i_k, cache->t2i_v } : Projected {});
      queries = layer_norm (W, l + "norm2", queries);

      at::Tensor m = linear (W, l + "mlp.lin2", at::relu (linear (W, l + "mlp.lin1", queries)));
      queries = layer_norm (W, l + "norm3", queries + m);

      q = queries + query_pe;
      keys = keys + two_way_attention (W, l + "cross_attn_image_to_token", heads, k, q, queries,
                                       cached ? Projected { cache->i2t_q, {}, {} } : Projected {});
      keys = layer_norm (W, l + "norm4", keys);
    }
  {
    at::Tensor q = queries + query_pe;
    at::Tensor k = keys + key_pe;
    queries = queries + two_way_attention (W, tr + "final_attn_token_to_image", heads, q, k, keys);
    queries = layer_norm (W, tr + "norm_final_attn", queries);
  }

  at::Tensor iou_token_out = queries.select (1, 0);
  at::Tensor mask_tokens_out = queries.slice (1, 1, 1 + T);

  /* output_upscaling: two 2×2, stride-2 transposed convolutions never
   * overlap, so each is one matrix product per pixel; their outputs stay in
   * (pixel, dy, dx, channel) order until the masks are laid out at the end. */
  const std::string up = md + "output_upscaling.";
  const int64_t c1 = c / 4, c2 = c / 8;
  at::Tensor w1 = upscale1_w_, b1 = upscale1_b_, w2 = upscale2_w_, b2 = upscale2_b_;
  if (at::GradMode::is_enabled () || override_)
    {
      /* Training: derive them from the live weights so gradients reach them. */
      upscale_as_linear (W (up + "0.weight"), W (up + "0.bias"), w1, b1);
      upscale_as_linear (W (up + "3.weight"), W (up + "3.bias"), w2, b2);
    }
  at::Tensor u = at::linear (keys, w1, b1).view ({ B, h * wd, 4, c1 });
  u = at::gelu (layer_norm_last (u, W (up + "1.weight"), W (up + "1.bias"), 1e-6));
  u = at::gelu (at::linear (u, w2, b2)).view ({ B, h * wd * 16, c2 });

  std::vector<at::Tensor> hyper;
  for (int i = 0; i < T; i++)
    hyper.push_back (mlp (W, md + "output_hypernetworks_mlps." + std::to_string (i), 3, mask_tokens_out.select (1, i)));
  at::Tensor hyper_in = at::stack (hyper, 2); /* (B, c2, T) */
  at::Tensor masks = at::bmm (u, hyper_in)    /* (B, pixels, T) */
                         .view ({ B, h, wd, 2, 2, 2, 2, T })
                         .permute ({ 0, 7, 1, 3, 5, 2, 4, 6 })
                         .reshape ({ B, T, 4 * h, 4 * wd });
  at::Tensor iou = mlp (W, md + "iou_prediction_head", cfg_.iou_head_depth, iou_token_out);

  if (multimask)
    return { masks.slice (1, 1), iou.slice (1, 1) };
  return { masks.slice (1, 0, 1), iou.slice (1, 0, 1) };
}

void
SamModel::bind_decoder ()
{
  const std::string up = "mask_decoder.output_upscaling.";
  upscale_as_linear (w (up + "0.weight"), w (up + "0.bias"), upscale1_w_, upscale1_b_);
  upscale_as_linear (w (up + "3.weight"), w (up + "3.bias"), upscale2_w_, upscale2_b_);
  dense_pe_tokens_ = dense_pe_.flatten (2).transpose (1, 2).contiguous ();
}

SamModel::DecoderCache
SamModel::decoder_cache (const at::Tensor &embedding) const
{
  const Weights W { *this };
  const std::string l = "mask_decoder.transformer.layers.0.";
  DecoderCache c;
  at::Tensor dense = w ("prompt_encoder.no_mask_embed.weight").reshape ({ 1, -1, 1, 1 });
  c.keys = (embedding + dense).flatten (2).transpose (1, 2).contiguous ();
  c.keys_pe = c.keys + dense_pe_tokens_.to (c.keys.scalar_type ());
  c.t2i_k = linear (W, l + "cross_attn_token_to_image.k_proj", c.keys_pe);
  c.t2i_v = linear (W, l + "cross_attn_token_to_image.v_proj", c.keys);
  c.i2t_q = linear (W, l + "cross_attn_image_to_token.q_proj", c.keys_pe);
  return c;
}

at::Tensor
SamModel::postprocess_masks (const at::Tensor &low_res, int input_h, int input_w, int orig_h, int orig_w) const
{
  at::Tensor m = at::upsample_bilinear2d (low_res, { cfg_.img_size, cfg_.img_size }, false);
  m = m.slice (2, 0, input_h).slice (3, 0, input_w);
  /* Bilinear resampling to the same size is the identity: skip it. */
  if (input_h == orig_h && input_w == orig_w)
    return m;
  return at::upsample_bilinear2d (m, { orig_h, orig_w }, false);
}

} // namespace usam
