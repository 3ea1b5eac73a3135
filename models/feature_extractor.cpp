#include "models/feature_extractor.h"

namespace repbench::models {

const char* to_string(OutputKind kind) {
  return kind == OutputKind::kTokens ? "tokens" : "embedding";
}

OutputKind parse_output_kind(const std::string& s, const std::string& where) {
  if (s == "embedding") return OutputKind::kEmbedding;
  if (s == "tokens") return OutputKind::kTokens;
  fail("{}: output \"{}\" is not one of embedding, tokens", where, s);
}

void check_category(const std::string& category, const std::string& where) {
  if (category == kCategoryCopyDetection || category == kCategoryPretrained ||
      category == kCategorySelfSupervised || category == kCategoryBuiltin)
    return;
  fail("{}: category \"{}\" is not one of CD/IR, PT, SSL, builtin", where, category);
}

nlohmann::json ExtractorInfo::to_json() const {
  nlohmann::json j{{"name", name},
                   {"spec", spec},
                   {"category", category},
                   {"output", to_string(output_kind)},
                   {"dim", dim},
                   {"tokens", tokens},
                   {"normalized", normalized},
                   {"preprocess", preprocess.to_json()},
                   {"device", device},
                   {"precision", precision}};
  if (!graph.empty()) j["graph"] = graph;
  if (!graph_note.empty()) j["graph_note"] = graph_note;
  if (!model_path.empty()) j["model_path"] = model_path;
  if (!model_sha256.empty()) j["model_sha256"] = model_sha256;
  if (!provenance.empty()) j["provenance"] = provenance;
  return j;
}

}  // namespace repbench::models
