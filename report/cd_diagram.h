// The critical-difference diagram of a leaderboard's rank statistics (Demšar 2006, Fig. 1): the
// models on an axis of average rank (1, the best, on the left), each joined by a line to its
// name; thick bars under the axis join the groups the Nemenyi test cannot tell apart; the
// critical difference is drawn above the axis as a scale bar.
//
// One layout, two outputs: the SVG is written directly (inline in the leaderboard page and as a
// standalone file, styled by attributes so it needs no stylesheet), and the PNG is drawn by
// gnuplot from the same lines and labels, passed as data files so that only numbers and fixed
// file names appear in its script.
#pragma once

#include <string>

#include "report/leaderboard.h"

namespace repbench::report {

// The caption the page shows above the diagram, and the explanation in docs/leaderboards.md.
inline constexpr const char* kCdDiagramHowToRead =
    "Each model sits at its average rank over the datasets (1 = best, on the left). Models joined "
    "by a thick bar are not significantly different by the Nemenyi test at alpha 0.05: their "
    "average ranks differ by less than the critical difference (CD), drawn as the scale bar "
    "above the axis. The bracket after each name is its bootstrap 95% rank interval.";

// The diagram of board.rank_statistics as a standalone SVG document. Throws Error (a bug) when
// the board has no rank statistics.
std::string cd_diagram_svg(const Leaderboard& board);

// Writes `prefix`.svg (the SVG above) and `prefix`.png (gnuplot, about twice the SVG's size),
// atomically. Throws Error when gnuplot is missing or fails (see run_gnuplot), or when the board
// has no rank statistics.
void write_cd_diagram(const Leaderboard& board, const std::string& prefix);

}  // namespace repbench::report
