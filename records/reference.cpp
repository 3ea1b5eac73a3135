#include "records/reference.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench::records {

namespace {

using nlohmann::json;

const json& field(const json& object, const char* key, json::value_t type, const char* type_name,
                  const std::string& where, const std::string& origin) {
  auto it = object.find(key);
  if (it == object.end()) fail("{}: {} has no \"{}\" (required)", origin, where, key);
  const bool ok = type == json::value_t::number_float ? it->is_number() : it->type() == type;
  if (!ok) fail("{}: {}.{} must be {}, found {}", origin, where, key, type_name, it->type_name());
  return *it;
}

std::string nonempty_string(const json& object, const char* key, const std::string& where,
                            const std::string& origin) {
  const std::string s =
      field(object, key, json::value_t::string, "a string", where, origin).get<std::string>();
  if (s.empty()) fail("{}: {}.{} is empty", origin, where, key);
  return s;
}

std::optional<double> percent(const json& v, const std::string& where, const std::string& origin) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
      v.get<double>() > 100)
    fail("{}: {} must be an mAP in percent [0, 100] or null, found {}", origin, where, v.dump());
  return v.get<double>();
}

}  // namespace

Reference parse_reference(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail("{}: not a JSON file", origin);
  if (!j.is_object()) fail("{}: a reference file must be a JSON object", origin);
  const std::string schema = nonempty_string(j, "schema", "the file", origin);
  if (schema != kReferenceSchema)
    fail("{}: schema is \"{}\", expected \"{}\"", origin, schema, kReferenceSchema);
  Reference ref;
  ref.origin = origin;
  ref.citation = nonempty_string(j, "citation", "the file", origin);
  ref.note = nonempty_string(j, "note", "the file", origin);

  const json& columns = field(j, "columns", json::value_t::array, "an array", "the file", origin);
  if (columns.empty()) fail("{}: columns is empty", origin);
  std::map<std::string, std::string> owner;  // dataset label -> the column that claims it
  for (size_t c = 0; c < columns.size(); ++c) {
    const std::string where = fmt::format("columns[{}]", c);
    if (!columns[c].is_object()) fail("{}: {} must be an object", origin, where);
    ReferenceColumn col;
    col.name = nonempty_string(columns[c], "name", where, origin);
    for (const auto& other : ref.columns)
      if (other.name == col.name) fail("{}: column \"{}\" appears twice", origin, col.name);
    const json& datasets =
        field(columns[c], "datasets", json::value_t::array, "an array", where, origin);
    if (datasets.empty()) fail("{}: {}.datasets is empty", origin, where);
    for (const json& d : datasets) {
      if (!d.is_string() || d.get<std::string>().empty())
        fail("{}: {}.datasets must hold non-empty strings", origin, where);
      auto [it, fresh] = owner.emplace(d.get<std::string>(), col.name);
      if (!fresh)
        fail("{}: dataset \"{}\" is claimed by columns \"{}\" and \"{}\"", origin, it->first,
             it->second, col.name);
      col.datasets.push_back(d.get<std::string>());
    }
    const std::string kind = nonempty_string(columns[c], "kind", where, origin);
    if (kind != "real" && kind != "synthetic")
      fail("{}: {}.kind must be \"real\" or \"synthetic\", found \"{}\"", origin, where, kind);
    col.synthetic = kind == "synthetic";
    ref.columns.push_back(std::move(col));
  }

  const json& rows = field(j, "rows", json::value_t::array, "an array", "the file", origin);
  if (rows.empty()) fail("{}: rows is empty", origin);
  std::set<std::string> models;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string where = fmt::format("rows[{}]", r);
    if (!rows[r].is_object()) fail("{}: {} must be an object", origin, where);
    ReferenceRow row;
    row.category = nonempty_string(rows[r], "category", where, origin);
    row.model = nonempty_string(rows[r], "model", where, origin);
    if (!models.insert(row.model).second) fail("{}: model \"{}\" appears twice", origin, row.model);
    const json& map = field(rows[r], "map", json::value_t::array, "an array", where, origin);
    if (map.size() != ref.columns.size())
      fail("{}: {}.map has {} values for {} columns", origin, where, map.size(),
           ref.columns.size());
    for (size_t c = 0; c < map.size(); ++c)
      row.map_percent.push_back(percent(map[c], fmt::format("{}.map[{}]", where, c), origin));
    if (auto it = rows[r].find("average_rank"); it != rows[r].end() && !it->is_null()) {
      if (!it->is_number() || !(it->get<double>() >= 1))
        fail("{}: {}.average_rank must be a number >= 1 or null, found {}", origin, where,
             it->dump());
      row.average_rank = it->get<double>();
    }
    ref.rows.push_back(std::move(row));
  }
  return ref;
}

Reference load_reference(const std::string& path) {
  return parse_reference(read_file(path), path);
}

}  // namespace repbench::records
