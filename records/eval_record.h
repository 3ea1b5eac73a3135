// Building result records from an evaluation: the one place that turns an EvalResult into the
// "metrics" block, the "per_query" block (records/per_query.h) with the top-ids file, and the
// record around them, shared by `repbench eval` and `repbench run`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/evaluate.h"
#include "records/per_query.h"  // the per_query block, kTopIds

namespace repbench::records {

// The "metrics" block: map, map_ci95 (null when no bootstrap), mp@k for each k, recall@K for
// each recall K, queries_scored, queries_empty, and "map_by_group" (mean AP of the queries of
// each group, in first-seen order) when `query_groups` ([nq], "" = no group) names any group.
nlohmann::json eval_metrics_json(const metrics::EvalResult& result,
                                 const metrics::EvalOptions& options,
                                 const std::vector<std::string>& query_groups);

// What a record says besides its metrics.
struct RecordHeader {
  nlohmann::json model;     // {"name", "category", "spec", ...}
  std::string set;          // machine name, e.g. "roxford5k"
  std::string protocol;     // e.g. "medium"
  std::string similarity;   // "inner-product" | "split-product"
  nlohmann::json inputs = nlohmann::json::object();   // files with sha256
  nlohmann::json options = nlohmann::json::object();  // options that shaped the numbers
  nlohmann::json timings = nlohmann::json::object();
  uint64_t seed = 0;
};

// A complete "ok" record (schema, dataset label, context included).
nlohmann::json make_eval_record(const RecordHeader& header, const nlohmann::json& metrics_block);

// A "skipped" record: the row still appears in the leaderboard, marked with the reason.
nlohmann::json make_skipped_record(const RecordHeader& header, const std::string& reason);

// What an evaluation's per-query results are made of: the result (with top ids, i.e. run with
// EvalOptions::top_k > 0), its options, and the set's query images and the ok/junk lists they
// were scored against ([nq] each).
struct QueryResults {
  const metrics::EvalResult* result = nullptr;
  const metrics::EvalOptions* options = nullptr;
  const std::vector<std::string>* images = nullptr;
  const std::vector<std::vector<int64_t>>* ok = nullptr;
  const std::vector<std::vector<int64_t>>* junk = nullptr;
};

// Writes an evaluation's record with its per-query results: first the top ids ([nq, k], int32
// when the database has < 2^31 images, else int64) to top_ids_path(path), then `record` with the
// "per_query" block added, both atomically (the record, written last, never names a file that is
// not there). Throws Error when sizes disagree or the result has no top ids.
void write_eval_record(const std::string& path, nlohmann::json record, const QueryResults& q);

}  // namespace repbench::records
