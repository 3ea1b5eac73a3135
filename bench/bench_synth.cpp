// Throughput of the paste generators at 256 px (decode, augment, encode and the atomic, fsynced
// writes included), against a plain decode -> resize -> encode -> write loop over the same
// images on the same threads, in the same run.
//
// Inputs: kPhotos synthetic "photographs" of ImageNet's typical size (500 x 375 JPEG, quality
// 90) and a COCO + VOC fixture over them (demo/fixture.h). Every iteration writes into a fresh
// folder, so nothing is reused. Counter images_per_s = images written per second.
//   build/bench/bench_synth [--benchmark_filter=...] [--threads N via REPBENCH_BENCH_THREADS]
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "synth/coco.h"
#include "synth/cutmix.h"
#include "demo/fixture.h"
#include "synth/image_io.h"
#include "synth/segmix.h"
#include "synth/voc.h"

namespace fs = std::filesystem;
using namespace repbench;
using namespace repbench::synth;
using repbench::demo::SegmentationFixture;
using repbench::demo::write_segmentation_fixture;

namespace {

constexpr int kPhotos = 100;
constexpr int kSize = 256;

// CPU seconds (user + system) of the whole process, all threads.
double process_cpu_seconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec * 1e-6;
}

// Counters of a run: images/s of wall time, and CPU milliseconds per image over every thread
// (independent of other load on the machine; 2000 / cpu_ms_per_image is the rate 2 free cores
// would give if the work spread perfectly).
void report(benchmark::State& state, int64_t images, double cpu_seconds) {
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
  state.counters["cpu_ms_per_image"] = cpu_seconds * 1000.0 / static_cast<double>(images);
}

int bench_threads() {
  const char* t = std::getenv("REPBENCH_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

struct Inputs {
  fs::path root;
  std::vector<std::string> photos;
  SegmentationFixture fixture;

  Inputs() {
    root = fs::temp_directory_path() / ("repbench_bench_synth_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "photos");
    cv::RNG rng(12345);
    for (int i = 0; i < kPhotos; ++i) {
      // Smooth colour blobs with fine noise: compresses like a photograph, not like a flat image.
      cv::Mat small(24, 32, CV_8UC3), img, noise(375, 500, CV_8UC3);
      rng.fill(small, cv::RNG::UNIFORM, 0, 256);
      cv::resize(small, img, cv::Size(500, 375), 0, 0, cv::INTER_CUBIC);
      rng.fill(noise, cv::RNG::NORMAL, 0, 12);
      img += noise;
      const std::string p = (root / "photos" / ("img" + std::to_string(i) + ".jpg")).string();
      cv::imwrite(p, img, {cv::IMWRITE_JPEG_QUALITY, 90});
      photos.push_back(p);
    }
    fixture = write_segmentation_fixture(photos, (root / "fixture").string());
  }
  ~Inputs() { fs::remove_all(root); }

  // A new folder per iteration, all removed at exit: deleting thousands of files between
  // iterations makes ext4 scan past the recently deleted inodes when the next files are
  // created, which would time the file system's allocator rather than the generators.
  std::string fresh_out(const std::string& name) const {
    static int serial = 0;
    return (root / "out" / (name + std::to_string(serial++))).string();
  }
};

const Inputs& inputs() {
  static Inputs in;
  return in;
}

SetOptions set_options() {
  SetOptions o;
  o.size = kSize;
  o.copies = 4;
  o.threads = bench_threads();
  o.progress = ProgressMode::kOff;
  return o;
}

// The reference: each image read, decoded, brought to 256 x 256, PNG-encoded and written
// atomically, on the same number of threads; `write` = false leaves out the file write.
void run_plain(benchmark::State& state, bool write) {
  const Inputs& in = inputs();
  int64_t images = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string out = in.fresh_out("plain");
    fs::create_directories(out);
    state.ResumeTiming();
    const double c0 = process_cpu_seconds();
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < in.photos.size();) {
        const cv::Mat square =
            prepare_square(decode_bgr(read_file(in.photos[i]), in.photos[i]), kSize);
        const std::string png = encode_image(square, ImageFormat::kPng, 95);
        if (write) write_file_atomic(out + "/" + std::to_string(i) + ".png", png);
        benchmark::DoNotOptimize(png.data());
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < bench_threads(); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    cpu += process_cpu_seconds() - c0;
    images += static_cast<int64_t>(in.photos.size());
  }
  report(state, images, cpu);
}

void BM_PlainDecodeResizeEncodeWrite(benchmark::State& state) {
  run_plain(state, true);
}
void BM_PlainDecodeResizeEncode(benchmark::State& state) {
  run_plain(state, false);
}

void BM_Cutmix(benchmark::State& state) {
  const Inputs& in = inputs();
  CutmixOptions opt;
  opt.set = set_options();
  int64_t images = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string out = in.fresh_out("cutmix");
    state.ResumeTiming();
    const double c0 = process_cpu_seconds();
    const GenerationSummary s = generate_cutmix(in.photos, opt, out);
    cpu += process_cpu_seconds() - c0;
    images += s.images_written;
  }
  report(state, images, cpu);
}

void run_segmix(benchmark::State& state, bool coco) {
  const Inputs& in = inputs();
  SegmixOptions opt;
  opt.set = set_options();
  int64_t images = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string out = in.fresh_out(coco ? "coco" : "voc");
    state.ResumeTiming();
    const double c0 = process_cpu_seconds();
    // Reading the annotations is part of the work.
    const SegmentationSource src =
        coco ? read_coco(in.fixture.coco_annotations, in.fixture.coco_images)
             : read_voc(in.fixture.voc_root);
    const GenerationSummary s = generate_segmix(src, {}, opt, out);
    cpu += process_cpu_seconds() - c0;
    images += s.images_written;
  }
  report(state, images, cpu);
}

void BM_SegmixCoco(benchmark::State& state) {
  run_segmix(state, true);
}
void BM_SegmixVoc(benchmark::State& state) {
  run_segmix(state, false);
}

BENCHMARK(BM_PlainDecodeResizeEncodeWrite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PlainDecodeResizeEncode)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Cutmix)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SegmixCoco)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SegmixVoc)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
