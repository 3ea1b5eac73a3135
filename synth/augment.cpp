#include "synth/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace repbench::synth {

namespace {

// Channel order of the float images (OpenCV BGR).
constexpr int kB = 0, kG = 1, kR = 2;

float gray_of(const float* p) {
  return 0.2989f * p[kR] + 0.587f * p[kG] + 0.114f * p[kB];
}

float clamp01(float v) {
  return std::min(std::max(v, 0.f), 1.f);
}

template <typename F>
void for_each_pixel(cv::Mat& image, F f) {
  REPBENCH_ASSERT(image.type() == CV_32FC3);
  for (int y = 0; y < image.rows; ++y) {
    float* row = image.ptr<float>(y);
    for (int x = 0; x < image.cols; ++x) f(row + 3 * x);
  }
}

}  // namespace

nlohmann::json PhotometricParams::to_json() const {
  nlohmann::json j;
  j["color_jitter"] = jitter ? nlohmann::json{{"order", order},
                                              {"brightness", brightness},
                                              {"contrast", contrast},
                                              {"saturation", saturation},
                                              {"hue", hue}}
                             : nlohmann::json(nullptr);
  j["blur_sigma"] = blur_sigma;
  j["grayscale"] = grayscale;
  j["solarize"] = solarize;
  j["autocontrast"] = autocontrast;
  return j;
}

PhotometricParams PhotometricParams::from_json(const nlohmann::json& j) {
  PhotometricParams p;
  const nlohmann::json& cj = j.at("color_jitter");
  p.jitter = !cj.is_null();
  if (p.jitter) {
    p.order = cj.at("order").get<std::array<int, 4>>();
    p.brightness = cj.at("brightness").get<double>();
    p.contrast = cj.at("contrast").get<double>();
    p.saturation = cj.at("saturation").get<double>();
    p.hue = cj.at("hue").get<double>();
  }
  p.blur_sigma = j.at("blur_sigma").get<double>();
  p.grayscale = j.at("grayscale").get<bool>();
  p.solarize = j.at("solarize").get<bool>();
  p.autocontrast = j.at("autocontrast").get<bool>();
  return p;
}

PhotometricParams draw_photometric(Rng& rng, const PhotometricConfig& c) {
  PhotometricParams p;
  p.jitter = rng.uniform() < c.jitter_p;
  if (p.jitter) {
    const std::vector<int64_t> perm = rng.permutation(4);
    for (int i = 0; i < 4; ++i) p.order[i] = static_cast<int>(perm[i]);
    p.brightness = rng.uniform(1 - c.brightness, 1 + c.brightness);
    p.contrast = rng.uniform(1 - c.contrast, 1 + c.contrast);
    p.saturation = rng.uniform(1 - c.saturation, 1 + c.saturation);
    p.hue = rng.uniform(-c.hue, c.hue);
  }
  p.blur_sigma = rng.uniform(c.blur_sigma_min, c.blur_sigma_max);
  p.grayscale = rng.uniform() < c.grayscale_p;
  p.solarize = rng.uniform() < c.solarize_p;
  p.autocontrast = rng.uniform() < c.autocontrast_p;
  return p;
}

void adjust_brightness(cv::Mat& image, double factor) {
  const float f = static_cast<float>(factor);
  for_each_pixel(image, [&](float* p) {
    for (int c = 0; c < 3; ++c) p[c] = clamp01(f * p[c]);
  });
}

void adjust_contrast(cv::Mat& image, double factor) {
  double sum = 0;
  for_each_pixel(image, [&](float* p) { sum += gray_of(p); });
  const float mean = static_cast<float>(sum / (static_cast<double>(image.rows) * image.cols));
  const float f = static_cast<float>(factor);
  for_each_pixel(image, [&](float* p) {
    for (int c = 0; c < 3; ++c) p[c] = clamp01(f * p[c] + (1 - f) * mean);
  });
}

void adjust_saturation(cv::Mat& image, double factor) {
  const float f = static_cast<float>(factor);
  for_each_pixel(image, [&](float* p) {
    const float g = gray_of(p);
    for (int c = 0; c < 3; ++c) p[c] = clamp01(f * p[c] + (1 - f) * g);
  });
}

