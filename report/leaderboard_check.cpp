#include "report/leaderboard_check.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
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

// A baseline cell's "per_query": {"ap": [fraction or null, ...], "queries_sha256": "..."}.
QueryAps baseline_query_aps(const json& pq, const std::string& path, size_t r, size_t d) {
  const std::string where = fmt::format("{}: rows[{}].cells[{}].per_query", path, r, d);
  if (!pq.is_object() || !pq.contains("ap") || !pq["ap"].is_array() ||
      !pq.contains("queries_sha256") || !pq["queries_sha256"].is_string())
    fail("{} must be {{\"ap\": [...], \"queries_sha256\": \"...\"}} or null", where);
  QueryAps q;
  q.queries_sha256 = pq["queries_sha256"].get<std::string>();
  for (const json& v : pq["ap"]) {
    if (v.is_null()) {
      q.ap.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (v.is_number() && v.get<double>() >= 0 && v.get<double>() <= 1) {
      q.ap.push_back(v.get<double>());
    } else {
      fail("{}.ap[{}] is {}, expected a fraction in [0, 1] or null", where, q.ap.size(), v.dump());
    }
  }
  return q;
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
          if (auto pq = jc.find("per_query"); pq != jc.end() && !pq->is_null())
            cell.per_query = baseline_query_aps(*pq, path, r, d);
        } else if (state == "skipped") {
          cell.state = LeaderboardCell::State::kSkipped;
          cell.skipped_reason = jc.value("reason", std::string());
        } else if (state != "missing") {
          fail("{}: rows[{}].cells[{}]: state '{}' (expected value|missing|skipped)", path, r, d,
               state);
        }
        cell.origin = path;
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

// Labels in the report: a model or dataset may hold anything, so keep each on one line.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

std::string pp(double v) {
  return fmt::format("{:.2f}", v);
}

// A move in percentage points; a move below the printed precision keeps 3 significant digits,
// so that a change the exact rule caught never reads "+0.00".
std::string signed_pp(double v) {
  return std::fabs(v) >= 0.005 ? fmt::format("{:+.2f}", v) : fmt::format("{:+.3g}", v);
}

std::string rule_text(const CheckOptions& o) {
  switch (o.rule) {
    case CheckRule::kExact:
      return "any change fails";
    case CheckRule::kTolerance:
      return fmt::format("a move over {} pp fails", o.tolerance_percent);
    case CheckRule::kSignificant:
      return fmt::format("a significant move fails (sign-flip test, Holm, alpha {})", o.alpha);
    case CheckRule::kWithinInterval:
      return o.tolerance_percent > 0
                 ? fmt::format("a score outside its baseline 95% interval +- {} pp fails",
                               o.tolerance_percent)
                 : "a score outside its baseline 95% interval fails";
  }
  return "";
}

// The label of a move that the rule let pass.
const char* passed_label(CheckRule rule) {
  switch (rule) {
    case CheckRule::kTolerance:
      return "within tolerance";
    case CheckRule::kSignificant:
      return "not significant";
    case CheckRule::kWithinInterval:
      return "inside interval";
    case CheckRule::kExact:
      break;
  }
  return "changed";
}

// Labels in the order the summary counts them.
const char* const kLabelOrder[] = {"changed",         "significant",      "outside interval",
                                   "lost",            "improved",         "within tolerance",
                                   "not significant", "inside interval",  "new score"};

// The p-value of the move of one score: sign flips of the per-query AP differences.
double move_p_value(const LeaderboardCell& before, const LeaderboardCell& after,
                    const std::string& model, const std::string& dataset,
                    const LeaderboardBaseline& baseline, const CheckOptions& options) {
  const std::string what = fmt::format("'{}' on '{}'", one_line(model), one_line(dataset));
  if (!before.per_query)
    fail("{}: no per-query data for {}; --significant-only needs a JSON baseline written by "
         "`leaderboard --format json` from records of schema repbench.record/2",
         baseline.origin, what);
  if (!after.per_query)
    fail("{}: no per-query data for {}; --significant-only needs records of schema "
         "repbench.record/2",
         after.origin, what);
  if (before.per_query->queries_sha256 != after.per_query->queries_sha256)
    fail("{} and {}: {} was scored on different queries or ground truth (queries_sha256 differ)",
         baseline.origin, after.origin, what);
  metrics::PairedOptions paired = options.paired;
  paired.resamples = 0;  // only the p-value is needed
  try {
    return metrics::paired_compare(after.per_query->ap, before.per_query->ap, paired).p_value;
  } catch (const Error& e) {
    fail("{} and {}: {}: {}", baseline.origin, after.origin, what, e.what());
  }
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
  return std::any_of(changes.begin(), changes.end(), [](const CellChange& c) { return c.fails; });
}

CheckResult check_leaderboard(const LeaderboardBaseline& baseline, const Leaderboard& current,
                              const CheckOptions& options) {
  if (!(options.tolerance_percent >= 0.0) || !std::isfinite(options.tolerance_percent))
    fail("--tolerance must be a finite number >= 0 (percentage points), got {}",
         options.tolerance_percent);
  if (!(options.alpha > 0 && options.alpha < 1))
    fail("--alpha must be in (0, 1), got {}", options.alpha);
  const bool significant = options.rule == CheckRule::kSignificant;
  if (significant && baseline.resolution_percent > 0)
    fail("{}: a CSV baseline has no per-query data; --significant-only needs a JSON baseline "
         "written by `leaderboard --format json` from records of schema repbench.record/2",
         baseline.origin);
  CheckResult result;
  result.options = options;
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

  // The cells both sides have, in baseline order; under kSignificant, each one's p-value, then
  // Holm across all of them (the scores checked).
  struct Pair {
    const LeaderboardRow* brow;
    const LeaderboardCell *before, *after;
    const std::string* dataset;
  };
  std::vector<Pair> pairs;
  for (const auto& brow : base.rows) {
    auto r = row_of.find(brow.model);
    if (r == row_of.end()) continue;
    const LeaderboardRow& crow = current.rows[r->second];
    for (size_t d = 0; d < base.datasets.size(); ++d) {
      auto c = column_of.find(base.datasets[d]);
      if (c == column_of.end()) continue;
      pairs.push_back({&brow, &brow.cells[d], &crow.cells[c->second], &base.datasets[d]});
    }
  }
  auto both_values = [](const Pair& p) {
    return p.before->state == LeaderboardCell::State::kValue &&
           p.after->state == LeaderboardCell::State::kValue;
  };
  std::vector<double> p_values, p_holm;
  if (significant) {
    for (const Pair& p : pairs)
      if (both_values(p))
        p_values.push_back(
            move_p_value(*p.before, *p.after, p.brow->model, *p.dataset, baseline, options));
    p_holm = metrics::holm_adjust(p_values);
  }

  size_t tested = 0;
  for (const Pair& p : pairs) {
    const bool had = p.before->state == LeaderboardCell::State::kValue;
    const bool has = p.after->state == LeaderboardCell::State::kValue;
    CellChange change;
    change.model = p.brow->model;
    change.dataset = *p.dataset;
    if (had && !has) {
      change.kind = CellChange::Kind::kLost;
      change.fails = true;
      change.label = "lost";
      change.before = p.before->map_percent;
      change.after_state = cell_state_text(*p.after);
      result.changes.push_back(std::move(change));
      continue;
    }
    if (!had && has) {
      change.kind = CellChange::Kind::kGained;
      change.label = "new score";
      change.after = p.after->map_percent;
      result.changes.push_back(std::move(change));
      continue;
    }
    if (!had) continue;
    change.before = p.before->map_percent;
    change.after = p.after->map_percent;
    double value = change.after;
    if (baseline.resolution_percent > 0)
      value = std::round(value / baseline.resolution_percent) * baseline.resolution_percent;
    const double move = value - change.before;
    change.kind = move < 0 ? CellChange::Kind::kRegressed : CellChange::Kind::kImproved;
    bool fires = false;
    switch (options.rule) {
      case CheckRule::kExact:
        fires = std::fabs(move) > kUnchangedPercent;
        change.label = "changed";
        break;
      case CheckRule::kTolerance:
        change.allowed_lo = change.before - options.tolerance_percent;
        change.allowed_hi = change.before + options.tolerance_percent;
        fires = value < change.allowed_lo - kUnchangedPercent ||
                value > change.allowed_hi + kUnchangedPercent;
        change.label = "changed";
        break;
      case CheckRule::kSignificant:
        change.p_value = p_values[tested];
        change.p_holm = p_holm[tested];
        fires = change.p_holm < options.alpha;
        change.label = "significant";
        break;
      case CheckRule::kWithinInterval: {
        double lo = change.before, hi = change.before;
        if (p.before->ci95_percent) {
          lo = std::min(lo, p.before->ci95_percent->first);
          hi = std::max(hi, p.before->ci95_percent->second);
        }
        change.allowed_lo = lo - options.tolerance_percent;
        change.allowed_hi = hi + options.tolerance_percent;
        fires = value < change.allowed_lo - kUnchangedPercent ||
                value > change.allowed_hi + kUnchangedPercent;
        change.label = "outside interval";
        break;
      }
    }
    ++tested;
    if (!fires && std::fabs(move) <= kUnchangedPercent) {
      ++result.unchanged;
      continue;
    }
    if (!fires) {
      change.label = passed_label(options.rule);
    } else if (change.kind == CellChange::Kind::kImproved && options.allow_improved) {
      change.label = "improved";
    } else {
      change.fails = true;
    }
    result.changes.push_back(std::move(change));
  }
  return result;
}

std::string render_check(const CheckResult& result, const std::string& baseline_name) {
  std::map<std::string, size_t> by_label;
  for (const auto& c : result.changes) ++by_label[c.label];
  std::vector<std::string> counts;
  auto count = [&](size_t n, const std::string& what) {
    if (n > 0) counts.push_back(fmt::format("{} {}", n, what));
  };
  count(result.missing_rows.size(), "missing row(s)");
  count(result.missing_columns.size(), "missing column(s)");
  for (const char* label : kLabelOrder) count(by_label[label], label);
  count(result.added_rows.size(), "new row(s)");
  count(result.added_columns.size(), "new column(s)");
  count(static_cast<size_t>(result.unchanged), "unchanged");

  std::string out = fmt::format(
      "leaderboard check against {}: {} ({}; rule: {})\n", one_line(baseline_name),
      result.failed() ? "FAILED" : "OK",
      counts.empty() ? std::string("nothing to compare") : fmt::format("{}", fmt::join(counts, ", ")),
      rule_text(result.options));
  // Failures first, then what passes; one line each, tagged with the rule's label.
  auto line = [&](bool fails, const std::string& label, const std::string& text) {
    out += fmt::format("  {:<22} {}\n", (fails ? "FAIL " : "ok   ") + label, text);
  };
  for (const auto& m : result.missing_rows) line(true, "missing row", one_line(m));
  for (const auto& m : result.missing_columns) line(true, "missing column", one_line(m));
  for (const bool failing : {true, false}) {
    for (const auto& c : result.changes) {
      if (c.fails != failing) continue;
      const std::string where = one_line(c.model) + " | " + one_line(c.dataset);
      std::string text;
      if (c.kind == CellChange::Kind::kLost) {
        text = fmt::format("{}: {} -> {}", where, pp(c.before), one_line(c.after_state));
      } else if (c.kind == CellChange::Kind::kGained) {
        text = fmt::format("{}: - -> {}", where, pp(c.after));
      } else {
        text = fmt::format("{}: {} -> {} ({} pp, {}", where, pp(c.before), pp(c.after),
                           signed_pp(c.after - c.before),
                           c.kind == CellChange::Kind::kImproved ? "up" : "down");
        switch (result.options.rule) {
          case CheckRule::kTolerance:
          case CheckRule::kWithinInterval:
            text += fmt::format("; allowed {} .. {}", pp(c.allowed_lo), pp(c.allowed_hi));
            break;
          case CheckRule::kSignificant:
            text += fmt::format("; p {:.3g}, Holm {:.3g}", c.p_value, c.p_holm);
            break;
          case CheckRule::kExact:
            break;
        }
        text += ")";
      }
      line(c.fails, c.label, text);
    }
  }
  for (const auto& m : result.added_rows) line(false, "new row", one_line(m));
  for (const auto& m : result.added_columns) line(false, "new column", one_line(m));
  return out;
}

std::string render_check_json(const CheckResult& result, const std::string& baseline_name) {
  static const char* const kRuleNames[] = {"exact", "tolerance", "significant", "within-interval"};
  json counts = json::object();
  counts["missing row"] = result.missing_rows.size();
  counts["missing column"] = result.missing_columns.size();
  for (const char* label : kLabelOrder) counts[label] = 0;
  for (const auto& c : result.changes) counts[c.label] = counts[c.label].get<int>() + 1;
  counts["new row"] = result.added_rows.size();
  counts["new column"] = result.added_columns.size();
  counts["unchanged"] = result.unchanged;
  json items = json::array();
  auto named = [&](const std::vector<std::string>& names, const char* label, bool fails) {
    for (const auto& n : names) items.push_back({{"label", label}, {"fails", fails}, {"name", n}});
  };
  named(result.missing_rows, "missing row", true);
  named(result.missing_columns, "missing column", true);
  for (const auto& c : result.changes) {
    json item = {{"label", c.label}, {"fails", c.fails}, {"model", c.model}, {"dataset", c.dataset}};
    if (c.kind != CellChange::Kind::kGained) item["before"] = c.before;
    if (c.kind == CellChange::Kind::kLost) {
      item["after_state"] = c.after_state;
    } else {
      item["after"] = c.after;
    }
    if (c.kind == CellChange::Kind::kRegressed || c.kind == CellChange::Kind::kImproved) {
      item["direction"] = c.kind == CellChange::Kind::kImproved ? "up" : "down";
      if (result.options.rule == CheckRule::kSignificant) {
        item["p_value"] = c.p_value;
        item["p_holm"] = c.p_holm;
      } else if (result.options.rule != CheckRule::kExact) {
        item["allowed"] = {c.allowed_lo, c.allowed_hi};
      }
    }
    items.push_back(std::move(item));
  }
  named(result.added_rows, "new row", false);
  named(result.added_columns, "new column", false);
  json out = {{"schema", "repbench.leaderboard-check/1"},
              {"baseline", baseline_name},
              {"rule", kRuleNames[static_cast<int>(result.options.rule)]},
              {"rule_text", rule_text(result.options)},
              {"failed", result.failed()},
              {"counts", std::move(counts)},
              {"items", std::move(items)}};
  if (result.options.rule == CheckRule::kSignificant) out["alpha"] = result.options.alpha;
  if (result.options.rule == CheckRule::kTolerance ||
      result.options.rule == CheckRule::kWithinInterval)
    out["tolerance"] = result.options.tolerance_percent;
  return out.dump(2) + "\n";
}

}  // namespace repbench::report
