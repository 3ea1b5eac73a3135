#include "models/builtin_extractors.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "models/impl/extractor_util.h"
#include "models/impl/torch_entry.h"

namespace repbench::models {

namespace {

// Pixel value 0..255 of channel c from a normalised input value (undoes mean/std, so that
// overrides of mean/std do not change what a pixel baseline sees).
inline float pixel01(float x, const Preprocess& p, int c) {
  return x * static_cast<float>(p.std[c]) + static_cast<float>(p.mean[c]);
}

Preprocess pixel_preprocess(ResizeMode resize, int size, int crop, Interpolation interp) {
  Preprocess p;
  p.resize = resize;
  p.size = size;
  p.crop = crop;
  p.interpolation = interp;
  p.mean = {0.0, 0.0, 0.0};
  p.std = {1.0, 1.0, 1.0};
  return p;
}

// Checks that a batch has the size the extractor was built for.
void check_batch_size(const ExtractorInfo& info, const ImageBatch& b, int w, int h) {
  if (b.width != w || b.height != h)
    fail("{}: expected {}x{} inputs, got {}x{} (preprocessing overrides must keep the input size)",
         info.spec, w, h, b.width, b.height);
}

// ---------------------------------------------------------------------------------------------
class TinyExtractor : public FeatureExtractor {
 public:
  TinyExtractor(ExtractorInfo info, int size, bool flip)
      : FeatureExtractor(std::move(info)), size_(size), flip_(flip) {}

  void extract(const ImageBatch& b, float* out) override {
    check_batch_size(info_, b, size_, size_);
    const int64_t plane = int64_t{size_} * size_;
    for (int64_t i = 0; i < b.n; ++i) {
      const float* img = b.data + i * 3 * plane;
      float* row = out + i * row_size();
      // Pixel-major (y, x, c) like an image file; values 0..1.
      for (int64_t p = 0; p < plane; ++p)
        for (int c = 0; c < 3; ++c) row[p * 3 + c] = pixel01(img[c * plane + p], preprocess(), c);
      if (flip_) {
        // The mean of the descriptors of the image and its horizontal mirror (the average over
        // the group {identity, mirror}): invariant to a horizontal flip of the thumbnail, and the
        // descriptor of an asymmetric image keeps everything its mirror-symmetric part holds.
        for (int64_t y = 0; y < size_; ++y)
          for (int64_t x = 0; x < size_ / 2; ++x)
            for (int c = 0; c < 3; ++c) {
              float& l = row[(y * size_ + x) * 3 + c];
              float& r = row[(y * size_ + size_ - 1 - x) * 3 + c];
              l = r = 0.5f * (l + r);
            }
      }
      impl::center_and_normalize(row, row_size());
    }
  }

 private:
  int size_;
  bool flip_;
};

// ---------------------------------------------------------------------------------------------
class ColorHistExtractor : public FeatureExtractor {
 public:
  ColorHistExtractor(ExtractorInfo info, int bins)
      : FeatureExtractor(std::move(info)), bins_(bins) {}

  void extract(const ImageBatch& b, float* out) override {
    const int64_t plane = int64_t{b.width} * b.height;
    std::vector<double> hist(static_cast<size_t>(row_size()));
    for (int64_t i = 0; i < b.n; ++i) {
      const float* img = b.data + i * 3 * plane;
      std::fill(hist.begin(), hist.end(), 0.0);
      for (int64_t p = 0; p < plane; ++p) {
        int idx = 0;
        for (int c = 0; c < 3; ++c) {
          // Back to the 8-bit value, then bin = value * bins / 256 (exact integer bins).
          const float v = std::nearbyint(pixel01(img[c * plane + p], preprocess(), c) * 255.0f);
          const int u = static_cast<int>(std::clamp(v, 0.0f, 255.0f));
          idx = idx * bins_ + u * bins_ / 256;
        }
        hist[idx] += 1.0;
      }
      float* row = out + i * row_size();
      for (int64_t k = 0; k < row_size(); ++k) row[k] = static_cast<float>(std::sqrt(hist[k]));
      impl::l2_normalize(row, row_size());
    }
  }

 private:
  int bins_;
};

// ---------------------------------------------------------------------------------------------
class DctExtractor : public FeatureExtractor {
 public:
  DctExtractor(ExtractorInfo info, int size, int k)
      : FeatureExtractor(std::move(info)), size_(size), k_(k), basis_(size_t(k) * size) {
    // Orthonormal DCT-II basis rows 0..k-1: B[u][n] = a(u) cos(pi (n + 0.5) u / N).
    for (int u = 0; u < k; ++u)
      for (int n = 0; n < size; ++n)
        basis_[size_t(u) * size + n] = (u == 0 ? std::sqrt(1.0 / size) : std::sqrt(2.0 / size)) *
                                       std::cos(M_PI * (n + 0.5) * u / size);
  }

