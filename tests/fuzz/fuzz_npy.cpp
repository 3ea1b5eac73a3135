// libFuzzer target: the .npy reader (core/npy.h): header, float32/float16/int64 payloads.
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/npy.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = repbench::fuzz::input_file(data, size, ".npy");
  try {
    repbench::read_npy_header(path);
  } catch (const repbench::Error&) {
  }
  try {
    repbench::read_npy_float(path);
  } catch (const repbench::Error&) {
  }
  try {
    std::vector<int64_t> shape;
    repbench::read_npy_int64(path, &shape);
  } catch (const repbench::Error&) {
  }
  return 0;
}
