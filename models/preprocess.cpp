#include "models/preprocess.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/error.h"

namespace repbench::models {

namespace {

constexpr int kMaxSide = 16384;  // larger sizes are typos (and would need gigabytes per image)

ResizeMode parse_resize(const std::string& s, const std::string& where) {
  if (s == "none") return ResizeMode::kNone;
  if (s == "short_side") return ResizeMode::kShortSide;
  if (s == "long_side") return ResizeMode::kLongSide;
  if (s == "square") return ResizeMode::kSquare;
  if (s == "thumbnail") return ResizeMode::kThumbnail;
  fail("{}: resize \"{}\" is not one of none, short_side, long_side, square, thumbnail", where, s);
}

Interpolation parse_interpolation(const std::string& s, const std::string& where) {
  if (s == "bilinear") return Interpolation::kBilinear;
  if (s == "bicubic") return Interpolation::kBicubic;
  if (s == "lanczos") return Interpolation::kLanczos;
  if (s == "area") return Interpolation::kArea;
  fail("{}: interpolation \"{}\" is not one of bilinear, bicubic, lanczos, area", where, s);
}

int get_int(const nlohmann::json& v, const std::string& where, const char* key) {
  if (!v.is_number_integer()) fail("{}: \"{}\" must be an integer, found {}", where, key, v.dump());
  const int64_t x = v.get<int64_t>();
  if (x < 0 || x > kMaxSide) fail("{}: \"{}\" = {} is outside 0..{}", where, key, x, kMaxSide);
  return static_cast<int>(x);
}

std::array<double, 3> get_rgb(const nlohmann::json& v, const std::string& where, const char* key) {
  if (v.is_number()) {  // one value for the three channels (e.g. mean = std = 0.5)
    const double x = v.get<double>();
    return {x, x, x};
  }
  if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number())
    fail("{}: \"{}\" must be a number or an array of 3 numbers (R, G, B), found {}", where, key,
         v.dump());
  return {v[0].get<double>(), v[1].get<double>(), v[2].get<double>()};
}

// Python's round() on a double: half to even (std::nearbyint in the default rounding mode).
int round_half_even(double x) {
  return static_cast<int>(std::nearbyint(x));
}

}  // namespace

const char* to_string(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::kNone:
      return "none";
    case ResizeMode::kShortSide:
      return "short_side";
    case ResizeMode::kLongSide:
      return "long_side";
    case ResizeMode::kSquare:
      return "square";
    case ResizeMode::kThumbnail:
      return "thumbnail";
  }
  return "?";
}

const char* to_string(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::kBilinear:
      return "bilinear";
    case Interpolation::kBicubic:
      return "bicubic";
    case Interpolation::kLanczos:
      return "lanczos";
    case Interpolation::kArea:
      return "area";
  }
  return "?";
}

void Preprocess::Check(const std::string& where) const {
  if (resize == ResizeMode::kNone) {
    if (size != 0) fail("{}: resize \"none\" takes no size, found size {}", where, size);
  } else if (size < 1 || size > kMaxSide) {
    fail("{}: resize \"{}\" needs a size in 1..{}, found {}", where, to_string(resize), kMaxSide,
         size);
  }
  if (crop < 0 || crop > kMaxSide) fail("{}: crop {} is outside 0..{}", where, crop, kMaxSide);
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(mean[c])) fail("{}: mean[{}] is not finite", where, c);
    if (!(std[c] > 0) || !std::isfinite(std[c]))
      fail("{}: std[{}] must be positive and finite, found {}", where, c, std[c]);
  }
}

