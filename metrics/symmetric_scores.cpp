#include "metrics/symmetric_scores.h"

#include <sys/mman.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <cblas.h>

#include "core/error.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// A 2 MiB-aligned buffer advised to use huge pages: faulting in 576 MB of 4 KiB pages would cost
// about as much as the half of the product that SYRK saves.
float* allocate(int64_t floats) {
  const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + kHugePage - 1) /
                       kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
  if (!p) fail("SymmetricInnerProductScores: cannot allocate {} bytes", bytes);
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without huge pages it is just slower
  return static_cast<float*>(p);
}

}  // namespace

void SymmetricInnerProductScores::Free::operator()(float* p) const { std::free(p); }

SymmetricInnerProductScores::SymmetricInnerProductScores(const float* x, int64_t n, int64_t d,
                                                         int threads)
    : n_(n), d_(d) {
  if (n < 1 || d < 1 || d > INT_MAX || (x == nullptr))
    fail("SymmetricInnerProductScores: expected n >= 1, 1 <= d <= {} and data, found n = {}, "
         "d = {}",
         INT_MAX, n, d);
  if (!fits(n))
    fail("SymmetricInnerProductScores: {} x {} scores exceed {} bytes", n, n, kMaxBytes);
  s_.reset(allocate(n * n));
  float* s = s_.get();
  const int team = resolve_threads(threads);
  {
    BlasThreadsScope blas(team);
    // Row-major upper triangle: s[i * n + j] = <x_i, x_j> for j >= i.
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<int>(n), static_cast<int>(d),
                1.0f, x, static_cast<int>(d), 0.0f, s, static_cast<int>(n));
  }
  // Mirror the strict upper triangle into the lower, tile by tile (a tile row per task).
  constexpr int64_t kTile = 64;
  const int64_t tiles = (n + kTile - 1) / kTile;
  parallel_for(tiles, team, [&](int64_t ti, int) {
    const int64_t i0 = ti * kTile, i1 = std::min(n, i0 + kTile);
    for (int64_t j0 = 0; j0 <= i0; j0 += kTile) {
      const int64_t j1 = std::min(n, j0 + kTile);
      // Rows [i0, i1) of the lower triangle, columns [j0, j1) with j < i, from the upper.
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < std::min(j1, i); ++j) s[i * n + j] = s[j * n + i];
    }
  });
}

SymmetricInnerProductScores::~SymmetricInnerProductScores() = default;

void SymmetricInnerProductScores::compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn,
                                          float* out, int64_t ld) const {
  REPBENCH_ASSERT(q0 >= 0 && qn >= 0 && q0 + qn <= n_);
  REPBENCH_ASSERT(b0 >= 0 && bn >= 0 && b0 + bn <= n_ && ld >= bn);
  for (int64_t i = 0; i < qn; ++i)
    std::memcpy(out + i * ld, s_.get() + (q0 + i) * n_ + b0, static_cast<size_t>(bn) * 4);
}

}  // namespace repbench::metrics
