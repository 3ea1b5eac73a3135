// A leaderboard's rank statistics (add_rank_statistics, report/leaderboard.h): rank intervals,
// the Friedman test and Nemenyi's critical difference, from metrics/rank_stats, and their notes.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>


#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "report/leaderboard.h"
#include "report/impl/leaderboard_cells.h"
#include "metrics/rank_stats.h"

namespace repbench::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "p = 0.0183" (3 significant digits), or "p < 1e-16" for what a double cannot tell from 0.
std::string format_p(double p) {
  return p < 1e-16 ? std::string("p < 1e-16") : fmt::format("p = {:.3g}", p);
}

}  // namespace

void add_rank_statistics(Leaderboard& board, const RankStatisticsOptions& options) {
  const auto omit = [&](const std::string& why) {
    board.notes.push_back("Rank intervals and the critical-difference diagram are omitted: " + why);
  };
  std::vector<size_t> rows;
  for (size_t r = 0; r < board.rows.size(); ++r)
    if (!board.rows[r].published) rows.push_back(r);
  const size_t n_sets = board.datasets.size();
  if (n_sets < 2) return omit(fmt::format("they need at least 2 datasets, found {}", n_sets));
  if (rows.size() < 2)
    return omit(
        fmt::format("they need at least 2 models with per-query APs, found {}", rows.size()));
  // ap[s][m][i]: the analysed models must all have per-query APs of the same queries everywhere.
  std::vector<std::vector<std::vector<double>>> ap(n_sets);
  for (size_t s = 0; s < n_sets; ++s) {
    const LeaderboardCell* first = nullptr;
    for (size_t r : rows) {
      const LeaderboardCell& cell = board.rows[r].cells[s];
      const std::string where = board.rows[r].model + " on " + board.datasets[s];
      if (cell.state != LeaderboardCell::State::kValue) return omit(where + " has no score");
      if (!cell.per_query)
        return omit(where + " has no per-query APs (a repbench.record/1 record or a csv score)");
      if (first && (cell.per_query->ap.size() != first->per_query->ap.size() ||
                    (!cell.per_query->queries_sha256.empty() && !first->per_query->queries_sha256.empty() &&
                     cell.per_query->queries_sha256 != first->per_query->queries_sha256)))
        return omit(
            fmt::format("{} was scored on other queries than {} (queries_sha256 or the "
                        "query count differ)",
                        where, board.rows[rows.front()].model));
      if (!first) first = &cell;
      ap[s].push_back(cell.per_query->ap);
    }
  }

  RankStatistics st;
  st.rows = rows;
  st.datasets = static_cast<int>(n_sets);
  st.resamples = options.resamples;
  st.seed = options.seed;
  const int k = static_cast<int>(rows.size());
  // The analysed rows ranked among themselves (every cell has a value: checked above), averaged
  // by the same function as build_leaderboard's column, so the two agree exactly.
  std::vector<std::vector<std::optional<double>>> scores;
  for (size_t r : rows) {
    scores.emplace_back();
    for (size_t s = 0; s < n_sets; ++s) scores.back().push_back(board.rows[r].cells[s].map_percent);
  }
  const metrics::TableRanks ranked = metrics::rank_table(scores);
  for (const std::optional<double>& average : ranked.average) st.average_rank.push_back(average.value());
  st.rank_ci95 = metrics::bootstrap_average_rank_ci(ap, options.resamples, options.seed, 0.95,
                                                    options.threads);
  st.friedman = metrics::friedman_test(st.average_rank, st.datasets);
  st.q_alpha = metrics::nemenyi_q(k, st.alpha);
  st.critical_difference = metrics::nemenyi_critical_difference(k, st.datasets, st.alpha);
  st.order.resize(rows.size());
  std::iota(st.order.begin(), st.order.end(), size_t{0});
  std::stable_sort(st.order.begin(), st.order.end(),
                   [&](size_t a, size_t b) { return st.average_rank[a] < st.average_rank[b]; });
  std::vector<double> sorted;
  for (size_t i : st.order) sorted.push_back(st.average_rank[i]);
  st.groups = metrics::nemenyi_groups(sorted, st.critical_difference);
  for (size_t m = 0; m < rows.size(); ++m) board.rows[rows[m]].average_rank_ci95 = st.rank_ci95[m];

  const bool subset = rows.size() != board.rows.size();
  board.notes.push_back(fmt::format(
      "Rank 95% CI: bootstrap over the queries of every dataset at once ({} resamples, seed {}); "
      "each resample ranks the models per dataset on its mAPs and averages the ranks{}",
      st.resamples, st.seed,
      subset ? fmt::format("; the {} models with per-query APs are ranked among themselves "
                           "(published rows have none)",
                           rows.size())
             : ""));
  const metrics::FriedmanResult& f = st.friedman;
  board.notes.push_back(fmt::format(
      "Friedman test over {} datasets, {} models: chi2 = {:.3f} ({} df), {}; Iman-Davenport "
      "F({}, {}) = {}, {}",
      f.n, f.k, f.chi2, f.k - 1, format_p(f.chi2_p), f.f_df1, f.f_df2,
      std::isinf(f.f) ? std::string("inf") : fmt::format("{:.3f}", f.f), format_p(f.f_p)));
  std::string groups;
  for (const auto& [a, b] : st.groups) {
    std::string names;
    for (int i = a; i <= b; ++i)
      names += (i == a ? "" : ", ") + board.rows[rows[st.order[i]]].model;
    groups += (groups.empty() ? "" : "; ") + ("{" + names + "}");
  }
  board.notes.push_back(fmt::format(
      "Nemenyi critical difference (alpha {}): CD = {:.3f} (q = {:.3f}, k = {}, N = {}); average "
      "ranks closer than CD are not significantly different{}",
      st.alpha, st.critical_difference, st.q_alpha, k, st.datasets,
      groups.empty() ? ": every pair differs" : ": " + groups));
  board.rank_statistics = std::move(st);
}

}  // namespace repbench::report
