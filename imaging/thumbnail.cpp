#include "imaging/thumbnail.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace repbench::imaging {

Thumbnail make_thumbnail(const std::string& path, int px, Orientation orientation) {
  REPBENCH_ASSERT(px >= 1);
  DecodeOptions options;
  options.orientation = orientation;
  cv::Mat image = decode_file(path, options);
  Thumbnail t;
  t.source_width = image.cols;
  t.source_height = image.rows;
  try {
    const double scale = static_cast<double>(px) / std::max(image.cols, image.rows);
    if (scale < 1) {
      cv::Mat small;
      cv::resize(image, small,
                 cv::Size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                          std::max(1, static_cast<int>(std::lround(image.rows * scale)))),
                 0, 0, cv::INTER_AREA);
      image = small;
    } else if (scale >= 2) {
      const int f = static_cast<int>(std::floor(scale));
      cv::Mat big;
      cv::resize(image, big, cv::Size(image.cols * f, image.rows * f), 0, 0, cv::INTER_NEAREST);
      image = big;
    }
  } catch (const cv::Exception& e) {
    fail("{}: cannot scale the {}x{} image to a thumbnail: {}", path, t.source_width,
         t.source_height, e.err);
  }
  t.jpeg = encode_jpeg(image, 85);
  t.width = image.cols;
  t.height = image.rows;
  return t;
}

}  // namespace repbench::imaging
