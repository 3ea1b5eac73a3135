// Gnuplot pieces for drawing similarity-score distributions (histogram and kernel density, with
// dashed threshold lines), shared by the scan report and the copying-experiment report so that
// both draw the same way. Only numbers and fixed file names ever go into a script.
#pragma once

#include <string>
#include <vector>

#include "report/gnuplot.h"

namespace repbench::report::impl {

inline constexpr const char* kGeneratedColour = "#e15759";
inline constexpr const char* kBaselineColour = "#4e79a7";
inline constexpr const char* kThresholdColour = "#c0392b";

// One set of scores in a plot: its data files are `stem`.dat (raw) and `stem`_fine.dat (binned).
struct ScoreSeries {
  std::string stem;
  std::string title;  // legend text; the count is appended
  const char* colour;
  const std::vector<double>* scores;
};

enum class ScoreStyle { kHistogram, kDensity };

// The x range: [min(0, lowest value rounded down to 0.1) clamped to -1, 1].
struct ScoreRange {
  double lo = 0, hi = 1;
};
ScoreRange score_range(const std::vector<const std::vector<double>*>& values);

// The pages' axis style: UTF-8 text, left and bottom border, outward tics, light horizontal grid.
std::string axis_style();

// axis_style(), the terminals (pngcairo or png, and svg; variables png_terminal / svg_terminal),
// the key and axis labels, and the histogram's bin() function over `range` with `nbins` bins (the last one closed on
// the right, so a score of 1.0 is drawn).
std::string plot_preamble(const ScoreRange& range, int nbins = 50, int png_width = 960,
                          int png_height = 560, int svg_width = 640, int svg_height = 400);

// A dashed vertical line at each threshold, labelled unless `labels` is false (small panels,
// where the caption names them); `first_id` numbers the arrows/labels.
std::string threshold_marks(const std::vector<double>& thresholds, const ScoreRange& range,
                            int first_id = 1, bool labels = true);

// The "plot ..." command drawing `series` (empty ones left out) in `style`; "plot NaN" with a
// "no scores" label when every series is empty.
std::string score_plot(const std::vector<ScoreSeries>& series, ScoreStyle style,
                       const ScoreRange& range);

// Adds each non-empty series' two data files to `job`.
void add_score_files(GnuplotJob& job, const std::vector<ScoreSeries>& series,
                     const ScoreRange& range);

// `commands` drawn once into `stem`.png and once into `stem`.svg.
std::string png_and_svg(const std::string& stem, const std::string& commands);

}  // namespace repbench::report::impl
