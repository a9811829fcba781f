/* usam-sam-private.hpp — what the C handles of usam-sam.h hold. */
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "usam-ais-decoder.hpp"
#include "usam-checkpoint.hpp"
#include "usam-error.hpp"
#include "usam-sam-model.hpp"
#include "usam-sam.h"

struct usam_sam_model
{
  std::shared_ptr<usam::SamModel> sam;
  usam::StateDict decoder;  /* μSAM's AIS decoder weights; empty when absent */
  usam::AisState ais;       /* the decoder built from them */
  usam::CheckpointFormat format = usam::CheckpointFormat::Sam;
  std::string usam_type;
  bool decoder_separate = false; /* the decoder came from params.decoder_path */
  usam_sam_precision precision = USAM_SAM_PRECISION_FP32;

  /* The decoder's image-only work for the embedding last prompted: an
   * interactive session and a grid of automatic prompts hit it every time. */
  mutable std::mutex cache_mutex;
  mutable uint64_t cache_embedding = 0;
  mutable std::shared_ptr<const usam::SamModel::DecoderCache> cache;
};

struct usam_sam_embedding
{
  at::Tensor features; /* (1, C, e, e) float32, contiguous */
  usam_sam_embedding_shape shape {};
  uint64_t id = next_id (); /* addresses are reused; ids are not */

  static uint64_t next_id ()
  {
    static std::atomic<uint64_t> counter { 0 };
    return ++counter;
  }
};

struct usam_sam_prediction
{
  int n_prompts = 0;
  int n_masks = 0;
  int height = 0;
  int width = 0;
  int low_res = 0;
  std::vector<uint8_t> masks;
  std::vector<float> logits;
  std::vector<float> low_res_logits;
  std::vector<float> iou;
};

namespace usam {

/* One-time runtime set-up: the thread count. */
void ensure_runtime ();
void set_last_error (const std::string &message);

/* Runs @body, turning any exception into a status and usam_sam_last_error():
 * nothing thrown inside the shim crosses the C interface. */
template <typename F>
usam_sam_status
guarded (F &&body) noexcept
{
  try
    {
      ensure_runtime ();
      body ();
      return USAM_SAM_STATUS_OK;
    }
  catch (const Error &e)
    {
      set_last_error (e.what ());
      return e.status ();
    }
  catch (const std::bad_alloc &)
    {
      set_last_error ("out of memory");
      return USAM_SAM_STATUS_NO_MEMORY;
    }
  catch (const c10::Error &e)
    {
      set_last_error (std::string ("libtorch: ") + e.what_without_backtrace ());
      return USAM_SAM_STATUS_INTERNAL;
    }
  catch (const std::exception &e)
    {
      set_last_error (e.what ());
      return USAM_SAM_STATUS_INTERNAL;
    }
  catch (...)
    {
      set_last_error ("unknown error");
      return USAM_SAM_STATUS_INTERNAL;
    }
}

/* The resolved precision for a request (AUTO → BF16 on capable CPUs). */
usam_sam_precision resolve_precision (usam_sam_precision requested);


} // namespace usam
