// libFuzzer target: the gnd.json reader (datasets/gnd_json.h) and its validation.
#include <cstdint>

#include "core/error.h"
#include "datasets/gnd_json.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = repbench::fuzz::input_file(data, size, "_gnd.json");
  try {
    repbench::datasets::read_gnd_json(path);
  } catch (const repbench::Error&) {
  }
  return 0;
}
