// The leaderboard of the paper's Table 1: mAP of every model on every dataset, and each model's
// average rank across datasets. Scores come from result records (or a long-format CSV of
// published numbers); build_leaderboard() ranks them and render() prints the table as Markdown,
// CSV, LaTeX or a self-contained HTML page. Nothing here computes a metric: the numbers shown are
// the numbers the records hold.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace repbench::report {

// The category a model gets when its record does not name one.
inline constexpr const char* kDefaultCategory = "other";

// The schema tag of a leaderboard rendered as JSON.
inline constexpr const char* kLeaderboardSchema = "repbench.leaderboard/1";

// The note a table carries when some model misses some dataset.
inline constexpr const char* kMissingNote =
    "Average rank is over the datasets each model has; \u2013 = not evaluated";

// The per-query APs behind a score (records of schema repbench.record/2 carry them), for paired
// tests between two leaderboards (`leaderboard --check --significant-only`).
struct QueryAps {
  std::vector<double> ap;      // fractions, in the set's query order; NaN = left out
  std::string queries_sha256;  // the record's per_query.queries_sha256
};

// One model's score on one dataset, from a record or a CSV row.
struct ScoreEntry {
  std::string model;     // e.g. "SSCD, ResNet-50"
  std::string category;  // e.g. "CD/IR", "PT", "SSL"; kDefaultCategory when unknown
  std::string dataset;   // the column label, e.g. "rOxford5k (M)"
  double map_percent = std::numeric_limits<double>::quiet_NaN();  // mAP in percent [0, 100]
  std::optional<std::pair<double, double>> ci95_percent;          // bootstrap interval, percent
  std::string skipped_reason;  // non-empty = the run was skipped; map_percent is then unused
  std::string origin;          // the file (and line) it came from, for error messages
  std::optional<QueryAps> per_query;  // from a record that has per-query data
};

// Reads a long-format CSV of scores: header exactly `model,category,dataset,map`, one row per
// model x dataset, map in percent; fields may be quoted ("ViT-B/16, IN12k"). An empty category
// means kDefaultCategory. Throws Error naming the file and line on a different header, a missing
// or extra column, an empty model or dataset, or a map that is not a number in [0, 100].
std::vector<ScoreEntry> load_scores_csv(const std::string& path);

// Reads result records: each argument is a record file or a folder, scanned recursively for
// *.json files, visited in sorted path order so that the output does not depend on the file
// system. metrics.map is converted to percent (x100), as is metrics.map_ci95; a "skipped" record
// becomes a skipped entry. Throws Error on a missing path, a folder with no *.json, or a file that
// read_record() rejects.
std::vector<ScoreEntry> load_records(const std::vector<std::string>& files_or_dirs);

// One cell of the table.
struct LeaderboardCell {
  enum class State { kMissing, kValue, kSkipped };
  State state = State::kMissing;
  double map_percent = std::numeric_limits<double>::quiet_NaN();  // when kValue
  std::optional<std::pair<double, double>> ci95_percent;          // when kValue, if known
  double rank = std::numeric_limits<double>::quiet_NaN();  // when kValue: 1 = best, ties share
  bool best = false;           // highest mAP of its column (every tied model is best)
  std::string skipped_reason;  // when kSkipped
  std::optional<QueryAps> per_query;  // when kValue, if its record had per-query data
  std::string origin;                 // the record (or CSV line) of the score
};

// One model's row.
struct LeaderboardRow {
  std::string model;
  std::string category;
  std::vector<LeaderboardCell> cells;  // one per Leaderboard::datasets entry
  std::optional<double> average_rank;  // mean of the ranks of its kValue cells; none if no cell
  bool best_average_rank = false;      // lowest average rank (every tied model is best)
};

// A ranked table. Rows are grouped by category (categories in first-seen order, models in
// first-seen order within a category); columns are datasets in first-seen order.
struct Leaderboard {
  std::vector<std::string> datasets;
  std::vector<LeaderboardRow> rows;
  // Lines printed below the table: kMissingNote when any cell is missing or skipped, then one
  // line per skipped cell with its reason.
  std::vector<std::string> notes;
};

// Ranks every dataset column among the models that have a value there (rank 1 = highest mAP;
// tied models share the mean of the ranks they span, e.g. two models tied for first are 1.5
// each). Values that agree to 1e-6 percentage points are ties, so a score from a record (a
// fraction x100) ties with the same score typed into a CSV. A model's average rank is the mean
// of its ranks over the datasets it has; a skipped cell counts as missing.
// A model that appears under two categories takes the one that is not kDefaultCategory; two
// different explicit categories, or the same model and dataset twice, throw Error naming both
// origins.
Leaderboard build_leaderboard(const std::vector<ScoreEntry>& entries);

enum class Format { kMarkdown, kCsv, kTex, kHtml, kJson };

// "md" (or "markdown"), "csv", "tex" (or "latex"), "html", "json"; throws Error listing
// md|csv|tex|html|json.
Format parse_format(const std::string& name);

// The file extension of a format, without the dot: "md", "csv", "tex", "html", "json".
const char* format_extension(Format format);

// Renders the table. mAP is printed in percent with 2 decimals, the average rank with 1 decimal,
// a missing cell as "–" (U+2013) and a skipped cell as "skipped"; the best value of each column
// is bold (highest mAP, lowest average rank; ties all bold).
//  - kMarkdown: a pipe table with a Category column (filled on each group's first row, like the
//    paper's table), headers "<dataset> ↑" and "Average Rank ↓", then the notes as a list.
//  - kCsv: header `category,model,<datasets...>,average_rank`, plain numbers (same decimals, no
//    bold, no arrows), an empty field for a missing or skipped cell, RFC 4180 quoting, "\n" line
//    ends, no notes.
//  - kTex: a booktabs tabular (needs \usepackage{booktabs}), \midrule between categories,
//    arrows as $\uparrow$/$\downarrow$, LaTeX specials escaped; the notes follow as footnotesize
//    text.
//  - kHtml: one self-contained page (inline CSS, no external resource, opens from disk): the
//    table, the notes, and per dataset a small inline-SVG bar chart with one labelled bar per
//    model on a 0-100 scale (with the 95% interval as a whisker when known).
//  - kJson: the table with full-precision numbers and the 95% intervals, schema
//    kLeaderboardSchema, for `repbench leaderboard --check` baselines (see leaderboard_check.h):
//    {"schema", "datasets": [..], "rows": [{"category", "model", "average_rank" (or null),
//    "cells": [{"state": "value", "map", "ci95": [lo, hi] (when known), "per_query": {"ap":
//    [fractions or null], "queries_sha256"} or null (unavailable)} | {"state": "missing"} |
//    {"state": "skipped", "reason"}, one per dataset]}], "notes": [..]}. The per-query APs make a
//    committed baseline enough for `--check --significant-only`.
std::string render(const Leaderboard& board, Format format);

}  // namespace repbench::report
