// Random unit-norm float32 rows (seeded), the data of the search benchmarks.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace repbench::bench {

// n rows of d normal entries (uniform directions), each row scaled to norm 1; row-major.
inline std::vector<float> unit_rows(int64_t n, int64_t d, uint64_t seed) {
  Rng rng(seed);  // core/rng: the same rows on every standard library
  std::vector<float> x(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i) {
    float* row = x.data() + i * d;
    double norm = 0;
    for (int64_t j = 0; j < d; ++j) {
      row[j] = static_cast<float>(rng.normal());
      norm += static_cast<double>(row[j]) * row[j];
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (int64_t j = 0; j < d; ++j) row[j] *= inv;
  }
  return x;
}

}  // namespace repbench::bench
