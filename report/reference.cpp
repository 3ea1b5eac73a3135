#include "report/reference.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench::report {

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

std::vector<std::string> add_reference_rows(const Reference& reference,
                                            std::vector<ScoreEntry>& entries,
                                            bool include_synthetic) {
  std::vector<std::string> user_datasets;  // first-seen order
  for (const ScoreEntry& e : entries)
    if (std::find(user_datasets.begin(), user_datasets.end(), e.dataset) == user_datasets.end())
      user_datasets.push_back(e.dataset);

  // Published column -> the user's dataset label it matches (a user with records of two labels
  // of one column would be ranked twice against it: the first label seen wins, the other is
  // left out with the unmatched ones).
  std::vector<std::optional<std::string>> matched(reference.columns.size());
  std::vector<std::string> synthetic_skipped, unpublished;
  std::set<std::string> kept;
  for (size_t c = 0; c < reference.columns.size(); ++c) {
    const ReferenceColumn& col = reference.columns[c];
    for (const std::string& d : user_datasets) {
      if (std::find(col.datasets.begin(), col.datasets.end(), d) == col.datasets.end()) continue;
      if (col.synthetic && !include_synthetic) {
        synthetic_skipped.push_back(d);
        break;
      }
      matched[c] = d;
      kept.insert(d);
      break;
    }
  }
  for (const std::string& d : user_datasets)
    if (!kept.count(d) &&
        std::find(synthetic_skipped.begin(), synthetic_skipped.end(), d) == synthetic_skipped.end())
      unpublished.push_back(d);
  if (kept.empty())
    fail(
        "{}: none of its columns matches a dataset of the records ({}); the real sets are "
        "matched by the lineage protocols' labels, e.g. roxford5k-dcr (M){}",
        reference.origin, fmt::join(user_datasets, ", "),
        synthetic_skipped.empty() ? "" : "; synthetic sets need --reference-synthetic");

  std::vector<ScoreEntry> published;
  for (const ReferenceRow& row : reference.rows)
    for (size_t c = 0; c < reference.columns.size(); ++c) {
      if (!matched[c] || !row.map_percent[c]) continue;
      ScoreEntry e;
      e.model = row.model + kPublishedMark;
      e.category = row.category;
      e.dataset = *matched[c];
      e.map_percent = *row.map_percent[c];
      e.published = true;
      e.origin = fmt::format("{} ({}, {})", reference.origin, row.model, reference.columns[c].name);
      published.push_back(std::move(e));
    }
  // Published rows first: their categories lead, and the user's rows join them.
  std::vector<ScoreEntry> merged = std::move(published);
  for (ScoreEntry& e : entries)
    if (kept.count(e.dataset)) merged.push_back(std::move(e));
  entries = std::move(merged);

  std::vector<std::string> notes;
  notes.push_back(fmt::format(
      "\u2020 published: {} Ranked by mAP over the columns both have; published rows have no "
      "per-query data, so they take no part in the rank intervals or the critical-difference "
      "diagram",
      reference.citation));
  std::string pairs;
  for (size_t c = 0; c < reference.columns.size(); ++c)
    if (matched[c])
      pairs += fmt::format("{}{} = published {}", pairs.empty() ? "" : "; ", *matched[c],
                           reference.columns[c].name);
  notes.push_back("Columns compared: " + pairs);
  if (!synthetic_skipped.empty())
    notes.push_back(fmt::format(
        "Left out: {} (synthetic sets are comparable only when built from the paper's own "
        "images; --reference-synthetic compares them anyway)",
        fmt::join(synthetic_skipped, ", ")));
  if (!unpublished.empty())
    notes.push_back(
        fmt::format("Left out (no published column): {}", fmt::join(unpublished, ", ")));
  return notes;
}

}  // namespace repbench::report
