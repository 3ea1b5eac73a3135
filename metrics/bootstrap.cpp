#include "metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

double quantile_sorted(const std::vector<double>& x, double p) {
  const double h = static_cast<double>(x.size() - 1) * p;
  const double lo = std::floor(h);
  const size_t i = static_cast<size_t>(lo);
  if (i + 1 >= x.size()) return x.back();
  return x[i] + (h - lo) * (x[i + 1] - x[i]);
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
