#include "datasets/pickle.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench::datasets {

// ------------------------------------------------------------------------------------------------
// PyValue

const char* PyValue::kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kStr:
      return "str";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kTuple:
      return "tuple";
    case Kind::kDict:
      return "dict";
  }
  return "?";
}

const char* PyValue::type_name() const {
  return kind_name(kind_);
}

void PyValue::wrong_kind(const char* expected) const {
  fail("pickle value is a {}, expected {}", type_name(), expected);
}

bool PyValue::as_bool() const {
  if (kind_ != Kind::kBool) wrong_kind("bool");
  return std::get<bool>(v_);
}

int64_t PyValue::as_int() const {
  if (kind_ != Kind::kInt) wrong_kind("int");
  return std::get<int64_t>(v_);
}

double PyValue::as_float() const {
  if (kind_ != Kind::kFloat) wrong_kind("float");
  return std::get<double>(v_);
}

double PyValue::as_number() const {
  if (kind_ == Kind::kInt) return static_cast<double>(std::get<int64_t>(v_));
  if (kind_ != Kind::kFloat) wrong_kind("int or float");
  return std::get<double>(v_);
}

const std::string& PyValue::as_str() const {
  if (kind_ != Kind::kStr) wrong_kind("str");
  return std::get<std::string>(v_);
}

const std::string& PyValue::as_bytes() const {
  if (kind_ != Kind::kBytes) wrong_kind("bytes");
  return std::get<std::string>(v_);
}

const PyValue::List& PyValue::items() const {
  if (!is_sequence()) wrong_kind("list or tuple");
  return std::get<List>(v_);
}

const PyValue::Entries& PyValue::entries() const {
  if (kind_ != Kind::kDict) wrong_kind("dict");
  return std::get<Entries>(v_);
}

const PyValue* PyValue::find(std::string_view key) const {
  if (kind_ != Kind::kDict) return nullptr;
  for (const auto& [k, v] : std::get<Entries>(v_))
    if (k.kind_ == Kind::kStr && std::get<std::string>(k.v_) == key) return &v;
  return nullptr;
}

const PyValue* PyValue::find(int64_t key) const {
  if (kind_ != Kind::kDict) return nullptr;
  for (const auto& [k, v] : std::get<Entries>(v_))
    if (k.kind_ == Kind::kInt && std::get<int64_t>(k.v_) == key) return &v;
  return nullptr;
}

bool operator==(const PyValue& a, const PyValue& b) {
  // The variant compares alternatives index first, so kind_ must be compared too (str vs bytes,
  // list vs tuple share an alternative).
  return a.kind_ == b.kind_ && a.v_ == b.v_;
}

