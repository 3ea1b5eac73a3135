#include "core/npy.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <regex>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr int kMaxDims = 3;

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) s += ",";
    if (i + 1 < shape.size()) s += " ";
  }
  return s + ")";
}

// Parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
NpyHeader parse_dict(const std::string& path, const std::string& dict) {
  static const std::regex descr_re(R"('descr'\s*:\s*'([^']*)')");
  static const std::regex fortran_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  static const std::regex keys_re(R"('([a-z_]+)'\s*:)");
  std::smatch m;
  for (auto it = std::sregex_iterator(dict.begin(), dict.end(), keys_re);
       it != std::sregex_iterator(); ++it) {
    std::string key = (*it)[1];
    if (key != "descr" && key != "fortran_order" && key != "shape")
      fail("{}: .npy header has unexpected key '{}'", path, key);
  }
  NpyHeader h;
  if (!std::regex_search(dict, m, descr_re)) fail("{}: .npy header has no 'descr'", path);
  std::string descr = m[1];
  if (descr == "<f4" || descr == "=f4") {
    h.dtype = NpyDType::kFloat32;
  } else if (descr == "<f2" || descr == "=f2") {
    h.dtype = NpyDType::kFloat16;
  } else if (descr == "<i8" || descr == "=i8") {
    h.dtype = NpyDType::kInt64;
  } else if (descr == "<i4" || descr == "=i4") {
    h.dtype = NpyDType::kInt32;
  } else {
    fail("{}: dtype '{}' is not supported; expected float32 ('<f4') or float16 ('<f2'), "
         "e.g. np.save(path, x.astype('float32'))",
         path, descr);
  }
  if (!std::regex_search(dict, m, fortran_re)) fail("{}: .npy header has no 'fortran_order'", path);
  if (m[1] == "True")
    fail("{}: array is in Fortran order; expected C order (np.ascontiguousarray(x))", path);
  if (!std::regex_search(dict, m, shape_re)) fail("{}: .npy header has no 'shape'", path);
  std::string dims = m[1];
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string tok = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    tok.erase(0, tok.find_first_not_of(" \t"));
    tok.erase(tok.find_last_not_of(" \tL") + 1);
    if (!tok.empty()) {
      if (tok.find_first_not_of("0123456789") != std::string::npos || tok.size() > 15)
        fail("{}: .npy shape has a bad dimension '{}'", path, tok);
      h.shape.push_back(std::stoll(tok));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (h.shape.empty() || h.shape.size() > kMaxDims)
    fail("{}: array has {} dimensions; expected 1 to {}", path, h.shape.size(), kMaxDims);
  return h;
}

NpyHeader parse_header(const std::string& path, std::istream& in, int64_t file_size) {
  char pre[10];
  in.read(pre, 8);
  if (in.gcount() < 8 || std::memcmp(pre, kMagic, kMagicLen) != 0)
    fail("{}: not a .npy file (bad magic)", path);
  int major = static_cast<unsigned char>(pre[6]);
  int minor = static_cast<unsigned char>(pre[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail("{}: .npy format version {}.{} is not supported (expected 1.0, 2.0 or 3.0)", path, major,
         minor);
  uint64_t header_len = 0;
  int len_bytes = major == 1 ? 2 : 4;
  unsigned char lb[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(lb), len_bytes);
  if (in.gcount() < len_bytes) fail("{}: .npy header is truncated", path);
  for (int i = len_bytes - 1; i >= 0; --i) header_len = (header_len << 8) | lb[i];
  int64_t offset = 8 + len_bytes + static_cast<int64_t>(header_len);
  if (offset > file_size || header_len > (1u << 20)) fail("{}: .npy header is truncated", path);
  std::string dict(header_len, '\0');
  in.read(dict.data(), static_cast<std::streamsize>(header_len));
  if (static_cast<uint64_t>(in.gcount()) != header_len) fail("{}: .npy header is truncated", path);
  if (dict.find('{') == std::string::npos || dict.find('}') == std::string::npos)
    fail("{}: .npy header is not a dict", path);
  NpyHeader h = parse_dict(path, dict);
  h.data_offset = offset;
  // Shape against file size, without overflow.
  int64_t count = 1;
  for (int64_t s : h.shape) {
    if (s != 0 && count > (int64_t{1} << 50) / s) fail("{}: .npy shape is too large", path);
    count *= s;
  }
  int64_t expected = offset + count * static_cast<int64_t>(npy_dtype_size(h.dtype));
  if (expected != file_size)
    fail("{}: shape {} of {} needs {} bytes of data but the file holds {}", path,
         shape_str(h.shape), npy_descr(h.dtype), expected - offset, file_size - offset);
  return h;
}

std::ifstream open_npy(const std::string& path, int64_t* size) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
  auto sz = std::filesystem::file_size(path, ec);
  if (ec) fail("{}: cannot read: {}", path, ec.message());
  *size = static_cast<int64_t>(sz);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", path, std::strerror(errno));
  return in;
}

template <typename T>
void read_payload(const std::string& path, std::istream& in, T* out, size_t bytes) {
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(bytes));
  if (static_cast<size_t>(in.gcount()) != bytes) fail("{}: data is truncated", path);
}

void check_shape_for_write(const std::string& path, const std::vector<int64_t>& shape) {
  if (shape.empty() || shape.size() > kMaxDims)
    fail("{}: cannot write an array of {} dimensions", path, shape.size());
  for (int64_t s : shape)
    if (s < 0) fail("{}: negative dimension in shape", path);
}

int64_t element_count(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

}  // namespace

const char* npy_descr(NpyDType dtype) {
  switch (dtype) {
    case NpyDType::kFloat32: return "<f4";
    case NpyDType::kFloat16: return "<f2";
    case NpyDType::kInt32: return "<i4";
    case NpyDType::kInt64: return "<i8";
  }
  return "?";
}

size_t npy_dtype_size(NpyDType t) {
  switch (t) {
    case NpyDType::kFloat32: return 4;
    case NpyDType::kFloat16: return 2;
    case NpyDType::kInt32: return 4;
    case NpyDType::kInt64: return 8;
  }
  return 0;
}

std::string npy_header(NpyDType dtype, const std::vector<int64_t>& shape) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 npy_descr(dtype), shape_str(shape));
  // Pad with spaces so that the data starts on a 64-byte boundary; header ends with '\n'.
  size_t total = kMagicLen + 2 + 2 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return out + dict;
}

