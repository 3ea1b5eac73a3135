// Image sources of a scan: a folder (every image under it, recursively, natural order of the
// relative paths) or a list file (one image path per line, in the file's order), and the
// contiguous slices (shards) a job array cuts a source into.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repbench::scan {

struct ImageSource {
  std::string source;              // the folder or list file as given
  bool is_list = false;            // a list file rather than a folder
  std::vector<std::string> paths;  // paths to open, in order (folder: FOLDER/relative path)
};

// Reads a folder or a list file. In a list, blank lines and lines starting with '#' are skipped,
// surrounding whitespace is trimmed, and a relative path is relative to the list file's folder
// (so a list can be moved with its images). Throws Error naming the source when it is missing,
// or holds no images.
ImageSource read_image_source(const std::string& dir_or_list);

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
