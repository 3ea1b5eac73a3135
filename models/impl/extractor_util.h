// Small helpers shared by the extractors (not part of the public API).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

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

}  // namespace repbench::models::impl
