// The metric a set is scored under, as its official evaluator defines it: the AP definition, the
// cut-offs of mP@k and Recall@K, what Recall@K counts, how queries without a positive count, and
// the evaluator it follows. Each registered set declares one (set_registry.cpp); a gnd.json may
// carry one (its "metric" object); `eval` and `run` turn it into metrics::EvalOptions through
// metrics::apply_metric() and write it into every record (options.metric), so a number always says which
// definition produced it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metric_kinds.h"

namespace repbench::datasets {

// Copy-detection sets (disc21, copydays) are scored, besides the per-query mAP, by micro-AP over
// pooled predictions (metrics/micro_ap.h, evaluation/copy_detection.h).
struct CopyDetectionMetric {
  metrics::MicroApKind micro_ap = metrics::MicroApKind::kIsc2021;
  int k = 10;             // predictions per query (the evaluator's knn default)
  bool stem_ids = true;   // ids in the predictions CSV: file stem (DISC21's Q00001), else the
                          // image path without extension (Copydays' blocks share file names)
  std::string source;     // the evaluator it follows
};

// The scoring part (ap, mp_ks, recall_ks, recall, recall_empty_is_miss, mrr) is
// metrics::MetricScoring (core/metric_kinds.h), which metrics::apply_metric turns into EvalOptions.
struct MetricSpec : metrics::MetricScoring {
  std::string name = "revisitop compute_map";  // short name of the definition
  std::string self_match;             // how the query's own image is treated
  std::string queries;                // which queries count in the means
  std::string source;                 // the evaluator (repository, file, function) it follows
  std::string ap_from = "set";        // "set" = the set's own; "override" = --ap / a suite's ap
  std::optional<CopyDetectionMetric> copy_detection;  // set: µAP is the headline metric

  // The JSON form, in records and gnd.json: {"name", "ap", "mp_ks", "recall_ks", "recall",
  // "recall_empty_queries", "mrr", "self_match", "queries", "source", "ap_from", "summary"}, and "copy_detection":
  // {"micro_ap", "k", "ids", "source"} when set.
  nlohmann::json to_json() const;
  // One line: what the mAP (and Recall@K, MRR) of this definition is, and its source.
  std::string summary() const;
};

// Reads the JSON form; "ap" is required, every other key optional (defaults as above). Throws
// Error "<where>: metric...: ..." on an unknown key, a wrong type or value.
MetricSpec metric_from_json(const nlohmann::json& j, const std::string& where);

// "trapezoid" | "non-interpolated" and back. parse throws Error naming `what` otherwise.
metrics::ApKind parse_ap_kind(const std::string& name, const std::string& what);
const char* ap_kind_name(metrics::ApKind kind);

// `spec` with its AP definition replaced by `ap` (parsed where it enters, parse_ap_kind); nullopt
// keeps the set's own. Marks ap_from = "override" when it changes the AP.
MetricSpec with_ap_override(MetricSpec spec, std::optional<metrics::ApKind> ap);

// The definitions of the registered sets (set_registry.cpp says which set uses which).
MetricSpec revisitop_metric(const std::string& source_note = "");
MetricSpec gpr1200_metric();
MetricSpec dml_recall_metric();
MetricSpec dcr_metric(const std::string& note = "");
MetricSpec disc21_metric();
MetricSpec copydays_metric();

}  // namespace repbench::datasets
