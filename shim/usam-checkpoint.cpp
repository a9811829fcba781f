#include "usam-checkpoint.hpp"

#include <map>

#include "usam-error.hpp"
#include "usam-pickle.hpp"
#include "usam-zip.hpp"

namespace usam {

void
StateDict::set (const std::string &name, at::Tensor tensor)
{
  long i = index_of (name);
  if (i >= 0)
    items_[(size_t) i].second = std::move (tensor);
  else
    {
      index_[name] = items_.size ();
      items_.emplace_back (name, std::move (tensor));
    }
}

long
StateDict::index_of (const std::string &name) const
{
  auto it = index_.find (name);
  return it == index_.end () ? -1 : (long) it->second;
}

at::Tensor
StateDict::find (const std::string &name) const
{
  long i = index_of (name);
  return i >= 0 ? items_[(size_t) i].second : at::Tensor ();
}

namespace {

at::ScalarType
scalar_type (const std::string &dtype, const std::string &path)
{
  static const std::pair<const char *, at::ScalarType> table[] = {
    { "float32", at::kFloat }, { "float64", at::kDouble }, { "float16", at::kHalf },
    { "bfloat16", at::kBFloat16 }, { "int64", at::kLong }, { "int32", at::kInt },
    { "int16", at::kShort }, { "int8", at::kChar }, { "uint8", at::kByte }, { "bool", at::kBool },
  };
  for (const auto &entry : table)
    if (dtype == entry.first)
      return entry.second;
  fail (USAM_SAM_STATUS_UNSUPPORTED, path + ": unsupported tensor type " + dtype);
}

const char *
dtype_name (at::ScalarType t)
{
  switch (t)
    {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: fail (USAM_SAM_STATUS_UNSUPPORTED, std::string ("cannot save tensors of type ") + c10::toString (t));
    }
}

class TensorLoader
{
public:
  TensorLoader (const ZipReader &zip, const std::string &prefix, bool shapes_only)
    : zip_ (zip), prefix_ (prefix), shapes_only_ (shapes_only)
  {
  }

  at::Tensor load (const std::string &name, const PickleTensor &t)
  {
    const std::string &path = zip_.path ();
    at::ScalarType type = scalar_type (t.dtype, path);
    if (shapes_only_)
      return at::empty (t.sizes, at::TensorOptions ().dtype (at::kFloat).device (at::kMeta));
    at::Tensor storage = storage_for (t, type);

    int64_t extent = 0; /* last element touched, +1 */
    bool empty = false;
    for (size_t d = 0; d < t.sizes.size (); d++)
      {
        if (t.sizes[d] < 0 || t.strides[d] < 0)
          fail (USAM_SAM_STATUS_FORMAT, path + ": tensor '" + name + "' has a negative size or stride");
        if (t.sizes[d] == 0)
          empty = true;
        else if (t.sizes[d] > 1)
          {
            if (t.strides[d] > 0 && t.sizes[d] - 1 > (INT64_MAX / 2) / t.strides[d])
              fail (USAM_SAM_STATUS_FORMAT, path + ": tensor '" + name + "' has an impossible shape");
            extent += (t.sizes[d] - 1) * t.strides[d];
          }
      }
    if (!empty && (t.storage_offset < 0 || extent >= storage.numel () - t.storage_offset))
      fail (USAM_SAM_STATUS_SHAPE, path + ": tensor '" + name + "' reaches past its storage (wrong shape)");

    at::Tensor v = storage.as_strided (t.sizes, t.strides, t.storage_offset);
    if (at::isFloatingType (type))
      v = v.to (at::kFloat);
    /* Copy views of a shared storage so each weight owns exactly its bytes. */
    if (v.data_ptr () == storage.data_ptr () && v.numel () == storage.numel () && v.is_contiguous ())
      return v;
    return v.contiguous ().clone ();
  }

private:
  at::Tensor storage_for (const PickleTensor &t, at::ScalarType type)
  {
    auto it = storages_.find (t.storage_key);
    if (it != storages_.end ())
      return it->second;
    const std::string record = prefix_ + "data/" + t.storage_key;
    const ZipEntry *entry = zip_.find (record);
    if (!entry)
      fail (USAM_SAM_STATUS_FORMAT, zip_.path () + ": truncated or damaged (record '" + record + "' is missing)");
    int64_t elem = (int64_t) c10::elementSize (type);
    if (t.storage_numel < 0 || (uint64_t) t.storage_numel * (uint64_t) elem != entry->size)
      fail (USAM_SAM_STATUS_FORMAT, zip_.path () + ": record '" + record + "' has " + std::to_string (entry->size)
                                   + " bytes, expected " + std::to_string (t.storage_numel * elem));
    at::Tensor storage = at::empty ({ t.storage_numel }, at::TensorOptions ().dtype (type));
    zip_.read (*entry, storage.data_ptr ());
    storages_.emplace (t.storage_key, storage);
    return storage;
  }

