// Exact top-k in the two precisions of the candidate pass (docs/precision.md), side by side in
// one run on the same data: scan's exact_search with --precision fp32 (OpenBLAS sgemm, then
// exact rescoring) and bf16 (oneDNN bf16 matmul, then exact rescoring), and FAISS IndexFlatIP
// (sgemm + heaps, no rescoring) as the outside reference. Prints one JSON object: seconds of each
// (best of --repeat, the three alternated so that a busy machine slows them alike), bf16's
// speed-up over fp32 and over FAISS, candidates rescored per query, whether fp32 and bf16 gave
// identical ids and scores (they must), and the slots whose ids differ from FAISS's.
//
//   build/bench/bench_precision [--nq 10000] [--nb 1000000] [--d 512] [--k 10] [--repeat 1]
//                               [--threads 0] [--faiss 1]
//
// Data: random unit-norm float32 rows (seeded), as bench_topk.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <faiss/IndexFlat.h>
#include <nlohmann/json.hpp>

#include "bench/random_rows.h"
#include "core/npy.h"
#include "metrics/bf16_matmul.h"
#include "metrics/parallel.h"
#include "scan/index.h"

using namespace repbench;  // NOLINT

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Args {
  int64_t nq = 10000, nb = 1000000, d = 512, k = 10, repeat = 1, faiss = 1;
  int threads = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--nq") a.nq = std::stoll(v);
    else if (k == "--nb") a.nb = std::stoll(v);
    else if (k == "--d") a.d = std::stoll(v);
    else if (k == "--k") a.k = std::stoll(v);
    else if (k == "--repeat") a.repeat = std::stoll(v);
    else if (k == "--faiss") a.faiss = std::stoll(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else {
      std::fprintf(stderr, "bench_precision: unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const int threads = repbench::resolve_threads(a.threads);
  FloatArray q, db;
  q.shape = {a.nq, a.d};
  q.data = bench::unit_rows(a.nq, a.d, 1);
  db.shape = {a.nb, a.d};
  db.data = bench::unit_rows(a.nb, a.d, 2);

  double best[3] = {1e300, 1e300, 1e300};  // fp32, bf16, faiss
  metrics::TopKResult r32, r16;
  scan::RescoreStats s32, s16;
  std::vector<faiss::Index::idx_t> fids(size_t(a.nq * a.k));
  std::vector<float> fscores(size_t(a.nq * a.k));
  faiss::IndexFlatIP index(int(a.d));
  if (a.faiss) index.add(a.nb, db.data.data());
  for (int64_t rep = 0; rep < a.repeat; ++rep) {
    for (int which = 0; which < 3; ++which) {
      const double t0 = now();
      if (which < 2) {
        scan::ExactSearchOptions o;
        o.precision = which == 0 ? metrics::Precision::kFp32 : metrics::Precision::kBf16;
        scan::RescoreStats stats;
        o.stats = &stats;
        metrics::TopKResult r = scan::exact_search(db, false, q.data.data(), a.nq, a.k, threads, o);
        (which == 0 ? r32 : r16) = std::move(r);
        (which == 0 ? s32 : s16) = stats;
      } else if (a.faiss) {
        omp_set_num_threads(threads);
        metrics::BlasThreadsScope blas(threads);
        index.search(a.nq, q.data.data(), a.k, fscores.data(), fids.data());
      } else {
        continue;
      }
      best[which] = std::min(best[which], now() - t0);
    }
  }
  int64_t faiss_mismatch = 0;
  for (size_t i = 0; i < fids.size(); ++i) faiss_mismatch += fids[i] != r32.ids[i];
  const nlohmann::json report{
      {"nq", a.nq},
      {"nb", a.nb},
      {"d", a.d},
      {"k", a.k},
      {"threads", threads},
      {"repeat", a.repeat},
      {"bf16_kernel", metrics::bf16_matmul_impl()},
      {"fp32_seconds", best[0]},
      {"bf16_seconds", best[1]},
      {"faiss_seconds", a.faiss ? nlohmann::json(best[2]) : nlohmann::json(nullptr)},
      {"bf16_speedup_over_fp32", best[0] / best[1]},
      {"bf16_speedup_over_faiss", a.faiss ? nlohmann::json(best[2] / best[1]) : nlohmann::json(nullptr)},
      {"fp32_over_faiss", a.faiss ? nlohmann::json(best[0] / best[2]) : nlohmann::json(nullptr)},
      {"bf16_ran", metrics::precision_name(s16.precision)},
      {"rescored_per_query_fp32", double(s32.rescored) / double(a.nq)},
      {"rescored_per_query_bf16", double(s16.rescored) / double(a.nq)},
      {"identical_fp32_bf16", r32.ids == r16.ids && r32.scores == r16.scores},
      {"faiss_id_mismatch_slots", a.faiss ? nlohmann::json(faiss_mismatch) : nlohmann::json(nullptr)}};
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}