void adjust_hue(cv::Mat& image, double shift) {
  REPBENCH_ASSERT(image.type() == CV_32FC3);
  const float s_hue = static_cast<float>(shift);
  // One row at a time as separate channel planes, with selects instead of branches, so that the
  // compiler vectorises the loop; the arithmetic is torchvision's, operation for operation.
  std::vector<float> R(image.cols), G(image.cols), B(image.cols);
  for (int y = 0; y < image.rows; ++y) {
    float* row = image.ptr<float>(y);
    const int n = image.cols;
    for (int x = 0; x < n; ++x)
      B[x] = row[3 * x + kB], G[x] = row[3 * x + kG], R[x] = row[3 * x + kR];
    float* __restrict rp = R.data();
    float* __restrict gp = G.data();
    float* __restrict bp = B.data();
    for (int x = 0; x < n; ++x) {
      const float r = rp[x], g = gp[x], b = bp[x];
      // torchvision _rgb2hsv
      const float maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
      const bool eqc = maxc == minc;
      const float cr = maxc - minc;
      const float s = cr / (eqc ? 1.f : maxc);
      const float crd = eqc ? 1.f : cr;
      const float rc = (maxc - r) / crd, gc = (maxc - g) / crd, bc = (maxc - b) / crd;
      const float hr = bc - gc, hg = 2.f + rc - bc, hb = 4.f + gc - rc;
      float h = maxc == r ? hr : hb;
      h = (maxc != r) & (maxc == g) ? hg : h;
      // fmod(h / 6 + 1, 1), then (h + shift) mod 1 (Python's non-negative modulo), written as
      // subtractions: the operands stay within [-1, 2), where x - 1 and x + 1 are exact, so the
      // result equals fmod's.
      h = h / 6.f + 1.f;
      h = h >= 1.f ? h - 1.f : h;
      h += s_hue;
      h = h >= 1.f ? h - 1.f : h;
      h = h < 0.f ? h + 1.f : h;
      const float v = maxc;
      // torchvision _hsv2rgb; h * 6 is in [0, 6], so truncation is floor.
      const float h6 = h * 6.f;
      const int i6 = static_cast<int>(h6);
      const float f = h6 - static_cast<float>(i6);
      const int i = i6 == 6 ? 0 : i6;
      const float pp = clamp01(v * (1.f - s));
      const float q = clamp01(v * (1.f - s * f));
      const float t = clamp01(v * (1.f - s * (1.f - f)));
      // torchvision selects with a one-hot mask and a sum (einsum); the same here keeps the
      // loop free of branches (adding the zero terms is exact).
      const float m0 = i == 0, m1 = i == 1, m2 = i == 2, m3 = i == 3, m4 = i == 4, m5 = i == 5;
      rp[x] = v * m0 + q * m1 + pp * m2 + pp * m3 + t * m4 + v * m5;
      gp[x] = t * m0 + v * m1 + v * m2 + q * m3 + pp * m4 + pp * m5;
      bp[x] = pp * m0 + pp * m1 + t * m2 + v * m3 + v * m4 + q * m5;
    }
    for (int x = 0; x < n; ++x)
      row[3 * x + kB] = B[x], row[3 * x + kG] = G[x], row[3 * x + kR] = R[x];
  }
}

