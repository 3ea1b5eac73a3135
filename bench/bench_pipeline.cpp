// Pipeline overhead: extracting a folder of 224-px JPEGs with a ResNet-50-sized TorchScript model
// (random weights, exported by scripts/export_models.py --random-weights resnet50 through
// Debian's /usr/bin/python3) against the model's forward passes alone on the same batches of the
// same preprocessed images, in the same run. Target: the pipeline (decode on worker threads,
// preprocess, batch, forward, copy out) costs at most 10% more than the forward passes.
//
//   BM_ForwardOnly        FeatureExtractor::extract on pre-decoded batches (the reference)
//   BM_Pipeline           extract_features() on the JPEG paths
//   BM_PipelineOverhead   both, alternated in each iteration; counter "overhead" =
//                         fastest pipeline pass / fastest forward pass - 1 (and the median of
//                         the per-iteration ratios, "overhead_median")
//   BM_LargeJpegs/k       what --fast-decode buys: images/s of full decoding (the default) and
//                         of reduced-size decoding on large JPEGs made from opencv-doc's
//                         aloeL/aloeR (k = 1: the photographs, 1282x1110, decoded at 1/2 by
//                         --fast-decode; k = 2: 2x2 mosaics, 2564x2220, at 1/4), alternated in
//                         each iteration; counters decode_{full,fast}_img_per_s (load_image on
//                         one thread) and pipeline_{full,fast}_img_per_s (extract_features with
//                         the ResNet-50), on the fastest pass of each
//
// Without that Python (or torchvision), every benchmark is skipped with SkipWithError.
// BENCH_VERBOSE=1 prints each (forward, pipeline) pair: on a machine shared with other work both
// slow down together when load arrives, which is why the overhead is taken on the fastest passes.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/elapsed.h"
#include "core/error.h"
#include "models/image_loader.h"
#include "models/pipeline.h"
#include "models/registry.h"

namespace fs = std::filesystem;
using namespace repbench::models;  // NOLINT

namespace {

constexpr int kImages = 32;
constexpr int kBatch = 16;

struct Setup {
  std::string error;  // non-empty: skip
  std::unique_ptr<FeatureExtractor> model;
  std::vector<ImageItem> items;
  // The forward-only reference input: the same images, preprocessed as the pipeline does,
  // in batches of kBatch: [b, 3, 224, 224] each.
  std::vector<std::vector<float>> batches;
  std::vector<int64_t> batch_sizes;
  std::vector<float> out;
};

// A smooth random photograph-like image (blurred noise), so that JPEG decoding costs what it
// costs on real photographs rather than on flat colour.
cv::Mat photo_like(int size, int seed) {
  cv::Mat m(size, size, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(m, m, cv::Size(0, 0), 3.0);
  cv::Mat noise(size, size, CV_8UC3);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 24);
  return m + noise;
}

Setup& setup() {
  static Setup s = [] {
    Setup s;
    const fs::path dir = fs::temp_directory_path() / "repbench_bench_pipeline";
    fs::create_directories(dir / "images");
    const fs::path model = dir / "resnet50.pt";
    if (!fs::exists(model)) {
      const std::string cmd = fmt::format(
          "/usr/bin/python3 {}/scripts/export_models.py --out {} --random-weights "
          "resnet50 --seed 0 > {}/export.log 2>&1",
          REPBENCH_SOURCE_DIR, dir.string(), dir.string());
      if (std::system(cmd.c_str()) != 0 || !fs::exists(model)) {
        s.error = "cannot export resnet50 with /usr/bin/python3 (see " +
                  (dir / "export.log").string() + ")";
        return s;
      }
    }
    for (int i = 0; i < kImages; ++i) {
      const std::string path = (dir / "images" / fmt::format("{:03d}.jpg", i)).string();
      if (!fs::exists(path)) cv::imwrite(path, photo_like(224, i), {cv::IMWRITE_JPEG_QUALITY, 90});
      s.items.push_back({path, std::nullopt});
    }
    try {
      ExtractorOptions opt;  // CPU, all hardware threads
      s.model = create_extractor("torchscript:" + model.string(), opt);
      for (int b = 0; b < kImages; b += kBatch) {
        const int n = std::min(kBatch, kImages - b);
        std::vector<float> batch;
        for (int i = b; i < b + n; ++i) {
          const Image im = load_image(s.items[i].path, std::nullopt, s.model->preprocess());
          batch.insert(batch.end(), im.data.begin(), im.data.end());
        }
        s.batches.push_back(std::move(batch));
        s.batch_sizes.push_back(n);
      }
      s.out.resize(static_cast<size_t>(kBatch) * s.model->row_size());
      // Warm-up: the TorchScript executor profiles and optimises on its first runs.
      for (int r = 0; r < 2; ++r)
        s.model->extract({s.batches[0].data(), s.batch_sizes[0], 224, 224}, s.out.data());
    } catch (const repbench::Error& e) {
      s.error = e.what();
    }
    return s;
  }();
  return s;
}

double forward_pass(Setup& s) {
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t b = 0; b < s.batches.size(); ++b)
    s.model->extract({s.batches[b].data(), s.batch_sizes[b], 224, 224}, s.out.data());
  return repbench::seconds_since(t0);
}

double pipeline_pass(Setup& s, const std::vector<ImageItem>& items, LoadOptions load = {}) {
  PipelineOptions opt;
  opt.batch_size = kBatch;
  opt.progress = repbench::ProgressMode::kOff;
  opt.load = load;
  const auto t0 = std::chrono::steady_clock::now();
  const Extraction x = extract_features(*s.model, items, opt);
  benchmark::DoNotOptimize(x.features.data.data());
  return repbench::seconds_since(t0);
}

