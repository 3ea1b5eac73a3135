// Eps-model files without their weights (impl/model_file.h) and inspect_eps_model(). Torch-free:
// a TorchScript archive's metadata is read through the LibTorch plugin, a checkpoint's without it.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"
#include "runtime/torchscript_archive.h"
#include "diffusion/ddpm.h"
#include "diffusion/impl/model_file.h"

namespace repbench::diffusion {

namespace {
constexpr const char* kMetadataFile = "metadata.json";
}  // namespace

namespace impl {

ModelFormat sniff_model_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open model file ({})", path, std::strerror(errno));
  char head[8] = {};
  f.read(head, 8);
  if (f.gcount() == 8 && std::memcmp(head, kCheckpointMagic, 8) == 0)
    return ModelFormat::kCheckpoint;
  if (f.gcount() >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return ModelFormat::kTorchScript;
  fail(
      "{}: neither a TorchScript archive (torch.jit.save) nor a repbench DDPM checkpoint "
      "(repbench ddpm train)",
      path);
}

EpsModelConfig parse_torchscript_metadata(const std::string& path, const std::string& text) {
  const nlohmann::json j = runtime::parse_archive_json(
      path, kMetadataFile, text,
      fmt::format("export the model with scripts/export_models.py or save it with "
                  "torch.jit.save(m, f, _extra_files={{\"{}\": ...}}) (see "
                  "diffusion/model_config.h)",
                  kMetadataFile));
  return EpsModelConfig::from_json(j, fmt::format("{}: {}", path, kMetadataFile));
}

nlohmann::json training_summary(const nlohmann::json& header, const std::string& path) {
  try {
    const nlohmann::json& tr = header.at("training");
    nlohmann::json out = nlohmann::json::object();
    for (const char* key : {"step", "images", "batch_size", "lr", "seed", "data_sha256"})
      if (tr.contains(key)) out[key] = tr[key];
    const auto losses = header.value("losses", std::vector<double>());
    const size_t n = losses.size(), w = std::min<size_t>(100, n);
    if (w > 0) {
      double first = 0, last = 0;
      for (size_t i = 0; i < w; ++i) first += losses[i], last += losses[n - w + i];
      out["loss_first_100"] = first / static_cast<double>(w);
      out["loss_last_100"] = last / static_cast<double>(w);
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: checkpoint header: training: {}", path, e.what());
  }
}

}  // namespace impl

const char* to_string(ModelFormat format) {
  switch (format) {
    case ModelFormat::kTorchScript:
      return "torchscript";
    case ModelFormat::kCheckpoint:
      return kCheckpointFormat;
    case ModelFormat::kNull:
      return "null";
  }
  return "?";
}

nlohmann::json EpsModelInfo::to_json() const {
  nlohmann::json j{{"path", path},
                   {"sha256", sha256},
                   {"format", to_string(format)},
                   {"config", config.to_json()}};
  if (!training.is_null()) j["training"] = training;
  return j;
}

EpsModelInfo inspect_eps_model(const std::string& path) {
  EpsModelInfo info;
  info.path = path;
  info.format = impl::sniff_model_file(path);
  if (info.format == ModelFormat::kCheckpoint) {
    const nlohmann::json h = read_checkpoint_header(path);
    info.config = EpsModelConfig::from_json(h["metadata"], path + ": checkpoint header: metadata");
    info.training = impl::training_summary(h, path);
  } else {
    info.config = impl::parse_torchscript_metadata(
        path, runtime::read_archive_extra(path, kMetadataFile));
  }
  info.sha256 = sha256_file(path);
  return info;
}

}  // namespace repbench::diffusion
