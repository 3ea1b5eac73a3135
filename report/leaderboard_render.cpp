// A leaderboard rendered in a format (report/leaderboard.h): the format's name, extension and
// renderer (one file each: leaderboard_markdown, _csv, _tex, _html, _json).

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

namespace repbench::report {

namespace fs = std::filesystem;
using nlohmann::json;

using namespace impl;

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
