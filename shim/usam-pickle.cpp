#include "usam-pickle.hpp"

#include <cstring>
#include <unordered_map>

#include "usam-error.hpp"

namespace usam {

using Kind = PickleValue::Kind;

PickleRef
PickleValue::make (Kind kind)
{
  auto v = std::make_shared<PickleValue> ();
  v->kind = kind;
  return v;
}

PickleRef
PickleValue::make_int (int64_t value)
{
  auto v = make (Kind::Int);
  v->i = value;
  return v;
}

PickleRef
PickleValue::make_float (double value)
{
  auto v = make (Kind::Float);
  v->f = value;
  return v;
}

PickleRef
PickleValue::make_string (const std::string &value)
{
  auto v = make (Kind::String);
  v->s = value;
  return v;
}

PickleRef
PickleValue::make_global (const std::string &name)
{
  auto v = make (Kind::Global);
  v->s = name;
  return v;
}

PickleRef
PickleValue::get (const std::string &key) const
{
  if (kind != Kind::Dict)
    return nullptr;
  for (const auto &kv : dict)
    if (kv.first && kv.first->kind == Kind::String && kv.first->s == key)
      return kv.second;
  return nullptr;
}

namespace {

/* Limits that keep a hostile file from exhausting memory; real checkpoints
 * are far below them (vit_h: ~1 k tensors, a few thousand memo entries). */
constexpr size_t MAX_STACK = 1u << 20;
constexpr size_t MAX_MEMO = 1u << 24;

const char *
storage_dtype (const std::string &global)
{
  static const std::pair<const char *, const char *> table[] = {
    { "torch.FloatStorage", "float32" },     { "torch.DoubleStorage", "float64" },
    { "torch.HalfStorage", "float16" },      { "torch.BFloat16Storage", "bfloat16" },
    { "torch.LongStorage", "int64" },        { "torch.IntStorage", "int32" },
    { "torch.ShortStorage", "int16" },       { "torch.CharStorage", "int8" },
    { "torch.ByteStorage", "uint8" },        { "torch.BoolStorage", "bool" },
    { "torch.ComplexFloatStorage", "complex64" }, { "torch.ComplexDoubleStorage", "complex128" },
  };
  for (const auto &entry : table)
    if (global == entry.first)
      return entry.second;
  return nullptr;
}

class Machine
{
public:
  Machine (const std::string &data, const std::string &where) : data_ (data), where_ (where) {}
  PickleRef run ();

private:
  [[noreturn]] void bad (const std::string &what) const
  {
    fail (USAM_SAM_STATUS_FORMAT, where_ + ": damaged pickle at byte " + std::to_string (pos_) + ": " + what);
  }

