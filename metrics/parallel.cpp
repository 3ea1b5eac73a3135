// Why kPerThread is the default. Measured on 2 AMD EPYC (Zen 4) vCPUs with OpenBLAS 0.3.21
// (pthread build, Cooperlake kernels) and libgomp, bench_topk and bench_eval, both modes in the
// same run at the same machine throughput (probe ~180-200 GFLOP/s):
//   top-k 10,000 x 100,000, d = 256:  kPerThread 2.90 s, kShared 5.06 s  (FAISS 5.45 s)
//   GPR1200-sized evaluate, d = 512:  kPerThread 0.83 s, kShared 1.28 s  (bare sgemm 0.81 s)
// and the same order when the shared host ran at half speed (5.75 s vs 7.9 s, 1.5 s vs 2.1 s).
// A pthread OpenBLAS and the OpenMP runtime each keep their own worker pool, and both spin-wait for
// a while after their parallel section ends. With kShared the post-processing of a block and the
// sgemm of the next alternate between the pools, so each pool's spinning steals the cores from the
// other (with small blocks a call can take seconds), and the post-processing reads a block written
// by the other core. With kPerThread there is one pool and no serial phase, and a single-threaded
// sgemm of a 256-row block runs at the same per-core speed as half of a 2-thread sgemm.
#include "metrics/parallel.h"

#include <mutex>

#include <cblas.h>
#include <omp.h>

namespace repbench::metrics {

int blas_num_threads() {
  return openblas_get_num_threads();
}

namespace {

// Nested or concurrent scopes: the first one in saves OpenBLAS's count, the last one out restores
// it, so that overlapping scopes on different threads cannot leave the count changed.
std::mutex blas_mutex;
int blas_depth = 0;
int blas_saved = 0;

}  // namespace

BlasThreadsScope::BlasThreadsScope(int threads) {
  std::lock_guard<std::mutex> lock(blas_mutex);
  if (blas_depth++ == 0) blas_saved = openblas_get_num_threads();
  if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

BlasThreadsScope::~BlasThreadsScope() {
  std::lock_guard<std::mutex> lock(blas_mutex);
  if (--blas_depth == 0 && openblas_get_num_threads() != blas_saved)
    openblas_set_num_threads(blas_saved);
}

namespace {

void run_omp_team(int team, const std::function<void(int)>& work) {
#pragma omp parallel num_threads(team)
  work(omp_get_thread_num());
}

}  // namespace

void parallel_for(int64_t n, int threads, const std::function<void(int64_t, int)>& body) {
  ParallelOptions options;
  options.run_team = run_omp_team;
  repbench::parallel_for(n, threads, body, options);
}

}  // namespace repbench::metrics
