// torchscript:PATH, a model exported to TorchScript with its metadata.json inside the archive
// (models/model_metadata.h). At creation the archive is loaded on the requested device, the
// metadata is read and validated, command-line overrides of the preprocessing are applied (the
// extractor's provenance says which values came from flags), and a dummy batch of the declared
// input size is run to check the output shape against the metadata, so that a mismatch is one
// clear line at load time rather than a wrong matrix later. The sha256 of the file is part of
// the extractor's identity (ExtractorInfo::model_sha256, used by the feature cache).
// Torch-free header; the implementation is the only TU that includes torch/script.h.
#pragma once

#include <memory>
#include <string>

#include "models/feature_extractor.h"
#include "models/model_metadata.h"
#include "models/registry.h"

namespace repbench::models {

// Loads `path`; `spec` is the spec string to report (normally "torchscript:" + path).
// Errors (each one line naming the file): not a TorchScript archive, no metadata.json, invalid
// metadata, output shape or type not matching the metadata, CUDA requested but unavailable.
std::unique_ptr<FeatureExtractor> create_torchscript_extractor(const std::string& path,
                                                               const std::string& spec,
                                                               const ExtractorOptions& options);

// Reads and validates only the metadata.json of an archive (no model is loaded).
ModelMetadata read_model_metadata(const std::string& path);

}  // namespace repbench::models
