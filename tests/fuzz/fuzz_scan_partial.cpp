// libFuzzer target: the partial-scan reader of `repbench scan merge` (scan/partial.h), then the
// merge's checks on two copies of what it read.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "scan/partial.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const repbench::scan::PartialScan p = repbench::scan::parse_partial(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    repbench::scan::check_partials({p, p}, {"a.json", "b.json"});
  } catch (const repbench::Error&) {
  }
  return 0;
}
