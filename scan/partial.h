// Partial scans, for job arrays: each task of `repbench scan ... --train-descriptors SHARD_I
// --partial OUT_I` searches the generations in one training shard and writes OUT_I, a JSON file:
//
//   {"format": "repbench-scan-partial", "format_version": 1,
//    "run": {what every partial of one scan shares: model, decoding, similarity, k, thresholds,
//            dup_threshold, baseline_sample, seed, the generated set (source, listed, paths
//            sha256, count) and the training list (list_sha256, total, shard count)},
//    "shard": {"index": i, "count": N, "begin": b, "end": e, "npy": absolute path of SHARD_I},
//    "generated": {"paths": [...], "skipped": [{"index", "path", "error"}]},
//    "ids": [nq x k list indices in the whole training list, -1 = none],
//    "scores": [nq x k], "seconds": s,
//    "context": the task's record_context() (core/record_envelope.h): versions, date, host}
//
// `repbench scan merge OUT_*` (run_merge in scan/scan.h) checks that the partials are one scan's
// and tile its shards, merges their top-k (global indices, the tie rule of metrics/topk.h) and
// runs the second pass (baseline sample and duplicate counts) over all shards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/topk.h"
#include "models/pipeline.h"

namespace repbench::scan {

struct PartialScan {
  nlohmann::json run;                        // compared as a whole across partials
  int64_t index = 0, count = 1, begin = 0, end = 0;
  std::string npy;                           // the shard's descriptor file
  std::vector<std::string> generated_paths;  // rows of ids/scores
  std::vector<models::FailedImage> generated_failed;
  metrics::TopKResult topk;                  // ids: indices in the whole training list
  double seconds = 0;
  // Who ran the task, where and when (core/record_envelope.h's record_context()); null in a file
  // written before the field. Not compared across partials: tasks of one array run on many hosts.
  nlohmann::json context;
};

// Writes `p` to `path` atomically.
void write_partial(const PartialScan& p, const std::string& path);

// Parses a partial file; throws Error naming `path` and the problem (not JSON, another format,
// a missing or mistyped field, ids/scores of the wrong size, an id outside the shard).
PartialScan parse_partial(const std::string& text, const std::string& path);
PartialScan read_partial(const std::string& path);

// Checks that `partials` (read from `paths`) are one scan's and hold each shard 0..N-1 once;
// returns their positions in shard order. Throws Error naming the missing, repeated or foreign
// partial.
std::vector<size_t> check_partials(const std::vector<PartialScan>& partials,
                                   const std::vector<std::string>& paths);

}  // namespace repbench::scan
