// libFuzzer target: COCO's compressed RLE strings (synth/rle.h). Decoding must either fail with
// an Error or give counts that encode back to a string decoding to the same counts; masks of
// valid counts must round-trip through rle_decode / rle_encode.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "synth/rle.h"

using namespace repbench::synth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint32_t> counts;
  try {
    counts = rle_counts_from_string(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const repbench::Error&) {
    return 0;
  }
  Rle rle;
  rle.counts = counts;
  if (rle_counts_from_string(rle_to_string(rle)) != counts) __builtin_trap();
  const uint64_t total = rle_total(rle);
  if (total == 0 || total > (uint64_t{1} << 20)) return 0;
  // A height that divides the total (the largest of 1..16), so the counts make a valid mask.
  int height = 1;
  for (int h = 16; h > 1; --h)
    if (total % h == 0) {
      height = h;
      break;
    }
  rle.height = height;
  rle.width = static_cast<int>(total / height);
  const std::vector<uint8_t> mask = rle_decode(rle);
  if (rle_area(rle) != rle_area(rle_encode(mask.data(), rle.height, rle.width))) __builtin_trap();
  if (rle_decode(rle_encode(mask.data(), rle.height, rle.width)) != mask) __builtin_trap();
  return 0;
}
