// The JSON leaderboard (report/leaderboard.h, Format::kJson), with its rank statistics.

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

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json rank_statistics_json(const Leaderboard& board) {
  const RankStatistics& st = *board.rank_statistics;
  json models = json::array();
  for (size_t m = 0; m < st.rows.size(); ++m)
    models.push_back({{"model", board.rows[st.rows[m]].model},
                      {"average_rank", st.average_rank[m]},
                      {"average_rank_ci95", {st.rank_ci95[m].first, st.rank_ci95[m].second}}});
  json groups = json::array();
  for (const auto& [a, b] : st.groups) {
    json names = json::array();
    for (int i = a; i <= b; ++i) names.push_back(board.rows[st.rows[st.order[i]]].model);
    groups.push_back(std::move(names));
  }
  const metrics::FriedmanResult& f = st.friedman;
  // JSON has no infinity: an infinite F (every dataset ranks alike) is written as null.
  return {{"datasets", st.datasets},
          {"resamples", st.resamples},
          {"seed", st.seed},
          {"models", std::move(models)},
          {"friedman",
           {{"chi2", f.chi2},
            {"chi2_df", f.k - 1},
            {"chi2_p", f.chi2_p},
            {"iman_davenport_f", std::isinf(f.f) ? json(nullptr) : json(f.f)},
            {"f_df", {f.f_df1, f.f_df2}},
            {"f_p", f.f_p}}},
          {"nemenyi",
           {{"alpha", st.alpha},
            {"q_alpha", st.q_alpha},
            {"critical_difference", st.critical_difference},
            {"groups", std::move(groups)}}}};
}

}  // namespace

std::string render_json(const Leaderboard& board) {
  json rows = json::array();
  for (const auto& row : board.rows) {
    json cells = json::array();
    for (const auto& cell : row.cells) {
      json c;
      if (cell.state == LeaderboardCell::State::kValue) {
        c = {{"state", "value"}, {"map", cell.map_percent}};
        if (cell.ci95_percent)
          c["ci95"] = json::array({cell.ci95_percent->first, cell.ci95_percent->second});
        c["per_query"] = nullptr;  // unavailable (a record without per-query data, a CSV score)
        if (cell.per_query)  // NaN (a left-out query) is written as null
          c["per_query"] = {{"ap", cell.per_query->ap},
                            {"queries_sha256", cell.per_query->queries_sha256}};
      } else if (cell.state == LeaderboardCell::State::kSkipped) {
        c = {{"state", "skipped"}, {"reason", cell.skipped_reason}};
      } else {
        c = {{"state", "missing"}};
      }
      cells.push_back(std::move(c));
    }
    rows.push_back({{"category", row.category},
                    {"model", row.model},
                    {"average_rank", row.average_rank ? json(*row.average_rank) : json(nullptr)},
                    {"cells", std::move(cells)}});
    if (row.average_rank_ci95)
      rows.back()["average_rank_ci95"] = {row.average_rank_ci95->first,
                                          row.average_rank_ci95->second};
    if (row.published) rows.back()["published"] = true;
  }
  json out = {{"schema", kLeaderboardSchema},
              {"datasets", board.datasets},
              {"rows", std::move(rows)},
              {"notes", board.notes}};
  if (board.rank_statistics) out["rank_statistics"] = rank_statistics_json(board);
  return out.dump(2) + "\n";
}

}  // namespace repbench::report::impl
