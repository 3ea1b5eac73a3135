#include "records/record.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "records/per_query.h"

namespace repbench::records {

namespace {

using nlohmann::json;

// JSON type names for messages ("found a string").
std::string type_of(const json& j) {
  return j.type_name();
}

// A json parse error's text, forced onto one line (the command line prints errors as one line).
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

const json* find(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

void require_nonempty_string(const json& object, const char* key, const std::string& field,
                             const std::string& where) {
  const json* v = find(object, key);
  if (!v) fail("{}: record has no {} (required)", where, field);
  if (!v->is_string() || v->get_ref<const std::string&>().empty())
    fail("{}: record field {} must be a non-empty string, found {}", where, field,
         v->is_string() ? "\"\"" : type_of(*v));
}

std::string lower_dashed(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '_') c = '-';
  }
  return s;
}

}  // namespace

void validate_record(const json& record, const std::string& where) {
  if (!record.is_object())
    fail("{}: a record must be a JSON object, found {}", where, type_of(record));
  const json* schema = find(record, "schema");
  if (!schema)
    fail("{}: not a repbench record: no \"schema\" (expected \"{}\")", where, kRecordSchema);
  if (!is_record_schema(*schema))
    fail("{}: not a repbench record: schema is {}, expected \"{}\" (or \"{}\")", where,
         schema->dump(), kRecordSchema, kRecordSchemaV1);

  const json* model = find(record, "model");
  if (!model) fail("{}: record has no model (required)", where);
  if (!model->is_object())
    fail("{}: record field model must be an object, found {}", where, type_of(*model));
  require_nonempty_string(*model, "name", "model.name", where);
  if (const json* category = find(*model, "category"); category && !category->is_string())
    fail("{}: record field model.category must be a string, found {}", where, type_of(*category));
  require_nonempty_string(record, "dataset", "dataset", where);

  std::string status = "ok";
  if (const json* s = find(record, "status")) {
    if (!s->is_string() || (*s != "ok" && *s != "skipped"))
      fail("{}: record field status must be \"ok\" or \"skipped\", found {}", where, s->dump());
    status = s->get<std::string>();
  }
  const json* metrics = find(record, "metrics");
  if (metrics && !metrics->is_object())
    fail("{}: record field metrics must be an object, found {}", where, type_of(*metrics));

  if (status == "skipped") {
    require_nonempty_string(record, "skipped_reason", "skipped_reason", where);
    return;  // a skipped record has no metrics to check
  }
  if (const json* pq = find(record, "per_query"); pq && !pq->is_null())
    validate_per_query(*pq, where);
  if (!metrics) fail("{}: record has no metrics (required for status \"ok\")", where);
  const json* map = find(*metrics, "map");
  if (!map) fail("{}: record has no metrics.map (required for status \"ok\")", where);
  // NaN is written as null by nlohmann::json, so it fails here too.
  if (!map->is_number() || !std::isfinite(map->get<double>()))
    fail("{}: record field metrics.map must be a finite number, found {}", where, map->dump());
  // Records hold fractions; a value like 53.1 is a percentage written by mistake.
  double m = map->get<double>();
  if (m < 0.0 || m > 1.0)
    fail("{}: record field metrics.map must be a fraction in [0, 1], found {}", where, m);
  // [low, high]; null or NaN entries (written when no bootstrap ran) mean "no interval".
  if (const json* ci = find(*metrics, "map_ci95"); ci && !ci->is_null()) {
    auto bound = [](const json& v) { return v.is_number() || v.is_null(); };
    if (!ci->is_array() || ci->size() != 2 || !bound((*ci)[0]) || !bound((*ci)[1]))
      fail("{}: record field metrics.map_ci95 must be [low, high] or null, found {}", where,
           ci->dump());
  }
}

bool is_record_schema(const json& schema) {
  return schema.is_string() && (schema == kRecordSchema || schema == kRecordSchemaV1);
}

void write_record(const std::string& path, const json& record) {
  validate_record(record, path);
  const json* pq = find(record, "per_query");
  if (!pq || !pq->is_object() || pq->empty()) {
    write_file_atomic(path, record.dump(2) + "\n");
    return;
  }
  // One line per per-query array: indented, 12,000 queries would take ~70,000 lines.
  json rest = record;
  rest.erase("per_query");
  std::string text = rest.dump(2);  // "{\n  ...\n}"
  text.resize(text.size() - 2);     // drop "\n}"
  text += ",\n  \"per_query\": {";
  bool first = true;
  for (const auto& [key, value] : pq->items()) {
    text += first ? "\n    " : ",\n    ";
    text += json(key).dump() + ": " + value.dump();
    first = false;
  }
  text += "\n  }\n}\n";
  write_file_atomic(path, text);
}

json read_record(const std::string& path) {
  std::string text = read_file(path);
  json record;
  try {
    record = json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: not a JSON file: {}", path, one_line(e.what()));
  }
  validate_record(record, path);
  return record;
}

std::vector<std::string> record_files(const std::vector<std::string>& files_or_dirs) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& arg : files_or_dirs) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) fail("{}: no such file or folder", arg);
    if (!fs::is_directory(st)) {
      files.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".json")
        found.push_back(it->path().string());
    }
    if (ec) fail("{}: cannot list folder: {}", arg, ec.message());
    if (found.empty()) fail("{}: no *.json result records in this folder", arg);
    std::sort(found.begin(), found.end());
    for (auto& f : found) {
      const json j = json::parse(read_file(f), nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || (j.is_object() && is_record_schema(j.value("schema", json()))))
        files.push_back(std::move(f));
    }
  }
  return files;
}

std::string dataset_label(const std::string& set, const std::string& protocol) {
  // Machine names -> the names the paper's Table 1 prints.
  static const std::pair<const char*, const char*> kSetNames[] = {
      {"roxford5k", "rOxford5k"},
      {"rparis6k", "rParis6k"},
      {"oxford5k", "Oxford5k"},
      {"paris6k", "Paris6k"},
      {"gpr1200", "GPR1200"},
      {"instre", "INSTRE"},
      {"cub200", "CUB-200"},
      {"cub-200", "CUB-200"},
      {"cub200-2011", "CUB-200"},
      {"copydays", "Copydays"},
      {"disc21", "DISC21"},
      {"cd10k", "CD10K"},
      {"mscoco-segmix", "MSCOCO Segmix"},
      {"coco-segmix", "MSCOCO Segmix"},
      {"voc-segmix", "VOC-Segmix"},
      {"in-cutmix", "IN-Cutmix"},
      {"imagenet-cutmix", "IN-Cutmix"},
      {"in-dif-diagonal", "IN-Dif-Diagonal"},
      {"in-dif-outpaint", "IN-Dif-Outpaint"},
      {"in-diffusion-diagonal", "IN-Dif-Diagonal"},
      {"in-diffusion-outpaint", "IN-Dif-Outpaint"},
  };
  std::string key = lower_dashed(set);
  std::string label = set;
  for (const auto& [name, shown] : kSetNames) {
    if (key == name) {
      label = shown;
      break;
    }
  }
  std::string p = lower_dashed(protocol);
  if (p.empty() || p == "default" || p == "official") return label;
  if (p == "easy") return label + " (E)";
  if (p == "medium") return label + " (M)";
  if (p == "hard") return label + " (H)";
  return label + " (" + protocol + ")";
}

}  // namespace repbench::records
