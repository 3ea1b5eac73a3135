// Preprocess: how an image becomes the float tensor a model reads (resize rule, centre crop,
// interpolation, mean/std). Torch-free and OpenCV-free: the pixels are produced by
// models/image_loader.h; this header holds the description, its JSON form (the "preprocess"
// object of a model's metadata.json) and the geometry, which follows torchvision on PIL images:
//
//   resize  "none"        keep the image as decoded
//           "short_side"  shorter side to `size`, longer side int(size * long / short)
//                         (torchvision Resize(int)); no-op when the short side already equals size
//           "long_side"   longer side to `size`, shorter int(size * short / long) (MultiGrain's
//                         "largest" resize); may upsample
//           "square"      both sides to `size`, aspect not kept (torchvision Resize((s, s)))
//           "thumbnail"   PIL Image.thumbnail((size, size)): shrink so the longer side is `size`,
//                         keep the aspect (PIL's round_aspect), never upsample
//   crop    centre crop to crop x crop after the resize (0 = none). Offsets are
//           round((h - crop) / 2) with Python's round-half-even, as torchvision's CenterCrop; an
//           image smaller than the crop is padded with black, left/top by (crop - w) // 2.
//   interpolation  bilinear | bicubic | lanczos | area: PIL's filters (antialiased when
//           downscaling, bit-exact with PIL on 8-bit RGB); "area" is PIL's BOX filter.
//   mean/std  per RGB channel on 0..1 values: x = (pixel / 255 - mean[c]) / std[c].
#pragma once

#include <array>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace repbench::models {

enum class ResizeMode { kNone, kShortSide, kLongSide, kSquare, kThumbnail };
enum class Interpolation { kBilinear, kBicubic, kLanczos, kArea };

const char* to_string(ResizeMode mode);
const char* to_string(Interpolation interpolation);

struct Preprocess {
  ResizeMode resize = ResizeMode::kShortSide;  // how the decoded image is resized
  int size = 256;                              // N of the resize rule (0 when resize is none)
  int crop = 224;                              // centre crop side after the resize, 0 = none
  Interpolation interpolation = Interpolation::kBilinear;  // filter of the resize
  // RGB, on 0..1 values (ImageNet). Kept as written (double, so that JSON and cache keys show
  // 0.485, not 0.48500001); applied in float32 like torchvision's Normalize.
  std::array<double, 3> mean = {0.485, 0.456, 0.406};
  std::array<double, 3> std = {0.229, 0.224, 0.225};  // RGB, each > 0

  // Throws Error (prefixed with `where`) when a field is out of range.
  void Check(const std::string& where = "preprocess") const;

  // Size (width, height) after the resize rule for a decoded image of w x h pixels.
  std::pair<int, int> resized_size(int w, int h) const;
  // Size (width, height) of the model input for a decoded image of w x h pixels.
  std::pair<int, int> output_size(int w, int h) const;
  // Whether every image gives the same output size (a crop, or a square resize).
  bool fixed_output_size() const;
  // A representative model input (width, height): the fixed size, or size x size otherwise.
  std::pair<int, int> nominal_input_size() const;

  // The metadata.json form: {"resize", "size", "crop", "interpolation", "mean", "std"}.
  nlohmann::json to_json() const;
  // Parses and validates; every key is optional (defaults above) but unknown keys are errors.
  // `where` names the source in messages (e.g. "model.pt: metadata.json: preprocess").
  static Preprocess from_json(const nlohmann::json& j, const std::string& where);
  // Applies a partial JSON object (e.g. from command-line flags) on top of this one.
  Preprocess with_overrides(const nlohmann::json& overrides, const std::string& where) const;

  // One line that identifies the preprocessing in cache keys, e.g.
  // "resize=short_side:256;crop=224;interp=bilinear;mean=0.485,0.456,0.406;std=0.229,0.224,0.225".
  std::string canonical() const;

  bool operator==(const Preprocess& o) const { return canonical() == o.canonical(); }
  bool operator!=(const Preprocess& o) const { return !(*this == o); }
};

// Centre-crop offset along one axis of length `length` for a crop of `crop` pixels, as
// torchvision's CenterCrop: round-half-even((length - crop) / 2), or -((crop - length) // 2)
// (negative: black padding) when the image is smaller than the crop.
int center_crop_offset(int length, int crop);

}  // namespace repbench::models
