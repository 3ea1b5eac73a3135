// Per-query results in a record: the "per_query" block (schema repbench.record/2) and the file of
// each query's top database ids written beside the record. `eval`, `run` and the demo write
// them through write_eval_record() (records/eval_record.h); `compare`, `leaderboard --check
// --significant-only` and the failure pages read them back with read_per_query().
//
// The block, present in every "ok" record written from an evaluation:
//   "per_query": {
//     "images": ["query/0.jpg", ...],  // the query images as the set names them, in its order
//     "ap":     [0.53, null, 1.0],       // null = left out of the means (no positive)
//     "p@1": [...], "p@5": [...], ...    // one per metrics mp@K key
//     "recall@1": [...], ...             // one per metrics recall@K key, when the set has them
//     "queries_sha256": "<hex>",         // see queries_sha256()
//     "top_ids": {"file": "NAME.top100.npy", "k": 100}
//   }
// Arrays are indexed by query (i = the set's query i). Values are written at full double
// precision, so the mean of the non-null "ap" values, summed in index order, equals metrics.map.
// The block's arrays are written one line each (a record of 12,000 queries grows by < 1 MB).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repbench::records {

// How many database ids per query the file beside a record holds (fewer when the database is
// smaller).
inline constexpr int64_t kTopIds = 100;

// sha256 (hex) of the canonical text of a query list and its ground truth: per query one line
// "image\tok\tjunk\n", ok and junk as ascending 0-based ids joined by ','. Equal hashes = the
// same queries scored against the same ground truth.
std::string queries_sha256(const std::vector<std::string>& images,
                           const std::vector<std::vector<int64_t>>& ok,
                           const std::vector<std::vector<int64_t>>& junk);

// The file of top ids beside a record: "dir/x.json" -> "dir/x.top100.npy".
std::string top_ids_path(const std::string& record_path);

// The per-query data a reader needs.
struct PerQuery {
  std::vector<std::string> images;
  std::vector<double> ap;  // NaN = left out
  std::string queries_sha256;
  std::string top_ids_file;  // relative to the record's folder
  int64_t top_k = 0;
};

// The record's per-query data, or nullopt when it has none (a repbench.record/1 record, a /2
// record without the block, a skipped record): callers show such data as unavailable.
// Throws Error naming `where` when the block is malformed (see validate_per_query).
std::optional<PerQuery> read_per_query(const nlohmann::json& record, const std::string& where);

// Checks a "per_query" block: an object with "images" (strings), "ap" and every "p@K" /
// "recall@K" array (numbers in [0, 1] or null) of one length, "queries_sha256" (64 hex digits),
// "top_ids" {"file": a plain file name, "k" >= 0}. Throws Error "<where>: ..." on the first
// problem. Called by validate_record() for every record that has the block.
void validate_per_query(const nlohmann::json& block, const std::string& where);

}  // namespace repbench::records