void gaussian_blur(cv::Mat& image, int kernel, double sigma) {
  REPBENCH_ASSERT(kernel % 2 == 1 && sigma > 0);
  cv::Mat k(kernel, 1, CV_32F);
  const double half = (kernel - 1) * 0.5;
  double sum = 0;
  for (int i = 0; i < kernel; ++i) {
    const double x = -half + i;
    const double v = std::exp(-0.5 * (x / sigma) * (x / sigma));
    k.at<float>(i) = static_cast<float>(v);
    sum += v;
  }
  k /= sum;
  cv::sepFilter2D(image, image, CV_32F, k, k, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
}

void to_grayscale(cv::Mat& image) {
  for_each_pixel(image, [](float* p) {
    const float g = gray_of(p);
    p[0] = p[1] = p[2] = g;
  });
}

void solarize(cv::Mat& image, double threshold) {
  const float t = static_cast<float>(threshold);
  for_each_pixel(image, [&](float* p) {
    for (int c = 0; c < 3; ++c)
      if (p[c] >= t) p[c] = 1.f - p[c];
  });
}

void autocontrast(cv::Mat& image) {
  float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
  for_each_pixel(image, [&](float* p) {
    for (int c = 0; c < 3; ++c) lo[c] = std::min(lo[c], p[c]), hi[c] = std::max(hi[c], p[c]);
  });
  float scale[3];
  for (int c = 0; c < 3; ++c) {
    if (hi[c] == lo[c]) {
      lo[c] = 0;
      scale[c] = 1;
    } else {
      scale[c] = 1.f / (hi[c] - lo[c]);
    }
  }
  for_each_pixel(image, [&](float* p) {
    for (int c = 0; c < 3; ++c) p[c] = clamp01((p[c] - lo[c]) * scale[c]);
  });
}

void apply_photometric(cv::Mat& image, const PhotometricParams& p, const PhotometricConfig& c) {
  if (p.jitter) {
    for (int op : p.order) {
      switch (op) {
        case 0:
          adjust_brightness(image, p.brightness);
          break;
        case 1:
          adjust_contrast(image, p.contrast);
          break;
        case 2:
          adjust_saturation(image, p.saturation);
          break;
        default:
          adjust_hue(image, p.hue);
          break;
      }
    }
  }
  if (p.blur_sigma > 0) gaussian_blur(image, c.blur_kernel, p.blur_sigma);
  if (p.grayscale) to_grayscale(image);
  if (p.solarize) solarize(image, c.solarize_threshold);
  if (p.autocontrast) autocontrast(image);
}

RotationMap rotation_map(int w, int h, double angle_degrees) {
  const double a = -angle_degrees * M_PI / 180.0;
  // torchvision computes the matrix in double, then uses it as float32.
  const float m0 = static_cast<float>(std::cos(a)), m1 = static_cast<float>(std::sin(a));
  const float m3 = static_cast<float>(-std::sin(a)), m4 = static_cast<float>(std::cos(a));
  // _compute_affine_output_size: corners about the centre, bounding box, 1e-4 tolerance.
  const float cx[4] = {-0.5f * w, -0.5f * w, 0.5f * w, 0.5f * w};
  const float cy[4] = {-0.5f * h, 0.5f * h, 0.5f * h, -0.5f * h};
  float min_x = 1e30f, max_x = -1e30f, min_y = 1e30f, max_y = -1e30f;
  for (int i = 0; i < 4; ++i) {
    const float nx = m0 * cx[i] + m1 * cy[i], ny = m3 * cx[i] + m4 * cy[i];
    min_x = std::min(min_x, nx), max_x = std::max(max_x, nx);
    min_y = std::min(min_y, ny), max_y = std::max(max_y, ny);
  }
  min_x += 0.5f * w, max_x += 0.5f * w, min_y += 0.5f * h, max_y += 0.5f * h;
  const float tol = 1e-4f;
  auto size_of = [&](float lo, float hi) {
    const float cmax = std::ceil(std::trunc(hi / tol) * tol);
    const float cmin = std::floor(std::trunc(lo / tol) * tol);
    return static_cast<int>(cmax - cmin);
  };
  RotationMap map;
  map.width = size_of(min_x, max_x);
  map.height = size_of(min_y, max_y);
  map.source.assign(static_cast<size_t>(map.width) * map.height, -1);
  const float ox = 0.5f * map.width - 0.5f, oy = 0.5f * map.height - 0.5f;
  const float ix0 = 0.5f * w - 0.5f, iy0 = 0.5f * h - 0.5f;
  // Round half to even as std::nearbyint does (default rounding mode), written as adding and
  // subtracting 1.5 * 2^23 so that the loop vectorises; exact for |v| < 2^22.
  const float magic = 12582912.0f;
  const float fw = static_cast<float>(w), fh = static_cast<float>(h);
  const int out_w = map.width, out_h = map.height;  // locals: the stores below cannot alias them
  for (int y = 0; y < out_h; ++y) {
    const float Y = static_cast<float>(y) - oy;
    int32_t* __restrict out = map.source.data() + static_cast<size_t>(y) * out_w;
    for (int x = 0; x < out_w; ++x) {
      const float X = static_cast<float>(x) - ox;
      float sx = m0 * X + m1 * Y + ix0;
      float sy = m3 * X + m4 * Y + iy0;
      sx = (sx + magic) - magic;
      sy = (sy + magic) - magic;
      const bool inside = (sx >= 0.f) & (sy >= 0.f) & (sx < fw) & (sy < fh);
      const int32_t index = static_cast<int32_t>(sy) * w + static_cast<int32_t>(sx);
      out[x] = inside ? index : -1;
    }
  }
  return map;
}

cv::Mat apply_rotation(const cv::Mat& image, const RotationMap& map) {
  REPBENCH_ASSERT(image.isContinuous());
  cv::Mat out = cv::Mat::zeros(map.height, map.width, image.type());
  // A typed gather for the two element sizes segmix uses (uint16 labels, 3-float pixels).
  auto gather = [&](auto tag) {
    using T = decltype(tag);
    const T* src = reinterpret_cast<const T*>(image.data);
    T* dst = reinterpret_cast<T*>(out.data);
    for (size_t i = 0; i < map.source.size(); ++i)
      if (map.source[i] >= 0) dst[i] = src[map.source[i]];
  };
  switch (image.elemSize()) {
    case 2:
      gather(uint16_t{});
      break;
    case 12:
      gather(cv::Vec3f{});
      break;
    default: {
      const size_t elem = image.elemSize();
      for (size_t i = 0; i < map.source.size(); ++i)
        if (map.source[i] >= 0)
          std::memcpy(out.data + i * elem, image.data + static_cast<size_t>(map.source[i]) * elem,
                      elem);
    }
  }
  return out;
}

}  // namespace repbench::synth
