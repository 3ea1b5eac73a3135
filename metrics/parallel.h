// Threading shared by evaluate() and search_topk(): how OpenBLAS (pthread build) and OpenMP share
// the cores, and a parallel loop that carries worker exceptions back to the caller.
#pragma once

#include <cstdint>
#include <functional>

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

// `threads` as options spell it: 0 = all cores (omp_get_max_threads()), else the value itself.
int resolve_threads(int threads);

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

// Runs body(i, thread) for every i in [0, n) on `threads` OpenMP threads (dynamic schedule, one
// item at a time); `thread` in [0, threads) names the worker so that it can use its own scratch
// buffers. The first exception thrown by a body is rethrown on the calling thread once all
// workers have stopped; the items not yet started when it was thrown are skipped.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t, int)>& body);

}  // namespace repbench::metrics