  const uint8_t *take (size_t n)
  {
    if (n > data_.size () - pos_)
      bad ("truncated");
    const uint8_t *p = (const uint8_t *) data_.data () + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8 () { return *take (1); }
  uint16_t u16 () { const uint8_t *p = take (2); return (uint16_t) (p[0] | (p[1] << 8)); }
  uint32_t u32 ()
  {
    const uint8_t *p = take (4);
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
  }
  uint64_t u64 () { uint64_t lo = u32 (); uint64_t hi = u32 (); return lo | (hi << 32); }
  std::string bytes (uint64_t n)
  {
    if (n > data_.size () - pos_)
      bad ("truncated string");
    const uint8_t *p = take ((size_t) n);
    return std::string ((const char *) p, (size_t) n);
  }
  std::string line ()
  {
    size_t end = data_.find ('\n', pos_);
    if (end == std::string::npos)
      bad ("unterminated text argument");
    std::string s = data_.substr (pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  void push (PickleRef v)
  {
    if (stack_.size () >= MAX_STACK)
      bad ("stack too deep");
    stack_.push_back (std::move (v));
  }
  PickleRef pop ()
  {
    if (stack_.size () <= floor ())
      bad ("stack underflow");
    PickleRef v = std::move (stack_.back ());
    stack_.pop_back ();
    return v;
  }
  PickleRef &top ()
  {
    if (stack_.size () <= floor ())
      bad ("stack underflow");
    return stack_.back ();
  }
  size_t floor () const { return marks_.empty () ? 0 : marks_.back (); }
  std::vector<PickleRef> pop_mark ()
  {
    if (marks_.empty ())
      bad ("missing MARK");
    size_t m = marks_.back ();
    marks_.pop_back ();
    std::vector<PickleRef> items (std::make_move_iterator (stack_.begin () + (ptrdiff_t) m),
                                  std::make_move_iterator (stack_.end ()));
    stack_.resize (m);
    return items;
  }
  void memo_put (uint64_t index)
  {
    if (memo_.size () >= MAX_MEMO)
      bad ("memo too large");
    memo_[index] = top ();
  }
  PickleRef memo_get (uint64_t index)
  {
    auto it = memo_.find (index);
    if (it == memo_.end ())
      bad ("reference to an unknown memo entry");
    return it->second;
  }

  PickleRef tuple_of (std::vector<PickleRef> items)
  {
    auto t = PickleValue::make (Kind::Tuple);
    t->items = std::move (items);
    return t;
  }
  PickleRef long_from_bytes (const std::string &b);
  PickleRef persistent_load (const PickleRef &pid);
  PickleRef call (const PickleRef &callable, const PickleRef &args);
  void set_items (PickleRef &target, std::vector<PickleRef> &items);
  void append_items (PickleRef &target, std::vector<PickleRef> &items);

  std::vector<int64_t> int_tuple (const PickleRef &v, const char *what)
  {
    if (!v || (v->kind != Kind::Tuple && v->kind != Kind::List))
      bad (std::string ("tensor ") + what + " is not a tuple");
    std::vector<int64_t> out;
    for (const auto &item : v->items)
      {
        if (!item || item->kind != Kind::Int)
          bad (std::string ("tensor ") + what + " holds a non-integer");
        out.push_back (item->i);
      }
    return out;
  }

  const std::string &data_;
  const std::string &where_;
  size_t pos_ = 0;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleRef> memo_;
};

PickleRef
Machine::long_from_bytes (const std::string &b)
{
  if (b.empty ())
    return PickleValue::make_int (0);
  if (b.size () > 8)
    {
      /* A Python int beyond 64 bits: keep it as an opaque object. */
      auto o = PickleValue::make (Kind::Object);
      o->s = "builtins.int";
      return o;
    }
  uint64_t v = 0;
  for (size_t k = 0; k < b.size (); k++)
    v |= (uint64_t) (uint8_t) b[k] << (8 * k);
  if ((uint8_t) b.back () & 0x80 && b.size () < 8)
    v |= ~(uint64_t) 0 << (8 * b.size ());
  return PickleValue::make_int ((int64_t) v);
}

PickleRef
Machine::persistent_load (const PickleRef &pid)
{
  /* torch: ('storage', <storage class>, key, location, numel) */
  if (!pid || pid->kind != Kind::Tuple || pid->items.size () < 5 || !pid->items[0]->is_string ()
      || pid->items[0]->s != "storage")
    bad ("unknown persistent id (not a torch storage)");
  const PickleRef &type = pid->items[1];
  const PickleRef &key = pid->items[2];
  const PickleRef &numel = pid->items[4];
  if (!type || type->kind != Kind::Global || !key || !key->is_string () || !numel || numel->kind != Kind::Int)
    bad ("malformed storage reference");
  const char *dtype = storage_dtype (type->s);
  if (!dtype)
    fail (USAM_SAM_STATUS_UNSUPPORTED, where_ + ": unsupported storage type " + type->s);
  auto st = PickleValue::make (Kind::Storage);
  st->tensor.storage_key = key->s;
  st->tensor.dtype = dtype;
  st->tensor.storage_numel = numel->i;
  return st;
}

PickleRef
Machine::call (const PickleRef &callable, const PickleRef &args)
{
  const std::string name = callable && callable->kind == Kind::Global ? callable->s : std::string ();
  const std::vector<PickleRef> no_args;
  const std::vector<PickleRef> &a = args && args->kind == Kind::Tuple ? args->items : no_args;

  if (name == "collections.OrderedDict" && a.empty ())
    return PickleValue::make (Kind::Dict);

  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    {
      if (a.size () < 4 || !a[0] || a[0]->kind != Kind::Storage || !a[1] || a[1]->kind != Kind::Int)
        bad ("malformed tensor record");
      auto t = PickleValue::make (Kind::Tensor);
      t->tensor = a[0]->tensor;
      t->tensor.storage_offset = a[1]->i;
      t->tensor.sizes = int_tuple (a[2], "size");
      t->tensor.strides = int_tuple (a[3], "stride");
      if (t->tensor.sizes.size () != t->tensor.strides.size ())
        bad ("tensor size and stride differ in length");
      return t;
    }

  if ((name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state")
      && !a.empty () && a[0] && a[0]->kind == Kind::Tensor)
    return a[0];

  if (name == "torch._utils._rebuild_from_type_v2" && a.size () >= 3)
    return call (a[0], a[2]);

  if (name == "torch._utils._rebuild_qtensor" || name == "torch._utils._rebuild_sparse_tensor"
      || name == "torch._utils._rebuild_sparse_csr_tensor")
    fail (USAM_SAM_STATUS_UNSUPPORTED, where_ + ": quantised or sparse tensors are not supported (" + name + ")");

  auto o = PickleValue::make (Kind::Object);
  o->s = name.empty () ? std::string ("<object>") : name;
  o->items.push_back (callable);
  for (const auto &arg : a)
    o->items.push_back (arg);
  return o;
}

void
Machine::set_items (PickleRef &target, std::vector<PickleRef> &items)
{
  if (items.size () % 2 != 0)
    bad ("odd number of items for SETITEMS");
  if (!target || target->kind != Kind::Dict)
    return; /* setting items on an opaque object: nothing we need */
  for (size_t k = 0; k < items.size (); k += 2)
    {
      const PickleRef &key = items[k];
      bool replaced = false;
      if (key && key->kind == Kind::String)
        for (auto &kv : target->dict)
          if (kv.first && kv.first->kind == Kind::String && kv.first->s == key->s)
            {
              kv.second = items[k + 1];
              replaced = true;
              break;
            }
      if (!replaced)
        target->dict.emplace_back (key, items[k + 1]);
    }
}

void
Machine::append_items (PickleRef &target, std::vector<PickleRef> &items)
{
  if (target && target->kind == Kind::List)
    for (auto &item : items)
      target->items.push_back (std::move (item));
}

PickleRef
Machine::run ()
{
  for (;;)
    {
      uint8_t code = u8 ();
      switch (code)
        {
        case 0x80: /* PROTO */
          if (u8 () > 5)
            bad ("unsupported pickle protocol");
          break;
        case 0x95: /* FRAME */
          u64 ();
          break;
        case '.': /* STOP */
          if (stack_.size () != 1 || !marks_.empty ())
            bad ("unbalanced stack at STOP");
          return stack_.back ();
        case '(':
          marks_.push_back (stack_.size ());
          break;
        case '0':
          pop ();
          break;
        case '1':
          pop_mark ();
          break;
        case '2':
          push (top ());
          break;
        case 'N':
          push (PickleValue::make (Kind::None));
          break;
        case 0x88:
        case 0x89:
          {
            auto v = PickleValue::make (Kind::Bool);
            v->b = code == 0x88;
            push (v);
            break;
          }
        case 'J':
          push (PickleValue::make_int ((int32_t) u32 ()));
          break;
        case 'K':
          push (PickleValue::make_int (u8 ()));
          break;
        case 'M':
          push (PickleValue::make_int (u16 ()));
          break;
        case 0x8a: /* LONG1 */
          push (long_from_bytes (bytes (u8 ())));
          break;
        case 0x8b: /* LONG4 */
          push (long_from_bytes (bytes (u32 ())));
          break;
        case 'I':
        case 'L':
          {
            std::string s = line ();
            if (!s.empty () && s.back () == 'L')
              s.pop_back ();
            if (s == "00" || s == "01")
              {
                auto v = PickleValue::make (Kind::Bool);
                v->b = s == "01";
                push (v);
              }
            else
              {
                char *end = nullptr;
                long long v = strtoll (s.c_str (), &end, 10);
                if (end == s.c_str ())
                  bad ("bad integer literal");
                push (PickleValue::make_int (v));
              }
            break;
          }
        case 'G':
          {
            uint64_t bits = 0;
            const uint8_t *p = take (8);
            for (int k = 0; k < 8; k++)
              bits = (bits << 8) | p[k];
            double d;
            memcpy (&d, &bits, sizeof d);
            push (PickleValue::make_float (d));
            break;
          }
        case 'F':
          push (PickleValue::make_float (strtod (line ().c_str (), nullptr)));
          break;
        case 'X':
          push (PickleValue::make_string (bytes (u32 ())));
          break;
        case 0x8c: /* SHORT_BINUNICODE */
          push (PickleValue::make_string (bytes (u8 ())));
          break;
        case 0x8d: /* BINUNICODE8 */
          push (PickleValue::make_string (bytes (u64 ())));
          break;
        case 'V':
          push (PickleValue::make_string (line ()));
          break;
        case 'S':
          {
            std::string s = line ();
            if (s.size () >= 2 && (s.front () == '\'' || s.front () == '"'))
              s = s.substr (1, s.size () - 2);
            push (PickleValue::make_string (s));
            break;
          }
        case 'T': /* BINSTRING */
        case 'B': /* BINBYTES */
        case 'U': /* SHORT_BINSTRING */
        case 'C': /* SHORT_BINBYTES */
        case 0x8e: /* BINBYTES8 */
        case 0x96: /* BYTEARRAY8 */
          {
            uint64_t n = (code == 'U' || code == 'C') ? u8 () : (code == 0x8e || code == 0x96) ? u64 () : u32 ();
            auto v = PickleValue::make (code == 'T' || code == 'U' ? Kind::String : Kind::Bytes);
            v->s = bytes (n);
            push (v);
            break;
          }
        case ')':
          push (PickleValue::make (Kind::Tuple));
          break;
        case 't':
          push (tuple_of (pop_mark ()));
          break;
        case 0x85:
        case 0x86:
        case 0x87:
          {
            size_t n = (size_t) (code - 0x84);
            std::vector<PickleRef> items (n);
            for (size_t k = n; k-- > 0;)
              items[k] = pop ();
            push (tuple_of (std::move (items)));
            break;
          }
        case ']':
          push (PickleValue::make (Kind::List));
          break;
        case 'l':
          {
            auto l = PickleValue::make (Kind::List);
            l->items = pop_mark ();
            push (l);
            break;
          }
        case 'a':
          {
            std::vector<PickleRef> item { pop () };
            append_items (top (), item);
            break;
          }
        case 'e':
          {
            std::vector<PickleRef> items = pop_mark ();
            append_items (top (), items);
            break;
          }
        case '}':
          push (PickleValue::make (Kind::Dict));
          break;
        case 'd':
          {
            auto d = PickleValue::make (Kind::Dict);
            std::vector<PickleRef> items = pop_mark ();
            set_items (d, items);
            push (d);
            break;
          }
        case 's':
          {
            std::vector<PickleRef> items (2);
            items[1] = pop ();
            items[0] = pop ();
            set_items (top (), items);
            break;
          }
        case 'u':
          {
            std::vector<PickleRef> items = pop_mark ();
            set_items (top (), items);
            break;
          }
        case 0x8f: /* EMPTY_SET */
          push (PickleValue::make (Kind::List));
          break;
        case 0x90: /* ADDITEMS */
          {
            std::vector<PickleRef> items = pop_mark ();
            append_items (top (), items);
            break;
          }
        case 0x91: /* FROZENSET */
          {
            auto l = PickleValue::make (Kind::List);
            l->items = pop_mark ();
            push (l);
            break;
          }
        case 'c':
          {
            std::string module = line ();
            std::string name = line ();
            push (PickleValue::make_global (module + "." + name));
            break;
          }
        case 0x93: /* STACK_GLOBAL */
          {
            PickleRef name = pop ();
            PickleRef module = pop ();
            if (!name->is_string () || !module->is_string ())
              bad ("STACK_GLOBAL needs two strings");
            push (PickleValue::make_global (module->s + "." + name->s));
            break;
          }
        case 'R':
          {
            PickleRef args = pop ();
            PickleRef callable = pop ();
            push (call (callable, args));
            break;
          }
        case 0x81: /* NEWOBJ */
          {
            PickleRef args = pop ();
            PickleRef cls = pop ();
            push (call (cls, args));
            break;
          }
        case 0x92: /* NEWOBJ_EX */
          {
            pop (); /* kwargs */
            PickleRef args = pop ();
            PickleRef cls = pop ();
            push (call (cls, args));
            break;
          }
        case 'o': /* OBJ */
          {
            std::vector<PickleRef> items = pop_mark ();
            if (items.empty ())
              bad ("OBJ without a class");
            PickleRef cls = items.front ();
            items.erase (items.begin ());
            push (call (cls, tuple_of (std::move (items))));
            break;
          }
        case 'i': /* INST */
          {
            std::string module = line ();
            std::string name = line ();
            std::vector<PickleRef> items = pop_mark ();
            push (call (PickleValue::make_global (module + "." + name), tuple_of (std::move (items))));
            break;
          }
        case 'b': /* BUILD: the state of dicts (OrderedDict._metadata) and objects is not needed */
          pop ();
          top ();
          break;
        case 'Q':
          push (persistent_load (pop ()));
          break;
        case 'P':
          bad ("text persistent ids are not used by torch.save");
        case 'q':
          memo_put (u8 ());
          break;
        case 'r':
          memo_put (u32 ());
          break;
        case 'p':
          memo_put (strtoull (line ().c_str (), nullptr, 10));
          break;
        case 0x94: /* MEMOIZE */
          memo_put (memo_.size ());
          break;
        case 'h':
          push (memo_get (u8 ()));
          break;
        case 'j':
          push (memo_get (u32 ()));
          break;
        case 'g':
          push (memo_get (strtoull (line ().c_str (), nullptr, 10)));
          break;
        default:
          {
            char hex[8];
            snprintf (hex, sizeof hex, "0x%02x", code);
            bad (std::string ("unsupported opcode ") + hex);
          }
        }
    }
}

} // namespace

PickleRef
pickle_load (const std::string &data, const std::string &where)
{
  Machine machine (data, where);
  return machine.run ();
}

PickleWriter::PickleWriter ()
{
  op (0x80);
  out_.push_back (2);
}

void
PickleWriter::op (uint8_t code)
{
  out_.push_back ((char) code);
}

void
PickleWriter::none ()
{
  op ('N');
}

void
PickleWriter::boolean (bool v)
{
  op (v ? 0x88 : 0x89);
}

void
PickleWriter::integer (int64_t v)
{
  if (v >= 0 && v < 256)
    {
      op ('K');
      out_.push_back ((char) v);
    }
  else if (v >= 0 && v < 65536)
    {
      op ('M');
      out_.push_back ((char) (v & 0xff));
      out_.push_back ((char) (v >> 8));
    }
  else if (v >= INT32_MIN && v <= INT32_MAX)
    {
      op ('J');
      uint32_t u = (uint32_t) (int32_t) v;
      for (int k = 0; k < 4; k++)
        out_.push_back ((char) ((u >> (8 * k)) & 0xff));
    }
  else
    {
      op (0x8a);
      out_.push_back (8);
      uint64_t u = (uint64_t) v;
      for (int k = 0; k < 8; k++)
        out_.push_back ((char) ((u >> (8 * k)) & 0xff));
    }
}

void
PickleWriter::floating (double v)
{
  op ('G');
  uint64_t bits;
  memcpy (&bits, &v, sizeof bits);
  for (int k = 7; k >= 0; k--)
    out_.push_back ((char) ((bits >> (8 * k)) & 0xff));
}

void
PickleWriter::string (const std::string &v)
{
  op ('X');
  uint32_t n = (uint32_t) v.size ();
  for (int k = 0; k < 4; k++)
    out_.push_back ((char) ((n >> (8 * k)) & 0xff));
  out_ += v;
}

void
PickleWriter::global (const std::string &module, const std::string &name)
{
  op ('c');
  out_ += module + "\n" + name + "\n";
}

void
PickleWriter::mark ()
{
  op ('(');
}

void
PickleWriter::tuple ()
{
  op ('t');
}

void
PickleWriter::empty_tuple ()
{
  op (')');
}

void
PickleWriter::empty_dict ()
{
  op ('}');
}

void
PickleWriter::set_items ()
{
  op ('u');
}

void
PickleWriter::reduce ()
{
  op ('R');
}

void
PickleWriter::persistent_id ()
{
  op ('Q');
}

void
PickleWriter::ordered_dict_begin ()
{
  global ("collections", "OrderedDict");
  empty_tuple ();
  reduce ();
  mark ();
}

void
PickleWriter::tensor (const PickleTensor &t)
{
  static const std::pair<const char *, const char *> storages[] = {
    { "float32", "FloatStorage" }, { "float64", "DoubleStorage" }, { "float16", "HalfStorage" },
    { "bfloat16", "BFloat16Storage" }, { "int64", "LongStorage" }, { "int32", "IntStorage" },
    { "uint8", "ByteStorage" }, { "bool", "BoolStorage" },
  };
  const char *storage = nullptr;
  for (const auto &s : storages)
    if (t.dtype == s.first)
      storage = s.second;
  if (!storage)
    fail (USAM_SAM_STATUS_UNSUPPORTED, "cannot save tensors of type " + t.dtype);

  global ("torch._utils", "_rebuild_tensor_v2");
  mark ();
  mark ();
  string ("storage");
  global ("torch", storage);
  string (t.storage_key);
  string ("cpu");
  integer (t.storage_numel);
  tuple ();
  persistent_id ();
  integer (t.storage_offset);
  mark ();
  for (int64_t s : t.sizes)
    integer (s);
  tuple ();
  mark ();
  for (int64_t s : t.strides)
    integer (s);
  tuple ();
  boolean (false);
  global ("collections", "OrderedDict");
  empty_tuple ();
  reduce ();
  tuple ();
  reduce ();
}

std::string
PickleWriter::finish ()
{
  op ('.');
  return std::move (out_);
}

} // namespace usam
