// onnx:PATH, a model exported to ONNX (scripts/export_models.py --format onnx), run on the CPU by
// OpenCV's DNN module. Its metadata (models/model_metadata.h, the same object as a TorchScript
// archive's metadata.json) comes from the sidecar PATH.json when there is one, else from the
// file's metadata_props entry "repbench.metadata". As for TorchScript, preprocessing overrides
// are applied, a dummy batch checks the output shape at load time, and the file's sha256 is part
// of the extractor's identity (the feature cache's key). Torch-free; the implementation is the
// only translation unit that includes OpenCV's DNN headers.
#pragma once

#include <memory>
#include <string>

#include "models/feature_extractor.h"
#include "models/model_metadata.h"
#include "models/registry.h"

namespace repbench::models {

// The metadata_props key the exporter writes the metadata JSON under.
inline constexpr const char* kOnnxMetadataProperty = "repbench.metadata";

// Loads `path`; `spec` is the spec string to report (normally "onnx:" + path).
// Errors (each one line naming the file): not an ONNX model, no or invalid metadata, an operator
// OpenCV cannot run (named), output shape not matching the metadata, a device other than cpu.
std::unique_ptr<FeatureExtractor> create_onnx_extractor(const std::string& path,
                                                        const std::string& spec,
                                                        const ExtractorOptions& options);

// Reads and validates only the metadata of an ONNX model (sidecar, else metadata_props).
ModelMetadata read_onnx_metadata(const std::string& path);

}  // namespace repbench::models
