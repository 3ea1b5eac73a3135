// The CSV leaderboard (report/leaderboard.h, Format::kCsv).

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

std::string csv_quote(const std::string& s) {
  bool needs = s.find_first_of(",\"\r\n") != std::string::npos ||
               (!s.empty() &&
                (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t'));
  if (!needs) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string render_csv(const Leaderboard& board) {
  std::string out = "category,model";
  for (const auto& d : board.datasets) out += "," + csv_quote(d);
  // The rank interval's columns only when there is one, so older readers see the same table.
  const bool ci = board.rank_statistics.has_value();
  out += ci ? ",average_rank,average_rank_ci95_low,average_rank_ci95_high\n" : ",average_rank\n";
  for (const auto& row : board.rows) {
    out += csv_quote(row.category) + "," + csv_quote(row.model);
    for (const auto& cell : row.cells) {
      out += ",";
      if (cell.state == LeaderboardCell::State::kValue) out += format_map(cell.map_percent);
    }
    out += ",";
    if (row.average_rank) out += format_rank(*row.average_rank);
    if (ci && row.average_rank_ci95)
      out += fmt::format(",{:.1f},{:.1f}", row.average_rank_ci95->first,
                         row.average_rank_ci95->second);
    else if (ci)
      out += ",,";
    out += "\n";
  }
  return out;
}

}  // namespace repbench::report::impl
