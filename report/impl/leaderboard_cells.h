// What the leaderboard's formats share (report/leaderboard.h): the cells' number formats, the
// rank-interval column, the category groups, and one renderer per format (leaderboard_markdown,
// _csv, _tex, _html, _json), dispatched by render() in leaderboard_render.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "report/leaderboard.h"

namespace repbench::report::impl {

inline constexpr const char* kDash = "\u2013";  // en dash: a missing cell

std::string format_map(double v);   // "12.34"
std::string format_rank(double v);  // "2.5"
// A rank interval as "[lo, hi]", ranks with 1 decimal.
std::string format_rank_ci(const std::pair<double, double>& ci);

// The rank-interval column: its header and a row's cell (`none` when the row has no interval).
bool ranks_a_subset(const Leaderboard& board);
std::string rank_ci_header(const Leaderboard& board);
std::string rank_ci_cell(const Leaderboard& board, size_t r, const std::string& none);

// Whether row `r` starts a new category group.
bool starts_group(const Leaderboard& board, size_t r);

std::string render_markdown(const Leaderboard& board);
std::string render_csv(const Leaderboard& board);
std::string render_tex(const Leaderboard& board);
std::string render_html(const Leaderboard& board);
std::string render_json(const Leaderboard& board);

}  // namespace repbench::report::impl
