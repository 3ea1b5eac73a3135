// repbench leaderboard: result records (or a long-format scores csv) -> the Table-1 layout.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "report/leaderboard.h"
#include "report/leaderboard_check.h"

namespace repbench::app {

namespace {

struct LeaderboardArgs {
  std::vector<std::string> records;
  std::string scores, format = "md", out;
  std::string check;       // baseline leaderboard (csv or json) to compare with
  double tolerance = 0.0;  // percentage points (see leaderboard_check.h)
  bool tolerance_given = false, significant_only = false, within_interval = false;
  bool allow_improved = false;
  double alpha = 0.05;
  int64_t permutations = 100000;
  uint64_t seed = 0;
};

void run_leaderboard(const LeaderboardArgs& a) {
  if (a.records.empty() == a.scores.empty())
    fail("give either --records FILE|DIR ... or --scores scores.csv");
  const report::Format format = report::parse_format(a.format);
  std::vector<report::ScoreEntry> entries =
      a.scores.empty() ? report::load_records(a.records) : report::load_scores_csv(a.scores);
  if (entries.empty()) fail("no result records found in the given paths");
  const report::Leaderboard board = report::build_leaderboard(entries);
  const std::string text = report::render(board, format);
  if (!a.check.empty()) {
    // CI mode: the diff goes to stdout; the table only to --out when asked for.
    const report::LeaderboardBaseline baseline = report::load_leaderboard_baseline(a.check);
    report::CheckOptions o;
    o.rule = a.significant_only  ? report::CheckRule::kSignificant
             : a.within_interval ? report::CheckRule::kWithinInterval
             : a.tolerance_given ? report::CheckRule::kTolerance
                                 : report::CheckRule::kExact;
    o.tolerance_percent = a.tolerance;
    o.allow_improved = a.allow_improved;
    o.alpha = a.alpha;
    o.paired.permutations = a.permutations;
    o.paired.seed = a.seed;
    const report::CheckResult result = report::check_leaderboard(baseline, board, o);
    if (!a.out.empty()) write_file_atomic(a.out, text);
    const std::string diff = format == report::Format::kJson
                                 ? report::render_check_json(result, a.check)
                                 : report::render_check(result, a.check);
    std::fwrite(diff.data(), 1, diff.size(), stdout);
    std::fflush(stdout);
    if (result.failed()) std::exit(1);
    return;
  }
  if (a.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(a.out, text);
    fmt::print(stderr, "wrote {}\n", a.out);
  }
}

}  // namespace

void add_leaderboard_command(CLI::App& app) {
  auto args = std::make_shared<LeaderboardArgs>();
  CLI::App* cmd = app.add_subcommand(
      "leaderboard", "Render result records as a Table-1 leaderboard (md, csv, tex, html).");
  auto* rec = cmd->add_option("--records", args->records, "Record files or folders (recursive)");
  auto* sc = cmd->add_option("--scores", args->scores,
                             "Long-format csv with header model,category,dataset,map (percent)");
  rec->excludes(sc);
  cmd->add_option("--format,-f", args->format, "md|csv|tex|html|json")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output file (default: stdout)");
  cmd->add_option("--check", args->check,
                  "Compare with a baseline leaderboard (--format csv or json output); exit 1 when "
                  "a score changed (see the rules below) or a row, column or score disappeared");
  auto* tolerance =
      cmd->add_option("--tolerance", args->tolerance,
                      "With --check: a score may move this many percentage points (with "
                      "--within-interval: around its interval)")
          ->check(CLI::NonNegativeNumber);
  auto* significant = cmd->add_flag(
      "--significant-only", args->significant_only,
      "With --check: fail only a change that is significant for the same queries (paired "
      "sign-flip test of the per-query APs, Holm across the scores; needs a JSON baseline and "
      "records with per-query data)");
  auto* interval = cmd->add_flag(
      "--within-interval", args->within_interval,
      "With --check: the older rule: fail a score that left its baseline 95% bootstrap interval");
  significant->excludes(interval);
  significant->excludes(tolerance);
  cmd->add_option("--alpha", args->alpha, "With --significant-only: family-wise error rate")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--permutations", args->permutations,
                  "With --significant-only: random sign vectors per score (more than 20 queries)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
  cmd->add_option("--seed", args->seed, "With --significant-only: seed of the sign vectors")
      ->capture_default_str();
  cmd->add_flag("--allow-improved", args->allow_improved,
                "With --check: a score that went up is reported but does not fail");
  cmd->footer(
      "One row per model, grouped by category; one column per dataset (mAP %, best in bold);\n"
      "Average Rank: per dataset rank 1 = highest mAP, ties share the mean rank, averaged over\n"
      "the datasets a model has.\n"
      "Examples:\n"
      "  repbench leaderboard --records results/ --format md\n"
      "  repbench leaderboard --scores table1.csv --format html --out table1.html\n"
      "  repbench leaderboard --records results/ --check results/leaderboard.json\n"
      "  repbench leaderboard --records results/ --check results/leaderboard.json "
      "--significant-only\n"
      "--check rules (one line per difference names the rule that fired, then a summary):\n"
      "  default             any change of a score fails (1e-9 on the fraction): for\n"
      "                      deterministic pipelines, where a change means code, model or data\n"
      "                      changed\n"
      "  --tolerance PP      a move of more than PP percentage points fails\n"
      "  --significant-only  a move fails when the paired test on the same queries finds it\n"
      "                      significant (Holm-adjusted p < --alpha); for runs that are not\n"
      "                      bit-reproducible\n"
      "  --within-interval   a score fails when it leaves the baseline's 95% bootstrap interval\n"
      "                      (the interval of another draw of queries; large moves can pass)\n"
      "With --check, --format json prints the check report as JSON.\n"
      "--check exit status: 0 = passed, 1 = a score changed under the rule, or a row, column or\n"
      "score disappeared, 2 = unreadable input (or, with --significant-only, no per-query data).");
  cmd->callback([args, tolerance] {
    args->tolerance_given = tolerance->count() > 0;
    run_leaderboard(*args);
  });
}

}  // namespace repbench::app
