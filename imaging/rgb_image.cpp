#include "imaging/rgb_image.h"

#include "imaging/codec.h"

namespace repbench::imaging {

RgbImage decode_image(const std::string& path) {
  const cv::Mat bgr = decode_file(path);
  return to_rgb(bgr, cv::Rect(0, 0, bgr.cols, bgr.rows));
}

}  // namespace repbench::imaging
