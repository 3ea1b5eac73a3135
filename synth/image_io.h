// Decoding, square preparation and encoding of the images of a synthetic set.
//
// Images inside synth/ are cv::Mat CV_8UC3 in OpenCV's BGR order, [height, width, 3] interleaved.
// Every image of a set (sources, backgrounds, distractors) is first brought to size x size the
// way torchvision's Resize(size) + CenterCrop(size) does: the shorter side scaled to `size`, the
// longer one to int(size * long / short), then the centred square taken (offset
// int(round((long' - size) / 2))). Pixels are resampled with OpenCV's INTER_AREA when shrinking
// and INTER_LINEAR when enlarging; label maps with INTER_NEAREST_EXACT (PIL's nearest).
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "synth/segmentation.h"

namespace repbench::synth {

enum class ImageFormat { kPng, kJpeg };

// "png" or "jpg"; throws Error naming the value otherwise.
ImageFormat parse_image_format(const std::string& name);
const char* image_format_name(ImageFormat format);       // "png", "jpg"
const char* image_format_extension(ImageFormat format);  // ".png", ".jpg"

// Decodes encoded image bytes as PIL's Image.open(...).convert("RGB") would see them
// (imaging/codec.h): EXIF orientation ignored, grey / palette / 16-bit to 8 bits, alpha dropped.
// Returns BGR. Throws Error naming `path` when the bytes do not decode.
cv::Mat decode_bgr(const std::string& bytes, const std::string& path);

// Where the square of a width x height image comes from (see the header comment).
struct SquareGeometry {
  int resized_width = 0;  // after scaling the shorter side to `size`
  int resized_height = 0;
  int x0 = 0;  // top-left corner of the size x size crop in the resized image
  int y0 = 0;
};
SquareGeometry square_geometry(int width, int height, int size);

// The size x size square of a BGR image.
cv::Mat prepare_square(const cv::Mat& bgr, int size);

// The size x size square of a label map (nearest neighbour, so labels are never mixed).
LabelMap prepare_square_labels(const LabelMap& labels, int size);

// Encodes a BGR image (imaging/codec.h): PNG (lossless) with OpenCV's speed-tuned default (zlib
// level 1, RLE strategy, SUB filter only: about 3x faster than naming a level, which turns on
// libpng's adaptive filtering, for ~5% larger files), or JPEG (`jpeg_quality`, 4:2:0 as
// libjpeg's default). Deterministic: the same pixels give the same bytes.
std::string encode_image(const cv::Mat& bgr, ImageFormat format, int jpeg_quality);

}  // namespace repbench::synth
