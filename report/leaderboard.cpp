#include "report/leaderboard.h"

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
// fccp copies file names with strncpy; GCC's inliner flags it though it is bounded and terminated.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <libfccp/csv.h>
#pragma GCC diagnostic pop
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parse_list.h"
#include "datasets/set_registry.h"
#include "report/cd_diagram.h"
#include "report/failure_page.h"
#include "report/html_page.h"
#include "report/impl/parse_number.h"
#include "report/per_query.h"
#include "report/record.h"

namespace repbench::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kDash = "\u2013";  // en dash: a missing cell
constexpr const char* kCsvHeader = "model,category,dataset,map";

// ---------------------------------------------------------------------------------------------
// Loading

// The header's names, unquoted and trimmed; a header has no commas inside names, so a plain
// split is enough (the rows go through the real CSV reader).
std::vector<std::string> split_header(std::string line) {
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte-order mark (Excel)
  std::vector<std::string> names;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string name =
        trim_whitespace(line.substr(start, comma == std::string::npos ? comma : comma - start));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
      name = name.substr(1, name.size() - 2);
    names.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

using impl::parse_number;

// The fccp error's line, when it has one.
int error_line(const io::error::base& e) {
  if (const auto* with_line = dynamic_cast<const io::error::with_file_line*>(&e))
    return with_line->file_line;
  return -1;
}

constexpr const char* kMicroAp = "\u00b5AP";
constexpr const char* kMicroApSn = "\u00b5AP_SN";

// "µAP_SN" when the record holds a normalised micro-AP, "µAP" for another record of a
// copy-detection set (its metric, or the registry's, has a copy_detection block), else "".
std::string copy_detection_marker(const json& record, const json* metrics) {
  if (metrics && metrics->contains("micro_ap_sn")) return kMicroApSn;
  if (metrics && metrics->contains("micro_ap")) return kMicroAp;
  if (const auto o = record.find("options"); o != record.end() && o->is_object())
    if (const auto m = o->find("metric"); m != o->end() && m->is_object() &&
                                          m->contains("copy_detection"))
      return kMicroAp;
  if (const auto set = record.find("set"); set != record.end() && set->is_string())
    if (const datasets::SetInfo* info = datasets::find_set(set->get<std::string>()))
      if (info->metric.copy_detection) return kMicroAp;
  return "";
}

ScoreEntry entry_from_record(const json& record, const std::string& path) {
  ScoreEntry e;
  const json& model = record["model"];
  e.model = model["name"].get<std::string>();
  e.category = model.contains("category") ? model["category"].get<std::string>() : "";
  if (e.category.empty()) e.category = kDefaultCategory;
  e.dataset = record["dataset"].get<std::string>();
  e.origin = path;
  if (const auto o = record.find("options"); o != record.end() && o->is_object()) {
    e.fast_decode = o->value("decoding", std::string()) == "reduced-jpeg";
    std::vector<std::string> steps;
    if (const auto pp = o->find("postprocess"); pp != o->end() && pp->is_object())
      steps.push_back("post-processing " + pp->value("chain", std::string("?")));
    if (const auto rr = o->find("rerank"); rr != o->end() && rr->is_string()) {
      steps.push_back("re-ranking " + rr->get<std::string>());
      // Re-ranking is part of the protocol: its own column, named in the header.
      e.dataset += " [" + rr->get<std::string>() + "]";
    }
    e.processing = fmt::format("{}", fmt::join(steps, ", "));
    if (const auto m = o->find("metric"); m != o->end() && m->is_object())
      if (const auto text = m->find("summary"); text != m->end() && text->is_string())
        e.metric = text->get<std::string>();
  }
  // Copy-detection columns show micro-AP (after score normalisation when the record has it),
  // marked in the column label so that every rendering says so.
  const json* metrics_block = record.contains("metrics") && record["metrics"].is_object()
                                  ? &record["metrics"]
                                  : nullptr;
  const std::string micro = copy_detection_marker(record, metrics_block);
  if (!micro.empty()) e.dataset += " [" + micro + "]";
  if (record.value("status", std::string("ok")) == "skipped") {
    e.skipped_reason = record["skipped_reason"].get<std::string>();
    return e;
  }
  const json& metrics = record["metrics"];
  if (!micro.empty()) {
    const char* key = micro == kMicroApSn ? "micro_ap_sn" : "micro_ap";
    if (!metrics.contains(key) || !metrics[key].is_number())
      fail("{}: a copy-detection record without metrics.{}", path, key);
    e.map_percent = metrics[key].get<double>() * 100.0;
    // Per-query APs and the mAP interval describe the mAP, not the micro-AP the cell shows.
    return e;
  }
  e.map_percent = metrics["map"].get<double>() * 100.0;
  if (auto it = metrics.find("map_ci95"); it != metrics.end() && it->is_array()) {
    const json &lo = (*it)[0], &hi = (*it)[1];
    // Null or NaN bounds: the run had no bootstrap, so there is no interval to show.
    if (lo.is_number() && hi.is_number() && std::isfinite(lo.get<double>()) &&
        std::isfinite(hi.get<double>()))
      e.ci95_percent = std::make_pair(lo.get<double>() * 100.0, hi.get<double>() * 100.0);
  }
  if (auto pq = read_per_query(record, path)) e.per_query = QueryAps{pq->ap, pq->queries_sha256};
  return e;
}

// ---------------------------------------------------------------------------------------------
// Ranking

// Values that agree to 1e-6 are one value: a fraction x100 from a record then ties with the same
// number typed into a CSV, and rounding the key keeps "equal" transitive.
long long tie_key(double v) {
  return std::llround(v * 1e6);
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers

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
// "p = 0.0183" (3 significant digits), or "p < 1e-16" for what a double cannot tell from 0.
std::string format_p(double p) {
  return p < 1e-16 ? std::string("p < 1e-16") : fmt::format("p = {:.3g}", p);
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

std::string tex_escape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '&':
      case '%':
      case '_':
      case '#':
      case '$':
      case '{':
      case '}':
        out += '\\';
        out += c;
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '-':  // "--" would print as an en dash: keep an option's two hyphens
        out += i + 1 < s.size() && s[i + 1] == '-' ? "-{}" : "-";
        break;
      default:
        // The en dash as LaTeX's own "--", so the output needs no Unicode setup.
        if (s.compare(i, 3, kDash) == 0) {
          out += "--";
          i += 2;
        } else {
          out += c;
        }
    }
  }
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Markdown

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

// ---------------------------------------------------------------------------------------------
// CSV

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

// ---------------------------------------------------------------------------------------------
// LaTeX

std::string render_tex(const Leaderboard& board) {
  std::string out = "% Generated by repbench; needs \\usepackage{booktabs}.\n";
  const bool ci = board.rank_statistics.has_value();
  out += "\\begin{tabular}{ll" + std::string(board.datasets.size() + (ci ? 2 : 1), 'r') +
         "}\n\\toprule\n";
  out += "Category & Model";
  for (const auto& d : board.datasets) out += " & " + tex_escape(d) + " $\\uparrow$";
  out += " & Average Rank $\\downarrow$";
  out += ci ? " & " + tex_escape(rank_ci_header(board)) + " \\\\\n" : " \\\\\n";
  for (size_t r = 0; r < board.rows.size(); ++r) {
    const LeaderboardRow& row = board.rows[r];
    if (starts_group(board, r)) out += "\\midrule\n";
    out += (starts_group(board, r) ? tex_escape(row.category) : std::string()) + " & " +
           tex_escape(row.model);
    for (const auto& cell : row.cells) {
      std::string text = "--";
      if (cell.state == LeaderboardCell::State::kValue) {
        text = format_map(cell.map_percent);
        if (cell.best) text = "\\textbf{" + text + "}";
      } else if (cell.state == LeaderboardCell::State::kSkipped) {
        text = "\\textit{skipped}";
      }
      out += " & " + text;
    }
    std::string avg = row.average_rank ? format_rank(*row.average_rank) : "--";
    if (row.best_average_rank) avg = "\\textbf{" + avg + "}";
    out += " & " + avg;
    if (ci) out += " & " + rank_ci_cell(board, r, "--");
    out += " \\\\\n";
  }
  out += "\\bottomrule\n\\end{tabular}\n";
  if (!board.notes.empty()) {
    out += "\\par\\smallskip\n{\\footnotesize\n";
    for (const auto& note : board.notes) out += tex_escape(note) + ".\\\\\n";
    out += "}\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML

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

// ---------------------------------------------------------------------------------------------
// JSON

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

}  // namespace

// -----------------------------------------------------------------------------------------------

std::vector<ScoreEntry> load_scores_csv(const std::string& path) {
  std::vector<ScoreEntry> entries;
  try {
    io::CSVReader<4, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>,
                  io::throw_on_overflow, io::empty_line_comment>
        in(path);
    char* header = in.next_line();
    while (header && io::empty_line_comment::is_comment(header)) header = in.next_line();
    if (!header) fail("{}: empty file (expected the header '{}')", path, kCsvHeader);
    std::vector<std::string> names = split_header(header);
    if (names != std::vector<std::string>{"model", "category", "dataset", "map"})
      fail("{}: line {}: header must be exactly '{}', found '{}'", path, in.get_file_line(),
           kCsvHeader, trim_whitespace(header));
    in.set_header("model", "category", "dataset", "map");

    std::string model, category, dataset, map;
    while (in.read_row(model, category, dataset, map)) {
      const unsigned line = in.get_file_line();
      if (model.empty()) fail("{}: line {}: empty model name", path, line);
      if (dataset.empty()) fail("{}: line {}: empty dataset name", path, line);
      std::optional<double> value = parse_number(map);
      if (!value)
        fail("{}: line {}: map '{}' is not a number (expected mAP in percent, e.g. 53.12)", path,
             line, map);
      if (*value < 0.0 || *value > 100.0)
        fail("{}: line {}: map {} is outside [0, 100] (expected mAP in percent)", path, line, map);
      ScoreEntry e;
      e.model = model;
      e.category = category.empty() ? kDefaultCategory : category;
      e.dataset = dataset;
      e.map_percent = *value;
      e.origin = fmt::format("{}:{}", path, line);
      entries.push_back(std::move(e));
    }
  } catch (const io::error::base& e) {
    // fccp's own messages quote the file; say it our way (file first, then line, one line).
    const int line = error_line(e);
    const bool too_few = dynamic_cast<const io::error::too_few_columns*>(&e) != nullptr;
    if (too_few || dynamic_cast<const io::error::too_many_columns*>(&e))
      fail("{}: line {}: expected 4 fields ({}), found {}", path, line, kCsvHeader,
           too_few ? "fewer" : "more");
    if (dynamic_cast<const io::error::escaped_string_not_closed*>(&e))
      fail("{}: line {}: a quoted field is not closed", path, line);
    if (const auto* open = dynamic_cast<const io::error::can_not_open_file*>(&e))
      fail("{}: cannot open: {}", path, std::strerror(open->errno_value));
    fail("{}: {}", path, e.what());
  }
  return entries;
}

std::vector<ScoreEntry> load_records(const std::vector<std::string>& files_or_dirs) {
  const std::vector<std::string> files = record_files(files_or_dirs);
  std::vector<ScoreEntry> entries;
  entries.reserve(files.size());
  for (const auto& path : files) {
    entries.push_back(entry_from_record(read_record(path), path));
    std::error_code ec;
    if (const std::string page = failure_page_path(path); fs::is_regular_file(page, ec))
      entries.back().page = page;
  }
  return entries;
}

namespace {

// The metric notes, each thing said once: the metric most columns share (the first seen on a
// tie) is one line, "Every dataset: M" or "Every dataset but A, B: M"; each column with another
// metric gets its own line "A: M2". A column whose records state no metric gets no line (and is
// not part of "every dataset"). With no metric shared by two columns, every column has its line.
void add_metric_notes(Leaderboard& board, const std::vector<std::vector<std::string>>& metric_of) {
  std::vector<std::string> label(board.datasets.size());
  std::vector<std::pair<std::string, size_t>> counts;  // label, columns; in first-seen order
  for (size_t c = 0; c < board.datasets.size(); ++c) {
    if (metric_of[c].empty()) continue;
    label[c] = fmt::format("{}", fmt::join(metric_of[c], " | "));
    auto it = std::find_if(counts.begin(), counts.end(),
                           [&](const auto& e) { return e.first == label[c]; });
    if (it == counts.end())
      counts.emplace_back(label[c], 1);
    else
      ++it->second;
  }
  std::string shared;
  size_t most = 1;
  for (const auto& [l, n] : counts)
    if (n > most) most = n, shared = l;
  if (!shared.empty()) {
    std::vector<std::string> others;
    for (size_t c = 0; c < board.datasets.size(); ++c)
      if (label[c] != shared) others.push_back(board.datasets[c]);
    board.notes.push_back(others.empty() ? "Every dataset: " + shared
                                         : fmt::format("Every dataset but {}: {}",
                                                       fmt::join(others, ", "), shared));
  }
  for (size_t c = 0; c < board.datasets.size(); ++c)
    if (!label[c].empty() && label[c] != shared)
      board.notes.push_back(fmt::format("{}: {}", board.datasets[c], label[c]));
}

}  // namespace

Leaderboard build_leaderboard(const std::vector<ScoreEntry>& entries) {
  struct Model {
    std::string category;
    std::string category_origin;
  };
  std::vector<std::string> model_order;
  std::map<std::string, Model> models;
  Leaderboard board;
  std::map<std::string, size_t> column_of;
  std::map<std::pair<std::string, std::string>, const ScoreEntry*> seen;

  for (const ScoreEntry& e : entries) {
    if (e.model.empty()) fail("{}: a score has an empty model name", e.origin);
    if (e.dataset.empty()) fail("{}: a score of {} has an empty dataset", e.origin, e.model);
    if (e.skipped_reason.empty() && !std::isfinite(e.map_percent))
      fail("{}: the mAP of {} on {} is not a number", e.origin, e.model, e.dataset);
    auto [it, inserted] = seen.emplace(std::make_pair(e.model, e.dataset), &e);
    if (!inserted)
      fail("{} on {} appears twice: in {} and in {}", e.model, e.dataset, it->second->origin,
           e.origin);

    const std::string category = e.category.empty() ? kDefaultCategory : e.category;
    auto found = models.find(e.model);
    if (found == models.end()) {
      models[e.model] = {category, e.origin};
      model_order.push_back(e.model);
    } else if (category != found->second.category && category != kDefaultCategory) {
      // "other" is what a record without a category gets, so it gives way to a named one.
      if (found->second.category != kDefaultCategory)
        fail("{} has category '{}' in {} but '{}' in {}", e.model, found->second.category,
             found->second.category_origin, category, e.origin);
      found->second = {category, e.origin};
    }
    if (column_of.emplace(e.dataset, board.datasets.size()).second)
      board.datasets.push_back(e.dataset);
  }

  // Rows grouped by category, categories in first-seen order, models in first-seen order.
  std::vector<std::string> categories;
  for (const auto& name : model_order) {
    const std::string& c = models[name].category;
    if (std::find(categories.begin(), categories.end(), c) == categories.end())
      categories.push_back(c);
  }
  std::map<std::string, size_t> row_of;
  for (const auto& category : categories) {
    for (const auto& name : model_order) {
      if (models[name].category != category) continue;
      row_of[name] = board.rows.size();
      LeaderboardRow row;
      row.model = name;
      row.category = category;
      row.cells.resize(board.datasets.size());
      board.rows.push_back(std::move(row));
    }
  }

  for (const ScoreEntry& e : entries) {
    LeaderboardCell& cell = board.rows[row_of[e.model]].cells[column_of[e.dataset]];
    if (!e.skipped_reason.empty()) {
      cell.state = LeaderboardCell::State::kSkipped;
      cell.skipped_reason = e.skipped_reason;
    } else {
      cell.state = LeaderboardCell::State::kValue;
      cell.map_percent = e.map_percent;
      cell.ci95_percent = e.ci95_percent;
      cell.per_query = e.per_query;
      cell.page = e.page;
    }
    cell.origin = e.origin;
    if (e.published) board.rows[row_of[e.model]].published = true;
  }

  // Ranks per dataset and each row's average rank (metrics/rank_stats.h); a cell without a
  // value (skipped, or not run) takes no rank.
  std::vector<std::vector<std::optional<double>>> scores(board.rows.size());
  for (size_t r = 0; r < board.rows.size(); ++r)
    for (const auto& cell : board.rows[r].cells)
      scores[r].push_back(cell.state == LeaderboardCell::State::kValue
                              ? std::optional<double>(cell.map_percent)
                              : std::nullopt);
  const metrics::TableRanks ranked = metrics::rank_table(scores);
  for (size_t c = 0; c < board.datasets.size(); ++c) {
    std::optional<double> top;
    for (size_t r = 0; r < board.rows.size(); ++r)
      if (const auto& rank = ranked.ranks[r][c]; rank && (!top || *rank < *top)) top = rank;
    for (size_t r = 0; r < board.rows.size(); ++r)
      if (const auto& rank = ranked.ranks[r][c]) {
        board.rows[r].cells[c].rank = *rank;
        board.rows[r].cells[c].best = *rank == *top;  // the tie group of the highest score
      }
  }
  std::optional<long long> best_key;
  for (size_t r = 0; r < board.rows.size(); ++r) {
    LeaderboardRow& row = board.rows[r];
    row.average_rank = ranked.average[r];
    if (row.average_rank) {
      long long key = tie_key(*row.average_rank);
      if (!best_key || key < *best_key) best_key = key;
    }
  }
  for (auto& row : board.rows)
    row.best_average_rank = row.average_rank && tie_key(*row.average_rank) == *best_key;

  if (!ranked.complete) board.notes.push_back(kMissingNote);
  for (const auto& d : board.datasets)
    if (d.find(" [" + std::string(kMicroAp)) != std::string::npos) {
      board.notes.push_back(kMicroApNote);
      break;
    }
  for (const auto& row : board.rows)
    for (size_t c = 0; c < row.cells.size(); ++c)
      if (row.cells[c].state == LeaderboardCell::State::kSkipped)
        board.notes.push_back(fmt::format("{} on {} was skipped: {}", row.model, board.datasets[c],
                                          row.cells[c].skipped_reason));
  std::vector<std::string> fast;  // in row order
  for (const auto& row : board.rows)
    for (const ScoreEntry& e : entries)
      if (e.model == row.model && e.fast_decode && e.skipped_reason.empty()) {
        fast.push_back(row.model);
        break;
      }
  if (!fast.empty())
    board.notes.push_back(fmt::format(
        "Scores of {} come from descriptors computed with --fast-decode (large JPEGs decoded at "
        "reduced size), not with the reference pipeline's full decoding",
        fmt::join(fast, ", ")));
  // Descriptor post-processing and re-ranking change what a score measures: each is named.
  std::vector<std::string> processed;  // "MODEL on DATASET: what", in row order
  for (const auto& row : board.rows)
    for (const ScoreEntry& e : entries)
      if (e.model == row.model && !e.processing.empty() && e.skipped_reason.empty())
        processed.push_back(fmt::format("{} on {}: {}", e.model, e.dataset, e.processing));
  if (!processed.empty())
    board.notes.push_back(fmt::format("Scores computed after descriptor post-processing or "
                                      "re-ranking (docs/PROTOCOLS.md): {}",
                                      fmt::join(processed, "; ")));
  // Which metric each column's numbers are (in the order its records came).
  std::vector<std::vector<std::string>> metric_of(board.datasets.size());
  for (const ScoreEntry& e : entries) {
    auto& seen_metrics = metric_of[column_of[e.dataset]];
    if (!e.metric.empty() &&
        std::find(seen_metrics.begin(), seen_metrics.end(), e.metric) == seen_metrics.end())
      seen_metrics.push_back(e.metric);
  }
  add_metric_notes(board, metric_of);
  return board;
}

void add_rank_statistics(Leaderboard& board, const RankStatisticsOptions& options) {
  const auto omit = [&](const std::string& why) {
    board.notes.push_back("Rank intervals and the critical-difference diagram are omitted: " + why);
  };
  std::vector<size_t> rows;
  for (size_t r = 0; r < board.rows.size(); ++r)
    if (!board.rows[r].published) rows.push_back(r);
  const size_t n_sets = board.datasets.size();
  if (n_sets < 2) return omit(fmt::format("they need at least 2 datasets, found {}", n_sets));
  if (rows.size() < 2)
    return omit(
        fmt::format("they need at least 2 models with per-query APs, found {}", rows.size()));
  // ap[s][m][i]: the analysed models must all have per-query APs of the same queries everywhere.
  std::vector<std::vector<std::vector<double>>> ap(n_sets);
  for (size_t s = 0; s < n_sets; ++s) {
    const LeaderboardCell* first = nullptr;
    for (size_t r : rows) {
      const LeaderboardCell& cell = board.rows[r].cells[s];
      const std::string where = board.rows[r].model + " on " + board.datasets[s];
      if (cell.state != LeaderboardCell::State::kValue) return omit(where + " has no score");
      if (!cell.per_query)
        return omit(where + " has no per-query APs (a repbench.record/1 record or a csv score)");
      if (first && (cell.per_query->ap.size() != first->per_query->ap.size() ||
                    (!cell.per_query->queries_sha256.empty() && !first->per_query->queries_sha256.empty() &&
                     cell.per_query->queries_sha256 != first->per_query->queries_sha256)))
        return omit(
            fmt::format("{} was scored on other queries than {} (queries_sha256 or the "
                        "query count differ)",
                        where, board.rows[rows.front()].model));
      if (!first) first = &cell;
      ap[s].push_back(cell.per_query->ap);
    }
  }

  RankStatistics st;
  st.rows = rows;
  st.datasets = static_cast<int>(n_sets);
  st.resamples = options.resamples;
  st.seed = options.seed;
  const int k = static_cast<int>(rows.size());
  // The analysed rows ranked among themselves (every cell has a value: checked above), averaged
  // by the same function as build_leaderboard's column, so the two agree exactly.
  std::vector<std::vector<std::optional<double>>> scores;
  for (size_t r : rows) {
    scores.emplace_back();
    for (size_t s = 0; s < n_sets; ++s) scores.back().push_back(board.rows[r].cells[s].map_percent);
  }
  const metrics::TableRanks ranked = metrics::rank_table(scores);
  for (const std::optional<double>& average : ranked.average) st.average_rank.push_back(average.value());
  st.rank_ci95 = metrics::bootstrap_average_rank_ci(ap, options.resamples, options.seed, 0.95,
                                                    options.threads);
  st.friedman = metrics::friedman_test(st.average_rank, st.datasets);
  st.q_alpha = metrics::nemenyi_q(k, st.alpha);
  st.critical_difference = metrics::nemenyi_critical_difference(k, st.datasets, st.alpha);
  st.order.resize(rows.size());
  std::iota(st.order.begin(), st.order.end(), size_t{0});
  std::stable_sort(st.order.begin(), st.order.end(),
                   [&](size_t a, size_t b) { return st.average_rank[a] < st.average_rank[b]; });
  std::vector<double> sorted;
  for (size_t i : st.order) sorted.push_back(st.average_rank[i]);
  st.groups = metrics::nemenyi_groups(sorted, st.critical_difference);
  for (size_t m = 0; m < rows.size(); ++m) board.rows[rows[m]].average_rank_ci95 = st.rank_ci95[m];

  const bool subset = rows.size() != board.rows.size();
  board.notes.push_back(fmt::format(
      "Rank 95% CI: bootstrap over the queries of every dataset at once ({} resamples, seed {}); "
      "each resample ranks the models per dataset on its mAPs and averages the ranks{}",
      st.resamples, st.seed,
      subset ? fmt::format("; the {} models with per-query APs are ranked among themselves "
                           "(published rows have none)",
                           rows.size())
             : ""));
  const metrics::FriedmanResult& f = st.friedman;
  board.notes.push_back(fmt::format(
      "Friedman test over {} datasets, {} models: chi2 = {:.3f} ({} df), {}; Iman-Davenport "
      "F({}, {}) = {}, {}",
      f.n, f.k, f.chi2, f.k - 1, format_p(f.chi2_p), f.f_df1, f.f_df2,
      std::isinf(f.f) ? std::string("inf") : fmt::format("{:.3f}", f.f), format_p(f.f_p)));
  std::string groups;
  for (const auto& [a, b] : st.groups) {
    std::string names;
    for (int i = a; i <= b; ++i)
      names += (i == a ? "" : ", ") + board.rows[rows[st.order[i]]].model;
    groups += (groups.empty() ? "" : "; ") + ("{" + names + "}");
  }
  board.notes.push_back(fmt::format(
      "Nemenyi critical difference (alpha {}): CD = {:.3f} (q = {:.3f}, k = {}, N = {}); average "
      "ranks closer than CD are not significantly different{}",
      st.alpha, st.critical_difference, st.q_alpha, k, st.datasets,
      groups.empty() ? ": every pair differs" : ": " + groups));
  board.rank_statistics = std::move(st);
}

void relative_page_links(Leaderboard& board, const std::string& dir) {
  const fs::path base = fs::absolute(dir.empty() ? fs::path(".") : fs::path(dir));
  for (auto& row : board.rows)
    for (auto& cell : row.cells)
      if (!cell.page.empty())
        cell.page = fs::absolute(cell.page).lexically_normal().lexically_relative(
            base.lexically_normal()).generic_string();
}

Format parse_format(const std::string& name) {
  if (name == "md" || name == "markdown") return Format::kMarkdown;
  if (name == "csv") return Format::kCsv;
  if (name == "tex" || name == "latex") return Format::kTex;
  if (name == "html") return Format::kHtml;
  if (name == "json") return Format::kJson;
  fail("unknown leaderboard format '{}' (expected md|csv|tex|html|json)", name);
}

const char* format_extension(Format format) {
  switch (format) {
    case Format::kMarkdown:
      return "md";
    case Format::kCsv:
      return "csv";
    case Format::kTex:
      return "tex";
    case Format::kHtml:
      return "html";
    case Format::kJson:
      return "json";
  }
  REPBENCH_ASSERT(false);
  return nullptr;
}

std::string render(const Leaderboard& board, Format format) {
  switch (format) {
    case Format::kMarkdown:
      return render_markdown(board);
    case Format::kCsv:
      return render_csv(board);
    case Format::kTex:
      return render_tex(board);
    case Format::kHtml:
      return render_html(board);
    case Format::kJson:
      return render_json(board);
  }
  REPBENCH_ASSERT(false);
  return {};
}

}  // namespace repbench::report
