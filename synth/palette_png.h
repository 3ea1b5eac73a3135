// Palettised PNGs read as palette indices (not colours), as Pascal VOC's SegmentationClass and
// SegmentationObject masks must be: OpenCV's imread expands a palette to colours, so these go
// through libpng directly.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace repbench::synth {

// An 8-bit index image. indices: [height, width] row-major, indices[y * width + x].
struct IndexImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> indices;
};

// Reads the palette indices of a palettised PNG (bit depth 1, 2, 4 or 8). Throws Error naming
// `path` when it is missing, not a PNG, corrupt, not palettised (e.g. "colour type RGB"), or
// larger than 2^28 pixels.
IndexImage read_palette_png(const std::string& path);

// The standard VOC colour map: entry i = (r, g, b) with bit 7 - j of r, g, b taken from bits
// 3j, 3j + 1, 3j + 2 of i (1 = (128, 0, 0), 15 = (192, 128, 128), 255 = (224, 224, 192)).
std::array<std::array<uint8_t, 3>, 256> voc_palette();

// Writes `image` as an 8-bit palettised PNG with `palette` (atomically).
void write_palette_png(const std::string& path, const IndexImage& image,
                       const std::array<std::array<uint8_t, 3>, 256>& palette);

}  // namespace repbench::synth
