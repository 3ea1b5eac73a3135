// Tests of report/leaderboard_check: `repbench leaderboard --check` on an unchanged, an improved,
// a regressed and a reshaped leaderboard, with CSV and JSON baselines, and the command's exit
// statuses.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "report/leaderboard.h"
#include "report/leaderboard_check.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace repbench::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = CellChange::Kind;

class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_lbcheck") {}
};

using test_support::error_of;  // the message of the repbench::Error a call throws

ScoreEntry score(const std::string& model, const std::string& dataset, double map,
                 std::optional<std::pair<double, double>> ci = std::nullopt,
                 const std::string& category = "CD/IR") {
  ScoreEntry e;
  e.model = model;
  e.category = category;
  e.dataset = dataset;
  e.map_percent = map;
  e.ci95_percent = ci;
  e.origin = "test";
  return e;
}

// Two models x two datasets, with intervals.
std::vector<ScoreEntry> base_scores() {
  return {score("SSCD", "rOxford5k (M)", 53.12, {{51.0, 55.5}}),
          score("SSCD", "GPR1200", 70.00, {{68.0, 72.0}}),
          score("DINO, ViT-B/16", "rOxford5k (M)", 40.00, {{38.0, 42.0}}, "SSL"),
          score("DINO, ViT-B/16", "GPR1200", 60.25, {{59.0, 61.5}}, "SSL")};
}

LeaderboardBaseline json_baseline(const std::vector<ScoreEntry>& scores, const TempDir& dir) {
  const std::string path = dir.file("baseline.json");
  write_file_atomic(path, render(build_leaderboard(scores), Format::kJson));
  return load_leaderboard_baseline(path);
}

LeaderboardBaseline csv_baseline(const std::vector<ScoreEntry>& scores, const TempDir& dir) {
  const std::string path = dir.file("baseline.csv");
  write_file_atomic(path, render(build_leaderboard(scores), Format::kCsv));
  return load_leaderboard_baseline(path);
}

TEST(LeaderboardBaseline, JsonRoundTripKeepsValuesIntervalsAndSkips) {
  TempDir dir;
  auto scores = base_scores();
  ScoreEntry skipped = score("Color hist", "GPR1200", 0, std::nullopt, "other");
  skipped.skipped_reason = "model file missing";
  scores.push_back(skipped);
  const Leaderboard board = build_leaderboard(scores);
  const LeaderboardBaseline base = json_baseline(scores, dir);
  EXPECT_EQ(base.resolution_percent, 0.0);
  ASSERT_EQ(base.board.datasets, board.datasets);
  ASSERT_EQ(base.board.rows.size(), board.rows.size());
  for (size_t r = 0; r < board.rows.size(); ++r) {
    EXPECT_EQ(base.board.rows[r].model, board.rows[r].model);
    EXPECT_EQ(base.board.rows[r].category, board.rows[r].category);
    EXPECT_EQ(base.board.rows[r].average_rank, board.rows[r].average_rank);
    for (size_t c = 0; c < board.datasets.size(); ++c) {
      const auto &a = base.board.rows[r].cells[c], &b = board.rows[r].cells[c];
      EXPECT_EQ(a.state, b.state);
      if (b.state == LeaderboardCell::State::kValue) {
        EXPECT_EQ(a.map_percent, b.map_percent);  // full precision
        EXPECT_EQ(a.ci95_percent, b.ci95_percent);
      }
      EXPECT_EQ(a.skipped_reason, b.skipped_reason);
    }
  }
  // An unchanged leaderboard against its own JSON: nothing moved.
  CheckResult result = check_leaderboard(base, board);
  EXPECT_FALSE(result.failed());
  EXPECT_EQ(result.unchanged, 4);
  EXPECT_TRUE(result.changes.empty());
}

