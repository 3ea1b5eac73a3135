// Percentile bootstrap intervals, bit-reproducible across platforms, compilers and thread counts.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/rng.h"  // Xoshiro256ss, splitmix64_next: the generators named below

namespace repbench::metrics {

// The p-quantile (p in [0, 1]) of ascending, non-empty `x` by linear interpolation between order
// statistics: x[i] + (h - i) (x[i+1] - x[i]) with h = (n - 1) p and i = floor(h) (numpy's default
// "linear" method, Hyndman-Fan type 7).
double quantile_sorted(const std::vector<double>& x, double p);

// Percentile bootstrap interval of the mean of `values` ([n], NaN entries are dropped first).
//
// Sample b (b = 0 .. samples-1) draws n values uniformly with replacement, using its own
// Xoshiro256ss seeded with the b-th output of a splitmix64 started at `seed` (so the result does
// not depend on the number of threads), and takes their mean (summed in draw order, in double).
// The `samples` means are sorted and the interval is their quantiles at (1 - level) / 2 and
// (1 + level) / 2, by linear interpolation between order statistics: quantile(p) =
// x[i] + (h - i) (x[i+1] - x[i]) with h = (samples - 1) p and i = floor(h) (numpy's default
// "linear" method, Hyndman-Fan type 7).
// Returns {NaN, NaN} when samples == 0 or every value is NaN (nothing to resample). Throws
// repbench::Error if samples < 0 or level is not in (0, 1). `threads`: 0 = all cores.
std::pair<double, double> bootstrap_mean_ci(const std::vector<double>& values, int samples,
                                            uint64_t seed, double level = 0.95, int threads = 0);

}  // namespace repbench::metrics
