#include "scan/matches_csv.h"

#include <fmt/format.h>

#include "core/atomic_file.h"

namespace repbench::scan {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::vector<std::string>& train_paths, const metrics::TopKResult& m) {
  write_matches_csv(
      path, generated_paths, [&](int64_t id) -> const std::string& { return train_paths[id]; }, m);
}

void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::function<const std::string&(int64_t)>& train_path,
                       const metrics::TopKResult& m) {
  std::string csv = "generated,rank,train,score\n";
  for (int64_t i = 0; i < m.nq; ++i)
    for (int64_t r = 0; r < m.k; ++r) {
      const int64_t id = m.ids[i * m.k + r];
      if (id < 0) continue;
      csv += fmt::format("{},{},{},{:.6f}\n", csv_field(generated_paths[i]), r + 1,
                         csv_field(train_path(id)), m.scores[i * m.k + r]);
    }
  write_file_atomic(path, csv);
}

}  // namespace repbench::scan
