// libFuzzer target: the restricted pickle reader (datasets/pickle.h) on arbitrary bytes.
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "datasets/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    repbench::datasets::parse_pickle(std::string_view(reinterpret_cast<const char*>(data), size),
                                     "fuzz.pkl");
  } catch (const repbench::Error&) {
  }
  return 0;
}
