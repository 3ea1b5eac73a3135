#include "imaging/codec.h"

#include <cstdint>
#include <limits>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "imaging/impl/codecs.h"
#include "imaging/impl/codecs_entry.h"

namespace repbench::imaging {

namespace {

void check_size(size_t size, const std::string& name) {
  if (size == 0) fail("{}: empty file, not an image", name);
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    fail("{}: file of {} bytes is too large for an image", name, size);
}

std::string to_string(const std::vector<uint8_t>& buf) {
  return std::string(reinterpret_cast<const char*>(buf.data()), buf.size());
}

}  // namespace

std::string read_image_bytes(const std::string& path) {
  std::string bytes = read_file(path);  // throws Error naming the path
  check_size(bytes.size(), path);
  return bytes;
}

cv::Mat decode(std::string_view bytes, const std::string& name, const DecodeOptions& options) {
  REPBENCH_ASSERT(options.reduce == 1 || options.reduce == 2 || options.reduce == 4 ||
                  options.reduce == 8);
  check_size(bytes.size(), name);
  const impl::CodecsEntry& codecs = impl::codecs();
  cv::Mat img;
  std::string why;
  if (!codecs.decode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                     options.reduce, options.orientation == Orientation::kApply, &img, &why)) {
    if (why.empty()) fail("{}: not a decodable image ({} bytes)", name, bytes.size());
    fail("{}: not a decodable image ({} bytes): {}", name, bytes.size(), why);
  }
  // IMREAD_COLOR gives 8-bit BGR already; kept so that the contract does not rest on the flags.
  if (img.depth() != CV_8U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  if (img.channels() == 1) cv::cvtColor(img, img, cv::COLOR_GRAY2BGR);
  if (img.channels() == 4) cv::cvtColor(img, img, cv::COLOR_BGRA2BGR);
  return img;
}

cv::Mat decode_file(const std::string& path, const DecodeOptions& options) {
  return decode(read_image_bytes(path), path, options);
}

std::string encode_png(const cv::Mat& bgr, int compression) {
  REPBENCH_ASSERT(compression <= 9);
  std::vector<uint8_t> buf;
  std::string why;
  if (!impl::codecs().encode_png(bgr, compression, &buf, &why))
    fail("cannot encode a {}x{} image as PNG{}{}", bgr.cols, bgr.rows, why.empty() ? "" : ": ",
         why);
  return to_string(buf);
}

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

std::string encode_jpeg(const cv::Mat& bgr, int quality) {
  REPBENCH_ASSERT(quality >= 1 && quality <= 100);
  std::vector<uint8_t> buf;
  std::string why;
  if (!impl::codecs().encode_jpeg(bgr, quality, &buf, &why))
    fail("cannot encode a {}x{} image as JPEG{}{}", bgr.cols, bgr.rows, why.empty() ? "" : ": ",
         why);
  return to_string(buf);
}

}  // namespace repbench::imaging
