// `repbench datasets verify`: checks a set on disk (every image present and decodable, counts as
// the official ones) and keeps a sha256 manifest that later runs compare against.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

struct VerifyProblem {
  std::string path;    // relative to the set's root
  std::string reason;  // "missing", "does not decode", "changed since the manifest", ...
};

struct VerifyReport {
  int64_t images = 0;  // distinct images checked (db and queries)
  int64_t ok = 0;      // present, decodable and unchanged
  std::vector<VerifyProblem> problems;
  std::vector<std::string> count_mismatches;  // e.g. "db images: 4990, expected 4993"
  bool manifest_compared = false;             // an earlier manifest existed and was compared
  bool manifest_written = false;
  bool passed() const { return problems.empty() && count_mismatches.empty(); }
};

struct VerifyOptions {
  std::string manifest;      // sha256sum-format file; compared when it exists, else written
  int64_t expected_db = -1;  // official counts (-1 = not checked)
  int64_t expected_queries = -1;
  bool decode = true;  // decode every image (slower, catches corrupt files)
  int threads = 0;     // 0 = all cores
  std::function<void(int64_t done, int64_t total)> on_progress;  // called from the caller's thread
};

// Verifies every distinct image of `set` (paths under set.root). The manifest is written
// atomically only when no earlier one exists and every image is present and decodes.
VerifyReport verify_set(const RetrievalSet& set, const VerifyOptions& opt);

}  // namespace repbench::datasets
