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
//    "context": the task's record_context() (records/record_envelope.h): versions, date, host,
//    and, from format_version 2, what the merge needs instead of reading the shards again:
//    "train": {"paths": [the shard's slice of the list], "failed": [{"index", "path", "error"}],
//              "row_shape": [...]},
//    "baseline": {"rows": [the sampled rows of the whole set, baseline_rows()], "ids": [S x 2
//                 list indices: each sampled row's two best rows in this shard], "scores": [S x 2]},
//    "duplicates": null (split-product rows) or {"floor": [nq: the generation's entries are its
//                 best rows in the shard scoring at least this], "bound": [nq: the score of its
//                 B-th best row in the shard, -1e300 when it has fewer: every row outside its B
//                 best scores at most this], "entries": [nq lists of list indices], "rows": [their
//                 list indices, ascending], "values": [rows x row values, L2-normalised]},
//    "groups": null, or {"names": [every group], "generated": [the generations' group ids],
//                 "train": [the group id of each readable row of the shard]} ([] without a file)}
//
// `repbench scan merge OUT_*` (run_merge in scan/scan.h) checks that the partials are one scan's
// and tile its shards, merges their top-k (global indices, the tie rule of metrics/topk.h), the
// baseline's top-2 likewise, and counts the duplicates of the matches from the entries (docs/
// cluster.md says why they are complete): the training shards are not read. Only a match whose
// entries may be incomplete (a low-scoring generation counted by --duplicate-sample, whose
// duplicates can lie anywhere) or a partial of format_version 1 sends the merge back to the shard
// files (a pass over them for those counts).
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
  // Who ran the task, where and when (records/record_envelope.h's record_context()); null in a file
  // written before the field. Not compared across partials: tasks of one array run on many hosts.
  nlohmann::json context;

  // format_version 2 (false when read from a version 1 file: the merge reads the shards).
  bool carries_shares = false;
  std::vector<std::string> train_paths;             // the shard's slice of the list
  std::vector<models::FailedImage> train_failed;    // index: in the whole list
  std::vector<int64_t> row_shape;
  std::vector<int64_t> baseline_rows;               // sampled rows of the whole set
  metrics::TopKResult baseline_top2;                // their best two in the shard (list indices)
  // Duplicate entries (none for split-product rows: has_duplicates false).
  bool has_duplicates = false;
  std::vector<float> floor;                          // one per generation
  std::vector<float> bound;                          // one per generation
  std::vector<std::vector<int64_t>> entries;         // one list per generation
  std::vector<int64_t> entry_rows;                   // list indices, ascending
  FloatArray entry_values;                           // [entry_rows, row_shape...]
  // Groups (--generated-groups, --train-groups), assigned over the whole list by the task: all
  // group names, the generations' groups (empty without the file) and the shard's readable rows'.
  bool has_groups = false;
  std::vector<std::string> group_names;
  std::vector<int32_t> group_generated, group_train;
};

// The generations' duplicate entries of a shard are its best rows scoring at least a floor: the
// duplicates of a match scoring s with the generation score at least duplicate_need(s) with it
// (the angles' triangle inequality), and a match counted because s > the lowest threshold has
// s >= max(lowest, the shard's best), so the floor is duplicate_need of that.
// The score every duplicate of a match that scores `match_score` with the generation reaches with
// that generation (less the margin of the rounding); -1 when the angles leave no bound.
double duplicate_need(double match_score, double dup_threshold);

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
