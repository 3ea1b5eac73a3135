#include "report/impl/score_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace repbench::report::impl {

namespace {

// Silverman's rule of thumb, floored so that identical scores still draw a visible bump.
double kde_bandwidth(const std::vector<double>& x, double floor) {
  if (x.size() < 2) return floor;
  double mean = 0;
  for (double s : x) mean += s;
  mean /= static_cast<double>(x.size());
  double var = 0;
  for (double s : x) var += (s - mean) * (s - mean);
  const double sd = std::sqrt(var / static_cast<double>(x.size() - 1));
  return std::max(floor, 1.06 * sd * std::pow(static_cast<double>(x.size()), -0.2));
}

std::string data_file(const std::vector<double>& x) {
  std::string out;
  for (double s : x) out += fmt::format("{:.9g}\n", s);
  return out;
}

// The density's input: scores counted into 2,000 fine bins over [lo, hi] as "centre weight"
// lines (weights sum to 1). The bins are far narrower than any bandwidth used here, so the curve
// is the same as from the raw scores, and gnuplot's O(points x samples) estimate stays fast for
// scans of millions of generations.
std::string fine_binned_file(const std::vector<double>& x, double lo, double hi) {
  constexpr int kFine = 2000;
  std::vector<int64_t> counts(kFine, 0);
  const double w = (hi - lo) / kFine;
  for (double s : x) {
    const int b = static_cast<int>(std::floor((s - lo) / w));
    ++counts[std::clamp(b, 0, kFine - 1)];
  }
  std::string out;
  for (int b = 0; b < kFine; ++b)
    if (counts[b] > 0)
      out += fmt::format("{:.9g} {:.9g}\n", lo + w * (b + 0.5),
                         static_cast<double>(counts[b]) / static_cast<double>(x.size()));
  return out;
}

}  // namespace

ScoreRange score_range(const std::vector<const std::vector<double>*>& values) {
  ScoreRange r;
  for (const auto* x : values)
    for (double s : *x) r.lo = std::min(r.lo, std::floor(s * 10) / 10);
  r.lo = std::max(r.lo, -1.0);
  return r;
}

std::string axis_style() {
  return "set encoding utf8\n"
         "set border 3 lc rgb \"#555555\"\n"
         "set tics nomirror out\n"
         "set grid ytics lc rgb \"#e5e5e5\" lw 1 dt 1\n";
}

std::string plot_preamble(const ScoreRange& range, int nbins, int png_width, int png_height,
                          int svg_width, int svg_height) {
  std::string s =
      axis_style() +
      fmt::format(
          R"(# pngcairo draws antialiased text and lines; the plain png terminal is the fallback.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {{ png_terminal = "pngcairo size {0},{1} enhanced font 'DejaVu Sans,12' background rgb 'white'" }} else {{ png_terminal = "png size {0},{1} font 'DejaVu Sans,12' background rgb 'white'" }}
# The SVG is shown about 600 px wide on the page: a smaller canvas keeps its text legible there.
svg_terminal = "svg size {2},{3} enhanced font 'DejaVu Sans,11' background rgb 'white'"
set key outside top center horizontal samplen 2 width 2
set xlabel "top-1 similarity to the training set"
set yrange [0:*]
set samples 600
)",
          png_width, png_height, svg_width, svg_height);
  const double bw = (range.hi - range.lo) / nbins;
  s += fmt::format("set xrange [{:.9g}:{:.9g}]\n", range.lo, range.hi);
  s += fmt::format("lo = {:.9g}\nbw = {:.9g}\nnbins = {}\n", range.lo, bw, nbins);
  // The last bin is closed on the right, so a score of exactly 1.0 is drawn, not dropped.
  s += "idx(x) = floor((x - lo) / bw)\n"
       "bin(x) = lo + bw * (idx(x) > nbins - 1 ? nbins - 1 : (idx(x) < 0 ? 0 : idx(x))) + bw / 2\n"
       "set boxwidth bw absolute\n";
  return s;
}

std::string threshold_marks(const std::vector<double>& thresholds, const ScoreRange& range,
                            int first_id, bool labels) {
  std::string s;
  for (size_t i = 0; i < thresholds.size(); ++i) {
    const double t = thresholds[i];
    const bool right = t > range.lo + 0.7 * (range.hi - range.lo);
    const int id = first_id + static_cast<int>(i);
    s += fmt::format(
        "set arrow {0} from {1:.9g}, graph 0 to {1:.9g}, graph 1 nohead dt 2 lw 2 lc rgb \"{2}\" "
        "front\n",
        id, t, kThresholdColour);
    if (!labels) continue;
    s += fmt::format(
        "set label {0} \"threshold {1:g}\" at {1:.9g}, graph {3:.3f} {4} offset {5}, 0 "
        "tc rgb \"{2}\" front\n",
        id, t, kThresholdColour, 0.96 - 0.06 * static_cast<double>(i % 8), right ? "right" : "left",
        right ? "-0.7" : "0.7");
  }
  return s;
}

std::string score_plot(const std::vector<ScoreSeries>& series, ScoreStyle style,
                       const ScoreRange& range) {
  const double floor_bw = (range.hi - range.lo) / 100;
  std::vector<std::string> parts;
  for (const ScoreSeries& e : series) {
    const size_t n = e.scores->size();
    if (n == 0) continue;  // gnuplot refuses an empty data file
    if (style == ScoreStyle::kHistogram) {
      parts.push_back(fmt::format(
          "\"{0}.dat\" using (bin($1)):(1.0 / {1}) smooth frequency with boxes lc rgb \"{2}\" "
          "title \"{3} ({1})\"",
          e.stem, n, e.colour, e.title));
    } else {
      const double h = kde_bandwidth(*e.scores, floor_bw);
      parts.push_back(fmt::format(
          "\"{0}_fine.dat\" using 1:2 smooth kdensity bandwidth {1:.6g} with filledcurves y=0 "
          "lc rgb \"{2}\" notitle",
          e.stem, h, e.colour));
      parts.push_back(fmt::format(
          "\"{0}_fine.dat\" using 1:2 smooth kdensity bandwidth {1:.6g} with lines lw 2.5 lc rgb "
          "\"{2}\" title \"{3} ({4})\"",
          e.stem, h, e.colour, e.title, n));
    }
  }
  if (parts.empty())
    return "set yrange [0:1]\nset label 99 \"no scores to plot\" at graph 0.5, graph 0.5 center\n"
           "plot NaN notitle\nunset label 99\nset yrange [0:*]\n";
  std::string p = "plot ";
  for (size_t i = 0; i < parts.size(); ++i) p += (i ? ", \\\n     " : "") + parts[i];
  return p + "\n";
}

void add_score_files(GnuplotJob& job, const std::vector<ScoreSeries>& series,
                     const ScoreRange& range) {
  for (const ScoreSeries& e : series) {
    if (e.scores->empty()) continue;
    job.files[e.stem + ".dat"] = data_file(*e.scores);
    job.files[e.stem + "_fine.dat"] = fine_binned_file(*e.scores, range.lo, range.hi);
  }
}

std::string png_and_svg(const std::string& stem, const std::string& commands) {
  return fmt::format(
      "set terminal @png_terminal\nset output \"{0}.png\"\n{1}unset output\n"
      "set terminal @svg_terminal\nset output \"{0}.svg\"\n{1}unset output\n",
      stem, commands);
}

}  // namespace repbench::report::impl
