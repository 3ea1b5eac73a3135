// XXH64 (Yann Collet's xxHash, 64-bit, seed 0): a fast non-cryptographic checksum, used where a
// file's bytes are checked on every reuse (the feature cache's arrays, models/feature_cache.h):
// it runs at memory speed where core's sha256 costs a visible share of a cached run
// (docs/safety.md has the measurement). It detects accidental change (overwritten or truncated
// bytes), not tampering. Digests are 16 lowercase hex digits, as `xxhsum -H1` prints them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace repbench {

class Xxh64 {
 public:
  void update(std::string_view data);
  uint64_t digest() const;
  std::string hex_digest() const;

 private:
  uint64_t v_[4] = {0x9E3779B185EBCA87ULL + 0xC2B2AE3D27D4EB4FULL, 0xC2B2AE3D27D4EB4FULL, 0,
                    0 - 0x9E3779B185EBCA87ULL};
  unsigned char buf_[32];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

std::string xxh64_hex(std::string_view data);
// Of a whole file, read in blocks; throws Error naming the path when it cannot be read.
std::string xxh64_file(const std::string& path);

}  // namespace repbench
