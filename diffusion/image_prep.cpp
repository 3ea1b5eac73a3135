#include "diffusion/image_prep.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

#include <opencv2/core.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "imaging/codec.h"
#include "imaging/resample.h"

namespace repbench::diffusion {

namespace {

using imaging::ResampleFilter;

int round_half_even(double x) {
  const int saved = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(x);
  std::fesetround(saved);
  return static_cast<int>(r);
}

// An interleaved 8-bit image of `channels` bytes per pixel.
struct Plane {
  int w = 0, h = 0, channels = 0;
  std::vector<uint8_t> px;
};

Plane resize(const Plane& in, int w, int h, ResampleFilter filter) {
  if (w == in.w && h == in.h) return in;
  Plane out{w, h, in.channels, std::vector<uint8_t>(static_cast<size_t>(w) * h * in.channels)};
  imaging::resample_pil(in.px.data(), in.w, in.h, in.channels,
                             static_cast<size_t>(in.w) * in.channels, out.px.data(), w, h, filter);
  return out;
}

Plane center_crop_plane(Plane p, int size) {
  if (size < 1) fail("cannot resize an image to side {}", size);
  if (p.w < 1 || p.h < 1) fail("cannot resize an empty image");
  while (std::min(p.w, p.h) >= 2 * size) p = resize(p, p.w / 2, p.h / 2, ResampleFilter::kBox);
  const double scale = static_cast<double>(size) / std::min(p.w, p.h);
  p = resize(p, round_half_even(p.w * scale), round_half_even(p.h * scale),
             ResampleFilter::kBicubic);
  const int x0 = (p.w - size) / 2, y0 = (p.h - size) / 2;
  if (x0 == 0 && y0 == 0 && p.w == size && p.h == size) return p;
  Plane out{size, size, p.channels,
            std::vector<uint8_t>(static_cast<size_t>(size) * size * p.channels)};
  const size_t row = static_cast<size_t>(size) * p.channels;
  for (int y = 0; y < size; ++y)
    std::copy_n(p.px.data() + (static_cast<size_t>(y0 + y) * p.w + x0) * p.channels, row,
                out.px.data() + static_cast<size_t>(y) * row);
  return out;
}

}  // namespace

imaging::RgbImage center_crop_arr(const imaging::RgbImage& image, int size) {
  Plane p = center_crop_plane(Plane{image.width, image.height, 3, image.pixels}, size);
  imaging::RgbImage out;
  out.width = p.w;
  out.height = p.h;
  out.pixels = std::move(p.px);
  return out;
}

std::vector<uint8_t> center_crop_mask(const std::vector<uint8_t>& mask, int width, int height,
                                      int size) {
  REPBENCH_ASSERT(mask.size() == static_cast<size_t>(width) * height);
  Plane p = center_crop_plane(Plane{width, height, 1, mask}, size);
  for (uint8_t& v : p.px) v = v >= 128 ? 255 : 0;
  return std::move(p.px);
}

std::vector<uint8_t> to_grey(const imaging::RgbImage& image) {
  const size_t n = static_cast<size_t>(image.width) * image.height;
  std::vector<uint8_t> out(n);
  const uint8_t* p = image.pixels.data();
  for (size_t i = 0; i < n; ++i, p += 3)
    out[i] = static_cast<uint8_t>((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
  return out;
}

void append_image(const imaging::RgbImage& image, int channels, Images& images) {
  REPBENCH_ASSERT(channels == 1 || channels == 3);
  if (images.n == 0) {
    images.c = channels;
    images.h = image.height;
    images.w = image.width;
  }
  REPBENCH_ASSERT(images.c == channels && images.h == image.height && images.w == image.width);
  const int64_t hw = images.h * images.w;
  const size_t base = images.data.size();
  images.data.resize(base + static_cast<size_t>(channels * hw));
  float* out = images.data.data() + base;
  if (channels == 1) {
    const std::vector<uint8_t> g = to_grey(image);
    for (int64_t i = 0; i < hw; ++i) out[i] = static_cast<float>(g[i]) / 127.5f - 1.0f;
  } else {
    for (int64_t i = 0; i < hw; ++i)
      for (int c = 0; c < 3; ++c)
        out[c * hw + i] = static_cast<float>(image.pixels[i * 3 + c]) / 127.5f - 1.0f;
  }
  ++images.n;
}

imaging::RgbImage to_rgb(const Images& images, int64_t i) {
  REPBENCH_ASSERT(i >= 0 && i < images.n && (images.c == 1 || images.c == 3));
  imaging::RgbImage out;
  out.width = static_cast<int>(images.w);
  out.height = static_cast<int>(images.h);
  const int64_t hw = images.h * images.w;
  out.pixels.resize(static_cast<size_t>(hw) * 3);
  const float* src = images.image(i);
  auto u8 = [](float x) {
    const float v = std::clamp((x + 1.0f) * 127.5f, 0.0f, 255.0f);
    return static_cast<uint8_t>(v);  // truncation, as torch's .to(uint8) in RePaint's toU8
  };
  for (int64_t p = 0; p < hw; ++p)
    for (int c = 0; c < 3; ++c) out.pixels[p * 3 + c] = u8(src[(images.c == 1 ? 0 : c) * hw + p]);
  return out;
}

std::vector<uint8_t> read_mask_file(const std::string& path, int* width, int* height) {
  const imaging::RgbImage rgb = imaging::decode_image(path);
  *width = rgb.width;
  *height = rgb.height;
  return to_grey(rgb);
}

MaskCounts count_mask(const uint8_t* mask, int64_t pixels) {
  MaskCounts c;
  for (int64_t i = 0; i < pixels; ++i) (mask[i] >= 128 ? c.keep : c.generate) += 1;
  return c;
}

namespace {

void write_mat_png(const std::string& path, const cv::Mat& m) {
  // Fixed compression settings so that the same pixels always give the same bytes.
  write_file_atomic(path, imaging::encode_png(m, 6));
}

}  // namespace

void write_png(const std::string& path, const imaging::RgbImage& image) {
  cv::Mat bgr(image.height, image.width, CV_8UC3);
  const size_t n = static_cast<size_t>(image.width) * image.height;
  uint8_t* d = bgr.ptr<uint8_t>();
  for (size_t i = 0; i < n; ++i) {
    d[i * 3] = image.pixels[i * 3 + 2];
    d[i * 3 + 1] = image.pixels[i * 3 + 1];
    d[i * 3 + 2] = image.pixels[i * 3];
  }
  write_mat_png(path, bgr);
}

void write_png_grey(const std::string& path, const uint8_t* pixels, int width, int height) {
  cv::Mat m(height, width, CV_8UC1, const_cast<uint8_t*>(pixels));
  write_mat_png(path, m);
}

}  // namespace repbench::diffusion
