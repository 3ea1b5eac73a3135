#include "models/image_loader.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <opencv2/core.hpp>

#include "core/error.h"
#include "imaging/codec.h"
#include "imaging/jpeg_size.h"
#include "imaging/resample.h"

namespace repbench::models {

namespace {

imaging::ResampleFilter to_filter(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::kBilinear:
      return imaging::ResampleFilter::kBilinear;
    case Interpolation::kBicubic:
      return imaging::ResampleFilter::kBicubic;
    case Interpolation::kLanczos:
      return imaging::ResampleFilter::kLanczos;
    case Interpolation::kArea:
      return imaging::ResampleFilter::kBox;
  }
  return imaging::ResampleFilter::kBilinear;
}

}  // namespace

const char* decoding_name(const LoadOptions& options) {
  return options.reduced_decoding ? "reduced-jpeg" : "full";
}

imaging::RgbImage resize_rgb(const imaging::RgbImage& image, int width, int height,
                             Interpolation interpolation) {
  if (width == image.width && height == image.height) return image;
  imaging::RgbImage out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(width) * height * 3);
  imaging::resample_pil(image.pixels.data(), image.width, image.height, 3,
                     static_cast<size_t>(image.width) * 3, out.pixels.data(), width, height,
                     to_filter(interpolation));
  return out;
}

Image load_image(const std::string& path, const std::optional<CropBox>& box, const Preprocess& pre,
                 const LoadOptions& options, LoadTiming* timing) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const std::string bytes = imaging::read_image_bytes(path);

  // Reduced decoding only when asked, where the target is small enough (PIL draft's rule), never
  // with a box.
  int reduce = 1;
  std::optional<std::pair<int, int>> full_size;
  if (options.reduced_decoding && !box && pre.resize != ResizeMode::kNone) {
    full_size = imaging::jpeg_size(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (full_size) {
      const auto [tw, th] = pre.resized_size(full_size->first, full_size->second);
      const int scale = std::min(full_size->first / (2 * tw), full_size->second / (2 * th));
      reduce = scale >= 8 ? 8 : scale >= 4 ? 4 : scale >= 2 ? 2 : 1;
    }
  }
  imaging::DecodeOptions decode;
  decode.reduce = reduce;  // EXIF orientation ignored, as PIL
  const cv::Mat bgr = imaging::decode(bytes, path, decode);
  const auto t1 = Clock::now();

  PixelRect r{0, 0, bgr.cols, bgr.rows};
  if (box) r = revisitop_crop_rect(*box, bgr.cols, bgr.rows, path);
  // Geometry from the full-resolution size, so that reduced decoding changes no size or offset.
  const int w0 = reduce > 1 ? full_size->first : r.width();
  const int h0 = reduce > 1 ? full_size->second : r.height();
  const auto [rw, rh] = pre.resized_size(w0, h0);

  imaging::RgbImage rgb = imaging::to_rgb(bgr, cv::Rect(r.x0, r.y0, r.width(), r.height()));
  if (rgb.width != rw || rgb.height != rh) rgb = resize_rgb(rgb, rw, rh, pre.interpolation);

  const auto [ow, oh] = pre.output_size(w0, h0);
  const int ox = pre.crop > 0 ? center_crop_offset(rw, pre.crop) : 0;
  const int oy = pre.crop > 0 ? center_crop_offset(rh, pre.crop) : 0;

  Image out;
  out.width = ow;
  out.height = oh;
  out.data.resize(static_cast<size_t>(3) * ow * oh);
  const float mean[3] = {static_cast<float>(pre.mean[0]), static_cast<float>(pre.mean[1]),
                         static_cast<float>(pre.mean[2])};
  const float stdev[3] = {static_cast<float>(pre.std[0]), static_cast<float>(pre.std[1]),
                          static_cast<float>(pre.std[2])};
  // Pixels outside the resized image (crop larger than the image) are black, as torchvision's pad.
  const size_t plane = static_cast<size_t>(ow) * oh;
  for (int y = 0; y < oh; ++y) {
    const int sy = y + oy;
    for (int x = 0; x < ow; ++x) {
      const int sx = x + ox;
      const bool inside = sx >= 0 && sy >= 0 && sx < rgb.width && sy < rgb.height;
      const uint8_t* px =
          inside ? &rgb.pixels[(static_cast<size_t>(sy) * rgb.width + sx) * 3] : nullptr;
      for (int c = 0; c < 3; ++c) {
        // Same arithmetic as torchvision: (v / 255 - mean) / std.
        const float v = inside ? px[c] / 255.0f : 0.0f;
        out.data[c * plane + static_cast<size_t>(y) * ow + x] = (v - mean[c]) / stdev[c];
      }
    }
  }
  if (timing) {
    timing->decode_seconds += std::chrono::duration<double>(t1 - t0).count();
    timing->preprocess_seconds += std::chrono::duration<double>(Clock::now() - t1).count();
  }
  return out;
}

}  // namespace repbench::models
