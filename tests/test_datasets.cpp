// Tests of datasets/: the restricted pickle reader (against CPython's pickle), the revisitop
// loader on the real rOxford5k / rParis6k ground truth, gnd.json, and the set registry.
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/gnd_json.h"
#include "datasets/pickle.h"
#include "datasets/retrieval_set.h"
#include "datasets/revisitop.h"
#include "datasets/set_registry.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace repbench::datasets {
namespace {

constexpr const char* kPython = "/usr/bin/python3";
const std::string kGndDir = std::string(REPBENCH_SHARED_DIR) + "/data/gnd";
const std::string kOxford = kGndDir + "/gnd_roxford5k.pkl";
const std::string kParis = kGndDir + "/gnd_rparis6k.pkl";

class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_datasets") {}
};

void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void run_python(const TempDir& dir, const std::string& script) {
  const std::string file = dir / "script.py";
  write_bytes(file, script);
  const std::string cmd = std::string(kPython) + " " + file + " " + dir.str();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "python failed: " << cmd;
}

// Expects `fn` to throw repbench::Error whose one-line message contains every one of `parts`.
template <typename Fn>
std::string expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  const std::string e = test_support::error_of(fn);
  for (const auto& p : parts) EXPECT_TRUE(test_support::is_one_line_error(e, p));
  return e == "(no error)" ? "" : e;
}

PyValue parse(const std::string& bytes) {
  return parse_pickle(bytes, "t.pkl");
}

