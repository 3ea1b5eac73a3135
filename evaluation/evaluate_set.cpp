#include "evaluation/evaluate_set.h"

#include <chrono>

#include "core/elapsed.h"
#include "datasets/metric_spec.h"
#include "metrics/ranking.h"

namespace repbench::evaluation {

namespace {

}  // namespace

SetEvaluation evaluate_set(const datasets::RetrievalSet& set, const metrics::ScoreSource& scores,
                           const FloatView& queries, bool split, const SetEvalOptions& o) {
  SetEvaluation e;
  e.options.bootstrap_samples = o.bootstrap;
  e.options.seed = o.seed;
  e.options.threads = o.threads;
  e.options.interrupt_check = o.interrupt_check;
  // The set's own metric (its official evaluator's), with the AP definition overridden if asked.
  const datasets::MetricSpec metric = datasets::with_ap_override(set.metric, o.ap);
  metrics::apply_metric(metric, e.options);
  e.options.top_k = records::kTopIds;
  e.lists = set.evaluation_lists();
  const auto t0 = std::chrono::steady_clock::now();
  e.result = metrics::evaluate(scores, e.lists.ok, e.lists.junk, e.options);
  e.timings["eval_seconds"] = seconds_since(t0);
  e.metrics = records::eval_metrics_json(e.result, e.options, e.lists.groups);
  e.options_json = {{"ap", datasets::ap_kind_name(metric.ap)},
                    {"metric", metric.to_json()},
                    {"tie_rule", metrics::kTieRule},
                    {"bootstrap_samples", o.bootstrap}};
  // Copy-detection sets: micro-AP over pooled predictions, beside the per-query mAP.
  if (set.metric.copy_detection) {
    const auto t1 = std::chrono::steady_clock::now();
    e.copy_detection = evaluate_copy_detection(scores, queries, split, set,
                                                       o.copy_detection, &e.result);
    e.timings["copy_detection_seconds"] = seconds_since(t1);
    e.metrics.update(e.copy_detection->metrics);
    e.options_json["copy_detection"] = e.copy_detection->options;
    e.inputs.update(e.copy_detection->inputs);
  }
  for (const auto& q : set.queries) e.query_images.push_back(q.image);
  return e;
}

nlohmann::json make_set_record(records::RecordHeader header, const SetEvaluation& e,
                               const datasets::RetrievalSet& set, const std::string& record_path) {
  header.options.update(e.options_json);
  header.timings.update(e.timings);
  header.inputs.update(e.inputs);
  nlohmann::json record = records::make_eval_record(header, e.metrics);
  if (e.copy_detection)
    record["predictions"] = write_predictions_csv(*e.copy_detection, set, record_path);
  return record;
}

records::QueryResults query_results(const SetEvaluation& e) {
  return {&e.result, &e.options, &e.query_images, &e.lists.ok, &e.lists.junk};
}

}  // namespace repbench::evaluation
