// Tests of core/: .npy reading and writing (against numpy itself), half-float conversion,
// SHA-256, atomic files, the thread rule and the parallel loop.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace repbench {
namespace {

// The system Python with numpy (the first python3 on PATH may lack it).
constexpr const char* kPython = "/usr/bin/python3";

// A fresh folder under the system temp dir, removed with its contents at the end of the test.
class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_core") {}
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

template <typename T>
std::vector<T> read_raw(const std::string& path) {
  std::string b = read_bytes(path);
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

// Runs a Python script (with numpy) with `dir` as its argument; fails the test when it fails.
void run_python(const TempDir& dir, const std::string& script) {
  const std::string file = dir / "script.py";
  write_bytes(file, script);
  const std::string cmd = std::string(kPython) + " " + file + " " + dir.path().string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "python failed: " << cmd;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// Expects `fn` to throw repbench::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  const std::string e = test_support::error_of(fn);
  for (const auto& p : parts) EXPECT_TRUE(test_support::is_one_line_error(e, p));
}

// ---------------------------------------------------------------------------------------------
// .npy round trips through our own reader and writer

// The bad-input contract's checker (support/bad_input.h) refuses each way of breaking the
// contract, an output that was written included; the CLI tests rely on it.
TEST(BadInputContract, TheCheckerRefusesEachBreach) {
  using test_support::is_bad_input;
  TempDir dir;
  const std::string written = dir / "out.json", absent = dir / "absent.json";
  write_bytes(written, "{}");
  const std::string line = "q.npy: 69 rows, but 70 rows are expected\n";
  EXPECT_TRUE(is_bad_input(2, line, "q.npy", "69 rows", {absent}));
  EXPECT_TRUE(is_bad_input(2, line, "q.npy", "69 rows", test_support::kNoOutput));
  EXPECT_FALSE(is_bad_input(2, line, "q.npy", "69 rows", {absent, written}));  // it wrote
  EXPECT_FALSE(is_bad_input(2, line, "q.npy", "69 rows", {""}));
  EXPECT_FALSE(is_bad_input(1, line, "q.npy", "69 rows", {absent}));
  EXPECT_FALSE(is_bad_input(2, line + line, "q.npy", "69 rows", {absent}));
  EXPECT_FALSE(is_bad_input(2, "q.npy: 69 rows", "q.npy", "69 rows", {absent}));  // no newline
  EXPECT_FALSE(is_bad_input(2, line, "db.npy", "69 rows", {absent}));
  EXPECT_FALSE(is_bad_input(2, line, "q.npy", "NaN", {absent}));
  EXPECT_TRUE(is_bad_input(2, "ex: 3 items in 1 s\n" + line, "q.npy", "69", {absent}, true));
  EXPECT_FALSE(is_bad_input(2, "noise\n" + line, "q.npy", "69", {absent}, true));
  EXPECT_TRUE(test_support::is_one_line_error("x.mat: not a MATLAB file", "not a MATLAB"));
  EXPECT_FALSE(test_support::is_one_line_error("x.mat: not a\nMATLAB file", "not a"));
  EXPECT_FALSE(test_support::is_one_line_error("(no error)", "error"));
}

TEST(Npy, RoundTripFloat32OneToThreeDims) {
  TempDir dir;
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{7}, {5, 3}, {2, 3, 4}, {0, 8}, {1}}) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = g(rng);
    const std::string path = dir / "a.npy";
    write_npy(path, x.data(), shape);
    FloatArray a = read_npy_float(path);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.data, x);
    NpyHeader h = read_npy_header(path);
    EXPECT_EQ(h.dtype, NpyDType::kFloat32);
    EXPECT_EQ(h.data_offset % 64, 0);  // numpy aligns data to 64 bytes
  }
}

