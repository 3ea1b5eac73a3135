// The feature cache: a descriptor matrix as a .npy file plus a JSON sidecar (same name, .json)
// that says exactly what it holds. An entry is reused only when its sidecar's key equals the key
// of the request: extractor spec, model file sha256, preprocessing (canonical string), decoding
// mode, output kind and size, the image list (path, file size, mtime and crop box of every
// image, hashed in order) and the program version. Anything else, including a missing, corrupt
// or foreign sidecar, recomputes; a stale entry is never reused.
//
// Extraction proceeds in chunks (CacheOptions::chunk_size images) written atomically to
// NPY_PATH.partial/chunk-NNNNNN.npy (+ .json with the chunk's rows and failed images, written
// after the .npy), under a key.json (the key and the chunk size) that must match; an interrupted
// run (killed, or an exception) resumes after the last finished chunk. At the end the matrix is
// assembled, NPY_PATH and then the sidecar are written atomically (the sidecar last: it is the
// commit mark), and the partial folder is removed.
//
// Sidecar: {"format": "repbench-features", "format_version": 2, "key": {...},
//           "extractor": ExtractorInfo::to_json(), "shape": [...], "failed": [{index, path,
//           reason}], "npy_xxh64": the XXH64 checksum of the whole .npy file (core/xxhash64.h)}
// Every reuse checks that checksum (and a chunk's, in its .json): a changed or truncated array is
// named in one line and computed again (cached_npy_verified).
//
// Concurrency: extract_cached holds an flock on NPY_PATH.lock (core/file_lock.h) for its whole
// run, so processes sharing a cache take turns per entry: the first computes, the next reuses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "models/feature_extractor.h"
#include "models/pipeline.h"

namespace repbench::models {

struct CacheOptions {
  int64_t chunk_size = 1024;  // images per partial file (the unit of resumption)
  bool reuse = true;          // false: recompute even when the entry matches (then overwrite it)

  void Check() const;
};

// Hash of an image list: sha256 over (path, file size, mtime in ns, crop box) of every item, in
// order. A file that cannot be stat'ed hashes as "missing".
std::string image_list_sha256(const std::vector<ImageItem>& items);

// The key of a cache entry (compared as a whole; see above).
nlohmann::json cache_key(const FeatureExtractor& extractor, const std::vector<ImageItem>& items,
                         const PipelineOptions& pipeline);

// "x/db.npy" -> "x/db.json".
std::string sidecar_path(const std::string& npy_path);

// A content-addressed file name: "<label>.<first 16 hex digits of sha256(key)>.npy".
std::string cache_file_name(const std::string& label, const nlohmann::json& key);

struct CachedExtraction {
  // [n, dim] or [n, tokens, dim]; row i = items[i]; rows of failed images are zero.
  FloatArray features;
  std::vector<FailedImage> failed;  // sorted by index (also stored in the sidecar)
  bool cache_hit = false;           // the whole matrix came from the cache
  int64_t images_extracted = 0;     // images sent to the extractor by this call (0 on a hit)
  int64_t chunks_reused = 0;        // finished chunks of an interrupted run that were reused
  int64_t chunks_computed = 0;
  // Where the time of this call went (the pipeline's stages over all computed chunks; write =
  // the chunk files, the matrix and the sidecar; wall = the whole call).
  ExtractionStats stats;
  nlohmann::json key;
  std::string npy_path;
  std::string sidecar_path;
};

// Whether the cached array file `npy_path` still holds the bytes it was written with: the XXH64
// of the whole file against `meta`'s "npy_xxh64" (the sidecar's, or a chunk's .json). The one
// check of every reuse of a cache entry or a resumable chunk (extract, run, scan). A mismatch
// (changed or truncated since) prints one line on stderr naming the file and returns false: the
// caller computes the array again. An entry without a checksum (an older version) is not reused.
bool cached_npy_verified(const std::string& npy_path, const nlohmann::json& meta);

// Rewrites a finished entry's array as float16 (`extract --dtype float16`), with its checksum.
void rewrite_as_float16(const std::string& npy_path, const FloatArray& features);

// Returns the descriptors of `items` from `npy_path` when its sidecar matches, and otherwise
// extracts them (resuming from finished chunks) and writes the entry. With
// DecodeErrorPolicy::kFail, an entry that recorded failed images throws like a fresh run would.
CachedExtraction extract_cached(FeatureExtractor& extractor, const std::vector<ImageItem>& items,
                                const std::string& npy_path, const PipelineOptions& pipeline = {},
                                const CacheOptions& cache = {});

}  // namespace repbench::models
