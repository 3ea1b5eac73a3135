// Image sources of a scan: a folder (every image under it, recursively, natural order of the
// relative paths) or a list file (one image path per line, in the file's order), read by
// imaging/image_list.h, and the contiguous slices (shards) a job array cuts a source into.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imaging/image_list.h"

namespace repbench::scan {

// The images of a scan side: imaging/image_list.h's reader with the recursive folder rule
// (every image under the folder, natural order of the relative paths; a list file's lines as
// docs/PROTOCOLS.md §9.8 says). Throws Error naming the source when it is missing or holds no
// images.
using ImageSource = imaging::ImageList;
inline ImageSource read_image_source(const std::string& dir_or_list) {
  return imaging::read_image_list(dir_or_list, {imaging::FolderRule::kRecursive});
}

// sha256 of the path list (each path followed by '\n'): what a shard records so that shards of
// different lists are never merged.
std::string path_list_sha256(const std::vector<std::string>& paths);

// Shard `index` of `count` over n items: [begin, end) with begin = floor(n * index / count), so
// that the count slices tile [0, n) in order and differ in size by at most one.
struct ShardRange {
  int64_t begin = 0, end = 0;
};
ShardRange shard_range(int64_t n, int64_t index, int64_t count);

// Parses "i/N" (0 <= i < N). Throws Error quoting the text otherwise.
struct ShardSpec {
  int64_t index = 0, count = 1;
};
ShardSpec parse_shard(const std::string& text);

}  // namespace repbench::scan
