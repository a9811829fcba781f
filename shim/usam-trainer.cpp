/* usam-trainer.cpp — μSAM's interactive training scheme over the shim's SAM. */
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include "usam-sam-private.hpp"
#include "usam-train.h"

using namespace usam;

namespace {

/* torch_em's DiceLoss numerator/denominator over the two spatial axes. */
at::Tensor
dice_loss (const at::Tensor &probs, const at::Tensor &target)
{
  at::Tensor num = (probs * target).sum ({ -2, -1 });
  at::Tensor den = (probs * probs).sum ({ -2, -1 }) + (target * target).sum ({ -2, -1 });
  return 1.0 - 2.0 * num / den.clamp_min (1e-7);
}

/* Enables bf16 autocast for the lifetime of the guard. */
class AutocastGuard
{
public:
  explicit AutocastGuard (bool enable) : enabled_ (enable)
  {
    if (!enabled_)
      return;
    prev_enabled_ = at::autocast::is_cpu_enabled ();
    prev_dtype_ = at::autocast::get_autocast_cpu_dtype ();
    at::autocast::set_cpu_enabled (true);
    at::autocast::set_autocast_cpu_dtype (at::kBFloat16);
    at::autocast::increment_nesting ();
  }
  ~AutocastGuard ()
  {
    if (!enabled_)
      return;
    if (at::autocast::decrement_nesting () == 0)
      at::autocast::clear_cache ();
    at::autocast::set_cpu_enabled (prev_enabled_);
    at::autocast::set_autocast_cpu_dtype (prev_dtype_);
  }

private:
  bool enabled_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kBFloat16;
};

/* Where prompts may be drawn for one object of one image. */
struct ObjectPixels
{
  std::vector<int32_t> inside;   /* linear indices in the label patch */
  std::vector<int32_t> interior; /* inside, away from the border when the object is big enough */
  int x0, y0, x1, y1;            /* bounding box, inclusive */
};

} // namespace

struct usam_sam_trainer
{
  usam_sam_model *model = nullptr;
  usam_sam_train_params p {};
  std::vector<std::pair<std::string, at::Tensor>> params;
  std::shared_ptr<AisDecoder> ais; /* trained with the model when it has one and the AIS loss is on */
  std::vector<at::Tensor> m, v;
  int64_t step = 0;
  float lr = 0;
  std::mt19937_64 rng;
  bool autocast = false;

  struct Result
  {
    at::Tensor loss;
    double mask = 0, iou = 0, ais = 0, mean_iou = 0;
  };

  Result forward (const usam_sam_train_batch &b, bool box_start, std::mt19937_64 &gen);
  Result run (const usam_sam_train_batch &b, bool box_start, std::mt19937_64 &gen);
  void adamw ();
};

namespace {

void
check_batch (const usam_sam_model *model, const usam_sam_train_batch *b)
{
  if (!b || !b->images || !b->labels || !b->object_ids || b->n_images <= 0 || b->n_objects <= 0)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "training batch: images, labels and object ids are required");
  const SamConfig &c = model->sam->config ();
  if (b->image_size != c.img_size)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "training batch: images must be " + std::to_string (c.img_size) + "², not "
                                                + std::to_string (b->image_size) + "²");
  if (b->label_size <= 0 || b->label_size > 4096)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "training batch: bad label size");
}

