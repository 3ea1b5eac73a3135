#include "datasets/gnd_json.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::datasets {

namespace {

const char* json_type(const json& j) {
  if (j.is_number_integer()) return "an integer";
  if (j.is_number_float()) return "a number with a fraction";
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a value of another type";
  }
}

// Short rendering of a value for messages (long arrays would make the line unreadable).
std::string brief(const json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  RetrievalSet read() {
    const std::string text = read_file(path_);
    json top;
    try {
      top = json::parse(text);
    } catch (const json::exception& e) {  // parse_error; out_of_range for a number beyond double
      // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep line and column.
      std::string what = e.what();
      const size_t close = what.find("] ");
      if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
        what = what.substr(close + 2);
      fail("{}: not valid JSON: {}", path_, what);
    }
    if (!top.is_object())
      fail("{}: the top level is {}, expected an object", path_, json_type(top));
    // The schema first: a file of another version is reported as such, not by its keys.
    const json& schema = member(top, "", "schema");
    if (!schema.is_string() || schema.get<std::string>() != kGndJsonSchema)
      fail("{}: schema is {}, expected \"{}\"", path_, brief(schema), kGndJsonSchema);
    check_keys(top, "", {"schema", "name", "db", "queries", "recall_ks", "metric", "meta"});

    RetrievalSet set;
    set.source = path_;
    set.protocol = "default";
    set.crop_queries = true;
    const std::string parent = fs::path(path_).parent_path().string();
    set.root = parent.empty() ? "." : parent;
    set.name = nonempty_string(member(top, "", "name"), "name");

    const json& db = array(member(top, "", "db"), "db");
    set.db.reserve(db.size());
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < db.size(); ++i) {
      std::string where = fmt::format("db[{}]", i);
      set.db.push_back(image_path(db[i], where));
      auto [it, inserted] = seen.emplace(set.db.back(), i);
      if (!inserted)
        fail("{}: {} = \"{}\" repeats db[{}]", path_, where, set.db.back(), it->second);
    }

    const json& queries = array(member(top, "", "queries"), "queries");
    set.queries.reserve(queries.size());
    for (size_t i = 0; i < queries.size(); ++i)
      set.queries.push_back(query(queries[i], fmt::format("queries[{}]", i), set.db.size()));

    // Without a "metric" object the set is scored as revisitop's compute_map does.
    set.metric = top.contains("metric") ? metric_from_json(top.at("metric"), path_)
                                        : revisitop_metric(" (gnd.json without a metric object)");
    if (top.contains("recall_ks")) {  // the older form of metric.recall_ks
      const json& ks = array(top.at("recall_ks"), "recall_ks");
      std::vector<int> recall_ks;
      for (size_t k = 0; k < ks.size(); ++k) {
        if (!ks[k].is_number_integer() || ks[k].get<int64_t>() < 1 ||
            ks[k].get<int64_t>() > std::numeric_limits<int>::max())
          fail("{}: recall_ks[{}] = {} is not a positive integer", path_, k, brief(ks[k]));
        recall_ks.push_back(ks[k].get<int>());
      }
      if (top.contains("metric") && recall_ks != set.metric.recall_ks)
        fail("{}: recall_ks {} differs from metric.recall_ks {}", path_, ks.dump(),
             json(set.metric.recall_ks).dump());
      set.metric.recall_ks = recall_ks;
    }
    if (top.contains("meta")) {
      const json& meta = top.at("meta");
      if (!meta.is_object()) fail("{}: meta is {}, expected an object", path_, json_type(meta));
      set.meta = meta;
    }
    set.Check();  // cannot fail after the checks above; kept as the shared definition
    return set;
  }

 private:
  void check_keys(const json& obj, const std::string& where,
                  std::initializer_list<const char*> allowed) {
    for (const auto& item : obj.items()) {
      if (std::none_of(allowed.begin(), allowed.end(),
                       [&](const char* k) { return item.key() == k; })) {
        std::string list;
        for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
        fail("{}: {}unexpected key \"{}\" (expected {})", path_, where.empty() ? "" : where + ": ",
             item.key(), list);
      }
    }
  }

  const json& member(const json& obj, const std::string& where, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end())
      fail("{}: {}missing key \"{}\"", path_, where.empty() ? "" : where + ": ", key);
    return *it;
  }

  const json& array(const json& j, const std::string& where) {
    if (!j.is_array()) fail("{}: {} is {}, expected an array", path_, where, json_type(j));
    return j;
  }

  std::string nonempty_string(const json& j, const std::string& where) {
    if (!j.is_string()) fail("{}: {} is {}, expected a string", path_, where, json_type(j));
    std::string s = j.get<std::string>();
    if (s.empty()) fail("{}: {} is an empty string", path_, where);
    return s;
  }

  std::string image_path(const json& j, const std::string& where) {
    std::string s = nonempty_string(j, where);
    if (fs::path(s).is_absolute())
      fail("{}: {} = \"{}\" is an absolute path; image paths are relative to the file's folder",
           path_, where, s);
    return s;
  }

  Query query(const json& q, const std::string& where, size_t db_size) {
    if (!q.is_object()) fail("{}: {} is {}, expected an object", path_, where, json_type(q));
    check_keys(q, where, {"image", "bbx", "ok", "junk", "group"});
    Query out;
    out.image = image_path(member(q, where, "image"), where + ".image");
    if (q.contains("bbx")) out.bbx = box(q.at("bbx"), where + ".bbx");
    out.ok = indices(member(q, where, "ok"), where + ".ok", db_size);
    if (q.contains("junk")) out.junk = indices(q.at("junk"), where + ".junk", db_size);
    if (q.contains("group")) {
      const json& g = q.at("group");
      if (!g.is_string()) fail("{}: {}.group is {}, expected a string", path_, where, json_type(g));
      out.group = g.get<std::string>();
    }
    // Both lists are sorted by now, so a merge finds the overlap.
    std::vector<int64_t> both;
    std::set_intersection(out.ok.begin(), out.ok.end(), out.junk.begin(), out.junk.end(),
                          std::back_inserter(both));
    if (!both.empty()) fail("{}: {}: index {} is in both ok and junk", path_, where, both.front());
    return out;
  }

  std::array<double, 4> box(const json& j, const std::string& where) {
    if (!j.is_array() || j.size() != 4 ||
        !std::all_of(j.begin(), j.end(), [](const json& v) { return v.is_number(); }))
      fail("{}: {} = {} is not 4 numbers [x1, y1, x2, y2]", path_, where, brief(j));
    std::array<double, 4> b;
    for (size_t k = 0; k < 4; ++k) b[k] = j[k].get<double>();
    if (!std::all_of(b.begin(), b.end(), [](double v) { return std::isfinite(v); }))
      fail("{}: {} = {} holds a non-finite number", path_, where, brief(j));
    if (!(b[0] < b[2]) || !(b[1] < b[3]))
      fail("{}: {} = {} is empty or inverted (needs x1 < x2 and y1 < y2)", path_, where, brief(j));
    return b;
  }

  std::vector<int64_t> indices(const json& j, const std::string& where, size_t db_size) {
    array(j, where);
    std::vector<int64_t> out;
    out.reserve(j.size());
    std::unordered_map<int64_t, size_t> first;  // index -> position, to name a repeat
    for (size_t k = 0; k < j.size(); ++k) {
      const json& v = j[k];
      if (!v.is_number_integer())
        fail("{}: {}[{}] is {}, expected an integer index into db", path_, where, k, json_type(v));
      const bool too_big =
          v.is_number_unsigned() && v.get<uint64_t>() >= static_cast<uint64_t>(db_size);
      const int64_t idx = too_big ? -1 : v.get<int64_t>();
      if (too_big || idx < 0 || idx >= static_cast<int64_t>(db_size))
        fail("{}: {}[{}] = {} is outside the database of {} images", path_, where, k, v.dump(),
             db_size);
      auto [it, inserted] = first.emplace(idx, k);
      if (!inserted)
        fail("{}: {}[{}] = {} repeats {}[{}]", path_, where, k, idx, where, it->second);
      out.push_back(idx);
    }
    // Order carries no meaning in the file (a set of indices), so an unsorted list is accepted
    // and sorted here; repeats were refused above, since silently merging them would hide a bug
    // in whatever wrote the file.
    std::sort(out.begin(), out.end());
    return out;
  }

  const std::string& path_;
};

