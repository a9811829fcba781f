/* usam-pickle.hpp — the subset of Python's pickle that torch.save() uses.
 *
 * libtorch 1.13's own unpickler cannot read official checkpoints (it turns
 * the OrderedDict into None and rejects the BUILD of `_metadata`), so we run
 * our own small pickle machine. It knows dicts, lists, tuples, scalars,
 * strings and torch's tensor-rebuild calls; every other Python object becomes
 * an opaque Object, so optimiser state or configuration objects in μSAM
 * checkpoints are skipped rather than failing the load.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace usam {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

/* Where a tensor's bytes are: the storage record `data/<key>` of the archive. */
struct PickleTensor
{
  std::string storage_key;
  std::string dtype;          /* "float32", "float16", "bfloat16", "float64", "int64", ... */
  int64_t storage_numel = 0;
  int64_t storage_offset = 0; /* in elements */
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

struct PickleValue
{
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object, Storage, Tensor };

  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;                          /* String, Bytes, Global ("module.name") */
  std::vector<PickleRef> items;           /* Tuple, List; Object: callable then arguments */
  std::vector<std::pair<PickleRef, PickleRef>> dict;
  PickleTensor tensor;                    /* Storage, Tensor */

  static PickleRef make (Kind kind);
  static PickleRef make_int (int64_t v);
  static PickleRef make_float (double v);
  static PickleRef make_string (const std::string &v);
  static PickleRef make_global (const std::string &name);

  bool is_string () const { return kind == Kind::String; }
  /* Dict lookup by string key; nullptr when absent or when this is not a dict. */
  PickleRef get (const std::string &key) const;
};

/* Runs the pickle program in @data. @where names the file for messages. */
PickleRef pickle_load (const std::string &data, const std::string &where);

/* Writes protocol-2 pickle programs the way torch.save() does. */
class PickleWriter
{
public:
  PickleWriter ();

  void none ();
  void boolean (bool v);
  void integer (int64_t v);
  void floating (double v);
  void string (const std::string &v);
  void global (const std::string &module, const std::string &name);
  void mark ();
  void tuple ();                     /* since the last mark */
  void empty_tuple ();
  void empty_dict ();
  void set_items ();                 /* since the last mark */
  void reduce ();
  void persistent_id ();
  void ordered_dict_begin ();        /* OrderedDict() then MARK */
  void tensor (const PickleTensor &t);
  std::string finish ();

private:
  void op (uint8_t code);
  std::string out_;
};

} // namespace usam
