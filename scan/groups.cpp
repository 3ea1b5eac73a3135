#include "scan/groups.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/natural_sort.h"

namespace repbench::scan {

namespace {

// A name as an error line shows it: control characters escaped (a quoted field may hold a line
// break; the message stays one line), at most 100 characters.
std::string shown(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
    if (out.size() > 100) return out.substr(0, 100) + "...";
  }
  return out;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

struct Record {
  std::vector<std::string> fields;
  int64_t line = 0;
};

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; spaces and tabs
// around a field are dropped, as is the \r of a CRLF line end.
std::vector<Record> split_records(const std::string& text, const std::string& file) {
  std::vector<Record> records;
  const size_t n = text.size();
  size_t i = 0;
  int64_t line = 1;
  while (i < n) {
    Record r;
    r.line = line;
    for (;;) {
      size_t j = i;
      while (j < n && is_blank(text[j])) ++j;
      std::string f;
      if (j < n && text[j] == '"') {
        i = j + 1;
        for (;;) {
          if (i >= n) fail("{}: line {}: a quoted field is not closed", file, r.line);
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              f += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          f += c;
          ++i;
        }
        while (i < n && (is_blank(text[i]) || text[i] == '\r')) ++i;
        if (i < n && text[i] != ',' && text[i] != '\n')
          fail("{}: line {}: text after the closing quote of a field", file, line);
      } else {
        size_t e = j;
        while (e < n && text[e] != ',' && text[e] != '\n') ++e;
        size_t b = j, z = e;
        while (z > b && (is_blank(text[z - 1]) || text[z - 1] == '\r')) --z;
        f = text.substr(b, z - b);
        if (f.find('"') != std::string::npos)
          fail(
              "{}: line {}: a quote inside an unquoted field (quote the whole field and double "
              "the quote)",
              file, line);
        i = e;
      }
      r.fields.push_back(std::move(f));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n) {  // the '\n' that ends the record
        ++i;
        ++line;
      }
      break;
    }
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace

std::vector<GroupEntry> parse_groups_csv(const std::string& text, const std::string& file) {
  const size_t nul = text.find('\0');
  if (nul != std::string::npos)
    fail("{}: line {}: a NUL byte; is this a groups CSV (path,group)?", file,
         1 + std::count(text.begin(), text.begin() + nul, '\n'));
  std::vector<GroupEntry> out;
  std::unordered_map<std::string, int64_t> line_of;
  bool first = true;
  for (Record& r : split_records(text, file)) {
    if (r.fields.size() == 1 && r.fields[0].empty()) continue;  // a blank line
    const bool header =
        first && r.fields.size() == 2 && r.fields[0] == "path" && r.fields[1] == "group";
    first = false;
    if (header) continue;
    if (r.fields.size() != 2)
      fail("{}: line {}: expected 'path,group', found {} field{}", file, r.line, r.fields.size(),
           r.fields.size() == 1 ? "" : "s");
    if (r.fields[0].empty()) fail("{}: line {}: the path is empty", file, r.line);
    if (r.fields[1].empty())
      fail("{}: line {}: the group of '{}' is empty", file, r.line, shown(r.fields[0]));
    const auto [it, fresh] = line_of.emplace(r.fields[0], r.line);
    if (!fresh)
      fail("{}: line {}: '{}' is already on line {}", file, r.line, shown(r.fields[0]), it->second);
    out.push_back({std::move(r.fields[0]), std::move(r.fields[1]), r.line});
  }
  return out;
}

std::vector<GroupEntry> read_groups_csv(const std::string& file) {
  return parse_groups_csv(read_file(file), file);
}

std::vector<std::string> assign_groups(const std::vector<GroupEntry>& entries,
                                       const std::string& file,
                                       const std::function<const std::string&(int64_t)>& row_name,
                                       int64_t rows, const std::vector<std::string>& skipped,
                                       const std::string& what) {
  std::unordered_map<std::string, std::vector<int64_t>> rows_of;
  for (int64_t i = 0; i < rows; ++i) rows_of[row_name(i)].push_back(i);
  const std::unordered_set<std::string> unread(skipped.begin(), skipped.end());
  std::vector<std::string> group(static_cast<size_t>(rows));
  std::vector<char> given(static_cast<size_t>(rows), 0);
  for (const GroupEntry& e : entries) {
    const auto it = rows_of.find(e.path);
    if (it == rows_of.end()) {
      if (unread.count(e.path)) continue;  // listed, could not be read: no row to group
      fail("{}: line {}: '{}' is not a {} of this scan (a path names a row as matches.csv does)",
           file, e.line, shown(e.path), what);
    }
    for (int64_t r : it->second) {
      group[size_t(r)] = e.group;
      given[size_t(r)] = 1;
    }
  }
  const int64_t missing = std::count(given.begin(), given.end(), 0);
  for (int64_t i = 0; i < rows; ++i)
    if (!given[size_t(i)])
      fail("{}: no group for the {} '{}' ({} of {} have none; every one needs a group)", file, what,
           shown(row_name(i)), missing, rows);
  return group;
}

ScanGroups make_scan_groups(const std::vector<std::string>& generated_groups,
                            const std::vector<std::string>& train_groups, bool within,
                            const std::string& generated_file, const std::string& train_file) {
  REPBENCH_ASSERT(!within || (!generated_file.empty() && !train_file.empty()));
  ScanGroups g;
  g.within = within;
  g.generated_file = generated_file;
  g.train_file = train_file;
  std::vector<std::string> names = generated_groups;
  names.insert(names.end(), train_groups.begin(), train_groups.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  natural_sort(names);
  std::unordered_map<std::string, int32_t> id;
  for (size_t i = 0; i < names.size(); ++i) id[names[i]] = int32_t(i);
  g.names = std::move(names);
  for (const auto& s : generated_groups) g.generated.push_back(id.at(s));
  for (const auto& s : train_groups) g.train.push_back(id.at(s));
  if (within) {
    std::vector<char> has_train(g.names.size(), 0);
    for (int32_t t : g.train) has_train[size_t(t)] = 1;
    for (int32_t q : g.generated)
      if (!has_train[size_t(q)])
        fail(
            "{}: unknown group '{}': no training image of {} is in it (--within-group searches "
            "each generation among the training images of its group)",
            generated_file, shown(g.names[size_t(q)]), train_file);
  }
  return g;
}

nlohmann::json groups_record(const ScanGroups& g, const std::vector<float>& generations_top1,
                             const std::vector<int64_t>& baseline_rows,
                             const std::vector<float>& baseline_top1,
                             const std::vector<double>& thresholds) {
  REPBENCH_ASSERT(baseline_rows.size() == baseline_top1.size());
  REPBENCH_ASSERT(!g.has_generated() || g.generated.size() == generations_top1.size());
  const size_t ng = g.names.size(), nt = thresholds.size();
  std::vector<int64_t> gens(ng, 0), train(ng, 0), base(ng, 0);
  // above[group * nt + t]
  std::vector<int64_t> gen_above(ng * nt, 0), base_above(ng * nt, 0);
  std::vector<float> tf;
  // Compared in float, the scores' precision, as count_above() does.
  for (double t : thresholds) tf.push_back(static_cast<float>(t));
  for (size_t i = 0; i < g.generated.size(); ++i) {
    const size_t q = size_t(g.generated[i]);
    ++gens[q];
    for (size_t t = 0; t < nt; ++t) gen_above[q * nt + t] += generations_top1[i] > tf[t];
  }
  for (int32_t x : g.train) ++train[size_t(x)];
  if (g.has_train())
    for (size_t i = 0; i < baseline_rows.size(); ++i) {
      const size_t q = size_t(g.train.at(size_t(baseline_rows[i])));
      ++base[q];
      for (size_t t = 0; t < nt; ++t) base_above[q * nt + t] += baseline_top1[i] > tf[t];
    }
  auto share = [](int64_t part, int64_t whole) {
    return whole == 0 ? nlohmann::json(nullptr) : nlohmann::json(double(part) / whole);
  };
  const nlohmann::json null = nullptr;
  nlohmann::json list = nlohmann::json::array();
  for (size_t q = 0; q < ng; ++q) {
    nlohmann::json above = nlohmann::json::array();
    for (size_t t = 0; t < nt; ++t)
      above.push_back(
          {{"threshold", thresholds[t]},
           {"generations", g.has_generated() ? nlohmann::json(gen_above[q * nt + t]) : null},
           {"fraction", g.has_generated() ? share(gen_above[q * nt + t], gens[q]) : null},
           {"baseline", g.has_train() ? nlohmann::json(base_above[q * nt + t]) : null},
           {"baseline_fraction", g.has_train() ? share(base_above[q * nt + t], base[q]) : null}});
    list.push_back({{"group", g.names[q]},
                    {"generations", g.has_generated() ? nlohmann::json(gens[q]) : null},
                    {"train", g.has_train() ? nlohmann::json(train[q]) : null},
                    {"baseline_sample", g.has_train() ? nlohmann::json(base[q]) : null},
                    {"above", above}});
  }
  return {{"generated_file", g.has_generated() ? nlohmann::json(g.generated_file) : null},
          {"train_file", g.has_train() ? nlohmann::json(g.train_file) : null},
          {"within_group", g.within},
          {"count", int64_t(ng)},
          {"groups", list}};
}

}  // namespace repbench::scan
