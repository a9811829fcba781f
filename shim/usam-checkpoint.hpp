/* usam-checkpoint.hpp — reading and writing torch.save() checkpoints.
 *
 * Two layouts are recognised:
 *  - the official SAM checkpoints: torch.save(state_dict), keys
 *    `image_encoder.…`, `prompt_encoder.…`, `mask_decoder.…`;
 *  - μSAM's: a dict with `model_state` (keys prefixed `sam.`), optionally
 *    `decoder_state` (the AIS decoder) and `model_type`; other entries such
 *    as optimiser state are ignored.
 * Floating-point tensors are converted to float32 on load.
 */
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace usam {

class StateDict
{
public:
  void set (const std::string &name, at::Tensor tensor);
  /* nullptr-like undefined tensor when absent */
  at::Tensor find (const std::string &name) const;
  bool contains (const std::string &name) const { return index_of (name) >= 0; }
  bool empty () const { return items_.empty (); }
  size_t size () const { return items_.size (); }
  const std::vector<std::pair<std::string, at::Tensor>> &items () const { return items_; }

private:
  long index_of (const std::string &name) const;
  std::vector<std::pair<std::string, at::Tensor>> items_;
  std::unordered_map<std::string, size_t> index_; /* inference looks weights up by name per op */
};

enum class CheckpointFormat { Sam, MicroSam, Decoder };

struct Checkpoint
{
  CheckpointFormat format = CheckpointFormat::Sam;
  std::string model_type;   /* μSAM's `model_type` when present */
  StateDict sam;            /* without the `sam.` prefix */
  StateDict decoder;        /* empty when the checkpoint has no AIS decoder */
};

/* @shapes_only: tensors on the meta device (sizes, no data), to describe a
 * file without reading its weights. */
Checkpoint checkpoint_load (const std::string &path, bool shapes_only = false);

/* μSAM's AIS decoder on its own, as μSAM publishes it beside a model
 * (`vit_b_lm_decoder`: torch.save(decoder_state)); a μSAM checkpoint's
 * decoder_state is accepted too. */
StateDict checkpoint_load_decoder (const std::string &path, bool shapes_only = false);

/* Writes @ckpt as torch.save() would: the SAM layout is a bare OrderedDict,
 * the μSAM layout a dict with `model_type`, `model_state` and, when present,
 * `decoder_state`; the Decoder layout the bare decoder_state. The file is
 * written atomically. */
void checkpoint_save (const std::string &path, const Checkpoint &ckpt);

} // namespace usam
