// The replication scan's search at scale: 10,000 generations against 1,000,000 training
// descriptors (d = 512), approximate (FAISS IVF-Flat, tuned by scan::search_train to its recall
// target on a sample) against exact search (metrics/topk.h) on the same data in the same run.
// Prints index build, tuning and search times separately, recall@1 over ALL queries against the
// exact result, the speed-up, and memory (peak RSS and the index's own size), as one JSON object.
//
// Data, synthetic but shaped like real descriptors, which vary along few directions: `clusters`
// centres, each with its own random `latent`-dimensional subspace; a row is its centre plus a
// Gaussian point of that subspace (std `spread` per direction) plus a little isotropic noise,
// L2-normalised. Queries are drawn the same way (new points, not copies), except every tenth, a
// planted near-copy of a random training row (cosine ~0.99). Inside a cluster the nearest
// neighbour is often across an IVF cell boundary, so the search has to be tuned (nprobe widened)
// to reach its recall: the earlier isotropic clusters were found at the first setting, which
// exercised nothing. The JSON says how far the tuning went.
//
//   build/bench/bench_scan [--n 1000000] [--nq 10000] [--d 512] [--threads 0] [--index ivf|hnsw]
//                          [--clusters 1000] [--latent 8] [--spread 1.0]
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/rng.h"
#include "scan/index.h"

using namespace repbench;  // NOLINT

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// VmRSS or VmHWM of this process, in MiB.
double proc_mib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atof(line.c_str() + std::strlen(key)) / 1024.0;
  return -1;
}

// The mixture: per cluster a centre (norm ~1) and a `latent` x d basis of random directions.
struct Mixture {
  int64_t clusters = 0, latent = 0, d = 0;
  float spread = 1, noise = 0.05f;
  std::vector<float> centres, bases;
};

Mixture make_mixture(int64_t clusters, int64_t latent, int64_t d, float spread) {
  Mixture m{clusters, latent, d, spread, 0.05f, {}, {}};
  Rng rng(1);
  auto g = [](Rng& r) { return static_cast<float>(r.normal()); };
  const float unit = 1.0f / std::sqrt(float(d));
  m.centres.resize(clusters * d);
  for (auto& c : m.centres) c = g(rng) * unit;
  m.bases.resize(clusters * latent * d);
  for (auto& b : m.bases) b = g(rng) * unit;
  return m;
}

