/* usam-sam.cpp — the C interface: runtime, errors and models. */
#include "usam-sam-private.hpp"

#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <cpuid.h>
#include <dlfcn.h>

namespace usam {

namespace {

thread_local std::string last_error;
std::once_flag runtime_once;

void
set_blas_threads (int n)
{
  /* OpenBLAS keeps its own pool; keep it in step with libtorch's. */
  using SetThreads = void (*) (int);
  if (auto f = reinterpret_cast<SetThreads> (dlsym (RTLD_DEFAULT, "openblas_set_num_threads")))
    f (n);
}

int
default_threads ()
{
  if (const char *env = getenv ("USAM_NUM_THREADS"))
    if (int n = atoi (env); n > 0)
      return n;
  unsigned n = std::thread::hardware_concurrency ();
  return n > 0 ? (int) n : 1;
}

} // namespace

void
set_last_error (const std::string &message)
{
  /* One line: messages from libtorch can carry several. */
  std::string line = message.substr (0, message.find ('\n'));
  last_error = line;
}

void
ensure_runtime ()
{
  std::call_once (runtime_once, [] {
    int n = default_threads ();
    at::set_num_threads (n);
    set_blas_threads (n);
  });
}

usam_sam_precision
resolve_precision (usam_sam_precision requested)
{
  if (requested == USAM_SAM_PRECISION_AUTO)
    {
      if (const char *env = getenv ("USAM_PRECISION"))
        {
          if (strcmp (env, "fp32") == 0)
            return USAM_SAM_PRECISION_FP32;
          if (strcmp (env, "bf16") == 0)
            return USAM_SAM_PRECISION_BF16;
        }
      return usam_sam_cpu_has_bf16 () ? USAM_SAM_PRECISION_BF16 : USAM_SAM_PRECISION_FP32;
    }
  return requested;
}

} // namespace usam

using namespace usam;

extern "C" {

const char *
usam_sam_status_to_string (usam_sam_status status)
{
  switch (status)
    {
    case USAM_SAM_STATUS_OK: return "success";
    case USAM_SAM_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case USAM_SAM_STATUS_IO: return "input/output error";
    case USAM_SAM_STATUS_FORMAT: return "malformed file";
    case USAM_SAM_STATUS_UNSUPPORTED: return "unsupported";
    case USAM_SAM_STATUS_SHAPE: return "wrong weights";
    case USAM_SAM_STATUS_ABORTED: return "cancelled";
    case USAM_SAM_STATUS_NO_MEMORY: return "out of memory";
    case USAM_SAM_STATUS_INTERNAL: return "internal error";
    }
  return "unknown status";
}

const char *
usam_sam_last_error (void)
{
  return last_error.c_str ();
}

void
usam_sam_free (void *data)
{
  free (data);
}

void
usam_sam_set_num_threads (int n)
{
  ensure_runtime ();
  if (n <= 0)
    n = default_threads ();
  at::set_num_threads (n);
  set_blas_threads (n);
}

int
usam_sam_get_num_threads (void)
{
  ensure_runtime ();
  return at::get_num_threads ();
}

const char *
usam_sam_precision_to_string (usam_sam_precision precision)
{
  switch (precision)
    {
    case USAM_SAM_PRECISION_AUTO: return "auto";
    case USAM_SAM_PRECISION_FP32: return "fp32";
    case USAM_SAM_PRECISION_BF16: return "bf16";
    }
  return "unknown";
}

bool
usam_sam_cpu_has_bf16 (void)
{
  unsigned a, b, c, d;
  if (!__get_cpuid_count (7, 0, &a, &b, &c, &d))
    return false;
  const bool amx_bf16 = d & (1u << 22);
  const bool avx512f = b & (1u << 16);
  if (!__get_cpuid_count (7, 1, &a, &b, &c, &d))
    return false;
  const bool avx512_bf16 = a & (1u << 5);
  if (!(avx512f && (avx512_bf16 || amx_bf16)))
    return false;
  /* The OS must save the AVX-512 state (XCR0 bits 5–7). */
  unsigned lo, hi;
  __asm__ ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xe6) == 0xe6;
}

usam_sam_model_params
usam_sam_model_default_params (void)
{
  usam_sam_model_params p;
  p.precision = USAM_SAM_PRECISION_AUTO;
  p.decoder_path = nullptr;
  return p;
}

static usam_sam_model *
make_model (SamConfig cfg, StateDict weights, const usam_sam_model_params *params)
{
  auto model = std::make_unique<usam_sam_model> ();
  model->sam = std::make_shared<SamModel> (std::move (cfg), std::move (weights));
  model->precision = resolve_precision (params ? params->precision : USAM_SAM_PRECISION_AUTO);
  model->sam->set_encoder_precision (model->precision == USAM_SAM_PRECISION_BF16 ? EncoderPrecision::BFloat16
                                                                             : EncoderPrecision::Float32);
  return model.release ();
}