TEST(Npy, RoundTripFloat16) {
  TempDir dir;
  // Values exactly representable in half precision come back unchanged.
  std::vector<float> x = {0.f,
                          -0.f,
                          1.f,
                          -2.5f,
                          65504.f,
                          -65504.f,
                          0.000061035156f,
                          5.9604645e-08f /* smallest subnormal */,
                          1024.f,
                          0.099975586f,
                          std::numeric_limits<float>::infinity(),
                          3.f,
                          7.f,
                          0.5f};
  const std::vector<int64_t> shape = {2, 7};
  write_npy(dir / "h.npy", x.data(), shape, NpyDType::kFloat16);
  EXPECT_EQ(read_npy_header(dir / "h.npy").dtype, NpyDType::kFloat16);
  FloatArray a = read_npy_float(dir / "h.npy");
  EXPECT_EQ(a.shape, shape);
  ASSERT_EQ(a.data.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(bits_of(a.data[i]), bits_of(x[i])) << i;
  // 3-D float16, values rounded on write.
  std::vector<float> y = {0.1f, 0.2f, 0.3f, 1e-7f, 70000.f, -1e-9f, 1.f / 3, 2.f / 3};
  write_npy(dir / "h3.npy", y.data(), {2, 2, 2}, NpyDType::kFloat16);
  FloatArray b = read_npy_float(dir / "h3.npy");
  ASSERT_EQ(b.data.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(b.data[i], half_to_float(float_to_half(y[i])));
  EXPECT_TRUE(std::isinf(b.data[4]));
  EXPECT_TRUE(std::signbit(b.data[5]) && b.data[5] == 0.f);  // -1e-9 underflows to -0
}

TEST(Npy, RoundTripInt64) {
  TempDir dir;
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{4}, {3, 2}, {2, 2, 3}}) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<int64_t> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[i] = (i % 2 ? -1 : 1) * (int64_t{1} << (i * 5 % 63));
    x[0] = std::numeric_limits<int64_t>::min();
    write_npy(dir / "i.npy", x.data(), shape);
    std::vector<int64_t> got_shape;
    EXPECT_EQ(read_npy_int64(dir / "i.npy", &got_shape), x);
    EXPECT_EQ(got_shape, shape);
  }
  // An int64 file is not a float array, and vice versa.
  expect_error([&] { read_npy_float(dir / "i.npy"); }, {"i.npy", "<i8"});
  const float f = 1;
  write_npy(dir / "f.npy", &f, {1});
  expect_error([&] { read_npy_int64(dir / "f.npy", nullptr); }, {"f.npy", "<f4", "int64"});
}

// ---------------------------------------------------------------------------------------------
// Against numpy

