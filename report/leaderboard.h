// The leaderboard of the paper's Table 1: mAP of every model on every dataset, and each model's
// average rank across datasets. Scores come from result records (or a long-format CSV of
// published numbers); build_leaderboard() ranks them and render() prints the table as Markdown,
// CSV, LaTeX or a self-contained HTML page. Nothing here computes a metric: the numbers shown are
// the numbers the records hold.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/rank_stats.h"

namespace repbench::report {

// The category a model gets when its record does not name one.
inline constexpr const char* kDefaultCategory = "other";

// The schema tag of a leaderboard rendered as JSON.
inline constexpr const char* kLeaderboardSchema = "repbench.leaderboard/1";

// The note a table carries when some model misses some dataset.
inline constexpr const char* kMissingNote =
    "Average rank is over the datasets each model has; \u2013 = not evaluated";

// The note a table carries when a column holds copy-detection micro-AP (a record with
// metrics.micro_ap; its column label ends in " [µAP]", or " [µAP_SN]" after score normalisation).
inline constexpr const char* kMicroApNote =
    "Columns marked [\u00b5AP] hold copy-detection micro average precision (isc2021; [\u00b5AP_SN] "
    "after score normalisation), not mAP; the average rank mixes both kinds, which is allowed "
    "because each column is ranked on its own";

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
  std::string page;      // its record's failure page (report/failure_page.h) when one exists
  std::string dataset;   // the column label, e.g. "rOxford5k (M)"
  double map_percent = std::numeric_limits<double>::quiet_NaN();  // mAP in percent [0, 100]
  std::optional<std::pair<double, double>> ci95_percent;          // bootstrap interval, percent
  std::string skipped_reason;  // non-empty = the run was skipped; map_percent is then unused
  std::string metric;          // the record's options.metric.summary ("" = not stated)
  std::string origin;          // the file (and line) it came from, for error messages
  bool fast_decode = false;    // its record's options.decoding is "reduced-jpeg" (--fast-decode)
  // Its record's descriptor post-processing and re-ranking, as a phrase ("" = neither), e.g.
  // "post-processing PCAW512,L2norm, re-ranking dba:k=2,alpha=3" (options.postprocess, .rerank).
  std::string processing;
  std::optional<QueryAps> per_query;  // from a record that has per-query data
  bool published = false;             // a published reference row (see report/reference_rows.h)
};

// Reads a long-format CSV of scores: header exactly `model,category,dataset,map`, one row per
// model x dataset, map in percent; fields may be quoted ("ViT-B/16, IN12k"). An empty category
// means kDefaultCategory. Throws Error naming the file and line on a different header, a missing
// or extra column, an empty model or dataset, or a map that is not a number in [0, 100].
std::vector<ScoreEntry> load_scores_csv(const std::string& path);

// Reads result records: each argument is a record file or a folder, scanned recursively for
// *.json files, visited in sorted path order so that the output does not depend on the file
// system. metrics.map is converted to percent (x100), as is metrics.map_ci95; a "skipped" record
// becomes a skipped entry. An entry's page is the record's failure page (failure_page_path())
// when that file exists. Throws Error on a missing path, a folder with no *.json, or a file that
// read_record() rejects. A record's per_query.ap (schema repbench.record/2) is kept; a per_query
// block without a valid ap array (one number or null per query) is an Error naming the file.
// A copy-detection record (disc21, copydays) gives metrics.micro_ap_sn, else metrics.micro_ap,
// in percent, under its dataset label plus " [µAP_SN]" / " [µAP]", without interval or per-query
// APs (they describe its mAP).
std::vector<ScoreEntry> load_records(const std::vector<std::string>& files_or_dirs);

// One cell of the table.
struct LeaderboardCell {
  enum class State { kMissing, kValue, kSkipped };
  State state = State::kMissing;
  double map_percent = std::numeric_limits<double>::quiet_NaN();  // when kValue
  std::optional<std::pair<double, double>> ci95_percent;          // when kValue, if known
  double rank = std::numeric_limits<double>::quiet_NaN();  // when kValue: 1 = best, ties share
  bool best = false;           // highest mAP of its column (every tied model is best)
  std::string page;            // failure page the html table links the value to; "" = none
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
  bool published = false;              // a published reference row
  // 95% bootstrap interval of the average rank, from add_rank_statistics().
  std::optional<std::pair<double, double>> average_rank_ci95;
};

