// The augmentations of DCR's segmix_hard (docs/PROTOCOLS.md §1.5) with torchvision's tensor
// semantics.
//
// Images here are float BGR in [0, 1]: cv::Mat CV_32FC3, [height, width, 3] interleaved with
// channel 0 = blue, 2 = red (torchvision works on RGB; the formulas below name channels by
// colour, so the order does not change results).
//
// Photometric, in this order (the order segmix_hard lists them), with these parameters:
//   ColorJitter(brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1), applied with p = 0.8:
//     factors b, c ~ U(0.6, 1.4), s ~ U(0.8, 1.2), h ~ U(-0.1, 0.1), applied in a random order
//     (torchvision's randperm(4)); brightness x' = clamp(b x); contrast
//     x' = clamp(c x + (1 - c) mean(gray(x))); saturation x' = clamp(s x + (1 - s) gray(x));
//     hue: RGB -> HSV, H' = (H + h) mod 1, HSV -> RGB (torchvision's _rgb2hsv / _hsv2rgb);
//     gray = 0.2989 R + 0.587 G + 0.114 B.
//   GaussianBlur(kernel 5, sigma ~ U(0.1, 4)), always: the 1-D kernel exp(-x^2 / (2 sigma^2)) at
//     x = -2..2, normalised, applied along rows and columns with reflect padding (torch "reflect"
//     = OpenCV BORDER_REFLECT_101).
//   RandomGrayscale(p = 0.3): every channel = gray.
//   RandomSolarize(threshold 0.9, p = 0.5): x >= 0.9 -> 1 - x.
//   RandomAutocontrast(p = 0.3): per channel (x - min) / (max - min), clamped; unchanged channel
//     when max == min.
// Geometric (image and label map together): horizontal flip p = 0.5, vertical flip p = 0.2; for
// a foreground object also scale x U(0.75, 1.0) (image bilinear without antialiasing, labels
// nearest, as torch's interpolate) and rotate by U(-10, 10) degrees counter-clockwise
// (torchvision rotate with expand=True, nearest, fill 0; see rotation_map()).
//
// Draw order (core/rng.h): jitter u < 0.8, then if applied permutation(4), b, c, s, h; sigma;
// grayscale u < 0.3; solarize u < 0.5; autocontrast u < 0.3; (flips in segmix.h).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/rng.h"

namespace repbench::synth {

// The §1.5 parameters.
struct PhotometricConfig {
  double jitter_p = 0.8;
  double brightness = 0.4, contrast = 0.4, saturation = 0.2, hue = 0.1;
  int blur_kernel = 5;
  double blur_sigma_min = 0.1, blur_sigma_max = 4.0;
  double grayscale_p = 0.3;
  double solarize_threshold = 0.9, solarize_p = 0.5;
  double autocontrast_p = 0.3;
};

// One draw of the photometric augmentation.
struct PhotometricParams {
  bool jitter = false;
  std::array<int, 4> order = {0, 1, 2, 3};  // 0 brightness, 1 contrast, 2 saturation, 3 hue
  double brightness = 1, contrast = 1, saturation = 1, hue = 0;
  double blur_sigma = 0;  // 0 = no blur
  bool grayscale = false;
  bool solarize = false;
  bool autocontrast = false;

  nlohmann::json to_json() const;
  static PhotometricParams from_json(const nlohmann::json& j);
};

PhotometricParams draw_photometric(Rng& rng, const PhotometricConfig& config = {});

// In place, on a CV_32FC3 image; the config supplies the solarize threshold and blur kernel.
void apply_photometric(cv::Mat& image, const PhotometricParams& p,
                       const PhotometricConfig& config = {});

// The single operations (CV_32FC3 in [0, 1], in place).
void adjust_brightness(cv::Mat& image, double factor);
void adjust_contrast(cv::Mat& image, double factor);
void adjust_saturation(cv::Mat& image, double factor);
void adjust_hue(cv::Mat& image, double shift);
void gaussian_blur(cv::Mat& image, int kernel, double sigma);
void to_grayscale(cv::Mat& image);
void solarize(cv::Mat& image, double threshold);
void autocontrast(cv::Mat& image);

// Where each pixel of an image rotated as torchvision.transforms.functional.rotate(img, angle,
// expand=True, interpolation=NEAREST, fill=0) comes from. The output is width x height (the
// input's corners rotated about its centre, bounding box rounded as torchvision's
// _compute_affine_output_size); output pixel (x, y) samples the input at
//   (cos a * X + sin a * Y + (w - 1) / 2, -sin a * X + cos a * Y + (h - 1) / 2),
//   X = x - (W - 1) / 2, Y = y - (H - 1) / 2, a = -angle in radians,
// rounded half to even (std::nearbyint, as grid_sample's nearest mode), and is 0 outside.
// source: [height, width] row-major, input index y * w + x, or -1 for fill.
struct RotationMap {
  int width = 0;
  int height = 0;
  std::vector<int32_t> source;
};
RotationMap rotation_map(int width, int height, double angle_degrees);

// Applies a rotation map to an image of any type with the map's input size (fill = zeros).
cv::Mat apply_rotation(const cv::Mat& image, const RotationMap& map);

}  // namespace repbench::synth
