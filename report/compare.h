// `repbench compare A B`: is model A better than model B on the same queries? Two records of the
// same set and protocol, or two record folders (every set and protocol they share), are compared
// query by query with metrics/paired_test: the difference of mAP, its paired-bootstrap interval,
// the sign-flip permutation p-value, and Holm's correction across the sets compared.
#pragma once

#include <string>
#include <vector>

#include "metrics/paired_test.h"

namespace repbench::report {

// One set (and protocol) compared.
struct ComparedSet {
  std::string dataset;             // the leaderboard label, e.g. "rOxford5k (M)"
  std::string record_a, record_b;  // the two files
  std::string model_a, model_b;
  metrics::PairedResult result;    // a = record_a, b = record_b; difference = mAP(a) - mAP(b)
  double p_holm = 1;               // Holm-adjusted across every set of the comparison
};

struct Comparison {
  std::string a, b;  // the paths as given
  metrics::PairedOptions options;
  std::vector<ComparedSet> sets;  // sorted by dataset label
  // Folders: the sets only one side has (not compared), and skipped records (no scores).
  std::vector<std::string> notes;
};

// Compares two record files or two record folders. Throws Error with one line naming both files
// (or folders) when: the records are of different sets or protocols, their queries_sha256 differ
// (other queries or other ground truth), one lacks per-query data (a repbench.record/1 record, or
// a skipped one), two folders share no set, a folder holds two records of one set (two models),
// or one argument is a file and the other a folder.
Comparison compare_records(const std::string& a, const std::string& b,
                           const metrics::PairedOptions& options);

enum class CompareFormat { kText, kJson, kMarkdown };

// "text", "json", "md"; throws Error listing them.
CompareFormat parse_compare_format(const std::string& name);

// text: a header naming both sides and the test, then one aligned row per set (mAP in percent
// with 2 decimals, difference and interval in percentage points, p-values with 4 significant
// digits) and the notes; md: the same as a pipe table; json (schema "repbench.compare/1", mAP
// and differences as fractions at full precision): {"schema", "a", "b", "options": {resamples,
// permutations, exact_max, seed, level}, "sets": [{"dataset", "record_a", "record_b", "model_a",
// "model_b", "queries", "map_a", "map_b", "difference", "ci95": [lo, hi] | null, "p_value",
// "p_holm", "exact", "permutations"}], "notes"}.
std::string render_comparison(const Comparison& c, CompareFormat format);

}  // namespace repbench::report
