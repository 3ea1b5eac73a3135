// Small helpers shared by the extractors (not part of the public API).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "models/feature_extractor.h"
#include "models/model_metadata.h"
#include "models/preprocess.h"

namespace repbench::models::impl {

// Divides x[0..n) by its L2 norm (left as is when the norm is 0).
void l2_normalize(float* x, int64_t n);
// Subtracts the mean of x[0..n) from every element, then L2-normalises.
void center_and_normalize(float* x, int64_t n);

// Applies `overrides` (a partial "preprocess" object from flags) to `base` and records in
// provenance["preprocess.KEY"] "flag" for each overridden key and `origin` ("metadata",
// "builtin") for the others. `where` prefixes error messages.
Preprocess apply_preprocess_overrides(const Preprocess& base, const nlohmann::json& overrides,
                                      const std::string& where, const std::string& origin,
                                      nlohmann::json* provenance);

// The ExtractorInfo of the model file `path` that `meta` describes (TorchScript, ONNX): its
// fields, the preprocessing with `overrides` applied (provenance recorded; a token output must
// keep a fixed input size), the path and `sha256`. The caller sets the device.
ExtractorInfo info_from_metadata(const ModelMetadata& meta, const std::string& path,
                                 const std::string& spec, const nlohmann::json& overrides,
                                 const std::string& sha256);

}  // namespace repbench::models::impl
