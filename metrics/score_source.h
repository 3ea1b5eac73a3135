// ScoreSource: a similarity between nq queries and nb database items, computed block by block so
// that no caller ever holds the whole nq x nb matrix. Evaluation and top-k search consume it; the
// kernels (inner product here, split-product for token descriptors) implement it.
#pragma once

#include <cstdint>

namespace repbench::metrics {

class ScoreSource {
 public:
  virtual ~ScoreSource() = default;
  virtual int64_t nq() const = 0;
  virtual int64_t nb() const = 0;
  // Writes scores of queries [q0, q0+qn) against db items [b0, b0+bn) into out, row-major
  // [qn x ld] (out[i * ld + j] = score(q0 + i, b0 + j)), ld >= bn. Higher = more similar.
  // Must be safe to call concurrently from several threads on disjoint outputs.
  virtual void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
                       int64_t ld) const = 0;
  // Floating-point operations of one score, for throughput reports.
  virtual double flops_per_score() const = 0;
};

}  // namespace repbench::metrics
