#include "report/cd_diagram.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "report/gnuplot.h"
#include "report/html_page.h"

namespace repbench::report {

namespace {

struct Line {
  double x1, y1, x2, y2, width;
};
struct Label {
  double x, y;
  enum class Anchor { kStart, kMiddle, kEnd } anchor;
  std::string text;
};
struct Layout {
  double width = 0, height = 0;
  std::vector<Line> lines;
  std::vector<Label> labels;
  size_t models = 0, groups = 0;
};

constexpr double kCharW = 6.8;  // a 12 px DejaVu Sans character, on average, for the layout

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Layout layout(const Leaderboard& board) {
  if (!board.rank_statistics) fail("no rank statistics to draw a critical-difference diagram of");
  const RankStatistics& st = *board.rank_statistics;
  const size_t k = st.order.size();
  Layout L;
  L.models = k;
  L.groups = st.groups.size();
  // Labels: "name  2.35 [1.4, 3.2]"; the best half on the left, the rest on the right.
  std::vector<std::string> text(k);
  size_t left_chars = 1, right_chars = 1;
  const size_t n_left = (k + 1) / 2;
  for (size_t i = 0; i < k; ++i) {
    const size_t m = st.order[i];
    text[i] = fmt::format("{}  {:.2f} [{:.1f}, {:.1f}]", board.rows[st.rows[m]].model,
                          st.average_rank[m], st.rank_ci95[m].first, st.rank_ci95[m].second);
    (i < n_left ? left_chars : right_chars) =
        std::max(i < n_left ? left_chars : right_chars, utf8_chars(text[i]));
  }
  const double margin = 12, axis_len = std::max(440.0, 70.0 * static_cast<double>(k - 1));
  const double x0 = margin + 18 + kCharW * static_cast<double>(left_chars);
  const double x1 = x0 + axis_len;
  L.width = x1 + 18 + kCharW * static_cast<double>(right_chars) + margin;
  const auto x_of = [&](double rank) {
    return x0 + (rank - 1) / static_cast<double>(k - 1) * axis_len;
  };

  // The critical difference as a scale bar, then the rank axis with a tick per integer rank.
  const double y_cd = 24, y_axis = 56;
  const double cd_end = x0 + std::min(st.critical_difference, static_cast<double>(k - 1)) /
                                 static_cast<double>(k - 1) * axis_len;
  L.lines.push_back({x0, y_cd, cd_end, y_cd, 1.5});
  L.lines.push_back({x0, y_cd - 4, x0, y_cd + 4, 1});
  L.lines.push_back({cd_end, y_cd - 4, cd_end, y_cd + 4, 1});
  L.labels.push_back({(x0 + cd_end) / 2, y_cd - 8, Label::Anchor::kMiddle,
                      fmt::format("CD = {:.2f}", st.critical_difference)});
  L.lines.push_back({x0, y_axis, x1, y_axis, 1});
  for (size_t r = 1; r <= k; ++r) {
    const double x = x_of(static_cast<double>(r));
    L.lines.push_back({x, y_axis - 5, x, y_axis, 1});
    L.labels.push_back({x, y_axis - 9, Label::Anchor::kMiddle, std::to_string(r)});
  }
  // Groups the test cannot separate: thick bars just under the axis, one row each.
  for (size_t g = 0; g < st.groups.size(); ++g) {
    const double y = y_axis + 10 + 7 * static_cast<double>(g);
    L.lines.push_back({x_of(st.average_rank[st.order[st.groups[g].first]]) - 4, y,
                       x_of(st.average_rank[st.order[st.groups[g].second]]) + 4, y, 4});
  }
  // Each model: down from its rank, then out to its label; the outermost models get the
  // shortest lines on each side so that no two lines cross.
  const double y_first = y_axis + 10 + 7 * static_cast<double>(st.groups.size()) + 14;
  const double row_h = 20;
  for (size_t i = 0; i < k; ++i) {
    const bool left = i < n_left;
    const size_t slot = left ? i : k - 1 - i;
    const double y = y_first + row_h * static_cast<double>(slot);
    const double x = x_of(st.average_rank[st.order[i]]);
    const double end = left ? x0 - 10 : x1 + 10;
    L.lines.push_back({x, y_axis, x, y, 1});
    L.lines.push_back({x, y, end, y, 1});
    L.labels.push_back({left ? end - 4 : end + 4, y + 4,
                        left ? Label::Anchor::kEnd : Label::Anchor::kStart, text[i]});
  }
  L.height = y_first + row_h * static_cast<double>(std::max(n_left, k - n_left) - 1) + 16;
  return L;
}

// A label's text for a gnuplot data file: one tab-separated field on one line, no quote marks
// for gnuplot to interpret (a name's double quotes become single ones).
std::string data_field(std::string s) {
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    if (c == '"') c = '\'';
  }
  return s;
}

}  // namespace