TEST(Npy, ReadsFilesWrittenByNumpy) {
  TempDir dir;
  run_python(dir, R"PY(
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
a = rng.standard_normal((6, 5)).astype(np.float32)
np.save(d + '/f32.npy', a); a.tofile(d + '/f32.bin')
a3 = rng.standard_normal((2, 3, 4)).astype(np.float32)
np.save(d + '/f32_3d.npy', a3); a3.tofile(d + '/f32_3d.bin')
a1 = rng.standard_normal(9).astype(np.float32)
np.save(d + '/f32_1d.npy', a1); a1.tofile(d + '/f32_1d.bin')
h = np.array([0.0, -0.0, 2**-24, -2**-24, 2**-14 - 2**-24, 2**-14, 65504, -65504,
              np.inf, -np.inf, np.nan, 1/3, 0.1, 1000.5], dtype=np.float16)
np.save(d + '/f16.npy', h); h.astype(np.float32).tofile(d + '/f16_as_f32.bin')
i = np.array([[0, -1, 2**62], [-2**63, 5, 7]], dtype=np.int64)
np.save(d + '/i64.npy', i); i.tofile(d + '/i64.bin')
np.save(d + '/i32.npy', np.array([[0, -1, 2**31 - 1], [-2**31, 5, 7]], dtype=np.int32))
for v in [(2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % v[0], 'wb') as f:
        np.lib.format.write_array(f, a, version=v)
)PY");
  for (const char* name : {"f32", "f32_3d", "f32_1d", "v2", "v3"}) {
    SCOPED_TRACE(name);
    FloatArray a = read_npy_float(dir / (std::string(name) + ".npy"));
    const std::string raw = name[0] == 'v' ? "f32" : name;
    std::vector<float> want = read_raw<float>(dir / (raw + ".bin"));
    ASSERT_EQ(a.data.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(bits_of(a.data[i]), bits_of(want[i]));
  }
  EXPECT_EQ(read_npy_float(dir / "f32.npy").shape, (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(read_npy_float(dir / "f32_3d.npy").shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(read_npy_float(dir / "f32_1d.npy").shape, (std::vector<int64_t>{9}));
  EXPECT_EQ(read_npy_float(dir / "v2.npy").shape, (std::vector<int64_t>{6, 5}));

  // float16 widened exactly as numpy widens it (subnormals, inf, max, NaN).
  FloatArray h = read_npy_float(dir / "f16.npy");
  std::vector<float> want = read_raw<float>(dir / "f16_as_f32.bin");
  ASSERT_EQ(h.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]))
      EXPECT_TRUE(std::isnan(h.data[i])) << i;
    else
      EXPECT_EQ(bits_of(h.data[i]), bits_of(want[i])) << i;
  }
  EXPECT_EQ(h.data[2], std::ldexp(1.f, -24));
  EXPECT_EQ(h.data[6], 65504.f);

  std::vector<int64_t> shape;
  EXPECT_EQ(read_npy_int64(dir / "i64.npy", &shape), read_raw<int64_t>(dir / "i64.bin"));
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
  // int32 (a record's top ids) widened.
  EXPECT_EQ(read_npy_int64(dir / "i32.npy", &shape),
            (std::vector<int64_t>{0, -1, 2147483647, -2147483648LL, 5, 7}));
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
}

TEST(Npy, FilesWeWriteLoadInNumpy) {
  TempDir dir;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-70000.f, 70000.f);
  std::vector<float> x(2 * 3 * 5);
  for (auto& v : x) v = u(rng) / static_cast<float>(1 << (rng() % 30));
  x[0] = 65519.f;               // rounds to 65504 in half
  x[1] = 65520.f;               // rounds to inf
  x[2] = std::ldexp(1.f, -25);  // halfway to the smallest subnormal: rounds to 0 (even)
  x[3] = std::ldexp(3.f, -26);  // rounds up to the smallest subnormal
  write_npy(dir / "ours_f32.npy", x.data(), {2, 3, 5});
  write_npy(dir / "ours_f16.npy", x.data(), {30}, NpyDType::kFloat16);
  write_bytes(dir / "ours.bin",
              std::string(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float)));
  std::vector<int64_t> ints = {3, -4, std::numeric_limits<int64_t>::max(), 0};
  write_npy(dir / "ours_i64.npy", ints.data(), {2, 2});
  run_python(dir, R"PY(
import sys, numpy as np
d = sys.argv[1]
raw = np.fromfile(d + '/ours.bin', dtype='<f4')
a = np.load(d + '/ours_f32.npy')
assert a.dtype == np.float32 and a.shape == (2, 3, 5), (a.dtype, a.shape)
assert np.array_equal(a.reshape(-1), raw), 'float32 values differ'
h = np.load(d + '/ours_f16.npy')
assert h.dtype == np.float16 and h.shape == (30,), (h.dtype, h.shape)
assert np.array_equal(h.view(np.uint16), raw.astype(np.float16).view(np.uint16)), \
    'float16 rounding differs from numpy'
i = np.load(d + '/ours_i64.npy')
assert i.dtype == np.int64 and i.shape == (2, 2)
assert i.tolist() == [[3, -4], [2**63 - 1, 0]], i.tolist()
)PY");
}

TEST(Npy, FloatToHalfMatchesNumpyRounding) {
  TempDir dir;
  run_python(dir, R"PY(
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
# Random bit patterns over the whole float32 range, values around the half range, and every
# halfway point between adjacent halves (the round-to-nearest-even cases).
bits = rng.integers(0, 2**32, size=200000, dtype=np.uint64).astype(np.uint32)
near = (rng.standard_normal(200000) * np.exp2(rng.integers(-27, 17, 200000))).astype(np.float32)
h = np.arange(0, 0x7c00, dtype=np.uint16).view(np.float16).astype(np.float32)
mid = ((h[:-1].astype(np.float64) + h[1:].astype(np.float64)) / 2).astype(np.float32)
special = np.array([65504, 65519.996, 65520, 1e10, 2**-24, 2**-25, 3 * 2**-26, 2**-14,
                    2**-14 - 2**-25, 0, np.inf], dtype=np.float32)
x = np.concatenate([bits.view(np.float32), near, mid, -mid, special, -special])
x.tofile(d + '/x.bin')
x.astype(np.float16).view(np.uint16).tofile(d + '/h.bin')
np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).tofile(d + '/all.bin')
)PY");
  const std::vector<float> x = read_raw<float>(dir / "x.bin");
  const std::vector<uint16_t> h = read_raw<uint16_t>(dir / "h.bin");
  ASSERT_EQ(x.size(), h.size());
  ASSERT_GT(x.size(), 400000u);
  size_t mismatches = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const uint16_t got = float_to_half(x[i]);
    const bool nan_ok = std::isnan(x[i]) && (got & 0x7c00) == 0x7c00 && (got & 0x3ff) &&
                        (got & 0x8000) == (h[i] & 0x8000);  // numpy keeps payload bits; any NaN
    if (got != h[i] && !nan_ok && mismatches++ < 10)
      ADD_FAILURE() << "float_to_half(" << x[i] << " = 0x" << std::hex << bits_of(x[i]) << ") = 0x"
                    << got << ", numpy gives 0x" << h[i];
  }
  EXPECT_EQ(mismatches, 0u);
  // half_to_float on all 65536 halves, against numpy's widening.
  const std::vector<float> all = read_raw<float>(dir / "all.bin");
  ASSERT_EQ(all.size(), 65536u);
  for (uint32_t v = 0; v < 65536; ++v) {
    const float f = half_to_float(static_cast<uint16_t>(v));
    if (std::isnan(all[v]))
      ASSERT_TRUE(std::isnan(f)) << v;
    else
      ASSERT_EQ(bits_of(f), bits_of(all[v])) << v;
  }
  // The bulk form, from an odd address (the streamed scan's raw bytes), bit for bit the same.
  std::vector<char> raw(2 * 65536 + 1);
  for (uint32_t v = 0; v < 65536; ++v) {
    const uint16_t h = static_cast<uint16_t>(v);
    std::memcpy(raw.data() + 1 + 2 * v, &h, 2);
  }
  std::vector<float> bulk(65536);
  half_to_float(raw.data() + 1, bulk.data(), 65536);
  for (uint32_t v = 0; v < 65536; ++v)
    ASSERT_EQ(bits_of(bulk[v]), bits_of(half_to_float(static_cast<uint16_t>(v)))) << v;
}