std::vector<ObjectPixels>
object_pixels (const int32_t *labels, int size, const int32_t *ids, int n, bool required)
{
  std::vector<ObjectPixels> out ((size_t) n);
  for (int k = 0; k < n; k++)
    {
      out[(size_t) k].x0 = out[(size_t) k].y0 = size;
      out[(size_t) k].x1 = out[(size_t) k].y1 = -1;
    }
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        int32_t id = labels[y * size + x];
        if (id == 0)
          continue;
        for (int k = 0; k < n; k++)
          if (ids[k] == id)
            {
              ObjectPixels &o = out[(size_t) k];
              o.inside.push_back (y * size + x);
              o.x0 = std::min (o.x0, x);
              o.y0 = std::min (o.y0, y);
              o.x1 = std::max (o.x1, x);
              o.y1 = std::max (o.y1, y);
              /* ambiguous prompts on an imprecise outline help nobody: prefer pixels whose
               * 4-neighbours at distance 2 are inside too */
              bool deep = x >= 2 && y >= 2 && x < size - 2 && y < size - 2 && labels[y * size + x - 2] == id
                          && labels[y * size + x + 2] == id && labels[(y - 2) * size + x] == id
                          && labels[(y + 2) * size + x] == id;
              if (deep)
                o.interior.push_back (y * size + x);
              break;
            }
      }
  for (int k = 0; k < n && required; k++)
    if (out[(size_t) k].inside.empty ())
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "training batch: object " + std::to_string (ids[k]) + " is not in its labels");
  return out;
}

int32_t
pick (const std::vector<int32_t> &v, std::mt19937_64 &gen)
{
  std::uniform_int_distribution<size_t> d (0, v.size () - 1);
  return v[d (gen)];
}

} // namespace

