// Inner products of one matrix with itself, for leave-in sets whose queries are their database
// (GPR1200, CUB-200, INSTRE's all-vs-all use): score(i, j) = <x_i, x_j>, computed once by a
// symmetric rank-k update (BLAS ssyrk: the upper triangle only, half the flops of the sgemm of
// X X^T) and mirrored into a full n x n matrix that compute() then copies from.
//
// The whole matrix is held (n^2 x 4 bytes: 576 MB for GPR1200's 12,000 images), so callers use it
// only when fits() says so; descriptor_scores() (metrics/descriptor_scores.h) decides.
#pragma once

#include <cstdint>
#include <memory>

#include "metrics/score_source.h"

namespace repbench::metrics {

class SymmetricInnerProductScores : public ScoreSource {
 public:
  // The most bytes the matrix may take (2 GiB: n up to 23,170).
  static constexpr int64_t kMaxBytes = int64_t{2} << 30;
  static bool fits(int64_t n) { return n > 0 && n <= kMaxBytes / 4 / n; }

  // `x` is [n x d] row-major; it is read here only. Computes the matrix with `threads` BLAS
  // threads (0 = all cores). Throws repbench::Error if n or d is out of range or !fits(n).
  SymmetricInnerProductScores(const float* x, int64_t n, int64_t d, int threads = 0);
  ~SymmetricInnerProductScores() override;

  int64_t nq() const override { return n_; }
  int64_t nb() const override { return n_; }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override;
  double flops_per_score() const override { return 2.0 * static_cast<double>(d_); }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  int64_t n_, d_;
  std::unique_ptr<float[], Free> s_;  // [n x n], row-major, symmetric
};

}  // namespace repbench::metrics
