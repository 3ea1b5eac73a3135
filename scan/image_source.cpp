#include "scan/image_source.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/natural_sort.h"
#include "core/sha256.h"
#include "core/parse_list.h"
#include "datasets/folder_listing.h"

namespace fs = std::filesystem;

namespace repbench::scan {

ImageSource read_image_source(const std::string& dir_or_list) {
  ImageSource src;
  src.source = dir_or_list;
  std::error_code ec;
  if (fs::is_directory(dir_or_list, ec)) {
    std::vector<std::string> rel;
    for (auto it = fs::recursive_directory_iterator(dir_or_list, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && datasets::is_image_file(it->path().filename().string()))
        rel.push_back(fs::relative(it->path(), dir_or_list).string());
    }
    if (ec) fail("{}: cannot list the folder: {}", dir_or_list, ec.message());
    natural_sort(rel);
    if (rel.empty()) fail("{}: no images (.jpg, .jpeg, .png, .bmp, .webp) in the folder", dir_or_list);
    for (const auto& r : rel) src.paths.push_back((fs::path(dir_or_list) / r).string());
    return src;
  }
  if (!fs::exists(dir_or_list, ec)) fail("{}: no such folder or list file", dir_or_list);
  src.is_list = true;
  std::ifstream in(dir_or_list);
  if (!in) fail("{}: cannot read the list file", dir_or_list);
  const fs::path base = fs::path(dir_or_list).parent_path();
  std::string line;
  while (std::getline(in, line)) {
    line = trim_whitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.find('\0') != std::string::npos) fail("{}: not a text list of image paths", dir_or_list);
    const fs::path p(line);
    src.paths.push_back(p.is_absolute() || base.empty() ? line : (base / p).string());
  }
  if (src.paths.empty()) fail("{}: the list file names no images", dir_or_list);
  return src;
}

std::string path_list_sha256(const std::vector<std::string>& paths) {
  std::string all;
  for (const auto& p : paths) all += p + "\n";
  return sha256_hex(all);
}

ShardRange shard_range(int64_t n, int64_t index, int64_t count) {
  REPBENCH_ASSERT(count >= 1 && index >= 0 && index < count && n >= 0);
  return {n * index / count, n * (index + 1) / count};
}

ShardSpec parse_shard(const std::string& text) {
  ShardSpec s;
  const size_t slash = text.find('/');
  try {
    size_t used = 0;
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    s.index = std::stoll(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("index");
    const std::string c = text.substr(slash + 1);
    s.count = std::stoll(c, &used);
    if (used != c.size()) throw std::invalid_argument("count");
  } catch (const std::exception&) {
    fail("--shard '{}' is not I/N (e.g. 0/8: the first of 8 slices)", text);
  }
  if (s.count < 1 || s.index < 0 || s.index >= s.count)
    fail("--shard '{}': need 0 <= I < N (shards are numbered from 0)", text);
  return s;
}

}  // namespace repbench::scan