usam_sam_trainer::Result
usam_sam_trainer::forward (const usam_sam_train_batch &b, bool box_start, std::mt19937_64 &gen)
{
  SamModel &sam = *model->sam;
  const SamConfig &cfg = sam.config ();
  const int S = b.image_size, P = b.label_size, K = b.n_objects, B = b.n_images;
  const double scale = (double) S / P;
  const int n_sub = std::max (1, p.n_sub_iterations);
  std::uniform_real_distribution<double> coin (0.0, 1.0);

  /* Normalise as Sam.preprocess does; the images fill the input, no padding. */
  at::Tensor x = at::from_blob ((void *) b.images, { B, S, S, 3 }, at::kByte).permute ({ 0, 3, 1, 2 }).to (at::kFloat);
  at::Tensor mean = at::tensor ({ 123.675f, 116.28f, 103.53f }).view ({ 1, 3, 1, 1 });
  at::Tensor stdv = at::tensor ({ 58.395f, 57.12f, 57.375f }).view ({ 1, 3, 1, 1 });
  x = ((x - mean) / stdv).contiguous ();

  at::Tensor embedding;
  {
    at::AutoGradMode grad (p.train_encoder && at::GradMode::is_enabled ());
    embedding = sam.encode (x, nullptr, nullptr);
  }
  if (!p.train_encoder)
    embedding = embedding.detach ();

  Result r;
  at::Tensor total = at::zeros ({}, at::kFloat);
  double final_iou = 0;
  for (int bi = 0; bi < B; bi++)
    {
      const int32_t *labels = b.labels + (size_t) bi * P * P;
      const int32_t *ids = b.object_ids + (size_t) bi * K;
      std::vector<ObjectPixels> objects = object_pixels (labels, P, ids, K, true);

      /* Losses and corrections work at the resolution of the low-res masks
       * when the labels are finer: upsampling every mask to the labels would
       * cost more than the decoder itself, and the masks hold no more detail. */
      const int R = std::min (P, (int) (4 * cfg.embedding_size ()));
      std::vector<int32_t> labels_r;
      const int32_t *lab_r = labels;
      if (R < P)
        {
          labels_r.resize ((size_t) R * R);
          for (int y = 0; y < R; y++)
            for (int xx = 0; xx < R; xx++)
              labels_r[(size_t) y * R + xx]
                  = labels[(size_t) std::min (P - 1, (int) ((y + 0.5) * P / R)) * P + std::min (P - 1, (int) ((xx + 0.5) * P / R))];
          lab_r = labels_r.data ();
        }
      std::vector<ObjectPixels> objects_r = object_pixels (lab_r, R, ids, K, false);
      const double scale_r = (double) S / R;

      at::Tensor lab = at::from_blob ((void *) labels, { 1, P, P }, at::kInt);
      at::Tensor idt = at::from_blob ((void *) ids, { K, 1, 1 }, at::kInt);
      at::Tensor target = (lab == idt).to (at::kFloat).unsqueeze (1); /* (K, 1, P, P) */
      if (R < P)
        target = at::adaptive_avg_pool2d (target, { R, R });

      std::vector<float> pts; /* K × n × 2, in input coordinates */
      std::vector<int32_t> plabels;
      int n_points = 0;
      at::Tensor boxes;
      if (box_start)
        {
          boxes = at::empty ({ K, 4 }, at::kFloat);
          float *bp = boxes.data_ptr<float> ();
          for (int k = 0; k < K; k++)
            {
              const ObjectPixels &o = objects[(size_t) k];
              bp[k * 4 + 0] = (float) (o.x0 * scale);
              bp[k * 4 + 1] = (float) (o.y0 * scale);
              bp[k * 4 + 2] = (float) ((o.x1 + 1) * scale);
              bp[k * 4 + 3] = (float) ((o.y1 + 1) * scale);
            }
        }
      else
        {
          n_points = 1;
          for (int k = 0; k < K; k++)
            {
              const ObjectPixels &o = objects[(size_t) k];
              int32_t i = pick (o.interior.empty () ? o.inside : o.interior, gen);
              pts.push_back ((float) ((i % P + 0.5) * scale));
              pts.push_back ((float) ((i / P + 0.5) * scale));
              plabels.push_back (1);
            }
        }

      at::Tensor mask_input;
      at::Tensor emb = embedding.slice (0, bi, bi + 1);
      at::Tensor image_loss = at::zeros ({}, at::kFloat);
      for (int sub = 0; sub < n_sub; sub++)
        {
          at::Tensor points, point_labels;
          if (n_points > 0)
            {
              /* each object's points are contiguous: (K, n, 2) from per-object lists */
              points = at::from_blob (pts.data (), { K, n_points, 2 }, at::kFloat).clone ();
              point_labels = at::from_blob (plabels.data (), { K, n_points }, at::kInt).clone ();
            }
          const bool multimask = sub == 0 && !box_start;
          auto [sparse, dense] = sam.encode_prompts (points, point_labels, boxes, mask_input);
          auto [low, iou_pred] = sam.decode_masks (emb, sparse, dense, multimask);
          at::Tensor logits = (R < P ? low : sam.postprocess_masks (low, S, S, P, P)).to (at::kFloat); /* (K, M, R, R) */
          at::Tensor probs = at::sigmoid (logits);
          at::Tensor dice = dice_loss (probs, target);                       /* (K, M) */
          at::Tensor best_dice = std::get<0> (dice.min (1));
          at::Tensor true_iou;
          {
            at::NoGradGuard no_grad;
            at::Tensor pm = probs > 0.5;
            at::Tensor t = target > 0.5;
            at::Tensor inter = (pm & t).sum ({ -2, -1 }).to (at::kFloat);
            at::Tensor uni = (pm | t).sum ({ -2, -1 }).to (at::kFloat);
            true_iou = inter / (uni + 1e-7);
          }
          at::Tensor mse = (iou_pred.to (at::kFloat) - true_iou).pow (2).mean ();
          at::Tensor mask_loss = best_dice.mean ();
          image_loss = image_loss + mask_loss + mse;
          r.mask += mask_loss.item<double> () / n_sub / B;
          r.iou += mse.item<double> () / n_sub / B;

          at::NoGradGuard no_grad;
          at::Tensor best = iou_pred.argmax (1);                              /* (K) */
          at::Tensor best_logits = logits.gather (1, best.view ({ K, 1, 1, 1 }).expand ({ K, 1, R, R })).squeeze (1);
          at::Tensor pred = (best_logits > 0).to (at::kByte).contiguous ();
          if (sub == n_sub - 1)
            {
              at::Tensor bi_iou = true_iou.gather (1, best.view ({ K, 1 }));
              final_iou += bi_iou.mean ().item<double> () / B;
              break;
            }

          /* Correction prompts: a positive point where the object was missed,
           * a negative point where background was taken for it. */
          std::vector<float> npts;
          std::vector<int32_t> nlabels;
          const uint8_t *pp = pred.data_ptr<uint8_t> ();
          for (int k = 0; k < K; k++)
            {
              const ObjectPixels &o = objects_r[(size_t) k];
              const uint8_t *pk = pp + (size_t) k * R * R;
              const int32_t id = ids[k];
              std::vector<int32_t> fn, fp, ok;
              for (int32_t i : o.inside)
                (pk[i] ? ok : fn).push_back (i);
              for (int i = 0; i < R * R; i++)
                if (pk[i] && lab_r[i] != id)
                  fp.push_back (i);
              float px, py;
              if (!fn.empty () || !ok.empty ())
                {
                  int32_t pos = pick (!fn.empty () ? fn : ok, gen);
                  px = (float) ((pos % R + 0.5) * scale_r);
                  py = (float) ((pos / R + 0.5) * scale_r);
                }
              else
                {
                  /* too small to show at this resolution: a pixel of the full-size object */
                  int32_t pos = pick (objects[(size_t) k].inside, gen);
                  px = (float) ((pos % P + 0.5) * scale);
                  py = (float) ((pos / P + 0.5) * scale);
                }
              int32_t neg;
              if (!fp.empty ())
                neg = pick (fp, gen);
              else
                {
                  /* nothing wrong outside: a background pixel near the object, else anywhere */
                  const ObjectPixels &of = o.inside.empty () ? objects[(size_t) k] : o;
                  const double f = o.inside.empty () ? (double) R / P : 1.0;
                  int bx0 = (int) (of.x0 * f), by0 = (int) (of.y0 * f), bx1 = (int) (of.x1 * f), by1 = (int) (of.y1 * f);
                  std::vector<int32_t> ring;
                  for (int y = std::max (0, by0 - 3); y <= std::min (R - 1, by1 + 3); y++)
                    for (int xx = std::max (0, bx0 - 3); xx <= std::min (R - 1, bx1 + 3); xx++)
                      if (lab_r[y * R + xx] != id)
                        ring.push_back (y * R + xx);
                  if (ring.empty ())
                    for (int i = 0; i < R * R; i += 7)
                      if (lab_r[i] != id)
                        ring.push_back (i);
                  neg = ring.empty () ? 0 : pick (ring, gen);
                }
              for (int j = 0; j < n_points; j++)
                {
                  npts.push_back (pts[((size_t) k * n_points + j) * 2]);
                  npts.push_back (pts[((size_t) k * n_points + j) * 2 + 1]);
                  nlabels.push_back (plabels[(size_t) k * n_points + j]);
                }
              npts.push_back (px);
              npts.push_back (py);
              nlabels.push_back (1);
              npts.push_back ((float) ((neg % R + 0.5) * scale_r));
              npts.push_back ((float) ((neg / R + 0.5) * scale_r));
              nlabels.push_back (0);
            }
          pts = std::move (npts);
          plabels = std::move (nlabels);
          n_points += 2;
          if (coin (gen) < p.mask_prompt_probability)
            mask_input = low.gather (1, best.view ({ K, 1, 1, 1 }).expand ({ K, 1, low.size (2), low.size (3) }))
                             .to (at::kFloat)
                             .detach ();
          else
            mask_input = at::Tensor ();
        }
      total = total + image_loss / n_sub;
    }
  r.loss = total / B;
  r.mean_iou = final_iou;

  if (ais && b.ais_targets)
    {
      /* torch_em's DiceBasedDistanceLoss on the decoder's maps at the label
       * size; the distance channels only count inside objects. */
      at::Tensor out;
      {
        AutocastGuard cast (autocast);
        out = ais->forward (embedding.to (at::kFloat), at::GradMode::is_enabled ()).to (at::kFloat);
      }
      if (out.size (2) != P || out.size (3) != P)
        out = at::upsample_bilinear2d (out, { P, P }, false);
      at::Tensor t = at::from_blob ((void *) b.ais_targets, { B, 3, P, P }, at::kFloat);
      at::Tensor fg = t.slice (1, 0, 1);
      auto dice = [] (const at::Tensor &pred, const at::Tensor &truth) {
        return 1.0 - 2.0 * (pred * truth).sum () / ((pred * pred).sum () + (truth * truth).sum ()).clamp_min (1e-7);
      };
      at::Tensor ais_loss = dice (out.slice (1, 0, 1), fg) + dice (out.slice (1, 1, 2) * fg, t.slice (1, 1, 2) * fg)
                            + dice (out.slice (1, 2, 3) * fg, t.slice (1, 2, 3) * fg);
      r.ais = ais_loss.item<double> ();
      r.loss = r.loss + p.ais_loss_weight * ais_loss;
    }
  (void) cfg;
  return r;
}

