// What the image-codecs plugin (imaging/codecs_plugin.h) gives imaging/: OpenCV's imgcodecs
// behind a struct of function pointers. The functions never throw: a failure returns false with
// OpenCV's reason in *why (empty when OpenCV gives none), and imaging/codec.cpp words the error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace repbench::imaging::impl {

struct CodecsEntry {
  // cv::imdecode of `size` bytes with IMREAD_COLOR (IMREAD_REDUCED_COLOR_<reduce> for reduce 2, 4,
  // 8), plus IMREAD_IGNORE_ORIENTATION unless `apply_orientation`. True with a non-empty *out.
  bool (*decode)(const uint8_t* data, size_t size, int reduce, bool apply_orientation,
                 cv::Mat* out, std::string* why);
  // cv::imencode to PNG: no parameter when `compression` < 0 (OpenCV's speed-tuned default),
  // else IMWRITE_PNG_COMPRESSION = compression.
  bool (*encode_png)(const cv::Mat& image, int compression, std::vector<uint8_t>* out,
                     std::string* why);
  // cv::imencode to JPEG with IMWRITE_JPEG_QUALITY = quality.
  bool (*encode_jpeg)(const cv::Mat& image, int quality, std::vector<uint8_t>* out,
                      std::string* why);
};

inline constexpr const char kCodecsEntry[] = "repbench_imaging_codecs_entry";
inline constexpr const char kCodecsAbiFunction[] = "repbench_imagecodecs_plugin_abi";

}  // namespace repbench::imaging::impl
