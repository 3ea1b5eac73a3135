// `repbench eval` and `repbench search` once the descriptors are in memory: the checks of their
// options, the set and its protocols, the scores (evaluation/scoring.h: shapes, post-processing,
// normalisation, re-ranking), evaluate_set() per protocol and the record header; and the exact
// top-k search. The verbs read the descriptors from .npy files and print what they found; the
// Python module (python/) passes its callers' arrays, which are scored where they lie unless a
// step must change them. One path, so that both give the same numbers and the same records.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/npy.h"
#include "datasets/metric_spec.h"
#include "datasets/retrieval_set.h"
#include "evaluation/copy_detection.h"
#include "evaluation/evaluate_set.h"
#include "evaluation/scoring.h"
#include "metrics/precision.h"
#include "metrics/rerank.h"
#include "metrics/topk.h"
#include "postprocess/postprocess.h"
#include "records/eval_record.h"

namespace repbench::evaluation {

// A file's inputs entry: {"path", "sha256"}.
nlohmann::json file_input(const std::string& path);
// An in-memory array's inputs entry: {"array": DESCRIPTION, "sha256": of its `bytes` bytes}.
nlohmann::json array_input(const void* data, size_t bytes, const std::string& description);

// What `repbench eval` is asked.
struct DescriptorEvalRequest {
  std::string set, gnd, root;
  std::string protocol;  // "" = the set's default, "all" = every protocol of the set
  std::string model, category = "other";
  std::optional<metrics::ApKind> ap;  // nullopt = the set's own AP definition
  Similarity similarity = Similarity::kAuto;
  bool l2_normalize = false, no_query_crop = false;
  postprocess::Spec postprocess;
  std::string rerank;    // metrics::parse_rerank spec; "" = none
  int bootstrap = 1000;
  uint64_t seed = 0;
  int threads = 0;
  CopyDetectionOptions copy_detection;  // disc21, copydays
  std::function<void()> interrupt_check;       // metrics::EvalOptions::interrupt_check
};

// The set and its protocols, read before the descriptors.
struct EvalSetup {
  std::vector<std::string> protocols;
  datasets::RetrievalSet first;  // under protocols.front()
  datasets::MetricSpec metric;   // the set's own, with the AP override
  metrics::RerankSpec rerank;
  std::chrono::steady_clock::time_point start;  // the record's load_seconds count from here

  DescriptorExpectation queries() const;
  DescriptorExpectation database() const;
};

// Checks the request's options (before any file is read), then loads the set. Throws Error.
EvalSetup setup_evaluation(const DescriptorEvalRequest& r);

struct ProtocolEvaluation {
  datasets::RetrievalSet set;
  SetEvaluation evaluation;
};

struct DescriptorEvaluation {
  PreparedPair pair;
  records::RecordHeader header;  // model, similarity, inputs, options, seed, timings
  std::vector<ProtocolEvaluation> protocols;

  // Writes protocols[i]'s record (with its per-query results and, for copy detection, its
  // predictions CSVs) to `path`, as `repbench eval --out` does.
  void write_record(size_t i, const std::string& path) const;
};

// Evaluates q against db on every protocol of `setup`. Throws Error as `repbench eval` does, or
// what interrupt_check throws.
DescriptorEvaluation evaluate_descriptors(const DescriptorEvalRequest& r, const EvalSetup& setup,
                                          Descriptors q, Descriptors db);

// `repbench search`: the k best database items of every query, best first. The search itself is
// scan::search_descriptors (scan/search_descriptors.h): it runs exact_search, which scan owns.
struct SearchRequest {
  PairOptions pair;
  int64_t k = 10;
  metrics::Precision precision = metrics::Precision::kAuto;  // of the candidate pass

  void Check() const;  // k >= 1; before any file is read
};
struct SearchResult {
  PreparedPair pair;
  metrics::TopKResult topk;
  double seconds = 0;
  nlohmann::json precision;  // scan::precision_record(): asked, ran, candidates rescored
};

}  // namespace repbench::evaluation
