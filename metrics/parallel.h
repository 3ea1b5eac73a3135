// Threading shared by evaluate() and search_topk(): how OpenBLAS (pthread build) and OpenMP share
// the cores, and core's parallel loop on OpenMP's threads.
#pragma once

#include <cstdint>
#include <functional>

#include "core/parallel.h"

namespace repbench::metrics {

// How the similarity blocks (sgemm inside ScoreSource::compute) and their post-processing (ranking
// positions, top-k scan) share the cores.
enum class BlasThreading {
  // Default. OpenBLAS runs single-threaded; each OpenMP thread computes its own blocks and
  // post-processes them while they are still in its cache. Measured faster (see parallel.cpp).
  kPerThread,
  // One multi-threaded sgemm per block on the calling thread, then OpenMP threads post-process
  // the block's rows. Kept for comparison (bench_topk, bench_eval) and for ScoreSources that are
  // not safe to call concurrently.
  kShared,
};

// OpenBLAS's current process-wide thread count.
int blas_num_threads();

// Sets OpenBLAS's process-wide thread count for the lifetime of the object; when the last live
// scope of the process ends, the count it found is restored. OpenBLAS has only this global
// setting: BLAS calls that other threads make while a scope is alive use its count too (slower or
// faster, never wrong), and overlapping scopes asking for different counts get the latest one.
class BlasThreadsScope {
 public:
  explicit BlasThreadsScope(int threads);
  ~BlasThreadsScope();
  BlasThreadsScope(const BlasThreadsScope&) = delete;
  BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;
};

// core's parallel_for (core/parallel.h: one item at a time, an exception of any type of the
// lowest failing item rethrown on the calling thread) on OpenMP's team rather than std::threads:
// the workers that call single-threaded sgemm (BlasThreading::kPerThread) are then the one pool of
// the process, which spins between blocks instead of competing with a second one (parallel.cpp).
void parallel_for(int64_t n, int threads, const std::function<void(int64_t, int)>& body);

}  // namespace repbench::metrics