// The rank statistics of a leaderboard (add_rank_statistics): the models with per-query APs on
// every dataset, ranked among themselves.
struct RankStatistics {
  std::vector<size_t> rows;                          // indices into Leaderboard::rows
  std::vector<double> average_rank;                  // per entry of `rows`
  std::vector<std::pair<double, double>> rank_ci95;  // per entry of `rows`
  int datasets = 0;                                  // N
  int resamples = 0;
  uint64_t seed = 0;
  metrics::FriedmanResult friedman;
  double alpha = 0.05, q_alpha = 0, critical_difference = 0;
  std::vector<size_t> order;  // indices into `rows`, by ascending average rank (ties: row order)
  std::vector<std::pair<int, int>> groups;  // metrics::nemenyi_groups over `order`
};

// A ranked table. Rows are grouped by category (categories in first-seen order, models in
// first-seen order within a category); columns are datasets in first-seen order.
struct Leaderboard {
  std::vector<std::string> datasets;
  std::vector<LeaderboardRow> rows;
  // Lines printed below the table: kMissingNote when any cell is missing or skipped, then one
  // line per skipped cell with its reason, then one line naming the models whose scores were
  // computed with --fast-decode (not the reference pipeline's full decoding), if any, then the
  // metrics the columns' records state, each said once: "Every dataset: <metric>" when all
  // columns share one, else "Every dataset but <columns>: <metric>" for the one most share and
  // "<column>: <metric>" for each other (a column's distinct metrics joined by " | " when its
  // records differ); then what add_reference / add_rank_statistics add.
  std::vector<std::string> notes;
  std::optional<RankStatistics> rank_statistics;  // none: not asked for, or omitted (see notes)
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

struct RankStatisticsOptions {
  int resamples = 1000;  // bootstrap resamples of the rank intervals, >= 1
  uint64_t seed = 0;
  int threads = 0;  // 0 = all cores
};

// Adds rank uncertainty to a built board (Demšar 2006): over the rows that are not published and
// have a value with per-query APs on every dataset, ranked among themselves per dataset as
// build_leaderboard ranks (metrics::fractional_ranks): their average ranks, a bootstrap 95%
// interval of each (metrics::bootstrap_average_rank_ci: queries of every dataset resampled at
// once, the same draw for every model), the Friedman test over the datasets, and the Nemenyi
// critical difference at alpha 0.05 with the groups it cannot separate. Sets
// RankStatistics, each analysed row's average_rank_ci95 and explanatory notes. When it cannot
// (fewer than 2 datasets or 2 such models, a model without per-query APs on some dataset, query
// lists that differ between models) it adds one note saying why and leaves the board otherwise
// unchanged: that is not an error.
void add_rank_statistics(Leaderboard& board, const RankStatisticsOptions& options);
// Rewrites every cell's page as a link relative to `dir`, the folder the html table is written
// to ("" = the current folder, for a table printed to stdout).
void relative_page_links(Leaderboard& board, const std::string& dir);

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
//    table (a value with a failure page links to it), the notes, and per dataset a small inline-SVG bar chart with one labelled bar per
//    model on a 0-100 scale (with the 95% interval as a whisker when known).
//  - kJson: the table with full-precision numbers and the 95% intervals, schema
//    kLeaderboardSchema, for `repbench leaderboard --check` baselines (see leaderboard_check.h):
//    {"schema", "datasets": [..], "rows": [{"category", "model", "average_rank" (or null),
//    "cells": [{"state": "value", "map", "ci95": [lo, hi] (when known), "per_query": {"ap":
//    [fractions or null], "queries_sha256"} or null (unavailable)} | {"state": "missing"} |
//    {"state": "skipped", "reason"}, one per dataset]}], "notes": [..]}. The per-query APs make a
//    committed baseline enough for `--check --significant-only`.
// With board.rank_statistics (add_rank_statistics) every format but kJson gains a last column
// "Rank 95% CI" ("[lo, hi]", 1 decimal; "–" for a row without one; when published rows are on
// the board it is headed "Rank among models with per-query data (95% CI)" and gives that rank
// before the interval); kCsv appends `average_rank_ci95_low,average_rank_ci95_high`; kHtml adds
// the critical-difference diagram (report/cd_diagram.h); kJson adds per row "average_rank_ci95"
// and a top-level "rank_statistics": {"datasets", "resamples", "seed", "models": [{"model",
// "average_rank", "average_rank_ci95"}], "friedman": {"chi2", "chi2_df", "chi2_p",
// "iman_davenport_f" (null when infinite), "f_df", "f_p"}, "nemenyi": {"alpha", "q_alpha",
// "critical_difference", "groups": [[model, ..], ..]}}. Published rows carry "published": true.
std::string render(const Leaderboard& board, Format format);

}  // namespace repbench::report
