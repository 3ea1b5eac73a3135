// Published reference files: a paper's leaderboard kept as a checked-in file (references/), so that
// `repbench leaderboard --reference FILE` can place the user's models among the published ones.
//
// Format (JSON, schema "repbench.reference/1"):
//   {"schema": "repbench.reference/1", "citation": "...", "note": "...",
//    "columns": [{"name": "rOxford5k", "datasets": ["roxford5k-dcr (M)"], "kind": "real"}, ...],
//    "rows": [{"category": "CD/IR", "model": "SSCD, ResNet-50", "map": [30.16, ...],
//              "average_rank": 4.2}, ...]}
// `datasets` are the repbench column labels (records::dataset_label) a published column is
// comparable with; kind "synthetic" marks a column comparable only when the set was built from
// the paper's own images, matched only when asked. `map` is in percent, one per column (null =
// not published); `average_rank` is the published one, kept for reference (the leaderboard ranks
// again over the columns both sides have).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace repbench::records {

inline constexpr const char* kReferenceSchema = "repbench.reference/1";

struct ReferenceColumn {
  std::string name;                   // the paper's column name
  std::vector<std::string> datasets;  // repbench labels it is comparable with
  bool synthetic = false;
};

struct ReferenceRow {
  std::string category, model;
  std::vector<std::optional<double>> map_percent;  // one per column
  std::optional<double> average_rank;
};

struct Reference {
  std::string citation, note, origin;
  std::vector<ReferenceColumn> columns;
  std::vector<ReferenceRow> rows;
};

// Parses a reference file's text; throws Error naming `origin` and the field on anything that is
// not the format above (wrong schema, a map row of the wrong length, a value outside [0, 100], an
// empty or repeated model or column, a dataset label claimed by two columns).
Reference parse_reference(const std::string& text, const std::string& origin);
// Reads and parses the file at `path`.
Reference load_reference(const std::string& path);

}  // namespace repbench::records