TEST(LeaderboardBaseline, CsvRoundTripReadsTheRenderedTable) {
  TempDir dir;
  auto scores = base_scores();
  scores.push_back(score("Color hist", "GPR1200", 12.345678, std::nullopt, "other"));
  const LeaderboardBaseline base = csv_baseline(scores, dir);
  EXPECT_EQ(base.resolution_percent, 0.01);
  ASSERT_EQ(base.board.datasets, (std::vector<std::string>{"rOxford5k (M)", "GPR1200"}));
  ASSERT_EQ(base.board.rows.size(), 3u);
  EXPECT_EQ(base.board.rows[0].model, "SSCD");
  EXPECT_EQ(base.board.rows[1].model, "DINO, ViT-B/16");  // quoted field with a comma
  EXPECT_EQ(base.board.rows[2].cells[0].state, LeaderboardCell::State::kMissing);
  EXPECT_DOUBLE_EQ(base.board.rows[2].cells[1].map_percent, 12.35);  // 2 decimals
  // The unrounded values compare equal to their own 2-decimal CSV with tolerance 0.
  CheckResult result = check_leaderboard(base, build_leaderboard(scores));
  EXPECT_FALSE(result.failed()) << render_check(result, "baseline.csv");
  EXPECT_EQ(result.unchanged, 5);
}

TEST(LeaderboardCheck, UnchangedPassesWithAnOkSummary) {
  TempDir dir;
  CheckResult result =
      check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(base_scores()));
  EXPECT_FALSE(result.failed());
  const std::string text = render_check(result, "results/leaderboard.json");
  EXPECT_EQ(text,
            "leaderboard check against results/leaderboard.json: OK (4 unchanged; rule: any change "
            "fails)\n");
}

CheckOptions interval_rule(double tolerance = 0.0, bool allow_improved = false) {
  CheckOptions o;
  o.rule = CheckRule::kWithinInterval;
  o.tolerance_percent = tolerance;
  o.allow_improved = allow_improved;
  return o;
}

CheckOptions tolerance_rule(double tolerance) {
  CheckOptions o;
  o.rule = CheckRule::kTolerance;
  o.tolerance_percent = tolerance;
  return o;
}

TEST(LeaderboardCheck, AnyChangeFailsByDefault) {
  TempDir dir;
  auto now = base_scores();
  now[0].map_percent = 53.12 + 2e-7;  // 2e-9 on the fraction: a change
  now[1].map_percent = 70.00 + 5e-8;  // 5e-10 on the fraction: below the threshold
  CheckResult result = check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now));
  EXPECT_TRUE(result.failed());
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].label, "changed");
  EXPECT_EQ(result.changes[0].kind, Kind::kImproved);
  EXPECT_EQ(result.unchanged, 3);
  EXPECT_THAT(render_check(result, "b"),
              HasSubstr("FAIL changed           SSCD | rOxford5k (M): 53.12 -> 53.12 (+2e-07 pp, "
                        "up)"));
}

TEST(LeaderboardCheck, MovesWithinTheIntervalPass) {
  TempDir dir;
  auto now = base_scores();
  now[0].map_percent = 51.0;  // at the interval's low end
  now[1].map_percent = 71.9;
  CheckResult result = check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now),
                                         interval_rule());
  EXPECT_FALSE(result.failed());
  EXPECT_EQ(result.unchanged, 2);
  ASSERT_EQ(result.changes.size(), 2u);
  for (const auto& c : result.changes) {
    EXPECT_EQ(c.label, "inside interval");
    EXPECT_FALSE(c.fails);
  }
}

TEST(LeaderboardCheck, RegressedFailsAndNamesTheCell) {
  TempDir dir;
  auto now = base_scores();
  now[0].map_percent = 50.0;  // below [51.0, 55.5]
  CheckResult result = check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now),
                                         interval_rule());
  EXPECT_TRUE(result.failed());
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].kind, Kind::kRegressed);
  EXPECT_EQ(result.changes[0].label, "outside interval");
  EXPECT_EQ(result.changes[0].model, "SSCD");
  EXPECT_EQ(result.changes[0].dataset, "rOxford5k (M)");
  EXPECT_DOUBLE_EQ(result.changes[0].allowed_lo, 51.0);
  EXPECT_DOUBLE_EQ(result.changes[0].allowed_hi, 55.5);
  EXPECT_EQ(render_check(result, "base.json"),
            "leaderboard check against base.json: FAILED (1 outside interval, 3 unchanged; rule: a "
            "score outside its baseline 95% interval fails)\n"
            "  FAIL outside interval  SSCD | rOxford5k (M): 53.12 -> 50.00 (-3.12 pp, down; "
            "allowed 51.00 .. 55.50)\n");
  // A tolerance wide enough lets it pass.
  EXPECT_FALSE(check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now),
                                 interval_rule(1.5))
                   .failed());
}

