// What a scan found and the record's scan fields made from it: the one assembly of scan.json's
// body shared by the in-memory scan (scan/scan.cpp), the streamed exact scan
// (scan/stream_scan.cpp), the streamed index scan (scan/stream_index.cpp) and the merge of partial
// scans.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scan/baseline.h"
#include "scan/index.h"
#include "scan/scan_params.h"

namespace repbench::scan {

struct ScanGroups;  // scan/groups.h

// What a scan found, before it becomes a record (the in-memory, streamed and merged scans all
// assemble their record from these).
struct ScanPieces {
  SearchOutcome found;     // top-k of every generation and how it was searched
  int64_t train_rows = 0;  // training rows searched
  Baseline baseline;
  std::vector<int64_t> distinct;       // distinct top-1 training rows counted (duplicate_rows)
  std::vector<int64_t> duplicates;     // their duplicate counts
  bool exact_duplicates = true;        // counted over the whole set (else among index neighbours)
  const ScanGroups* groups = nullptr;  // adds the record's "groups" (scan/groups.h)
};
// The record's scan fields (as scan_descriptors returns them); train_path(id) names a row.
nlohmann::json record_body(const ScanPieces& pieces,
                           const std::vector<std::string>& generated_paths,
                           const std::function<const std::string&(int64_t)>& train_path,
                           bool split_product, const ScanParams& params);
// One line naming the problem: no rows on a side, or row sizes that differ.
void check_scan_inputs(int64_t generated_rows, int64_t generated_row_size, int64_t train_rows,
                       int64_t train_row_size);

}  // namespace repbench::scan
