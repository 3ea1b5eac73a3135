// Decoding and encoding of image files, the one place where repbench turns files into pixels and
// back. Pixels are cv::Mat CV_8UC3 in OpenCV's BGR order. The codecs themselves (OpenCV's
// imgcodecs: libjpeg, libpng, libwebp, ...) are in the plugin of imaging/codecs_plugin.h, opened
// on the first call here.
//
// Decoding follows PIL's Image.open(...).convert("RGB"), which the reference code uses: grey,
// palette and 16-bit images become 8-bit colour, an alpha channel is dropped, and EXIF orientation
// is ignored unless asked for (Orientation::kApply: only the report's thumbnails of images without
// a crop box rotate, as a viewer would). Reduced-size decoding (reduce 2, 4 or 8) is libjpeg's DCT
// scaling for JPEGs (OpenCV's IMREAD_REDUCED_COLOR_k; other formats are decoded and shrunk by
// OpenCV). Errors are one line naming the file:
//   PATH: empty file, not an image
//   PATH: not a decodable image (N bytes)            [": REASON" when the codec gives one]
#pragma once

#include <string>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "imaging/rgb_image.h"

namespace repbench::imaging {

enum class Orientation {
  kIgnore,  // the stored frame (PIL; crop boxes and descriptors are in it)
  kApply,   // rotated and flipped as the EXIF orientation tag says
};

struct DecodeOptions {
  int reduce = 1;  // 1, 2, 4 or 8
  Orientation orientation = Orientation::kIgnore;
};

// Decodes encoded bytes; `name` is the file named by errors.
cv::Mat decode(std::string_view bytes, const std::string& name, const DecodeOptions& options = {});

// Reads and decodes `path` (a missing or unreadable file: Error naming it).
cv::Mat decode_file(const std::string& path, const DecodeOptions& options = {});

// The file's bytes, refused as decode() refuses them when empty or too large for the codecs.
std::string read_image_bytes(const std::string& path);

// The pixels of `region` of a decoded (CV_8UC3 BGR) image, as an RgbImage.
RgbImage to_rgb(const cv::Mat& bgr, const cv::Rect& region);

// Lossless PNG. compression < 0: OpenCV's speed-tuned default (zlib level 1, RLE strategy, SUB
// filter only: ~3x faster than naming a level, for ~5% larger files); 0..9: that zlib level (and
// libpng's adaptive filtering). Deterministic: the same pixels give the same bytes.
std::string encode_png(const cv::Mat& bgr, int compression = -1);

// JPEG at `quality` (1..100), 4:2:0 as libjpeg's default. Deterministic.
std::string encode_jpeg(const cv::Mat& bgr, int quality);

}  // namespace repbench::imaging
