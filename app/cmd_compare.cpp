// repbench compare: two models on the same queries, paired (report/compare.h).
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/path_guard.h"
#include "report/compare.h"

namespace repbench::app {

namespace {

struct CompareArgs {
  std::string a, b, format = "text", out;
  metrics::PairedOptions paired;
};

void run_compare(const CompareArgs& args) {
  const report::CompareFormat format = report::parse_compare_format(args.format);
  PathGuard().reads_listing("A", args.a).reads_listing("B", args.b).writes("--out", args.out).check();
  const report::Comparison c = report::compare_records(args.a, args.b, args.paired);
  const std::string text = report::render_comparison(c, format);
  if (args.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(args.out, text);
    fmt::print(stderr, "wrote {}\n", args.out);
  }
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Is model A better than model B on the same queries? Paired mAP difference, bootstrap "
      "interval, sign-flip p-value, Holm across sets.");
  cmd->add_option("A", args->a, "A record (.json) or a folder of one model's records")->required();
  cmd->add_option("B", args->b, "The record or folder to compare with (same kind as A)")
      ->required();
  cmd->add_option("--format,-f", args->format, "text|json|md")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output file (default: stdout)");
  cmd->add_option("--resamples", args->paired.resamples,
                  "Bootstrap resamples of the queries for the 95% interval (0 = none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--permutations", args->paired.permutations,
                  "Random sign vectors of the permutation test (sets of more than 20 queries)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
  cmd->add_option("--seed", args->paired.seed, "Seed of the resamples and sign vectors")
      ->capture_default_str();
  cmd->add_option("--threads", args->paired.threads, "Worker threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->footer(
      "Examples:\n"
      "  repbench compare results/sscd.roxford5k.medium.json results/dino.roxford5k.medium.json\n"
      "  repbench compare results/demo/records/tiny-1a2b3c4d results/demo/records/dct-5e6f7a8b "
      "--format md\n"
      "Both records must be of the same set and protocol and carry per-query results\n"
      "(schema repbench.record/2) for the same queries and ground truth (per_query.queries_sha256);\n"
      "with two folders every set and protocol they share is compared. Per set: the difference\n"
      "mAP(A) - mAP(B) over the queries, its 95% paired-bootstrap interval (queries resampled\n"
      "for both models together), and the two-sided sign-flip p-value of the per-query AP\n"
      "differences (exact with at most 20 queries), Holm-adjusted across the sets compared.\n"
      "Exit status: 0 = compared, 2 = records that cannot be compared (one line naming both).");
  cmd->callback([args] { run_compare(*args); });
}

}  // namespace repbench::app
