// The one evaluation path of a retrieval set: its own metric (the official evaluator's, with an
// optional AP override), evaluate() over the set's scores with per-query top ids, micro-AP and
// predictions for copy-detection sets, and the record built from all of it. `repbench eval`, the
// suite runner behind `run` and the demo call it, so that a set is scored and recorded the same
// way whichever verb ran it; the callers add what only they know (model, inputs, timings of
// extraction or loading) to the record header.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/float_view.h"
#include "core/metric_kinds.h"
#include "core/npy.h"
#include "datasets/retrieval_set.h"
#include "evaluation/copy_detection.h"
#include "metrics/evaluate.h"
#include "metrics/score_source.h"
#include "records/eval_record.h"

namespace repbench::evaluation {

struct SetEvalOptions {
  int bootstrap = 1000;  // resamples of the mAP interval
  uint64_t seed = 0;     // of the bootstrap
  int threads = 0;       // 0 = all cores
  // The AP definition instead of the set's own (nullopt = the set's).
  std::optional<metrics::ApKind> ap;
  CopyDetectionOptions copy_detection;  // disc21, copydays
  std::function<void()> interrupt_check;        // metrics::EvalOptions::interrupt_check
};

// What evaluate_set found, and the record fields it decides.
struct SetEvaluation {
  datasets::RetrievalSet::Lists lists;
  metrics::EvalOptions options;  // as evaluate() ran
  metrics::EvalResult result;
  std::optional<CopyDetectionResult> copy_detection;
  nlohmann::json metrics;        // the record's "metrics" (micro-AP merged for copy detection)
  nlohmann::json options_json;   // ap, metric, tie_rule, bootstrap_samples[, copy_detection]
  nlohmann::json timings;        // eval_seconds[, copy_detection_seconds]
  nlohmann::json inputs = nlohmann::json::object();  // score_norm_train, when normalised
  std::vector<std::string> query_images;
};

// Scores `set` from `scores` (its queries x its database; `queries` are the query descriptors
// they were built from, `split` whether by split-product, both used by copy detection's training
// neighbours). Throws Error on an unknown AP name and as evaluate() does.
SetEvaluation evaluate_set(const datasets::RetrievalSet& set, const metrics::ScoreSource& scores,
                           const FloatView& queries, bool split, const SetEvalOptions& options);

// The record of an evaluation: `header` (model, set, protocol, inputs, options and timings the
// caller knows) with the evaluation's options, timings and inputs added. For a copy-detection
// set the predictions CSVs are written beside `record_path` (atomically) and named in the record.
nlohmann::json make_set_record(records::RecordHeader header, const SetEvaluation& e,
                               const datasets::RetrievalSet& set, const std::string& record_path);

// The per-query results write_eval_record() stores with the record (pointers into `e`).
records::QueryResults query_results(const SetEvaluation& e);

}  // namespace repbench::evaluation
