// The Markdown leaderboard (report/leaderboard.h, Format::kMarkdown).

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

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string render_markdown(const Leaderboard& board) {
  std::string out = "| Category | Model |";
  for (const auto& d : board.datasets) out += " " + md_escape(d) + " \u2191 |";
  out += " Average Rank \u2193 |";
  const bool ci = board.rank_statistics.has_value();
  if (ci) out += " " + md_escape(rank_ci_header(board)) + " |";
  out += "\n| --- | --- |";
  for (size_t c = 0; c < board.datasets.size(); ++c) out += " ---: |";
  out += ci ? " ---: | ---: |\n" : " ---: |\n";
  for (size_t r = 0; r < board.rows.size(); ++r) {
    const LeaderboardRow& row = board.rows[r];
    // Category only on a group's first row, as in the paper's grouped table.
    out += "| " + (starts_group(board, r) ? md_escape(row.category) : std::string()) + " | " +
           md_escape(row.model) + " |";
    for (const auto& cell : row.cells) {
      std::string text = kDash;
      if (cell.state == LeaderboardCell::State::kValue) {
        text = format_map(cell.map_percent);
        if (cell.best) text = "**" + text + "**";
      } else if (cell.state == LeaderboardCell::State::kSkipped) {
        text = "skipped";
      }
      out += " " + text + " |";
    }
    std::string avg = row.average_rank ? format_rank(*row.average_rank) : kDash;
    if (row.best_average_rank) avg = "**" + avg + "**";
    out += " " + avg + " |";
    if (ci) out += " " + rank_ci_cell(board, r, kDash) + " |";
    out += "\n";
  }
  if (!board.notes.empty()) {
    out += "\n";
    for (const auto& note : board.notes) out += "- " + md_escape(note) + "\n";
  }
  return out;
}

}  // namespace repbench::report::impl
