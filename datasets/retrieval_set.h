// RetrievalSet: what every loader produces and every evaluation consumes.
//
// A set is a database image list and a list of queries; each query has its positives (`ok`) and
// ignored images (`junk`) as 0-based indices into `db`, and an optional crop box. Descriptor
// matrices that go with a set have one row per db image (in `db` order) and one row per query (in
// `queries` order). A query may itself be a db image (leave-in protocols such as GPR1200, where it
// counts as its own positive) or list itself in `junk` (leave-one-out).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/metric_spec.h"

namespace repbench::datasets {

struct Query {
  std::string image;                         // path relative to RetrievalSet::root
  std::optional<std::array<double, 4>> bbx;  // crop box x1, y1, x2, y2 (0-based pixels)
  std::vector<int64_t> ok;                   // positives, indices into db (sorted ascending)
  std::vector<int64_t> junk;                 // ignored, indices into db (sorted ascending)
  std::string group;  // subset the query belongs to (e.g. GPR1200's six sources); "" = none
};

struct RetrievalSet {
  std::string name;        // e.g. "roxford5k" or a gnd.json's "name"
  std::string protocol;    // e.g. "medium"; "default" for a gnd.json
  std::string root;        // folder that image paths are relative to ("" when unknown)
  std::string source;      // the annotation file it was read from
  std::vector<std::string> db;
  std::vector<Query> queries;
  bool crop_queries = true;  // whether bbx crops are applied when images are loaded
  MetricSpec metric;         // how the set is scored (the registry's declaration, or gnd.json's)
  nlohmann::json meta = nlohmann::json::object();

  int64_t positives_total() const;
  int64_t junk_total() const;
  // Queries whose ok set is non-empty (the ones that are scored).
  int64_t scorable_queries() const;
  // Throws Error (naming `source`) when an index is out of range or a list is unsorted.
  void Check() const;
  // The per-query lists metrics::evaluate() takes, and each query's group ("" when none).
  struct Lists {
    std::vector<std::vector<int64_t>> ok, junk;
    std::vector<std::string> groups;
  };
  Lists evaluation_lists() const;
};

}  // namespace repbench::datasets
