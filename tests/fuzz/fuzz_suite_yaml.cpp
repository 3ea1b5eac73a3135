// libFuzzer target: the suite file reader (suite/suite_file.h), YAML parsing and Check().
#include <cstdint>

#include "core/error.h"
#include "suite/suite_file.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = repbench::fuzz::input_file(data, size, "_suite.yaml");
  try {
    repbench::suite::Suite s = repbench::suite::read_suite(path);
    s.Check();
  } catch (const repbench::Error&) {
  }
  return 0;
}