// A string literal as bytes, embedded NULs included.
template <size_t N>
std::string B(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// A PyValue as JSON (dict keys must be str), to compare with Python's json.dumps.
json to_json(const PyValue& v) {
  switch (v.kind()) {
    case PyValue::Kind::kNone:
      return nullptr;
    case PyValue::Kind::kBool:
      return v.as_bool();
    case PyValue::Kind::kInt:
      return v.as_int();
    case PyValue::Kind::kFloat:
      return v.as_float();
    case PyValue::Kind::kStr:
      return v.as_str();
    case PyValue::Kind::kBytes:
      ADD_FAILURE() << "bytes in JSON";
      return nullptr;
    case PyValue::Kind::kList:
    case PyValue::Kind::kTuple: {
      json a = json::array();
      for (const auto& x : v.items()) a.push_back(to_json(x));
      return a;
    }
    case PyValue::Kind::kDict: {
      json o = json::object();
      for (const auto& [k, x] : v.entries()) o[k.as_str()] = to_json(x);
      return o;
    }
  }
  return nullptr;
}

// =============================================================================================
// Pickle reader

TEST(Pickle, BuiltinValuesMatchCPythonForProtocols2To5) {
  TempDir dir;
  run_python(dir, R"PY(
import sys, pickle
d = sys.argv[1]
shared = [1, 'two']
obj = {
    'none': None, 't': True, 'f': False, 'zero': 0, 'small': 5, 'neg': -7, 'b1': 255, 'b2': 65535,
    'i16': 65536, 'i32min': -2**31, 'i32max': 2**31 - 1, 'long33': 2**33, 'big': 2**62 + 3,
    'min': -2**63, 'max': 2**63 - 1, 'negbig': -2**40 - 1,
    'float': 3.25, 'negz': -0.0, 'inf': float('inf'), 'ninf': float('-inf'), 'tiny': 5e-324,
    'huge': 1.7976931348623157e308, 'third': 1 / 3, 'one': 1.0, 'e16': 1e16,
    'str': 'h\u00e9llo \u2713 \U0001F600', 'empty': '', 'long_str': 'x' * 300,
    'list': [1, [2, [3, []]], ()], 'tuple1': (1,), 'tuple2': (1, 'a'), 'tuple3': (1, 2, 3),
    'tuple4': (1, 2, 3, 4), 'empty_tuple': (), 'empty_dict': {},
    7: 'int key', -1: 'negative key',
    'shared': shared, 'shared_again': shared,
    'range': list(range(2500)), 'bigdict': {'k%d' % i: i for i in range(1500)},
    'dicts': [{'a': 1}, {}, {2: None}],
}
with_bytes = dict(obj, bytes=b'\x00\xff abc\n', empty_bytes=b'', big_bytes=b'y' * 300)
for p in (2, 3, 4, 5):
    o = obj if p == 2 else with_bytes  # protocol 2 pickles bytes through codecs.encode (REDUCE)
    open('%s/obj%d.pkl' % (d, p), 'wb').write(pickle.dumps(o, protocol=p))
    open('%s/obj%d.repr' % (d, p), 'w', encoding='utf-8').write(repr(o))
# Protocols 0 and 1 (no PROTO): text INT/FLOAT/LONG/PUT/GET and binary ops without framing.
x = [3]
p0 = [1, -2, 2.5, True, False, None, 10**15, x, x]
open(d + '/p0.pkl', 'wb').write(pickle.dumps(p0, protocol=0))
open(d + '/p0.repr', 'w').write(repr(p0))
p1 = {'a': [1, 2.5, None, (x, x)], 'b': 'text'}
open(d + '/p1.pkl', 'wb').write(pickle.dumps(p1, protocol=1))
open(d + '/p1.repr', 'w').write(repr(p1))
)PY");
  PyValue v3;
  for (int p : {2, 3, 4, 5}) {
    SCOPED_TRACE("protocol " + std::to_string(p));
    const std::string base = dir / ("obj" + std::to_string(p));
    PyValue v = load_pickle(base + ".pkl");
    EXPECT_EQ(v.repr(), read_bytes(base + ".repr"));
    ASSERT_TRUE(v.is_dict());
    // Typed checks of what repr alone could blur.
    EXPECT_TRUE(v.find("none")->is_none());
    EXPECT_EQ(v.find("t")->as_bool(), true);
    EXPECT_EQ(v.find("min")->as_int(), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(v.find("max")->as_int(), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(v.find("big")->as_int(), (int64_t{1} << 62) + 3);
    EXPECT_EQ(v.find("i32min")->as_int(), -2147483648LL);
    EXPECT_EQ(v.find("b2")->as_int(), 65535);
    EXPECT_EQ(v.find("third")->as_float(), 1.0 / 3);
    EXPECT_TRUE(std::signbit(v.find("negz")->as_float()));
    EXPECT_EQ(v.find("tiny")->as_float(), std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(v.find("str")->as_str(), "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
    EXPECT_EQ(v.find(7)->as_str(), "int key");
    EXPECT_EQ(v.find(-1)->as_str(), "negative key");
    EXPECT_EQ(v.find("tuple1")->kind(), PyValue::Kind::kTuple);
    EXPECT_EQ(*v.find("shared"), *v.find("shared_again"));
    EXPECT_EQ(v.find("range")->items().size(), 2500u);
    EXPECT_EQ(v.find("range")->items()[2499].as_int(), 2499);
    EXPECT_EQ(v.find("bigdict")->entries().size(), 1500u);
    EXPECT_EQ(v.find("bigdict")->find("k1499")->as_int(), 1499);
    if (p >= 3) {
      EXPECT_EQ(v.find("bytes")->as_bytes(), B("\x00\xff abc\n"));
      EXPECT_EQ(v.find("big_bytes")->as_bytes(), std::string(300, 'y'));
      if (p == 3)
        v3 = v;
      else
        EXPECT_EQ(v, v3);  // the same value whatever the protocol
    }
  }
  EXPECT_EQ(load_pickle(dir / "p0.pkl").repr(), read_bytes(dir / "p0.repr"));
  EXPECT_EQ(load_pickle(dir / "p1.pkl").repr(), read_bytes(dir / "p1.repr"));
}

TEST(Pickle, RealGroundTruthMatchesCPython) {
  TempDir dir;
  run_python(dir, std::string(R"PY(
import sys, pickle, json
d = sys.argv[1]
for name in ('roxford5k', 'rparis6k'):
    obj = pickle.load(open(')PY") +
                      kGndDir + R"PY(/gnd_%s.pkl' % name, 'rb'))
    json.dump(obj, open('%s/%s.json' % (d, name), 'w'))
)PY");
  for (const auto& [name, path] : {std::pair{"roxford5k", kOxford}, {"rparis6k", kParis}}) {
    SCOPED_TRACE(name);
    const json want = json::parse(read_bytes(dir / (std::string(name) + ".json")));
    const PyValue got = load_pickle(path);
    EXPECT_TRUE(to_json(got) == want);
    // Insertion order is kept: the keys as CPython wrote them.
    ASSERT_EQ(got.entries().size(), 3u);
    EXPECT_EQ(got.entries()[0].first.as_str(), "gnd");
    EXPECT_EQ(got.entries()[1].first.as_str(), "imlist");
    EXPECT_EQ(got.entries()[2].first.as_str(), "qimlist");
  }
}

TEST(Pickle, RefusesNonBuiltinObjectsWrittenByCPython) {
  TempDir dir;
  // The first opcode outside our whitelist (computed with pickletools) must be the one named.
  run_python(dir, R"PY(
import sys, pickle, pickletools, numpy as np
d = sys.argv[1]
class Thing:
    def __init__(self): self.x = 1
allowed = set('''PROTO FRAME STOP MARK POP POP_MARK DUP EMPTY_DICT EMPTY_LIST EMPTY_TUPLE TUPLE
TUPLE1 TUPLE2 TUPLE3 DICT LIST APPEND APPENDS SETITEM SETITEMS INT LONG BININT BININT1 BININT2
LONG1 LONG4 FLOAT BINFLOAT NONE NEWTRUE NEWFALSE BINUNICODE SHORT_BINUNICODE BINUNICODE8
BINBYTES SHORT_BINBYTES BINBYTES8 MEMOIZE PUT BINPUT LONG_BINPUT GET BINGET LONG_BINGET
BINSTRING SHORT_BINSTRING'''.split())
cases = {
    'set2': ({1, 2}, 2), 'set4': ({1, 2}, 4), 'frozenset4': (frozenset([3]), 4),
    'thing3': (Thing(), 3), 'thing4': ([1, Thing()], 4), 'numpy4': (np.arange(3), 4),
    'numpy2': ({'a': np.float32(1)}, 2), 'bytes2': (b'ab', 2), 'bytearray5': (bytearray(b'x'), 5),
    'complex3': (1j, 3),
}
with open(d + '/manifest.txt', 'w') as m:
    for name, (obj, proto) in cases.items():
        b = pickle.dumps(obj, protocol=proto)
        open('%s/%s.pkl' % (d, name), 'wb').write(b)
        op, pos = next((op.name, pos) for op, arg, pos in pickletools.genops(b)
                       if op.name not in allowed)
        m.write('%s %s %d\n' % (name, op, pos))
)PY");
  std::ifstream manifest(dir / "manifest.txt");
  std::string name, op;
  size_t pos, n = 0;
  while (manifest >> name >> op >> pos) {
    SCOPED_TRACE(name);
    const std::string path = dir / (name + ".pkl");
    const std::string msg = expect_error(
        [&] { load_pickle(path); },
        {fmt::format("{}: pickle opcode {} at byte {} is not allowed (only builtin types are read)",
                     path, op, pos)});
    EXPECT_THAT(msg, StartsWith(path));
    ++n;
  }
  EXPECT_EQ(n, 10u);
}

TEST(Pickle, OpcodeTableMatchesPickletools) {
  // Every byte: a CPython opcode is named in messages, and refused unless it is on the whitelist;
  // any other byte is reported as unknown.
  TempDir dir;
  run_python(dir, R"PY(
import sys, pickletools
d = sys.argv[1]
with open(d + '/ops.txt', 'w') as f:
    for op in pickletools.opcodes:
        f.write('%d %s\n' % (ord(op.code.encode('latin1')), op.name))
)PY");
  const std::set<std::string> allowed = {"PROTO",
                                         "FRAME",
                                         "STOP",
                                         "MARK",
                                         "POP",
                                         "POP_MARK",
                                         "DUP",
                                         "EMPTY_DICT",
                                         "EMPTY_LIST",
                                         "EMPTY_TUPLE",
                                         "TUPLE",
                                         "TUPLE1",
                                         "TUPLE2",
                                         "TUPLE3",
                                         "DICT",
                                         "LIST",
                                         "APPEND",
                                         "APPENDS",
                                         "SETITEM",
                                         "SETITEMS",
                                         "INT",
                                         "LONG",
                                         "BININT",
                                         "BININT1",
                                         "BININT2",
                                         "LONG1",
                                         "LONG4",
                                         "FLOAT",
                                         "BINFLOAT",
                                         "NONE",
                                         "NEWTRUE",
                                         "NEWFALSE",
                                         "BINUNICODE",
                                         "SHORT_BINUNICODE",
                                         "BINUNICODE8",
                                         "BINBYTES",
                                         "SHORT_BINBYTES",
                                         "BINBYTES8",
                                         "MEMOIZE",
                                         "PUT",
                                         "BINPUT",
                                         "LONG_BINPUT",
                                         "GET",
                                         "BINGET",
                                         "LONG_BINGET",
                                         "BINSTRING",
                                         "SHORT_BINSTRING"};
  std::map<int, std::string> names;
  std::ifstream in(dir / "ops.txt");
  int code;
  std::string name;
  while (in >> code >> name) names[code] = name;
  ASSERT_EQ(names.size(), 68u);
  for (int b = 0; b < 256; ++b) {
    SCOPED_TRACE(b);
    const std::string bytes = B("\x80\x05") + static_cast<char>(b) + std::string(16, '\0');
    std::string msg;
    try {
      parse(bytes);
    } catch (const Error& e) {
      msg = e.what();
    }
    auto it = names.find(b);
    if (it == names.end()) {
      EXPECT_THAT(msg, HasSubstr(fmt::format("unknown pickle opcode 0x{:02x} at byte 2", b)));
    } else if (allowed.count(it->second)) {
      // Read (a short input then fails somewhere), never refused; named when it fails.
      EXPECT_THAT(msg, Not(HasSubstr("is not allowed")));
      EXPECT_THAT(msg, Not(HasSubstr(fmt::format("unknown pickle opcode 0x{:02x} at byte 2", b))));
      if (msg.find(" at byte 2") != std::string::npos) {
        EXPECT_THAT(msg, HasSubstr(it->second));
      }
    } else if (it->second == "STRING" || it->second == "UNICODE") {
      EXPECT_THAT(msg, HasSubstr("opcode " + it->second + " at byte 2 is not supported"));
    } else {
      EXPECT_THAT(msg, HasSubstr("pickle opcode " + it->second +
                                 " at byte 2 is not allowed (only builtin types are read)"));
    }
  }
}

TEST(Pickle, RefusesHandMadeForbiddenAndUnknownOpcodes) {
  // GLOBAL 'os system' then REDUCE: refused at GLOBAL, nothing executed.
  expect_error(
      [] {
        parse(
            B("\x80\x02"
              "cos\nsystem\nX\x02\x00\x00\x00ls\x85R."));
      },
      {"t.pkl: pickle opcode GLOBAL at byte 2 is not allowed"});
  expect_error(
      [] { parse(B("\x80\x02N)R.")); },
      {"t.pkl: pickle opcode REDUCE at byte 4 is not allowed (only builtin types are read)"});
  struct Case {
    std::string bytes;
    std::string name;
    size_t at;
  };
  for (const Case& c :
       std::vector<Case>{{B("\x80\x04\x93."), "STACK_GLOBAL", 2},
                         {B("\x80\x02N}b."), "BUILD", 4},
                         {B("\x80\x02(i__main__\nX\n."), "INST", 3},
                         {B("\x80\x02(N)o."), "OBJ", 5},
                         {B("\x80\x02N)\x81."), "NEWOBJ", 4},
                         {B("\x80\x04N)}\x92."), "NEWOBJ_EX", 5},
                         {B("\x80\x02P1\n."), "PERSID", 2},
                         {B("\x80\x02NQ."), "BINPERSID", 3},
                         {B("\x80\x02\x82\x01."), "EXT1", 2},
                         {B("\x80\x02\x83\x01\x00."), "EXT2", 2},
                         {B("\x80\x02\x84\x01\x00\x00\x00."), "EXT4", 2},
                         {B("\x80\x04\x8f."), "EMPTY_SET", 2},
                         {B("\x80\x04(\x91."), "FROZENSET", 3},
                         {B("\x80\x05\x96\x00\x00\x00\x00\x00\x00\x00\x00."), "BYTEARRAY8", 2},
                         {B("\x80\x05\x97."), "NEXT_BUFFER", 2},
                         {B("\x80\x05N\x98."), "READONLY_BUFFER", 3}}) {
    SCOPED_TRACE(c.name);
    expect_error([&] { parse(c.bytes); },
                 {fmt::format("pickle opcode {} at byte {} is not allowed", c.name, c.at)});
  }
  // ADDITEMS after an EMPTY_SET is never reached; alone it is refused by name too.
  expect_error([] { parse(B("\x80\x04(\x90.")); },
               {"pickle opcode ADDITEMS at byte 3 is not allowed"});
  // Protocol 0 text strings are builtin but not read.
  expect_error([] { parse("S'abc'\n."); }, {"opcode STRING at byte 0 is not supported"});
  expect_error([] { parse("Vabc\n."); }, {"opcode UNICODE at byte 0 is not supported"});
  expect_error([] { parse(B("\x80\x02\xff.")); }, {"t.pkl: unknown pickle opcode 0xff at byte 2"});
  expect_error([] { parse(B("\x80\x03]\x00.")); }, {"unknown pickle opcode 0x00 at byte 3"});
}

TEST(Pickle, TruncatedInputAtEveryLength) {
  TempDir dir;
  run_python(dir, R"PY(
import sys, pickle
d = sys.argv[1]
obj = {'imlist': ['a' * 300, 'b'], 'x': [1.5, 2**40, -3, None, True, b'xy', (1, 2)], 9: {}}
open(d + '/full.pkl', 'wb').write(pickle.dumps(obj, protocol=4))
)PY");
  const std::string full = read_bytes(dir / "full.pkl");
  ASSERT_NO_THROW(parse(full));
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE(n);
    expect_error([&] { parse(full.substr(0, n)); }, {"t.pkl: pickle is truncated"});
  }
  expect_error(
      [] {
        parse(
            B("\x80\x03X\x10\x00\x00\x00"
              "abc."));
      },
      {"opcode BINUNICODE at byte 2 needs 16 more bytes, 4 remain"});
  expect_error([] { parse(""); }, {"no STOP opcode before the end at byte 0"});
}

TEST(Pickle, HostileInputFailsCleanly) {
  // Huge length fields: refused before any allocation.
  expect_error([] { parse(B("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.")); },
               {"BINUNICODE8 at byte 2", "truncated"});
  expect_error([] { parse(B("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.")); },
               {"BINBYTES8 at byte 2", "truncated"});
  expect_error([] { parse(B("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\xffN.")); },
               {"FRAME at byte 2", "truncated"});
  expect_error([] { parse(B("\x80\x02\x8b\xff\xff\xff\x7f.")); }, {"LONG4 at byte 2", "truncated"});
  expect_error([] { parse(B("\x80\x02\x8b\xff\xff\xff\xff.")); },
               {"LONG4 at byte 2 has a negative length"});
  expect_error([] { parse(B("\x80\x02T\xfe\xff\xff\xff.")); },
               {"BINSTRING at byte 2 has a negative length"});
  // Deep nesting: 200000 one-element tuples inside each other.
  std::string deep = "\x80\x02N" + std::string(200000, '\x85') + ".";
  expect_error([&] { parse(deep); }, {"deeper than 1000 levels"});
  std::string ok_depth = "\x80\x02N" + std::string(kMaxPickleDepth, '\x85') + ".";
  EXPECT_NO_THROW(parse(ok_depth));
  // Exponential sharing ("billion laughs"): each level a pair of references to the level below.
  std::string laughs = "\x80\x02]";
  for (int i = 0; i < 64; ++i) laughs += "2\x86";  // DUP, TUPLE2
  laughs += ".";
  expect_error([&] { parse(laughs); }, {"expands through shared references", "hostile"});
  // A list that contains itself.
  expect_error(
      [] {
        parse(
            B("\x80\x02]q\x00h\x00"
              "a."));
      },
      {"list that contains itself"});
  // A dict that holds itself as a value.
  expect_error([] { parse(B("\x80\x02}q\x00K\x01h\x00s.")); }, {"dict that contains itself"});
  // Random garbage never crashes: every outcome is a value or an Error.
  uint32_t state = 12345;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string b = "\x80\x03";
    const int len = static_cast<int>(state % 40);
    for (int i = 0; i < len; ++i) {
      state = state * 1664525u + 1013904223u;
      // Bias towards allowed opcodes so that parsing gets somewhere.
      static const char kOps[] =
          "(.012NJKMXC]})tlde\x85\x86\x87"
          "ahsjqrgu\x88\x89\x8a\x8c\x94G";
      b.push_back((state >> 24) % 3 ? kOps[(state >> 8) % (sizeof kOps - 1)]
                                    : static_cast<char>(state >> 16));
    }
    try {
      parse(b);
    } catch (const Error&) {
    }
    state = state * 1664525u + 1013904223u;
  }
}

TEST(Pickle, StackMemoAndKeyErrors) {
  expect_error(
      [] {
        parse(
            B("\x80\x02"
              "a."));
      },
      {"t.pkl: pickle stack underflow: opcode APPEND at byte 2 needs 1 value, 0 "
       "available"});
  expect_error([] { parse(B("\x80\x02]N(a.")); },  // APPEND may not reach below MARK
               {"stack underflow: opcode APPEND at byte 5"});
  expect_error(
      [] {
        parse(
            B("\x80\x02"
              "e."));
      },
      {"opcode APPENDS at byte 2 has no MARK to pop to"});
  expect_error(
      [] {
        parse(
            B("\x80\x02(K\x01"
              "e."));
      },
      {"stack underflow: opcode APPENDS at byte 5"});
  expect_error([] { parse(B("\x80\x02N\x86.")); }, {"opcode TUPLE2 at byte 3 needs 2"});
  expect_error([] { parse(B("\x80\x02h\x05.")); },
               {"t.pkl: pickle opcode BINGET at byte 2 reads memo index 5, which was never "
                "stored"});
  expect_error([] { parse(B("\x80\x02j\x00\x01\x00\x00.")); },
               {"LONG_BINGET at byte 2 reads memo index 256"});
  expect_error([] { parse("g3\n."); }, {"opcode GET at byte 0 reads memo index 3"});
  expect_error([] { parse(B("\x80\x02q\x00.")); }, {"stack underflow: opcode BINPUT at byte 2"});
  expect_error([] { parse(B("\x80\x02}]]s.")); },
               {"t.pkl: pickle opcode SETITEM at byte 5 uses a list as a dict key (unhashable "
                "type)"});
  expect_error([] { parse(B("\x80\x02}(}Nu.")); },
               {"opcode SETITEMS at byte 6 uses a dict as a dict key (unhashable type)"});
  expect_error([] { parse(B("\x80\x02}G\x3f\xf0\x00\x00\x00\x00\x00\x00Ns.")); },
               {"opcode SETITEM at byte 13 uses a float as a dict key; only str and int keys"});
  expect_error([] { parse(B("\x80\x02}(K\x01u.")); },
               {"SETITEMS at byte 6 has an odd number of values (1)"});
  expect_error([] { parse(B("\x80\x02]K\x01K\x02s.")); },
               {"opcode SETITEM at byte 7 modifies a list, expected a dict"});
  expect_error(
      [] {
        parse(
            B("\x80\x02)K\x01"
              "a."));
      },
      {"opcode APPEND at byte 5 modifies a tuple, expected a list"});
  expect_error([] { parse(B("\x80\x02NN.")); },
               {"STOP at byte 4 leaves 2 values on the stack, expected 1"});
  expect_error([] { parse(B("\x80\x02(N.")); }, {"STOP at byte 4 with a MARK still open"});
  expect_error([] { parse(B("\x80\x02N.N")); },
               {"1 bytes follow the pickle's STOP opcode at byte 3"});
  expect_error([] { parse(B("\x80\x06N.")); }, {"pickle protocol 6", "2 to 5"});
  expect_error([] { parse(B("\x80\x03X\x01\x00\x00\x00\xff.")); },
               {"BINUNICODE at byte 2 holds a string that is not valid UTF-8"});
  expect_error([] { parse(B("\x80\x03\x8c\x02\xc0\x80.")); },  // overlong NUL
               {"not valid UTF-8"});
  expect_error([] { parse(B("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.")); },
               {"LONG1 at byte 2 holds an int of 9 bytes, beyond int64"});
  expect_error([] { parse("L99999999999999999999L\n."); }, {"beyond int64"});
  expect_error([] { parse("I12x\n."); }, {"malformed number '12x'"});
  expect_error([] { parse("F1.5.2\n."); }, {"FLOAT at byte 0 has a malformed number"});
}

TEST(Pickle, IntEncodingsAndSharing) {
  // LONG1 with a redundant sign byte, and with no bytes at all (= 0).
  EXPECT_EQ(parse(B("\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff.")).as_int(), -1);
  EXPECT_EQ(parse(B("\x80\x02\x8a\x00.")).as_int(), 0);
  EXPECT_EQ(parse(B("\x80\x02\x8a\x01\x80.")).as_int(), -128);
  EXPECT_EQ(parse(B("\x80\x02J\xff\xff\xff\xff.")).as_int(), -1);
  EXPECT_EQ(parse(B("\x80\x02\x88.")), PyValue::boolean(true));
  EXPECT_EQ(parse("I01\n."), PyValue::boolean(true));
  EXPECT_EQ(parse("I-5\n."), PyValue::integer(-5));
  EXPECT_EQ(parse("Finf\n.").as_float(), std::numeric_limits<double>::infinity());
  // A memoized list filled after another list took a reference to it is seen complete through
  // that reference, as in Python: L0 = []; L1 = [L0]; L0 += [1, 2]; (L0, L1).
  PyValue v =
      parse(B("\x80\x02]q\x00]h\x00"
              "aq\x01"
              "0(K\x01K\x02"
              "eh\x01\x86."));
  EXPECT_EQ(v.repr(), "([1, 2], [[1, 2]])");
  // Python keeps the first position of a key set twice, with the last value.
  EXPECT_EQ(parse(B("\x80\x02}(K\x01K\x0aK\x02K\x14K\x01K\x1eu.")).repr(), "{1: 30, 2: 20}");
  // 1 and '1' are different keys.
  PyValue d =
      parse(B("\x80\x03}(K\x01K\x0aX\x01\x00\x00\x00"
              "1K\x14u."));
  EXPECT_EQ(d.find(1)->as_int(), 10);
  EXPECT_EQ(d.find("1")->as_int(), 20);
  EXPECT_EQ(d.find("2"), nullptr);
  // Accessors refuse a wrong kind with an Error.
  expect_error([&] { d.as_str(); }, {"pickle value is a dict, expected str"});
  EXPECT_EQ(PyValue::tuple({PyValue::integer(1)}).repr(), "(1,)");
  EXPECT_NE(PyValue::tuple({}), PyValue::list({}));
  EXPECT_NE(PyValue::str("a"), PyValue::bytes("a"));
  EXPECT_NE(PyValue::integer(1), PyValue::boolean(true));
  EXPECT_NE(PyValue::integer(1), PyValue::floating(1.0));
}

// =============================================================================================
// revisitop loader on the real ground truth

struct Totals {
  int64_t easy = 0, hard = 0, junk = 0;
};

Totals raw_totals(const std::string& path) {
  Totals t;
  const PyValue top = load_pickle(path);
  for (const auto& g : top.find("gnd")->items()) {
    t.easy += static_cast<int64_t>(g.find("easy")->items().size());
    t.hard += static_cast<int64_t>(g.find("hard")->items().size());
    t.junk += static_cast<int64_t>(g.find("junk")->items().size());
  }
  return t;
}

TEST(DatasetsRevisitop, OxfordCountsAndProtocols) {
  const Totals t = raw_totals(kOxford);
  EXPECT_EQ(t.easy, 3029);
  EXPECT_EQ(t.hard, 2497);
  EXPECT_EQ(t.junk, 1356);
  const RetrievalSet e = load_revisitop(kOxford, "roxford5k", "easy", "/data/roxford5k");
  const RetrievalSet m = load_revisitop(kOxford, "roxford5k", "medium", "/data/roxford5k");
  const RetrievalSet h = load_revisitop(kOxford, "roxford5k", "hard", "");
  for (const RetrievalSet* s : {&e, &m, &h}) {
    EXPECT_EQ(s->db.size(), 4993u);
    EXPECT_EQ(s->queries.size(), 70u);
    EXPECT_EQ(s->name, "roxford5k");
    EXPECT_TRUE(s->crop_queries);
    EXPECT_EQ(s->source, kOxford);
    EXPECT_NO_THROW(s->Check());
  }
  EXPECT_EQ(e.protocol, "easy");
  EXPECT_EQ(e.root, "/data/roxford5k");
  EXPECT_EQ(h.root, "");
  // Easy: ok = easy, junk = junk + hard. Medium: ok = easy + hard. Hard: junk = junk + easy.
  EXPECT_EQ(e.positives_total(), t.easy);
  EXPECT_EQ(e.junk_total(), t.junk + t.hard);
  EXPECT_EQ(m.positives_total(), t.easy + t.hard);
  EXPECT_EQ(m.junk_total(), t.junk);
  EXPECT_EQ(h.positives_total(), t.hard);
  EXPECT_EQ(h.junk_total(), t.junk + t.easy);
  // Two queries have no easy positives; they stay in the set and are not scored.
  EXPECT_EQ(e.scorable_queries(), 68);
  EXPECT_TRUE(e.queries[11].ok.empty());
  EXPECT_EQ(e.queries[11].image, "jpg/balliol_000187.jpg");
  EXPECT_TRUE(e.queries[66].ok.empty());
  EXPECT_EQ(e.queries[66].image, "jpg/hertford_000082.jpg");
  EXPECT_EQ(m.scorable_queries(), 70);
  EXPECT_EQ(h.scorable_queries(), 70);

  const Query& q0 = m.queries[0];
  EXPECT_EQ(q0.image, "jpg/all_souls_000013.jpg");
  ASSERT_TRUE(q0.bbx.has_value());
  EXPECT_THAT(*q0.bbx, ElementsAre(136.5, 34.1, 648.5, 955.7));
  EXPECT_EQ(m.db[0], "jpg/ashmolean_000283.jpg");
  EXPECT_EQ(m.db[1], "jpg/oxford_002124.jpg");
  // Query 0: 65 easy, 38 hard, 33 junk; its first easy positives are 30, 69, 296.
  EXPECT_EQ(e.queries[0].ok.size(), 65u);
  EXPECT_THAT(std::vector<int64_t>(e.queries[0].ok.begin(), e.queries[0].ok.begin() + 3),
              ElementsAre(30, 69, 296));
  EXPECT_EQ(e.queries[0].junk.size(), 33u + 38u);
  EXPECT_EQ(m.queries[0].ok.size(), 65u + 38u);
  EXPECT_EQ(h.queries[0].ok.size(), 38u);
  EXPECT_EQ(h.queries[0].junk.size(), 33u + 65u);
  // The medium ok list is the union of easy ok and hard ok, for every query.
  for (size_t i = 0; i < 70; ++i) {
    std::vector<int64_t> u;
    std::set_union(e.queries[i].ok.begin(), e.queries[i].ok.end(), h.queries[i].ok.begin(),
                   h.queries[i].ok.end(), std::back_inserter(u));
    EXPECT_EQ(m.queries[i].ok, u) << i;
  }
}

TEST(DatasetsRevisitop, ParisCountsAndProtocols) {
  const Totals t = raw_totals(kParis);
  EXPECT_EQ(t.easy, 6874);
  EXPECT_EQ(t.hard, 10350);
  EXPECT_EQ(t.junk, 7153);
  const RetrievalSet e = load_revisitop(kParis, "rparis6k", "easy", "");
  const RetrievalSet m = load_revisitop(kParis, "rparis6k", "medium", "");
  const RetrievalSet h = load_revisitop(kParis, "rparis6k", "hard", "");
  for (const RetrievalSet* s : {&e, &m, &h}) {
    EXPECT_EQ(s->db.size(), 6322u);
    EXPECT_EQ(s->queries.size(), 70u);
    EXPECT_EQ(s->scorable_queries(), 70);
  }
  EXPECT_EQ(e.positives_total(), t.easy);
  EXPECT_EQ(e.junk_total(), t.junk + t.hard);
  EXPECT_EQ(m.positives_total(), t.easy + t.hard);
  EXPECT_EQ(m.junk_total(), t.junk);
  EXPECT_EQ(h.positives_total(), t.hard);
  EXPECT_EQ(h.junk_total(), t.junk + t.easy);
  EXPECT_EQ(m.queries[0].image, "jpg/paris_defense_000605.jpg");
  ASSERT_TRUE(m.queries[0].bbx.has_value());
  EXPECT_THAT(*m.queries[0].bbx, ElementsAre(130, 17, 843, 732));
  EXPECT_EQ(m.db[0], "jpg/paris_general_001840.jpg");
}

TEST(DatasetsRevisitop, ProtocolsOnASmallFixture) {
  TempDir dir;
  run_python(dir, R"PY(
import sys, pickle
d = sys.argv[1]
def save(name, obj):
    open('%s/%s.pkl' % (d, name), 'wb').write(pickle.dumps(obj, protocol=3))
good = {'imlist': ['a', 'b', 'c', 'd', 'e'], 'qimlist': ['q0', 'q1'],
        'gnd': [{'bbx': [1, 2, 30, 40], 'easy': [2, 0], 'hard': [1], 'junk': [3]},
                {'bbx': [0.5, 0.5, 9.5, 9.5], 'easy': [], 'hard': [4, 4], 'junk': []}]}
save('good', good)
import copy
def variant(name, fn):
    g = copy.deepcopy(good); fn(g); save(name, g)
variant('no_imlist', lambda g: g.pop('imlist'))
variant('no_gnd', lambda g: g.pop('gnd'))
variant('short_gnd', lambda g: g['gnd'].pop())
variant('float_index', lambda g: g['gnd'][1].__setitem__('hard', [1.0]))
variant('str_index', lambda g: g['gnd'][0].__setitem__('junk', ['3']))
variant('big_index', lambda g: g['gnd'][0].__setitem__('easy', [0, 5]))
variant('neg_index', lambda g: g['gnd'][1].__setitem__('junk', [-1]))
variant('no_easy', lambda g: g['gnd'][0].pop('easy'))
variant('bbx3', lambda g: g['gnd'][1].__setitem__('bbx', [1, 2, 3]))
variant('bbx_inverted', lambda g: g['gnd'][0].__setitem__('bbx', [30, 2, 1, 40]))
variant('overlap', lambda g: g['gnd'][0].__setitem__('junk', [3, 2]))
variant('imlist_int', lambda g: g['imlist'].__setitem__(2, 7))
variant('gnd_entry_list', lambda g: g['gnd'].__setitem__(1, []))
save('top_list', [1, 2])
class Evil:
    def __reduce__(self): return (print, ('pwned',))
variant('evil', lambda g: g['gnd'][0].__setitem__('bbx', Evil()))
)PY");
  const std::string good = dir / "good.pkl";
  const RetrievalSet e = load_revisitop(good, "roxford5k", "easy", "imgs");
  EXPECT_THAT(e.db, ElementsAre("jpg/a.jpg", "jpg/b.jpg", "jpg/c.jpg", "jpg/d.jpg", "jpg/e.jpg"));
  EXPECT_EQ(e.queries[1].image, "jpg/q1.jpg");
  EXPECT_THAT(e.queries[0].ok, ElementsAre(0, 2));  // sorted
  EXPECT_THAT(e.queries[0].junk, ElementsAre(1, 3));
  EXPECT_TRUE(e.queries[1].ok.empty());
  EXPECT_THAT(e.queries[1].junk, ElementsAre(4));  // deduplicated
  EXPECT_THAT(*e.queries[0].bbx, ElementsAre(1, 2, 30, 40));
  EXPECT_THAT(*e.queries[1].bbx, ElementsAre(0.5, 0.5, 9.5, 9.5));
  EXPECT_EQ(e.scorable_queries(), 1);
  const RetrievalSet m = load_revisitop(good, "roxford5k", "medium", "imgs");
  EXPECT_THAT(m.queries[0].ok, ElementsAre(0, 1, 2));
  EXPECT_THAT(m.queries[0].junk, ElementsAre(3));
  EXPECT_THAT(m.queries[1].ok, ElementsAre(4));
  const RetrievalSet h = load_revisitop(good, "rparis6k", "hard", "imgs");
  EXPECT_THAT(h.queries[0].ok, ElementsAre(1));
  EXPECT_THAT(h.queries[0].junk, ElementsAre(0, 2, 3));
  EXPECT_EQ(h.name, "rparis6k");

  auto err = [&](const std::string& name, std::initializer_list<std::string> parts) {
    SCOPED_TRACE(name);
    const std::string path = dir / (name + ".pkl");
    const std::string msg =
        expect_error([&] { load_revisitop(path, "roxford5k", "medium", ""); }, parts);
    EXPECT_THAT(msg, StartsWith(path + ": "));
  };
  err("no_imlist", {"missing 'imlist' key in the top-level dict"});
  err("no_gnd", {"missing 'gnd' key"});
  err("short_gnd", {"gnd has 1 entries but qimlist has 2 queries"});
  err("float_index", {"gnd[1]['hard'][0] is a float (1.0), expected an int index"});
  err("str_index", {"gnd[0]['junk'][0] is a str ('3')"});
  err("big_index", {"gnd[0]['easy'][1] = 5 is outside imlist of 5 images"});
  err("neg_index", {"gnd[1]['junk'][0] = -1 is outside imlist"});
  err("no_easy", {"missing 'easy' key in gnd[0]"});
  err("bbx3", {"gnd[1]['bbx'] = [1, 2, 3] is not 4 numbers"});
  err("bbx_inverted", {"gnd[0]['bbx'] = [30, 2, 1, 40] is not a box"});
  err("overlap", {"gnd[0]: index 2 is in both 'easy' and 'junk'"});
  err("imlist_int", {"imlist[2] is a int, expected a non-empty image name"});
  err("gnd_entry_list", {"gnd[1] is a list, expected a dict"});
  err("top_list", {"the pickle holds a list, expected a dict"});
  err("evil", {"is not allowed (only builtin types are read)"});
  expect_error([&] { load_revisitop(good, "roxford", "medium", ""); },
               {"revisitop set 'roxford' is unknown", "roxford5k or rparis6k"});
  expect_error([&] { load_revisitop(good, "roxford5k", "Medium", ""); },
               {"protocol 'Medium' is unknown; expected one of easy, medium, hard"});
  expect_error([&] { load_revisitop(dir / "nope.pkl", "roxford5k", "easy", ""); },
               {"nope.pkl: no such file"});
}

// =============================================================================================
// gnd.json

RetrievalSet small_set(const std::string& root) {
  RetrievalSet s;
  s.name = "my-set";
  s.protocol = "default";
  s.root = root;
  s.db = {"img/a.jpg", "img/b.jpg", "img/c d.jpg", "img/\xc3\xa9.jpg"};
  Query q0;
  q0.image = "q/0.jpg";
  q0.bbx = std::array<double, 4>{1.5, 2, 30.25, 40};
  q0.ok = {0, 3};
  q0.junk = {2};
  Query q1;  // a db image that lists itself as junk (leave-one-out)
  q1.image = "img/b.jpg";
  q1.ok = {};
  q1.junk = {1};
  q1.group = "landmarks";
  s.queries = {q0, q1};
  s.metric = dml_recall_metric();
  s.meta = {{"seed", 7}, {"generator", {{"kind", "cutmix"}, {"alpha", 0.5}}}};
  return s;
}

TEST(GndJson, RoundTrip) {
  TempDir dir;
  const RetrievalSet s = small_set(dir / "set");
  const std::string path = dir / "set/gnd.json";
  write_gnd_json(s, path);
  const RetrievalSet r = read_gnd_json(path);
  EXPECT_EQ(r.name, s.name);
  EXPECT_EQ(r.protocol, "default");
  EXPECT_EQ(r.root, dir / "set");
  EXPECT_EQ(r.source, path);
  EXPECT_TRUE(r.crop_queries);
  EXPECT_EQ(r.db, s.db);
  ASSERT_EQ(r.queries.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.queries[i].image, s.queries[i].image);
    EXPECT_EQ(r.queries[i].bbx, s.queries[i].bbx);
    EXPECT_EQ(r.queries[i].ok, s.queries[i].ok);
    EXPECT_EQ(r.queries[i].junk, s.queries[i].junk);
    EXPECT_EQ(r.queries[i].group, s.queries[i].group);
  }
  EXPECT_EQ(r.metric.to_json(), s.metric.to_json());  // the metric travels with the set
  EXPECT_EQ(r.meta, s.meta);
  // The file is plain JSON with the documented keys.
  const json j = json::parse(read_bytes(path));
  EXPECT_EQ(j["schema"], "repbench.gnd/1");
  EXPECT_EQ(j["queries"][0]["bbx"], json({1.5, 2.0, 30.25, 40.0}));
  EXPECT_FALSE(j["queries"][1].contains("bbx"));
  // Writing again gives the same bytes.
  write_gnd_json(r, dir / "set/again.json");
  EXPECT_EQ(read_bytes(dir / "set/again.json"), read_bytes(path));
  // No meta: the key is left out and reads back as an empty object.
  RetrievalSet bare = s;
  bare.meta = json::object();
  write_gnd_json(bare, path);
  EXPECT_FALSE(json::parse(read_bytes(path)).contains("meta"));
  EXPECT_EQ(read_gnd_json(path).meta, json::object());
}

TEST(GndJson, RebasesPathsToTheFileFolder) {
  TempDir dir;
  RetrievalSet s = small_set(dir / "data/set");
  write_gnd_json(s, dir / "export/gnd.json");
  const RetrievalSet r = read_gnd_json(dir / "export/gnd.json");
  EXPECT_EQ(r.db[0], "../data/set/img/a.jpg");
  EXPECT_EQ(r.queries[0].image, "../data/set/q/0.jpg");
  EXPECT_EQ((fs::path(r.root) / r.db[0]).lexically_normal(),
            (fs::path(s.root) / s.db[0]).lexically_normal());
  // An empty root means "unknown": paths are written as they are.
  s.root = "";
  write_gnd_json(s, dir / "export/gnd.json");
  EXPECT_EQ(read_gnd_json(dir / "export/gnd.json").db[0], "img/a.jpg");
  // Boxes are dropped when the set does not crop its queries.
  s.crop_queries = false;
  write_gnd_json(s, dir / "export/gnd.json");
  EXPECT_FALSE(read_gnd_json(dir / "export/gnd.json").queries[0].bbx.has_value());
}

TEST(GndJson, AcceptsUnsortedListsAndSelfQueries) {
  TempDir dir;
  write_bytes(dir / "g.json", R"({"schema": "repbench.gnd/1", "name": "x",
    "db": ["a.jpg", "b.jpg", "c.jpg"],
    "queries": [{"image": "a.jpg", "ok": [2, 0], "junk": []},
                {"image": "b.jpg", "ok": [2], "junk": [1]},
                {"image": "c.jpg", "ok": []}]})");
  const RetrievalSet r = read_gnd_json(dir / "g.json");
  EXPECT_THAT(r.queries[0].ok, ElementsAre(0, 2));
  EXPECT_THAT(r.queries[1].junk, ElementsAre(1));
  EXPECT_TRUE(r.queries[2].junk.empty());
  EXPECT_EQ(r.scorable_queries(), 2);
  EXPECT_EQ(r.meta, json::object());
  EXPECT_EQ(r.root, dir.str());
  // A file named without a folder gets root ".".
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.str());
  const std::string root = read_gnd_json("g.json").root;
  fs::current_path(cwd);
  EXPECT_EQ(root, ".");
}

TEST(GndJson, ValidationErrors) {
  TempDir dir;
  const std::string p = dir / "x/gnd.json";
  // 800 db images, to match the documented message.
  std::string db = "[";
  for (int i = 0; i < 800; ++i) db += (i ? "," : "") + fmt::format("\"d/{}.jpg\"", i);
  db += "]";
  auto file = [&](const std::string& queries, const std::string& extra = "") {
    return R"({"schema": "repbench.gnd/1", "name": "s", "db": )" + db + R"(, "queries": )" +
           queries + extra + "}";
  };
  const std::string q = R"({"image": "q.jpg", "ok": [1]})";
  auto err = [&](const std::string& text, std::initializer_list<std::string> parts) {
    write_bytes(p, text);
    const std::string msg = expect_error([&] { read_gnd_json(p); }, parts);
    EXPECT_THAT(msg, StartsWith(p + ": "));
  };
  // The documented example.
  err(file("[" + q + "," + q + "," + q + R"(, {"image": "q.jpg", "ok": [1, 2, 812]}])"),
      {"x/gnd.json: queries[3].ok[2] = 812 is outside the database of 800 images"});
  err("{\"schema\": ", {"not valid JSON", "line 1"});
  // Found by tests/fuzz (gnd_json): a number beyond double is nlohmann's out_of_range, not a
  // parse_error; it must still be a one-line Error, not an internal error.
  err("9E9999466499631452241e38", {"not valid JSON", "number overflow"});
  err("[1, 2]", {"the top level is an array, expected an object"});
  err(R"({"schema": "repbench.gnd/2", "name": "s", "db": [], "queries": []})",
      {"schema is \"repbench.gnd/2\", expected \"repbench.gnd/1\""});
  err(R"({"name": "s", "db": [], "queries": []})", {"missing key \"schema\""});
  err(R"({"schema": "repbench.gnd/1", "db": [], "queries": []})", {"missing key \"name\""});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "queries": []})", {"missing key \"db\""});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "db": []})", {"missing key \"queries\""});
  err(file("[]", R"(, "querys": [])"), {"unexpected key \"querys\"", "schema, name, db"});
  err(R"({"schema": "repbench.gnd/1", "name": 3, "db": [], "queries": []})",
      {"name is an integer, expected a string"});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "db": {}, "queries": []})",
      {"db is an object, expected an array"});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "db": ["a", 5], "queries": []})",
      {"db[1] is an integer, expected a string"});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "db": ["a", ""], "queries": []})",
      {"db[1] is an empty string"});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "db": ["/abs/a.jpg"], "queries": []})",
      {"db[0] = \"/abs/a.jpg\" is an absolute path"});
  err(R"({"schema": "repbench.gnd/1", "name": "s", "db": ["a", "b", "a"], "queries": []})",
      {"db[2] = \"a\" repeats db[0]"});
  err(file("[5]"), {"queries[0] is an integer, expected an object"});
  err(file(R"([{"ok": []}])"), {"queries[0]: missing key \"image\""});
  err(file(R"([{"image": "q.jpg"}])"), {"queries[0]: missing key \"ok\""});
  err(file(R"([{"image": "q.jpg", "ok": [], "okk": []}])"),
      {"queries[0]: unexpected key \"okk\" (expected image, bbx, ok, junk"});
  err(file("[" + q + R"(, {"image": "q.jpg", "ok": 3}])"),
      {"queries[1].ok is an integer, expected an array"});
  err(file(R"([{"image": "q.jpg", "ok": [1.0]}])"),
      {"queries[0].ok[0] is a number with a fraction, expected an integer index into db"});
  err(file(R"([{"image": "q.jpg", "ok": ["1"]}])"), {"queries[0].ok[0] is a string"});
  err(file(R"([{"image": "q.jpg", "ok": [-1]}])"),
      {"queries[0].ok[0] = -1 is outside the database of 800 images"});
  err(file(R"([{"image": "q.jpg", "ok": [18446744073709551615]}])"),
      {"queries[0].ok[0] = 18446744073709551615 is outside the database"});
  err(file(R"([{"image": "q.jpg", "ok": [4, 1, 4]}])"),
      {"queries[0].ok[2] = 4 repeats queries[0].ok[0]"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "junk": [900]}])"),
      {"queries[0].junk[0] = 900 is outside"});
  err(file(R"([{"image": "q.jpg", "ok": [1, 2], "junk": [2]}])"),
      {"queries[0]: index 2 is in both ok and junk"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "bbx": [1, 2, 3]}])"),
      {"queries[0].bbx = [1,2,3] is not 4 numbers [x1, y1, x2, y2]"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "bbx": [1, 2, "3", 4]}])"),
      {"queries[0].bbx", "is not 4 numbers"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "bbx": {"x": 1}}])"), {"is not 4 numbers"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "bbx": [10, 2, 5, 4]}])"),
      {"queries[0].bbx = [10,2,5,4] is empty or inverted (needs x1 < x2 and y1 < y2)"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "bbx": [1, 5, 3, 5]}])"), {"empty or inverted"});
  err(file("[]", R"(, "meta": [1])"), {"meta is an array, expected an object"});
  err(file("[]", R"(, "recall_ks": [1, 0])"), {"recall_ks[1] = 0 is not a positive integer"});
  err(file("[]", R"(, "recall_ks": 4)"), {"recall_ks is an integer, expected an array"});
  err(file("[]", R"(, "metric": {"mp_ks": [1]})"), {"metric has no \"ap\""});
  err(file("[]", R"(, "metric": {"ap": "interpolated"})"),
      {"metric.ap 'interpolated' is not known"});
  err(file("[]", R"(, "metric": {"ap": "trapezoid", "k": 1})"), {"metric has an unknown key 'k'"});
  err(file("[]", R"(, "metric": {"ap": "trapezoid", "recall_ks": [0]})"),
      {"metric.recall_ks[0] = 0 is not a positive integer"});
  err(file("[]", R"(, "metric": {"ap": "trapezoid", "recall": "all"})"),
      {"metric.recall 'all' is not hit or fraction"});
  err(file("[]", R"(, "metric": {"ap": "trapezoid", "mrr": 1})"),
      {"metric.mrr is 1, expected true or false"});
  err(file("[]", R"(, "metric": {"ap": "trapezoid", "recall_ks": [1]}, "recall_ks": [2])"),
      {"recall_ks [2] differs from metric.recall_ks [1]"});
  err(file(R"([{"image": "q.jpg", "ok": [1], "group": 3}])"),
      {"queries[0].group is an integer, expected a string"});
  expect_error([&] { read_gnd_json(dir / "none.json"); }, {"none.json: no such file"});
  // Writing refuses a set that does not validate.
  RetrievalSet bad = small_set(dir.str());
  bad.queries[0].ok = {0, 99};
  expect_error([&] { write_gnd_json(bad, dir / "bad.json"); },
               {"index 99 outside the database of 4 images"});
  EXPECT_FALSE(fs::exists(dir / "bad.json"));
}