/* bf16: the whole forward pass on bf16 casts of the float32 weights (the
 * casts carry the gradients back to the float32 masters). Casting per
 * operation, as autocast does, costs more than the products it speeds up. */
usam_sam_trainer::Result
usam_sam_trainer::run (const usam_sam_train_batch &b, bool box_start, std::mt19937_64 &gen)
{
  if (!autocast)
    return forward (b, box_start, gen);
  StateDict low;
  for (const auto &kv : params)
    if (kv.first.rfind ("decoder_state.", 0) != 0)
      low.set (kv.first, kv.second.to (at::kBFloat16));
  SamModel &sam = *model->sam;
  sam.use_weights (&low);
  try
    {
      Result r = forward (b, box_start, gen);
      at::NoGradGuard no_grad;
      sam.use_weights (nullptr);
      return r;
    }
  catch (...)
    {
      at::NoGradGuard no_grad;
      sam.use_weights (nullptr);
      throw;
    }
}

void
usam_sam_trainer::adamw ()
{
  at::NoGradGuard no_grad;
  step++;
  const double b1 = p.beta1, b2 = p.beta2, eps = 1e-8;
  const double c1 = 1.0 - std::pow (b1, (double) step), c2 = 1.0 - std::pow (b2, (double) step);

  if (p.clip_grad_norm > 0)
    {
      double norm2 = 0;
      for (auto &kv : params)
        if (kv.second.grad ().defined ())
          norm2 += kv.second.grad ().pow (2).sum ().item<double> ();
      double norm = std::sqrt (norm2);
      if (norm > p.clip_grad_norm)
        for (auto &kv : params)
          if (kv.second.grad ().defined ())
            kv.second.mutable_grad ().mul_ (p.clip_grad_norm / (norm + 1e-6));
    }

  for (size_t i = 0; i < params.size (); i++)
    {
      at::Tensor &w = params[i].second;
      at::Tensor g = w.grad ();
      if (!g.defined ())
        continue;
      w.mul_ (1.0 - lr * p.weight_decay);
      m[i].mul_ (b1).add_ (g, 1.0 - b1);
      v[i].mul_ (b2).addcmul_ (g, g, 1.0 - b2);
      at::Tensor denom = (v[i] / c2).sqrt_ ().add_ (eps);
      w.addcdiv_ (m[i], denom, -lr / c1);
      w.mutable_grad ().reset ();
    }
}

