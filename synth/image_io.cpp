#include "synth/image_io.h"

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "imaging/codec.h"

namespace repbench::synth {

ImageFormat parse_image_format(const std::string& name) {
  if (name == "png") return ImageFormat::kPng;
  if (name == "jpg" || name == "jpeg") return ImageFormat::kJpeg;
  fail("image format \"{}\" is not known (expected png or jpg)", name);
}

const char* image_format_name(ImageFormat format) {
  return format == ImageFormat::kPng ? "png" : "jpg";
}

const char* image_format_extension(ImageFormat format) {
  return format == ImageFormat::kPng ? ".png" : ".jpg";
}

cv::Mat decode_bgr(const std::string& bytes, const std::string& path) {
  return imaging::decode(bytes, path);  // EXIF orientation ignored, as PIL
}

SquareGeometry square_geometry(int width, int height, int size) {
  SquareGeometry g;
  if (width <= height) {
    g.resized_width = size;
    g.resized_height = static_cast<int>(static_cast<int64_t>(size) * height / width);
  } else {
    g.resized_height = size;
    g.resized_width = static_cast<int>(static_cast<int64_t>(size) * width / height);
  }
  g.x0 = static_cast<int>(std::lround((g.resized_width - size) / 2.0));
  g.y0 = static_cast<int>(std::lround((g.resized_height - size) / 2.0));
  return g;
}

cv::Mat prepare_square(const cv::Mat& bgr, int size) {
  const SquareGeometry g = square_geometry(bgr.cols, bgr.rows, size);
  cv::Mat resized;
  if (g.resized_width == bgr.cols && g.resized_height == bgr.rows) {
    resized = bgr;
  } else {
    const bool shrink = g.resized_width < bgr.cols;
    cv::resize(bgr, resized, cv::Size(g.resized_width, g.resized_height), 0, 0,
               shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  return resized(cv::Rect(g.x0, g.y0, size, size)).clone();
}

LabelMap prepare_square_labels(const LabelMap& labels, int size) {
  const SquareGeometry g = square_geometry(labels.width, labels.height, size);
  const cv::Mat src(labels.height, labels.width, CV_16UC1,
                    const_cast<uint16_t*>(labels.labels.data()));
  cv::Mat resized;
  cv::resize(src, resized, cv::Size(g.resized_width, g.resized_height), 0, 0,
             cv::INTER_NEAREST_EXACT);
  LabelMap out{size, size, std::vector<uint16_t>(static_cast<size_t>(size) * size)};
  cv::Mat dst(size, size, CV_16UC1, out.labels.data());
  resized(cv::Rect(g.x0, g.y0, size, size)).copyTo(dst);
  return out;
}

std::string encode_image(const cv::Mat& bgr, ImageFormat format, int jpeg_quality) {
  return format == ImageFormat::kPng ? imaging::encode_png(bgr)
                                     : imaging::encode_jpeg(bgr, jpeg_quality);
}

}  // namespace repbench::synth