int64_t FloatArray::row_size() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

NpyHeader read_npy_header(const std::string& path) {
  int64_t size = 0;
  auto in = open_npy(path, &size);
  return parse_header(path, in, size);
}

FloatArray read_npy_float(const std::string& path) {
  int64_t size = 0;
  auto in = open_npy(path, &size);
  NpyHeader h = parse_header(path, in, size);
  FloatArray a;
  a.shape = h.shape;
  const int64_t n = element_count(h.shape);
  a.data.resize(static_cast<size_t>(n));
  if (h.dtype == NpyDType::kFloat32) {
    read_payload(path, in, a.data.data(), n * sizeof(float));
  } else if (h.dtype == NpyDType::kFloat16) {
    std::vector<uint16_t> half(static_cast<size_t>(n));
    read_payload(path, in, half.data(), n * sizeof(uint16_t));
    half_to_float(half.data(), a.data.data(), n);
  } else {
    fail("{}: dtype '{}' is not supported here; expected float32 ('<f4') or float16 ('<f2')",
         path, npy_descr(h.dtype));
  }
  return a;
}

std::vector<int64_t> read_npy_int64(const std::string& path, std::vector<int64_t>* shape) {
  int64_t size = 0;
  auto in = open_npy(path, &size);
  NpyHeader h = parse_header(path, in, size);
  if (h.dtype != NpyDType::kInt64 && h.dtype != NpyDType::kInt32)
    fail("{}: dtype '{}' where int64 ('<i8') or int32 ('<i4') was expected", path,
         npy_descr(h.dtype));
  std::vector<int64_t> out(static_cast<size_t>(element_count(h.shape)));
  if (h.dtype == NpyDType::kInt64) {
    read_payload(path, in, out.data(), out.size() * sizeof(int64_t));
  } else {
    std::vector<int32_t> narrow(out.size());
    read_payload(path, in, narrow.data(), narrow.size() * sizeof(int32_t));
    std::copy(narrow.begin(), narrow.end(), out.begin());
  }
  if (shape) *shape = h.shape;
  return out;
}

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape,
               NpyDType dtype) {
  check_shape_for_write(path, shape);
  const int64_t n = element_count(shape);
  AtomicFile f(path);
  f.write(npy_header(dtype, shape));
  if (dtype == NpyDType::kFloat32) {
    f.write(data, static_cast<size_t>(n) * sizeof(float));
  } else if (dtype == NpyDType::kFloat16) {
    std::vector<uint16_t> half(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) half[i] = float_to_half(data[i]);
    f.write(half.data(), half.size() * sizeof(uint16_t));
  } else {
    fail("{}: float data cannot be written as {}", path, npy_descr(dtype));
  }
  f.commit();
}