  const ZipReader &zip_;
  std::string prefix_;
  bool shapes_only_;
  std::map<std::string, at::Tensor> storages_;
};

void
load_tensor_dict (const PickleRef &dict, const std::string &strip_prefix, TensorLoader &loader, StateDict &out,
                  const std::string &path, const std::string &what)
{
  if (!dict || dict->kind != PickleValue::Kind::Dict)
    fail (USAM_SAM_STATUS_FORMAT, path + ": '" + what + "' is not a dictionary of tensors");
  for (const auto &kv : dict->dict)
    {
      if (!kv.first || !kv.first->is_string () || !kv.second || kv.second->kind != PickleValue::Kind::Tensor)
        continue;
      std::string name = kv.first->s;
      if (!strip_prefix.empty () && name.compare (0, strip_prefix.size (), strip_prefix) == 0)
        name = name.substr (strip_prefix.size ());
      out.set (name, loader.load (kv.first->s, kv.second->tensor));
    }
}

bool
has_tensors (const PickleRef &dict)
{
  if (!dict || dict->kind != PickleValue::Kind::Dict)
    return false;
  for (const auto &kv : dict->dict)
    if (kv.second && kv.second->kind == PickleValue::Kind::Tensor)
      return true;
  return false;
}

} // namespace

Checkpoint
checkpoint_load (const std::string &path, bool shapes_only)
{
  ZipReader zip (path);

  const ZipEntry *pkl = nullptr;
  for (const auto &entry : zip.entries ())
    {
      const std::string &n = entry.name;
      if (n == "data.pkl" || (n.size () > 9 && n.compare (n.size () - 9, 9, "/data.pkl") == 0))
        {
          /* The top-level data.pkl, not one nested in a sub-archive. */
          if (!pkl || n.size () < pkl->name.size ())
            pkl = &entry;
        }
    }
  if (!pkl)
    {
      for (const auto &entry : zip.entries ())
        if (entry.name.find ("constants.pkl") != std::string::npos)
          fail (USAM_SAM_STATUS_UNSUPPORTED, path + ": a TorchScript archive, not a torch.save() checkpoint");
      fail (USAM_SAM_STATUS_FORMAT, path + ": not a checkpoint (the ZIP archive has no data.pkl)");
    }
  const std::string prefix = pkl->name.substr (0, pkl->name.size () - 8);
  if (const ZipEntry *order = zip.find (prefix + "byteorder"))
    if (zip.read_string (*order) != "little")
      fail (USAM_SAM_STATUS_UNSUPPORTED, path + ": big-endian checkpoints are not supported");

  PickleRef root = pickle_load (zip.read_string (*pkl), path);
  TensorLoader loader (zip, prefix, shapes_only);
  Checkpoint ckpt;

  if (root->kind != PickleValue::Kind::Dict)
    fail (USAM_SAM_STATUS_FORMAT, path + ": not a SAM checkpoint (the saved object is not a dictionary)");

  if (PickleRef model_state = root->get ("model_state"))
    {
      ckpt.format = CheckpointFormat::MicroSam;
      load_tensor_dict (model_state, "sam.", loader, ckpt.sam, path, "model_state");
      if (PickleRef decoder_state = root->get ("decoder_state"))
        if (decoder_state->kind == PickleValue::Kind::Dict)
          load_tensor_dict (decoder_state, "", loader, ckpt.decoder, path, "decoder_state");
      if (PickleRef type = root->get ("model_type"))
        if (type->is_string ())
          ckpt.model_type = type->s;
    }
  else if (has_tensors (root))
    {
      load_tensor_dict (root, "", loader, ckpt.sam, path, "state dict");
    }
  else if (PickleRef model = root->get ("model"); has_tensors (model))
    {
      load_tensor_dict (model, "", loader, ckpt.sam, path, "model");
    }
  else
    {
      fail (USAM_SAM_STATUS_FORMAT, path + ": not a SAM checkpoint (no model weights in the saved dictionary)");
    }
  if (ckpt.sam.empty ())
    fail (USAM_SAM_STATUS_FORMAT, path + ": not a SAM checkpoint (the state dict holds no tensors)");
  return ckpt;
}

StateDict
checkpoint_load_decoder (const std::string &path, bool shapes_only)
{
  Checkpoint ckpt = checkpoint_load (path, shapes_only);
  if (ckpt.format == CheckpointFormat::MicroSam)
    {
      if (ckpt.decoder.empty ())
        fail (USAM_SAM_STATUS_FORMAT, path + ": a μSAM checkpoint without decoder_state, not an AIS decoder");
      return std::move (ckpt.decoder);
    }
  for (const auto &kv : ckpt.sam.items ())
    if (kv.first.rfind ("image_encoder.", 0) == 0)
      fail (USAM_SAM_STATUS_FORMAT, path + ": a SAM checkpoint, not an AIS decoder (it holds an image encoder)");
  return std::move (ckpt.sam);
}

namespace {

void
write_tensor_dict (PickleWriter &pw, const StateDict &dict, const std::string &key_prefix,
                   std::vector<at::Tensor> &storages)
{
  pw.ordered_dict_begin ();
  for (const auto &kv : dict.items ())
    {
      at::Tensor t = kv.second.detach ().to (at::kCPU).contiguous ();
      PickleTensor pt;
      pt.storage_key = std::to_string (storages.size ());
      pt.dtype = dtype_name (t.scalar_type ());
      pt.storage_numel = t.numel ();
      pt.sizes = t.sizes ().vec ();
      pt.strides = t.strides ().vec ();
      pw.string (key_prefix + kv.first);
      pw.tensor (pt);
      storages.push_back (t);
    }
  pw.set_items ();
}

} // namespace

void
checkpoint_save (const std::string &path, const Checkpoint &ckpt)
{
  PickleWriter pw;
  std::vector<at::Tensor> storages;
  if (ckpt.format == CheckpointFormat::Sam)
    {
      write_tensor_dict (pw, ckpt.sam, "", storages);
    }
  else if (ckpt.format == CheckpointFormat::Decoder)
    {
      write_tensor_dict (pw, ckpt.decoder, "", storages);
    }
  else
    {
      pw.empty_dict ();
      pw.mark ();
      pw.string ("model_type");
      pw.string (ckpt.model_type.empty () ? "vit_b" : ckpt.model_type);
      pw.string ("model_state");
      write_tensor_dict (pw, ckpt.sam, "sam.", storages);
      if (!ckpt.decoder.empty ())
        {
          pw.string ("decoder_state");
          write_tensor_dict (pw, ckpt.decoder, "", storages);
        }
      pw.set_items ();
    }

  /* PyTorch names the archive folder after the file. */
  std::string stem = path.substr (path.find_last_of ('/') == std::string::npos ? 0 : path.find_last_of ('/') + 1);
  if (stem.find ('.') != std::string::npos)
    stem = stem.substr (0, stem.find ('.'));
  if (stem.empty ())
    stem = "archive";

  ZipWriter zip (path);
  std::string pickle = pw.finish ();
  zip.add (stem + "/data.pkl", pickle.data (), pickle.size ());
  zip.add (stem + "/byteorder", "little", 6);
  for (size_t i = 0; i < storages.size (); i++)
    zip.add (stem + "/data/" + std::to_string (i), storages[i].data_ptr (), storages[i].nbytes ());
  zip.add (stem + "/version", "3\n", 2);
  zip.finish ();
}

} // namespace usam
