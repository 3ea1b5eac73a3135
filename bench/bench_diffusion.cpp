// Diffusion: the sampler's own work against the built-in UNet's forward passes, and training and
// sampling throughput of the built-in UNet at 32 and 64 px (UNetConfig::small), in the same run.
//
//   BM_SamplerOverhead/S    plain DDPM sampling of a batch of 8 with the null model (predicts 0:
//                           schedule, mixing and noise only) and with the UNet, alternated;
//                           counter "sampler_fraction" = fastest null pass / (fastest UNet pass
//                           - fastest null pass), i.e. the sampler's work per step as a fraction of
//                           one forward pass. Target at 64 px: <= 0.05.
//   BM_RePaintOverhead/S    the same for RePaint (a reduced jump schedule: known-region injection,
//                           re-noising steps and the final paste on top), per model call.
//   BM_Train/S              DdpmTrainer::step with a batch of 16; counter images_per_s.
//   BM_Sample/S             one UNet sampling step of a batch of 8; counters image_steps_per_s and
//                           images_per_s_50_steps (= image_steps_per_s / 50).
//
// The UNet has random weights (an untrained checkpoint): speed does not depend on them.
// Rates are per wall-clock second (LibTorch's worker threads are not the benchmark thread).
// Threads: LibTorch's intra-op threads = all cores (BENCH_THREADS overrides). On a machine that
// other work keeps busy, run with OMP_WAIT_POLICY=passive: libgomp's spinning threads otherwise
// make two-thread runs several times slower than one-thread runs.
// BENCH_BASE_CHANNELS overrides the UNet's base channels (32), e.g. 16 for the demo's model.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "core/elapsed.h"
#include "diffusion/ddpm.h"
#include "diffusion/sampler.h"

namespace fs = std::filesystem;
using namespace repbench::diffusion;  // NOLINT

namespace {

constexpr int kSampleBatch = 8;
constexpr int kTrainBatch = 16;

int threads() {
  const char* t = std::getenv("BENCH_THREADS");
  return t ? std::atoi(t) : 0;
}

TrainImages toy_images(int n, int size) {
  TrainImages t;
  t.n = n;
  t.size = size;
  t.pixels.resize(static_cast<size_t>(n) * size * size * 3);
  for (size_t i = 0; i < t.pixels.size(); ++i)
    t.pixels[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  return t;
}

TrainOptions train_options(int size) {
  TrainOptions o;
  o.unet = UNetConfig::small(size);
  if (const char* b = std::getenv("BENCH_BASE_CHANNELS")) o.unet.base_channels = std::atoi(b);
  o.batch_size = kTrainBatch;
  o.progress = repbench::ProgressMode::kOff;
  o.device.threads = threads();
  return o;
}

// An untrained checkpoint of UNetConfig::small(size), written once per process.
const std::string& checkpoint(int size) {
  static std::map<int, std::string> paths;
  auto it = paths.find(size);
  if (it != paths.end()) return it->second;
  const fs::path p =
      fs::temp_directory_path() / fmt::format("repbench-bench-ddpm{}-{}.ckpt", size, getpid());
  DdpmTrainer(toy_images(4, size), train_options(size)).save_checkpoint(p.string());
  return paths[size] = p.string();
}

struct Pair {
  std::unique_ptr<DiffusionModel> unet, null;
};

Pair models(int size) {
  Pair p;
  const DeviceOptions dev{"cpu", threads()};
  p.unet = std::make_unique<DiffusionModel>(checkpoint(size), dev);
  p.null = std::make_unique<DiffusionModel>(DiffusionModel::null_model(p.unet->config(), dev));
  return p;
}

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return repbench::seconds_since(t0);
}

std::vector<uint64_t> seeds(int n) {
  std::vector<uint64_t> s(n);
  for (int i = 0; i < n; ++i) s[i] = i + 1;
  return s;
}

void BM_SamplerOverhead(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const Pair m = models(size);
  SampleOptions o;
  o.timestep_respacing = "10";
  double best_unet = 1e30, best_null = 1e30;
  for (auto _ : state) {
    best_null = std::min(best_null, seconds_of([&] { m.null->sample(seeds(kSampleBatch), o); }));
    best_unet = std::min(best_unet, seconds_of([&] { m.unet->sample(seeds(kSampleBatch), o); }));
  }
  state.counters["unet_ms_per_step"] = 1e3 * best_unet / 10;
  state.counters["sampler_ms_per_step"] = 1e3 * best_null / 10;
  state.counters["sampler_fraction"] = best_null / std::max(best_unet - best_null, 1e-12);
}

void BM_RePaintOverhead(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const Pair m = models(size);
  RePaintOptions o;
  o.timestep_respacing = "10";
  o.jump_length = 3;
  o.jump_n_sample = 3;
  const int64_t calls = m.unet->repaint_model_calls(o);
  const int64_t hw = static_cast<int64_t>(size) * size;
  Images known{kSampleBatch, 3, size, size,
               std::vector<float>(static_cast<size_t>(kSampleBatch * 3 * hw), 0.1f)};
  std::vector<uint8_t> keep(static_cast<size_t>(kSampleBatch * hw), 0);
  for (int64_t i = 0; i < kSampleBatch * hw; i += 2) keep[i] = 255;
  double best_unet = 1e30, best_null = 1e30;
  for (auto _ : state) {
    best_null = std::min(best_null,
                         seconds_of([&] { m.null->repaint(known, keep, seeds(kSampleBatch), o); }));
    best_unet = std::min(best_unet,
                         seconds_of([&] { m.unet->repaint(known, keep, seeds(kSampleBatch), o); }));
  }
  state.counters["model_calls"] = static_cast<double>(calls);
  state.counters["unet_ms_per_call"] = 1e3 * best_unet / calls;
  state.counters["sampler_ms_per_call"] = 1e3 * best_null / calls;
  state.counters["sampler_fraction"] = best_null / std::max(best_unet - best_null, 1e-12);
}

void BM_Train(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  DdpmTrainer t(toy_images(64, size), train_options(size));
  t.step();  // warm-up (allocations)
  for (auto _ : state) t.step();
  state.SetItemsProcessed(state.iterations() * kTrainBatch);
  state.counters["images_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kTrainBatch), benchmark::Counter::kIsRate);
  state.counters["parameters"] = static_cast<double>(t.parameter_count());
}

void BM_Sample(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const DiffusionModel m(checkpoint(size), {"cpu", threads()});
  SampleOptions o;
  o.timestep_respacing = "2";
  m.sample(seeds(kSampleBatch), o);  // warm-up
  for (auto _ : state) m.sample(seeds(kSampleBatch), o);
  const double image_steps = static_cast<double>(state.iterations() * kSampleBatch * 2);
  state.counters["image_steps_per_s"] =
      benchmark::Counter(image_steps, benchmark::Counter::kIsRate);
  state.counters["images_per_s_50_steps"] =
      benchmark::Counter(image_steps / 50, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_SamplerOverhead)->Arg(32)->Arg(64)->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RePaintOverhead)->Arg(64)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Train)->Arg(32)->Arg(64)->MinTime(3.0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sample)->Arg(32)->Arg(64)->MinTime(2.0)->UseRealTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const int s : {32, 64}) {
    std::error_code ec;
    fs::remove(
        fs::temp_directory_path() / fmt::format("repbench-bench-ddpm{}-{}.ckpt", s, getpid()), ec);
  }
  return 0;
}
