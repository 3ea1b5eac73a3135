#include "imaging/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace repbench::imaging {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's PRECISION_BITS

double box_filter(double x) {
  return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}

double bilinear_filter(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

double lanczos_filter(double x) {
  return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
}

struct Filter {
  double (*f)(double);
  double support;
};

Filter get_filter(ResampleFilter filter) {
  switch (filter) {
    case ResampleFilter::kBox:
      return {box_filter, 0.5};
    case ResampleFilter::kBilinear:
      return {bilinear_filter, 1.0};
    case ResampleFilter::kBicubic:
      return {bicubic_filter, 2.0};
    case ResampleFilter::kLanczos:
      return {lanczos_filter, 3.0};
  }
  return {bilinear_filter, 1.0};
}

// Fixed-point coefficients of one axis: for output index i, taps bounds[2i] .. + bounds[2i+1].
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // [out, 2]: first input index, tap count
  std::vector<int32_t> k;   // [out, ksize]
};

// PIL's precompute_coeffs + normalize_coeffs_8bpc for the full box [0, in_size).
Coeffs precompute(int in_size, int out_size, const Filter& filter) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = filter.support * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(2 * static_cast<size_t>(out_size));
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = filter.f((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[2 * xx] = xmin;
    c.bounds[2 * xx + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  const int32_t x = v >> kPrecisionBits;  // arithmetic shift: floor, as PIL's lookup table
  return static_cast<uint8_t>(x < 0 ? 0 : (x > 255 ? 255 : x));
}

}  // namespace

void resample_pil(const uint8_t* src, int w, int h, int channels, size_t src_stride, uint8_t* dst,
                  int out_w, int out_h, ResampleFilter filter) {
  const Filter f = get_filter(filter);
  const bool need_h = out_w != w;
  const bool need_v = out_h != h;
  const size_t out_stride = static_cast<size_t>(out_w) * channels;
  if (!need_h && !need_v) {
    for (int y = 0; y < h; ++y) std::memcpy(dst + y * out_stride, src + y * src_stride, out_stride);
    return;
  }
  Coeffs cv = precompute(h, out_h, f);
  // Rows of the source that the vertical pass reads; the horizontal pass only computes those.
  const int y_first = cv.bounds[0];
  const int y_last = cv.bounds[2 * (out_h - 1)] + cv.bounds[2 * (out_h - 1) + 1];

  std::vector<uint8_t> tmp;
  const uint8_t* vin = src;  // input of the vertical pass, rows from y_first
  size_t vin_stride = src_stride;
  int vin_offset = 0;  // row of `vin` that holds source row y_first
  if (need_h) {
    const Coeffs ch = precompute(w, out_w, f);
    const int rows = need_v ? y_last - y_first : h;
    const int first = need_v ? y_first : 0;
    uint8_t* hout = dst;
    if (need_v) {
      tmp.resize(static_cast<size_t>(rows) * out_stride);
      hout = tmp.data();
    }
    for (int y = 0; y < rows; ++y) {
      const uint8_t* row = src + static_cast<size_t>(y + first) * src_stride;
      uint8_t* orow = hout + static_cast<size_t>(y) * out_stride;
      for (int xx = 0; xx < out_w; ++xx) {
        const int xmin = ch.bounds[2 * xx], n = ch.bounds[2 * xx + 1];
        const int32_t* k = &ch.k[static_cast<size_t>(xx) * ch.ksize];
        for (int c = 0; c < channels; ++c) {
          int32_t ss = 1 << (kPrecisionBits - 1);
          const uint8_t* p = row + static_cast<size_t>(xmin) * channels + c;
          for (int x = 0; x < n; ++x) ss += p[static_cast<size_t>(x) * channels] * k[x];
          orow[static_cast<size_t>(xx) * channels + c] = clip8(ss);
        }
      }
    }
    if (!need_v) return;
    vin = tmp.data();
    vin_stride = out_stride;
    vin_offset = -y_first;
  }
  const int width = need_h ? out_w : w;
  const size_t row_bytes = static_cast<size_t>(width) * channels;
  std::vector<int32_t> acc(row_bytes);
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = cv.bounds[2 * yy], n = cv.bounds[2 * yy + 1];
    const int32_t* k = &cv.k[static_cast<size_t>(yy) * cv.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < n; ++y) {
      const uint8_t* row = vin + static_cast<size_t>(ymin + y + vin_offset) * vin_stride;
      const int32_t ky = k[y];
      for (size_t i = 0; i < row_bytes; ++i) acc[i] += row[i] * ky;
    }
    uint8_t* orow = dst + static_cast<size_t>(yy) * out_stride;
    for (size_t i = 0; i < row_bytes; ++i) orow[i] = clip8(acc[i]);
  }
}

}  // namespace repbench::imaging
