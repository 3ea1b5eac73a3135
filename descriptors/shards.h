// Sharded descriptors, for job arrays: `repbench extract --images SRC --shard i/N` writes the
// descriptors of the i-th of N contiguous slices of SRC's image list as X.npy through the feature
// cache, then X.shard.json (written last: it marks the shard complete):
//
//   {"format": "repbench-shard", "format_version": 1, "model": SPEC, "decoding": MODE,
//    "source": SRC, "list_sha256": sha256 of the whole list, "total": n, "index": i, "count": N,
//    "begin": b, "end": e, "shape": [...], "paths": [the slice's paths],
//    "failed": [{"index": global index, "path", "reason"}]}
//
// MODE is models::decoding_name() of the extraction ("full", or "reduced-jpeg" under
// --fast-decode; a file without it predates the field, when reduced-size decoding was the
// default, and reads as "reduced-jpeg").
// merge_shard_files() reads N such files, checks that they come from one list, one model and one
// decoding and tile it exactly (each index 0..N-1 once, begin/end as shard_range() cuts them,
// rows = end - begin), and concatenates them in order. A merged file is written as shard 0 of 1
// of the same list, so every consumer (scan --train-descriptors, a later merge) reads one format.
//
// The descriptors/ module sits below app/'s `extract` (which writes and merges shards) and scan/
// (which reads them, scan/descriptor_stream.h); it needs only models/ (the extractor, the feature
// cache, FailedImage) and core/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "models/feature_cache.h"
#include "models/feature_extractor.h"
#include "models/pipeline.h"

namespace repbench::descriptors {

// Shard `index` of `count` over n items: [begin, end) with begin = floor(n * index / count), so
// that the count slices tile [0, n) in order and differ in size by at most one.
struct ShardRange {
  int64_t begin = 0, end = 0;
};
ShardRange shard_range(int64_t n, int64_t index, int64_t count);

// Parses "i/N" (0 <= i < N), the `--shard` option. Throws Error quoting the text otherwise.
struct ShardSpec {
  int64_t index = 0, count = 1;
};
ShardSpec parse_shard(const std::string& text);

// sha256 of a path list (each path followed by '\n'): what a shard records so that shards of
// different lists are never merged (and a partial scan, of different generations).
std::string path_list_sha256(const std::vector<std::string>& paths);

// "x/train.npy" -> "x/train.shard.json".
std::string shard_info_path(const std::string& npy_path);

struct ShardedDescriptors {
  FloatArray features;  // [end - begin, dim] or [end - begin, tokens, dim]; failed rows are zero
  std::string model;    // extractor spec
  std::string decoding;  // models::decoding_name() of the extraction
  std::string source;   // folder or list file the list came from
  std::string list_sha256;
  int64_t total = 0, index = 0, count = 1, begin = 0, end = 0;
  std::vector<std::string> paths;             // paths of rows begin..end-1
  std::vector<models::FailedImage> failed;    // index = position in the whole list
  int64_t shards_merged = 1;                  // how many shard files went into this one
};

// Extracts shard `shard` of the image list `paths` (read from the folder or list file `source`)
// with `extractor` into `npy_path` (through the feature cache, so that a killed job resumes) and
// writes its shard file. Throws Error naming `source` when the shard would be empty. Returns
// what was written.
ShardedDescriptors extract_shard(models::FeatureExtractor& extractor, const std::string& source,
                                 const std::vector<std::string>& paths, const ShardSpec& shard,
                                 const std::string& npy_path,
                                 const models::PipelineOptions& pipeline = {},
                                 const models::CacheOptions& cache = {},
                                 models::CachedExtraction* cached = nullptr);

// Reads one shard file pair (X.npy and X.shard.json) and checks them against each other.
ShardedDescriptors read_shard(const std::string& npy_path);

// The same without the descriptors: X.shard.json and X.npy's header (features.shape is set,
// features.data empty), for readers that stream the rows.
ShardedDescriptors read_shard_info(const std::string& npy_path);

// Checks that shards (read_shard_info of `npy_paths`, in that order) tile one list: one model,
// list and shard count, each index 0..N-1 once, one descriptor size, and paths that concatenate
// to the list's hash. Returns their positions in shard order. Throws Error as merge_shard_files.
std::vector<size_t> check_tiling(const std::vector<ShardedDescriptors>& shards,
                                 const std::vector<std::string>& npy_paths);

// Merges shard files that tile one list (any order on input) into `out_npy` and its shard file,
// written atomically, one shard in memory at a time: rows are copied byte for byte in the shards'
// dtype (float16 stays float16; shards of mixed dtypes are widened to float32). One file is
// accepted as is when it covers its whole list (a merged file, or shard 0/1). Throws Error naming
// the file and the problem for a missing, repeated, foreign (other list, model, decoding or
// shape) or inconsistent shard. Returns what was written (features.shape set, no data).
ShardedDescriptors merge_shard_files(const std::vector<std::string>& npy_paths,
                                     const std::string& out_npy);

// Writes `d` as X.npy (float32) then X.shard.json, atomically; `d` must cover its whole list.
void write_merged(const ShardedDescriptors& d, const std::string& npy_path);

}  // namespace repbench::descriptors
