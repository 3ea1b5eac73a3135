// repbench leaderboard: result records (or a long-format scores csv) -> the Table-1 layout.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/error.h"
#include "core/path_guard.h"
#include "report/leaderboard_run.h"

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
  uint64_t seed = 0;  // of the sign vectors (--significant-only) and of the rank bootstrap
  std::string reference;  // published rows to rank among
  bool reference_synthetic = false;
  int rank_resamples = 1000;
  std::string cd_diagram;  // PREFIX for PREFIX.svg / PREFIX.png
};

void run_leaderboard(const LeaderboardArgs& a) {
  report::LeaderboardRequest r;
  r.records = a.records;
  r.scores = a.scores;
  r.format = a.format;
  r.out = a.out;
  r.check = a.check;
  report::CheckOptions& o = r.check_options;
  o.rule = a.significant_only  ? report::CheckRule::kSignificant
           : a.within_interval ? report::CheckRule::kWithinInterval
           : a.tolerance_given ? report::CheckRule::kTolerance
                               : report::CheckRule::kExact;
  o.tolerance_percent = a.tolerance;
  o.allow_improved = a.allow_improved;
  o.alpha = a.alpha;
  o.paired.permutations = a.permutations;
  o.paired.seed = a.seed;
  r.reference = a.reference;
  r.reference_synthetic = a.reference_synthetic;
  r.rank_resamples = a.rank_resamples;
  r.seed = a.seed;
  r.cd_diagram = a.cd_diagram;
  PathGuard guard;  // no output replaces an input (core/path_guard.h), before any work
  for (const std::string& rec : a.records) guard.reads_listing("--records", rec);
  guard.reads("--scores", a.scores)
      .reads("--check", a.check)
      .reads("--reference", a.reference)
      .writes("--out", a.out);
  if (!a.cd_diagram.empty())
    guard.writes("--cd-diagram", a.cd_diagram + ".svg")
        .writes("--cd-diagram", a.cd_diagram + ".png");
  guard.check();
  // The table and the diagram become visible together (core/commit_group.h).
  CommitGroup outputs;
  const report::LeaderboardOutcome result = report::run_leaderboard(r);
  if (!a.out.empty()) write_file_atomic(a.out, result.text);
  outputs.commit();
  if (!a.cd_diagram.empty()) {
    if (result.cd_diagram_note.empty())
      fmt::print(stderr, "wrote {0}.svg and {0}.png\n", a.cd_diagram);
    else
      fmt::print(stderr, "no critical-difference diagram: {}\n", result.cd_diagram_note);
  }
  if (result.checked) {
    // CI mode: the diff goes to stdout; the table only to --out when asked for.
    std::fwrite(result.check_text.data(), 1, result.check_text.size(), stdout);
    std::fflush(stdout);
    if (result.check.failed()) std::exit(1);
    return;
  }
  if (a.out.empty()) {
    std::fwrite(result.text.data(), 1, result.text.size(), stdout);
  } else {
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
  cmd->add_option("--seed", args->seed,
                  "Seed of the sign vectors (--significant-only) and of the rank bootstrap")
      ->capture_default_str();
  cmd->add_flag("--allow-improved", args->allow_improved,
                "With --check: a score that went up is reported but does not fail");
  cmd->add_option("--reference", args->reference,
                  "Published rows to rank among (e.g. references/somepalli2023-table1.json): "
                  "marked \u2020, ranked over the columns both have");
  cmd->add_flag("--reference-synthetic", args->reference_synthetic,
                "With --reference: also compare the synthetic-set columns (meaningful only when "
                "your sets were built from the paper's own images)");
  cmd->add_option("--rank-resamples", args->rank_resamples,
                  "Bootstrap resamples of the average-rank intervals (per-query records)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cd-diagram", args->cd_diagram,
                  "Also write the critical-difference diagram as PREFIX.svg and PREFIX.png");
  cmd->footer(
      "One row per model, grouped by category; one column per dataset (mAP %, best in bold);\n"
      "Average Rank: per dataset rank 1 = highest mAP, ties share the mean rank, averaged over\n"
      "the datasets a model has.\n"
      "With per-query records (repbench.record/2) of every model on every dataset: a bootstrap\n"
      "95% interval of each average rank (queries of every dataset resampled at once), the\n"
      "Friedman test over the datasets and the Nemenyi critical difference (alpha 0.05), drawn as\n"
      "a critical-difference diagram in the html page and by --cd-diagram; otherwise a note says\n"
      "why they are omitted. In html, a value links to its record's failure page\n"
      "(<record>.failures.html beside it, written by `repbench run` or `repbench explain`).\n"
      "Examples:\n"
      "  repbench leaderboard --records results/ --format md\n"
      "  repbench leaderboard --scores table1.csv --format html --out table1.html\n"
      "  repbench leaderboard --records results/ --check results/leaderboard.json\n"
      "  repbench leaderboard --records results/ --format html --out lb.html --cd-diagram cd\n"
      "  repbench leaderboard --records results/ --reference references/somepalli2023-table1.json\n"
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
