#include "core/rng.h"

#include <cmath>
#include <numeric>

#include "core/error.h"

namespace repbench {

Rng::Rng(uint64_t seed) : gen_(seed) {}

Rng Rng::for_item(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t x = seed;
  uint64_t h = splitmix64_next(x);
  x = h ^ stream;
  h = splitmix64_next(x);
  x = h ^ index;
  return Rng(splitmix64_next(x));
}

uint64_t Rng::next() {
  return gen_.next();
}

double Rng::uniform() {
  return gen_.uniform();
}

double Rng::uniform(double a, double b) {
  return a + (b - a) * uniform();
}

uint64_t Rng::below(uint64_t n) {
  REPBENCH_ASSERT(n >= 1);
  return gen_.below(n);
}

bool Rng::bernoulli(double p) {
  return uniform() < p;
}

double Rng::normal() {
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Rng::gamma(double shape) {
  REPBENCH_ASSERT(shape > 0);
  if (shape < 1.0) {
    const double g = gamma(shape + 1.0);
    return g * std::pow(1.0 - uniform(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double Rng::beta(double a, double b) {
  const double x = gamma(a);
  const double y = gamma(b);
  return x + y > 0 ? x / (x + y) : 0.5;
}

std::vector<int64_t> Rng::permutation(int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[below(static_cast<uint64_t>(i) + 1)]);
  return p;
}

}  // namespace repbench
