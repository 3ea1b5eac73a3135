// The diffusion module's random streams (core/rng.h's splitmix64) for the draws that must give the
// same values on every platform: masks, labels, data order, seeds of torch generators.
#pragma once

#include <cstdint>

#include "core/rng.h"

namespace repbench::diffusion::impl {

// A seed for stream (a, b) of `seed`: independent streams for images, steps, ...
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
  uint64_t s = seed;
  uint64_t x = splitmix64_next(s);
  s = x ^ (a * 0xD1B54A32D192ED03ull);
  x = splitmix64_next(s);
  s = x ^ (b * 0x8CB92BA72F3D8DD7ull);
  return splitmix64_next(s);
}

// The stream of the diffusion draws: splitmix64 (core/rng.h), below() by rejection and modulo.
using Rng = SplitMix64;

}  // namespace repbench::diffusion::impl
