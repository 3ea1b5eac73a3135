#include "datasets/mat_reader.h"

#include <matio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/mat_v5_layout.h"

namespace repbench::datasets {

namespace {

struct VarDeleter {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using VarPtr = std::unique_ptr<matvar_t, VarDeleter>;

size_t numel(const matvar_t* v) {
  size_t n = 1;
  for (int i = 0; i < v->rank; ++i) n *= v->dims[i];
  return n;
}

std::string char_var_to_string(const std::string& path, const std::string& where,
                               const matvar_t* v) {
  if (v == nullptr || v->class_type != MAT_C_CHAR)
    fail("{}: {} is not a character array", path, where);
  const size_t n = numel(v);
  std::string s;
  s.reserve(n);
  if (v->data == nullptr) return s;
  // A char row vector: element order is the string order (one row).
  if (v->data_size == 1) {
    s.assign(static_cast<const char*>(v->data), n);
  } else if (v->data_size == 2) {
    const auto* p = static_cast<const uint16_t*>(v->data);
    for (size_t i = 0; i < n; ++i) {
      if (p[i] > 0x7f) fail("{}: {} holds a non-ASCII character", path, where);
      s.push_back(static_cast<char>(p[i]));
    }
  } else {
    fail("{}: {} has an unsupported character width {}", path, where, v->data_size);
  }
  return s;
}

double numeric_at(const matvar_t* v, size_t i) {
  switch (v->class_type) {
    case MAT_C_DOUBLE:
      return static_cast<const double*>(v->data)[i];
    case MAT_C_SINGLE:
      return static_cast<const float*>(v->data)[i];
    case MAT_C_INT8:
      return static_cast<const int8_t*>(v->data)[i];
    case MAT_C_UINT8:
      return static_cast<const uint8_t*>(v->data)[i];
    case MAT_C_INT16:
      return static_cast<const int16_t*>(v->data)[i];
    case MAT_C_UINT16:
      return static_cast<const uint16_t*>(v->data)[i];
    case MAT_C_INT32:
      return static_cast<const int32_t*>(v->data)[i];
    case MAT_C_UINT32:
      return static_cast<const uint32_t*>(v->data)[i];
    case MAT_C_INT64:
      return static_cast<double>(static_cast<const int64_t*>(v->data)[i]);
    case MAT_C_UINT64:
      return static_cast<double>(static_cast<const uint64_t*>(v->data)[i]);
    default:
      return 0;
  }
}

bool is_numeric(const matvar_t* v) {
  switch (v->class_type) {
    case MAT_C_DOUBLE:
    case MAT_C_SINGLE:
    case MAT_C_INT8:
    case MAT_C_UINT8:
    case MAT_C_INT16:
    case MAT_C_UINT16:
    case MAT_C_INT32:
    case MAT_C_UINT32:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return v->isComplex == 0;
    default:
      return false;
  }
}

}  // namespace

struct MatFile::Impl {
  mat_t* mat = nullptr;
  uintmax_t file_size = 0;
  ~Impl() {
    if (mat) Mat_Close(mat);
  }
  VarPtr read(const std::string& path, const std::string& name) const {
    // Mat_VarRead scans from the start; rewind so reads are independent of each other.
    Mat_Rewind(mat);
    // matio allocates what a variable's header declares before it reads the data, so a corrupt
    // header of a few bytes could ask for gigabytes (found by tests/fuzz/fuzz_mat.cpp). Checked
    // against the file first: no variable holds more bytes than the file times zlib's largest
    // ratio (about 1032:1).
    const VarPtr info(Mat_VarReadInfo(mat, name.c_str()));
    if (info == nullptr) fail("{}: has no variable '{}'", path, name);
    size_t bytes = std::max<size_t>(Mat_SizeOfClass(info->class_type), 1);
    for (int i = 0; i < info->rank; ++i)
      if (__builtin_mul_overflow(bytes, info->dims[i], &bytes)) bytes = SIZE_MAX;
    if (bytes / 1032 > file_size)
      fail("{}: variable '{}' declares more data than the file holds (corrupt header?)", path,
           name);
    Mat_Rewind(mat);
    matvar_t* v = Mat_VarRead(mat, name.c_str());
    if (v == nullptr) fail("{}: has no variable '{}'", path, name);
    return VarPtr(v);
  }
};

MatFile::MatFile(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
  impl_->file_size = std::filesystem::file_size(path, ec);
  // matio trusts the sizes a file declares (see mat_v5_layout.h), so v5 files are walked first;
  // v7.3 files are HDF5, read through libhdf5; v4 files cannot hold the cells and structs the
  // ground-truth formats use, so they are refused rather than handed to matio's v4 reader.
  const std::string bytes = read_file(path);
  switch (mat_version(bytes)) {
    case MatVersion::kV5:
      check_mat_v5_layout(path, bytes);
      break;
    case MatVersion::kV73:
      break;
    case MatVersion::kOther:
      fail("{}: not a MATLAB v5/v7/v7.3 MAT-file (MATLAB v4 files are not read; re-save with "
           "save(..., '-v7'))",
           path);
  }
  impl_->mat = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
  if (impl_->mat == nullptr) fail("{}: not a MATLAB .mat file (or unreadable)", path);
}

MatFile::~MatFile() = default;

std::vector<std::string> MatFile::variables() const {
  std::vector<std::string> names;
  Mat_Rewind(impl_->mat);
  while (matvar_t* v = Mat_VarReadNextInfo(impl_->mat)) {
    if (v->name) names.emplace_back(v->name);
    Mat_VarFree(v);
  }
  return names;
}

size_t MatFile::element_count(const std::string& name) const {
  return numel(impl_->read(path_, name).get());
}

std::vector<std::string> MatFile::read_string_cell(const std::string& name) const {
  VarPtr v = impl_->read(path_, name);
  if (v->class_type != MAT_C_CELL)
    fail("{}: variable '{}' is not a cell array of strings", path_, name);
  const size_t n = numel(v.get());
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    matvar_t* c = Mat_VarGetCell(v.get(), static_cast<int>(i));
    out.push_back(char_var_to_string(path_, fmt::format("{}{{{}}}", name, i + 1), c));
  }
  return out;
}

std::vector<std::vector<double>> MatFile::read_struct_numeric_field(
    const std::string& name, const std::string& field) const {
  VarPtr v = impl_->read(path_, name);
  if (v->class_type != MAT_C_STRUCT) fail("{}: variable '{}' is not a struct array", path_, name);
  const size_t n = numel(v.get());
  std::vector<std::vector<double>> out(n);
  for (size_t i = 0; i < n; ++i) {
    matvar_t* f = Mat_VarGetStructFieldByName(v.get(), field.c_str(), i);
    if (f == nullptr) fail("{}: struct '{}' has no field '{}'", path_, name, field);
    if (!is_numeric(f))
      fail("{}: {}({}).{} is not a real numeric array", path_, name, i + 1, field);
    const size_t m = numel(f);
    out[i].resize(m);
    if (m && f->data == nullptr) fail("{}: {}({}).{} has no data", path_, name, i + 1, field);
    for (size_t j = 0; j < m; ++j) out[i][j] = numeric_at(f, j);
  }
  return out;
}

}  // namespace repbench::datasets
