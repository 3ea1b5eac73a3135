// Shared by the libFuzzer targets: the input as a file (for readers that take a path), and the
// rule every target checks: malformed input throws repbench::Error and nothing else (no crash,
// no sanitizer finding, no other exception type, which the CLI would call an internal error).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace repbench::fuzz {

// Writes the input to a per-process file under /dev/shm (or /tmp) with the given suffix and
// returns its path; the same path is reused for every input of the process.
inline std::string input_file(const uint8_t* data, size_t size, const char* suffix) {
  static const std::string path = [&] {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/repbench_fuzz_" + std::to_string(getpid()) + suffix;
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  return path;
}

}  // namespace repbench::fuzz
