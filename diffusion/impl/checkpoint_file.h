// The byte layout of a repbench DDPM checkpoint (diffusion/ddpm.h): magic, header length,
// JSON header, LibTorch archive. Torch-free.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace repbench::diffusion::impl {

struct CheckpointBytes {
  nlohmann::json header;
  std::string archive;  // a torch::serialize archive (zip)
};

// Reads and checks a checkpoint; throws Error naming the file.
CheckpointBytes read_checkpoint_file(const std::string& path);
// Writes one atomically.
void write_checkpoint_file(const std::string& path, const nlohmann::json& header,
                           const std::string& archive);

}  // namespace repbench::diffusion::impl
