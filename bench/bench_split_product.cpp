// Split-product similarity: repbench's blocked kernel against the paper's formulation in
// PyTorch, torch.einsum('ncp,mcp->nmc', q, v).amax(-1), run through LibTorch in the same process
// (143 GFLOP/s here on 400 x 400 x 197 x 768). Same sizes, same threads; the einsum materialises
// nq x nb x tokens floats, repbench one [block x nb] buffer per thread.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/elapsed.h"
#include "core/rng.h"
#include "metrics/parallel.h"
#include "metrics/split_product.h"

namespace {

constexpr int64_t kN = 400, kTokens = 197, kDim = 768, kBlock = 100;
constexpr int kThreads = 2;

struct Data {
  std::vector<float> q, v;
  Data() : q(kN * kTokens * kDim), v(kN * kTokens * kDim) {
    repbench::Rng rng(0);
    for (auto* x : {&q, &v}) {
      for (auto& e : *x) e = static_cast<float>(rng.normal());
      for (int64_t i = 0; i < kN; ++i) {  // the flattened vector, normalised once
        float* r = x->data() + i * kTokens * kDim;
        double s = 0;
        for (int64_t j = 0; j < kTokens * kDim; ++j) s += double{r[j]} * r[j];
        const float inv = static_cast<float>(1 / std::sqrt(s));
        for (int64_t j = 0; j < kTokens * kDim; ++j) r[j] *= inv;
      }
    }
  }
};

const Data& data() {
  static const Data d;
  return d;
}

double gflops(double seconds) {
  return 2.0 * kN * kN * kTokens * kDim / seconds / 1e9;
}

std::vector<float> repbench_scores() {
  const Data& d = data();
  repbench::metrics::SplitProductScores s(d.q.data(), kN, d.v.data(), kN, kTokens, kDim);
  std::vector<float> out(kN * kN);
  repbench::metrics::BlasThreadsScope blas(1);
  repbench::metrics::parallel_for(kN / kBlock, kThreads, [&](int64_t b, int) {
    s.compute(b * kBlock, kBlock, 0, kN, out.data() + b * kBlock * kN, kN);
  });
  return out;
}

torch::Tensor torch_scores() {
  const Data& d = data();
  auto q = torch::from_blob(const_cast<float*>(d.q.data()), {kN, kTokens, kDim});
  auto v = torch::from_blob(const_cast<float*>(d.v.data()), {kN, kTokens, kDim});
  return std::get<0>(torch::einsum("ncp,mcp->nmc", {q, v}).max(-1));
}

double g_torch_seconds = 0;

void BM_TorchEinsumAmax(benchmark::State& state) {
  at::set_num_threads(kThreads);
  data();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(torch_scores());
    g_torch_seconds = repbench::seconds_since(t0);
    state.SetIterationTime(g_torch_seconds);
  }
  state.counters["GFLOP/s"] = gflops(g_torch_seconds);
  state.counters["peak_MB"] = kN * kN * kTokens * 4.0 / 1e6;
}

void BM_RepbenchSplitProduct(benchmark::State& state) {
  data();
  double seconds = 0;
  std::vector<float> out;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    out = repbench_scores();
    seconds = repbench::seconds_since(t0);
    state.SetIterationTime(seconds);
  }
  // Same numbers as the reference.
  torch::Tensor ref = torch_scores();
  float max_diff = 0;
  const float* r = ref.data_ptr<float>();
  for (int64_t i = 0; i < kN * kN; ++i) max_diff = std::max(max_diff, std::abs(r[i] - out[i]));
  state.counters["GFLOP/s"] = gflops(seconds);
  state.counters["max_abs_diff"] = max_diff;
  state.counters["peak_MB"] = kThreads * kBlock * kN * 4.0 / 1e6;
  if (g_torch_seconds > 0) state.counters["speedup_vs_torch"] = g_torch_seconds / seconds;
}

BENCHMARK(BM_TorchEinsumAmax)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RepbenchSplitProduct)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
