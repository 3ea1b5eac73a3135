// What a scan computes, independent of where its descriptors come from (ScanParams), shared by
// the in-memory driver (scan/scan.h), the streamed paths (scan/stream_scan.h,
// scan/stream_index.h) and the pieces they assemble a record from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scan/index.h"

namespace repbench::scan {

// What a scan computes, independent of where the descriptors come from.
struct ScanParams {
  int64_t k = 5;                        // matches per generation
  std::vector<double> thresholds{0.5};  // "above" counts: score > threshold, each in [-1, 1]
  double dup_threshold = 0.95;          // a training image duplicates another when score > this
  int64_t baseline_sample = 1000;       // training images in the self-similarity baseline
  int64_t duplicate_cap = 100;          // approximate index: neighbours examined per match
  // Whose top-1 match gets a duplicate count (duplicate_rows): every generation above the lowest
  // threshold, plus a seeded sample of this many of the others (the paper's Fig. 9 used 1,000
  // random matches); -1 = every generation. Each count is a pass over the whole training set's
  // rows, so at LAION scale counting all 10,000 matches would double the scan.
  int64_t duplicate_sample = 1000;
  IndexOptions index;  // exact / IVF / HNSW choice and tuning
  uint64_t seed = 0;   // baseline and recall samples

  void Check() const;  // throws Error: k < 1, a threshold outside [-1, 1], ...
};

// "0.5,0.7" or repeated flags -> thresholds; throws Error quoting a bad value.
std::vector<double> parse_thresholds(const std::vector<std::string>& texts);

}  // namespace repbench::scan
