// `repbench leaderboard --check BASELINE`: compares a freshly built leaderboard with one kept in
// git, for CI pipelines that regenerate their tables. A score that moved beyond its bootstrap
// interval, a score that is gone, or a model (row) or dataset (column) that disappeared is a
// failure; new rows, columns and scores are reported but pass. The baseline is a leaderboard
// rendered as CSV (2 decimals, no intervals) or as JSON (full precision, with intervals).
#pragma once

#include <string>
#include <vector>

#include "report/leaderboard.h"

namespace repbench::report {

// A committed leaderboard to compare against.
struct LeaderboardBaseline {
  Leaderboard board;
  // The precision its numbers were written with, in percentage points: 0.01 for CSV (2
  // decimals), 0 for JSON. A new score is rounded to it before comparing, so that a CSV baseline
  // of an unchanged run always compares equal.
  double resolution_percent = 0.0;
  std::string origin;  // the file it came from
};

// Reads a baseline: JSON when the file starts with '{' (schema kLeaderboardSchema), otherwise
// the CSV of render(board, Format::kCsv) (header `category,model,<datasets...>,average_rank`,
// an empty field = missing). Throws Error naming the file (and line) on anything else.
LeaderboardBaseline load_leaderboard_baseline(const std::string& path);

struct CheckOptions {
  // Extra allowance in percentage points on each side of the interval (or of the baseline value
  // when the baseline has no interval, as in a CSV baseline).
  double tolerance_percent = 0.0;
  // A score above its interval passes (is reported, but does not fail the check).
  bool allow_improved = false;
};

// One cell that differs between the baseline and the new leaderboard.
struct CellChange {
  enum class Kind {
    kRegressed,  // below the allowed range: fails
    kImproved,   // above the allowed range: fails unless CheckOptions::allow_improved
    kLost,       // a value in the baseline, missing or skipped now: fails
    kGained,     // missing or skipped in the baseline, a value now: passes
  };
  Kind kind = Kind::kRegressed;
  std::string model, dataset;
  double before = 0, after = 0;           // percent; unused for the side that has no value
  double allowed_lo = 0, allowed_hi = 0;  // the allowed range of `after`, percent
  std::string after_state;                // for kLost: "missing" or "skipped: <reason>"
};

struct CheckResult {
  std::vector<std::string> missing_rows, missing_columns;  // in the baseline, gone now: fail
  std::vector<std::string> added_rows, added_columns;      // new now: pass
  std::vector<CellChange> changes;                         // baseline order (rows, then columns)
  int unchanged = 0;                                       // scores within their allowed range
  bool allow_improved = false;

  // Whether the check fails (exit status 1).
  bool failed() const;
};

// Compares `current` with `baseline`, matching rows by model name and columns by dataset label
// (order and category do not matter). The allowed range of a score is the baseline's 95%
// bootstrap interval when it has one, otherwise the baseline value itself, widened by
// options.tolerance_percent and by 1e-6 (the leaderboard's tie threshold).
CheckResult check_leaderboard(const LeaderboardBaseline& baseline, const Leaderboard& current,
                              const CheckOptions& options = {});

// A plain-text report: one summary line ("leaderboard check: OK ..." or "leaderboard check:
// FAILED ..."), then one line per difference, failures first. ASCII only, no colours or
// carriage returns, so it reads the same in a terminal and in a CI log.
std::string render_check(const CheckResult& result, const std::string& baseline_name);

}  // namespace repbench::report