// =============================================================================================
// Set registry

TEST(DatasetsSetRegistry, KnownSets) {
  const auto& sets = known_sets();
  ASSERT_GE(sets.size(), 2u);
  const SetInfo* ox = find_set("roxford5k");
  ASSERT_NE(ox, nullptr);
  EXPECT_THAT(ox->protocols, ElementsAre("easy", "medium", "hard"));
  EXPECT_EQ(ox->default_protocol, "medium");
  EXPECT_EQ(ox->db_images, 4993);
  EXPECT_EQ(ox->queries, 70);
  EXPECT_THAT(ox->files, HasSubstr("gnd_roxford5k.pkl"));
  const SetInfo* pa = find_set("rparis6k");
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(pa->db_images, 6322);
  EXPECT_EQ(find_set("oxford"), nullptr);
  for (const auto& s : sets) {
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_NE(std::find(s.protocols.begin(), s.protocols.end(), s.default_protocol),
              s.protocols.end())
        << s.name;
  }
}

TEST(DatasetsSetRegistry, LoadsRevisitopByGndOrRoot) {
  SetRequest r;
  r.set = "roxford5k";
  r.gnd = kOxford;
  RetrievalSet s = load_set(r);
  EXPECT_EQ(s.protocol, "medium");  // the default
  EXPECT_EQ(s.positives_total(), 3029 + 2497);
  EXPECT_EQ(s.root, kGndDir);  // images looked for beside the annotation file
  r.protocol = "hard";
  r.root = "/images/roxford5k";
  s = load_set(r);
  EXPECT_EQ(s.protocol, "hard");
  EXPECT_EQ(s.root, "/images/roxford5k");
  // --root alone: the annotation file is <root>/gnd_<set>.pkl.
  SetRequest p;
  p.set = "rparis6k";
  p.root = kGndDir;
  p.protocol = "easy";
  s = load_set(p);
  EXPECT_EQ(s.source, (fs::path(kGndDir) / "gnd_rparis6k.pkl").string());
  EXPECT_EQ(s.db.size(), 6322u);
  EXPECT_EQ(s.root, kGndDir);
}