std::string cd_diagram_svg(const Leaderboard& board) {
  const Layout L = layout(board);
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"cd-diagram\" data-models=\"{}\" "
      "data-groups=\"{}\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\" role=\"img\">\n"
      "<title>Critical-difference diagram (Nemenyi, alpha 0.05)</title>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
      L.models, L.groups, L.width, L.height, L.width, L.height);
  for (const Line& l : L.lines)
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"{:g}\"/>\n",
        l.x1, l.y1, l.x2, l.y2, l.width >= 4 ? "#c0392b" : "#222", l.width);
  for (const Label& t : L.labels) {
    const char* anchor = t.anchor == Label::Anchor::kStart    ? "start"
                         : t.anchor == Label::Anchor::kMiddle ? "middle"
                                                              : "end";
    out +=
        fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" fill=\"#222\">{}</text>\n",
                    t.x, t.y, anchor, html_escape(t.text));
  }
  return out + "</svg>\n";
}

void write_cd_diagram(const Leaderboard& board, const std::string& prefix) {
  const Layout L = layout(board);
  GnuplotJob job;
  // The picture's own pixel coordinates (y down), drawn at twice the size for a sharp PNG.
  std::string segments, thin, left, middle, right;
  for (const Line& l : L.lines)
    (l.width >= 4 ? segments : thin) +=
        fmt::format("{:.2f}\t{:.2f}\t{:.2f}\t{:.2f}\n", l.x1, l.y1, l.x2 - l.x1, l.y2 - l.y1);
  for (const Label& t : L.labels) {
    std::string& file = t.anchor == Label::Anchor::kStart    ? left
                        : t.anchor == Label::Anchor::kMiddle ? middle
                                                             : right;
    // gnuplot centres a label on y; the SVG's y is the text's baseline, about 4 px lower.
    file += fmt::format("{:.2f}\t{:.2f}\t{}\n", t.x, t.y - 4, data_field(t.text));
  }
  job.files = {{"bars.dat", segments + "\n"},
               {"lines.dat", thin + "\n"},
               {"left.dat", left + "\n"},
               {"middle.dat", middle + "\n"},
               {"right.dat", right + "\n"}};
  job.script = fmt::format(
      R"(set encoding utf8
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {{ set terminal pngcairo size {0:.0f},{1:.0f} noenhanced font 'DejaVu Sans,20' background rgb 'white' }} else {{ set terminal png size {0:.0f},{1:.0f} font 'DejaVu Sans,20' background rgb 'white' }}
set output "cd.png"
set datafile separator "\t"
set datafile commentschars ""
set lmargin at screen 0
set rmargin at screen 1
set tmargin at screen 1
set bmargin at screen 0
unset border
unset tics
unset key
set xrange [0:{2:.2f}]
set yrange [{3:.2f}:0]
plot "lines.dat" using 1:2:3:4 with vectors nohead lw 2 lc rgb "#222222", \
     "bars.dat" using 1:2:3:4 with vectors nohead lw 8 lc rgb "#c0392b", \
     "left.dat" using 1:2:3 with labels left, \
     "middle.dat" using 1:2:3 with labels center, \
     "right.dat" using 1:2:3 with labels right
unset output
)",
      2 * L.width, 2 * L.height, L.width, L.height);
  job.outputs = {{"cd.png", prefix + ".png"}};
  run_gnuplot(job);
  write_file_atomic(prefix + ".svg", cd_diagram_svg(board));
}

}  // namespace repbench::report