usam_sam_status
usam_sam_model_load (const char *path, const usam_sam_model_params *params, usam_sam_model **out_model)
{
  if (out_model)
    *out_model = nullptr;
  return guarded ([&] {
    if (!path || !out_model)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_model_load: path and out_model are required");
    c10::InferenceMode guard;
    Checkpoint ckpt = checkpoint_load (path);
    SamConfig cfg = sam_config_from_state_dict (ckpt.sam, path);
    const bool separate = ckpt.decoder.empty () && params && params->decoder_path;
    if (separate)
      ckpt.decoder = checkpoint_load_decoder (params->decoder_path);
    /* before make_model: nothing to free on failure */
    AisState ais = ais_state_load (ckpt.decoder, cfg.out_chans, separate ? params->decoder_path : path);
    usam_sam_model *model = make_model (std::move (cfg), std::move (ckpt.sam), params);
    model->ais = std::move (ais);
    model->decoder = std::move (ckpt.decoder);
    model->format = ckpt.format;
    model->usam_type = ckpt.model_type;
    model->decoder_separate = separate;
    *out_model = model;
  });
}

void
usam_sam_model_free (usam_sam_model *model)
{
  delete model;
}

static void
copy_str (char *dest, size_t n, const std::string &src)
{
  snprintf (dest, n, "%s", src.c_str ());
}

static void
fill_info (const SamConfig &c, CheckpointFormat format, const std::string &usam_type, int64_t n_parameters,
           bool has_decoder, bool decoder_separate, usam_sam_precision precision, usam_sam_model_info *info)
{
  memset (info, 0, sizeof *info);
  copy_str (info->type, sizeof info->type, c.type_name ());
  copy_str (info->format, sizeof info->format, format == CheckpointFormat::Sam ? "sam" : "usam");
  copy_str (info->usam_type, sizeof info->usam_type, usam_type);
  info->img_size = c.img_size;
  info->patch_size = c.patch_size;
  info->embed_dim = c.embed_dim;
  info->depth = c.depth;
  info->num_heads = c.num_heads;
  info->window_size = c.window_size;
  for (int g : c.global_attn_indexes)
    if (info->n_global < (int) (sizeof info->global_attn_indexes / sizeof (int)))
      info->global_attn_indexes[info->n_global++] = g;
  info->embedding_channels = c.out_chans;
  info->embedding_size = c.embedding_size ();
  info->n_parameters = n_parameters;
  info->has_decoder = has_decoder;
  info->decoder_separate = decoder_separate;
  info->precision = precision;
}

void
usam_sam_model_get_info (const usam_sam_model *model, usam_sam_model_info *info)
{
  memset (info, 0, sizeof *info);
  if (!model)
    return;
  fill_info (model->sam->config (), model->format, model->usam_type, model->sam->n_parameters (),
             model->ais.decoder != nullptr, model->decoder_separate, model->precision, info);
}

usam_sam_status
usam_sam_checkpoint_inspect (const char *path, const char *decoder_path, usam_sam_model_info *info)
{
  if (info)
    memset (info, 0, sizeof *info);
  return guarded ([&] {
    if (!path || !info)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_checkpoint_inspect: path and info are required");
    Checkpoint ckpt = checkpoint_load (path, true);
    SamConfig cfg = sam_config_from_state_dict (ckpt.sam, path);
    bool separate = ckpt.decoder.empty () && decoder_path;
    if (separate)
      ckpt.decoder = checkpoint_load_decoder (decoder_path, true);
    int64_t n = 0;
    for (const auto &kv : ckpt.sam.items ())
      n += kv.second.numel ();
    fill_info (cfg, ckpt.format, ckpt.model_type, n, !ckpt.decoder.empty (), separate, USAM_SAM_PRECISION_FP32,
               info);
  });
}

usam_sam_status
usam_sam_model_new_random (const char *preset, uint64_t seed, const usam_sam_model_params *params, usam_sam_model **out_model)
{
  if (out_model)
    *out_model = nullptr;
  return guarded ([&] {
    if (!preset || !out_model)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_model_new_random: preset and out_model are required");
    c10::InferenceMode guard;
    SamConfig cfg = sam_config_preset (preset);
    StateDict sd = sam_random_state_dict (cfg, seed);
    *out_model = make_model (std::move (cfg), std::move (sd), params);
  });
}

int
usam_sam_model_get_n_weights (const usam_sam_model *model)
{
  return model ? (int) model->sam->weights ().size () : 0;
}

usam_sam_status
usam_sam_model_get_weight (const usam_sam_model *model, int index, const char **name, int *ndim, const int64_t **sizes,
                           const float **data)
{
  return guarded ([&] {
    if (!model || index < 0 || index >= usam_sam_model_get_n_weights (model))
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_model_get_weight: no weight " + std::to_string (index));
    const auto &item = model->sam->weights ().items ()[(size_t) index];
    if (name)
      *name = item.first.c_str ();
    if (ndim)
      *ndim = (int) item.second.dim ();
    if (sizes)
      *sizes = item.second.sizes ().data ();
    if (data)
      *data = item.second.data_ptr<float> ();
  });
}

