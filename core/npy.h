// NumPy .npy files, the exchange format for descriptors and search results.
//
// Read: float32 ('<f4') and float16 ('<f2', widened to float32), int64 and int32 (ids), C order,
// 1-D to 3-D, format versions 1.0 to 3.0. The header is validated strictly: magic, version, dict keys, dtype, order,
// and shape against the file size. Write: float32, float16 or int64, atomically.
// Layout: row-major, element (i, j) of a 2-D array at data[i * shape[1] + j].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repbench {

enum class NpyDType { kFloat32, kFloat16, kInt32, kInt64 };

// Name in numpy's spelling ("<f4", "<f2", "<i4", "<i8").
const char* npy_descr(NpyDType dtype);
// Bytes of one element.
size_t npy_dtype_size(NpyDType dtype);
// The bytes before the data of a C-order .npy file (format 1.0, data 64-byte aligned), for
// writers that stream the data after it.
std::string npy_header(NpyDType dtype, const std::vector<int64_t>& shape);

struct NpyHeader {
  NpyDType dtype = NpyDType::kFloat32;
  std::vector<int64_t> shape;
  int64_t data_offset = 0;  // bytes from the start of the file to the first element
};

// A float32 array read from a .npy file (float16 files are widened).
struct FloatArray {
  std::vector<int64_t> shape;  // 1 to 3 dimensions
  std::vector<float> data;     // product(shape) elements, row-major

  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  // Elements per row: 1 for a 1-D array, shape[1] * shape[2] for a 3-D one.
  int64_t row_size() const;
  const float* row(int64_t i) const { return data.data() + i * row_size(); }
};

// Parses and validates the header of `path` (shape checked against the file size).
NpyHeader read_npy_header(const std::string& path);

// Reads a float32 or float16 array. Throws Error naming the file on any violation.
FloatArray read_npy_float(const std::string& path);

// Reads an int64 or int32 array (search results, a record's top ids), widened to int64; shape
// returned through `shape`.
std::vector<int64_t> read_npy_int64(const std::string& path, std::vector<int64_t>* shape);

// Writes float32 data as `dtype` (kFloat32 or kFloat16, round-to-nearest-even), atomically.
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape,
               NpyDType dtype = NpyDType::kFloat32);
void write_npy(const std::string& path, const int64_t* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape);

// Index of the first row holding NaN or Inf, or -1 when all values are finite. The pointer form
// reads `rows` rows of `row_size` values (a branch-free scan per row, so it runs at memory speed).
int64_t first_nonfinite_row(const FloatArray& a);
int64_t first_nonfinite_row(const float* data, int64_t rows, int64_t row_size);

// IEEE half <-> single conversions (exact for every half value; round-to-nearest-even down).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
// n little-endian halves at `in` (any alignment) at once, vectorised: the streamed scan widens
// every training value with it.
void half_to_float(const void* in, float* out, int64_t n);

}  // namespace repbench
