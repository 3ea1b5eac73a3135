// The demo's image pool: real photographs that Debian's opencv-doc package ships
// (/usr/share/doc/opencv-doc/examples/data), pinned by name and sha256, and the small
// instance-retrieval set built from their natural view pairs (stereo frames, viewpoint and
// illumination changes, an object and a scene that contains it).
#pragma once

#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::demo {

struct PoolImage {
  const char* name;    // file name in the pool folder
  const char* sha256;  // of the file as opencv-doc 4.6.0 ships it
};

// Where Debian's opencv-doc puts its sample images.
const char* default_pool_dir();

// The pinned files, pairs first (query, positive), then distractors.
const std::vector<PoolImage>& demo_pool();

// (query, positive) names of the natural view pairs.
const std::vector<std::pair<std::string, std::string>>& demo_pairs();

// Copies every pinned file from `pool_dir` into `out_dir` (atomically, skipping files already
// there with the right checksum) after checking its sha256. Throws Error naming the file when it
// is missing (install opencv-doc) or differs from the pinned checksum. Returns the copied paths
// in demo_pool() order.
std::vector<std::string> stage_demo_pool(const std::string& pool_dir, const std::string& out_dir);

// The "demo-pairs" set over a staged pool folder: each pair's first image queries a database of
// the pairs' second images and every distractor; ok = its partner; no junk, no crop. Written as
// `pool_folder`/gnd.json (paths relative to it) and returned.
datasets::RetrievalSet write_demo_pairs_set(const std::string& pool_folder);

}  // namespace repbench::demo