  void extract(const ImageBatch& b, float* out) override {
    check_batch_size(info_, b, size_, size_);
    const int N = size_;
    const int64_t plane = int64_t{N} * N;
    std::vector<double> grey(plane), tmp(size_t(k_) * N);
    for (int64_t i = 0; i < b.n; ++i) {
      const float* img = b.data + i * 3 * plane;
      for (int64_t p = 0; p < plane; ++p)
        grey[p] = 0.299 * pixel01(img[p], preprocess(), 0) +
                  0.587 * pixel01(img[plane + p], preprocess(), 1) +
                  0.114 * pixel01(img[2 * plane + p], preprocess(), 2);
      // tmp = B * X (rows u, columns x), then coef = tmp * B^T.
      for (int u = 0; u < k_; ++u)
        for (int x = 0; x < N; ++x) {
          double s = 0;
          for (int y = 0; y < N; ++y) s += basis_[size_t(u) * N + y] * grey[size_t(y) * N + x];
          tmp[size_t(u) * N + x] = s;
        }
      float* row = out + i * row_size();
      int64_t j = 0;
      for (int u = 0; u < k_; ++u)
        for (int v = 0; v < k_; ++v) {
          if (u == 0 && v == 0) continue;  // the DC term is the mean brightness
          double s = 0;
          for (int x = 0; x < N; ++x) s += tmp[size_t(u) * N + x] * basis_[size_t(v) * N + x];
          row[j++] = static_cast<float>(s);
        }
      impl::l2_normalize(row, row_size());
    }
  }

 private:
  int size_, k_;
  std::vector<double> basis_;  // [k, size]
};

// ---------------------------------------------------------------------------------------------
class PatchesExtractor : public FeatureExtractor {
 public:
  PatchesExtractor(ExtractorInfo info, int grid, int cell)
      : FeatureExtractor(std::move(info)), grid_(grid), cell_(cell) {}

  void extract(const ImageBatch& b, float* out) override {
    const int side = grid_ * cell_;
    check_batch_size(info_, b, side, side);
    const int64_t plane = int64_t{side} * side;
    for (int64_t i = 0; i < b.n; ++i) {
      const float* img = b.data + i * 3 * plane;
      float* row = out + i * row_size();
      int64_t j = 0;
      for (int gy = 0; gy < grid_; ++gy)
        for (int gx = 0; gx < grid_; ++gx)  // token t = gy * grid + gx
          for (int y = 0; y < cell_; ++y)
            for (int x = 0; x < cell_; ++x) {
              const int64_t p = int64_t{gy * cell_ + y} * side + gx * cell_ + x;
              for (int c = 0; c < 3; ++c) row[j++] = pixel01(img[c * plane + p], preprocess(), c);
            }
      impl::center_and_normalize(row, row_size());
    }
  }

