// 8-bit RGB images as the models and the diffusion sets read them: decoded by imaging/codec.h and
// turned from OpenCV's BGR into interleaved RGB, as PIL's Image.open(...).convert("RGB") gives
// them (EXIF orientation ignored; grey, palette and 16-bit images become 8-bit RGB). OpenCV-free:
// the conversion from a decoded cv::Mat is imaging/codec.h's to_rgb.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repbench::imaging {

// An 8-bit RGB image. pixels: [height, width, 3] interleaved, pixels[(y * width + x) * 3 + c].
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;
};

// Decodes `path` at full resolution. Throws Error naming the path when the file cannot be read or
// does not decode.
RgbImage decode_image(const std::string& path);

}  // namespace repbench::imaging
