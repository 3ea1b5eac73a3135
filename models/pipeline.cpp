#include "models/pipeline.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/elapsed.h"
#include "core/error.h"
#include "core/parallel.h"
#include "imaging/codecs_plugin.h"

namespace repbench::models {

namespace {

using Clock = std::chrono::steady_clock;

// Decodes images on worker threads, at most `window` items past the last released one.
class Decoder {
 public:
  struct Slot {
    enum class State { kPending, kReady, kFailed } state = State::kPending;
    Image image;
    std::string error;
  };

  Decoder(const std::vector<ImageItem>& items, const Preprocess& pre, const LoadOptions& load,
          int threads, int64_t window)
      : items_(items),
        pre_(pre),
        load_(load),
        window_(window),
        limit_(window),
        slots_(items.size()) {
    for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
  }

  ~Decoder() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // Blocks until item i is decoded (or failed); rethrows an unexpected worker exception.
  Slot& wait(int64_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_cv_.wait(lock, [&] { return slots_[i].state != Slot::State::kPending || fatal_; });
    if (fatal_) std::rethrow_exception(fatal_);
    return slots_[i];
  }

  // Decoding and preprocessing time of the finished items, summed over the threads.
  LoadTiming timing() {
    std::lock_guard<std::mutex> lock(mu_);
    return timing_;
  }

  // Frees item i and lets the workers decode further ahead.
  void release(int64_t i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      slots_[i].image = Image();
      limit_ = std::max(limit_, i + 1 + window_);
    }
    work_cv_.notify_all();
  }

 private:
  void work() {
    const int64_t n = static_cast<int64_t>(items_.size());
    while (true) {
      int64_t i;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || next_ >= n || next_ < limit_; });
        if (stop_ || next_ >= n) return;
        i = next_++;
      }
      Slot slot;
      LoadTiming timing;
      try {
        slot.image = load_image(items_[i].path, items_[i].bbx, pre_, load_, &timing);
        slot.state = Slot::State::kReady;
      } catch (const Error& e) {  // a bad image: the caller's policy decides
        slot.state = Slot::State::kFailed;
        slot.error = e.what();
      } catch (const std::exception& e) {  // e.g. cv::Exception, bad_alloc: not the image's fault
        std::lock_guard<std::mutex> lock(mu_);
        if (!fatal_) fatal_ = std::current_exception();
        stop_ = true;
        ready_cv_.notify_all();
        work_cv_.notify_all();
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        slots_[i] = std::move(slot);
        timing_.decode_seconds += timing.decode_seconds;
        timing_.preprocess_seconds += timing.preprocess_seconds;
      }
      ready_cv_.notify_all();
    }
  }

  const std::vector<ImageItem>& items_;
  const Preprocess& pre_;
  const LoadOptions load_;
  const int64_t window_;
  std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_ = 0;
  int64_t limit_;
  bool stop_ = false;
  std::exception_ptr fatal_;
  LoadTiming timing_;
  std::vector<Slot> slots_;
  std::vector<std::thread> workers_;
};

int default_decode_threads() {
  return std::clamp(available_cores() - 1, 1, 8);
}

}  // namespace

void ExtractionStats::add(const ExtractionStats& o) {
  images += o.images;
  batches += o.batches;
  oom_retries += o.oom_retries;
  final_batch_size = o.final_batch_size;
  forward_seconds += o.forward_seconds;
  decode_seconds += o.decode_seconds;
  preprocess_seconds += o.preprocess_seconds;
  wait_seconds += o.wait_seconds;
  decode_threads = std::max(decode_threads, o.decode_threads);
  write_seconds += o.write_seconds;
  wall_seconds += o.wall_seconds;
}

std::string ExtractionStats::summary() const {
  return fmt::format(
      "decode {:.2f} s, preprocess {:.2f} s ({} thread{}), waited {:.2f} s, forward {:.2f} s, "
      "write {:.2f} s; {} images in {:.2f} s, {:.2f} images/s",
      decode_seconds, preprocess_seconds, decode_threads, decode_threads == 1 ? "" : "s",
      wait_seconds, forward_seconds, write_seconds, images, wall_seconds,
      wall_seconds > 0 ? static_cast<double>(images) / wall_seconds : 0.0);
}

void PipelineOptions::Check() const {
  if (batch_size < 1) fail("batch size must be >= 1, found {}", batch_size);
  if (decode_threads < 0) fail("decode threads must be >= 0 (0 = auto), found {}", decode_threads);
  if (prefetch_batches < 1) fail("prefetch batches must be >= 1, found {}", prefetch_batches);
}

