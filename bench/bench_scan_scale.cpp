// The replication scan at the paper's scale: N training descriptors (float16, in shard files on
// disk) against 10,000 generations (1,000 of them planted near-copies), scanned exactly with the
// training set streamed from disk (scan/stream_scan.h). In the same run, the reference: a plain
// multi-threaded sgemm of the same product (generations x all N rows, in 2048-row tiles, no
// reading, no top-k). Prints one JSON object: peak RSS of the scan (a child process, so that
// writing the data does not count), wall time of each pass and in all, the sgemm's time and the
// ratio, planted copies found at rank 1, and how many of a random sample of generations have the
// top-5 of a float64 search (dgemm over the same normalised rows).
//
//   build/bench/bench_scan_scale [--n 200000] [--d 512] [--nq 10000] [--planted 1000]
//                                [--shards 0 (N / 200000, at least 4)] [--block-rows 65536]
//                                [--check 1000] [--threads 0] [--dir /tmp/repbench_scan_scale]
//                                [--sketch-dims 64 (0: duplicates by a second pass)]
//                                [--precision both (fp32, bf16, auto, or both: fp32 then bf16)]
//
// With --precision both the scan runs twice in the same run, fp32 then bf16 candidate passes
// (docs/precision.md), each against the same sgemm reference; the report adds bf16's speed-up
// over fp32, candidates rescored per query, and whether the two matches.csv are byte-identical.
//
// The paper's scan is N = 12,000,000, d = 512 (LAION-Aesthetics v2 6+ against SSCD).
#include <cblas.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/npy.h"
#include "core/rng.h"
#include "metrics/parallel.h"
#include "metrics/precision.h"
#include "scan/descriptor_stream.h"
#include "scan/matches_csv.h"
#include "scan/scan.h"
#include "scan/stream_scan.h"

namespace fs = std::filesystem;
using namespace repbench;  // NOLINT

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Training row r, regenerated from r alone (no copy of the set is kept): uniform in [-1, 1].
void train_row(int64_t r, int64_t d, float* out) {
  uint64_t s = splitmix(uint64_t(r) * 7919 + 1);
  for (int64_t j = 0; j < d; ++j) {
    s = splitmix(s);
    out[j] = float(int64_t(s >> 40) - (int64_t(1) << 23)) / float(int64_t(1) << 23);
  }
}