namespace {

void repr_string(std::string& out, const std::string& s, bool is_bytes) {
  if (is_bytes) out += 'b';
  out += '\'';
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        // Non-ASCII bytes of a str are UTF-8 and printed as they are.
        if (c < 0x20 || c == 0x7f || (is_bytes && c >= 0x80))
          out += fmt::format("\\x{:02x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  out += '\'';
}

void repr_into(std::string& out, const PyValue& v) {
  switch (v.kind()) {
    case PyValue::Kind::kNone:
      out += "None";
      break;
    case PyValue::Kind::kBool:
      out += v.as_bool() ? "True" : "False";
      break;
    case PyValue::Kind::kInt:
      out += std::to_string(v.as_int());
      break;
    case PyValue::Kind::kFloat: {
      std::string f = fmt::format("{}", v.as_float());  // shortest round-trip, like Python
      if (f.find_first_of(".ein") == std::string::npos) f += ".0";
      out += f;
      break;
    }
    case PyValue::Kind::kStr:
      repr_string(out, v.as_str(), false);
      break;
    case PyValue::Kind::kBytes:
      repr_string(out, v.as_bytes(), true);
      break;
    case PyValue::Kind::kList:
    case PyValue::Kind::kTuple: {
      const bool list = v.kind() == PyValue::Kind::kList;
      out += list ? '[' : '(';
      const auto& items = v.items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        repr_into(out, items[i]);
      }
      if (!list && items.size() == 1) out += ',';
      out += list ? ']' : ')';
      break;
    }
    case PyValue::Kind::kDict: {
      out += '{';
      bool first = true;
      for (const auto& [k, val] : v.entries()) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, k);
        out += ": ";
        repr_into(out, val);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string PyValue::repr() const {
  std::string out;
  repr_into(out, *this);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Parser

namespace {

// What the reader does with an opcode.
enum class OpClass : uint8_t {
  kUnknown,  // not a pickle opcode at all
  kRead,     // builds builtin values or manages the stack/memo: read
  kObject,   // imports, calls or builds objects (or sets, buffers): refused, never executed
  kText,     // protocol 0 text strings (STRING, UNICODE): refused, not worth a repr parser
};

struct OpInfo {
  const char* name = nullptr;
  OpClass cls = OpClass::kUnknown;
};

struct OpDef {
  uint8_t code;
  const char* name;
  OpClass cls;
};

// Every opcode of pickle protocols 0 to 5 (CPython Lib/pickle.py).
constexpr OpDef kOpDefs[] = {
    {'(', "MARK", OpClass::kRead},
    {'.', "STOP", OpClass::kRead},
    {'0', "POP", OpClass::kRead},
    {'1', "POP_MARK", OpClass::kRead},
    {'2', "DUP", OpClass::kRead},
    {'F', "FLOAT", OpClass::kRead},
    {'I', "INT", OpClass::kRead},
    {'J', "BININT", OpClass::kRead},
    {'K', "BININT1", OpClass::kRead},
    {'L', "LONG", OpClass::kRead},
    {'M', "BININT2", OpClass::kRead},
    {'N', "NONE", OpClass::kRead},
    {'P', "PERSID", OpClass::kObject},
    {'Q', "BINPERSID", OpClass::kObject},
    {'R', "REDUCE", OpClass::kObject},
    {'S', "STRING", OpClass::kText},
    {'T', "BINSTRING", OpClass::kRead},
    {'U', "SHORT_BINSTRING", OpClass::kRead},
    {'V', "UNICODE", OpClass::kText},
    {'X', "BINUNICODE", OpClass::kRead},
    {'a', "APPEND", OpClass::kRead},
    {'b', "BUILD", OpClass::kObject},
    {'c', "GLOBAL", OpClass::kObject},
    {'d', "DICT", OpClass::kRead},
    {'}', "EMPTY_DICT", OpClass::kRead},
    {'e', "APPENDS", OpClass::kRead},
    {'g', "GET", OpClass::kRead},
    {'h', "BINGET", OpClass::kRead},
    {'i', "INST", OpClass::kObject},
    {'j', "LONG_BINGET", OpClass::kRead},
    {'l', "LIST", OpClass::kRead},
    {']', "EMPTY_LIST", OpClass::kRead},
    {'o', "OBJ", OpClass::kObject},
    {'p', "PUT", OpClass::kRead},
    {'q', "BINPUT", OpClass::kRead},
    {'r', "LONG_BINPUT", OpClass::kRead},
    {'s', "SETITEM", OpClass::kRead},
    {'t', "TUPLE", OpClass::kRead},
    {')', "EMPTY_TUPLE", OpClass::kRead},
    {'u', "SETITEMS", OpClass::kRead},
    {'G', "BINFLOAT", OpClass::kRead},
    {0x80, "PROTO", OpClass::kRead},
    {0x81, "NEWOBJ", OpClass::kObject},
    {0x82, "EXT1", OpClass::kObject},
    {0x83, "EXT2", OpClass::kObject},
    {0x84, "EXT4", OpClass::kObject},
    {0x85, "TUPLE1", OpClass::kRead},
    {0x86, "TUPLE2", OpClass::kRead},
    {0x87, "TUPLE3", OpClass::kRead},
    {0x88, "NEWTRUE", OpClass::kRead},
    {0x89, "NEWFALSE", OpClass::kRead},
    {0x8a, "LONG1", OpClass::kRead},
    {0x8b, "LONG4", OpClass::kRead},
    {'B', "BINBYTES", OpClass::kRead},
    {'C', "SHORT_BINBYTES", OpClass::kRead},
    {0x8c, "SHORT_BINUNICODE", OpClass::kRead},
    {0x8d, "BINUNICODE8", OpClass::kRead},
    {0x8e, "BINBYTES8", OpClass::kRead},
    {0x8f, "EMPTY_SET", OpClass::kObject},
    {0x90, "ADDITEMS", OpClass::kObject},
    {0x91, "FROZENSET", OpClass::kObject},
    {0x92, "NEWOBJ_EX", OpClass::kObject},
    {0x93, "STACK_GLOBAL", OpClass::kObject},
    {0x94, "MEMOIZE", OpClass::kRead},
    {0x95, "FRAME", OpClass::kRead},
    {0x96, "BYTEARRAY8", OpClass::kObject},
    {0x97, "NEXT_BUFFER", OpClass::kObject},
    {0x98, "READONLY_BUFFER", OpClass::kObject},
};

// kOpDefs indexed by opcode byte.
const OpInfo* op_table() {
  static const auto* table = [] {
    static OpInfo t[256];
    for (const OpDef& d : kOpDefs) t[d.code] = {d.name, d.cls};
    return t;
  }();
  return table;
}

using NodeId = uint32_t;

// A value under construction, kept small (hostile input is mostly tiny opcodes). Strings and
// containers live in side tables indexed by `ref`. Containers refer to other nodes by id, so a
// memoized list that is filled after another container took a reference to it is seen complete
// through every reference, as in Python.
struct Node {
  PyValue::Kind kind = PyValue::Kind::kNone;
  bool b = false;
  uint32_t ref = 0;  // index into strings_, seqs_ or dicts_, by kind
  int64_t i = 0;
  double f = 0;
};

struct DictData {
  std::vector<std::pair<NodeId, NodeId>> entries;  // in insertion order
  std::unordered_map<std::string, size_t> index;   // key_of(key) -> position in entries
};

bool valid_utf8(std::string_view s) {
  // Well-formed UTF-8, except that encoded surrogates are accepted: CPython pickles str with
  // 'surrogatepass', so a lone surrogate round-trips through a pickle.
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff) return false;  // overlong or beyond Unicode
    i += len;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view in, const std::string& name) : in_(in), name_(name) {}

  PyValue run() {
    while (true) {
      if (pos_ >= in_.size())
        fail("{}: pickle is truncated: no STOP opcode before the end at byte {}", name_,
             in_.size());
      op_pos_ = pos_;
      op_ = static_cast<uint8_t>(in_[pos_++]);
      const OpInfo& info = op_table()[op_];
      switch (info.cls) {
        case OpClass::kUnknown:
          fail("{}: unknown pickle opcode 0x{:02x} at byte {}", name_, op_, op_pos_);
        case OpClass::kObject:
          fail("{}: pickle opcode {} at byte {} is not allowed (only builtin types are read)",
               name_, info.name, op_pos_);
        case OpClass::kText:
          fail(
              "{}: pickle opcode {} at byte {} is not supported (protocol 0 text string; "
              "re-save with pickle protocol 2 or later)",
              name_, info.name, op_pos_);
        case OpClass::kRead:
          break;
      }
      if (op_ == '.') break;  // STOP
      step();
      if (nodes_.size() > std::numeric_limits<NodeId>::max() - 1)
        fail("{}: pickle holds more than {} values", name_, std::numeric_limits<NodeId>::max());
    }
    const size_t stop_pos = op_pos_;
    if (!marks_.empty()) fail("{}: pickle STOP at byte {} with a MARK still open", name_, stop_pos);
    if (stack_.size() != 1)
      fail("{}: pickle STOP at byte {} leaves {} values on the stack, expected 1", name_, stop_pos,
           stack_.size());
    if (pos_ != in_.size())
      fail("{}: {} bytes follow the pickle's STOP opcode at byte {}", name_, in_.size() - pos_,
           stop_pos);
    // Sharing (memo GET, DUP) lets a few bytes stand for a huge tree: cap the copy.
    node_budget_ = kNodeBudgetBase + 16 * in_.size();
    byte_budget_ = kByteBudgetBase + 4 * in_.size();
    on_path_.assign(nodes_.size(), false);
    return build(stack_.back(), 0);
  }

 private:
  static constexpr size_t kNodeBudgetBase = size_t{1} << 20;
  static constexpr size_t kByteBudgetBase = size_t{64} << 20;

  const char* op_name() const { return op_table()[op_].name; }

  // ---- input

  // Consumes `n` argument bytes of the current opcode.
  std::string_view take(uint64_t n) {
    const size_t left = in_.size() - pos_;
    if (n > left)
      fail("{}: pickle is truncated: opcode {} at byte {} needs {} more bytes, {} remain", name_,
           op_name(), op_pos_, n, left);
    std::string_view out = in_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
  }

  // A little-endian unsigned integer of `bytes` bytes.
  uint64_t take_le(int bytes) {
    std::string_view b = take(bytes);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[i]);
    return v;
  }

  // A signed 4-byte length (BINSTRING, LONG4), refused when negative.
  uint64_t take_length_i32() {
    const auto n = static_cast<int32_t>(take_le(4));
    if (n < 0)
      fail("{}: pickle opcode {} at byte {} has a negative length {}", name_, op_name(), op_pos_,
           n);
    return static_cast<uint64_t>(n);
  }

  // The argument line of a text opcode (INT, LONG, FLOAT, PUT, GET), without its '\n'.
  std::string_view take_line() {
    const size_t nl = in_.find('\n', pos_);
    if (nl == std::string_view::npos)
      fail("{}: pickle is truncated: opcode {} at byte {} has no end of line", name_, op_name(),
           op_pos_);
    std::string_view line = in_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return line;
  }

  int64_t parse_decimal(std::string_view s) {
    int64_t v = 0;
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (first != last && *first == '+') ++first;  // Python's int() accepts it; from_chars does not
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec == std::errc::result_out_of_range)
      fail("{}: pickle opcode {} at byte {} holds the int {}, beyond int64", name_, op_name(),
           op_pos_, s);
    if (ec != std::errc() || end != last || first == last)
      fail("{}: pickle opcode {} at byte {} has a malformed number '{}'", name_, op_name(), op_pos_,
           s);
    return v;
  }

  // A memo index written as a decimal line (PUT, GET).
  uint64_t memo_index_line() {
    const int64_t v = parse_decimal(take_line());
    if (v < 0)
      fail("{}: pickle opcode {} at byte {} has a negative memo index {}", name_, op_name(),
           op_pos_, v);
    return static_cast<uint64_t>(v);
  }

  // LONG1/LONG4 payload: little-endian two's complement of `n` bytes.
  int64_t read_long(uint64_t n) {
    std::string_view b = take(n);
    if (n == 0) return 0;
    auto byte = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
    // Bytes beyond the 8th may only repeat the sign (CPython sometimes writes one such byte).
    const size_t used = std::min<size_t>(b.size(), 8);
    const unsigned char fill = (byte(used - 1) & 0x80) ? 0xff : 0x00;
    for (size_t i = 8; i < b.size(); ++i)
      if (byte(i) != fill)
        fail("{}: pickle opcode {} at byte {} holds an int of {} bytes, beyond int64", name_,
             op_name(), op_pos_, b.size());
    uint64_t v = fill ? ~uint64_t{0} : 0;  // sign-extended
    for (size_t i = 0; i < used; ++i) {
      v &= ~(uint64_t{0xff} << (8 * i));
      v |= uint64_t{byte(i)} << (8 * i);
    }
    return static_cast<int64_t>(v);
  }

  // ---- values

  NodeId add(const Node& n) {
    nodes_.push_back(n);
    return static_cast<NodeId>(nodes_.size() - 1);
  }
  void push(const Node& n) { stack_.push_back(add(n)); }

  void push_bool(bool b) {
    Node n;
    n.kind = PyValue::Kind::kBool;
    n.b = b;
    push(n);
  }
  void push_int(int64_t v) {
    Node n;
    n.kind = PyValue::Kind::kInt;
    n.i = v;
    push(n);
  }
  void push_float(double f) {
    Node n;
    n.kind = PyValue::Kind::kFloat;
    n.f = f;
    push(n);
  }
  void push_text(PyValue::Kind kind, std::string_view s) {
    if (kind == PyValue::Kind::kStr && !valid_utf8(s))
      fail("{}: pickle opcode {} at byte {} holds a string that is not valid UTF-8", name_,
           op_name(), op_pos_);
    Node n;
    n.kind = kind;
    n.ref = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
    push(n);
  }
  // A list or tuple holding `items`.
  NodeId new_seq(PyValue::Kind kind, std::vector<NodeId> items) {
    Node n;
    n.kind = kind;
    n.ref = static_cast<uint32_t>(seqs_.size());
    seqs_.push_back(std::move(items));
    return add(n);
  }
  NodeId new_dict() {
    Node n;
    n.kind = PyValue::Kind::kDict;
    n.ref = static_cast<uint32_t>(dicts_.size());
    dicts_.emplace_back();
    return add(n);
  }

  // ---- stack and memo

  // Values above the innermost MARK (CPython keeps them on a fresh stack).
  size_t available() const { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); }

