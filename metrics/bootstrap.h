// Percentile bootstrap intervals, bit-reproducible across platforms, compilers and thread counts.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace repbench::metrics {

// splitmix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15, then the usual mix. Used to
// seed Xoshiro256ss and to derive independent streams.
uint64_t splitmix64_next(uint64_t& state);

// xoshiro256** 1.0 (Blackman and Vigna 2018), a fully specified generator: the same seed gives
// the same sequence everywhere, unlike the distributions of <random>.
class Xoshiro256ss {
 public:
  // State = the next four outputs of a splitmix64 whose state starts at `seed`.
  explicit Xoshiro256ss(uint64_t seed);
  // A generator with the given raw state (not all zero), for reference test vectors.
  static Xoshiro256ss from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);
  uint64_t next();
  // Uniform integer in [0, n), n >= 1, without bias: Lemire's multiply-shift with rejection
  // ("Fast random integer generation in an interval", 2019), exactly as published.
  uint64_t below(uint64_t n);

 private:
  Xoshiro256ss() = default;
  uint64_t s_[4];
};

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
