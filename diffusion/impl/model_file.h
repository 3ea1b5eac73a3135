// Eps-model files without their weights: the format by the first bytes, the metadata, a
// checkpoint's training summary. Torch-free; used by inspect_eps_model() and by the plugin's
// loaders (diffusion/torch/eps_net.cpp).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "diffusion/model_config.h"
#include "diffusion/sampler.h"

namespace repbench::diffusion::impl {

// The file's format by its first bytes; throws Error naming it when it is neither.
ModelFormat sniff_model_file(const std::string& path);

// The metadata.json text of TorchScript archive `path`, parsed and checked.
EpsModelConfig parse_torchscript_metadata(const std::string& path, const std::string& text);

// The part of a checkpoint header's training block that a record of the model's use should carry:
// enough to see what it was trained on and that its loss went down (not the per-step bulk).
nlohmann::json training_summary(const nlohmann::json& header, const std::string& path);

}  // namespace repbench::diffusion::impl