struct Args {
  int64_t n = 200000, d = 512, nq = 10000, planted = 1000, shards = 0, block_rows = 65536,
          sketch_dims = 64, check = 1000;
  int threads = 0;
  std::string dir = "/tmp/repbench_scan_scale";
  std::string precision = "both";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n") a.n = std::stoll(v);
    else if (k == "--d") a.d = std::stoll(v);
    else if (k == "--nq") a.nq = std::stoll(v);
    else if (k == "--planted") a.planted = std::stoll(v);
    else if (k == "--shards") a.shards = std::stoll(v);
    else if (k == "--block-rows") a.block_rows = std::stoll(v);
    else if (k == "--sketch-dims") a.sketch_dims = std::stoll(v);
    else if (k == "--check") a.check = std::stoll(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--dir") a.dir = v;
    else if (k == "--precision") a.precision = v;
    else {
      std::fprintf(stderr, "bench_scan_scale: unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.shards == 0) a.shards = std::max<int64_t>(4, a.n / 200000);
  a.planted = std::min(a.planted, a.nq);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  fs::remove_all(a.dir);
  fs::create_directories(a.dir);

  // The training shards, float16, written one at a time.
  double t0 = now();
  std::vector<std::string> files;
  int64_t bytes = 0;
  for (int64_t s = 0; s < a.shards; ++s) {
    const int64_t b = a.n * s / a.shards, e = a.n * (s + 1) / a.shards;
    std::vector<float> rows(size_t((e - b) * a.d));
    for (int64_t r = b; r < e; ++r) train_row(r, a.d, rows.data() + (r - b) * a.d);
    files.push_back(fmt::format("{}/train-{:04d}.npy", a.dir, s));
    write_npy(files.back(), rows.data(), {e - b, a.d}, NpyDType::kFloat16);
    bytes += int64_t(fs::file_size(files.back()));
  }
  const double write_seconds = now() - t0;

  // Generations: the first `planted` are near-copies of random training rows (cosine ~0.99),
  // the rest new points.
  FloatArray g;
  g.shape = {a.nq, a.d};
  g.data.resize(size_t(a.nq * a.d));
  std::vector<int64_t> source(size_t(a.planted));
  Rng rng(42);
  for (int64_t i = 0; i < a.nq; ++i) {
    float* row = g.data.data() + i * a.d;
    if (i < a.planted) {
      source[i] = int64_t(rng.below(uint64_t(a.n)));
      train_row(source[i], a.d, row);
      for (int64_t j = 0; j < a.d; ++j) row[j] += 0.05f * static_cast<float>(rng.normal());
    } else {
      train_row(a.n + 1000003 + i, a.d, row);
    }
  }
  l2_normalize_rows(g);
  std::vector<std::string> names;
  for (int64_t i = 0; i < a.nq; ++i) names.push_back(std::to_string(i));
  std::vector<int64_t> sample = rng.permutation(a.nq);
  sample.resize(size_t(std::min(a.check, a.nq)));
  std::sort(sample.begin(), sample.end());

  // The scan, in a child process per precision: its peak RSS is the scan's alone.
  std::vector<std::string> precisions;
  if (a.precision == "both")
    precisions = {"fp32", "bf16"};
  else
    precisions = {metrics::precision_name(metrics::parse_precision(a.precision))};
  std::vector<nlohmann::json> scans;
  std::vector<double> peak_mib;
  for (const std::string& precision : precisions) {
  const std::string result_path = a.dir + "/scan_result.json";
  const std::string matches_path = a.dir + "/matches-" + precision + ".csv";
  const pid_t pid = fork();
  if (pid == 0) {
    const double c0 = now();
    const scan::DescriptorStream stream = scan::DescriptorStream::open(files);
    scan::ScanParams params;
    params.k = 5;
    params.index.kind = scan::IndexKind::kExact;
    params.index.threads = a.threads;
    scan::StreamOptions so;
    so.block_rows = a.block_rows;
    so.sketch_dims = a.sketch_dims;
    so.scratch_dir = a.dir;
    so.threads = a.threads;
    so.precision = metrics::parse_precision(precision);
    metrics::TopKResult m;
    const nlohmann::json rec = scan::scan_streamed(g, names, stream, false, params, so, &m);
    const double wall = now() - c0;
    scan::write_matches_csv(matches_path, names,
                            [&](int64_t id) -> const std::string& { return stream.path(id); }, m);
    int64_t found = 0;
    for (int64_t i = 0; i < a.planted; ++i) found += m.ids[i * 5] == source[i];
    nlohmann::json top5 = nlohmann::json::array();
    for (int64_t q : sample)
      top5.push_back({std::vector<int64_t>(m.ids.begin() + q * 5, m.ids.begin() + q * 5 + 5),
                      std::vector<float>(m.scores.begin() + q * 5, m.scores.begin() + q * 5 + 5)});
    write_file_atomic(result_path, nlohmann::json{{"wall_seconds", wall},
                                                  {"pass1_seconds", rec["timings"]["search_seconds"]},
                                                  {"stream", rec["stream"]},
                                                  {"precision", rec["search"]["precision"]},
                                                  {"planted_found", found},
                                                  {"top5", top5}}
                                       .dump());
    std::_Exit(0);
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_scan_scale: the scan failed\n");
    return 1;
  }
  scans.push_back(nlohmann::json::parse(read_file(result_path)));
  peak_mib.push_back(double(usage.ru_maxrss) / 1024.0);
  }
  const nlohmann::json& scan = scans.back();
  const bool identical_matches =
      precisions.size() == 2 && read_file(a.dir + "/matches-fp32.csv") == read_file(a.dir + "/matches-bf16.csv");

  // The reference: one sgemm of the same product on all threads, tile by tile (the product itself
  // is nq x n floats), over a tile of real rows reused for every position.
  const int threads = repbench::resolve_threads(a.threads);
  const int64_t tile = 2048;
  std::vector<float> rows(size_t(tile * a.d)), out(size_t(a.nq * tile));
  for (int64_t r = 0; r < tile; ++r) train_row(r, a.d, rows.data() + r * a.d);
  double sgemm_seconds = 0;
  {
    metrics::BlasThreadsScope blas(threads);
    t0 = now();
    for (int64_t b0 = 0; b0 < a.n; b0 += tile) {
      const int64_t m = std::min(tile, a.n - b0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(a.nq), int(m), int(a.d), 1.0f,
                  g.data.data(), int(a.d), rows.data(), int(a.d), 0.0f, out.data(), int(m));
    }
    sgemm_seconds = now() - t0;
  }

  // The float64 check: the sampled generations' top-5 by dgemm over the same normalised rows.
  t0 = now();
  const int64_t ns = int64_t(sample.size());
  std::vector<double> gq(size_t(ns * a.d));
  for (int64_t i = 0; i < ns; ++i)
    for (int64_t j = 0; j < a.d; ++j) gq[i * a.d + j] = g.data[sample[i] * a.d + j];
  std::vector<std::vector<std::pair<double, int64_t>>> best(static_cast<size_t>(ns));
  {
    metrics::BlasThreadsScope blas(threads);
    const scan::DescriptorStream stream = scan::DescriptorStream::open(files);
    std::vector<double> block, dots;
    stream.for_each_block(8192, [&](int64_t first, FloatArray& b) {
      l2_normalize_rows(b);
      block.assign(b.data.begin(), b.data.end());
      const int64_t m = b.rows();
      dots.resize(size_t(ns * m));
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(ns), int(m), int(a.d), 1.0,
                  gq.data(), int(a.d), block.data(), int(a.d), 0.0, dots.data(), int(m));
      for (int64_t i = 0; i < ns; ++i) {
        auto& list = best[i];
        for (int64_t j = 0; j < m; ++j) list.emplace_back(dots[i * m + j], first + j);
        std::partial_sort(list.begin(), list.begin() + std::min<size_t>(5, list.size()),
                          list.end(), [](const auto& x, const auto& y) {
                            return x.first > y.first || (x.first == y.first && x.second < y.second);
                          });
        list.resize(std::min<size_t>(5, list.size()));
      }
    });
  }
  int64_t same_top5 = 0;
  double max_diff = 0;
  for (int64_t i = 0; i < ns; ++i) {
    const auto& got = scan["top5"][size_t(i)];
    bool same = true;
    for (int64_t r = 0; r < 5; ++r) {
      same = same && got[0][size_t(r)].get<int64_t>() == best[i][r].second;
      max_diff = std::max(max_diff, std::abs(got[1][size_t(r)].get<double>() - best[i][r].first));
    }
    same_top5 += same;
  }
  const double check_seconds = now() - t0;

  nlohmann::json report{
      {"n", a.n},
      {"d", a.d},
      {"generations", a.nq},
      {"shards", a.shards},
      {"dtype", "float16"},
      {"bytes_on_disk", bytes},
      {"write_seconds", write_seconds},
      {"threads", threads},
      {"sgemm_reference_seconds", sgemm_seconds},
      {"planted", a.planted},
      {"planted_found_at_rank_1", scan["planted_found"]},
      {"float64_check",
       {{"sample", ns},
        {"same_top5_ids", same_top5},
        {"max_score_difference", max_diff},
        {"seconds", check_seconds}}}};
  for (size_t i = 0; i < scans.size(); ++i) {
    const nlohmann::json& sc = scans[i];
    const double wall = sc["wall_seconds"].get<double>();
    report["scan_" + precisions[i]] = {
        {"wall_seconds", wall},
        {"pass1_seconds", sc["pass1_seconds"]},
        {"pass2_seconds", wall - sc["pass1_seconds"].get<double>()},
        {"peak_rss_mib", peak_mib[i]},
        {"scan_over_sgemm", wall / sgemm_seconds},
        {"pass1_over_sgemm", sc["pass1_seconds"].get<double>() / sgemm_seconds},
        {"precision", sc["precision"]},
        {"stream", sc["stream"]}};
  }
  if (scans.size() == 2) {
    report["bf16_speedup_over_fp32"] =
        scans[0]["wall_seconds"].get<double>() / scans[1]["wall_seconds"].get<double>();
    report["identical_matches_csv"] = identical_matches;
    report["same_planted_found"] = scans[0]["planted_found"] == scans[1]["planted_found"];
  }
  std::printf("%s\n", report.dump(2).c_str());
  fs::remove_all(a.dir);
  return 0;
}
