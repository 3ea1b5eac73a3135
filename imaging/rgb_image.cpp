#include "imaging/rgb_image.h"

#include "imaging/codec.h"

namespace repbench::imaging {

RgbImage to_rgb(const cv::Mat& bgr, const cv::Rect& region) {
  RgbImage out;
  out.width = region.width;
  out.height = region.height;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y) {
    const uint8_t* src = bgr.ptr<uint8_t>(region.y + y) + static_cast<size_t>(region.x) * 3;
    uint8_t* dst = out.pixels.data() + static_cast<size_t>(y) * out.width * 3;
    for (int x = 0; x < out.width; ++x) {
      dst[3 * x + 0] = src[3 * x + 2];
      dst[3 * x + 1] = src[3 * x + 1];
      dst[3 * x + 2] = src[3 * x + 0];
    }
  }
  return out;
}

RgbImage decode_image(const std::string& path) {
  const cv::Mat bgr = decode_file(path);
  return to_rgb(bgr, cv::Rect(0, 0, bgr.cols, bgr.rows));
}

}  // namespace repbench::imaging
