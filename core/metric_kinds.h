// The kinds of metric a set's definition names (datasets/metric_spec.h) and metrics/ computes
// (metrics/ap.h, metrics/micro_ap.h, metrics/evaluate.h), and the part of a definition that decides
// how queries are scored. Here, below both, because a set carries its definition (datasets/ sits
// below metrics/, which knows no set).
#pragma once

#include <vector>

namespace repbench::metrics {

enum class RecallKind {
  kHit,       // 1 when a positive is within the first K (deep metric learning's Recall@K)
  kFraction,  // share of the positives within the first K (DCR's compute_map recall@k)
};

enum class ApKind {
  kTrapezoid,        // revisitop compute_ap (ROxford/RParis, INSTRE, the DCR/BoB lineage)
  kNonInterpolated,  // mean precision at each positive (GPR1200, sklearn average_precision)
};

enum class MicroApKind {
  // isc2021 average_precision(): sum over the ranked list of (recall increment) x precision.
  kIsc2021,
  // Copydays' "overall uAP" as sscd/datasets/copydays.py score_macro_AP computes it: the
  // trapezoid between the precision before and after each correct prediction, times 1/positives.
  kTrapezoid,
};

// What a metric definition decides about scoring: the fields of metrics::EvalOptions it sets
// (metrics::apply_metric). datasets::MetricSpec is one, with its description.
struct MetricScoring {
  ApKind ap = ApKind::kTrapezoid;
  std::vector<int> mp_ks = {1, 5, 10};  // revisitop-style mP@k cut-offs
  std::vector<int> recall_ks;           // Recall@K cut-offs (none = not reported)
  RecallKind recall = RecallKind::kHit;
  bool recall_empty_is_miss = false;  // a query without positive counts as a Recall@K miss
  bool mrr = false;                   // report DCR's MRR
};

}  // namespace repbench::metrics