// Rows of the mixture; each row seeded by its index (any thread count gives the same data).
void fill(FloatArray& a, const Mixture& m, uint64_t seed) {
  const int64_t n = a.rows(), d = a.shape[1];
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    Rng rng = Rng::for_item(seed, 0, uint64_t(i));
    auto g = [](Rng& r) { return static_cast<float>(r.normal()); };
    const int64_t c = int64_t(rng.below(uint64_t(m.clusters)));
    float* row = a.data.data() + i * d;
    const float* centre = m.centres.data() + c * d;
    const float unit = 1.0f / std::sqrt(float(d));
    for (int64_t j = 0; j < d; ++j) row[j] = centre[j] + m.noise * unit * g(rng);
    for (int64_t l = 0; l < m.latent; ++l) {
      const float z = m.spread * g(rng);
      const float* b = m.bases.data() + (c * m.latent + l) * d;
      for (int64_t j = 0; j < d; ++j) row[j] += z * b[j];
    }
  }
  l2_normalize_rows(a);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000, nq = 10000, d = 512, k = 5, nc = 1000, latent = 8;
  float spread = 1.0f;
  int threads = 0;
  std::string index = "ivf";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--n") n = std::atoll(argv[i + 1]);
    else if (a == "--nq") nq = std::atoll(argv[i + 1]);
    else if (a == "--d") d = std::atoll(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--index") index = argv[i + 1];
    else if (a == "--clusters") nc = std::atoll(argv[i + 1]);
    else if (a == "--latent") latent = std::atoll(argv[i + 1]);
    else if (a == "--spread") spread = float(std::atof(argv[i + 1]));
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const Mixture mixture = make_mixture(nc, latent, d, spread);
  double t = now();
  FloatArray train, queries;
  train.shape = {n, d};
  train.data.resize(n * d);
  queries.shape = {nq, d};
  queries.data.resize(nq * d);
  fill(train, mixture, 2);
  fill(queries, mixture, 3);
  // Every tenth query: a near-copy of a training row.
  Rng rng(4);
  auto g = [](Rng& r) { return static_cast<float>(r.normal()); };
  for (int64_t q = 0; q < nq; q += 10) {
    const int64_t src = int64_t(rng.below(uint64_t(n)));
    for (int64_t j = 0; j < d; ++j)
      queries.data[q * d + j] = train.data[src * d + j] + 0.1f / std::sqrt(float(d)) * g(rng);
  }
  l2_normalize_rows(queries);
  const double data_s = now() - t;
  const double rss_data = proc_mib("VmRSS:");
  std::fprintf(stderr, "data: %.1f s, %.0f MiB\n", data_s, rss_data);

  scan::IndexOptions o;
  o.kind = scan::parse_index_kind(index);
  o.threads = threads;
  o.recall_sample = 1000;
  t = now();
  scan::SearchOutcome approx = scan::search_train(train, queries, false, k, o);
  const double approx_total = now() - t;
  const double rss_index = proc_mib("VmRSS:");
  std::fprintf(stderr, "approximate: build %.1f s, tune %.1f s, search %.2f s\n",
               approx.build_seconds, approx.tune_seconds, approx.search_seconds);

  t = now();
  const metrics::TopKResult exact = scan::exact_search(train, false, queries.data.data(), nq, k, threads);
  const double exact_s = now() - t;
  std::fprintf(stderr, "exact: %.1f s\n", exact_s);

  metrics::TopKResult top1;
  top1.nq = nq;
  top1.k = 1;
  metrics::TopKResult exact1 = top1;
  int64_t planted_found = 0;
  for (int64_t q = 0; q < nq; ++q) {
    top1.ids.push_back(approx.topk.ids[q * k]);
    top1.scores.push_back(approx.topk.scores[q * k]);
    exact1.ids.push_back(exact.ids[q * k]);
    exact1.scores.push_back(exact.scores[q * k]);
    if (q % 10 == 0) planted_found += approx.topk.ids[q * k] == exact.ids[q * k];
  }
  const double recall = scan::recall_at_1(top1, exact1);
  const double index_mib = double(n) * (d * 4 + 8) / (1 << 20);
  nlohmann::json out = {
      {"context", {{"n", n}, {"nq", nq}, {"d", d}, {"k", k}, {"threads", threads > 0 ? threads : omp_get_max_threads()},
                   {"clusters", nc}, {"latent", latent}, {"spread", spread},
                   {"planted_near_copies", (nq + 9) / 10}}},
      {"approximate", {{"method", approx.method}, {"params", approx.params},
                       {"build_s", approx.build_seconds}, {"tune_s", approx.tune_seconds},
                       {"search_s", approx.search_seconds}, {"total_s", approx_total},
                       {"tuning", approx.tuning},
                       {"recall_at_1_sample", approx.recall_at_1.value_or(-1)},
                       {"recall_at_1_all", recall},
                       {"planted_near_copies_found", planted_found}}},
      {"exact", {{"search_s", exact_s}}},
      {"speedup_search", exact_s / approx.search_seconds},
      {"speedup_including_build_and_tuning", exact_s / approx_total},
      {"memory_mib", {{"descriptors", double(n + nq) * d * 4 / (1 << 20)},
                      {"index_lists_estimate", index_mib},
                      {"rss_after_data", rss_data}, {"rss_after_index", rss_index},
                      {"peak_rss", proc_mib("VmHWM:")}}},
      {"pass", recall >= 0.95 && exact_s >= 10 * approx.search_seconds}};
  std::printf("%s\n", out.dump(2).c_str());
  return out["pass"].get<bool>() ? 0 : 1;
}
