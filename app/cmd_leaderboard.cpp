// repbench leaderboard: result records (or a long-format scores csv) -> the Table-1 layout.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "report/leaderboard.h"

namespace repbench::app {

namespace {

struct LeaderboardArgs {
  std::vector<std::string> records;
  std::string scores, format = "md", out;
};

void run_leaderboard(const LeaderboardArgs& a) {
  if (a.records.empty() == a.scores.empty())
    fail("give either --records FILE|DIR ... or --scores scores.csv");
  const report::Format format = report::parse_format(a.format);
  std::vector<report::ScoreEntry> entries =
      a.scores.empty() ? report::load_records(a.records) : report::load_scores_csv(a.scores);
  if (entries.empty()) fail("no result records found in the given paths");
  const std::string text = report::render(report::build_leaderboard(entries), format);
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
  cmd->add_option("--format,-f", args->format, "md|csv|tex|html")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output file (default: stdout)");
  cmd->footer(
      "One row per model, grouped by category; one column per dataset (mAP %, best in bold);\n"
      "Average Rank: per dataset rank 1 = highest mAP, ties share the mean rank, averaged over\n"
      "the datasets a model has.\n"
      "Examples:\n"
      "  repbench leaderboard --records results/ --format md\n"
      "  repbench leaderboard --scores table1.csv --format html --out table1.html");
  cmd->callback([args] { run_leaderboard(*args); });
}

}  // namespace repbench::app
