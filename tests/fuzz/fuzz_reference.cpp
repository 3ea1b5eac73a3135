// libFuzzer target: the published-reference reader (records/reference.h), then placing its rows
// among a user's scores of two of its datasets (synthetic columns included).
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "report/reference_rows.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const repbench::records::Reference ref = repbench::records::parse_reference(
        std::string(reinterpret_cast<const char*>(data), size), "reference.json");
    std::vector<repbench::report::ScoreEntry> entries(2);
    entries[0].model = entries[1].model = "mine";
    entries[0].dataset = "roxford5k-dcr (M)";
    entries[1].dataset = "IN-Cutmix";
    entries[0].map_percent = entries[1].map_percent = 50;
    (void)repbench::report::add_reference_rows(ref, entries, true);
  } catch (const repbench::Error&) {
  }
  return 0;
}
