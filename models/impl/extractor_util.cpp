#include "models/impl/extractor_util.h"

#include <cmath>

namespace repbench::models::impl {

void l2_normalize(float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double{x[i]} * x[i];
  if (s <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(s));
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void center_and_normalize(float* x, int64_t n) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] - mean);
  l2_normalize(x, n);
}

Preprocess apply_preprocess_overrides(const Preprocess& base, const nlohmann::json& overrides,
                                      const std::string& where, const std::string& origin,
                                      nlohmann::json* provenance) {
  const Preprocess p = base.with_overrides(overrides, where + ": preprocessing override");
  if (provenance) {
    for (const char* key : {"resize", "size", "crop", "interpolation", "mean", "std"}) {
      const bool flag = overrides.is_object() && overrides.contains(key);
      (*provenance)[std::string("preprocess.") + key] = flag ? "flag" : origin;
    }
  }
  return p;
}

}  // namespace repbench::models::impl
