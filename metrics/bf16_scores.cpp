#include "metrics/bf16_scores.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "metrics/bf16_matmul.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

namespace {

// Norms in double have a relative error of at most ~d 2^-53; this factor rounds them up.
constexpr double kRoundUp = 1.0 + 0x1p-40;

// Rows in chunks of this many, one chunk a work item.
constexpr int64_t kChunk = 4096;

}  // namespace

double gamma_bound(int64_t n, double u) {
  const double nu = static_cast<double>(n) * u;
  REPBENCH_ASSERT(nu < 0.5);
  return nu / (1.0 - nu);
}

RowNorms row_norms(const float* x, int64_t n, int64_t d, bool with_bf16, int threads) {
  RowNorms r;
  r.norm.assign(size_t(n), 0.0);
  if (with_bf16) {
    r.bf16_norm.assign(size_t(n), 0.0);
    r.bf16_residual.assign(size_t(n), 0.0);
  }
  parallel_for((n + kChunk - 1) / kChunk, resolve_threads(threads), [&](int64_t c, int) {
    for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) {
      const float* row = x + i * d;
      double xx = 0, bb = 0, rr = 0;
      for (int64_t t = 0; t < d; ++t) {
        const double v = row[t];
        xx += v * v;
        if (with_bf16) {
          const double h = from_bf16(to_bf16(row[t]));
          bb += h * h;
          rr += (v - h) * (v - h);  // v - h is exact in double
        }
      }
      r.norm[size_t(i)] = std::sqrt(xx) * kRoundUp;
      if (with_bf16) {
        r.bf16_norm[size_t(i)] = std::sqrt(bb) * kRoundUp;
        r.bf16_residual[size_t(i)] = std::sqrt(rr) * kRoundUp;
      }
    }
  });
  for (int64_t i = 0; i < n; ++i) {
    r.norm_max = std::max(r.norm_max, r.norm[size_t(i)]);
    if (with_bf16) {
      r.bf16_norm_max = std::max(r.bf16_norm_max, r.bf16_norm[size_t(i)]);
      r.bf16_residual_max = std::max(r.bf16_residual_max, r.bf16_residual[size_t(i)]);
    }
  }
  return r;
}

double fp32_product_bound(double q_norm, double x_norm_max, int64_t d) {
  // The sum of |q_t x_t| is at most |q| |x| (Cauchy-Schwarz); each of the d roundings on the way
  // to a score (products and sums, any order) is relative 2^-24; denormal results are absolute
  // 2^-149 each, far below the slack added here.
  return gamma_bound(d, 0x1p-24) * q_norm * x_norm_max + double(d) * 0x1p-120;
}

double bf16_product_bound(int64_t query, const RowNorms& q, const RowNorms& x, int64_t d) {
  const size_t i = size_t(query);
  // q.x - q~.x~ = q.(x - x~) + (q - q~).x~, each term bounded by Cauchy-Schwarz.
  const double input = q.norm[i] * x.bf16_residual_max + q.bf16_residual[i] * x.bf16_norm_max;
  // f32 accumulation of the exact bf16 products, at most d roundings on any path, bounded as if
  // each were relative 2^-23 (round-to-nearest would be 2^-24): any blocking oneDNN chooses.
  const double accumulation = gamma_bound(d, 0x1p-23) * q.bf16_norm[i] * x.bf16_norm_max;
  // The bf16 instructions flush denormal inputs and results to zero: each flushed value is below
  // 2^-126, one per product and per addition.
  const double flushed =
      0x1p-120 * (double(d) + std::sqrt(double(d)) * (q.bf16_norm[i] + x.bf16_norm_max));
  return input + accumulation + flushed;
}

Bf16InnerProductScores::Bf16InnerProductScores(const float* q, int64_t nq, const float* db,
                                               int64_t nb, int64_t d, int threads)
    : nq_(nq), nb_(nb), d_(d) {
  if (nq < 0 || nb < 0 || d < 1)
    fail("Bf16InnerProductScores: expected nq, nb >= 0 and d >= 1, found {}, {}, {}", nq, nb, d);
  q_.resize(size_t(nq * d));
  db_.resize(size_t(nb * d));
  const int team = resolve_threads(threads);
  parallel_for((nq + kChunk - 1) / kChunk, team, [&](int64_t c, int) {
    const int64_t r0 = c * kChunk, rn = std::min(kChunk, nq - r0);
    to_bf16(q + r0 * d, rn * d, q_.data() + r0 * d);
  });
  parallel_for((nb + kChunk - 1) / kChunk, team, [&](int64_t c, int) {
    const int64_t r0 = c * kChunk, rn = std::min(kChunk, nb - r0);
    to_bf16(db + r0 * d, rn * d, db_.data() + r0 * d);
  });
}

void Bf16InnerProductScores::compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
                                     int64_t ld) const {
  REPBENCH_ASSERT(q0 >= 0 && qn >= 0 && q0 + qn <= nq_);
  REPBENCH_ASSERT(b0 >= 0 && bn >= 0 && b0 + bn <= nb_ && ld >= bn);
  if (qn == 0 || bn == 0) return;
  bf16_matmul(q_.data() + q0 * d_, qn, db_.data() + b0 * d_, bn, d_, out, ld);
}

}  // namespace repbench::metrics
