// Duplicate counts of a scan: which training rows get one (duplicate_rows) and, for each, how
// many OTHER training rows score above the duplicate threshold against it, exactly (blocked over
// the whole set) or among an index's neighbours. Public (not scan/impl/): the tests pin them.
#pragma once

#include <cstdint>
#include <vector>

#include "core/npy.h"
#include "metrics/topk.h"
#include "scan/index.h"
#include "scan/scan_params.h"

namespace repbench::scan {

// For each of `rows`, how many OTHER training rows score > threshold against it. Exact (blocked
// over the whole set) when `index` is exact; otherwise among the `cap` nearest neighbours the
// index returns (a count of `cap` means "at least cap").
std::vector<int64_t> count_duplicates(const FloatArray& train, bool split_product,
                                      const std::vector<int64_t>& rows, double threshold,
                                      const TrainIndex& index, int64_t cap, int threads);

// count_duplicates with an approximate index: `queries` holds the vectors of `rows` (row-major,
// L2-normalised) of a training set of n rows; counted among the min(cap + 1, n) neighbours the
// index returns, capped at `cap`.
std::vector<int64_t> count_index_duplicates(const float* queries, const std::vector<int64_t>& rows,
                                            int64_t n, double threshold, const TrainIndex& index,
                                            int64_t cap);

// The exact kernel of count_duplicates over one slice of the training set: adds to counts[i] the
// rows of `block` (training rows first_row, first_row + 1, ...) that score > threshold against
// query row i (row-major, the block's row layout) and are not training row self[i].
void add_duplicate_counts(const float* queries, const std::vector<int64_t>& self,
                          const FloatArray& block, int64_t first_row, bool split_product,
                          double threshold, int threads, std::vector<int64_t>& counts);

// Ascending distinct top-1 ids whose duplicates are counted (ScanParams::duplicate_sample): those
// of every generation with top-1 above the lowest threshold and of a seeded sample of the rest.
std::vector<int64_t> duplicate_rows(const metrics::TopKResult& topk, const ScanParams& params);

}  // namespace repbench::scan
