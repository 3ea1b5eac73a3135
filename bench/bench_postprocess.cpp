// Descriptor post-processing and re-ranking at a scaled-down copy-detection size, each against
// sgemm of the matching shape in the same run (InnerProductScores::compute: one cblas_sgemm per
// block). The full size is 50,000 queries x 1,000,000 database rows x 512 dimensions; both counts
// are divided by REPBENCH_BENCH_SCALE (default 50: 1,000 x 20,000 x 512; 1 = full size, which
// needs ~4 GB and a large machine).
//
//   postprocess  "PCAW512,L2norm" trained on 20,000 rows (a held-out sample, capped at the
//                database size), then applied to queries and database, vs sgemm of the training
//                scatter matrix ([512 x n_train] x [n_train x 512]) plus sgemm of the apply shape
//                ([nq + nb] x 512 x 512).
//   dba          DBA k=2, alpha=3 over the database, vs sgemm [nb x 512] x [512 x nb] (blocked).
//   aqe          alpha-QE k=2, alpha=3 of the queries, vs sgemm [nq x 512] x [512 x nb].
// Counter ratio_vs_sgemm: the step's wall time over its reference's; printed again at the end.
//
// Run: build/bench/bench_postprocess   (Release build)
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <omp.h>

#include "core/descriptors.h"
#include "core/npy.h"
#include "core/rng.h"
#include "metrics/inner_product.h"
#include "metrics/rerank.h"
#include "postprocess/postprocess.h"

namespace {

using repbench::FloatArray;
namespace fs = std::filesystem;

constexpr int64_t kDim = 512, kFullQueries = 50000, kFullDb = 1000000, kTrainRows = 20000;

int64_t scale() {
  const char* s = std::getenv("REPBENCH_BENCH_SCALE");
  const long v = s ? std::atol(s) : 50;
  return v >= 1 ? v : 50;
}
int64_t n_queries() { return kFullQueries / scale(); }
int64_t n_db() { return kFullDb / scale(); }
int64_t n_train() { return std::min(kTrainRows, n_db()); }

// Correlated rows (a random linear map of Gaussian noise), L2-normalised, so that whitening and
// neighbours are not trivial.
FloatArray rows(int64_t n, uint64_t seed) {
  static const std::vector<float> mix = [] {
    repbench::Rng r(99);
    std::vector<float> m(kDim * 32);
    for (float& v : m) v = static_cast<float>(r.normal());
    return m;
  }();
  FloatArray a;
  a.shape = {n, kDim};
  a.data.resize(static_cast<size_t>(n * kDim));
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) {
    repbench::Rng r = repbench::Rng::for_item(seed, 0, static_cast<uint64_t>(i));
    float z[32];
    for (float& v : z) v = static_cast<float>(r.normal());
    for (int64_t c = 0; c < kDim; ++c) {
      float s = 0.5f * static_cast<float>(r.normal());
      for (int k = 0; k < 32; ++k) s += mix[k * kDim + c] * z[k];
      a.data[i * kDim + c] = s;
    }
  }
  repbench::l2_normalize_rows(a);
  return a;
}

const FloatArray& queries() { static const FloatArray a = rows(n_queries(), 1); return a; }
const FloatArray& database() { static const FloatArray a = rows(n_db(), 2); return a; }
const FloatArray& training() { static const FloatArray a = rows(n_train(), 3); return a; }

std::map<std::string, double> seconds;  // by benchmark name, for the closing lines

// sgemm of [na x d] x [d x nb] through InnerProductScores, blocked by rows of a so that the
// output stays small; returns wall seconds.
double sgemm_seconds(const float* a, int64_t na, const float* b, int64_t nb, int64_t d) {
  const repbench::metrics::InnerProductScores s(a, na, b, nb, d);
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(na, (int64_t{1} << 26) / nb));
  std::vector<float> out(static_cast<size_t>(block * nb));
  const double t0 = omp_get_wtime();
  for (int64_t i = 0; i < na; i += block)
    s.compute(i, std::min(block, na - i), 0, nb, out.data(), nb);
  benchmark::DoNotOptimize(out.data());
  return omp_get_wtime() - t0;
}

void report(benchmark::State& state, const std::string& name, double t, const std::string& ref) {
  seconds[name] = t;
  state.SetIterationTime(t);
  if (seconds.count(ref)) state.counters["ratio_vs_sgemm"] = t / seconds[ref];
}

