// The backends of the LibTorch plugin behind diffusion/impl/torch_entry.h. Only files of
// diffusion/torch/ include it.
#pragma once

#include <memory>
#include <string>

#include "diffusion/impl/torch_entry.h"

namespace repbench::diffusion::impl {

std::unique_ptr<ModelBackend> load_model_torch(const std::string& path,
                                               const DeviceOptions& device);
std::unique_ptr<ModelBackend> null_model_torch(const EpsModelConfig& config,
                                               const DeviceOptions& device);
std::unique_ptr<TrainerBackend> trainer_torch(TrainImages data, const TrainOptions& options);

}  // namespace repbench::diffusion::impl
