// Split-product similarity of token descriptors, exactly as the paper's code defines it
// (somepago/DCR; docs/PROTOCOLS.md §1.2):
//   1. each image's descriptor is its tokens [T, D] flattened to one vector of T*D floats;
//   2. that whole vector is L2-normalised once (not per token) — the caller does this, e.g. with
//      l2_normalize_rows() on the flattened rows;
//   3. score(q, v) = max over token positions t of <q_t, v_t> (the same position in both images;
//      CLS against CLS is one of the candidates).
// The positions-not-aligned variant ("cross": max over all pairs t, u) is not what the paper's
// evaluation computes and is not offered.
#pragma once

#include <cstdint>

#include "metrics/score_source.h"

namespace repbench::metrics {

// Non-owning: `q` is [nq x tokens x dim] and `db` is [nb x tokens x dim], row-major float32
// (q[(i * tokens + t) * dim + k]). compute() runs one sgemm per token over the block (strided
// rows, no copies) and folds them with an element-wise max, so its scratch memory is one
// [qn x bn] block per calling thread, never nq x nb x tokens.
class SplitProductScores : public ScoreSource {
 public:
  // Throws repbench::Error on non-positive tokens/dim, negative counts or null pointers.
  SplitProductScores(const float* q, int64_t nq, const float* db, int64_t nb, int64_t tokens,
                     int64_t dim);

  int64_t nq() const override { return nq_; }
  int64_t nb() const override { return nb_; }
  int64_t tokens() const { return tokens_; }
  int64_t dim() const { return dim_; }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override;
  double flops_per_score() const override {
    return 2.0 * static_cast<double>(tokens_) * static_cast<double>(dim_);
  }

 private:
  const float* q_;
  const float* db_;
  int64_t nq_, nb_, tokens_, dim_;
};

}  // namespace repbench::metrics