void BM_ForwardOnly(benchmark::State& state) {
  Setup& s = setup();
  if (!s.error.empty()) return state.SkipWithError(s.error.c_str());
  for (auto _ : state) state.SetIterationTime(forward_pass(s));
  state.SetItemsProcessed(state.iterations() * kImages);
}

void BM_Pipeline(benchmark::State& state) {
  Setup& s = setup();
  if (!s.error.empty()) return state.SkipWithError(s.error.c_str());
  for (auto _ : state) state.SetIterationTime(pipeline_pass(s, s.items));
  state.SetItemsProcessed(state.iterations() * kImages);
}

// The two alternate within each iteration so that load from other processes (this machine's
// cores are shared) hits both alike; the ratio is taken on the fastest pass of each, and the
// median of the per-iteration ratios is reported beside it.
void BM_PipelineOverhead(benchmark::State& state) {
  Setup& s = setup();
  if (!s.error.empty()) return state.SkipWithError(s.error.c_str());
  double best_forward = 1e30, best_pipeline = 1e30;
  std::vector<double> ratios;
  for (auto _ : state) {
    const double f = forward_pass(s);
    const double p = pipeline_pass(s, s.items);
    best_forward = std::min(best_forward, f);
    best_pipeline = std::min(best_pipeline, p);
    ratios.push_back(p / f);
    if (std::getenv("BENCH_VERBOSE"))
      fmt::print(stderr, "forward {:.3f} s, pipeline {:.3f} s\n", f, p);
    state.SetIterationTime(f + p);
  }
  std::sort(ratios.begin(), ratios.end());
  state.counters["forward_img_per_s"] = kImages / best_forward;
  state.counters["pipeline_img_per_s"] = kImages / best_pipeline;
  state.counters["overhead"] = best_pipeline / best_forward - 1.0;  // target: <= 0.10
  state.counters["overhead_median"] = ratios[ratios.size() / 2] - 1.0;
}

// kLarge large JPEGs of opencv-doc's aloeL/aloeR (see the file comment): k x k mosaics of the
// two photographs, each tile flipped by the image's index so that no two files are equal.
constexpr int kLarge = 8;

struct LargeSet {
  std::string error;  // non-empty: skip
  std::vector<ImageItem> items;
};

const LargeSet& large_set(int k) {
  static std::map<int, LargeSet> sets;
  auto [it, inserted] = sets.try_emplace(k);
  if (!inserted) return it->second;
  LargeSet& s = it->second;
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  const cv::Mat tiles[2] = {cv::imread(data + "aloeL.jpg"), cv::imread(data + "aloeR.jpg")};
  if (tiles[0].empty() || tiles[1].empty()) {
    s.error = "cannot read aloeL.jpg and aloeR.jpg of Debian's opencv-doc in " + data;
    return s;
  }
  const fs::path dir =
      fs::temp_directory_path() / "repbench_bench_pipeline" / fmt::format("large{}", k);
  fs::create_directories(dir);
  for (int i = 0; i < kLarge; ++i) {
    const std::string path = (dir / fmt::format("{:03d}.jpg", i)).string();
    if (!fs::exists(path)) {
      std::vector<cv::Mat> rows;
      for (int r = 0; r < k; ++r) {
        std::vector<cv::Mat> row;
        for (int c = 0; c < k; ++c) {
          cv::Mat t;
          cv::flip(tiles[(i + r + c) % 2], t, (i + r * k + c) % 3 - 1);  // -1, 0, 1: both, x, y
          row.push_back(t);
        }
        cv::Mat joined;
        cv::hconcat(row, joined);
        rows.push_back(joined);
      }
      cv::Mat m;
      cv::vconcat(rows, m);
      cv::imwrite(path, m, {cv::IMWRITE_JPEG_QUALITY, 90});
    }
    s.items.push_back({path, std::nullopt});
  }
  return s;
}

double decode_pass(const Setup& s, const std::vector<ImageItem>& items, LoadOptions load) {
  const auto t0 = std::chrono::steady_clock::now();
  for (const ImageItem& it : items) {
    const Image im = load_image(it.path, std::nullopt, s.model->preprocess(), load);
    benchmark::DoNotOptimize(im.data.data());
  }
  return repbench::seconds_since(t0);
}

void BM_LargeJpegs(benchmark::State& state) {
  Setup& s = setup();
  if (!s.error.empty()) return state.SkipWithError(s.error.c_str());
  const LargeSet& large = large_set(static_cast<int>(state.range(0)));
  if (!large.error.empty()) return state.SkipWithError(large.error.c_str());
  LoadOptions full, fast;
  fast.reduced_decoding = true;
  double best[4] = {1e30, 1e30, 1e30, 1e30};  // decode full, decode fast, pipeline full, fast
  for (auto _ : state) {
    const double t[4] = {decode_pass(s, large.items, full), decode_pass(s, large.items, fast),
                         pipeline_pass(s, large.items, full), pipeline_pass(s, large.items, fast)};
    for (int i = 0; i < 4; ++i) best[i] = std::min(best[i], t[i]);
    state.SetIterationTime(t[0] + t[1] + t[2] + t[3]);
  }
  state.counters["decode_full_img_per_s"] = kLarge / best[0];
  state.counters["decode_fast_img_per_s"] = kLarge / best[1];
  state.counters["pipeline_full_img_per_s"] = kLarge / best[2];
  state.counters["pipeline_fast_img_per_s"] = kLarge / best[3];
}

BENCHMARK(BM_ForwardOnly)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(2);
BENCHMARK(BM_Pipeline)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(2);
BENCHMARK(BM_PipelineOverhead)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(8);
BENCHMARK(BM_LargeJpegs)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
