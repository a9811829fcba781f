/* usam-sam-predict.cpp — the C interface: encoding, embeddings, prompts. */
#include "usam-sam-private.hpp"

#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

#include <c10/core/InferenceMode.h>

#include "usam-preprocess.hpp"

using namespace usam;

namespace {

/* Low-res masks are upscaled this many at a time so a large batch never holds
 * all its full-size logits at once. */
constexpr int64_t POSTPROCESS_CHUNK = 8;
/* Prompts decoded together. Each carries its own copy of the image tokens
 * through the transformer (B × 4096 × 256 floats per tensor): past ~16 the
 * tensors outgrow the caches and batching stops paying (bench-amg, vit_b,
 * 512², 256 prompts: 8.3–8.5 s at 4, 8 or 16, 11.7 s at 64). */
constexpr int64_t DECODE_BATCH = 16;

usam_sam_embedding *
encode_rgb (const usam_sam_model *model, const Rgb8 &resized, int orig_w, int orig_h, const usam_sam_encode_params *params)
{
  const int size = model->sam->config ().img_size;
  at::Tensor input = at::empty ({ 1, 3, size, size }, at::kFloat);
  normalize_and_pad (resized, size, input.data_ptr<float> ());

  AbortCheck abort;
  ProgressReport progress;
  if (params && params->abort)
    abort = [params] { return params->abort (params->user_data); };
  if (params && params->progress)
    progress = [params] (double f) { params->progress (f, params->user_data); };

  auto emb = std::make_unique<usam_sam_embedding> ();
  emb->features = model->sam->encode (input, abort, progress);
  emb->shape.channels = (int) emb->features.size (1);
  emb->shape.height = (int) emb->features.size (2);
  emb->shape.width = (int) emb->features.size (3);
  emb->shape.original_height = orig_h;
  emb->shape.original_width = orig_w;
  emb->shape.input_height = resized.height;
  emb->shape.input_width = resized.width;
  return emb.release ();
}

void
check_model_and_embedding (const usam_sam_model *model, const usam_sam_embedding *embedding)
{
  if (!model || !embedding)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "a model and an embedding are required");
  const SamConfig &c = model->sam->config ();
  if (embedding->shape.channels != c.out_chans || embedding->shape.height != c.embedding_size ()
      || embedding->shape.width != c.embedding_size ())
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "the embedding (" + std::to_string (embedding->shape.channels) + "×"
                                           + std::to_string (embedding->shape.height) + "×"
                                           + std::to_string (embedding->shape.width)
                                           + ") does not belong to this model");
}

/* Prompts that can share one decoder batch. */
using PromptKind = std::tuple<int, bool, bool>;

PromptKind
kind_of (const usam_sam_prompt &p)
{
  return { p.n_points, p.box != nullptr, p.mask_input != nullptr };
}

void
check_prompt (const usam_sam_prompt &p, int index, int mask_size)
{
  const std::string where = "prompt " + std::to_string (index) + ": ";
  if (p.n_points < 0 || p.n_points > 1024)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, where + "bad number of points");
  if (p.n_points > 0 && (!p.points || !p.labels))
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, where + "points need coordinates and labels");
  for (int i = 0; i < p.n_points; i++)
    {
      if (p.labels[i] != 0 && p.labels[i] != 1)
        fail (USAM_SAM_STATUS_INVALID_ARGUMENT, where + "point labels must be 1 (positive) or 0 (negative)");
      if (!std::isfinite (p.points[2 * i]) || !std::isfinite (p.points[2 * i + 1]))
        fail (USAM_SAM_STATUS_INVALID_ARGUMENT, where + "point coordinates must be finite");
    }
  if (p.box)
    for (int i = 0; i < 4; i++)
      if (!std::isfinite (p.box[i]))
        fail (USAM_SAM_STATUS_INVALID_ARGUMENT, where + "box coordinates must be finite");
  if (p.mask_input)
    for (int i = 0; i < mask_size * mask_size; i++)
      if (!std::isfinite (p.mask_input[i]))
        fail (USAM_SAM_STATUS_INVALID_ARGUMENT, where + "mask input holds NaN or infinite values");
}

std::shared_ptr<const SamModel::DecoderCache>
decoder_cache (const usam_sam_model *model, const usam_sam_embedding *embedding)
{
  std::lock_guard<std::mutex> lock (model->cache_mutex);
  if (!model->cache || model->cache_embedding != embedding->id)
    {
      model->cache = std::make_shared<const SamModel::DecoderCache> (model->sam->decoder_cache (embedding->features));
      model->cache_embedding = embedding->id;
    }
  return model->cache;
}

} // namespace

