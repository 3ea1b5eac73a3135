// The image-codecs plugin librepbench_imagecodecs.so (imaging/codecs_plugin.h): the only
// repbench file that calls or links OpenCV's imgcodecs.
#include <exception>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/plugin.h"
#include "imaging/codecs_plugin.h"
#include "imaging/impl/codecs_entry.h"

namespace repbench::imaging {

namespace {

bool decode(const uint8_t* data, size_t size, int reduce, bool apply_orientation, cv::Mat* out,
            std::string* why) {
  int flags = cv::IMREAD_COLOR;
  if (reduce == 2) flags = cv::IMREAD_REDUCED_COLOR_2;
  if (reduce == 4) flags = cv::IMREAD_REDUCED_COLOR_4;
  if (reduce == 8) flags = cv::IMREAD_REDUCED_COLOR_8;
  if (!apply_orientation) flags |= cv::IMREAD_IGNORE_ORIENTATION;
  try {
    const cv::Mat buf(1, static_cast<int>(size), CV_8UC1,
                      const_cast<uint8_t*>(data));  // imdecode only reads it
    *out = cv::imdecode(buf, flags);
  } catch (const cv::Exception& e) {
    *why = e.err;
    return false;
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
  return !out->empty() && out->cols > 0 && out->rows > 0;
}

bool encode(const char* ext, const cv::Mat& image, const std::vector<int>& params,
            std::vector<uint8_t>* out, std::string* why) {
  try {
    return cv::imencode(ext, image, *out, params);
  } catch (const cv::Exception& e) {
    *why = e.err;
  } catch (const std::exception& e) {
    *why = e.what();
  }
  return false;
}

bool encode_png(const cv::Mat& image, int compression, std::vector<uint8_t>* out,
                std::string* why) {
  return encode(".png", image,
                compression < 0 ? std::vector<int>{}
                                : std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, compression},
                out, why);
}

bool encode_jpeg(const cv::Mat& image, int quality, std::vector<uint8_t>* out, std::string* why) {
  return encode(".jpg", image, {cv::IMWRITE_JPEG_QUALITY, quality}, out, why);
}

}  // namespace

}  // namespace repbench::imaging

REPBENCH_PLUGIN_ABI(repbench_imagecodecs_plugin_abi, repbench::imaging::kCodecsPluginAbi)
REPBENCH_PLUGIN_ENTRY(repbench_imaging_codecs_entry, repbench::imaging::impl::CodecsEntry,
                      &repbench::imaging::decode, &repbench::imaging::encode_png,
                      &repbench::imaging::encode_jpeg)
