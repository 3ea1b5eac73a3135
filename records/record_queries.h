// A record's per-query data together with its top-ids file, checked against the set it claims:
// what the failure pages (report/failure_page.h, `repbench explain`) read. The block itself is
// parsed by records/per_query.h; this adds the ids file and the set check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::records {

// A record's per-query data, as read from the record and its top-ids file.
struct RecordQueries {
  std::string record_path;
  std::string model, dataset, set, protocol;
  std::vector<std::optional<double>> ap;  // per query; nullopt = left out (no positive)
  std::vector<std::string> images;
  std::string queries_sha256;
  std::string top_ids_path;      // resolved against the record's folder
  int64_t k = 0;                 // columns of the top-ids array
  std::vector<int64_t> top_ids;  // [nq, k], row i = query i's db ids, best first
};

// records::queries_sha256 of a loaded set's queries and evaluation lists (what write_eval_record
// hashes), so that a record can be matched with the set it is said to be scored on.
std::string set_queries_sha256(const datasets::RetrievalSet& set);

// Reads `record_path` (a record of schema /1 or /2) and its top-ids file. Throws a one-line Error
// naming the record when it is skipped, has no per-query data, holds a malformed per-query
// block, or its top-ids file is missing or of the wrong shape.
RecordQueries read_record_queries(const std::string& record_path);

// Checks that `rq` was scored on `set`'s queries (same count, equal queries_sha256, ids inside
// the database); throws a one-line Error naming the record and the set's annotation file
// otherwise.
void check_same_queries(const RecordQueries& rq, const datasets::RetrievalSet& set);

}  // namespace repbench::records
