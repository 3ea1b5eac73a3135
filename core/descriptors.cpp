#include "core/descriptors.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
  if (a.rows() == 0) fail("{}: no rows (the descriptors of no image)", name);
  int64_t bad = first_nonfinite_row(a.data, a.rows(), a.row_size());
  if (bad >= 0) fail("{}: row {} holds NaN or Inf", name, bad);
}

FloatArray read_descriptors(const std::string& path, const DescriptorExpectation& expect) {
  FloatArray a = read_npy_float(path);
  check_descriptors(a, path, expect);
  return a;
}

namespace {
double largest_row_norm(const FloatView& a) {
  const int64_t n = a.rows(), d = a.row_size();
  double largest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* r = a.data + i * d;
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += double{r[j]} * r[j];
    largest = std::max(largest, s);
  }
  return std::sqrt(largest);
}
}  // namespace

void check_scores_finite(const FloatView& q, const std::string& q_name, const FloatView& db,
                         const std::string& db_name) {
  const double nq = largest_row_norm(q), nd = largest_row_norm(db);
  if (nq * nd > double{std::numeric_limits<float>::max()})
    fail("{}: rows of norm up to {:.3g} against {} (rows of norm up to {:.3g}) give scores that "
         "overflow float32 to infinity; scale the descriptors or pass --l2-normalize",
         q_name, nq, db_name, nd);
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
