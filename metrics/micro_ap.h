// Micro average precision (µAP) of copy-detection predictions, as the Image Similarity Challenge
// 2021 scores them (facebookresearch/isc2021 isc/metrics.py evaluate(); docs/PROTOCOLS.md §12).
//
// Predictions of every query are pooled and sorted by score, highest first; equal scores put the
// incorrect predictions before the correct ones (the worst order, so that constant scores gain
// nothing). Precision and recall are taken after each prediction, recall over the number of
// ground-truth pairs (so a pair that no prediction names lowers the µAP, and a prediction for a
// query without a ground-truth pair is simply incorrect).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/metric_kinds.h"  // MicroApKind

namespace repbench::metrics {

struct Prediction {
  int64_t query = 0;  // query index
  int64_t ref = 0;    // reference (database) index
  float score = 0;    // higher = more likely a copy
};

struct MicroApResult {
  double micro_ap = 0;
  // isc2021 find_operating_point(precision, recall, threshold, 0.9): the highest recall among the
  // points whose precision is at least 0.9, and the score there. When no point reaches precision
  // 0.9, reaches_p90 is false, recall_at_p90 is 0 (as SSCD reports it) and the threshold NaN.
  bool reaches_p90 = false;
  double recall_at_p90 = 0;
  double threshold_at_p90 = 0;
  // isc2021 find_tp_ranks(): per ground-truth pair, the rank of its prediction among its query's
  // predictions (the number of that query's predictions scoring at least as high, minus one), or
  // "not found"; recall at rank 1 / 10 = share of ground-truth pairs with rank 0 / rank < 10.
  double recall_at_rank1 = 0;
  double recall_at_rank10 = 0;
  int64_t predictions = 0;         // predictions scored
  int64_t correct = 0;             // predictions that are ground-truth pairs
  int64_t ground_truth_pairs = 0;  // the recall denominator
};

// Scores `predictions` against `ground_truth` ((query, ref) pairs; its size is the recall
// denominator, as isc2021 takes len(gt_matches)). Throws repbench::Error when two predictions name
// the same (query, ref) pair (isc2021 check_duplicates; the message names the pair by index), or
// when the ground truth is empty (the recall would be undefined), or a score is NaN.
MicroApResult micro_ap(const std::vector<Prediction>& predictions,
                       const std::vector<std::pair<int64_t, int64_t>>& ground_truth,
                       MicroApKind kind = MicroApKind::kIsc2021);

}  // namespace repbench::metrics
