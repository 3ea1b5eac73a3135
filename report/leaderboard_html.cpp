// The HTML leaderboard (report/leaderboard.h, Format::kHtml): a table, one bar chart per dataset,
// the critical-difference diagram and links to the failure pages.

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
#include "report/cd_diagram.h"
#include "report/failure_page.h"
#include "report/html_page.h"

namespace repbench::report::impl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// At most `max_chars` code points of UTF-8 text, with "…" when cut (labels in the charts).
std::string utf8_truncate(const std::string& s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == max_chars) return s.substr(0, i) + "\u2026";
    ++chars;
  }
  return s;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// One dataset's bar chart: a horizontal bar per model on a fixed 0-100 scale, so charts compare.
std::string svg_chart(const Leaderboard& board, size_t column,
                      const std::map<std::string, std::string>& colours) {
  constexpr double kRowH = 18, kBarH = 12, kBarW = 240, kValueW = 48, kTop = 4, kAxisH = 20;
  constexpr size_t kMaxLabel = 32;
  size_t longest = 1;
  for (const auto& row : board.rows)
    longest = std::max(longest, std::min(utf8_length(row.model), kMaxLabel + 1));
  const double label_w = 10.0 + 6.5 * static_cast<double>(longest);
  const double x0 = label_w, width = label_w + kBarW + kValueW;
  const double plot_h = kRowH * static_cast<double>(board.rows.size());
  const double height = kTop + plot_h + kAxisH;
  auto x_of = [&](double percent) { return x0 + kBarW * std::clamp(percent, 0.0, 100.0) / 100.0; };

  const std::string& dataset = board.datasets[column];
  std::string out = fmt::format(
      "<svg width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" role=\"img\" "
      "aria-label=\"mAP (%) on {2}\">\n",
      width, height, html_escape(dataset));
  for (int tick = 0; tick <= 100; tick += 25) {
    double x = x_of(tick);
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", x,
        kTop, kTop + plot_h);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x,
                       kTop + plot_h + 14, tick);
  }
  out += fmt::format(
      "<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", x0,
      kTop, kTop + plot_h);
  for (size_t r = 0; r < board.rows.size(); ++r) {
    const LeaderboardRow& row = board.rows[r];
    const LeaderboardCell& cell = row.cells[column];
    const double y = kTop + kRowH * static_cast<double>(r);
    const double mid = y + kRowH / 2;
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}<title>{}</title></text>\n", x0 - 6,
        mid + 4, html_escape(utf8_truncate(row.model, kMaxLabel)), html_escape(row.model));
    if (cell.state == LeaderboardCell::State::kValue) {
      const double w = x_of(cell.map_percent) - x0;
      std::string tip = row.model + ": " + format_map(cell.map_percent);
      if (cell.ci95_percent)
        tip += fmt::format(" (95% CI {}\u2013{})", format_map(cell.ci95_percent->first),
                           format_map(cell.ci95_percent->second));
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}</title></rect>\n",
          x0, mid - kBarH / 2, w, kBarH, colours.at(row.category), html_escape(tip));
      double label_x = x_of(cell.map_percent) + 4;
      if (cell.ci95_percent) {
        const double lo = x_of(cell.ci95_percent->first), hi = x_of(cell.ci95_percent->second);
        out += fmt::format(
            "<line class=\"ci\" x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\"/>"
            "<line class=\"ci\" x1=\"{0:.1f}\" y1=\"{3:.1f}\" x2=\"{0:.1f}\" y2=\"{4:.1f}\"/>"
            "<line class=\"ci\" x1=\"{1:.1f}\" y1=\"{3:.1f}\" x2=\"{1:.1f}\" y2=\"{4:.1f}\"/>\n",
            lo, hi, mid, mid - 3, mid + 3);
        label_x = std::max(label_x, hi + 4);
      }
      out += fmt::format("<text{} x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                         cell.best ? " class=\"best\"" : "", label_x, mid + 4,
                         format_map(cell.map_percent));
    } else {
      const bool skipped = cell.state == LeaderboardCell::State::kSkipped;
      out +=
          fmt::format("<text class=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                      skipped ? "skipped" : "note", x0 + 4, mid + 4, skipped ? "skipped" : kDash);
    }
  }
  out += "</svg>\n";
  return out;
}

