// What the LibTorch plugin gives diffusion/ (runtime/torch_plugin.h): the networks behind
// DiffusionModel and DdpmTrainer. Torch-free; the plugin's side is diffusion/torch/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffusion/ddpm.h"
#include "diffusion/sampler.h"

namespace repbench::diffusion::impl {

// A loaded eps-model with its samplers (sampler.h). `labels`: one class label per seed, empty for
// an unconditional model. The caller has checked the options and the inputs' shapes.
class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual const EpsModelInfo& info() const = 0;
  virtual Images sample(const std::vector<uint64_t>& seeds, const std::vector<int64_t>& labels,
                        const SampleOptions& options, const StepCallback& on_step) const = 0;
  virtual Images repaint(const Images& known, const std::vector<uint8_t>& keep,
                         const std::vector<uint64_t>& seeds, const std::vector<int64_t>& labels,
                         const RePaintOptions& options, const StepCallback& on_step) const = 0;
};

// DdpmTrainer's state and steps (ddpm.h).
class TrainerBackend {
 public:
  virtual ~TrainerBackend() = default;
  virtual float step() = 0;
  virtual int64_t step_count() const = 0;
  virtual const std::vector<float>& losses() const = 0;
  virtual int64_t parameter_count() const = 0;
  virtual const std::string& data_sha256() const = 0;
  virtual float fixed_batch_loss(int64_t n, uint64_t seed) const = 0;
  virtual void save_checkpoint(const std::string& path, const nlohmann::json& extra) const = 0;
  virtual void load_checkpoint(const std::string& path) = 0;
};

struct TorchEntry {
  // Loads a model file (TorchScript archive or checkpoint, by content). Throws Error naming it.
  std::unique_ptr<ModelBackend> (*load_model)(const std::string& path, const DeviceOptions& device);
  // The null model (DiffusionModel::null_model); `config` is checked.
  std::unique_ptr<ModelBackend> (*null_model)(const EpsModelConfig& config,
                                              const DeviceOptions& device);
  // A fresh UNet and optimiser on prepared images; `options` are checked.
  std::unique_ptr<TrainerBackend> (*trainer)(TrainImages data, const TrainOptions& options);
};

inline constexpr const char kTorchEntry[] = "repbench_diffusion_torch_entry";

// The plugin's entry, loading it on first use.
const TorchEntry& torch_entry();

}  // namespace repbench::diffusion::impl