extern "C" {

usam_sam_encode_params
usam_sam_encode_default_params (void)
{
  usam_sam_encode_params p;
  memset (&p, 0, sizeof p);
  p.normalize = USAM_SAM_NORMALIZE_MINMAX;
  return p;
}

usam_sam_status
usam_sam_image_to_rgb8 (const usam_sam_image_view *image, usam_sam_normalize normalize, uint8_t *out)
{
  return guarded ([&] {
    if (!out)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_image_to_rgb8: no output buffer");
    Rgb8 rgb = image_to_rgb8 (image, normalize);
    memcpy (out, rgb.pixels.data (), rgb.pixels.size ());
  });
}

usam_sam_status
usam_sam_resize_longest_side (const uint8_t *rgb, int width, int height, int target, uint8_t *out, int *out_width,
                          int *out_height)
{
  return guarded ([&] {
    if (width <= 0 || height <= 0 || target <= 0 || !out_width || !out_height)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_resize_longest_side: bad arguments");
    int h, w;
    resize_longest_shape (height, width, target, &h, &w);
    *out_width = w;
    *out_height = h;
    if (!out)
      return;
    if (!rgb)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_resize_longest_side: no input");
    Rgb8 in;
    in.width = width;
    in.height = height;
    in.pixels.assign (rgb, rgb + (size_t) width * height * 3);
    Rgb8 r = resize_bilinear_pil (in, w, h);
    memcpy (out, r.pixels.data (), r.pixels.size ());
  });
}

usam_sam_status
usam_sam_encode (const usam_sam_model *model, const usam_sam_image_view *image, const usam_sam_encode_params *params,
             usam_sam_embedding **out_embedding)
{
  if (out_embedding)
    *out_embedding = nullptr;
  return guarded ([&] {
    if (!model || !image || !out_embedding)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_encode: model, image and out_embedding are required");
    c10::InferenceMode guard;
    usam_sam_encode_params defaults = usam_sam_encode_default_params ();
    const usam_sam_encode_params *p = params ? params : &defaults;
    Rgb8 rgb = image_to_rgb8 (image, p->normalize);
    int h, w;
    resize_longest_shape (rgb.height, rgb.width, model->sam->config ().img_size, &h, &w);
    Rgb8 resized = resize_bilinear_pil (rgb, w, h);
    *out_embedding = encode_rgb (model, resized, rgb.width, rgb.height, p);
  });
}

usam_sam_status
usam_sam_encode_resized (const usam_sam_model *model, const uint8_t *rgb, int width, int height, int original_width,
                     int original_height, const usam_sam_encode_params *params, usam_sam_embedding **out_embedding)
{
  if (out_embedding)
    *out_embedding = nullptr;
  return guarded ([&] {
    if (!model || !rgb || !out_embedding)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_encode_resized: model, image and out_embedding are required");
    const int size = model->sam->config ().img_size;
    int h, w;
    if (original_width <= 0 || original_height <= 0)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_encode_resized: bad original size");
    resize_longest_shape (original_height, original_width, size, &h, &w);
    if (w != width || h != height)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_encode_resized: a " + std::to_string (original_width) + "×"
                                             + std::to_string (original_height) + " image resizes to "
                                             + std::to_string (w) + "×" + std::to_string (h) + ", not "
                                             + std::to_string (width) + "×" + std::to_string (height));
    c10::InferenceMode guard;
    Rgb8 in;
    in.width = width;
    in.height = height;
    in.pixels.assign (rgb, rgb + (size_t) width * height * 3);
    *out_embedding = encode_rgb (model, in, original_width, original_height, params);
  });
}

void
usam_sam_embedding_free (usam_sam_embedding *embedding)
{
  delete embedding;
}

void
usam_sam_embedding_get_shape (const usam_sam_embedding *embedding, usam_sam_embedding_shape *shape)
{
  if (embedding && shape)
    *shape = embedding->shape;
}

const float *
usam_sam_embedding_get_features (const usam_sam_embedding *embedding)
{
  return embedding ? embedding->features.data_ptr<float> () : nullptr;
}

