// The exact scan with the training descriptors on disk (scan/descriptor_stream.h): the training
// rows are read block by block, L2-normalised, and every block is searched by the blocked GEMM +
// running top-k of metrics/topk.h, its lists merged into the running ones (merge_topk). Peak
// memory is the generated set, two blocks of training rows (one searched, one read meanwhile) and the search's score buffers, not
// the training set.
//
// One pass over the stream finds every generation's top-k and the self-similarity baseline
// sample's top-2 (its rows are chosen in advance). The duplicates of the top-1 matches chosen by
// duplicate_rows() are known only after it: they are counted from the sketch the pass wrote
// (scan/duplicate_sketch.h; exact counts, only the rows the sketch cannot rule out are read
// again), or, for token rows, short rows or when the sketch prunes too little, by a second pass
// over the same blocks (none when no count is taken).
//
// Identical results: every score comes from exact_search()'s reference rescoring (scan/index.h)
// and duplicate counts near the threshold are decided by it too, so neither depends on how the
// training rows are cut into blocks, files or a job array's shards. The streamed scan therefore
// equals scan_descriptors() with an exact index over the same rows in memory, ids and scores,
// and the merge of partial scans equals the streamed scan over all shards. Blocks are a multiple
// of 8192 rows (rounded up) and cover list rows [j B, (j + 1) B), cut at file boundaries: a
// shard read alone is cut exactly as in the scan of all shards.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "metrics/topk.h"
#include "scan/baseline.h"
#include "scan/descriptor_stream.h"
#include "scan/index.h"
#include "scan/scan_params.h"

namespace repbench::scan {

struct ScanGroups;  // scan/groups.h

struct StreamOptions {
  int64_t block_rows = 65536;  // training rows per block, rounded up to a multiple of 8192
  int threads = 0;             // 0 = all cores
  // Duplicate counts from a sketch written in pass 1 (scan/duplicate_sketch.h) instead of a
  // second pass over the files: its dimensions (0 = always the second pass). Used for
  // inner-product rows of at least 2 x sketch_dims values; the sketch file goes to scratch_dir
  // (empty: the system's temporary folder).
  int64_t sketch_dims = 64;
  std::string scratch_dir;
  // Progress of `scan merge`'s pass over the shards (DescriptorStream::show_progress).
  ProgressMode progress = ProgressMode::kOff;
  // Exact search's candidate pass (scan/index.h ExactSearchOptions); `stats`, when given, counts
  // the candidates every block's search rescored.
  metrics::Precision precision = metrics::Precision::kAuto;
  RescoreStats* stats = nullptr;

  void Check() const;  // throws Error: block_rows < 1, threads < 0, sketch_dims < 0
  int64_t rows_per_block() const;  // block_rows rounded up to a multiple of 8192
};

// Pass 1: the top-k of `queries` (L2-normalised, the stream's row layout) among all rows of
// `train` (each normalised as it is read). Ids are stream rows. With `query_groups` and
// `train_groups` (scan/groups.h), each query only among the rows of its group. The list form
// serves several query sets in one pass over the stream, each with its own k and groups (one
// result each, in order).
metrics::TopKResult stream_topk(const DescriptorStream& train, const FloatArray& queries,
                                bool split_product, int64_t k, const StreamOptions& options,
                                const std::vector<int32_t>* query_groups = nullptr,
                                const std::vector<int32_t>* train_groups = nullptr);
struct StreamQueries {
  const FloatArray* queries;
  int64_t k;
  const std::vector<int32_t>* groups = nullptr;  // searched within groups when train_groups
};
// `each_block`, when given, also sees every L2-normalised block (on the reading thread, in block
// order, before the block is searched).
std::vector<metrics::TopKResult> stream_topk(
    const DescriptorStream& train, const std::vector<StreamQueries>& searches, bool split_product,
    const StreamOptions& options, const std::vector<int32_t>* train_groups = nullptr,
    const std::function<void(const FloatArray&)>& each_block = {});

// The pass over all rows that a merge of partial scans needs (and the streamed scan's pass 2,
// with no `sampled` rows): the baseline of `sampled` rows (baseline_rows()) and the exact
// duplicate counts of `dup_rows` (stream rows) above `dup_threshold`. No pass when both are empty.
// With `train_groups`, the baseline within each sampled row's group (within_group_baseline_rows());
// duplicates are counted over all rows.
struct SecondPass {
  Baseline baseline;
  std::vector<int64_t> duplicates;  // one per dup_rows entry
};
SecondPass stream_baseline_and_duplicates(const DescriptorStream& train, bool split_product,
                                          std::vector<int64_t> sampled,
                                          const std::vector<int64_t>& dup_rows,
                                          double dup_threshold, const StreamOptions& options,
                                          const std::vector<int32_t>* train_groups = nullptr);

// The whole scan as scan_descriptors() returns it (exact search), plus "stream": {"block_rows",
// "blocks", "peak_rows", "peak_bytes", "passes" (over the files), "read_wait_seconds" (the search
// waiting for the reading thread: the disk, when it is the limit), "duplicate_sketch" ({"dims",
// "bytes", "used", "candidates", "rows_read"}, null when no sketch was written)}. `generated` is
// L2-normalised. `groups`: as scan_descriptors().
nlohmann::json scan_streamed(const FloatArray& generated,
                             const std::vector<std::string>& generated_paths,
                             const DescriptorStream& train, bool split_product,
                             const ScanParams& params, const StreamOptions& options,
                             metrics::TopKResult* matches = nullptr,
                             const ScanGroups* groups = nullptr);

}  // namespace repbench::scan
