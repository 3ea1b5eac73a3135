// Built-in extractors: weight-free baselines, so that a benchmark runs before any model is
// downloaded, and so that a learned descriptor can be judged against what pixels alone give.
//
//   builtin:tiny?size=32&flip=0 raw RGB pixels of a size x size image (area-resized, aspect not
//                               kept), minus their mean, L2-normalised. dim = 3 * size^2.
//                               flip=1: each pixel averaged with its horizontal mirror first
//                               (the mean of the image's and its mirror's descriptors), so that
//                               a horizontally flipped copy has the same descriptor (exactly when
//                               the thumbnail's resampling commutes with the mirror, e.g. sides
//                               that are multiples of size; up to resampling otherwise).
//   builtin:colorhist?bins=8    joint RGB histogram (bins^3 cells) of a 128-pixel thumbnail,
//                               square-rooted (Hellinger) and L2-normalised. dim = bins^3.
//   builtin:dct?size=32&k=8     low-frequency 2-D DCT-II coefficients of the size x size grey
//                               image (BT.601 luma): the k x k top-left block without the DC
//                               term, L2-normalised (a real-valued pHash). dim = k^2 - 1.
//   builtin:patches?grid=4&cell=4
//                               tokens: the image resized to (grid * cell)^2, cut into grid^2
//                               cells in raster order; token t = the cell's RGB pixels
//                               (cell^2 * 3, pixel-major) minus the image mean; the flattened
//                               tokens are L2-normalised once (split-product convention).
//                               tokens = grid^2, dim = 3 * cell^2.
//   builtin:randcnn?seed=0&dim=256&size=224
//                               a randomly initialised 4-layer CNN (3x3 stride-2 convolutions,
//                               32-64-128-dim channels, ReLU; He-uniform weights from a
//                               SplitMix64 stream of `seed`, so identical on every machine),
//                               GeM pooling (p = 3), L2-normalised; run with LibTorch in batches
//                               on the chosen device. ImageNet mean/std, short side size*8/7,
//                               centre crop size.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/feature_extractor.h"
#include "models/registry.h"

namespace repbench::models {

struct BuiltinParam {
  std::string key;
  int64_t default_value;
  int64_t min;
  int64_t max;
  std::string help;
};

using BuiltinParams = std::map<std::string, int64_t>;  // every declared key, defaults filled in

struct BuiltinDef {
  std::string name;  // after "builtin:"
  std::string summary;
  OutputKind output_kind;
  std::vector<BuiltinParam> params;  // in canonical order
  // Creates the extractor; `spec` is the canonical spec string.
  std::unique_ptr<FeatureExtractor> (*create)(const BuiltinParams& params, const std::string& spec,
                                              const ExtractorOptions& options);
};

// All builtins, in the order `repbench models list` shows them.
const std::vector<BuiltinDef>& builtin_defs();

// The LibTorch one: runs in the LibTorch plugin (models/torch/randcnn.cpp), loaded on first use.
std::unique_ptr<FeatureExtractor> create_randcnn(const BuiltinParams& params,
                                                 const std::string& spec,
                                                 const ExtractorOptions& options);

}  // namespace repbench::models
