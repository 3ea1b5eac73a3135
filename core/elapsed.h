// The one clock of repbench's timings: seconds elapsed on the monotonic clock, as records' and
// benchmarks' timings report them.
#pragma once

#include <chrono>

namespace repbench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace repbench