// An absolute, normalised folder path without a trailing separator.
fs::path normal_dir(const std::string& dir) {
  fs::path p = fs::absolute(dir.empty() ? fs::path(".") : fs::path(dir)).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

}  // namespace

RetrievalSet read_gnd_json(const std::string& path) {
  return Reader(path).read();
}

void write_gnd_json(const RetrievalSet& set, const std::string& path) {
  set.Check();
  const std::string parent = fs::path(path).parent_path().string();
  const fs::path to = normal_dir(parent);
  const bool rebase = !set.root.empty() && normal_dir(set.root) != to;
  const fs::path from = set.root.empty() ? to : normal_dir(set.root);
  auto rel = [&](const std::string& p) -> std::string {
    fs::path fp(p);
    if (!rebase && !fp.is_absolute()) return p;
    return (fp.is_absolute() ? fp : (from / fp)).lexically_normal().lexically_relative(to).string();
  };

  // One db path per line and one query per line: readable, and diffs stay small.
  std::string out;
  try {
    out += "{\n";
    out += fmt::format("  \"schema\": {},\n", json(kGndJsonSchema).dump());
    out += fmt::format("  \"name\": {},\n", json(set.name).dump());
    out += "  \"db\": [";
    for (size_t i = 0; i < set.db.size(); ++i)
      out += fmt::format("{}\n    {}", i ? "," : "", json(rel(set.db[i])).dump());
    out += set.db.empty() ? "],\n" : "\n  ],\n";
    out += "  \"queries\": [";
    for (size_t i = 0; i < set.queries.size(); ++i) {
      const Query& q = set.queries[i];
      nlohmann::ordered_json jq;  // keys in the documented order
      jq["image"] = rel(q.image);
      if (q.bbx && set.crop_queries) jq["bbx"] = *q.bbx;
      jq["ok"] = q.ok;
      jq["junk"] = q.junk;
      if (!q.group.empty()) jq["group"] = q.group;
      out += fmt::format("{}\n    {}", i ? "," : "", jq.dump());
    }
    out += set.queries.empty() ? "]" : "\n  ]";
    out += fmt::format(",\n  \"metric\": {}", set.metric.to_json().dump());
    if (!set.meta.is_null() && !set.meta.is_object())
      fail("{}: set '{}' has meta of type {}, expected an object", path, set.name,
           set.meta.type_name());
    if (set.meta.is_object() && !set.meta.empty()) {
      std::string meta = set.meta.dump(2);
      for (size_t p = meta.find('\n'); p != std::string::npos; p = meta.find('\n', p + 3))
        meta.replace(p, 1, "\n  ");  // indent the object to sit inside the top level
      out += ",\n  \"meta\": " + meta;
    }
    out += "\n}\n";
  } catch (const json::exception& e) {
    fail("{}: cannot write set '{}' as JSON: {}", path, set.name, e.what());
  }
  write_file_atomic(path, out);
}

}  // namespace repbench::datasets
