// The candidate pass of an exact search in bf16 (docs/precision.md): inner products of the
// bf16-rounded rows (oneDNN, metrics/bf16_matmul.h), and the bounds on how far a score of the
// candidate pass (bf16 or fp32) can lie from the exact inner product of the float rows.
#pragma once

#include <cstdint>
#include <vector>

#include "metrics/score_source.h"

namespace repbench::metrics {

// gamma(n, u) = n u / (1 - n u): the relative error bound of n rounded operations of unit
// roundoff u (Higham, Accuracy and Stability of Numerical Algorithms, Lemma 3.1).
double gamma_bound(int64_t n, double u);

// Norms of a set of rows ([n x d] row-major float), computed in double and rounded up.
struct RowNorms {
  std::vector<double> norm;           // |x|
  std::vector<double> bf16_norm;      // |bf16(x)|
  std::vector<double> bf16_residual;  // |x - bf16(x)|
  double norm_max = 0, bf16_norm_max = 0, bf16_residual_max = 0;
};
RowNorms row_norms(const float* x, int64_t n, int64_t d, bool with_bf16, int threads = 0);

// Bound on |fp32 product - exact q.x| for every db row x: an sgemm's dot product of length d in
// any order, with or without FMA: gamma(d, 2^-24) |q| max|x| (plus denormal slack).
double fp32_product_bound(double q_norm, double x_norm_max, int64_t d);
// Bound on |bf16 score - exact q.x| for every db row x: the input rounding
// |q| max|x - x~| + |q - q~| max|x~|, the f32 accumulation gamma(d, 2^-23) |q~| max|x~|, and the
// flushed denormals of the bf16 instructions.
double bf16_product_bound(int64_t query, const RowNorms& queries, const RowNorms& db, int64_t d);

// ScoreSource of bf16 inner products: the rows are rounded to bf16 once (copies held here), the
// products run through bf16_matmul() (precondition: bf16_matmul_supported()).
class Bf16InnerProductScores : public ScoreSource {
 public:
  Bf16InnerProductScores(const float* q, int64_t nq, const float* db, int64_t nb, int64_t d,
                         int threads = 0);
  ~Bf16InnerProductScores() override;
  Bf16InnerProductScores(const Bf16InnerProductScores&) = delete;
  Bf16InnerProductScores& operator=(const Bf16InnerProductScores&) = delete;
  int64_t nq() const override { return nq_; }
  int64_t nb() const override { return nb_; }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override;
  double flops_per_score() const override { return 2.0 * static_cast<double>(d_); }

 private:
  // The bf16 copies, in buffers reused from one search to the next (bf16_scores.cpp says why).
  uint16_t* q_ = nullptr;
  uint16_t* db_ = nullptr;
  int64_t nq_, nb_, d_;
};

}  // namespace repbench::metrics
