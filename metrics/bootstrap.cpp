#include "metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

namespace {

__extension__ typedef unsigned __int128 u128;

inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// Linear interpolation between order statistics of sorted x (numpy "linear").
double quantile_sorted(const std::vector<double>& x, double p) {
  const double h = static_cast<double>(x.size() - 1) * p;
  const double lo = std::floor(h);
  const size_t i = static_cast<size_t>(lo);
  if (i + 1 >= x.size()) return x.back();
  return x[i] + (h - lo) * (x[i + 1] - x[i]);
}

}  // namespace

uint64_t splitmix64_next(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Xoshiro256ss::Xoshiro256ss(uint64_t seed) {
  uint64_t sm = seed;
  for (uint64_t& s : s_) s = splitmix64_next(sm);
}

Xoshiro256ss Xoshiro256ss::from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
  Xoshiro256ss g;
  g.s_[0] = s0;
  g.s_[1] = s1;
  g.s_[2] = s2;
  g.s_[3] = s3;
  return g;
}

uint64_t Xoshiro256ss::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Xoshiro256ss::below(uint64_t n) {
  u128 m = static_cast<u128>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<u128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

std::pair<double, double> bootstrap_mean_ci(const std::vector<double>& values, int samples,
                                            uint64_t seed, double level, int threads) {
  if (samples < 0) fail("bootstrap: expected samples >= 0, found {}", samples);
  if (!(level > 0 && level < 1)) fail("bootstrap: expected level in (0, 1), found {}", level);
  std::vector<double> x;
  x.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) x.push_back(v);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (samples == 0 || x.empty()) return {nan, nan};

  // Stream seeds first, in order, so that sample b's numbers do not depend on scheduling.
  std::vector<uint64_t> stream_seeds(static_cast<size_t>(samples));
  uint64_t sm = seed;
  for (uint64_t& s : stream_seeds) s = splitmix64_next(sm);

  std::vector<double> means(static_cast<size_t>(samples));
  const uint64_t n = x.size();
  // Blocks of samples per work item: a sample of 12,000 draws is ~20 us of work.
  constexpr int64_t kPerItem = 32;
  const int64_t items = (samples + kPerItem - 1) / kPerItem;
  parallel_for(items, resolve_threads(threads), [&](int64_t item, int) {
    const int64_t end = std::min<int64_t>(samples, (item + 1) * kPerItem);
    for (int64_t b = item * kPerItem; b < end; ++b) {
      Xoshiro256ss rng(stream_seeds[b]);
      double sum = 0;
      for (uint64_t i = 0; i < n; ++i) sum += x[rng.below(n)];
      means[b] = sum / static_cast<double>(n);
    }
  });
  std::sort(means.begin(), means.end());
  return {quantile_sorted(means, (1 - level) / 2), quantile_sorted(means, (1 + level) / 2)};
}

}  // namespace repbench::metrics