TEST(LeaderboardCheck, ImprovedFailsUnlessAllowed) {
  TempDir dir;
  auto now = base_scores();
  now[3].map_percent = 65.0;  // above [59.0, 61.5]
  const LeaderboardBaseline base = json_baseline(base_scores(), dir);
  CheckResult strict = check_leaderboard(base, build_leaderboard(now), interval_rule());
  EXPECT_TRUE(strict.failed());
  ASSERT_EQ(strict.changes.size(), 1u);
  EXPECT_EQ(strict.changes[0].kind, Kind::kImproved);
  EXPECT_THAT(render_check(strict, "b"),
              HasSubstr("FAIL outside interval  DINO, ViT-B/16 | GPR1200: 60.25 -> 65.00 (+4.75 "
                        "pp, up"));
  CheckResult lenient = check_leaderboard(base, build_leaderboard(now), interval_rule(0.0, true));
  EXPECT_FALSE(lenient.failed());
  EXPECT_THAT(render_check(lenient, "b"), HasSubstr("OK (1 improved, 3 unchanged; rule: "));
  EXPECT_THAT(render_check(lenient, "b"), HasSubstr("ok   improved"));
}

TEST(LeaderboardCheck, CsvBaselineUsesTheTolerance) {
  TempDir dir;
  auto now = base_scores();
  now[0].map_percent = 53.0;  // 0.12 below a CSV baseline without intervals
  const LeaderboardBaseline base = csv_baseline(base_scores(), dir);
  CheckResult exact = check_leaderboard(base, build_leaderboard(now));
  EXPECT_TRUE(exact.failed());
  ASSERT_EQ(exact.changes.size(), 1u);
  EXPECT_EQ(exact.changes[0].kind, Kind::kRegressed);
  EXPECT_FALSE(check_leaderboard(base, build_leaderboard(now), tolerance_rule(0.2)).failed());
  EXPECT_TRUE(check_leaderboard(base, build_leaderboard(now), tolerance_rule(0.1)).failed());
}

TEST(LeaderboardCheck, ReshapedMissingRowAndColumnFail) {
  TempDir dir;
  // DINO is gone (a row), GPR1200 is gone (a column), a new model and dataset appear.
  std::vector<ScoreEntry> now = {score("SSCD", "rOxford5k (M)", 53.12),
                                 score("SSCD", "INSTRE", 80.0),
                                 score("CLIP", "rOxford5k (M)", 30.0, std::nullopt, "PT")};
  CheckResult result = check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now));
  EXPECT_TRUE(result.failed());
  EXPECT_EQ(result.missing_rows, std::vector<std::string>{"DINO, ViT-B/16"});
  EXPECT_EQ(result.missing_columns, std::vector<std::string>{"GPR1200"});
  EXPECT_EQ(result.added_rows, std::vector<std::string>{"CLIP"});
  EXPECT_EQ(result.added_columns, std::vector<std::string>{"INSTRE"});
  EXPECT_EQ(result.unchanged, 1);
  EXPECT_EQ(render_check(result, "b.json"),
            "leaderboard check against b.json: FAILED (1 missing row(s), 1 missing column(s), 1 "
            "new row(s), 1 new column(s), 1 unchanged; rule: any change fails)\n"
            "  FAIL missing row       DINO, ViT-B/16\n"
            "  FAIL missing column    GPR1200\n"
            "  ok   new row           CLIP\n"
            "  ok   new column        INSTRE\n");
}

