// SHA-256 of files and strings (FIPS 180-4), used for the input checksums of result records and
// the keys of the feature cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace repbench {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t bytes);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finalises; the object must not be updated afterwards

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// Streams the file; throws Error naming it when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace repbench
