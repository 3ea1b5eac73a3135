#include "scan/image_source.h"

#include "core/error.h"
#include "core/sha256.h"

namespace repbench::scan {

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
