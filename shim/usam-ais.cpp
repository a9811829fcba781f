/* usam-ais.cpp — the C interface of the AIS decoder. */
#include "usam-ais.h"

#include <cstring>

#include <c10/core/InferenceMode.h>

#include "usam-ais-decoder.hpp"
#include "usam-sam-private.hpp"

using namespace usam;

namespace {

const AisDecoder &
decoder_for (const usam_sam_model *model, const usam_sam_embedding *embedding, const float *out, const char *fn)
{
  if (!model || !embedding || !out)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, std::string (fn) + ": model, embedding and out are required");
  if (!model->ais.decoder)
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT,
          (model->ais.source.empty () ? std::string ("the model") : model->ais.source)
              + ": has no AIS decoder (decoder_state); automatic instance segmentation needs a μSAM model with one");
  const SamConfig &c = model->sam->config ();
  const usam_sam_embedding_shape &s = embedding->shape;
  if (s.channels != c.out_chans || s.height != c.embedding_size () || s.width != c.embedding_size ())
    fail (USAM_SAM_STATUS_INVALID_ARGUMENT, std::string (fn) + ": the embedding (" + std::to_string (s.channels) + "×"
                                               + std::to_string (s.height) + "×" + std::to_string (s.width)
                                               + ") does not belong to this model");
  return *model->ais.decoder;
}

/* The decoder's output at the model's input size: UNETR.postprocess_masks
 * starts by resizing to the encoder's img_size, a no-op for SAM's 16·e. */
at::Tensor
decode_at_input_size (const usam_sam_model *model, const AisDecoder &decoder, const usam_sam_embedding *embedding)
{
  const int size = model->sam->config ().img_size;
  at::Tensor raw = decoder.forward (embedding->features);
  if (raw.size (2) != size || raw.size (3) != size)
    raw = at::upsample_bilinear2d (raw, { size, size }, false);
  return raw;
}

void
copy_out (const at::Tensor &t, float *out)
{
  at::Tensor c = t.contiguous ();
  memcpy (out, c.data_ptr<float> (), c.nbytes ());
}

} // namespace

extern "C" {

bool
usam_sam_model_has_ais_decoder (const usam_sam_model *model)
{
  return model && model->ais.decoder;
}

const char *
usam_sam_model_get_ais_variant (const usam_sam_model *model)
{
  if (!model || !model->ais.decoder)
    return nullptr;
  return ais_variant_name (model->ais.decoder->config ().variant);
}

usam_sam_status
usam_sam_ais_predict (const usam_sam_model *model, const usam_sam_embedding *embedding, float *out)
{
  return guarded ([&] {
    const AisDecoder &decoder = decoder_for (model, embedding, out, "usam_sam_ais_predict");
    c10::InferenceMode guard;
    const usam_sam_embedding_shape &s = embedding->shape;
    /* Only the last step leaves the model's input size, so this is the
     * reference's postprocess_masks: bilinear, crop, bilinear. */
    at::Tensor raw = decode_at_input_size (model, decoder, embedding);
    at::Tensor maps = model->sam->postprocess_masks (raw, s.input_height, s.input_width, s.original_height,
                                                     s.original_width);
    copy_out (maps, out);
  });
}

usam_sam_status
usam_sam_ais_predict_raw (const usam_sam_model *model, const usam_sam_embedding *embedding, float *out)
{
  return guarded ([&] {
    const AisDecoder &decoder = decoder_for (model, embedding, out, "usam_sam_ais_predict_raw");
    c10::InferenceMode guard;
    copy_out (decode_at_input_size (model, decoder, embedding), out);
  });
}

usam_sam_status
usam_sam_model_add_random_ais_decoder (usam_sam_model *model, const char *variant, uint64_t seed)
{
  return guarded ([&] {
    if (!model || !variant)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_model_add_random_ais_decoder: model and variant are required");
    c10::InferenceMode guard;
    AisVariant v = ais_variant_from_name (variant);
    StateDict sd = AisDecoder::random_state_dict (model->sam->config ().out_chans, v, seed);
    auto decoder = ais_decoder_load (sd, model->sam->config ().out_chans, "random AIS decoder");
    model->decoder = std::move (sd);
    model->ais.decoder = std::move (decoder);
  });
}

usam_sam_status
usam_sam_model_add_random_ais_decoder_sized (usam_sam_model *model, const char *variant, const int *features,
                                             int n_levels, uint64_t seed)
{
  return guarded ([&] {
    if (!model || !variant || !features || n_levels < 2 || n_levels > 8)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT,
            "usam_sam_model_add_random_ais_decoder_sized: model, variant and 2–8 feature levels are required");
    c10::InferenceMode guard;
    AisConfig cfg;
    cfg.variant = ais_variant_from_name (variant);
    cfg.embed_dim = model->sam->config ().out_chans;
    cfg.features.assign (features, features + n_levels);
    StateDict sd = AisDecoder::random_state_dict (cfg, seed);
    auto decoder = ais_decoder_load (sd, cfg.embed_dim, "random AIS decoder");
    model->decoder = std::move (sd);
    model->ais.decoder = std::move (decoder);
  });
}

} // extern "C"