usam_sam_status
usam_sam_embedding_new (const usam_sam_model *model, const float *features, const usam_sam_embedding_shape *shape,
                    usam_sam_embedding **out_embedding)
{
  if (out_embedding)
    *out_embedding = nullptr;
  return guarded ([&] {
    if (!model || !features || !shape || !out_embedding)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_embedding_new: all arguments are required");
    const SamConfig &c = model->sam->config ();
    if (shape->channels != c.out_chans || shape->height != c.embedding_size () || shape->width != c.embedding_size ())
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT,
            "embedding of shape (" + std::to_string (shape->channels) + ", " + std::to_string (shape->height) + ", "
                + std::to_string (shape->width) + ") does not fit this model, which needs ("
                + std::to_string (c.out_chans) + ", " + std::to_string (c.embedding_size ()) + ", "
                + std::to_string (c.embedding_size ()) + ")");
    if (shape->original_width <= 0 || shape->original_height <= 0)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "embedding has no original image size");
    int h, w;
    resize_longest_shape (shape->original_height, shape->original_width, c.img_size, &h, &w);
    if (shape->input_height != h || shape->input_width != w)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "embedding input size " + std::to_string (shape->input_width) + "×"
                                             + std::to_string (shape->input_height) + " does not match its original size");
    c10::InferenceMode guard;
    auto emb = std::make_unique<usam_sam_embedding> ();
    emb->features = at::empty ({ 1, shape->channels, shape->height, shape->width }, at::kFloat);
    memcpy (emb->features.data_ptr<float> (), features, emb->features.nbytes ());
    emb->shape = *shape;
    *out_embedding = emb.release ();
  });
}

static const char EMBEDDING_MAGIC[8] = { 'U', 'S', 'A', 'M', 'E', 'M', 'B', '1' };
static const size_t EMBEDDING_HEADER = sizeof EMBEDDING_MAGIC + 7 * sizeof (int32_t);

usam_sam_status
usam_sam_embedding_serialize (const usam_sam_embedding *embedding, void **out_data, size_t *out_size)
{
  return guarded ([&] {
    if (!embedding || !out_data || !out_size)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_embedding_serialize: all arguments are required");
    const usam_sam_embedding_shape &s = embedding->shape;
    const int32_t dims[7] = { s.channels, s.height, s.width, s.original_height, s.original_width, s.input_height, s.input_width };
    size_t n = EMBEDDING_HEADER + embedding->features.nbytes ();
    auto *buf = static_cast<uint8_t *> (malloc (n));
    if (!buf)
      throw std::bad_alloc ();
    memcpy (buf, EMBEDDING_MAGIC, sizeof EMBEDDING_MAGIC);
    memcpy (buf + sizeof EMBEDDING_MAGIC, dims, sizeof dims);
    memcpy (buf + EMBEDDING_HEADER, embedding->features.data_ptr<float> (), embedding->features.nbytes ());
    *out_data = buf;
    *out_size = n;
  });
}

usam_sam_status
usam_sam_embedding_deserialize (const usam_sam_model *model, const void *data, size_t size, usam_sam_embedding **out_embedding)
{
  if (out_embedding)
    *out_embedding = nullptr;
  if (!data || size < EMBEDDING_HEADER || memcmp (data, EMBEDDING_MAGIC, sizeof EMBEDDING_MAGIC) != 0)
    {
      set_last_error ("not a serialised usam embedding");
      return USAM_SAM_STATUS_FORMAT;
    }
  int32_t d[7];
  memcpy (d, static_cast<const uint8_t *> (data) + sizeof EMBEDDING_MAGIC, sizeof d);
  if (d[0] <= 0 || d[1] <= 0 || d[2] <= 0 || d[0] > 4096 || d[1] > 4096 || d[2] > 4096
      || size != EMBEDDING_HEADER + (size_t) d[0] * d[1] * d[2] * sizeof (float))
    {
      set_last_error ("serialised embedding is truncated or damaged");
      return USAM_SAM_STATUS_FORMAT;
    }
  usam_sam_embedding_shape s = { d[0], d[1], d[2], d[3], d[4], d[5], d[6] };
  return usam_sam_embedding_new (model, reinterpret_cast<const float *> (static_cast<const uint8_t *> (data) + EMBEDDING_HEADER),
                             &s, out_embedding);
}

usam_sam_predict_params
usam_sam_predict_default_params (void)
{
  usam_sam_predict_params p;
  memset (&p, 0, sizeof p);
  p.multimask = true;
  p.outputs = USAM_SAM_OUTPUT_MASKS | USAM_SAM_OUTPUT_LOW_RES;
  p.mask_threshold = 0.0f;
  return p;
}

usam_sam_status
usam_sam_predict (const usam_sam_model *model, const usam_sam_embedding *embedding, const usam_sam_prompt *prompt,
              const usam_sam_predict_params *params, usam_sam_prediction **out_prediction)
{
  return usam_sam_predict_batch (model, embedding, prompt, 1, params, out_prediction);
}