std::pair<int, int> Preprocess::resized_size(int w, int h) const {
  switch (resize) {
    case ResizeMode::kNone:
      return {w, h};
    case ResizeMode::kSquare:
      return {size, size};
    case ResizeMode::kShortSide:
    case ResizeMode::kLongSide: {
      // torchvision: new_long = int(requested * long / short), in double precision.
      const bool w_is_short = w <= h;
      const bool fix_w = (resize == ResizeMode::kShortSide) == w_is_short;
      if (fix_w) {
        if (w == size) return {w, h};
        return {size, std::max(1, static_cast<int>(static_cast<double>(int64_t{size} * h) / w))};
      }
      if (h == size) return {w, h};
      return {std::max(1, static_cast<int>(static_cast<double>(int64_t{size} * w) / h)), size};
    }
    case ResizeMode::kThumbnail: {
      // PIL Image.thumbnail((size, size)): never upsample; keep the aspect with round_aspect,
      // which picks floor or ceil, whichever gives the closer aspect (floor on ties).
      if (size >= w && size >= h) return {w, h};
      const double aspect = static_cast<double>(w) / h;
      int x = size, y = size;
      if (1.0 >= aspect) {
        const double v = y * aspect;
        const int lo = static_cast<int>(std::floor(v)), hi = static_cast<int>(std::ceil(v));
        const double klo = std::abs(aspect - static_cast<double>(lo) / y);
        const double khi = std::abs(aspect - static_cast<double>(hi) / y);
        x = std::max(khi < klo ? hi : lo, 1);
      } else {
        const double v = x / aspect;
        const int lo = static_cast<int>(std::floor(v)), hi = static_cast<int>(std::ceil(v));
        auto key = [&](int n) {
          return n == 0 ? 0.0 : std::abs(aspect - static_cast<double>(x) / n);
        };
        y = std::max(key(hi) < key(lo) ? hi : lo, 1);
      }
      return {x, y};
    }
  }
  return {w, h};
}

std::pair<int, int> Preprocess::output_size(int w, int h) const {
  if (crop > 0) return {crop, crop};
  return resized_size(w, h);
}

bool Preprocess::fixed_output_size() const {
  return crop > 0 || resize == ResizeMode::kSquare;
}

std::pair<int, int> Preprocess::nominal_input_size() const {
  if (crop > 0) return {crop, crop};
  if (resize == ResizeMode::kNone) return {224, 224};
  return {size, size};
}

nlohmann::json Preprocess::to_json() const {
  return nlohmann::json{{"resize", to_string(resize)},
                        {"size", size},
                        {"crop", crop},
                        {"interpolation", to_string(interpolation)},
                        {"mean", {mean[0], mean[1], mean[2]}},
                        {"std", {std[0], std[1], std[2]}}};
}

Preprocess Preprocess::from_json(const nlohmann::json& j, const std::string& where) {
  return Preprocess().with_overrides(j, where);
}

Preprocess Preprocess::with_overrides(const nlohmann::json& j, const std::string& where) const {
  if (j.is_null()) return *this;
  if (!j.is_object()) fail("{}: expected a JSON object, found {}", where, j.dump());
  Preprocess p = *this;
  static const std::set<std::string> kKeys = {"resize",        "size", "crop",
                                              "interpolation", "mean", "std"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kKeys.count(it.key()))
      fail("{}: unknown key \"{}\" (known: resize, size, crop, interpolation, mean, std)", where,
           it.key());
  }
  if (j.contains("resize")) {
    if (!j["resize"].is_string()) fail("{}: \"resize\" must be a string", where);
    p.resize = parse_resize(j["resize"].get<std::string>(), where);
    // Switching to "none" drops the size unless one is given (it would be rejected otherwise).
    if (p.resize == ResizeMode::kNone && !j.contains("size")) p.size = 0;
  }
  if (j.contains("size")) p.size = get_int(j["size"], where, "size");
  if (j.contains("crop")) p.crop = get_int(j["crop"], where, "crop");
  if (j.contains("interpolation")) {
    if (!j["interpolation"].is_string()) fail("{}: \"interpolation\" must be a string", where);
    p.interpolation = parse_interpolation(j["interpolation"].get<std::string>(), where);
  }
  if (j.contains("mean")) p.mean = get_rgb(j["mean"], where, "mean");
  if (j.contains("std")) p.std = get_rgb(j["std"], where, "std");
  p.Check(where);
  return p;
}

std::string Preprocess::canonical() const {
  std::string s = fmt::format("resize={}", to_string(resize));
  if (resize != ResizeMode::kNone) s += fmt::format(":{}", size);
  s += fmt::format(";crop={};interp={};mean={},{},{};std={},{},{}", crop, to_string(interpolation),
                   mean[0], mean[1], mean[2], std[0], std[1], std[2]);
  return s;
}

int center_crop_offset(int length, int crop) {
  if (length < crop) return -((crop - length) / 2);
  return round_half_even((length - crop) / 2.0);
}

}  // namespace repbench::models
