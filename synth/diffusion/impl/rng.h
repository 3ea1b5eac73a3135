// A fully specified random stream (splitmix64; Steele, Lea, Flood 2014) for the draws that must
// give the same values on every platform (masks, labels, data order, seeds of torch generators):
// the standard library's distributions are implementation-defined.
#pragma once

#include <cstdint>

namespace repbench::synth::diffusion::impl {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A seed for stream (a, b) of `seed`: independent streams for images, steps, ...
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
  uint64_t s = seed;
  uint64_t x = splitmix64(s);
  s = x ^ (a * 0xD1B54A32D192ED03ull);
  x = splitmix64(s);
  s = x ^ (b * 0x8CB92BA72F3D8DD7ull);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n >= 1: rejection of the 2^64 mod n lowest values, then modulo
  // (unbiased).
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

}  // namespace repbench::synth::diffusion::impl
