// Score normalisation (metrics/score_norm.h) against the bare sgemm of the same shape, in the same
// run: is it GEMM-bound?
//
// Normalisation needs each query's best few similarities to the training descriptors: one exact
// top-k scan (metrics/topk, k = last rank + 1) of the queries against the training set, i.e. one
// GEMM of nq x ntrain x d plus the scan. The reference is the sgemm of the same blocks (256 x 2048,
// single-threaded OpenBLAS per OpenMP thread, as search_topk runs them) with no top-k: the ceiling.
// Rounds alternate the two (best of each), since a shared host's throughput drifts; the summary
// gives both rates, their ratio, and the time the full DISC21 size (50,000 queries x 1,000,000
// training descriptors x 512) would take at the measured normalisation rate.
//
// Data: random unit-norm float32 (seeded). Default size 2,000 x 100,000 x 512 (the DISC21 shape
// scaled down by 25 x 10); --nq N --nt N --d N --threads N --rounds N change it.
// Run: build/bench/bench_score_norm [--nq 2000 --nt 100000 --d 512 --threads 2 --rounds 3]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/elapsed.h"
#include "bench/random_rows.h"
#include "metrics/inner_product.h"
#include "metrics/parallel.h"
#include "metrics/score_norm.h"

namespace {

using namespace repbench::metrics;

using repbench::bench::unit_rows;

double seconds(const std::chrono::steady_clock::time_point t0) {
  return repbench::seconds_since(t0);
}

// Every 256 x 2048 block of the score matrix, one sgemm each, as search_topk lays them out.
double sgemm_blocks(const InnerProductScores& s, int threads) {
  constexpr int64_t kBq = 256, kBb = 2048;
  const int64_t nqb = (s.nq() + kBq - 1) / kBq, nbb = (s.nb() + kBb - 1) / kBb;
  std::vector<std::vector<float>> scratch(static_cast<size_t>(threads),
                                          std::vector<float>(kBq * kBb));
  const BlasThreadsScope single(1);
  const auto t0 = std::chrono::steady_clock::now();
  parallel_for(nqb * nbb, threads, [&](int64_t i, int t) {
    const int64_t q0 = (i / nbb) * kBq, b0 = (i % nbb) * kBb;
    s.compute(q0, std::min(kBq, s.nq() - q0), b0, std::min(kBb, s.nb() - b0),
              scratch[static_cast<size_t>(t)].data(), kBb);
  });
  return seconds(t0);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t nq = 2000, nt = 100000, d = 512;
  int threads = 2, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (a == "--nq") nq = v;
    else if (a == "--nt") nt = v;
    else if (a == "--d") d = v;
    else if (a == "--threads") threads = static_cast<int>(v);
    else if (a == "--rounds") rounds = static_cast<int>(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const std::vector<float> q = unit_rows(nq, d, 1), t = unit_rows(nt, d, 2);
  const InnerProductScores s(q.data(), nq, t.data(), nt, d);
  const ScoreNormSpec spec = parse_score_norm("1.0[0,2]", "spec");
  const double gflop = 2.0 * static_cast<double>(d) * static_cast<double>(nq) * nt / 1e9;
  std::printf("score normalisation 1.0[0,2]: %lld queries x %lld training x d %lld, %d threads, "
              "%.1f GFLOP per pass\n",
              static_cast<long long>(nq), static_cast<long long>(nt), static_cast<long long>(d),
              threads, gflop);
  std::printf("%-6s %14s %14s\n", "round", "sgemm GFLOP/s", "norm GFLOP/s");
  double best_gemm = 1e300, best_norm = 1e300;
  float checksum = 0;
  for (int r = 0; r < rounds; ++r) {
    const double g = sgemm_blocks(s, threads);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<float> off = score_norm_offsets(s, spec, threads);
    const double n = seconds(t0);
    checksum += off[0];
    best_gemm = std::min(best_gemm, g);
    best_norm = std::min(best_norm, n);
    std::printf("%-6d %14.1f %14.1f\n", r, gflop / g, gflop / n);
  }
  const double full_gflop = 2.0 * 512 * 50000.0 * 1000000.0 / 1e9;
  std::printf("best: sgemm %.3f s (%.1f GFLOP/s), normalisation %.3f s (%.1f GFLOP/s)\n", best_gemm,
              gflop / best_gemm, best_norm, gflop / best_norm);
  std::printf("normalisation / sgemm throughput: %.3f\n", best_gemm / best_norm);
  std::printf("DISC21 size 50,000 x 1,000,000 x 512 at this normalisation rate: %.0f s "
              "(checksum %.4f)\n",
              full_gflop / (gflop / best_norm), static_cast<double>(checksum));
  return 0;
}
