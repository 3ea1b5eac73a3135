#include "metrics/bf16_scores.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

#include "core/error.h"
#include "metrics/bf16_matmul.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

namespace {

// Norms in double have a relative error of at most ~d 2^-53; this factor rounds them up.
constexpr double kRoundUp = 1.0 + 0x1p-40;

// Rows in chunks of this many, one chunk a work item.
constexpr int64_t kChunk = 4096;

// Sizes of the buffers handed out by take_buffer.
std::map<void*, size_t>& sizes() {
  static std::map<void*, size_t> m;
  return m;
}

// The bf16 copies of the rows. Freshly allocated memory is expensive to touch on some hosts
// (every 4 KiB page a fault; on this project's virtual machines ~60% of the conversion's time),
// and a streamed scan converts a block of the same size twice a block: buffers are kept for reuse
// (at most kKeep, the largest), allocated in 2 MiB-aligned transparent huge pages, never zeroed.
constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kKeep = 4;
std::mutex pool_mutex;
std::vector<std::pair<size_t, void*>> pool;  // (bytes, buffer)

uint16_t* take_buffer(int64_t values) {
  const size_t bytes = std::max<size_t>(kHuge, (size_t(values) * 2 + kHuge - 1) / kHuge * kHuge);
  {
    std::lock_guard<std::mutex> lock(pool_mutex);
    size_t best = pool.size();
    for (size_t i = 0; i < pool.size(); ++i)
      if (pool[i].first >= bytes && (best == pool.size() || pool[i].first < pool[best].first))
        best = i;
    if (best < pool.size()) {
      void* p = pool[best].second;
      pool.erase(pool.begin() + std::ptrdiff_t(best));
      return static_cast<uint16_t*>(p);
    }
  }
  void* p = std::aligned_alloc(kHuge, bytes);
  if (p == nullptr) fail("out of memory: {} bytes for the bf16 copy of the rows", bytes);
  ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: fine if the host has no huge pages
  std::lock_guard<std::mutex> lock(pool_mutex);
  sizes()[p] = bytes;
  return static_cast<uint16_t*>(p);
}

void give_buffer(uint16_t* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(pool_mutex);
  pool.emplace_back(sizes()[p], p);
  if (pool.size() > kKeep) {  // drop the smallest
    auto smallest = std::min_element(pool.begin(), pool.end());
    sizes().erase(smallest->second);
    std::free(smallest->second);
    pool.erase(smallest);
  }
}

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
      if (with_bf16) {
        for (int64_t t = 0; t < d; ++t) {
          const float h = from_bf16(to_bf16(row[t]));
          const double v = row[t], hd = h, e = row[t] - h;  // row[t] - h is exact in float
          xx += v * v;
          bb += hd * hd;
          rr += e * e;
        }
      } else {
        for (int64_t t = 0; t < d; ++t) xx += double(row[t]) * row[t];
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
  q_ = take_buffer(nq * d);
  db_ = take_buffer(nb * d);
  const int team = resolve_threads(threads);
  parallel_for((nq + kChunk - 1) / kChunk, team, [&](int64_t c, int) {
    const int64_t r0 = c * kChunk, rn = std::min(kChunk, nq - r0);
    to_bf16(q + r0 * d, rn * d, q_ + r0 * d);
  });
  parallel_for((nb + kChunk - 1) / kChunk, team, [&](int64_t c, int) {
    const int64_t r0 = c * kChunk, rn = std::min(kChunk, nb - r0);
    to_bf16(db + r0 * d, rn * d, db_ + r0 * d);
  });
}

Bf16InnerProductScores::~Bf16InnerProductScores() {
  give_buffer(q_);
  give_buffer(db_);
}

void Bf16InnerProductScores::compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
                                     int64_t ld) const {
  REPBENCH_ASSERT(q0 >= 0 && qn >= 0 && q0 + qn <= nq_);
  REPBENCH_ASSERT(b0 >= 0 && bn >= 0 && b0 + bn <= nb_ && ld >= bn);
  if (qn == 0 || bn == 0) return;
  bf16_matmul(q_ + q0 * d_, qn, db_ + b0 * d_, bn, d_, out, ld);
}

}  // namespace repbench::metrics