 private:
  int grid_, cell_;
};

// ---------------------------------------------------------------------------------------------
ExtractorInfo builtin_info(const std::string& name, const std::string& spec, OutputKind kind,
                           int64_t dim, int64_t tokens, const Preprocess& pre,
                           const ExtractorOptions& opt) {
  ExtractorInfo info;
  info.name = name;
  info.spec = spec;
  info.category = kCategoryBuiltin;
  info.output_kind = kind;
  info.dim = dim;
  info.tokens = tokens;
  info.normalized = true;
  info.preprocess =
      impl::apply_preprocess_overrides(pre, opt.preprocess, spec, "builtin", &info.provenance);
  info.device = "cpu";
  return info;
}

// Builtins computed on a fixed input grid refuse overrides that change its size.
void require_input(const ExtractorInfo& info, int side) {
  const Preprocess& p = info.preprocess;
  if (!p.fixed_output_size() || p.nominal_input_size() != std::make_pair(side, side))
    fail("{}: needs a {}x{} input; preprocessing overrides give {}", info.spec, side, side,
         p.canonical());
}

std::unique_ptr<FeatureExtractor> create_tiny(const BuiltinParams& prm, const std::string& spec,
                                              const ExtractorOptions& opt) {
  const int size = static_cast<int>(prm.at("size"));
  const bool flip = prm.at("flip") != 0;
  auto info =
      builtin_info(fmt::format("Tiny image ({0}x{0} RGB{1})", size, flip ? ", mirror-averaged" : ""),
                   spec, OutputKind::kEmbedding,
                   3 * int64_t{size} * size, 1,
                   pixel_preprocess(ResizeMode::kSquare, size, 0, Interpolation::kArea), opt);
  require_input(info, size);
  return std::make_unique<TinyExtractor>(std::move(info), size, flip);
}

std::unique_ptr<FeatureExtractor> create_colorhist(const BuiltinParams& prm,
                                                   const std::string& spec,
                                                   const ExtractorOptions& opt) {
  const int bins = static_cast<int>(prm.at("bins"));
  auto info =
      builtin_info(fmt::format("RGB colour histogram ({0}x{0}x{0})", bins), spec,
                   OutputKind::kEmbedding, int64_t{bins} * bins * bins, 1,
                   pixel_preprocess(ResizeMode::kThumbnail, 128, 0, Interpolation::kArea), opt);
  return std::make_unique<ColorHistExtractor>(std::move(info), bins);
}

std::unique_ptr<FeatureExtractor> create_dct(const BuiltinParams& prm, const std::string& spec,
                                             const ExtractorOptions& opt) {
  const int size = static_cast<int>(prm.at("size"));
  const int k = static_cast<int>(prm.at("k"));
  if (k > size) fail("{}: k = {} exceeds size = {}", spec, k, size);
  auto info =
      builtin_info(fmt::format("Low-frequency DCT ({0}x{0} of {1}x{1} grey)", k, size), spec,
                   OutputKind::kEmbedding, int64_t{k} * k - 1, 1,
                   pixel_preprocess(ResizeMode::kSquare, size, 0, Interpolation::kArea), opt);
  require_input(info, size);
  return std::make_unique<DctExtractor>(std::move(info), size, k);
}

std::unique_ptr<FeatureExtractor> create_patches(const BuiltinParams& prm, const std::string& spec,
                                                 const ExtractorOptions& opt) {
  const int grid = static_cast<int>(prm.at("grid"));
  const int cell = static_cast<int>(prm.at("cell"));
  auto info = builtin_info(
      fmt::format("Patch pixels ({0}x{0} grid of {1}x{1} cells)", grid, cell), spec,
      OutputKind::kTokens, 3 * int64_t{cell} * cell, int64_t{grid} * grid,
      pixel_preprocess(ResizeMode::kSquare, grid * cell, 0, Interpolation::kArea), opt);
  require_input(info, grid * cell);
  return std::make_unique<PatchesExtractor>(std::move(info), grid, cell);
}

}  // namespace

std::unique_ptr<FeatureExtractor> create_randcnn(const BuiltinParams& params,
                                                 const std::string& spec,
                                                 const ExtractorOptions& options) {
  return impl::torch_entry().create_randcnn(params, spec, options);
}

const std::vector<BuiltinDef>& builtin_defs() {
  static const std::vector<BuiltinDef> defs = {
      {"tiny",
       "raw RGB pixels of a size x size image, mean-centred, L2",
       OutputKind::kEmbedding,
       {{"size", 32, 4, 256, "side of the tiny image"},
        {"flip", 0, 0, 1, "1 = flip-invariant: the mean of the image's and its mirror's pixels"}},
       create_tiny},
      {"colorhist",
       "joint RGB histogram of a 128-px thumbnail, sqrt + L2",
       OutputKind::kEmbedding,
       {{"bins", 8, 2, 32, "bins per channel"}},
       create_colorhist},
      {"dct",
       "low-frequency DCT of the grey size x size image (k x k block without DC), L2",
       OutputKind::kEmbedding,
       {{"size", 32, 8, 512, "side of the grey image"}, {"k", 8, 2, 64, "block side"}},
       create_dct},
      {"patches",
       "tokens: pixels of each cell of a grid x grid split (split-product baseline)",
       OutputKind::kTokens,
       {{"grid", 4, 1, 32, "cells per side (tokens = grid^2)"},
        {"cell", 4, 1, 64, "pixels per cell side"}},
       create_patches},
      {"randcnn",
       "seeded random 4-layer CNN + GeM, L2 (LibTorch, batched)",
       OutputKind::kEmbedding,
       {{"seed", 0, 0, (int64_t{1} << 62), "weight seed"},
        {"dim", 256, 8, 4096, "output channels"},
        {"size", 224, 32, 1024, "input side (centre crop)"}},
       create_randcnn},
  };
  return defs;
}

}  // namespace repbench::models