TEST(DatasetsSetRegistry, ErrorsListWhatIsKnown) {
  SetRequest r;
  r.set = "roxford";
  r.gnd = kOxford;
  expect_error([&] { load_set(r); },
               {"unknown set 'roxford'", "roxford5k", "rparis6k", "gnd.json"});
  expect_error([&] { protocols_for("nope"); }, {"unknown set 'nope'", "roxford5k, rparis6k"});
  r.set = "roxford5k";
  r.protocol = "extreme";
  expect_error([&] { load_set(r); },
               {"set 'roxford5k' has no protocol 'extreme'; its protocols: easy, medium, hard"});
  SetRequest none;
  none.set = "rparis6k";
  expect_error([&] { load_set(none); },
               {"set 'rparis6k' needs its annotation file gnd_rparis6k.pkl", "--root", "--gnd"});
  SetRequest missing;
  missing.set = "roxford5k";
  missing.root = "/nonexistent/folder";
  expect_error([&] { load_set(missing); }, {"/nonexistent/folder/gnd_roxford5k.pkl: no such file"});
}

TEST(DatasetsSetRegistry, GndJsonSets) {
  TempDir dir;
  write_gnd_json(small_set(dir / "syn"), dir / "syn/gnd.json");
  EXPECT_TRUE(is_gnd_json_set(dir / "syn/gnd.json"));
  EXPECT_TRUE(is_gnd_json_set(dir / "syn"));  // a folder holding a gnd.json
  EXPECT_FALSE(is_gnd_json_set("roxford5k"));
  EXPECT_FALSE(is_gnd_json_set(dir.str()));
  EXPECT_THAT(protocols_for(dir / "syn/gnd.json"), ElementsAre("default"));
  EXPECT_THAT(protocols_for("roxford5k"), ElementsAre("easy", "medium", "hard"));
  SetRequest r;
  r.set = dir / "syn/gnd.json";
  RetrievalSet s = load_set(r);
  EXPECT_EQ(s.name, "my-set");
  EXPECT_EQ(s.protocol, "default");
  EXPECT_EQ(s.root, dir / "syn");
  r.set = dir / "syn";
  r.protocol = "default";
  r.root = "/elsewhere";
  s = load_set(r);
  EXPECT_EQ(s.root, "/elsewhere");
  r.protocol = "medium";
  expect_error([&] { load_set(r); }, {"has no protocol 'medium'; its protocols: default"});
  r.protocol = "";
  r.gnd = dir / "other.pkl";
  expect_error([&] { load_set(r); }, {"does not apply to the gnd.json set"});
  SetRequest missing;
  missing.set = dir / "absent.json";
  expect_error([&] { load_set(missing); }, {"absent.json: no such file"});
}

}  // namespace
}  // namespace repbench::datasets
