// A restricted reader of Python pickles that holds only builtin values.
//
// The original annotation files of some sets (revisitop's gnd_roxford5k.pkl, gnd_rparis6k.pkl)
// are pickles. Python's own unpickler can run arbitrary code (GLOBAL + REDUCE); this one reads
// only the opcodes that build None, bool, int, float, str, bytes, list, tuple and dict, and refuses
// every other opcode with its name and byte offset, without executing anything.
//
// Accepted: protocols 2 to 5 (PROTO; FRAME is read as a hint), plus the protocol 0/1 opcodes
// INT, LONG, FLOAT, PUT and GET and the py2 strings BINSTRING/SHORT_BINSTRING (read as str).
// Shared references (memo GET, DUP) are copied into the value tree; a structure that contains
// itself is refused, as are trees nested deeper than kMaxPickleDepth or expanding (by sharing)
// to far more values than the input could hold on its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace repbench::datasets {

// Deepest nesting of containers that parse_pickle accepts (the value tree is freed recursively).
inline constexpr int kMaxPickleDepth = 1000;

// A builtin Python value: None, bool, int (int64), float, str (UTF-8), bytes, list, tuple or dict
// (keys str or int, in insertion order).
class PyValue {
 public:
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kList, kTuple, kDict };
  using List = std::vector<PyValue>;                         // items of a list or tuple
  using Entries = std::vector<std::pair<PyValue, PyValue>>;  // a dict's (key, value) pairs

  PyValue() = default;  // None
  static PyValue none() { return PyValue(); }
  static PyValue boolean(bool b) { return PyValue(Kind::kBool, b); }
  static PyValue integer(int64_t i) { return PyValue(Kind::kInt, i); }
  static PyValue floating(double f) { return PyValue(Kind::kFloat, f); }
  static PyValue str(std::string s) { return PyValue(Kind::kStr, std::move(s)); }
  static PyValue bytes(std::string b) { return PyValue(Kind::kBytes, std::move(b)); }
  static PyValue list(List items) { return PyValue(Kind::kList, std::move(items)); }
  static PyValue tuple(List items) { return PyValue(Kind::kTuple, std::move(items)); }
  // Keys must be str or int and distinct (not checked here; the parser checks what it reads).
  static PyValue dict(Entries entries) { return PyValue(Kind::kDict, std::move(entries)); }

  Kind kind() const { return kind_; }
  // Python's name of the type: "NoneType", "bool", "int", "float", "str", "bytes", "list",
  // "tuple" or "dict".
  const char* type_name() const;
  static const char* kind_name(Kind kind);

  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float(); }  // int or float, never bool
  bool is_str() const { return kind_ == Kind::kStr; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_dict() const { return kind_ == Kind::kDict; }

  // Typed access; each throws repbench::Error ("pickle value is a str, expected int") on a kind
  // mismatch. Callers that know where the value came from check the kind first and say so.
  bool as_bool() const;
  int64_t as_int() const;
  double as_float() const;
  double as_number() const;  // an int or a float, as double
  const std::string& as_str() const;
  const std::string& as_bytes() const;
  const List& items() const;  // a list's or a tuple's items
  const Entries& entries() const;

  // Dict lookup (linear; dicts read from annotation files are small). nullptr when absent or when
  // this is not a dict.
  const PyValue* find(std::string_view key) const;
  const PyValue* find(int64_t key) const;

  // Python-like repr, e.g. {'a': [1, 2.5, None], 3: (b'x',)}; for tests and error messages.
  std::string repr() const;

  // Structural equality (floats compared with ==, so NaN != NaN; 1 != 1.0 != True).
  friend bool operator==(const PyValue& a, const PyValue& b);
  friend bool operator!=(const PyValue& a, const PyValue& b) { return !(a == b); }

 private:
  template <typename T>
  PyValue(Kind kind, T value) : kind_(kind), v_(std::move(value)) {}
  [[noreturn]] void wrong_kind(const char* expected) const;

  Kind kind_ = Kind::kNone;
  // str and bytes share std::string; list and tuple share List (kind_ tells them apart).
  std::variant<std::monostate, bool, int64_t, double, std::string, List, Entries> v_;
};

// Parses a pickle held in memory. `source_name` (usually the file path) starts every error
// message. Throws repbench::Error on a refused or unknown opcode, truncated input, stack
// underflow, an undefined memo index, an unhashable or unsupported dict key, invalid UTF-8,
// an int beyond int64, or bytes after STOP; each message gives the byte offset.
PyValue parse_pickle(std::string_view bytes, const std::string& source_name);

// Reads and parses a pickle file (errors start with `path`).
PyValue load_pickle(const std::string& path);

}  // namespace repbench::datasets
