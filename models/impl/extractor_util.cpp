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

ExtractorInfo info_from_metadata(const ModelMetadata& meta, const std::string& path,
                                 const std::string& spec, const nlohmann::json& overrides,
                                 const std::string& sha256) {
  ExtractorInfo info;
  info.name = meta.name;
  info.spec = spec;
  info.category = meta.category;
  info.output_kind = meta.output;
  info.dim = meta.dim;
  info.tokens = meta.tokens;
  info.normalized = meta.normalized;
  info.preprocess =
      apply_preprocess_overrides(meta.preprocess, overrides, path, "metadata", &info.provenance);
  if (meta.output == OutputKind::kTokens && !info.preprocess.fixed_output_size())
    fail("{}: a token output needs a fixed input size; the preprocessing overrides give {}", path,
         info.preprocess.canonical());
  for (const char* key : {"name", "category", "output", "dim", "tokens", "normalized", "select"})
    info.provenance[key] = "metadata";
  info.model_path = path;
  info.model_sha256 = sha256;
  return info;
}

}  // namespace repbench::models::impl
