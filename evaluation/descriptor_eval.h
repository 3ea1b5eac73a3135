// `repbench eval` and `repbench search` once the descriptors are in memory: the checks of their
// options, the set and its protocols, the descriptors' shapes, post-processing, normalisation,
// re-ranking, the scores, evaluate_set() per protocol and the record header; and the exact
// top-k search. The verbs read the descriptors from .npy files and print what they found; the
// Python module (python/) passes its callers' arrays, which are scored where they lie unless a
// step must change them. One path, so that both give the same numbers and the same records.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/npy.h"
#include "datasets/metric_spec.h"
#include "datasets/retrieval_set.h"
#include "evaluation/evaluate_set.h"
#include "metrics/precision.h"
#include "metrics/rerank.h"
#include "metrics/topk.h"
#include "postprocess/postprocess.h"
#include "report/copy_detection.h"
#include "report/eval_record.h"

namespace repbench::evaluation {

// One side of a comparison as the caller hands it over.
struct Descriptors {
  FloatView view;  // what is scored: into `owned`, or into memory the caller keeps alive
  // The array `view` points into when the caller gives it away (the verbs' files); null when
  // the data are the caller's (a Python array): a step that changes the values (normalisation,
  // post-processing, re-ranking) then copies them once, and the caller's data stay as they were.
  std::shared_ptr<FloatArray> owned;
  std::string name;  // in messages: the file's path, or what the caller calls the array
  nlohmann::json input = nlohmann::json::object();  // the record's inputs entry for it

  static Descriptors from_array(FloatArray a, std::string name, nlohmann::json input);
};

// A file's inputs entry: {"path", "sha256"}.
nlohmann::json file_input(const std::string& path);
// An in-memory array's inputs entry: {"array": DESCRIPTION, "sha256": of its `bytes` bytes}.
nlohmann::json array_input(const void* data, size_t bytes, const std::string& description);

// How both sides are compared: the options eval and search share.
struct PairOptions {
  std::string similarity = "auto";  // auto | inner-product | split-product
  bool l2_normalize = false;
  postprocess::Spec postprocess;
  metrics::RerankSpec rerank;       // eval only; empty = none
  int threads = 0;
};

// Both sides ready to be scored.
struct PreparedPair {
  Descriptors q, db;  // as scored (their views into the changed copies, if changed)
  bool split = false;      // scored by split-product
  bool normalized = false; // rows were L2-normalised
  postprocess::Applied postprocess;
  double rerank_seconds = 0;
};

// Throws Error when --similarity names no known similarity.
void check_similarity(const std::string& similarity);

// Checks that the shapes match, then post-processes, normalises and re-ranks as eval does
// (docs: `repbench eval --help`); errors name q.name / db.name. When q and db are the same data
// (a leave-in set's one file or array) and only normalisation changes them, they stay one array.
PreparedPair prepare_pair(Descriptors q, Descriptors db, const PairOptions& o);

// What `repbench eval` is asked.
struct DescriptorEvalRequest {
  std::string set, gnd, root;
  std::string protocol;  // "" = the set's default, "all" = every protocol of the set
  std::string model, category = "other";
  std::string ap;        // "" = the set's own AP definition
  std::string similarity = "auto";
  bool l2_normalize = false, no_query_crop = false;
  postprocess::Spec postprocess;
  std::string rerank;    // metrics::parse_rerank spec; "" = none
  int bootstrap = 1000;
  uint64_t seed = 0;
  int threads = 0;
  report::CopyDetectionOptions copy_detection;  // disc21, copydays
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
  report::RecordHeader header;  // model, similarity, inputs, options, seed, timings
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

  void Check() const;  // k >= 1 and a known similarity; before any file is read
};
struct SearchResult {
  PreparedPair pair;
  metrics::TopKResult topk;
  double seconds = 0;
  nlohmann::json precision;  // scan::precision_record(): asked, ran, candidates rescored
};

}  // namespace repbench::evaluation
