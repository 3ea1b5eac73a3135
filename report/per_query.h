// A record's per-query data (schema "repbench.record/2"): per-query AP, the hash of the query
// list and its ground truth, and each query's top database ids in a `.npy` beside the record.
// Arrays follow the set's query order; a null AP is a query left out of the mean (no positive).
// Read here for the failure pages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::report {

// sha256 (hex) of the canonical text of a set's queries and their ground truth: per query one
// line "image\tok ids comma-separated\tjunk ids comma-separated\n" (ids ascending, 0-based).
std::string queries_sha256(const datasets::RetrievalSet& set);

// A record's per-query data, as read from the record and its top-ids file.
struct PerQuery {
  std::string record_path;
  std::string model, dataset, set, protocol;
  std::vector<std::optional<double>> ap;  // per query; nullopt = left out (no positive)
  std::vector<std::string> images;
  std::string queries_sha256;
  std::string top_ids_path;  // resolved against the record's folder
  int64_t k = 0;             // columns of the top-ids array
  std::vector<int64_t> top_ids;  // [nq, k], row i = query i's db ids, best first
};

// Reads `record_path` (a record of schema /1 or /2) and its top-ids file. Throws a one-line Error
// naming the record when it is skipped, has no per-query data, holds a malformed per-query
// block, or its top-ids file is missing or of the wrong shape.
PerQuery read_per_query(const std::string& record_path);

// Checks that `pq` was scored on `set`'s queries (same count, equal queries_sha256, ids inside
// the database); throws a one-line Error naming the record and the set's annotation file
// otherwise.
void check_same_queries(const PerQuery& pq, const datasets::RetrievalSet& set);

}  // namespace repbench::report
