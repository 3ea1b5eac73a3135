// libFuzzer target: palettised PNGs read as indices (synth/palette_png.h), as VOC's
// SegmentationClass / SegmentationObject masks are. libpng is the Debian build (not
// instrumented); ASan still checks our read callback and the rows libpng writes into.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "synth/palette_png.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = repbench::fuzz::input_file(data, size, "_mask.png");
  try {
    const repbench::synth::IndexImage im = repbench::synth::read_palette_png(path);
    if (im.width < 1 || im.height < 1 ||
        im.indices.size() != static_cast<size_t>(im.width) * static_cast<size_t>(im.height))
      __builtin_trap();
  } catch (const repbench::Error&) {
  }
  return 0;
}
