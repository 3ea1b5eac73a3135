// `repbench compare` on a GPR1200-sized set: paired_compare() over 12,000 per-query APs with the
// command's defaults (10,000 bootstrap resamples, 100,000 random sign vectors), against a
// straightforward sign-flip loop (one pass over the queries per sign vector, one random bit per
// query) in the same run; resamples = 0 times the sign-flip test alone. Counters: p_value (both
// must agree within Monte-Carlo error), speedup_vs_naive. On a shared machine compare CPU time.
//
// Run: build/bench/bench_compare   (Release build; a few seconds)
#include <cmath>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>
#include <omp.h>

#include "core/rng.h"
#include "metrics/paired_test.h"

namespace {

using namespace repbench::metrics;

constexpr int kQueries = 12000;

struct Aps {
  std::vector<double> a, b;
};

// Two models' APs: b = a + a small shift with noise, clipped to [0, 1].
const Aps& aps() {
  static const Aps x = [] {
    Aps r;
    repbench::Rng rng(1);
    for (int i = 0; i < kQueries; ++i) {
      const double a = rng.uniform();
      r.a.push_back(a);
      r.b.push_back(std::min(1.0, std::max(0.0, a + 0.004 + 0.2 * rng.normal())));
    }
    return r;
  }();
  return x;
}

double naive_seconds = 0, naive_p = 0;

// The reference: for every sign vector, one pass over the differences.
void BM_NaiveSignFlip(benchmark::State& state) {
  const Aps& x = aps();
  std::vector<double> d(kQueries);
  double observed = 0, scale = 0;
  for (int i = 0; i < kQueries; ++i) {
    d[i] = x.a[i] - x.b[i];
    observed += d[i];
    scale += std::fabs(d[i]);
  }
  const int64_t permutations = 100000;
  for (auto _ : state) {
    const double t0 = omp_get_wtime();
    repbench::Xoshiro256ss rng(7);
    int64_t extreme = 0;
    for (int64_t b = 0; b < permutations; ++b) {
      double t = 0;
      uint64_t bits = 0;
      for (int i = 0; i < kQueries; ++i) {
        if (i % 64 == 0) bits = rng.next();
        t += (bits >> (i % 64)) & 1 ? -d[i] : d[i];
      }
      extreme += std::fabs(t) >= std::fabs(observed) - 1e-9 * scale;
    }
    naive_p = static_cast<double>(1 + extreme) / static_cast<double>(1 + permutations);
    naive_seconds = omp_get_wtime() - t0;
  }
  state.counters["p_value"] = naive_p;
}

void BM_PairedCompare(benchmark::State& state) {
  const Aps& x = aps();
  PairedOptions o;  // the command's defaults: 10,000 resamples, 100,000 sign vectors
  o.threads = static_cast<int>(state.range(0));
  o.resamples = static_cast<int>(state.range(1));  // 0: the sign-flip test alone
  PairedResult r;
  double seconds = 0;
  for (auto _ : state) {
    const double t0 = omp_get_wtime();
    r = paired_compare(x.a, x.b, o);
    seconds += omp_get_wtime() - t0;
  }
  seconds /= static_cast<double>(state.iterations());
  state.counters["p_value"] = r.p_value;
  state.counters["seconds"] = seconds;
  if (naive_seconds > 0) state.counters["speedup_vs_naive"] = naive_seconds / seconds;
}

BENCHMARK(BM_NaiveSignFlip)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PairedCompare)
    ->ArgNames({"threads", "resamples"})
    ->Args({1, 10000})
    ->Args({2, 10000})
    ->Args({1, 0})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
