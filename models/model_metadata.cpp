#include "models/model_metadata.h"

#include <set>

#include <fmt/format.h>

#include "core/error.h"

namespace repbench::models {

namespace {

int64_t get_positive(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < 1)
    fail("{}: \"{}\" must be a positive integer, found {}", where, key, v.dump());
  return v.get<int64_t>();
}

}  // namespace

ModelMetadata ModelMetadata::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected a JSON object, found {}", where, j.type_name());
  static const std::set<std::string> kKeys = {
      "metadata_version", "format",     "name",   "category",   "output", "dim",
      "tokens",           "normalized", "select", "preprocess", "source"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKeys.count(it.key()))
      fail(
          "{}: unknown key \"{}\" (known: metadata_version, name, category, output, dim, tokens, "
          "normalized, select, preprocess, source)",
          where, it.key());
  for (const char* key : {"name", "category", "output", "dim", "preprocess"})
    if (!j.contains(key)) fail("{}: missing \"{}\"", where, key);

  ModelMetadata m;
  if (j.contains("metadata_version")) {
    const auto& v = j["metadata_version"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kModelMetadataVersion)
      fail("{}: metadata_version {} is not supported (this repbench reads 1..{})", where, v.dump(),
           kModelMetadataVersion);
  }
  if (j.contains("format") && j["format"] != "repbench-model")
    fail("{}: format {} is not \"repbench-model\"", where, j["format"].dump());
  if (!j["name"].is_string() || j["name"].get<std::string>().empty())
    fail("{}: \"name\" must be a non-empty string", where);
  m.name = j["name"].get<std::string>();
  if (!j["category"].is_string()) fail("{}: \"category\" must be a string", where);
  m.category = j["category"].get<std::string>();
  check_category(m.category, where);
  if (!j["output"].is_string()) fail("{}: \"output\" must be a string", where);
  m.output = parse_output_kind(j["output"].get<std::string>(), where);
  m.dim = get_positive(j, "dim", where);
  if (m.output == OutputKind::kTokens) {
    if (!j.contains("tokens"))
      fail("{}: output \"tokens\" needs \"tokens\" (tokens per image)", where);
    m.tokens = get_positive(j, "tokens", where);
  } else if (j.contains("tokens")) {
    m.tokens = get_positive(j, "tokens", where);
    if (m.tokens != 1) fail("{}: output \"embedding\" has tokens 1, found {}", where, m.tokens);
  }
  if (j.contains("normalized")) {
    if (!j["normalized"].is_boolean()) fail("{}: \"normalized\" must be true or false", where);
    m.normalized = j["normalized"].get<bool>();
  }
  if (j.contains("select") && !j["select"].is_null()) {
    const auto& s = j["select"];
    if (s.is_number_integer() && s.get<int64_t>() >= 0) {
      m.select = s.get<int64_t>();
    } else if (s.is_string() && !s.get<std::string>().empty()) {
      m.select = s.get<std::string>();
    } else {
      fail("{}: \"select\" must be null, an index >= 0 or a dict key, found {}", where, s.dump());
    }
  }
  m.preprocess = Preprocess::from_json(j["preprocess"], where + ": preprocess");
  if (m.output == OutputKind::kTokens && !m.preprocess.fixed_output_size())
    fail("{}: a token output needs a fixed input size (a crop or a square resize), found {}", where,
         m.preprocess.canonical());
  if (j.contains("source")) m.source = j["source"];
  return m;
}

nlohmann::json ModelMetadata::to_json() const {
  nlohmann::json j{{"metadata_version", kModelMetadataVersion},
                   {"name", name},
                   {"category", category},
                   {"output", to_string(output)},
                   {"dim", dim},
                   {"tokens", tokens},
                   {"normalized", normalized},
                   {"preprocess", preprocess.to_json()},
                   {"source", source}};
  if (std::holds_alternative<int64_t>(select))
    j["select"] = std::get<int64_t>(select);
  else if (std::holds_alternative<std::string>(select))
    j["select"] = std::get<std::string>(select);
  else
    j["select"] = nullptr;
  return j;
}

std::string ModelMetadata::select_string() const {
  if (std::holds_alternative<int64_t>(select))
    return fmt::format("index {}", std::get<int64_t>(select));
  if (std::holds_alternative<std::string>(select))
    return fmt::format("key \"{}\"", std::get<std::string>(select));
  return "none";
}

}  // namespace repbench::models
