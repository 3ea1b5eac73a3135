#include "report/reference_rows.h"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace repbench::report {

using records::Reference;
using records::ReferenceColumn;
using records::ReferenceRow;

std::vector<std::string> add_reference_rows(const Reference& reference,
                                            std::vector<ScoreEntry>& entries,
                                            bool include_synthetic) {
  std::vector<std::string> user_datasets;  // first-seen order
  for (const ScoreEntry& e : entries)
    if (std::find(user_datasets.begin(), user_datasets.end(), e.dataset) == user_datasets.end())
      user_datasets.push_back(e.dataset);

  // Published column -> the user's dataset label it matches (a user with records of two labels
  // of one column would be ranked twice against it: the first label seen wins, the other is
  // left out with the unmatched ones).
  std::vector<std::optional<std::string>> matched(reference.columns.size());
  std::vector<std::string> synthetic_skipped, unpublished;
  std::set<std::string> kept;
  for (size_t c = 0; c < reference.columns.size(); ++c) {
    const ReferenceColumn& col = reference.columns[c];
    for (const std::string& d : user_datasets) {
      if (std::find(col.datasets.begin(), col.datasets.end(), d) == col.datasets.end()) continue;
      if (col.synthetic && !include_synthetic) {
        synthetic_skipped.push_back(d);
        break;
      }
      matched[c] = d;
      kept.insert(d);
      break;
    }
  }
  for (const std::string& d : user_datasets)
    if (!kept.count(d) &&
        std::find(synthetic_skipped.begin(), synthetic_skipped.end(), d) == synthetic_skipped.end())
      unpublished.push_back(d);
  if (kept.empty())
    fail(
        "{}: none of its columns matches a dataset of the records ({}); the real sets are "
        "matched by the lineage protocols' labels, e.g. roxford5k-dcr (M){}",
        reference.origin, fmt::join(user_datasets, ", "),
        synthetic_skipped.empty() ? "" : "; synthetic sets need --reference-synthetic");

  std::vector<ScoreEntry> published;
  for (const ReferenceRow& row : reference.rows)
    for (size_t c = 0; c < reference.columns.size(); ++c) {
      if (!matched[c] || !row.map_percent[c]) continue;
      ScoreEntry e;
      e.model = row.model + kPublishedMark;
      e.category = row.category;
      e.dataset = *matched[c];
      e.map_percent = *row.map_percent[c];
      e.published = true;
      e.origin = fmt::format("{} ({}, {})", reference.origin, row.model, reference.columns[c].name);
      published.push_back(std::move(e));
    }
  // Published rows first: their categories lead, and the user's rows join them.
  std::vector<ScoreEntry> merged = std::move(published);
  for (ScoreEntry& e : entries)
    if (kept.count(e.dataset)) merged.push_back(std::move(e));
  entries = std::move(merged);

  std::vector<std::string> notes;
  notes.push_back(fmt::format(
      "\u2020 published: {} Ranked by mAP over the columns both have; published rows have no "
      "per-query data, so they take no part in the rank intervals or the critical-difference "
      "diagram",
      reference.citation));
  std::string pairs;
  for (size_t c = 0; c < reference.columns.size(); ++c)
    if (matched[c])
      pairs += fmt::format("{}{} = published {}", pairs.empty() ? "" : "; ", *matched[c],
                           reference.columns[c].name);
  notes.push_back("Columns compared: " + pairs);
  if (!synthetic_skipped.empty())
    notes.push_back(fmt::format(
        "Left out: {} (synthetic sets are comparable only when built from the paper's own "
        "images; --reference-synthetic compares them anyway)",
        fmt::join(synthetic_skipped, ", ")));
  if (!unpublished.empty())
    notes.push_back(
        fmt::format("Left out (no published column): {}", fmt::join(unpublished, ", ")));
  return notes;
}

}  // namespace repbench::report
