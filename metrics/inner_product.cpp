#include "metrics/inner_product.h"

#include <algorithm>
#include <climits>

#include <cblas.h>

#include "core/error.h"

namespace repbench::metrics {

InnerProductScores::InnerProductScores(const float* q, int64_t nq, const float* db, int64_t nb,
                                       int64_t d)
    : q_(q), db_(db), nq_(nq), nb_(nb), d_(d) {
  if (nq < 0 || nb < 0)
    fail("InnerProductScores: expected nq >= 0 and nb >= 0, found nq = {}, nb = {}", nq, nb);
  if (d < 1) fail("InnerProductScores: expected descriptor dimension d >= 1, found {}", d);
  if ((nq > 0 && q == nullptr) || (nb > 0 && db == nullptr))
    fail("InnerProductScores: null descriptor pointer for a non-empty matrix");
  // cblas takes int sizes and leading dimensions; ld of an output block can be nb.
  if (nb > INT_MAX || d > INT_MAX)
    fail("InnerProductScores: nb = {} and d = {} must not exceed {} (BLAS 32-bit indices)", nb, d,
         INT_MAX);
}

void InnerProductScores::compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
                                 int64_t ld) const {
  REPBENCH_ASSERT(q0 >= 0 && qn >= 0 && q0 + qn <= nq_);
  REPBENCH_ASSERT(b0 >= 0 && bn >= 0 && b0 + bn <= nb_);
  REPBENCH_ASSERT(ld >= bn && ld <= INT_MAX && qn <= INT_MAX);
  if (qn == 0 || bn == 0) return;
  // Row-major out[qn x ld] = Q[q0:q0+qn] * DB[b0:b0+bn]^T.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(qn), static_cast<int>(bn),
              static_cast<int>(d_), 1.0f, q_ + q0 * d_, static_cast<int>(d_), db_ + b0 * d_,
              static_cast<int>(d_), 0.0f, out, static_cast<int>(std::max<int64_t>(ld, 1)));
}

}  // namespace repbench::metrics
