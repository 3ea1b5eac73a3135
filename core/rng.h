// Fully specified pseudo-random generators: the same seed gives the same numbers on every
// platform and standard library (std:: distributions are implementation-defined), so bootstrap
// intervals, synthetic sets, random-CNN weights and diffusion masks are reproducible anywhere.
//
//   splitmix64_next  one step of splitmix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15,
//                    then the usual mix; seeds the others and derives independent streams.
//   SplitMix64       a splitmix64 stream.
//   Xoshiro256ss     xoshiro256** 1.0 (Blackman and Vigna 2018), state = the first four outputs of
//                    a splitmix64 started at the seed.
// Both give uniform() = the top 53 bits of next() times 2^-53, in [0, 1). Their below(n) differ,
// and each is pinned by tests: Xoshiro256ss uses Lemire's multiply-shift with rejection,
// SplitMix64 rejects the 2^64 mod n lowest values, then takes the value modulo n. Both are
// unbiased.
//
// Over them, the one place for the helpers every module draws with:
//   derive_seed      a seed for stream (a, b) of a seed (the diffusion module's masks, labels,
//                    data order and torch generators, with SplitMix64 as their stream).
//   Rng              xoshiro256** with its own uniform, integer, normal, gamma, beta and
//                    permutation draws, and Rng::for_item(seed, stream, index) for one stream per
//                    item: the synthetic sets and the copying experiment's subsets.
// std:: distributions are not used because their output is implementation-defined; with these
// the same seed gives the same draws on every standard library, and a per-item stream makes the
// results independent of the thread count and of the order in which items are made.
#pragma once

#include <cstdint>
#include <vector>

namespace repbench {

inline uint64_t splitmix64_next(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64_next(state_); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n >= 1.
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    while (true) {
      const uint64_t x = next();
      if (x >= threshold) return x % n;
    }
  }

 private:
  uint64_t state_;
};

class Xoshiro256ss {
 public:
  explicit Xoshiro256ss(uint64_t seed) {
    for (uint64_t& s : s_) s = splitmix64_next(seed);
  }
  // A generator with exactly this state (for checking against the reference implementation).
  static Xoshiro256ss from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
    Xoshiro256ss g(0);
    g.s_[0] = s0;
    g.s_[1] = s1;
    g.s_[2] = s2;
    g.s_[3] = s3;
    return g;
  }
  uint64_t next() {
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
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n >= 1 (Lemire 2019).
  uint64_t below(uint64_t n) {
    // __extension__: 128-bit integers are a GCC/Clang extension (-Wpedantic).
    __extension__ typedef unsigned __int128 u128;
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

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A seed for stream (a, b) of `seed`: independent streams for images, steps, ...
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
  uint64_t s = seed;
  uint64_t x = splitmix64_next(s);
  s = x ^ (a * 0xD1B54A32D192ED03ull);
  x = splitmix64_next(s);
  s = x ^ (b * 0x8CB92BA72F3D8DD7ull);
  return splitmix64_next(s);
}

// xoshiro256** (Xoshiro256ss) with fully specified draws.
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

}  // namespace repbench
