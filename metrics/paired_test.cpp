#include "metrics/paired_test.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "metrics/bootstrap.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

namespace {

// Sign vectors are handled 8 queries at a time: table[c * 256 + b] is the signed sum of chunk c
// (queries 8c .. 8c+7) when bit i of b flips the sign of query 8c+i. A signed total is then one
// lookup per chunk instead of one multiply per query.
constexpr int kChunk = 8;
constexpr int kPatterns = 1 << kChunk;
// Random sign vectors are drawn in blocks of this many, each block from its own generator (seeded
// from a splitmix64 chain, so the result does not depend on the thread count). Within a block the
// table is walked chunk by chunk for all its vectors at once, so each 2 KiB table row is read
// from L1 by every vector of the block.
constexpr int64_t kBlock = 64;

std::vector<double> chunk_table(const std::vector<double>& d) {
  const size_t chunks = (d.size() + kChunk - 1) / kChunk;
  std::vector<double> table(chunks * kPatterns, 0.0);
  for (size_t c = 0; c < chunks; ++c) {
    double* row = table.data() + c * kPatterns;
    const size_t first = c * kChunk, count = std::min<size_t>(kChunk, d.size() - first);
    for (int b = 0; b < kPatterns; ++b) {
      double s = 0;
      for (size_t i = 0; i < count; ++i) s += (b >> i) & 1 ? -d[first + i] : d[first + i];
      row[b] = s;
    }
  }
  return table;
}

}  // namespace

void PairedOptions::Check() const {
  if (resamples < 0) fail("paired test: expected resamples >= 0, found {}", resamples);
  if (permutations < 1) fail("paired test: expected permutations >= 1, found {}", permutations);
  if (exact_max < 0 || exact_max > 24)
    fail("paired test: expected exact_max in [0, 24], found {}", exact_max);
  if (!(level > 0 && level < 1))
    fail("paired test: expected level in (0, 1), found {}", level);
  if (threads < 0) fail("paired test: expected threads >= 0, found {}", threads);
}

double sign_flip_p_value(const std::vector<double>& d, const PairedOptions& o, bool* exact) {
  o.Check();
  const int64_t n = static_cast<int64_t>(d.size());
  const bool enumerate = n <= o.exact_max;
  if (exact) *exact = enumerate;
  double scale = 0;
  for (double v : d) {
    if (!std::isfinite(v)) fail("paired test: difference {} is not a finite number", v);
    scale += std::fabs(v);
  }
  if (scale == 0) return 1.0;  // every sign vector gives the observed |T| = 0

  const std::vector<double> table = chunk_table(d);
  const int64_t chunks = static_cast<int64_t>(table.size()) / kPatterns;
  double observed = 0;
  for (int64_t c = 0; c < chunks; ++c) observed += table[c * kPatterns];
  const double bar = std::fabs(observed) - 1e-9 * scale;

  if (enumerate) {
    const uint64_t total = uint64_t{1} << n;
    uint64_t extreme = 0;
    for (uint64_t mask = 0; mask < total; ++mask) {
      double t = 0;
      for (int64_t c = 0; c < chunks; ++c) t += table[c * kPatterns + ((mask >> (kChunk * c)) & 0xff)];
      extreme += std::fabs(t) >= bar;
    }
    return static_cast<double>(extreme) / static_cast<double>(total);
  }

  const int64_t blocks = (o.permutations + kBlock - 1) / kBlock;
  std::vector<uint64_t> seeds(static_cast<size_t>(blocks));
  uint64_t sm = o.seed ^ 0x5349474e464c4950ull;  // "SIGNFLIP": apart from the bootstrap's streams
  for (uint64_t& s : seeds) s = splitmix64_next(sm);
  std::vector<int64_t> extreme(static_cast<size_t>(blocks), 0);
  parallel_for(blocks, resolve_threads(o.threads), [&](int64_t blk, int) {
    const int64_t count = std::min(kBlock, o.permutations - blk * kBlock);
    Xoshiro256ss rng(seeds[blk]);
    double acc[kBlock] = {};
    uint8_t bytes[kBlock];
    for (int64_t c = 0; c < chunks; ++c) {
      for (int64_t p = 0; p < kBlock; p += 8) {
        const uint64_t r = rng.next();
        for (int i = 0; i < 8; ++i) bytes[p + i] = static_cast<uint8_t>(r >> (8 * i));
      }
      const double* row = table.data() + c * kPatterns;
      for (int64_t p = 0; p < kBlock; ++p) acc[p] += row[bytes[p]];
    }
    int64_t e = 0;
    for (int64_t p = 0; p < count; ++p) e += std::fabs(acc[p]) >= bar;
    extreme[blk] = e;
  });
  const int64_t total_extreme = std::accumulate(extreme.begin(), extreme.end(), int64_t{0});
  return static_cast<double>(1 + total_extreme) / static_cast<double>(1 + o.permutations);
}

PairedResult paired_compare(const std::vector<double>& a, const std::vector<double>& b,
                            const PairedOptions& o) {
  o.Check();
  if (a.size() != b.size())
    fail("paired test: {} per-query scores against {}; the queries must be the same", a.size(),
         b.size());
  PairedResult r;
  std::vector<double> d;
  d.reserve(a.size());
  double sum_a = 0, sum_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool na = std::isnan(a[i]), nb = std::isnan(b[i]);
    if (na != nb)
      fail("paired test: query {} is left out in one list and scored in the other", i);
    if (na) continue;
    sum_a += a[i];
    sum_b += b[i];
    d.push_back(a[i] - b[i]);
  }
  if (d.empty()) fail("paired test: no query is scored in both lists");
  r.queries = static_cast<int64_t>(d.size());
  r.mean_a = sum_a / static_cast<double>(r.queries);
  r.mean_b = sum_b / static_cast<double>(r.queries);
  r.difference = r.mean_a - r.mean_b;
  const auto ci = bootstrap_mean_ci(d, o.resamples, o.seed, o.level, o.threads);
  r.ci_low = ci.first;
  r.ci_high = ci.second;
  r.p_value = sign_flip_p_value(d, o, &r.exact);
  r.permutations = r.exact ? (int64_t{1} << r.queries) : o.permutations;
  return r;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (!(p[i] >= 0 && p[i] <= 1)) fail("Holm: p-value {} is {}, expected a value in [0, 1]", i, p[i]);
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return p[x] < p[y]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (size_t j = 0; j < m; ++j) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - j) * p[order[j]]));
    adjusted[order[j]] = running;
  }
  return adjusted;
}

}  // namespace repbench::metrics