static SamConfig
config_from_c (const usam_sam_model_config *c)
{
  SamConfig cfg;
  cfg.img_size = c->img_size;
  cfg.patch_size = c->patch_size;
  cfg.embed_dim = c->embed_dim;
  cfg.depth = c->depth;
  cfg.num_heads = c->num_heads;
  cfg.mlp_dim = c->mlp_dim > 0 ? c->mlp_dim : 4 * c->embed_dim;
  cfg.window_size = c->window_size;
  cfg.global_attn_indexes.assign (c->global_attn_indexes, c->global_attn_indexes + std::max (0, std::min (c->n_global, 16)));
  cfg.out_chans = c->prompt_dim;
  cfg.prompt_dim = c->prompt_dim;
  cfg.transformer_depth = c->decoder_depth;
  cfg.transformer_mlp_dim = c->decoder_mlp_dim;
  cfg.mask_in_chans = c->mask_in_chans;
  cfg.iou_head_hidden = c->iou_head_hidden;
  auto bad = [] (const std::string &what) { fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "model configuration: " + what); };
  if (cfg.patch_size <= 0 || cfg.img_size <= 0 || cfg.img_size % cfg.patch_size != 0)
    bad ("img_size must be a positive multiple of patch_size");
  if (cfg.embed_dim <= 0 || cfg.num_heads <= 0 || cfg.embed_dim % cfg.num_heads != 0)
    bad ("embed_dim must be a positive multiple of num_heads");
  if (cfg.depth <= 0 || cfg.depth > 64 || cfg.window_size <= 0)
    bad ("depth must be 1–64 and window_size positive");
  for (int g : cfg.global_attn_indexes)
    if (g < 0 || g >= cfg.depth)
      bad ("a global attention index is outside the encoder");
  if (cfg.prompt_dim <= 0 || cfg.prompt_dim % 16 != 0)
    bad ("prompt_dim must be a positive multiple of 16");
  if (cfg.transformer_depth <= 0 || cfg.transformer_mlp_dim <= 0 || cfg.mask_in_chans <= 0 || cfg.mask_in_chans % 4 != 0
      || cfg.iou_head_hidden <= 0)
    bad ("decoder sizes must be positive (mask_in_chans a multiple of 4)");
  return cfg;
}

static void
config_to_c (const SamConfig &cfg, usam_sam_model_config *c)
{
  memset (c, 0, sizeof *c);
  c->img_size = cfg.img_size;
  c->patch_size = cfg.patch_size;
  c->embed_dim = cfg.embed_dim;
  c->depth = cfg.depth;
  c->num_heads = cfg.num_heads;
  c->mlp_dim = cfg.mlp_dim;
  c->window_size = cfg.window_size;
  for (int g : cfg.global_attn_indexes)
    if (c->n_global < 16)
      c->global_attn_indexes[c->n_global++] = g;
  c->prompt_dim = cfg.prompt_dim;
  c->decoder_depth = cfg.transformer_depth;
  c->decoder_mlp_dim = cfg.transformer_mlp_dim;
  c->mask_in_chans = cfg.mask_in_chans;
  c->iou_head_hidden = cfg.iou_head_hidden;
}

usam_sam_model_config
usam_sam_model_config_preset (const char *name)
{
  usam_sam_model_config c;
  memset (&c, 0, sizeof c);
  try
    {
      config_to_c (sam_config_preset (name ? name : ""), &c);
    }
  catch (const std::exception &)
    {
      memset (&c, 0, sizeof c);
    }
  return c;
}

usam_sam_status
usam_sam_model_new_from_config (const usam_sam_model_config *config, uint64_t seed, const usam_sam_model_params *params,
                                usam_sam_model **out_model)
{
  if (out_model)
    *out_model = nullptr;
  return guarded ([&] {
    if (!config || !out_model)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_model_new_from_config: config and out_model are required");
    c10::InferenceMode guard;
    SamConfig cfg = config_from_c (config);
    StateDict sd = sam_random_state_dict (cfg, seed);
    *out_model = make_model (std::move (cfg), std::move (sd), params);
  });
}

void
usam_sam_model_get_config (const usam_sam_model *model, usam_sam_model_config *config)
{
  if (model && config)
    config_to_c (model->sam->config (), config);
}

usam_sam_status
usam_sam_model_save (const usam_sam_model *model, const char *path, usam_sam_checkpoint_format format)
{
  return guarded ([&] {
    if (!model || !path)
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, "usam_sam_model_save: model and path are required");
    Checkpoint ckpt;
    ckpt.format = format == USAM_SAM_CHECKPOINT_USAM      ? CheckpointFormat::MicroSam
                  : format == USAM_SAM_CHECKPOINT_DECODER ? CheckpointFormat::Decoder
                                                          : CheckpointFormat::Sam;
    if (ckpt.format == CheckpointFormat::Decoder && model->decoder.empty ())
      fail (USAM_SAM_STATUS_INVALID_ARGUMENT, std::string (path) + ": the model has no AIS decoder to save");
    ckpt.model_type = model->usam_type.empty () ? model->sam->config ().type_name () : model->usam_type;
    ckpt.sam = model->sam->weights ();
    if (ckpt.format != CheckpointFormat::Sam)
      ckpt.decoder = model->decoder;
    checkpoint_save (path, ckpt);
  });
}

} // extern "C"
