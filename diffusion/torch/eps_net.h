// The network behind a DiffusionModel: a TorchScript module, the built-in UNet of a checkpoint,
// or the null model. Includes LibTorch: only files of diffusion/torch/ may include it.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "diffusion/sampler.h"

namespace repbench::diffusion::impl {

class EpsNet {
 public:
  virtual ~EpsNet() = default;
  // x float [B, C, S, S] in [-1, 1], t int64 [B] (training timesteps), y int64 [B] (class labels)
  // or an undefined tensor, all on the net's device -> [B, C, S, S] or [B, 2C, S, S] (learn_sigma).
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                                const torch::Tensor& y) = 0;
};

// Loads `path` (TorchScript archive or repbench checkpoint, by content) onto `device`; fills
// `info`. Throws Error naming the file.
std::unique_ptr<EpsNet> load_eps_net(const std::string& path, const c10::Device& device,
                                     EpsModelInfo* info);

// Predicts zeros: [B, C, S, S] ([B, 2C, S, S] with learn_sigma).
std::unique_ptr<EpsNet> make_null_net(const EpsModelConfig& config);

}  // namespace repbench::diffusion::impl
