/* The ViT image encoder (ViTDet backbone as SAM uses it).
 *
 * Same arithmetic as the reference, arranged for a small CPU: global
 * attention runs head by head over blocks of query rows so the score matrix
 * (4096² per head at 1024²) stays in cache instead of being materialised
 * for all heads at once, which also keeps peak memory low.
 */
#include "usam-sam-model.hpp"

#include <cmath>

#include <ATen/core/grad_mode.h>

#include "usam-error.hpp"

namespace usam {

namespace {

/* get_rel_pos(): the (q, k, head_dim) table of relative position embeddings. */
at::Tensor
gather_rel_pos (const at::Tensor &rel_pos, int64_t q_size, int64_t k_size)
{
  int64_t max_rel_dist = 2 * std::max (q_size, k_size) - 1;
  at::Tensor table = rel_pos;
  if (rel_pos.size (0) != max_rel_dist)
    {
      /* A checkpoint trained at another input size: interpolate linearly, as the reference does. */
      at::Tensor r = rel_pos.reshape ({ 1, rel_pos.size (0), -1 }).permute ({ 0, 2, 1 });
      r = at::upsample_linear1d (r, { max_rel_dist }, false);
      table = r.reshape ({ -1, max_rel_dist }).permute ({ 1, 0 });
    }
  double qs = std::max ((double) k_size / q_size, 1.0);
  double ks = std::max ((double) q_size / k_size, 1.0);
  at::Tensor q_coords = at::arange (q_size, at::kFloat).unsqueeze (1) * qs;
  at::Tensor k_coords = at::arange (k_size, at::kFloat).unsqueeze (0) * ks;
  at::Tensor rel = (q_coords - k_coords) + (double) (k_size - 1) * ks;
  return table.index ({ rel.to (at::kLong) });
}

at::Tensor
layer_norm_2d (const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
  at::Tensor u = x.mean (1, true);
  at::Tensor d = x - u;
  at::Tensor s = d.pow (2).mean (1, true);
  at::Tensor y = d / at::sqrt (s + 1e-6);
  return w.view ({ -1, 1, 1 }) * y + b.view ({ -1, 1, 1 });
}

/* Rows of queries per score block: about 4 MiB of scores. */
int64_t
rows_per_chunk (int64_t q_w, int64_t n_keys)
{
  int64_t budget = (4 << 20) / (int64_t) sizeof (float);
  int64_t rows = budget / std::max<int64_t> (q_w * n_keys, 1);
  return std::max<int64_t> (rows, 1);
}

} // namespace

void
SamModel::bind_blocks ()
{
  const std::string enc = "image_encoder.";
  blocks_.clear ();
  for (int i = 0; i < cfg_.depth; i++)
    {
      const std::string p = enc + "blocks." + std::to_string (i) + ".";
      Block b;
      b.norm1_w = w (p + "norm1.weight");
      b.norm1_b = w (p + "norm1.bias");
      b.qkv_w = w (p + "attn.qkv.weight");
      b.qkv_b = w (p + "attn.qkv.bias");
      b.proj_w = w (p + "attn.proj.weight");
      b.proj_b = w (p + "attn.proj.bias");
      b.norm2_w = w (p + "norm2.weight");
      b.norm2_b = w (p + "norm2.bias");
      b.lin1_w = w (p + "mlp.lin1.weight");
      b.lin1_b = w (p + "mlp.lin1.bias");
      b.lin2_w = w (p + "mlp.lin2.weight");
      b.lin2_b = w (p + "mlp.lin2.bias");
      b.window = cfg_.is_global (i) ? 0 : cfg_.window_size;
      if (cfg_.use_rel_pos)
        {
          int64_t size = b.window ? b.window : cfg_.embedding_size ();
          b.rel_pos_h = w (p + "attn.rel_pos_h");
          b.rel_pos_w = w (p + "attn.rel_pos_w");
          /* inference reads the gathered tables; training gathers from the weights */
          if (!override_)
            {
              b.rel_h = gather_rel_pos (b.rel_pos_h, size, size);
              b.rel_w = gather_rel_pos (b.rel_pos_w, size, size);
            }
        }
      blocks_.push_back (std::move (b));
    }
}

void
SamModel::bind_encoder ()
{
  bind_blocks ();

  /* PositionEmbeddingRandom over the embedding grid, computed once. */
  const int64_t e = cfg_.embedding_size ();
  at::Tensor grid = at::ones ({ e, e }, at::kFloat);
  at::Tensor y = (grid.cumsum (0) - 0.5) / (double) e;
  at::Tensor x = (grid.cumsum (1) - 0.5) / (double) e;
  at::Tensor coords = at::stack ({ x, y }, -1);
  coords = 2 * coords - 1;
  coords = at::matmul (coords, w ("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"));
  coords = coords * (float) (2 * M_PI);
  dense_pe_ = at::cat ({ at::sin (coords), at::cos (coords) }, -1).permute ({ 2, 0, 1 }).unsqueeze (0).contiguous ();
}

void
SamModel::set_encoder_precision (EncoderPrecision p)
{
  precision_ = p;
}

at::Tensor
SamModel::attention (const Block &b, const at::Tensor &x) const
{
  const int64_t B = x.size (0), H = x.size (1), W = x.size (2), C = x.size (3);
  const int64_t nH = cfg_.num_heads, hd = C / nH, L = H * W;
  const double scale = 1.0 / std::sqrt ((double) hd);
  const bool bf16 = precision_ == EncoderPrecision::BFloat16;

  at::Tensor qkv_w = bf16 ? b.qkv_w.to (at::kBFloat16) : b.qkv_w;
  at::Tensor qkv_b = bf16 ? b.qkv_b.to (at::kBFloat16) : b.qkv_b;
  at::Tensor qkv = at::linear (bf16 ? x.to (at::kBFloat16) : x, qkv_w, qkv_b);
  /* (B, L, 3, nH, hd): q, k, v of one head are strided views, usable by BLAS as they are. */
  qkv = qkv.view ({ B, L, 3, nH, hd });
  at::Tensor out;

  /* Training differentiates through the position tables, so they are
   * gathered from the live weights; inference uses the cached ones. */
  const bool training = at::GradMode::is_enabled ();
  const bool live = cfg_.use_rel_pos && (training || !b.rel_h.defined ());
  at::Tensor table_h = live ? gather_rel_pos (b.rel_pos_h, H, H) : b.rel_h;
  at::Tensor table_w = live ? gather_rel_pos (b.rel_pos_w, W, W) : b.rel_w;

  if (training || B * nH * L * L <= (int64_t) (16 << 20))
    {
      /* Windowed blocks (small score matrices) and training: all windows and
       * heads in one batch, as the reference does. */
      at::Tensor qkvp = qkv.permute ({ 2, 0, 3, 1, 4 }).reshape ({ 3, B * nH, L, hd });
      at::Tensor q = qkvp[0], k = qkvp[1], v = qkvp[2];
      at::Tensor s = at::bmm (q * scale, k.transpose (-2, -1));
      if (bf16)
        s = s.to (at::kFloat);
      if (cfg_.use_rel_pos)
        {
          at::Tensor rq = q.to (table_h.scalar_type ()).reshape ({ B * nH, H, W, hd });
          at::Tensor rel_h = at::einsum ("bhwc,hkc->bhwk", { rq, table_h });
          at::Tensor rel_w = at::einsum ("bhwc,wkc->bhwk", { rq, table_w });
          at::Tensor s5 = s.view ({ B * nH, H, W, H, W });
          if (training)
            /* in place on a view would make autograd copy the whole score tensor back */
            s = (s5 + rel_h.unsqueeze (4) + rel_w.unsqueeze (3)).view ({ B * nH, L, L });
          else
            {
              s5.add_ (rel_h.unsqueeze (4));
              s5.add_ (rel_w.unsqueeze (3));
            }
        }
      s = at::softmax (s, -1);
      if (bf16)
        s = s.to (at::kBFloat16);
      out = at::bmm (s, v).view ({ B, nH, H, W, hd }).permute ({ 0, 2, 3, 1, 4 }).reshape ({ B, L, nH, hd });
    }
  else
    {
      out = at::empty ({ B, L, nH, hd }, qkv.options ());
      const int64_t rows = rows_per_chunk (W, L);
      for (int64_t bi = 0; bi < B; bi++)
        for (int64_t h = 0; h < nH; h++)
          {
            at::Tensor q = qkv.select (0, bi).select (1, 0).select (1, h); /* (L, hd) */
            at::Tensor k = qkv.select (0, bi).select (1, 1).select (1, h);
            at::Tensor v = qkv.select (0, bi).select (1, 2).select (1, h);
            at::Tensor qs = q * scale;
            at::Tensor rel_h, rel_w;
            if (cfg_.use_rel_pos)
              {
                at::Tensor rq = q.to (table_h.scalar_type ()).reshape ({ H, W, hd });
                rel_h = at::einsum ("hwc,hkc->hwk", { rq, table_h }); /* (H, W, H) */
                rel_w = at::einsum ("hwc,wkc->hwk", { rq, table_w }); /* (H, W, W) */
              }
            at::Tensor o = out.select (0, bi).select (1, h);
            for (int64_t r0 = 0; r0 < H; r0 += rows)
              {
                int64_t r1 = std::min (r0 + rows, H);
                at::Tensor s = at::mm (qs.slice (0, r0 * W, r1 * W), k.t ());
                if (bf16)
                  s = s.to (at::kFloat);
                if (cfg_.use_rel_pos)
                  {
                    at::Tensor s4 = s.view ({ r1 - r0, W, H, W });
                    s4.add_ (rel_h.slice (0, r0, r1).unsqueeze (3));
                    s4.add_ (rel_w.slice (0, r0, r1).unsqueeze (2));
                  }
                s = at::softmax (s, -1);
                if (bf16)
                  s = s.to (at::kBFloat16);
                o.slice (0, r0 * W, r1 * W).copy_ (at::mm (s, v));
              }
          }
    }
  at::Tensor proj_w = bf16 ? b.proj_w.to (at::kBFloat16) : b.proj_w;
  at::Tensor proj_b = bf16 ? b.proj_b.to (at::kBFloat16) : b.proj_b;
  at::Tensor y = at::linear (out.reshape ({ B, H, W, C }), proj_w, proj_b);
  return bf16 ? y.to (at::kFloat) : y;
}

at::Tensor
SamModel::block_forward (const Block &b, const at::Tensor &x) const
{
  const int64_t C = x.size (3);
  at::Tensor shortcut = x;
  at::Tensor h = layer_norm_last (x, b.norm1_w, b.norm1_b, 1e-6);
  const int64_t H = x.size (1), W = x.size (2);
  if (b.window > 0)
    {
      const int64_t ws = b.window;
      const int64_t pad_h = (ws - H % ws) % ws, pad_w = (ws - W % ws) % ws;
      if (pad_h > 0 || pad_w > 0)
        h = at::constant_pad_nd (h, { 0, 0, 0, pad_w, 0, pad_h });
      const int64_t Hp = H + pad_h, Wp = W + pad_w, B = h.size (0);
      h = h.view ({ B, Hp / ws, ws, Wp / ws, ws, C }).permute ({ 0, 1, 3, 2, 4, 5 }).contiguous ().view ({ -1, ws, ws, C });
      h = attention (b, h);
      h = h.view ({ B, Hp / ws, Wp / ws, ws, ws, C }).permute ({ 0, 1, 3, 2, 4, 5 }).contiguous ().view ({ B, Hp, Wp, C });
      if (Hp > H || Wp > W)
        h = h.slice (1, 0, H).slice (2, 0, W);
    }
  else
    {
      h = attention (b, h);
    }
  at::Tensor x1 = shortcut + h;

  const bool bf16 = precision_ == EncoderPrecision::BFloat16;
  at::Tensor n = layer_norm_last (x1, b.norm2_w, b.norm2_b, 1e-6);
  at::Tensor m;
  if (bf16)
    {
      m = at::linear (n.to (at::kBFloat16), b.lin1_w.to (at::kBFloat16), b.lin1_b.to (at::kBFloat16));
      m = at::gelu (m);
      m = at::linear (m, b.lin2_w.to (at::kBFloat16), b.lin2_b.to (at::kBFloat16)).to (at::kFloat);
    }
  else
    {
      m = at::linear (at::gelu (at::linear (n, b.lin1_w, b.lin1_b)), b.lin2_w, b.lin2_b);
    }
  /* In place only for inference: layer_norm keeps x1 for its backward pass. */
  return at::GradMode::is_enabled () ? x1 + m : x1.add_ (m);
}

at::Tensor
SamModel::encode (const at::Tensor &image, const AbortCheck &abort, const ProgressReport &progress) const
{
  const std::string enc = "image_encoder.";
  const at::Tensor patch_w = w (enc + "patch_embed.proj.weight");
  at::Tensor x = at::conv2d (image.to (patch_w.scalar_type ()), patch_w, w (enc + "patch_embed.proj.bias"),
                             { cfg_.patch_size, cfg_.patch_size });
  x = x.permute ({ 0, 2, 3, 1 });
  if (cfg_.use_abs_pos)
    {
      at::Tensor pos = w (enc + "pos_embed");
      if (pos.size (1) != x.size (1) || pos.size (2) != x.size (2))
        fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "encoder input does not match the model's input size");
      x = x + pos;
    }
  else
    x = x.contiguous ();

  const size_t n = blocks_.size ();
  for (size_t i = 0; i < n; i++)
    {
      if (abort && abort ())
        fail (USAM_SAM_STATUS_ABORTED, "encoding was cancelled");
      x = block_forward (blocks_[i], x);
      if (progress)
        progress ((double) (i + 1) / (double) (n + 1));
    }

  x = x.permute ({ 0, 3, 1, 2 });
  x = at::conv2d (x, w (enc + "neck.0.weight"));
  x = layer_norm_2d (x, w (enc + "neck.1.weight"), w (enc + "neck.1.bias"));
  x = at::conv2d (x, w (enc + "neck.2.weight"), {}, 1, 1);
  x = layer_norm_2d (x, w (enc + "neck.3.weight"), w (enc + "neck.3.bias"));
  if (progress)
    progress (1.0);
  return x.contiguous ();
}

} // namespace usam