TEST(LeaderboardCheck, ReshapedOnlyRowOrOnlyColumnFails) {
  TempDir dir;
  const LeaderboardBaseline base = csv_baseline(base_scores(), dir);
  auto no_row = base_scores();
  no_row.resize(2);  // SSCD only
  CheckResult r1 = check_leaderboard(base, build_leaderboard(no_row));
  EXPECT_TRUE(r1.failed());
  EXPECT_EQ(r1.missing_rows.size(), 1u);
  EXPECT_TRUE(r1.missing_columns.empty());
  std::vector<ScoreEntry> no_column = {base_scores()[0], base_scores()[2]};
  CheckResult r2 = check_leaderboard(base, build_leaderboard(no_column));
  EXPECT_TRUE(r2.failed());
  EXPECT_TRUE(r2.missing_rows.empty());
  EXPECT_EQ(r2.missing_columns, std::vector<std::string>{"GPR1200"});
}

TEST(LeaderboardCheck, LostScoreFailsGainedPasses) {
  TempDir dir;
  auto now = base_scores();
  now[1].skipped_reason = "out of memory";  // SSCD on GPR1200: a value before, skipped now
  CheckResult lost = check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now));
  EXPECT_TRUE(lost.failed());
  ASSERT_EQ(lost.changes.size(), 1u);
  EXPECT_EQ(lost.changes[0].kind, Kind::kLost);
  EXPECT_THAT(render_check(lost, "b"),
              HasSubstr("FAIL lost              SSCD | GPR1200: 70.00 -> skipped: out of memory"));
  // The other way round: skipped in the baseline, a value now.
  CheckResult gained = check_leaderboard(json_baseline(now, dir), build_leaderboard(base_scores()));
  EXPECT_FALSE(gained.failed());
  ASSERT_EQ(gained.changes.size(), 1u);
  EXPECT_EQ(gained.changes[0].kind, Kind::kGained);
}

TEST(LeaderboardCheck, ReportIsPlainAscii) {
  TempDir dir;
  auto now = base_scores();
  now[0].map_percent = 10;
  now[3].map_percent = 99;
  const std::string text = render_check(
      check_leaderboard(json_baseline(base_scores(), dir), build_leaderboard(now)), "b");
  for (char c : text) {
    EXPECT_NE(c, '\r');
    EXPECT_NE(c, '\x1b');  // no ANSI colours
    EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  }
}

TEST(LeaderboardBaseline, MalformedFilesThrowWithTheFile) {
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    write_file_atomic(dir.file(name), text);
    return dir.file(name);
  };
  EXPECT_THAT(error_of([&] { load_leaderboard_baseline(dir.file("none.csv")); }),
              HasSubstr("none.csv"));
  EXPECT_THAT(error_of([&] { load_leaderboard_baseline(write("a.csv", "")); }),
              HasSubstr("empty file"));
  EXPECT_THAT(
      error_of([&] { load_leaderboard_baseline(write("b.csv", "model,category,dataset,map\n")); }),
      HasSubstr("category,model,<datasets...>,average_rank"));
  EXPECT_THAT(
      error_of([&] {
        load_leaderboard_baseline(write("c.csv", "category,model,X,average_rank\nPT,A,1\n"));
      }),
      HasSubstr("line 2: expected 4 fields, found 3"));
  EXPECT_THAT(
      error_of([&] {
        load_leaderboard_baseline(write("d.csv", "category,model,X,average_rank\nPT,A,abc,1.0\n"));
      }),
      HasSubstr("'abc', not a number"));
  EXPECT_THAT(error_of([&] {
                load_leaderboard_baseline(
                    write("e.csv", "category,model,X,average_rank\nPT,\"A,1.0,1.0\n"));
              }),
              HasSubstr("not closed"));
  EXPECT_THAT(error_of([&] { load_leaderboard_baseline(write("f.json", "{\"schema\": 3")); }),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of([&] { load_leaderboard_baseline(write("g.json", "{\"schema\": \"x\"}")); }),
              HasSubstr("repbench.leaderboard/1"));
  EXPECT_THAT(
      error_of([&] {
        load_leaderboard_baseline(write(
            "h.json",
            R"({"schema": "repbench.leaderboard/1", "datasets": ["X"], "rows": [{"model": "A", "cells": []}]})"));
      }),
      HasSubstr("expected 1 cells"));
}

