// The scan report at scale: write_scan_report on a record of 200,000 generations (the page shows
// the first 500 pairs; the plots bin every score) against the same report of 2,000 generations
// in the same run. A report whose cost grew faster than the generations (a quadratic sort, a
// density evaluated per pair) shows as a per-generation cost far above the small run's; the
// fixed costs (gnuplot, thumbnails of 500 pairs) make the large run's per-generation cost lower.
// Prints one JSON object: seconds for each size and the ratio of their per-generation costs.
// The images the pairs name do not exist: the page shows placeholders, as the report documents.
//
//   build/bench/bench_scan_report [--n 200000] [--small 2000]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/elapsed.h"
#include "report/scan_report.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A replication-scan record (schema 1) of n generations with scores spread over [0.2, 0.8) in a
// scrambled order, one threshold at 0.5 and a training baseline of 200 scores.
json record_of(int64_t n) {
  json top1 = json::array(), pairs = json::array(), baseline = json::array();
  int64_t above = 0, base_above = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double s = 0.2 + 0.6 * double((i * 7919) % n) / double(n);
    above += s > 0.5;
    top1.push_back(s);
    pairs.push_back({{"generated", fmt::format("g/{}.png", i)},
                     {"train", "t.png"},
                     {"score", s},
                     {"train_duplicates", 0}});
  }
  for (int i = 0; i < 200; ++i) {
    const double s = 0.25 + 0.3 * ((i * 37) % 100) / 100.0;
    base_above += s > 0.5;
    baseline.push_back(s);
  }
  return {{"kind", "replication-scan"},
          {"schema", 1},
          {"repbench_version", "bench"},
          {"created", "2026-01-01T00:00:00Z"},
          {"model", "builtin:tiny"},
          {"similarity", "inner-product"},
          {"k", 1},
          {"thresholds", {0.5}},
          {"dup_threshold", 0.95},
          {"generated", {{"source", "g/"}, {"count", n}, {"skipped", json::array()}}},
          {"train", {{"source", "t/"}, {"count", 1}, {"skipped", json::array()}, {"shards", 1}}},
          {"search",
           {{"method", "exact"},
            {"params", json::object()},
            {"recall_at_1", nullptr},
            {"recall_sample", 0}}},
          {"baseline", {{"sample", 200}, {"top1", baseline}, {"note", "synthetic"}}},
          {"notes", json::array()},
          {"generations_top1", top1},
          {"pairs", pairs},
          {"above",
           {{{"threshold", 0.5},
             {"generations", above},
             {"fraction", double(above) / double(n)},
             {"baseline", base_above},
             {"baseline_fraction", base_above / 200.0}}}},
          {"identical_sets", false}};
}

double seconds_to_render(int64_t n, const fs::path& dir) {
  const json rec = record_of(n);
  const auto t0 = std::chrono::steady_clock::now();
  repbench::report::write_scan_report(rec, dir / fmt::format("report-{}", n));
  return repbench::seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 200000, small = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--n"))
      n = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--small"))
      small = std::atoll(argv[i + 1]);
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("bench_scan_report_{}", getpid());
  fs::create_directories(dir);
  const double t_small = seconds_to_render(small, dir);
  const double t_large = seconds_to_render(n, dir);
  fs::remove_all(dir);
  const json out = {{"small", {{"generations", small}, {"seconds", t_small}}},
                    {"large", {{"generations", n}, {"seconds", t_large}}},
                    {"per_generation_cost_ratio", (t_large / n) / (t_small / small)}};
  std::puts(out.dump(2).c_str());
  return 0;
}
