#include "core/descriptors.h"

#include <cmath>

#include "core/error.h"

namespace repbench {

void check_descriptors(const FloatView& a, const std::string& name,
                       const DescriptorExpectation& expect) {
  const size_t max_dims = expect.allow_tokens ? 3 : 2;
  if (a.shape.size() < 2 || a.shape.size() > max_dims)
    fail("{}: descriptors must be a {} array with one row per image; found {} dimensions", name,
         expect.allow_tokens ? "2-D [n, dim] or 3-D [n, tokens, dim]" : "2-D [n, dim]",
         a.shape.size());
  if (expect.rows >= 0 && a.rows() != expect.rows)
    fail("{}: {} rows, but {} rows are expected (one per image, in the order of the {})", name,
         a.rows(), expect.rows, expect.row_order.empty() ? "set" : expect.row_order);
  if (a.row_size() == 0) fail("{}: descriptors have zero columns", name);
  int64_t bad = first_nonfinite_row(a.data, a.rows(), a.row_size());
  if (bad >= 0) fail("{}: row {} holds NaN or Inf", name, bad);
}

FloatArray read_descriptors(const std::string& path, const DescriptorExpectation& expect) {
  FloatArray a = read_npy_float(path);
  check_descriptors(a, path, expect);
  return a;
}

void l2_normalize_rows(FloatArray& a) {
  const int64_t n = a.rows(), d = a.row_size();
  for (int64_t i = 0; i < n; ++i) {
    float* r = a.data.data() + i * d;
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += double{r[j]} * r[j];
    if (s > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(s));
      for (int64_t j = 0; j < d; ++j) r[j] *= inv;
    }
  }
}

}  // namespace repbench