usam_sam_status
usam_sam_predict_batch (const usam_sam_model *model, const usam_sam_embedding *embedding, const usam_sam_prompt *prompts,
                    int n_prompts, const usam_sam_predict_params *params, usam_sam_prediction **out_prediction)
{
  if (out_prediction)
    *out_prediction = nullptr;
  return guarded ([&] {
    check_model_and_embedding (model, embedding);
    if (!prompts || n_prompts <= 0 || !out_prediction)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_predict: at least one prompt and out_prediction are required");
    usam_sam_predict_params defaults = usam_sam_predict_default_params ();
    const usam_sam_predict_params &p = params ? *params : defaults;
    const SamModel &sam = *model->sam;
    const int mask_size = 4 * sam.config ().embedding_size ();
    for (int i = 0; i < n_prompts; i++)
      check_prompt (prompts[i], i, mask_size);

    c10::InferenceMode guard;
    const usam_sam_embedding_shape &s = embedding->shape;
    /* ResizeLongestSide.apply_coords: in float64, then float32 as torch.as_tensor does. */
    const double sx = (double) s.input_width / s.original_width;
    const double sy = (double) s.input_height / s.original_height;

    auto pred = std::make_unique<usam_sam_prediction> ();
    pred->n_prompts = n_prompts;
    pred->n_masks = p.multimask ? sam.config ().num_mask_tokens - 1 : 1;
    pred->height = s.original_height;
    pred->width = s.original_width;
    pred->low_res = mask_size;
    const size_t M = (size_t) pred->n_masks, HW = (size_t) s.original_height * s.original_width;
    const size_t LR = (size_t) mask_size * mask_size;
    pred->iou.resize (n_prompts * M);
    if (p.outputs & USAM_SAM_OUTPUT_MASKS)
      pred->masks.resize (n_prompts * M * HW);
    if (p.outputs & USAM_SAM_OUTPUT_LOGITS)
      pred->logits.resize (n_prompts * M * HW);
    if (p.outputs & USAM_SAM_OUTPUT_LOW_RES)
      pred->low_res_logits.resize (n_prompts * M * LR);

    std::map<PromptKind, std::vector<int>> groups;
    for (int i = 0; i < n_prompts; i++)
      groups[kind_of (prompts[i])].push_back (i);

    int done = 0;
    for (const auto &group : groups)
      {
        const std::vector<int> &members = group.second;
        const auto [n_points, has_box, has_mask] = group.first;
        for (size_t start = 0; start < members.size (); start += DECODE_BATCH)
          {
            if (p.abort && p.abort (p.user_data))
              fail (USAM_SAM_STATUS_ABORTED, "prediction was cancelled");
            const int64_t B = (int64_t) std::min<size_t> (DECODE_BATCH, members.size () - start);
            at::Tensor points, labels, boxes, masks;
            if (n_points > 0)
              {
                points = at::empty ({ B, n_points, 2 }, at::kFloat);
                labels = at::empty ({ B, n_points }, at::kInt);
                float *pp = points.data_ptr<float> ();
                int32_t *lp = labels.data_ptr<int32_t> ();
                for (int64_t b = 0; b < B; b++)
                  {
                    const usam_sam_prompt &pr = prompts[members[start + b]];
                    for (int k = 0; k < n_points; k++)
                      {
                        pp[(b * n_points + k) * 2] = (float) ((double) pr.points[2 * k] * sx);
                        pp[(b * n_points + k) * 2 + 1] = (float) ((double) pr.points[2 * k + 1] * sy);
                        lp[b * n_points + k] = pr.labels[k];
                      }
                  }
              }
            if (has_box)
              {
                boxes = at::empty ({ B, 4 }, at::kFloat);
                float *bp = boxes.data_ptr<float> ();
                for (int64_t b = 0; b < B; b++)
                  {
                    const float *box = prompts[members[start + b]].box;
                    bp[b * 4 + 0] = (float) ((double) box[0] * sx);
                    bp[b * 4 + 1] = (float) ((double) box[1] * sy);
                    bp[b * 4 + 2] = (float) ((double) box[2] * sx);
                    bp[b * 4 + 3] = (float) ((double) box[3] * sy);
                  }
              }
            if (has_mask)
              {
                masks = at::empty ({ B, 1, mask_size, mask_size }, at::kFloat);
                for (int64_t b = 0; b < B; b++)
                  memcpy (masks.data_ptr<float> () + b * LR, prompts[members[start + b]].mask_input, LR * sizeof (float));
              }

            auto [sparse, dense] = sam.encode_prompts (points, labels, boxes, masks);
            std::shared_ptr<const SamModel::DecoderCache> cache;
            if (!has_mask)
              cache = decoder_cache (model, embedding);
            auto [low_res, iou] = sam.decode_masks (embedding->features, sparse, dense, p.multimask, cache.get ());
            low_res = low_res.contiguous ();
            iou = iou.contiguous ();

            for (int64_t b = 0; b < B; b++)
              {
                const size_t dst = (size_t) members[start + b];
                memcpy (&pred->iou[dst * M], iou.data_ptr<float> () + b * M, M * sizeof (float));
                if (p.outputs & USAM_SAM_OUTPUT_LOW_RES)
                  memcpy (&pred->low_res_logits[dst * M * LR], low_res.data_ptr<float> () + b * M * LR,
                          M * LR * sizeof (float));
              }
            if (p.outputs & (USAM_SAM_OUTPUT_MASKS | USAM_SAM_OUTPUT_LOGITS))
              for (int64_t c0 = 0; c0 < B; c0 += POSTPROCESS_CHUNK)
                {
                  int64_t c1 = std::min (B, c0 + POSTPROCESS_CHUNK);
                  at::Tensor full = sam.postprocess_masks (low_res.slice (0, c0, c1), s.input_height, s.input_width,
                                                           s.original_height, s.original_width)
                                        .contiguous ();
                  const float *fp = full.data_ptr<float> ();
                  for (int64_t b = c0; b < c1; b++)
                    {
                      const size_t dst = (size_t) members[start + b] * M * HW;
                      const float *src = fp + (size_t) (b - c0) * M * HW;
                      if (p.outputs & USAM_SAM_OUTPUT_LOGITS)
                        memcpy (&pred->logits[dst], src, M * HW * sizeof (float));
                      if (p.outputs & USAM_SAM_OUTPUT_MASKS)
                        {
                          uint8_t *mp = &pred->masks[dst];
                          for (size_t k = 0; k < M * HW; k++)
                            mp[k] = src[k] > p.mask_threshold;
                        }
                    }
                }
            done += (int) B;
            if (p.progress)
              p.progress ((double) done / n_prompts, p.user_data);
          }
      }
    *out_prediction = pred.release ();
  });
}