std::vector<int64_t> descriptor_shape(const FeatureExtractor& ex, int64_t n) {
  if (ex.output_kind() == OutputKind::kTokens) return {n, ex.tokens(), ex.dim()};
  return {n, ex.dim()};
}

Extraction extract_features(FeatureExtractor& ex, const std::vector<ImageItem>& items,
                            const PipelineOptions& opt) {
  opt.Check();
  const auto t0 = Clock::now();
  const int64_t n = static_cast<int64_t>(items.size());
  const int64_t row = ex.row_size();
  Extraction result;
  result.features.shape = descriptor_shape(ex, n);
  result.features.data.assign(static_cast<size_t>(n * row), 0.0f);
  int64_t batch_size = opt.batch_size;
  result.stats.final_batch_size = opt.batch_size;
  if (n == 0) return result;
  // A missing codecs plugin stops here rather than failing every image as undecodable.
  imaging::require_codecs();

  std::unique_ptr<Progress> own_progress;
  Progress* progress = opt.progress_sink;
  if (!progress) {
    own_progress = std::make_unique<Progress>(opt.label, n, opt.progress);
    progress = own_progress.get();
  }

  const int threads = opt.decode_threads > 0 ? opt.decode_threads : default_decode_threads();
  Decoder decoder(items, ex.preprocess(), opt.load, threads,
                  int64_t{opt.batch_size} * (opt.prefetch_batches + 1));

  std::vector<float> buffer;
  // Runs the extractor on g images of h x w in `buffer`, halving the batch on out-of-memory.
  auto run = [&](int64_t first, int64_t g, int h, int w) {
    const int64_t image_floats = int64_t{3} * h * w;
    int64_t off = 0;
    while (off < g) {
      const int64_t m = std::min(batch_size, g - off);
      const auto tf = Clock::now();
      try {
        ex.extract(ImageBatch{buffer.data() + off * image_floats, m, h, w},
                   result.features.data.data() + (first + off) * row);
      } catch (const runtime::OutOfMemory& e) {
        if (m == 1)
          fail("{}: out of memory on a single {}x{} image ({}): {}", ex.spec(), w, h,
               items[first + off].path, e.what());
        batch_size = (m + 1) / 2;  // halve, rounding up: 8 -> 4 -> 2 -> 1
        ++result.stats.oom_retries;
        continue;
      }
      result.stats.forward_seconds += seconds_since(tf);
      ++result.stats.batches;
      result.stats.images += m;
      off += m;
    }
  };

  // Time the calling thread waits for decoded images (what decoding costs the forward passes).
  auto wait = [&](int64_t k) -> Decoder::Slot& {
    const auto tw = Clock::now();
    Decoder::Slot& s = decoder.wait(k);
    result.stats.wait_seconds += seconds_since(tw);
    return s;
  };
  int64_t i = 0;
  while (i < n) {
    Decoder::Slot& first = wait(i);
    if (first.state == Decoder::Slot::State::kFailed) {
      if (opt.on_decode_error == DecodeErrorPolicy::kFail) throw Error(first.error);
      result.failed.push_back({i, items[i].path, first.error});
      decoder.release(i);
      progress->advance(1);
      ++i;
      continue;
    }
    // Consecutive images of the same size form the batch.
    const int h = first.image.height, w = first.image.width;
    int64_t j = i + 1;
    while (j - i < batch_size && j < n) {
      Decoder::Slot& s = wait(j);
      if (s.state != Decoder::Slot::State::kReady || s.image.height != h || s.image.width != w)
        break;
      ++j;
    }
    const int64_t g = j - i;
    const size_t image_floats = size_t{3} * h * w;
    buffer.resize(g * image_floats);
    for (int64_t k = 0; k < g; ++k) {
      Decoder::Slot& s = decoder.wait(i + k);
      std::memcpy(buffer.data() + k * image_floats, s.image.data.data(),
                  image_floats * sizeof(float));
      decoder.release(i + k);
    }
    run(i, g, h, w);
    progress->advance(g);
    i = j;
  }
  if (own_progress) own_progress->finish();
  result.stats.final_batch_size = static_cast<int>(batch_size);
  const LoadTiming timing = decoder.timing();
  result.stats.decode_seconds = timing.decode_seconds;
  result.stats.preprocess_seconds = timing.preprocess_seconds;
  result.stats.decode_threads = threads;
  result.stats.wall_seconds = seconds_since(t0);
  return result;
}

}  // namespace repbench::models
