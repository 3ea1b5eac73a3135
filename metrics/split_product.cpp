#include "metrics/split_product.h"

#include <algorithm>
#include <climits>
#include <vector>

#include <cblas.h>

#include "core/error.h"

namespace repbench::metrics {

SplitProductScores::SplitProductScores(const float* q, int64_t nq, const float* db, int64_t nb,
                                       int64_t tokens, int64_t dim)
    : q_(q), db_(db), nq_(nq), nb_(nb), tokens_(tokens), dim_(dim) {
  if (nq < 0 || nb < 0)
    fail("SplitProductScores: expected nq >= 0 and nb >= 0, found nq = {}, nb = {}", nq, nb);
  if (tokens < 1 || dim < 1)
    fail("SplitProductScores: expected tokens >= 1 and dim >= 1, found {} and {}", tokens, dim);
  if ((nq > 0 && q == nullptr) || (nb > 0 && db == nullptr))
    fail("SplitProductScores: null descriptor pointer for a non-empty matrix");
  if (nb > INT_MAX || tokens * dim > INT_MAX)
    fail("SplitProductScores: nb = {} and tokens x dim = {} must not exceed {} (BLAS indices)", nb,
         tokens * dim, INT_MAX);
}

void SplitProductScores::compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
                                 int64_t ld) const {
  REPBENCH_ASSERT(q0 >= 0 && qn >= 0 && q0 + qn <= nq_);
  REPBENCH_ASSERT(b0 >= 0 && bn >= 0 && b0 + bn <= nb_);
  REPBENCH_ASSERT(ld >= bn && ld <= INT_MAX && qn <= INT_MAX);
  if (qn == 0 || bn == 0) return;
  const int64_t row = tokens_ * dim_;  // stride between images
  // Scratch for one token's scores; thread_local so concurrent callers never share it.
  thread_local std::vector<float> tmp;
  tmp.resize(static_cast<size_t>(qn * bn));
  for (int64_t t = 0; t < tokens_; ++t) {
    // Token t of every image is a [n x dim] matrix with leading dimension tokens*dim.
    float* dst = t == 0 ? out : tmp.data();
    const int ldc = static_cast<int>(t == 0 ? std::max<int64_t>(ld, 1) : bn);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(qn),
                static_cast<int>(bn), static_cast<int>(dim_), 1.0f, q_ + q0 * row + t * dim_,
                static_cast<int>(row), db_ + b0 * row + t * dim_, static_cast<int>(row), 0.0f, dst,
                ldc);
    if (t == 0) continue;
    for (int64_t i = 0; i < qn; ++i) {
      float* o = out + i * ld;
      const float* s = tmp.data() + i * bn;
      for (int64_t j = 0; j < bn; ++j) o[j] = std::max(o[j], s[j]);
    }
  }
}

}  // namespace repbench::metrics
