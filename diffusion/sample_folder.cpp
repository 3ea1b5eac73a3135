// sample_to_folder(): plain sampling into a folder of PNGs, resumable by batch.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "diffusion/image_prep.h"
#include "diffusion/sampler.h"

namespace fs = std::filesystem;

namespace repbench::diffusion {

FolderSampleResult sample_to_folder(const DiffusionModel& model, int64_t count, uint64_t seed,
                                    int batch, const SampleOptions& options,
                                    const std::string& out_dir, ProgressMode progress_mode,
                                    const std::string& label) {
  if (count < 1) fail("sampling: the image count must be at least 1; got {}", count);
  if (batch < 1) fail("sampling: the batch size must be at least 1; got {}", batch);
  options.Check();
  fs::create_directories(out_dir);
  auto name = [&](int64_t i) { return (fs::path(out_dir) / fmt::format("{:06d}.png", i)).string(); };
  Progress progress(label, count, progress_mode);
  FolderSampleResult r;
  for (int64_t lo = 0; lo < count; lo += batch) {
    const int64_t hi = std::min(count, lo + batch);
    bool done = true;
    for (int64_t i = lo; i < hi && done; ++i) done = fs::exists(name(i));
    if (done) {
      r.kept += hi - lo;
      progress.advance(hi - lo);
      continue;
    }
    std::vector<uint64_t> seeds;
    for (int64_t i = lo; i < hi; ++i) seeds.push_back(image_seed(seed, i));
    const Images im = model.sample(seeds, options);
    for (int64_t i = lo; i < hi; ++i) write_png(name(i), to_rgb(im, i - lo));
    r.written += hi - lo;
    progress.advance(hi - lo);
  }
  progress.finish();
  return r;
}

}  // namespace repbench::diffusion
