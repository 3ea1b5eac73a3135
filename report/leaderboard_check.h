// `repbench leaderboard --check BASELINE`: compares a freshly built leaderboard with one kept in
// git, for CI pipelines that regenerate their tables. A score that is gone, or a model (row) or
// dataset (column) that disappeared, always fails; new rows, columns and scores are reported but
// pass. Whether a score that moved fails is the rule's choice:
//  * kExact (default): any change fails. The numbers of a deterministic pipeline are the same
//    bytes on every run, so a change means the code, the model or the data changed.
//  * kTolerance: a move of more than tolerance_percent fails (runs that are not bit-reproducible).
//  * kSignificant: a move fails when it is significant for the same queries: the sign-flip test of
//    the per-query AP differences (metrics/paired_test.h), Holm-adjusted across every score
//    checked, adjusted p < alpha. Needs per-query APs on both sides (a JSON baseline written from
//    repbench.record/2 records, and records now); their queries_sha256 must agree.
//  * kWithinInterval: the older rule: a score fails when it leaves the baseline's 95% bootstrap
//    interval (widened by tolerance_percent). That interval says how much the mAP would vary over
//    another draw of queries, not whether this run changed: a large drop can stay inside it.
// The baseline is a leaderboard rendered as CSV (2 decimals, no intervals, no per-query data; a
// new score is rounded to 2 decimals before comparing) or as JSON (full precision, intervals,
// per-query APs).
#pragma once

#include <string>
#include <vector>

#include "metrics/paired_test.h"
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

enum class CheckRule { kExact, kTolerance, kSignificant, kWithinInterval };

struct CheckOptions {
  CheckRule rule = CheckRule::kExact;
  // kTolerance: the move allowed, in percentage points; kWithinInterval: extra allowance on each
  // side of the interval (or of the baseline value when it has no interval, as in a CSV).
  double tolerance_percent = 0.0;
  // A score that went up does not fail (it is reported).
  bool allow_improved = false;
  double alpha = 0.05;            // kSignificant: family-wise error rate
  metrics::PairedOptions paired;  // kSignificant: permutations, seed, threads
};

// Two scores that agree to this many percentage points are unchanged: 1e-9 on the fraction.
inline constexpr double kUnchangedPercent = 1e-7;

// One cell that differs between the baseline and the new leaderboard.
struct CellChange {
  enum class Kind {
    kRegressed,  // a lower value now
    kImproved,   // a higher value now
    kLost,       // a value in the baseline, missing or skipped now: fails
    kGained,     // missing or skipped in the baseline, a value now: passes
  };
  Kind kind = Kind::kRegressed;
  bool fails = false;
  // What the report says: the rule that fired ("changed", "significant", "outside interval",
  // "lost") or why a move passed ("within tolerance", "not significant", "inside interval",
  // "improved" when allowed, "new score").
  std::string label;
  std::string model, dataset;
  double before = 0, after = 0;           // percent; unused for the side that has no value
  double allowed_lo = 0, allowed_hi = 0;  // kTolerance / kWithinInterval: the allowed range
  double p_value = 1, p_holm = 1;         // kSignificant: sign-flip p-value, Holm-adjusted
  std::string after_state;                // for kLost: "missing" or "skipped: <reason>"
};

struct CheckResult {
  CheckOptions options;
  std::vector<std::string> missing_rows, missing_columns;  // in the baseline, gone now: fail
  std::vector<std::string> added_rows, added_columns;      // new now: pass
  std::vector<CellChange> changes;                         // baseline order (rows, then columns)
  int unchanged = 0;                                       // scores equal to the baseline's

  // Whether the check fails (exit status 1).
  bool failed() const;
};

// Compares `current` with `baseline`, matching rows by model name and columns by dataset label
// (order and category do not matter), under options.rule. Throws Error (one line) under
// kSignificant when a score checked has no per-query data on either side (naming the baseline
// or the record) or the two sides' queries_sha256 differ (naming both).
CheckResult check_leaderboard(const LeaderboardBaseline& baseline, const Leaderboard& current,
                              const CheckOptions& options = {});

// A plain-text report: one summary line ("leaderboard check against B (rule): OK|FAILED (counts
// by label)"), then one line per difference, failures first, each tagged with its label.
// ASCII only, no colours or carriage returns, so it reads the same in a terminal and in a CI log.
std::string render_check(const CheckResult& result, const std::string& baseline_name);

// The same as JSON, for machines: {"schema": "repbench.leaderboard-check/1", "baseline", "rule",
// "alpha" | "tolerance" (when the rule has one), "failed", "counts": {label: n, ...,
// "unchanged": n}, "items": [{"label", "fails", "model", "dataset", "before", "after",
// "direction": "up"|"down", "p_value", "p_holm", "allowed": [lo, hi], "after_state"} (the fields
// that apply) | {"label": "missing row"|"missing column"|"new row"|"new column", "fails", "name"}]}.
std::string render_check_json(const CheckResult& result, const std::string& baseline_name);

}  // namespace repbench::report
