// builtin:randcnn, the LibTorch builtin: a seeded random CNN run in batches (in the LibTorch
// plugin; models/builtin_extractors.h describes it).
#include <cmath>
#include <cstring>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "core/rng.h"
#include "models/builtin_extractors.h"
#include "models/impl/extractor_util.h"
#include "models/torch/extractors.h"
#include "runtime/torch_runtime.h"

namespace repbench::models {

namespace {

// The weights come from core's SplitMix64: a fixed definition, so they are the same bytes on
// every platform and LibTorch version (torch's own generators make no such promise).

class RandCnnExtractor : public FeatureExtractor {
 public:
  RandCnnExtractor(ExtractorInfo info, uint64_t seed, int dim, c10::Device device)
      : FeatureExtractor(std::move(info)), device_(device) {
    const int channels[] = {3, 32, 64, 128, dim};
    SplitMix64 rng(seed);
    for (int l = 0; l < 4; ++l) {
      const int cin = channels[l], cout = channels[l + 1];
      const int64_t fan_in = int64_t{cin} * 9;
      const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));  // He-uniform for ReLU
      std::vector<float> w(static_cast<size_t>(cout) * fan_in);
      for (float& v : w) v = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
      weights_.push_back(
          at::from_blob(w.data(), {cout, cin, 3, 3}, at::kFloat).clone().to(device_));
    }
  }

  bool prefers_batches() const override { return true; }

  void extract(const ImageBatch& b, float* out) override {
    runtime::run_translating_errors(info_.spec, [&] {
      c10::InferenceMode guard;
      at::Tensor x =
          at::from_blob(const_cast<float*>(b.data), {b.n, 3, b.height, b.width}, at::kFloat)
              .to(device_);
      for (const at::Tensor& w : weights_) x = at::relu(at::conv2d(x, w, {}, 2, 1));
      // GeM pooling, p = 3 (as SSCD), then L2.
      x = x.clamp_min(1e-6).pow(3).mean({2, 3}).pow(1.0 / 3.0);
      x = x / x.norm(2, {1}, true).clamp_min(1e-12);
      const at::Tensor y = x.to(at::kCPU).contiguous();
      std::memcpy(out, y.data_ptr<float>(), sizeof(float) * b.n * row_size());
    });
  }

 private:
  c10::Device device_;
  std::vector<at::Tensor> weights_;  // conv weights [cout, cin, 3, 3]
};

}  // namespace

std::unique_ptr<FeatureExtractor> impl::create_randcnn_torch(const BuiltinParams& prm,
                                                             const std::string& spec,
                                                             const ExtractorOptions& opt) {
  const int dim = static_cast<int>(prm.at("dim"));
  const int size = static_cast<int>(prm.at("size"));
  const c10::Device device = runtime::resolve_device(opt.device);
  runtime::set_torch_threads(opt.threads);
  runtime::keep_freed_blocks_for_reuse();

  ExtractorInfo info;
  info.name = fmt::format("Random CNN (seed {}, {}-d, GeM)", prm.at("seed"), dim);
  info.spec = spec;
  info.category = kCategoryBuiltin;
  info.output_kind = OutputKind::kEmbedding;
  info.dim = dim;
  info.tokens = 1;
  info.normalized = true;
  Preprocess pre;  // ImageNet mean/std; the usual 256/224 ratio
  pre.resize = ResizeMode::kShortSide;
  pre.size = size * 8 / 7;
  pre.crop = size;
  pre.interpolation = Interpolation::kBilinear;
  info.preprocess =
      impl::apply_preprocess_overrides(pre, opt.preprocess, spec, "builtin", &info.provenance);
  info.device = device.str();
  return std::make_unique<RandCnnExtractor>(std::move(info), static_cast<uint64_t>(prm.at("seed")),
                                            dim, device);
}

}  // namespace repbench::models
