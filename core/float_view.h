// A read-only view of float32 descriptors someone else owns: a FloatArray (which converts), or an
// array of the Python module's caller, scored where it lies (python/). The same layout as
// FloatArray: row-major, 1 to 3 dimensions, row i at data + i * row_size().
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/npy.h"

namespace repbench {

struct FloatView {
  const float* data = nullptr;
  std::vector<int64_t> shape;

  FloatView() = default;
  FloatView(const float* d, std::vector<int64_t> s) : data(d), shape(std::move(s)) {}
  FloatView(const FloatArray& a) : data(a.data.data()), shape(a.shape) {}  // NOLINT: implicit

  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  // Elements per row: 1 for a 1-D array, shape[1] * shape[2] for a 3-D one.
  int64_t row_size() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return n;
  }
  const float* row(int64_t i) const { return data + i * row_size(); }
};

}  // namespace repbench
