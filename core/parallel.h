// The one thread-count rule and the one parallel loop of repbench. Every option named `threads`
// (or `--threads`) means the same: 0 is all cores, anything else that many threads. The loop
// hands items out one at a time in increasing order and carries an exception of any type thrown
// by a worker (a repbench::Error, std::bad_alloc, anything) to the calling thread, so that no
// worker's failure ends the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace repbench {

// The cores this process may run on (its CPU affinity mask, as `nproc` and OpenMP's default
// count them), at least 1.
int available_cores();

// `threads` as options spell it: 0 (or less) means all cores, available_cores(); else the value.
int resolve_threads(int threads);

// Runs work(worker) for every worker in [0, team) at the same time and returns once all have
// returned. A runner may start fewer workers (an OpenMP team inside another one has one); the loop
// below is correct with any number. `work` does not throw.
using TeamRunner = void (*)(int team, const std::function<void(int worker)>& work);

struct ParallelOptions {
  // Who runs the workers; nullptr: std::threads started for the call, worker 0 the calling thread
  // (metrics/parallel.h runs them on OpenMP's team, which OpenBLAS's single-threaded sgemm calls
  // share).
  TeamRunner run_team = nullptr;
  // When set (std::threads only), the calling thread is no worker: it calls while_waiting() every
  // wait_interval until the workers are done (progress reported from the caller's thread).
  std::function<void()> while_waiting;
  std::chrono::milliseconds wait_interval{100};
};

// Runs body(i, worker) for every i in [0, n) on min(resolve_threads(threads), n) workers;
// `worker` in [0, team) names the worker so that it can use its own scratch buffers. When a body
// throws, no new item starts, the running ones finish, and the exception of the lowest failing i
// is rethrown on the calling thread.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t i, int worker)>& body,
                  const ParallelOptions& options = {});

}  // namespace repbench
