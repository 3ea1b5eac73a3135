// Image loading for models: decode (imaging/codec.h, the one place where image files are
// decoded), crop a query to its box, resize, centre-crop and normalise (models/preprocess.h)
// into the float tensor a model reads.
//
// Decoding follows PIL, which the reference Python code uses (Image.open(...).convert("RGB")):
//   - EXIF orientation is ignored (PIL does not rotate, and gnd boxes are in the stored frame);
//   - grey, palette and 16-bit images become 8-bit RGB; an alpha channel is dropped.
// Decoding is at full resolution, as torchvision's loader does (it never calls PIL's draft()),
// so descriptors equal the reference pipeline's. Reduced-size decoding is an explicit speed option
// (LoadOptions::reduced_decoding, `--fast-decode` on the verbs that compute descriptors, the suite
// key `fast_decode: true`): a JPEG whose resize target is at least twice smaller on both sides is
// decoded at 1/2, 1/4 or 1/8 scale by libjpeg's DCT scaling (cv::IMREAD_REDUCED_COLOR_k), with
// the scale PIL's draft() would choose for the same target (k = largest of 8, 4, 2 with
// k <= min(W // (2 * tw), H // (2 * th))); the geometry (target size, crop offsets) is computed
// from the full-resolution size, so only pixel values differ from a full decode. It is never used
// when a crop box is given, so that box coordinates stay exact. Its bound, measured on JPEGs of
// 1282x1110 (opencv-doc's aloeL/aloeR, decoded at 1/2) and mosaics of them of 2564x2220 (1/4)
// and 5128x4440 (1/8) with random-weight torchvision ResNets (scripts/export_models.py):
// L2-normalised descriptors differ from the reference pipeline's by at most 1e-3 in any component
// (measured: 6.1e-4 with ResNet-18, 1.1e-4 with ResNet-50; cosine >= 0.999996), where full
// decoding agrees to 1e-6 (measured: 3.4e-8). tests/test_models.cpp checks both. The cache key,
// sidecars, shard files, records and scan records name the mode (decoding_name()).
// Query crop boxes follow revisitop's MATLAB crop_qim.m, the reference of the protocol:
//   bbx = uint32(bbx + 1);  im = im(bbx(2):min(bbx(4), H), bbx(1):min(bbx(3), W), :)
// i.e. with the 0-based box (x1, y1, x2, y2): round half away from zero (MATLAB's uint32),
// 1-based inclusive ranges, x2/y2 clamped to the image. In 0-based half-open pixels:
//   columns [round(x1 + 1) - 1, min(round(x2 + 1), W)),  rows [round(y1 + 1) - 1, min(round(y2 +
//   1), H))
// so integer boxes keep column x2 and row y2 (one more than PIL's crop(bbx)). A start below 0
// (which MATLAB would reject) is clamped to 0; an empty box is an error naming the image.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "datasets/query_crop.h"
#include "imaging/rgb_image.h"
#include "models/preprocess.h"

namespace repbench::models {

// The crop rule lives in datasets/query_crop.h (the failure pages draw it too).
using datasets::CropBox;
using datasets::PixelRect;
using datasets::revisitop_crop_rect;

// A preprocessed image. data: [3, height, width] RGB planes, normalised with the preprocessing's
// mean/std, data[(c * height + y) * width + x].
struct Image {
  int width = 0;
  int height = 0;
  std::vector<float> data;
};

struct LoadOptions {
  bool reduced_decoding = false;  // allow libjpeg's 1/2, 1/4, 1/8 decoding (see above)
};

// How images are decoded under `options`, as cache keys and records name it: "full" or
// "reduced-jpeg".
const char* decoding_name(const LoadOptions& options);

// Where load_image's time went (added to): reading and decoding the file, then the rest (crop,
// resize, centre-crop, normalisation).
struct LoadTiming {
  double decode_seconds = 0;
  double preprocess_seconds = 0;
};

// Decodes, crops to `box`, resizes, centre-crops and normalises as `preprocess` says; adds its
// times to *timing when given.
Image load_image(const std::string& path, const std::optional<CropBox>& box,
                 const Preprocess& preprocess, const LoadOptions& options = {},
                 LoadTiming* timing = nullptr);

// Resizes an RGB image with PIL's resampling (bit-exact with PIL on 8-bit images).
imaging::RgbImage resize_rgb(const imaging::RgbImage& image, int width, int height,
                             Interpolation interpolation);

}  // namespace repbench::models
