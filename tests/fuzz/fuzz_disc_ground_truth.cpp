// libFuzzer target: DISC21's ground-truth CSV reader (datasets/disc21.h parse_disc_ground_truth).
#include <cstdint>
#include <string>

#include "core/error.h"
#include "datasets/disc21.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    repbench::datasets::parse_disc_ground_truth(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz_gt.csv");
  } catch (const repbench::Error&) {
  }
  return 0;
}
