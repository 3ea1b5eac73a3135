// Cells and labels every leaderboard format writes alike (report/impl/leaderboard_cells.h).

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

namespace repbench::report::impl {

std::string format_map(double v) {
  return fmt::format("{:.2f}", v);
}
std::string format_rank(double v) {
  return fmt::format("{:.1f}", v);
}
// A rank interval as "[lo, hi]", ranks with 1 decimal.
std::string format_rank_ci(const std::pair<double, double>& ci) {
  return fmt::format("[{:.1f}, {:.1f}]", ci.first, ci.second);
}

// The rank-interval column: its header and a row's cell. When published rows are on the board
// the statistics rank only the models with per-query data among themselves, on another scale
// than the Average Rank column, so the cell also gives that rank.
bool ranks_a_subset(const Leaderboard& board) {
  return board.rank_statistics && board.rank_statistics->rows.size() != board.rows.size();
}
std::string rank_ci_header(const Leaderboard& board) {
  return ranks_a_subset(board) ? "Rank among models with per-query data (95% CI)" : "Rank 95% CI";
}
std::string rank_ci_cell(const Leaderboard& board, size_t r, const std::string& none) {
  const LeaderboardRow& row = board.rows[r];
  if (!row.average_rank_ci95) return none;
  const std::string ci = format_rank_ci(*row.average_rank_ci95);
  if (!ranks_a_subset(board)) return ci;
  const RankStatistics& st = *board.rank_statistics;
  const size_t m =
      static_cast<size_t>(std::find(st.rows.begin(), st.rows.end(), r) - st.rows.begin());
  return format_rank(st.average_rank[m]) + " " + ci;
}

// Whether row `r` starts a new category group.
bool starts_group(const Leaderboard& board, size_t r) {
  return r == 0 || board.rows[r].category != board.rows[r - 1].category;
}

}  // namespace repbench::report::impl
