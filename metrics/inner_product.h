// Inner-product similarity of float32 descriptors, computed with BLAS (cblas_sgemm).
#pragma once

#include <cstdint>

#include "metrics/score_source.h"

namespace repbench::metrics {

// score(i, j) = <q_i, db_j>: cosine similarity when the rows are L2-normalised.
//
// Non-owning: `q` is [nq x d] and `db` is [nb x d], both row-major float32 (q[i * d + k]); the
// caller keeps them alive and unchanged while the object is used. compute() is one sgemm per
// block and may be called concurrently (it writes only to its `out`). How many threads one call
// uses is OpenBLAS's global setting (see BlasThreadsScope in metrics/parallel.h).
class InnerProductScores : public ScoreSource {
 public:
  // Throws repbench::Error if a size is negative, d < 1, a pointer is null while its matrix is
  // not empty, or nb or d exceeds the 32-bit index range of BLAS.
  InnerProductScores(const float* q, int64_t nq, const float* db, int64_t nb, int64_t d);

  int64_t nq() const override { return nq_; }
  int64_t nb() const override { return nb_; }
  int64_t dim() const { return d_; }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override;
  double flops_per_score() const override { return 2.0 * static_cast<double>(d_); }

 private:
  const float* q_;
  const float* db_;
  int64_t nq_, nb_, d_;
};

}  // namespace repbench::metrics
