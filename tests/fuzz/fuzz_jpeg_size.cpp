// libFuzzer target: imaging::jpeg_size, the reader of a JPEG's frame header (reduced-size
// decoding and the dif sets read it before decoding). It never throws: an input it cannot read
// is nullopt. A size it returns is positive and stays the same when bytes follow the input (it
// reads the headers up to the frame header and nothing after them).
#include <cstdint>
#include <cstring>
#include <memory>

#include "imaging/jpeg_size.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly sized copy, so that a read past the end is a sanitizer finding.
  const std::unique_ptr<uint8_t[]> exact(new uint8_t[size]);
  if (size > 0) std::memcpy(exact.get(), data, size);
  const auto got = repbench::imaging::jpeg_size(exact.get(), size);
  if (!got) return 0;
  if (got->first <= 0 || got->second <= 0) __builtin_trap();
  const std::unique_ptr<uint8_t[]> longer(new uint8_t[size + 16]);
  std::memcpy(longer.get(), exact.get(), size);
  std::memset(longer.get() + size, 0xFF, 16);
  if (repbench::imaging::jpeg_size(longer.get(), size + 16) != got) __builtin_trap();
  return 0;
}
