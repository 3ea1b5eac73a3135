// EpsModelConfig: what a noise-prediction (eps) model is, as its metadata.json says. A TorchScript
// eps-model carries it as an extra file of its archive (torch.jit.save(m, f, _extra_files=
// {"metadata.json": ...}), written by scripts/export_models.py --guided-diffusion); a repbench DDPM
// checkpoint carries the same object in its header (diffusion/ddpm.h).
//
//   {"kind": "ddpm-eps",          required, the only kind
//    "image_size": 256,           required, square input side the model was trained at
//    "channels": 3,               required, 1 or 3
//    "timesteps": 1000,           required, steps of the training diffusion (2..kMaxTimesteps)
//    "beta_schedule": "linear",   required, linear | cosine (diffusion/schedule.h)
//    "beta_start": 0.0001,        required for linear (the actual values, not rescaled)
//    "beta_end": 0.02,            required for linear
//    "num_classes": 0,            optional, > 0: forward(x_t, t, y) with y int64 [B] in [0, n)
//    "learn_sigma": false,        optional, true: output [B, 2C, H, W], channels C..2C-1 give
//                                 guided-diffusion's learned-range variance
//    "sigma_small": false,        optional, without learn_sigma: posterior variance (true) or
//                                 beta_t (false, guided-diffusion's default)
//    "name": "...",               optional, for records
//    "source": {...}}             optional, free-form provenance
//
// The model's forward(x_t, t[, y]) reads x_t float [B, C, H, W] in [-1, 1] and t int64 [B] (the
// training timestep, 0-based) and returns eps [B, C, H, W] ([B, 2C, H, W] with learn_sigma).
// Unknown keys are errors (a typo must not fall back to a default). Torch-free.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "diffusion/schedule.h"

namespace repbench::diffusion {

inline constexpr char kEpsModelKind[] = "ddpm-eps";
// The schedule is computed in full (betas(), 8 bytes a step): a bound far above any published
// model (1000-4000 steps) that keeps a corrupt "timesteps" from asking for terabytes.
inline constexpr int64_t kMaxTimesteps = 1000000;

struct EpsModelConfig {
  int image_size = 256;
  int channels = 3;
  int64_t timesteps = 1000;
  BetaSchedule beta_schedule = BetaSchedule::kLinear;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  int num_classes = 0;       // 0 = unconditional
  bool learn_sigma = false;  // output has 2C channels (eps, then the variance interpolation)
  bool sigma_small = false;  // fixed variance: posterior (true) or beta_t (false)
  std::string name;
  nlohmann::json source = nlohmann::json::object();

  // Throws Error prefixed with `where` when a value is out of range.
  void Check(const std::string& where = "eps-model") const;
  // Parses and validates; `where` names the source in messages ("model.pt: metadata.json").
  static EpsModelConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  // The model's training betas (make_betas of the fields above).
  std::vector<double> betas() const;
};

}  // namespace repbench::diffusion