// ---------------------------------------------------------------------------------------------
// Strict header checks

// A hand-made .npy: header dict `dict` (padded as numpy does), version `major`.0, then `data`.
std::string make_npy(const std::string& dict, const std::string& data, int major = 1) {
  std::string d = dict;
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t total = 8 + len_bytes + d.size() + 1;
  d.append((64 - total % 64) % 64, ' ');
  d.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  for (size_t i = 0; i < len_bytes; ++i)
    out.push_back(static_cast<char>((d.size() >> (8 * i)) & 0xff));
  return out + d + data;
}

TEST(Npy, StrictHeaderErrors) {
  TempDir dir;
  const std::string p = dir / "bad.npy";
  const std::string f4x6(24, '\0');
  // Sanity: the helper makes a valid file.
  write_bytes(p, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4x6));
  EXPECT_EQ(read_npy_float(p).shape, (std::vector<int64_t>{2, 3}));
  write_bytes(p, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4x6, 2));
  EXPECT_EQ(read_npy_float(p).shape, (std::vector<int64_t>{2, 3}));

  write_bytes(p, "\x93NUMPX\x01\x00" + make_npy("{}", "").substr(8));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "bad magic"});
  write_bytes(p, "PK\x03\x04 not an npy at all");
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "bad magic"});

  write_bytes(p, make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                          std::string(24, '\0')));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "'<f8'", "astype('float32')"});
  write_bytes(p, make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
                          std::string(12, '\0')));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "'>f4'", "not supported"});
  write_bytes(p, make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f4x6));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "Fortran order"});
  write_bytes(p, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                          f4x6.substr(0, 20)));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "(2, 3)", "needs 24 bytes", "holds 20"});
  write_bytes(
      p, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4x6 + "xxxx"));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "needs 24 bytes", "holds 28"});
  write_bytes(p,
              make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 1), }", f4x6));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "4 dimensions", "1 to 3"});
  write_bytes(p, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "xxxx"));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "0 dimensions"});
  write_bytes(p, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4x6, 4));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "version 4.0"});
  write_bytes(p, std::string("\x93NUMPY\x01\x00\xff\x7f{'descr'", 18));
  expect_error([&] { read_npy_float(p); }, {"bad.npy", "truncated"});
  expect_error([&] { read_npy_float(dir / "missing.npy"); }, {"missing.npy", "no such file"});
  // Writing a 4-D array is refused too.
  const float z[1] = {0};
  expect_error([&] { write_npy(dir / "w.npy", z, {1, 1, 1, 1}); }, {"w.npy", "4 dimensions"});
  EXPECT_FALSE(fs::exists(dir / "w.npy"));
}

