// The extractors of the LibTorch plugin (runtime/torch_plugin.h), behind models/impl/torch_entry.h.
// Only files of models/torch/ include it.
#pragma once

#include <memory>
#include <string>

#include "models/builtin_extractors.h"
#include "models/feature_extractor.h"
#include "models/registry.h"

namespace repbench::models::impl {

// torchscript:PATH (models/torchscript_extractor.h).
std::unique_ptr<FeatureExtractor> create_torchscript_torch(const std::string& path,
                                                           const std::string& spec,
                                                           const ExtractorOptions& options);

// builtin:randcnn (models/builtin_extractors.h).
std::unique_ptr<FeatureExtractor> create_randcnn_torch(const BuiltinParams& params,
                                                       const std::string& spec,
                                                       const ExtractorOptions& options);

}  // namespace repbench::models::impl
