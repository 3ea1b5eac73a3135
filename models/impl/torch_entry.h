// What the LibTorch plugin gives models/ (runtime/torch_plugin.h): the extractors that run
// through LibTorch. Torch-free; the plugin's side is models/torch/.
#pragma once

#include <memory>
#include <string>

#include "models/builtin_extractors.h"
#include "models/feature_extractor.h"
#include "models/model_metadata.h"
#include "models/registry.h"

namespace repbench::models::impl {

struct TorchEntry {
  // models/torchscript_extractor.h
  std::unique_ptr<FeatureExtractor> (*create_torchscript_extractor)(
      const std::string& path, const std::string& spec, const ExtractorOptions& options);
  // builtin:randcnn (models/builtin_extractors.h)
  std::unique_ptr<FeatureExtractor> (*create_randcnn)(const BuiltinParams& params,
                                                      const std::string& spec,
                                                      const ExtractorOptions& options);
};

inline constexpr const char kTorchEntry[] = "repbench_models_torch_entry";

// The plugin's entry, loading it on first use.
const TorchEntry& torch_entry();

// The metadata.json text of archive `path`, parsed and validated (both sides use it).
ModelMetadata parse_torchscript_metadata(const std::string& path, const std::string& text);

}  // namespace repbench::models::impl
