// The torch-free half of torchscript:PATH: metadata.json and the call into the LibTorch plugin,
// which holds the extractor itself (models/torch/torchscript_extractor.cpp).
#include "models/torchscript_extractor.h"

#include <fmt/format.h>

#include "models/impl/torch_entry.h"
#include "runtime/torch_plugin.h"
#include "runtime/torchscript_archive.h"

namespace repbench::models {

namespace impl {

namespace {
constexpr const char* kMetadataFile = "metadata.json";
}  // namespace

const TorchEntry& torch_entry() {
  return runtime::torch_plugin_entry<TorchEntry>(kTorchEntry);
}

ModelMetadata parse_torchscript_metadata(const std::string& path, const std::string& text) {
  const nlohmann::json j = runtime::parse_archive_json(
      path, kMetadataFile, text,
      fmt::format("export the model with scripts/export_models.py (or save it with "
                  "torch.jit.save(m, f, _extra_files={{\"{}\": ...}}))",
                  kMetadataFile));
  return ModelMetadata::from_json(j, fmt::format("{}: {}", path, kMetadataFile));
}

}  // namespace impl

ModelMetadata read_model_metadata(const std::string& path) {
  runtime::check_torchscript_archive(path);
  return impl::parse_torchscript_metadata(path, runtime::read_archive_extra(path, "metadata.json"));
}

std::unique_ptr<FeatureExtractor> create_torchscript_extractor(const std::string& path,
                                                               const std::string& spec,
                                                               const ExtractorOptions& options) {
  return impl::torch_entry().create_torchscript_extractor(path, spec, options);
}

}  // namespace repbench::models
