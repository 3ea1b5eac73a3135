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
#include "records/per_query.h"
#include "records/record.h"
#include "report/cd_diagram.h"
#include "report/failure_page.h"
#include "report/html_page.h"
#include "report/impl/parse_number.h"

namespace repbench::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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
  if (auto pq = records::read_per_query(record, path))
    e.per_query = QueryAps{pq->ap, pq->queries_sha256};
  return e;
}

// ---------------------------------------------------------------------------------------------
// Ranking

// Values that agree to 1e-6 are one value: a fraction x100 from a record then ties with the same
// number typed into a CSV, and rounding the key keeps "equal" transitive.
long long tie_key(double v) {
  return std::llround(v * 1e6);
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
  const std::vector<std::string> files = records::record_files(files_or_dirs);
  std::vector<ScoreEntry> entries;
  entries.reserve(files.size());
  for (const auto& path : files) {
    entries.push_back(entry_from_record(records::read_record(path), path));
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

void relative_page_links(Leaderboard& board, const std::string& dir) {
  const fs::path base = fs::absolute(dir.empty() ? fs::path(".") : fs::path(dir));
  for (auto& row : board.rows)
    for (auto& cell : row.cells)
      if (!cell.page.empty())
        cell.page = fs::absolute(cell.page).lexically_normal().lexically_relative(
            base.lexically_normal()).generic_string();
}


}  // namespace repbench::report