// A relative or absolute file path as a URL path: bytes other than unreserved ones and '/'
// percent-encoded, so that '#', '?' or a space in a folder name stay part of the path.
std::string url_path(const std::string& path) {
  constexpr size_t npos = std::string_view::npos;
  std::string url;
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::string_view("/-._~").find(static_cast<char>(c)) != npos)
      url += static_cast<char>(c);
    else
      url += fmt::format("%{:02X}", c);
  }
  return url;
}

}  // namespace

std::string render_html(const Leaderboard& board) {
  std::map<std::string, std::string> colours;
  std::vector<std::string> categories;
  for (const auto& row : board.rows) {
    if (colours.count(row.category)) continue;
    colours[row.category] = palette_colour(categories.size());
    categories.push_back(row.category);
  }

  std::string out = "<h1>Replication-detector leaderboard</h1>\n";
  out +=
      "<p>mAP in percent (higher is better) and average rank across datasets (lower is "
      "better); the best value of each column is in bold.</p>\n";

  // The model column stays in view while the table scrolls sideways (report/html_page.cpp's
  // stylesheet); a dataset's name does not break at its hyphens, only before its arrow.
  out += "<table>\n<thead>\n<tr><th class=\"l\">Category</th><th class=\"l model\">Model</th>";
  for (const auto& d : board.datasets)
    out += "<th><span class=\"name-part\">" + html_escape(d) + "</span> \u2191</th>";
  const bool ci = board.rank_statistics.has_value();
  out += "<th>Average Rank \u2193</th>";
  if (ci) out += "<th>" + html_escape(rank_ci_header(board)) + "</th>";
  out += "</tr>\n</thead>\n<tbody>\n";
  for (size_t r = 0; r < board.rows.size(); ++r) {
    const LeaderboardRow& row = board.rows[r];
    const bool first = starts_group(board, r);
    out += first ? "<tr class=\"group\">" : "<tr>";
    out += "<td class=\"l\">" + (first ? html_escape(row.category) : std::string()) + "</td>";
    out += "<td class=\"l model\">" + html_escape(row.model) + "</td>";
    for (const auto& cell : row.cells) {
      if (cell.state == LeaderboardCell::State::kValue) {
        std::string text = format_map(cell.map_percent);
        if (cell.best) text = "<strong>" + text + "</strong>";
        if (!cell.page.empty())
          text = "<a href=\"" + url_path(cell.page) + "\">" + text + "</a>";
        std::string title;
        if (cell.ci95_percent)
          title = fmt::format(" title=\"95% CI {}\u2013{}\"", format_map(cell.ci95_percent->first),
                              format_map(cell.ci95_percent->second));
        out += "<td" + title + ">" + text + "</td>";
      } else if (cell.state == LeaderboardCell::State::kSkipped) {
        out +=
            "<td class=\"skipped\" title=\"" + html_escape(cell.skipped_reason) + "\">skipped</td>";
      } else {
        out += std::string("<td class=\"missing\">") + kDash + "</td>";
      }
    }
    std::string avg = row.average_rank ? format_rank(*row.average_rank) : kDash;
    if (row.best_average_rank) avg = "<strong>" + avg + "</strong>";
    out += "<td>" + avg + "</td>";
    if (ci) out += "<td>" + rank_ci_cell(board, r, kDash) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  if (!board.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const auto& note : board.notes) out += "<li>" + html_escape(note) + "</li>\n";
    out += "</ul>\n";
  }

  if (board.rank_statistics) {
    out += "<h2>Critical-difference diagram</h2>\n<p>" + html_escape(kCdDiagramHowToRead) +
           "</p>\n<figure class=\"cd\">\n" + cd_diagram_svg(board) + "</figure>\n";
  }
  out += "<h2>mAP (%) per dataset</h2>\n<p class=\"legend\">";
  for (const auto& category : categories)
    out += "<span><i style=\"background:" + colours[category] + "\"></i>" + html_escape(category) +
           "</span>";
  out += "</p>\n<div class=\"charts\">\n";
  for (size_t c = 0; c < board.datasets.size(); ++c) {
    out += "<figure>\n<figcaption>" + html_escape(board.datasets[c]) + "</figcaption>\n";
    out += svg_chart(board, c, colours);
    out += "</figure>\n";
  }
  out += "</div>\n";
  return html_page("repbench leaderboard", out);
}

}  // namespace repbench::report::impl
