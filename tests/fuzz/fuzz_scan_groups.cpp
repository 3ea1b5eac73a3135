// libFuzzer target: the groups CSV reader of `repbench scan --generated-groups / --train-groups`
// (scan/groups.h), then the assignment of its entries to a side's rows and the groups of both
// sides (within groups, so that the unknown-group check runs too).
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "scan/groups.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace repbench::scan;  // NOLINT
  try {
    const std::vector<GroupEntry> entries =
        parse_groups_csv(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    // Rows named as the seeds name them, one name twice, one listed image unreadable.
    static const std::vector<std::string> rows{"a.png", "b.png", "a.png", "0"};
    const std::vector<std::string> groups = assign_groups(
        entries, "fuzz.csv", [](int64_t i) -> const std::string& { return rows[size_t(i)]; },
        int64_t(rows.size()), {"bad.png"}, "training image");
    const ScanGroups g = make_scan_groups({groups[1], groups[0]}, groups, true, "g.csv", "t.csv");
    groups_record(g, {0.5f, 0.9f}, {0, 3}, {0.7f, 0.2f}, {0.6});
  } catch (const repbench::Error&) {
  }
  return 0;
}
