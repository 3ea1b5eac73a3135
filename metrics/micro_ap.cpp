#include "metrics/micro_ap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace repbench::metrics {

namespace {

struct PairHash {
  size_t operator()(const std::pair<int64_t, int64_t>& p) const {
    return std::hash<int64_t>()(p.first * 1000003 ^ p.second);
  }
};

}  // namespace

MicroApResult micro_ap(const std::vector<Prediction>& predictions,
                       const std::vector<std::pair<int64_t, int64_t>>& ground_truth,
                       MicroApKind kind) {
  if (ground_truth.empty()) fail("micro-AP: the ground truth has no (query, reference) pair");
  const int64_t n = static_cast<int64_t>(predictions.size());
  std::unordered_set<std::pair<int64_t, int64_t>, PairHash> seen, gt;
  seen.reserve(predictions.size());
  for (const Prediction& p : predictions) {
    if (std::isnan(p.score))
      fail("micro-AP: the prediction (query {}, reference {}) has a NaN score", p.query, p.ref);
    if (!seen.insert({p.query, p.ref}).second)
      fail("micro-AP: predictions contain (query {}, reference {}) twice", p.query, p.ref);
  }
  gt.insert(ground_truth.begin(), ground_truth.end());
  std::vector<char> correct(predictions.size());
  for (int64_t i = 0; i < n; ++i)
    correct[i] = gt.count({predictions[i].query, predictions[i].ref}) ? 1 : 0;

  // Highest score first; equal scores: incorrect before correct (the pessimistic order).
  std::vector<int64_t> order(predictions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (predictions[a].score != predictions[b].score)
      return predictions[a].score > predictions[b].score;
    return correct[a] < correct[b];
  });

  MicroApResult r;
  r.predictions = n;
  r.ground_truth_pairs = static_cast<int64_t>(ground_truth.size());
  const double npos = static_cast<double>(ground_truth.size());
  int64_t ntp = 0;
  double prev_recall = 0;
  double ap = 0;
  double best_recall = -1;
  for (int64_t i = 0; i < n; ++i) {
    const bool tp = correct[order[i]];
    if (tp) {
      if (kind == MicroApKind::kTrapezoid) {
        // Precision just before (1 at the top of the list) and just after this prediction.
        const double p0 = i == 0 ? 1.0 : static_cast<double>(ntp) / static_cast<double>(i);
        const double p1 = static_cast<double>(ntp + 1) / static_cast<double>(i + 1);
        ap += (p0 + p1) / (2.0 * npos);
      }
      ++ntp;
    }
    const double precision = static_cast<double>(ntp) / static_cast<double>(i + 1);
    const double recall = static_cast<double>(ntp) / npos;
    if (kind == MicroApKind::kIsc2021) ap += (recall - prev_recall) * precision;
    prev_recall = recall;
    // find_operating_point: the first point of highest recall among those with precision >= 0.9.
    if (precision >= 0.9 && recall > best_recall) {
      best_recall = recall;
      r.reaches_p90 = true;
      r.recall_at_p90 = recall;
      r.threshold_at_p90 = predictions[order[i]].score;
    }
  }
  if (!r.reaches_p90) r.threshold_at_p90 = std::numeric_limits<double>::quiet_NaN();
  r.micro_ap = ap;
  r.correct = ntp;

  // find_tp_ranks: each query's scores, sorted descending, to count those >= a pair's score.
  std::unordered_map<int64_t, std::vector<float>> by_query;
  std::unordered_map<std::pair<int64_t, int64_t>, float, PairHash> score_of;
  score_of.reserve(predictions.size());
  for (const Prediction& p : predictions) {
    by_query[p.query].push_back(p.score);
    score_of[{p.query, p.ref}] = p.score;
  }
  for (auto& [q, scores] : by_query) std::sort(scores.begin(), scores.end(), std::greater<>());
  int64_t rank1 = 0, rank10 = 0;
  for (const auto& pair : ground_truth) {
    const auto s = score_of.find(pair);
    if (s == score_of.end()) continue;  // not found: counts as neither
    const std::vector<float>& scores = by_query[pair.first];
    const int64_t at_least = std::upper_bound(scores.begin(), scores.end(), s->second,
                                              std::greater<>()) -
                             scores.begin();
    const int64_t rank = at_least - 1;
    rank1 += rank == 0;
    rank10 += rank < 10;
  }
  r.recall_at_rank1 = static_cast<double>(rank1) / npos;
  r.recall_at_rank10 = static_cast<double>(rank10) / npos;
  return r;
}

}  // namespace repbench::metrics