TEST(Npy, FirstNonfiniteRow) {
  FloatArray a;
  a.shape = {4, 3};
  a.data.assign(12, 1.f);
  EXPECT_EQ(first_nonfinite_row(a), -1);
  a.data[2 * 3 + 1] = std::nanf("");
  a.data[3 * 3 + 0] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(first_nonfinite_row(a), 2);
  a.data[0 * 3 + 2] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(first_nonfinite_row(a), 0);
  FloatArray t;  // 3-D: rows are the first axis
  t.shape = {3, 2, 2};
  t.data.assign(12, 0.f);
  t.data[2 * 4 + 3] = std::nanf("");
  EXPECT_EQ(t.row_size(), 4);
  EXPECT_EQ(first_nonfinite_row(t), 2);
  FloatArray v;  // 1-D: one element per row
  v.shape = {5};
  v.data = {0, 1, 2, std::nanf(""), 4};
  EXPECT_EQ(first_nonfinite_row(v), 3);
  FloatArray empty;
  empty.shape = {0, 8};
  EXPECT_EQ(first_nonfinite_row(empty), -1);
}

// ---------------------------------------------------------------------------------------------
// SHA-256

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ChunkedUpdatesMatchOneShot) {
  std::string data(10000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  const std::string whole = sha256_hex(data);
  for (size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 127u, 4096u}) {
    Sha256 h;
    for (size_t i = 0; i < data.size(); i += chunk) h.update(data.substr(i, chunk));
    EXPECT_EQ(h.hex_digest(), whole) << chunk;
  }
}

TEST(Sha256, PaddingBoundariesMatchHashlib) {
  // Lengths around the one-block/two-block padding boundary (55, 56, 64 bytes), against Python.
  TempDir dir;
  std::string data(130, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 1);
  write_bytes(dir / "data.bin", data);
  run_python(dir, R"PY(
import sys, hashlib
d = sys.argv[1]
b = open(d + '/data.bin', 'rb').read()
open(d + '/digests.txt', 'w').write('\n'.join(hashlib.sha256(b[:n]).hexdigest() for n in range(131)))
)PY");
  std::ifstream in(dir / "digests.txt");
  std::string line;
  for (size_t n = 0; n <= 130; ++n) {
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(sha256_hex(data.substr(0, n)), line) << n;
  }
}

TEST(Sha256, FileMatchesSha256sum) {
  TempDir dir;
  std::string data(1 << 20, '\0');
  std::mt19937 rng(5);
  for (auto& c : data) c = static_cast<char>(rng());
  const std::string p = dir / "blob.bin";
  write_bytes(p, data);
  std::string cmd = "sha256sum " + p;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[65] = {0};
  ASSERT_EQ(std::fread(buf, 1, 64, pipe), 64u);
  ::pclose(pipe);
  EXPECT_EQ(sha256_file(p), std::string(buf, 64));
  EXPECT_EQ(sha256_hex(data), std::string(buf, 64));
  expect_error([&] { sha256_file(dir / "nope.bin"); }, {"nope.bin"});
}

// ---------------------------------------------------------------------------------------------
// The record envelope (eval records, scan.json, experiment.json)

// ---------------------------------------------------------------------------------------------
// The thread rule and the parallel loop (core/parallel.h).

TEST(CoreParallel, ZeroThreadsMeansAllCores) {
  EXPECT_GE(available_cores(), 1);
  EXPECT_EQ(resolve_threads(0), available_cores());
  EXPECT_EQ(resolve_threads(-1), available_cores());
  EXPECT_EQ(resolve_threads(3), 3);
}