void BM_SgemmPostprocessShape(benchmark::State& state) {
  const FloatArray& tr = training();
  // The scatter matrix's product has the training rows as its inner dimension: transpose.
  std::vector<float> t(tr.data.size());
  for (int64_t i = 0; i < tr.rows(); ++i)
    for (int64_t c = 0; c < kDim; ++c) t[c * tr.rows() + i] = tr.data[i * kDim + c];
  const FloatArray& q = queries();
  const FloatArray& db = database();
  const FloatArray w = rows(kDim, 4);  // a 512 x 512 matrix
  for (auto _ : state) {
    const double train = sgemm_seconds(t.data(), kDim, t.data(), kDim, tr.rows());
    const double apply = sgemm_seconds(q.data.data(), q.rows(), w.data.data(), kDim, kDim) +
                         sgemm_seconds(db.data.data(), db.rows(), w.data.data(), kDim, kDim);
    seconds["sgemm_train"] = train;
    seconds["sgemm_apply"] = apply;
    report(state, "sgemm_postprocess", train + apply, "");
  }
}

// Training (hashing and reading the file, FAISS's scatter matrix and its eigen-decomposition of
// 512 x 512, a fixed cost) and applying (sgemm-bound) are timed apart as well.
void BM_Postprocess(benchmark::State& state) {
  namespace pp = repbench::postprocess;
  const fs::path dir = fs::temp_directory_path() / ("repbench_bench_pp_" + std::to_string(getpid()));
  const FloatArray& q0 = queries();
  const FloatArray& db0 = database();
  for (auto _ : state) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    repbench::write_npy((dir / "train.npy").string(), training().data.data(), training().shape);
    FloatArray q = q0, db = db0;
    const double t0 = omp_get_wtime();
    const pp::Postprocessor p = pp::Postprocessor::prepare(
        "PCAW512,L2norm", (dir / "train.npy").string(), (dir / "cache").string(), kDim);
    const double t1 = omp_get_wtime();
    p.apply(q, "q");
    p.apply(db, "db");
    const double t2 = omp_get_wtime();
    if (p.from_cache()) state.SkipWithError("the chain was read from the cache, not trained");
    seconds["postprocess_train"] = t1 - t0;
    seconds["postprocess_apply"] = t2 - t1;
    state.counters["train_s"] = t1 - t0;
    state.counters["apply_s"] = t2 - t1;
    if (seconds.count("sgemm_apply"))
      state.counters["apply_ratio_vs_sgemm"] = (t2 - t1) / seconds["sgemm_apply"];
    report(state, "postprocess", t2 - t0, "sgemm_postprocess");
  }
  fs::remove_all(dir);
}

void BM_SgemmDbaShape(benchmark::State& state) {
  const FloatArray& db = database();
  for (auto _ : state)
    report(state, "sgemm_dba",
           sgemm_seconds(db.data.data(), db.rows(), db.data.data(), db.rows(), kDim), "");
}

void BM_Dba(benchmark::State& state) {
  for (auto _ : state) {
    FloatArray db = database();
    const double t0 = omp_get_wtime();
    repbench::metrics::database_side_augmentation(db, {2, 3.0});
    report(state, "dba", omp_get_wtime() - t0, "sgemm_dba");
  }
}

void BM_SgemmAqeShape(benchmark::State& state) {
  const FloatArray& q = queries();
  const FloatArray& db = database();
  for (auto _ : state)
    report(state, "sgemm_aqe",
           sgemm_seconds(q.data.data(), q.rows(), db.data.data(), db.rows(), kDim), "");
}

void BM_Aqe(benchmark::State& state) {
  for (auto _ : state) {
    FloatArray q = queries();
    const double t0 = omp_get_wtime();
    repbench::metrics::alpha_query_expansion(q, database(), {2, 3.0});
    report(state, "aqe", omp_get_wtime() - t0, "sgemm_aqe");
  }
}

BENCHMARK(BM_SgemmPostprocessShape)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Postprocess)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SgemmDbaShape)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dba)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SgemmAqeShape)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Aqe)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("sizes: %lld queries x %lld database rows x %lld dims (1/%lld of 50,000 x "
              "1,000,000 x 512); %lld training rows; %d OpenMP threads\n",
              static_cast<long long>(n_queries()), static_cast<long long>(n_db()),
              static_cast<long long>(kDim), static_cast<long long>(scale()),
              static_cast<long long>(n_train()), omp_get_max_threads());
  benchmark::RunSpecifiedBenchmarks();
  for (const auto& [step, ref] : std::map<std::string, std::string>{
           {"postprocess", "sgemm_postprocess"}, {"postprocess_train", "sgemm_train"},
           {"postprocess_apply", "sgemm_apply"}, {"dba", "sgemm_dba"}, {"aqe", "sgemm_aqe"}})
    if (seconds.count(step) && seconds.count(ref))
      std::printf("%-18s %9.3f s   sgemm of its shape %9.3f s   ratio %.2f\n", step.c_str(),
                  seconds[step], seconds[ref], seconds[step] / seconds[ref]);
  benchmark::Shutdown();
  return 0;
}
