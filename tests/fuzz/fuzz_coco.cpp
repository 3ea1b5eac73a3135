// libFuzzer target: the COCO instances reader (synth/coco.h), then every usable image's label
// maps (synth/segmentation.h), which rasterise its polygons and decode its RLEs (synth/rle.h) as
// segmix does.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "synth/coco.h"
#include "synth/segmentation.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

// read_coco keeps only images whose file exists: a folder with a few names the seeds use.
std::string images_dir() {
  static const std::string dir = [] {
    const std::string d = "/tmp/repbench_fuzz_coco_" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    for (const char* name : {"a.jpg", "b.jpg", "1.jpg", "000000000001.jpg", "x"})
      if (std::FILE* f = std::fopen((d + "/" + name).c_str(), "wb")) std::fclose(f);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = repbench::fuzz::input_file(data, size, "_instances.json");
  try {
    const repbench::synth::SegmentationSource src = repbench::synth::read_coco(path, images_dir());
    for (const repbench::synth::SegImage& im : src.images) {
      // Masks cost width * height bytes by design (up to 100000^2 as the reader allows); that
      // is the caller's budget, not a parser bug, so only small images are rasterised here.
      if (static_cast<int64_t>(im.width) * im.height > (int64_t{1} << 18)) continue;
      for (auto unit :
           {repbench::synth::SegmixUnit::kClass, repbench::synth::SegmixUnit::kObject}) {
        const repbench::synth::LabelMap map = repbench::synth::label_map(im, unit);
        if (map.labels.size() != static_cast<size_t>(im.width) * im.height) __builtin_trap();
      }
    }
  } catch (const repbench::Error&) {
  }
  return 0;
}