// ---------------------------------------------------------------------------------------------
// The command line: exit statuses 0 / 1 / 2 and the diff on stdout.

struct CliResult {
  int status = -1;
  std::string out, err;
};

CliResult run_cli(const std::string& args, const TempDir& dir) {
  const std::string out_file = dir.file("stdout.txt"), err_file = dir.file("stderr.txt");
  const std::string cmd =
      std::string(REPBENCH_BINARY) + " " + args + " >" + out_file + " 2>" + err_file;
  CliResult r;
  int raw = std::system(cmd.c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(out_file);
  r.err = read_file(err_file);
  return r;
}

TEST(LeaderboardCheckCli, ExitStatusesAndDiff) {
  TempDir dir;
  const std::string scores = dir.file("scores.csv");
  write_file_atomic(scores,
                    "model,category,dataset,map\n"
                    "SSCD,CD/IR,rOxford5k (M),53.12\n"
                    "SSCD,CD/IR,GPR1200,70.00\n"
                    "DINO,SSL,rOxford5k (M),40.00\n"
                    "DINO,SSL,GPR1200,60.25\n");
  ASSERT_EQ(
      run_cli("leaderboard --scores " + scores + " --format json -o " + dir.file("base.json"), dir)
          .status,
      0);
  ASSERT_EQ(
      run_cli("leaderboard --scores " + scores + " --format csv -o " + dir.file("base.csv"), dir)
          .status,
      0);
  for (const char* base : {"base.json", "base.csv"}) {
    CliResult same = run_cli("leaderboard --scores " + scores + " --check " + dir.file(base), dir);
    EXPECT_EQ(same.status, 0) << same.out;
    EXPECT_THAT(same.out, HasSubstr(": OK (4 unchanged; rule: any change fails)"));
  }

  const std::string moved = dir.file("moved.csv");
  write_file_atomic(moved,
                    "model,category,dataset,map\n"
                    "SSCD,CD/IR,rOxford5k (M),52.00\n"
                    "SSCD,CD/IR,GPR1200,70.00\n"
                    "DINO,SSL,rOxford5k (M),40.00\n");
  CliResult fails =
      run_cli("leaderboard --scores " + moved + " --check " + dir.file("base.csv"), dir);
  EXPECT_EQ(fails.status, 1);
  EXPECT_THAT(fails.out, HasSubstr("FAILED"));
  EXPECT_THAT(fails.out, HasSubstr("FAIL changed           SSCD | rOxford5k (M): 53.12 -> 52.00"));
  EXPECT_THAT(fails.out, HasSubstr("FAIL lost              DINO | GPR1200"));
  // Within a 1.5 pp tolerance only the lost score fails.
  CliResult tolerant = run_cli(
      "leaderboard --scores " + moved + " --check " + dir.file("base.csv") + " --tolerance 1.5",
      dir);
  EXPECT_EQ(tolerant.status, 1);
  EXPECT_THAT(tolerant.out, Not(HasSubstr("FAIL changed")));
  EXPECT_THAT(tolerant.out, HasSubstr("ok   within tolerance"));

  // Bad input: the contract (status 2, one line naming the file and the problem).
  write_file_atomic(dir.file("bad.csv"), "hello\n");
  EXPECT_BAD_INPUT(
      run_cli("leaderboard --scores " + scores + " --check " + dir.file("bad.csv"), dir),
      dir.file("bad.csv"), "line 1: expected a leaderboard csv header",
      ::repbench::test_support::kNoOutput);
  EXPECT_BAD_INPUT(
      run_cli("leaderboard --scores " + scores + " --check " + dir.file("absent.json"), dir),
      dir.file("absent.json"), "no such file", ::repbench::test_support::kNoOutput);
}

}  // namespace
}  // namespace repbench::report
