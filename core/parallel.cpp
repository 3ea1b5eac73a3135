#include "core/parallel.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace repbench {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int resolve_threads(int threads) {
  return threads > 0 ? threads : available_cores();
}

void parallel_for(int64_t n, int threads, const std::function<void(int64_t, int)>& body,
                  const ParallelOptions& options) {
  if (n <= 0) return;
  const int team = static_cast<int>(std::min<int64_t>(resolve_threads(threads), n));
  if (team == 1 && !options.while_waiting) {
    for (int64_t i = 0; i < n; ++i) body(i, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  int64_t failed_at = INT64_MAX;
  std::exception_ptr error;
  const std::function<void(int)> work = [&](int worker) {
    // An atomic counter rather than a static split, so that a failure stops the handing out of
    // items at once and uneven items balance.
    for (int64_t i = next++; i < n && !failed.load(std::memory_order_relaxed); i = next++) {
      try {
        body(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < failed_at) failed_at = i, error = std::current_exception();
        failed = true;
      }
    }
  };
  if (options.run_team) {
    options.run_team(team, work);
  } else {
    const int first_own = options.while_waiting ? 0 : 1;  // worker 0 is the caller unless it waits
    std::atomic<int> running{team - first_own};
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(team));
    for (int w = first_own; w < team; ++w)
      pool.emplace_back([&work, &running, w] {
        work(w);
        --running;
      });
    if (options.while_waiting) {
      while (running > 0) {
        options.while_waiting();
        std::this_thread::sleep_for(options.wait_interval);
      }
    } else {
      work(0);
    }
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace repbench