extern "C" {

usam_sam_train_params
usam_sam_train_default_params (void)
{
  usam_sam_train_params p;
  memset (&p, 0, sizeof p);
  p.learning_rate = 1e-5f;
  p.weight_decay = 0.01f;
  p.beta1 = 0.9f;
  p.beta2 = 0.999f;
  p.n_sub_iterations = 8;
  p.mask_prompt_probability = 0.5f;
  p.train_encoder = true;
  p.ais_loss_weight = 1.0f;
  p.precision = USAM_SAM_PRECISION_AUTO;
  p.seed = 1;
  return p;
}

usam_sam_status
usam_sam_trainer_new (usam_sam_model *model, const usam_sam_train_params *params, usam_sam_trainer **out_trainer)
{
  if (out_trainer)
    *out_trainer = nullptr;
  return guarded ([&] {
    if (!model || !out_trainer)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_trainer_new: model and out_trainer are required");
    auto t = std::make_unique<usam_sam_trainer> ();
    t->model = model;
    t->p = params ? *params : usam_sam_train_default_params ();
    t->lr = t->p.learning_rate;
    t->rng.seed (t->p.seed);
    t->autocast = resolve_precision (t->p.precision) == USAM_SAM_PRECISION_BF16;
    /* Training keeps float32 master weights; autocast does the bf16 products. */
    model->sam->set_encoder_precision (EncoderPrecision::Float32);
    model->sam->make_trainable ();
    for (const auto &kv : model->sam->weights ().items ())
      {
        /* SAM registers the positional-encoding matrix as a buffer, not a parameter. */
        if (kv.first.find ("positional_encoding_gaussian_matrix") != std::string::npos)
          continue;
        if (!t->p.train_encoder && kv.first.rfind ("image_encoder.", 0) == 0)
          continue;
        at::Tensor w = kv.second;
        w.requires_grad_ (true);
        t->params.emplace_back (kv.first, w);
        t->m.push_back (at::zeros_like (w).detach ());
        t->v.push_back (at::zeros_like (w).detach ());
      }
    if (t->p.ais_loss_weight > 0 && model->ais.decoder)
      {
        /* Weights loaded in inference mode cannot take gradients: train copies,
         * shared by the model's decoder so saving writes what was learnt. */
        StateDict trainable;
        for (const auto &kv : model->decoder.items ())
          trainable.set (kv.first, kv.second.is_inference () ? kv.second.clone () : kv.second);
        model->decoder = trainable;
        model->ais.decoder = std::make_shared<AisDecoder> (trainable, model->ais.source);
        t->ais = model->ais.decoder;
        for (const auto &kv : trainable.items ())
          {
            /* BatchNorm statistics are buffers, not parameters */
            if (kv.first.find ("running_") != std::string::npos || kv.first.find ("num_batches") != std::string::npos)
              continue;
            at::Tensor w = kv.second;
            w.requires_grad_ (true);
            t->params.emplace_back ("decoder_state." + kv.first, w);
            t->m.push_back (at::zeros_like (w).detach ());
            t->v.push_back (at::zeros_like (w).detach ());
          }
      }
    *out_trainer = t.release ();
  });
}

void
usam_sam_trainer_free (usam_sam_trainer *trainer)
{
  if (!trainer)
    return;
  usam_sam_trainer_sync (trainer);
  for (auto &kv : trainer->params)
    kv.second.requires_grad_ (false);
  if (trainer->model)
    trainer->model->sam->set_encoder_precision (trainer->model->precision == USAM_SAM_PRECISION_BF16
                                                    ? EncoderPrecision::BFloat16
                                                    : EncoderPrecision::Float32);
  delete trainer;
}

static void
fill_losses (const usam_sam_trainer::Result &r, double seconds, usam_sam_train_losses *out)
{
  if (!out)
    return;
  out->loss = r.loss.item<double> ();
  out->mask_loss = r.mask;
  out->iou_loss = r.iou;
  out->ais_loss = r.ais;
  out->mean_iou = r.mean_iou;
  out->seconds = seconds;
}

usam_sam_status
usam_sam_trainer_step (usam_sam_trainer *trainer, const usam_sam_train_batch *batch, usam_sam_train_losses *losses)
{
  return guarded ([&] {
    if (!trainer)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_trainer_step: no trainer");
    check_batch (trainer->model, batch);
    auto t0 = std::chrono::steady_clock::now ();
    at::AutoGradMode grad (true);
    usam_sam_trainer::Result r;
    /* μSAM alternates single-point starts (three masks) and box starts. */
    r = trainer->run (*batch, trainer->step % 2 == 1, trainer->rng);
    r.loss.backward ();
    trainer->adamw ();
    double seconds = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
    fill_losses (r, seconds, losses);
  });
}

usam_sam_status
usam_sam_trainer_evaluate (usam_sam_trainer *trainer, const usam_sam_train_batch *batch, uint64_t seed,
                           bool box_start, usam_sam_train_losses *losses)
{
  return guarded ([&] {
    if (!trainer)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_trainer_evaluate: no trainer");
    check_batch (trainer->model, batch);
    auto t0 = std::chrono::steady_clock::now ();
    at::NoGradGuard no_grad;
    std::mt19937_64 gen (seed);
    usam_sam_trainer::Result r = trainer->run (*batch, box_start, gen);
    double seconds = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
    fill_losses (r, seconds, losses);
  });
}

void
usam_sam_trainer_set_learning_rate (usam_sam_trainer *trainer, float learning_rate)
{
  if (trainer)
    trainer->lr = learning_rate;
}

float
usam_sam_trainer_get_learning_rate (const usam_sam_trainer *trainer)
{
  return trainer ? trainer->lr : 0.0f;
}

int64_t
usam_sam_trainer_get_step (const usam_sam_trainer *trainer)
{
  return trainer ? trainer->step : 0;
}

void
usam_sam_trainer_sync (usam_sam_trainer *trainer)
{
  if (trainer && trainer->model)
    trainer->model->sam->refresh ();
}

usam_sam_status
usam_sam_trainer_save_state (const usam_sam_trainer *trainer, const char *path)
{
  return guarded ([&] {
    if (!trainer || !path)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_trainer_save_state: trainer and path are required");
    Checkpoint ckpt;
    ckpt.format = CheckpointFormat::Sam;
    for (size_t i = 0; i < trainer->params.size (); i++)
      {
        ckpt.sam.set ("m." + trainer->params[i].first, trainer->m[i]);
        ckpt.sam.set ("v." + trainer->params[i].first, trainer->v[i]);
      }
    ckpt.sam.set ("step", at::tensor ({ (int64_t) trainer->step }));
    ckpt.sam.set ("lr", at::tensor ({ trainer->lr }));
    checkpoint_save (path, ckpt);
  });
}

usam_sam_status
usam_sam_trainer_load_state (usam_sam_trainer *trainer, const char *path)
{
  return guarded ([&] {
    if (!trainer || !path)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_trainer_load_state: trainer and path are required");
    Checkpoint ckpt = checkpoint_load (path);
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < trainer->params.size (); i++)
      {
        at::Tensor m = ckpt.sam.find ("m." + trainer->params[i].first);
        at::Tensor v = ckpt.sam.find ("v." + trainer->params[i].first);
        if (!m.defined () || !v.defined () || m.sizes () != trainer->m[i].sizes () || v.sizes () != trainer->v[i].sizes ())
          fail (USAM_SAM_STATUS_SHAPE, std::string (path) + ": optimiser state does not match the model ('"
                                           + trainer->params[i].first + "')");
        trainer->m[i].copy_ (m);
        trainer->v[i].copy_ (v);
      }
    at::Tensor step = ckpt.sam.find ("step"), lr = ckpt.sam.find ("lr");
    if (!step.defined () || !lr.defined ())
      fail (USAM_SAM_STATUS_FORMAT, std::string (path) + ": not a usam optimiser state");
    trainer->step = step.item<int64_t> ();
    trainer->lr = lr.item<float> ();
  });
}

} // extern "C"
