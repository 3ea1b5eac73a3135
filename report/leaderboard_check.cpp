#include "report/leaderboard_check.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "report/impl/parse_number.h"

namespace repbench::report {

namespace {

using nlohmann::json;

// Scores that agree to this many percentage points are equal (the leaderboard's tie threshold).
constexpr double kEpsilon = 1e-6;

using impl::parse_number;

// Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, doubled
// quotes and line breaks). Returns each record with the 1-based line it starts on.
std::vector<std::pair<int, std::vector<std::string>>> parse_csv(const std::string& text,
                                                                const std::string& path) {
  std::vector<std::pair<int, std::vector<std::string>>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1, record_line = 1;
  size_t i = 0;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;  // UTF-8 byte-order mark
  auto end_record = [&] {
    fields.push_back(field);
    // A blank line is no record.
    if (!(fields.size() == 1 && fields[0].empty() && !field_started))
      records.emplace_back(record_line, fields);
    fields.clear();
    field.clear();
    field_started = false;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
      field_started = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      record_line = ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) fail("{}: line {}: a quoted field is not closed", path, record_line);
  if (field_started || !field.empty() || !fields.empty()) end_record();
  return records;
}

LeaderboardBaseline load_csv_baseline(const std::string& text, const std::string& path) {
  LeaderboardBaseline base;
  base.origin = path;
  base.resolution_percent = 0.01;
  auto records = parse_csv(text, path);
  if (records.empty())
    fail("{}: empty file (expected a leaderboard csv: category,model,<datasets...>,average_rank)",
         path);
  auto header = records[0].second;
  // A board with rank intervals ends with their two columns; the check does not compare them.
  size_t interval_columns = 0;
  if (header.size() >= 5 && header[header.size() - 2] == "average_rank_ci95_low" &&
      header.back() == "average_rank_ci95_high") {
    interval_columns = 2;
    header.resize(header.size() - 2);
  }
  if (header.size() < 3 || header[0] != "category" || header[1] != "model" ||
      header.back() != "average_rank")
    fail(
        "{}: line 1: expected a leaderboard csv header 'category,model,<datasets...>,average_rank' "
        "(as written by `repbench leaderboard --format csv`)",
        path);
  base.board.datasets.assign(header.begin() + 2, header.end() - 1);
  for (size_t d = 0; d < base.board.datasets.size(); ++d) {
    if (base.board.datasets[d].empty()) fail("{}: line 1: dataset column {} has no name", path, d);
    for (size_t e = 0; e < d; ++e)
      if (base.board.datasets[e] == base.board.datasets[d])
        fail("{}: line 1: dataset '{}' appears twice", path, base.board.datasets[d]);
  }
  std::map<std::string, int> model_line;
  for (size_t r = 1; r < records.size(); ++r) {
    auto [line, fields] = records[r];
    if (fields.size() != header.size() + interval_columns)
      fail("{}: line {}: expected {} fields, found {}", path, line,
           header.size() + interval_columns, fields.size());
    fields.resize(header.size());
    LeaderboardRow row;
    row.category = fields[0];
    row.model = fields[1];
    if (row.model.empty()) fail("{}: line {}: empty model name", path, line);
    if (auto [it, inserted] = model_line.emplace(row.model, line); !inserted)
      fail("{}: line {}: model '{}' appears twice (first on line {})", path, line, row.model,
           it->second);
    for (size_t d = 0; d < base.board.datasets.size(); ++d) {
      LeaderboardCell cell;
      const std::string& text_value = fields[d + 2];
      if (!text_value.empty()) {
        std::optional<double> v = parse_number(text_value);
        if (!v)
          fail("{}: line {}: the score of '{}' on '{}' is '{}', not a number", path, line,
               row.model, base.board.datasets[d], text_value);
        cell.state = LeaderboardCell::State::kValue;
        cell.map_percent = *v;
      }
      row.cells.push_back(std::move(cell));
    }
    if (!fields.back().empty()) row.average_rank = parse_number(fields.back());
    base.board.rows.push_back(std::move(row));
  }
  return base;
}

LeaderboardBaseline load_json_baseline(const std::string& text, const std::string& path) {
  LeaderboardBaseline base;
  base.origin = path;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  if (!j.is_object() || j.value("schema", json()) != kLeaderboardSchema)
    fail(
        "{}: expected a leaderboard JSON with \"schema\": \"{}\" (as written by `repbench "
        "leaderboard --format json`)",
        path, kLeaderboardSchema);
  try {
    base.board.datasets = j.at("datasets").get<std::vector<std::string>>();
    const json& rows = j.at("rows");
    if (!rows.is_array()) fail("{}: \"rows\" is not an array", path);
    std::map<std::string, size_t> seen;
    for (size_t r = 0; r < rows.size(); ++r) {
      const json& jr = rows[r];
      LeaderboardRow row;
      row.model = jr.at("model").get<std::string>();
      row.category = jr.value("category", std::string(kDefaultCategory));
      if (row.model.empty()) fail("{}: rows[{}]: empty model name", path, r);
      if (auto [it, inserted] = seen.emplace(row.model, r); !inserted)
        fail("{}: rows[{}]: model '{}' appears twice (first in rows[{}])", path, r, row.model,
             it->second);
      const json& cells = jr.at("cells");
      if (!cells.is_array() || cells.size() != base.board.datasets.size())
        fail("{}: rows[{}] ('{}'): expected {} cells, one per dataset", path, r, row.model,
             base.board.datasets.size());
      for (size_t d = 0; d < cells.size(); ++d) {
        const json& jc = cells[d];
        LeaderboardCell cell;
        const std::string state = jc.at("state").get<std::string>();
        if (state == "value") {
          cell.state = LeaderboardCell::State::kValue;
          cell.map_percent = jc.at("map").get<double>();
          if (!std::isfinite(cell.map_percent))
            fail("{}: rows[{}].cells[{}]: map is not a finite number", path, r, d);
          if (auto ci = jc.find("ci95"); ci != jc.end() && !ci->is_null()) {
            auto pair = ci->get<std::vector<double>>();
            if (pair.size() != 2 || !(pair[0] <= pair[1]))
              fail("{}: rows[{}].cells[{}]: ci95 must be [lo, hi] with lo <= hi", path, r, d);
            cell.ci95_percent = std::make_pair(pair[0], pair[1]);
          }
        } else if (state == "skipped") {
          cell.state = LeaderboardCell::State::kSkipped;
          cell.skipped_reason = jc.value("reason", std::string());
        } else if (state != "missing") {
          fail("{}: rows[{}].cells[{}]: state '{}' (expected value|missing|skipped)", path, r, d,
               state);
        }
        row.cells.push_back(std::move(cell));
      }
      if (auto it = jr.find("average_rank"); it != jr.end() && it->is_number())
        row.average_rank = it->get<double>();
      base.board.rows.push_back(std::move(row));
    }
  } catch (const json::exception& e) {
    fail("{}: malformed leaderboard JSON: {}", path, e.what());
  }
  return base;
}

std::string cell_state_text(const LeaderboardCell& cell) {
  if (cell.state == LeaderboardCell::State::kSkipped) return "skipped: " + cell.skipped_reason;
  return "missing";
}

std::string pp(double v) {
  return fmt::format("{:.2f}", v);
}

std::string signed_pp(double v) {
  return fmt::format("{:+.2f}", v);
}

// Labels in the report: a model or dataset may hold anything, so keep each on one line.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

}  // namespace

LeaderboardBaseline load_leaderboard_baseline(const std::string& path) {
  const std::string text = read_file(path);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') return load_json_baseline(text, path);
  return load_csv_baseline(text, path);
}

bool CheckResult::failed() const {
  if (!missing_rows.empty() || !missing_columns.empty()) return true;
  for (const auto& c : changes) {
    if (c.kind == CellChange::Kind::kRegressed || c.kind == CellChange::Kind::kLost) return true;
    if (c.kind == CellChange::Kind::kImproved && !allow_improved) return true;
  }
  return false;
}

CheckResult check_leaderboard(const LeaderboardBaseline& baseline, const Leaderboard& current,
                              const CheckOptions& options) {
  if (!(options.tolerance_percent >= 0.0) || !std::isfinite(options.tolerance_percent))
    fail("--tolerance must be a finite number >= 0 (percentage points), got {}",
         options.tolerance_percent);
  CheckResult result;
  result.allow_improved = options.allow_improved;
  const Leaderboard& base = baseline.board;

  std::map<std::string, size_t> column_of, row_of;
  for (size_t d = 0; d < current.datasets.size(); ++d) column_of[current.datasets[d]] = d;
  for (size_t r = 0; r < current.rows.size(); ++r) row_of[current.rows[r].model] = r;

  for (const auto& d : base.datasets)
    if (!column_of.count(d)) result.missing_columns.push_back(d);
  for (const auto& d : current.datasets)
    if (std::find(base.datasets.begin(), base.datasets.end(), d) == base.datasets.end())
      result.added_columns.push_back(d);
  for (const auto& row : base.rows)
    if (!row_of.count(row.model)) result.missing_rows.push_back(row.model);
  for (const auto& row : current.rows) {
    bool known = std::any_of(base.rows.begin(), base.rows.end(),
                             [&](const LeaderboardRow& b) { return b.model == row.model; });
    if (!known) result.added_rows.push_back(row.model);
  }

  for (const auto& brow : base.rows) {
    auto r = row_of.find(brow.model);
    if (r == row_of.end()) continue;
    const LeaderboardRow& crow = current.rows[r->second];
    for (size_t d = 0; d < base.datasets.size(); ++d) {
      auto c = column_of.find(base.datasets[d]);
      if (c == column_of.end()) continue;
      const LeaderboardCell& before = brow.cells[d];
      const LeaderboardCell& after = crow.cells[c->second];
      const bool had = before.state == LeaderboardCell::State::kValue;
      const bool has = after.state == LeaderboardCell::State::kValue;
      CellChange change;
      change.model = brow.model;
      change.dataset = base.datasets[d];
      if (had && !has) {
        change.kind = CellChange::Kind::kLost;
        change.before = before.map_percent;
        change.after_state = cell_state_text(after);
        result.changes.push_back(std::move(change));
      } else if (!had && has) {
        change.kind = CellChange::Kind::kGained;
        change.after = after.map_percent;
        result.changes.push_back(std::move(change));
      } else if (had && has) {
        double lo = before.map_percent, hi = before.map_percent;
        if (before.ci95_percent) {
          lo = std::min(lo, before.ci95_percent->first);
          hi = std::max(hi, before.ci95_percent->second);
        }
        lo -= options.tolerance_percent;
        hi += options.tolerance_percent;
        double value = after.map_percent;
        if (baseline.resolution_percent > 0)
          value = std::round(value / baseline.resolution_percent) * baseline.resolution_percent;
        change.before = before.map_percent;
        change.after = after.map_percent;
        change.allowed_lo = lo;
        change.allowed_hi = hi;
        if (value < lo - kEpsilon) {
          change.kind = CellChange::Kind::kRegressed;
          result.changes.push_back(std::move(change));
        } else if (value > hi + kEpsilon) {
          change.kind = CellChange::Kind::kImproved;
          result.changes.push_back(std::move(change));
        } else {
          ++result.unchanged;
        }
      }
    }
  }
  return result;
}

std::string render_check(const CheckResult& result, const std::string& baseline_name) {
  int regressed = 0, improved = 0, lost = 0, gained = 0;
  for (const auto& c : result.changes) {
    switch (c.kind) {
      case CellChange::Kind::kRegressed:
        ++regressed;
        break;
      case CellChange::Kind::kImproved:
        ++improved;
        break;
      case CellChange::Kind::kLost:
        ++lost;
        break;
      case CellChange::Kind::kGained:
        ++gained;
        break;
    }
  }
  std::vector<std::string> counts;
  auto count = [&](size_t n, const char* what) {
    if (n > 0) counts.push_back(fmt::format("{} {}", n, what));
  };
  count(result.missing_rows.size(), "missing row(s)");
  count(result.missing_columns.size(), "missing column(s)");
  count(static_cast<size_t>(regressed), "regressed");
  count(static_cast<size_t>(lost), "lost");
  count(static_cast<size_t>(improved), "improved");
  count(static_cast<size_t>(gained), "gained");
  count(result.added_rows.size(), "new row(s)");
  count(result.added_columns.size(), "new column(s)");
  count(static_cast<size_t>(result.unchanged), "unchanged");

  std::string out = fmt::format("leaderboard check against {}: {} ({})\n", one_line(baseline_name),
                                result.failed() ? "FAILED" : "OK",
                                counts.empty() ? std::string("nothing to compare")
                                               : fmt::format("{}", fmt::join(counts, ", ")));
  // Failures first, in a fixed order, then what passes; one line each, fixed-width tags.
  auto line = [&](const char* tag, const std::string& text) {
    out += fmt::format("  {:<20} {}\n", tag, text);
  };
  for (const auto& m : result.missing_rows) line("FAIL missing row", one_line(m));
  for (const auto& m : result.missing_columns) line("FAIL missing column", one_line(m));
  auto scores = [&](CellChange::Kind kind, const char* tag) {
    for (const auto& c : result.changes) {
      if (c.kind != kind) continue;
      const std::string where = one_line(c.model) + " | " + one_line(c.dataset);
      if (kind == CellChange::Kind::kLost)
        line(tag, fmt::format("{}: {} -> {}", where, pp(c.before), one_line(c.after_state)));
      else if (kind == CellChange::Kind::kGained)
        line(tag, fmt::format("{}: - -> {}", where, pp(c.after)));
      else
        line(tag,
             fmt::format("{}: {} -> {} ({} pp; allowed {} .. {})", where, pp(c.before), pp(c.after),
                         signed_pp(c.after - c.before), pp(c.allowed_lo), pp(c.allowed_hi)));
    }
  };
  scores(CellChange::Kind::kRegressed, "FAIL regressed");
  scores(CellChange::Kind::kLost, "FAIL lost");
  scores(CellChange::Kind::kImproved, result.allow_improved ? "ok   improved" : "FAIL improved");
  scores(CellChange::Kind::kGained, "ok   gained");
  for (const auto& m : result.added_rows) line("ok   new row", one_line(m));
  for (const auto& m : result.added_columns) line("ok   new column", one_line(m));
  return out;
}

}  // namespace repbench::report
