#include "core/failpoint.h"

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace repbench {
namespace {

struct Setting {
  std::string name;  // empty: no fail point armed
  long nth = 1;
};

// REPBENCH_FAILPOINT, read once: "NAME" or "NAME:N" (N >= 1; anything else arms nothing, so a
// typo cannot kill a run at a place the test did not mean).
const Setting& setting() {
  static const Setting s = [] {
    Setting out;
    const char* v = std::getenv("REPBENCH_FAILPOINT");
    if (v == nullptr || *v == '\0') return out;
    std::string text(v);
    const size_t colon = text.rfind(':');
    if (colon != std::string::npos) {
      char* end = nullptr;
      const long n = std::strtol(text.c_str() + colon + 1, &end, 10);
      if (end == text.c_str() + colon + 1 || *end != '\0' || n < 1) return out;
      out.nth = n;
      text.resize(colon);
    }
    out.name = text;
    return out;
  }();
  return s;
}

}  // namespace

void fail_point(const char* name) {
  const Setting& s = setting();
  if (s.name.empty() || s.name != name) return;
  static std::atomic<long> reached{0};
  if (reached.fetch_add(1) + 1 == s.nth) ::raise(SIGKILL);
}

}  // namespace repbench