namespace {

template <typename Int>
void write_npy_ints(const std::string& path, NpyDType dtype, const Int* data,
                    const std::vector<int64_t>& shape) {
  check_shape_for_write(path, shape);
  AtomicFile f(path);
  f.write(npy_header(dtype, shape));
  f.write(data, static_cast<size_t>(element_count(shape)) * sizeof(Int));
  f.commit();
}

}  // namespace

void write_npy(const std::string& path, const int64_t* data, const std::vector<int64_t>& shape) {
  write_npy_ints(path, NpyDType::kInt64, data, shape);
}

void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape) {
  write_npy_ints(path, NpyDType::kInt32, data, shape);
}

int64_t first_nonfinite_row(const FloatArray& a) {
  return first_nonfinite_row(a.data.data(), a.rows(), a.row_size());
}

int64_t first_nonfinite_row(const float* data, int64_t rows, int64_t row_size) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* r = data + i * row_size;
    uint32_t any = 0;  // an all-ones exponent is Inf or NaN; OR-ing the tests vectorises
    for (int64_t j = 0; j < row_size; ++j) {
      uint32_t bits;
      std::memcpy(&bits, r + j, sizeof bits);
      any |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (any) return i;
  }
  return -1;
}

float half_to_float(uint16_t h) {
  // Branch-free (both special cases computed, one selected), so that the loop below vectorises.
  constexpr uint32_t kExp = 0x7c00u << 13;  // the half's exponent field, moved to a float's
  uint32_t o = static_cast<uint32_t>(h & 0x7fff) << 13;
  const uint32_t exp = o & kExp;
  o += (127 - 15) << 23;                     // rebias the exponent
  const uint32_t inf_nan = o + ((128 - 16) << 23);
  // Zero and subnormals: one more exponent step, then subtract 2^-14 to renormalise (exact).
  float sub;
  const uint32_t sub_bits = o + (1u << 23);
  std::memcpy(&sub, &sub_bits, sizeof sub);
  sub -= 6.103515625e-05f;  // 2^-14, the float with bits 113 << 23
  uint32_t sub_out;
  std::memcpy(&sub_out, &sub, sizeof sub_out);
  uint32_t bits = exp == kExp ? inf_nan : exp == 0 ? sub_out : o;
  bits |= static_cast<uint32_t>(h & 0x8000) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

void half_to_float(const void* in, float* out, int64_t n) {
  const char* p = static_cast<const char*>(in);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, sizeof h);
    out[i] = half_to_float(h);
  }
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t absx = x & 0x7fffffff;
  if (absx >= 0x7f800000u)  // Inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to Inf
  if (absx < 0x38800000u) {  // result is subnormal or zero
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t mant = (absx & 0x7fffff) | 0x800000;
    int shift = 113 - static_cast<int>(absx >> 23) + 13;  // 126 - exp + 1 ... into 10-bit field
    uint32_t half_mant = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_mant & 1))) ++half_mant;
    return static_cast<uint16_t>(sign | half_mant);
  }
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t mant = absx & 0x7fffff;
  uint32_t h = exp << 10 | mant >> 13;
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // may carry into the exponent: correct
  return static_cast<uint16_t>(sign | h);
}

}  // namespace repbench