void
usam_sam_prediction_free (usam_sam_prediction *prediction)
{
  delete prediction;
}

int
usam_sam_prediction_get_n_prompts (const usam_sam_prediction *prediction)
{
  return prediction ? prediction->n_prompts : 0;
}

int
usam_sam_prediction_get_n_masks (const usam_sam_prediction *prediction)
{
  return prediction ? prediction->n_masks : 0;
}

void
usam_sam_prediction_get_size (const usam_sam_prediction *prediction, int *height, int *width)
{
  if (height)
    *height = prediction ? prediction->height : 0;
  if (width)
    *width = prediction ? prediction->width : 0;
}

int
usam_sam_prediction_get_low_res_size (const usam_sam_prediction *prediction)
{
  return prediction ? prediction->low_res : 0;
}

static bool
valid_prompt (const usam_sam_prediction *p, int prompt)
{
  return p && prompt >= 0 && prompt < p->n_prompts;
}

const uint8_t *
usam_sam_prediction_get_masks (const usam_sam_prediction *p, int prompt)
{
  if (!valid_prompt (p, prompt) || p->masks.empty ())
    return nullptr;
  return &p->masks[(size_t) prompt * p->n_masks * p->height * p->width];
}

const float *
usam_sam_prediction_get_logits (const usam_sam_prediction *p, int prompt)
{
  if (!valid_prompt (p, prompt) || p->logits.empty ())
    return nullptr;
  return &p->logits[(size_t) prompt * p->n_masks * p->height * p->width];
}

const float *
usam_sam_prediction_get_low_res_logits (const usam_sam_prediction *p, int prompt)
{
  if (!valid_prompt (p, prompt) || p->low_res_logits.empty ())
    return nullptr;
  return &p->low_res_logits[(size_t) prompt * p->n_masks * p->low_res * p->low_res];
}

const float *
usam_sam_prediction_get_iou (const usam_sam_prediction *p, int prompt)
{
  if (!valid_prompt (p, prompt))
    return nullptr;
  return &p->iou[(size_t) prompt * p->n_masks];
}

} // extern "C"