  void need(size_t n) {
    if (available() < n)
      fail("{}: pickle stack underflow: opcode {} at byte {} needs {} value{}, {} available", name_,
           op_name(), op_pos_, n, n == 1 ? "" : "s", available());
  }

  NodeId pop() {
    need(1);
    const NodeId id = stack_.back();
    stack_.pop_back();
    return id;
  }

  // Pops the top `k` values (in push order).
  std::vector<NodeId> pop_n(size_t k) {
    need(k);
    std::vector<NodeId> out(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
    stack_.resize(stack_.size() - k);
    return out;
  }

  // Pops back to the innermost MARK and returns the values above it (in push order).
  std::vector<NodeId> pop_mark() {
    if (marks_.empty())
      fail("{}: pickle opcode {} at byte {} has no MARK to pop to", name_, op_name(), op_pos_);
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<NodeId> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }

  NodeId memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end())
      fail("{}: pickle opcode {} at byte {} reads memo index {}, which was never stored", name_,
           op_name(), op_pos_, index);
    return it->second;
  }

  void memo_put(uint64_t index) {
    need(1);
    memo_[index] = stack_.back();
  }

  // The container that APPEND(S)/SETITEM(S) modify: the top of the stack once the operands are
  // popped. It must be of the `want` kind (a tuple is immutable; sets are refused anyway).
  const Node& target(PyValue::Kind want) {
    need(1);
    const Node& t = nodes_[stack_.back()];
    if (t.kind != want)
      fail("{}: pickle opcode {} at byte {} modifies a {}, expected a {}", name_, op_name(),
           op_pos_, PyValue::kind_name(t.kind), PyValue::kind_name(want));
    return t;
  }

  // The dict index key of a node: a kind tag and the value, so that 1 and '1' differ.
  std::string key_of(NodeId key) {
    const Node& k = nodes_[key];
    switch (k.kind) {
      case PyValue::Kind::kStr:
        return "s" + strings_[k.ref];
      case PyValue::Kind::kInt:
        return "i" + std::to_string(k.i);
      case PyValue::Kind::kList:
      case PyValue::Kind::kDict:
        fail("{}: pickle opcode {} at byte {} uses a {} as a dict key (unhashable type)", name_,
             op_name(), op_pos_, PyValue::kind_name(k.kind));
      default:
        fail(
            "{}: pickle opcode {} at byte {} uses a {} as a dict key; only str and int keys are "
            "read",
            name_, op_name(), op_pos_, PyValue::kind_name(k.kind));
    }
  }

  // d[k] = v for each (k, v) pair in `kv`; a key set twice keeps its first position and takes
  // the last value, as in Python.
  void set_items(const Node& dict, const std::vector<NodeId>& kv) {
    if (kv.size() % 2)
      fail("{}: pickle opcode {} at byte {} has an odd number of values ({}) for key/value pairs",
           name_, op_name(), op_pos_, kv.size());
    DictData& d = dicts_[dict.ref];
    for (size_t i = 0; i < kv.size(); i += 2) {
      auto [it, inserted] = d.index.emplace(key_of(kv[i]), d.entries.size());
      if (inserted)
        d.entries.emplace_back(kv[i], kv[i + 1]);
      else
        d.entries[it->second].second = kv[i + 1];
    }
  }

  // ---- one opcode (its byte is op_, its arguments follow at pos_)

  void step() {
    using K = PyValue::Kind;
    switch (op_) {
      case 0x80: {  // PROTO
        const int v = static_cast<unsigned char>(take(1)[0]);
        if (v < 2 || v > 5)
          fail("{}: pickle protocol {} (PROTO at byte {}) is not supported; expected 2 to 5", name_,
               v, op_pos_);
        return;
      }
      case 0x95: {  // FRAME: a length hint for buffered reading; only check that it fits
        const uint64_t n = take_le(8);
        if (n > in_.size() - pos_)
          fail("{}: pickle is truncated: FRAME at byte {} announces {} bytes, {} remain", name_,
               op_pos_, n, in_.size() - pos_);
        return;
      }
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return;
      case '0':  // POP: as in CPython, with nothing above the mark it discards the mark
        if (available() > 0)
          stack_.pop_back();
        else
          pop_mark();
        return;
      case '1':  // POP_MARK
        pop_mark();
        return;
      case '2':  // DUP: the same object again (shared, like a memo GET)
        need(1);
        stack_.push_back(stack_.back());
        return;

      case 'N':  // NONE
        push(Node{});
        return;
      case 0x88:  // NEWTRUE
      case 0x89:  // NEWFALSE
        push_bool(op_ == 0x88);
        return;
      case 'J':  // BININT: signed 4 bytes
        push_int(static_cast<int32_t>(take_le(4)));
        return;
      case 'K':  // BININT1: unsigned 1 byte
        push_int(static_cast<int64_t>(take_le(1)));
        return;
      case 'M':  // BININT2: unsigned 2 bytes
        push_int(static_cast<int64_t>(take_le(2)));
        return;
      case 0x8a:  // LONG1
        push_int(read_long(take_le(1)));
        return;
      case 0x8b:  // LONG4
        push_int(read_long(take_length_i32()));
        return;
      case 'I': {  // INT: decimal line; protocol 0 writes bools as I00 / I01
        std::string_view line = take_line();
        if (line == "00" || line == "01")
          push_bool(line == "01");
        else
          push_int(parse_decimal(line));
        return;
      }
      case 'L': {  // LONG: decimal line; Python 2 wrote a trailing 'L'
        std::string_view line = take_line();
        if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
        push_int(parse_decimal(line));
        return;
      }
      case 'F': {  // FLOAT: repr() of a float on one line
        std::string_view line = take_line();
        double f = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), f);
        if (ec != std::errc() || end != line.data() + line.size() || line.empty())
          fail("{}: pickle opcode FLOAT at byte {} has a malformed number '{}'", name_, op_pos_,
               line);
        push_float(f);
        return;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        std::string_view b = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | static_cast<unsigned char>(b[i]);
        double f;
        std::memcpy(&f, &bits, sizeof f);
        push_float(f);
        return;
      }

      case 'X':  // BINUNICODE
        push_text(K::kStr, take(take_le(4)));
        return;
      case 0x8c:  // SHORT_BINUNICODE
        push_text(K::kStr, take(take_le(1)));
        return;
      case 0x8d:  // BINUNICODE8
        push_text(K::kStr, take(take_le(8)));
        return;
      case 'T':  // BINSTRING: a py2 str, read as str
        push_text(K::kStr, take(take_length_i32()));
        return;
      case 'U':  // SHORT_BINSTRING
        push_text(K::kStr, take(take_le(1)));
        return;
      case 'B':  // BINBYTES
        push_text(K::kBytes, take(take_le(4)));
        return;
      case 'C':  // SHORT_BINBYTES
        push_text(K::kBytes, take(take_le(1)));
        return;
      case 0x8e:  // BINBYTES8
        push_text(K::kBytes, take(take_le(8)));
        return;

      case ']':  // EMPTY_LIST
        stack_.push_back(new_seq(K::kList, {}));
        return;
      case ')':  // EMPTY_TUPLE
        stack_.push_back(new_seq(K::kTuple, {}));
        return;
      case '}':  // EMPTY_DICT
        stack_.push_back(new_dict());
        return;
      case 'l':  // LIST: the values above the mark
        stack_.push_back(new_seq(K::kList, pop_mark()));
        return;
      case 't':  // TUPLE: the values above the mark
        stack_.push_back(new_seq(K::kTuple, pop_mark()));
        return;
      case 0x85:  // TUPLE1
      case 0x86:  // TUPLE2
      case 0x87:  // TUPLE3
        stack_.push_back(new_seq(K::kTuple, pop_n(op_ - 0x84u)));
        return;
      case 'd': {  // DICT: key/value pairs above the mark
        std::vector<NodeId> kv = pop_mark();
        const NodeId id = new_dict();
        set_items(nodes_[id], kv);
        stack_.push_back(id);
        return;
      }
      case 'a': {  // APPEND
        const NodeId v = pop();
        seqs_[target(K::kList).ref].push_back(v);
        return;
      }
      case 'e': {  // APPENDS
        const std::vector<NodeId> vs = pop_mark();
        auto& items = seqs_[target(K::kList).ref];
        items.insert(items.end(), vs.begin(), vs.end());
        return;
      }
      case 's': {  // SETITEM
        const std::vector<NodeId> kv = pop_n(2);
        set_items(target(K::kDict), kv);
        return;
      }
      case 'u': {  // SETITEMS
        const std::vector<NodeId> kv = pop_mark();
        set_items(target(K::kDict), kv);
        return;
      }

      case 'p':  // PUT
        memo_put(memo_index_line());
        return;
      case 'q':  // BINPUT
        memo_put(take_le(1));
        return;
      case 'r':  // LONG_BINPUT
        memo_put(take_le(4));
        return;
      case 0x94:  // MEMOIZE
        memo_put(memo_.size());
        return;
      case 'g':  // GET
        stack_.push_back(memo_get(memo_index_line()));
        return;
      case 'h':  // BINGET
        stack_.push_back(memo_get(take_le(1)));
        return;
      case 'j':  // LONG_BINGET
        stack_.push_back(memo_get(take_le(4)));
        return;
    }
    // Every kRead opcode is handled above; reaching here is a bug in the table.
    REPBENCH_ASSERT(false);
  }

  // ---- the result

  // Copies node `id` into a PyValue, refusing cycles, excessive depth and expansion.
  PyValue build(NodeId id, int depth) {
    if (depth > kMaxPickleDepth)
      fail("{}: pickle nests containers deeper than {} levels", name_, kMaxPickleDepth);
    const Node& n = nodes_[id];
    using K = PyValue::Kind;
    const bool text = n.kind == K::kStr || n.kind == K::kBytes;
    const size_t bytes = text ? strings_[n.ref].size() : 0;
    if (node_budget_ == 0 || bytes > byte_budget_)
      fail(
          "{}: pickle expands through shared references to more than {} values or {} bytes; "
          "refused as hostile",
          name_, kNodeBudgetBase + 16 * in_.size(), kByteBudgetBase + 4 * in_.size());
    --node_budget_;
    byte_budget_ -= bytes;
    switch (n.kind) {
      case K::kNone:
        return PyValue::none();
      case K::kBool:
        return PyValue::boolean(n.b);
      case K::kInt:
        return PyValue::integer(n.i);
      case K::kFloat:
        return PyValue::floating(n.f);
      case K::kStr:
        return PyValue::str(strings_[n.ref]);
      case K::kBytes:
        return PyValue::bytes(strings_[n.ref]);
      default:
        break;
    }
    if (on_path_[id])
      fail("{}: pickle holds a {} that contains itself; recursive structures are not read", name_,
           PyValue::kind_name(n.kind));
    on_path_[id] = true;
    PyValue out;
    if (n.kind == K::kDict) {
      const auto& src = dicts_[n.ref].entries;
      PyValue::Entries entries;
      entries.reserve(src.size());
      for (const auto& [k, v] : src) entries.emplace_back(build(k, depth + 1), build(v, depth + 1));
      out = PyValue::dict(std::move(entries));
    } else {
      const auto& src = seqs_[n.ref];
      PyValue::List items;
      items.reserve(src.size());
      for (NodeId c : src) items.push_back(build(c, depth + 1));
      out = n.kind == K::kList ? PyValue::list(std::move(items)) : PyValue::tuple(std::move(items));
    }
    on_path_[id] = false;
    return out;
  }

  std::string_view in_;
  const std::string& name_;
  size_t pos_ = 0;     // next byte to read
  size_t op_pos_ = 0;  // byte of the current opcode (for messages)
  uint8_t op_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::string> strings_;
  std::vector<std::vector<NodeId>> seqs_;
  std::vector<DictData> dicts_;
  std::vector<NodeId> stack_;
  std::vector<size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<uint64_t, NodeId> memo_;
  std::vector<bool> on_path_;  // nodes on the current path of build(), to find cycles
  size_t node_budget_ = 0;
  size_t byte_budget_ = 0;
};

}  // namespace

PyValue parse_pickle(std::string_view bytes, const std::string& source_name) {
  return Parser(bytes, source_name).run();
}

PyValue load_pickle(const std::string& path) {
  return parse_pickle(read_file(path), path);
}

}  // namespace repbench::datasets
