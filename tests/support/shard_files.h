// Repbench shard files (descriptors/shards.h) written straight from a matrix, as `extract
// --shard I/N` would write them for an image list named `names`: for tests of job-array scans
// without extracting images.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "descriptors/shards.h"

namespace repbench::test_support {

// dir/images.shard-I-of-N.npy (float32) and .shard.json for I = 0..count-1; returns the .npy paths.
inline std::vector<std::string> write_shard_files(const FloatArray& rows,
                                                  const std::vector<std::string>& names,
                                                  int64_t count, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> files;
  for (int64_t i = 0; i < count; ++i) {
    const descriptors::ShardRange r = descriptors::shard_range(rows.rows(), i, count);
    std::vector<int64_t> shape = rows.shape;
    shape[0] = r.end - r.begin;
    const std::string npy = fmt::format("{}/images.shard-{}-of-{}.npy", dir, i, count);
    write_npy(npy, rows.row(r.begin), shape, NpyDType::kFloat32);
    const nlohmann::json info{
        {"format", "repbench-shard"}, {"format_version", 1}, {"model", "builtin:test"},
        {"decoding", "full"}, {"source", "list.txt"},
        {"list_sha256", descriptors::path_list_sha256(names)}, {"total", rows.rows()},
        {"index", i}, {"count", count}, {"begin", r.begin}, {"end", r.end}, {"shape", shape},
        {"paths", std::vector<std::string>(names.begin() + r.begin, names.begin() + r.end)},
        {"failed", nlohmann::json::array()}};
    std::ofstream(descriptors::shard_info_path(npy)) << info.dump();
    files.push_back(npy);
  }
  return files;
}

}  // namespace repbench::test_support