TEST(CoreParallel, EveryItemRunsOnceOnAtMostTheAskedWorkers) {
  std::vector<std::atomic<int>> hits(1000);
  std::mutex mu;
  std::set<std::thread::id> ids;
  parallel_for(1000, 3, [&](int64_t i, int worker) {
    EXPECT_GE(worker, 0);
    EXPECT_LT(worker, 3);
    ++hits[i];
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_LE(ids.size(), 3u);
  // One thread, or one item: the calling thread alone, worker 0.
  std::vector<std::thread::id> seen;
  parallel_for(5, 1, [&](int64_t, int worker) {
    EXPECT_EQ(worker, 0);
    seen.push_back(std::this_thread::get_id());
  });
  EXPECT_EQ(seen, std::vector<std::thread::id>(5, std::this_thread::get_id()));
  parallel_for(0, 4, [](int64_t, int) { ADD_FAILURE() << "no item"; });
}

TEST(CoreParallel, ExceptionsOfAnyTypeReachTheCaller) {
  // A worker's bad_alloc (no repbench::Error) and a standard exception surface in the caller
  // instead of ending the process; with several failures, the lowest item's.
  EXPECT_THROW(parallel_for(64, 4,
                            [](int64_t i, int) {
                              if (i == 17) throw std::bad_alloc();
                            }),
               std::bad_alloc);
  try {
    parallel_for(64, 4, [](int64_t i, int) {
      if (i == 40 || i == 41) throw std::out_of_range("item " + std::to_string(i));
    });
    ADD_FAILURE() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "item 40");
  }
  // A type that is no std::exception at all.
  EXPECT_THROW(parallel_for(8, 2, [](int64_t i, int) {
    if (i == 3) throw 42;
  }), int);
  // After a failure no new item starts: far fewer than all run.
  std::atomic<int64_t> ran{0};
  EXPECT_THROW(parallel_for(100000, 2,
                            [&](int64_t i, int) {
                              ++ran;
                              if (i == 0) throw std::runtime_error("stop");
                              std::this_thread::sleep_for(std::chrono::microseconds(50));
                            }),
               std::runtime_error);
  EXPECT_LT(ran.load(), 100000);
}

TEST(CoreParallel, WhileWaitingRunsOnTheCallingThreadWhichTakesNoItem) {
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> calls{0}, on_caller{0};
  ParallelOptions o;
  o.while_waiting = [&] {
    ++calls;
    EXPECT_EQ(std::this_thread::get_id(), caller);
  };
  o.wait_interval = std::chrono::milliseconds(1);
  parallel_for(
      20, 2,
      [&](int64_t, int) {
        if (std::this_thread::get_id() == caller) ++on_caller;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      },
      o);
  EXPECT_GE(calls.load(), 1);
  EXPECT_EQ(on_caller.load(), 0);
  // And a worker's exception still reaches the caller.
  EXPECT_THROW(parallel_for(4, 1, [](int64_t, int) { throw std::bad_alloc(); }, o),
               std::bad_alloc);
}

// ---------------------------------------------------------------------------------------------
// Atomic files

TEST(CoreAtomicFile, WithoutCommitLeavesNothing) {
  TempDir dir;
  const std::string p = dir / "sub/out.txt";
  {
    AtomicFile f(p);
    f.write("half-written");
    EXPECT_FALSE(fs::exists(p));
  }
  EXPECT_FALSE(fs::exists(p));
  // Neither the file nor a temporary is left in the folder (which AtomicFile created).
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
}

TEST(CoreAtomicFile, CommitReplacesAtomically) {
  TempDir dir;
  const std::string p = dir / "out.txt";
  write_file_atomic(p, "first");
  EXPECT_EQ(read_file(p), "first");
  {
    AtomicFile f(p);
    f.write("second, longer content");
    EXPECT_EQ(read_file(p), "first");  // old content visible until commit
    f.commit();
  }
  EXPECT_EQ(read_file(p), "second, longer content");
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++n;
  EXPECT_EQ(n, 1u);  // no temporary left behind
  write_file_atomic(p, "");
  EXPECT_EQ(read_file(p), "");
}

TEST(CoreAtomicFile, RemovesOnlyTheTemporariesOfDeadWriters) {
  TempDir dir;
  // A pid that is certainly not running: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const std::string dead = std::to_string(child), alive = std::to_string(::getpid());
  fs::create_directories(dir.path() / "records" / "m");
  const std::vector<std::string> stale = {"records/m/a.json.tmp-" + dead + "-0",
                                          "leaderboard.md.tmp-" + dead + "-17"};
  const std::vector<std::string> kept = {"records/m/a.json", "records/m/b.json.tmp-" + alive + "-3",
                                         "notes.tmp-x-1", "c.json.tmp-" + dead,
                                         "d.tmp-" + dead + "-1x"};
  for (const auto& f : stale) write_bytes(dir / f, "partial");
  for (const auto& f : kept) write_bytes(dir / f, "keep");
  EXPECT_EQ(remove_stale_temporaries(dir.path().string()), 2);
  for (const auto& f : stale) EXPECT_FALSE(fs::exists(dir / f)) << f;
  for (const auto& f : kept) EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(remove_stale_temporaries(dir / "no-such-folder"), 0);
}

TEST(CoreAtomicFile, ReadFileErrorsNameThePath) {
  TempDir dir;
  expect_error([&] { read_file(dir / "missing.txt"); }, {"missing.txt", "no such file"});
  expect_error([&] { read_file(dir.path().string()); }, {"is a folder"});
  // A file cannot be created where a regular file stands in for the parent folder.
  write_bytes(dir / "plain", "x");
  expect_error([&] { write_file_atomic(dir / "plain/child.txt", "y"); }, {"plain/child.txt"});
}

}  // namespace
}  // namespace repbench
