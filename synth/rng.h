// A fully specified pseudo-random generator for the synthetic sets: xoshiro256** seeded through
// SplitMix64, with its own uniform, integer, normal, gamma and beta draws. std:: distributions
// are not used because their output is implementation-defined; with this generator the same seed
// gives the same draws on every standard library, and every item of a set derives its own stream
// from (seed, stream, index), so results do not depend on the thread count or on the order in
// which items are generated.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace repbench::synth {

class Rng {
 public:
  // Seeds the four state words with successive SplitMix64 outputs of `seed`.
  explicit Rng(uint64_t seed);

  // The generator of item `index` in stream `stream` (a constant per kind of draw) of a set made
  // with `seed`: SplitMix64-mixes the three numbers into one seed.
  static Rng for_item(uint64_t seed, uint64_t stream, uint64_t index);

  uint64_t next();
  // Uniform in [0, 1): the top 53 bits of next() times 2^-53.
  double uniform();
  // a + (b - a) * uniform(): uniform in [a, b).
  double uniform(double a, double b);
  // Uniform integer in [0, n) for n >= 1 (Lemire's multiply-shift with rejection, unbiased).
  uint64_t below(uint64_t n);
  // True with probability p: uniform() < p.
  bool bernoulli(double p);
  // Standard normal (Box-Muller, one value per call; uses two uniforms).
  double normal();
  // Gamma(shape, 1) (Marsaglia-Tsang; shape < 1 through Gamma(shape + 1) * U^(1/shape)).
  double gamma(double shape);
  // Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b).
  double beta(double a, double b);
  // A uniformly random permutation of 0..n-1 (Fisher-Yates from the last position down).
  std::vector<int64_t> permutation(int64_t n);

 private:
  Xoshiro256ss gen_;
};

}  // namespace repbench::synth
