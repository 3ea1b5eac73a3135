#include "metrics/predictions.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "metrics/topk.h"

namespace repbench::metrics {

namespace {

// The rows `rows` of another ScoreSource, as a source of their own (for the queries whose top-k
// must grow). Each row is computed by the base on its own (a 1 x bn block).
class RowSubset : public ScoreSource {
 public:
  RowSubset(const ScoreSource& base, const std::vector<int64_t>& rows) : base_(base), rows_(rows) {}
  int64_t nq() const override { return static_cast<int64_t>(rows_.size()); }
  int64_t nb() const override { return base_.nb(); }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override {
    for (int64_t i = 0; i < qn; ++i) base_.compute(rows_[q0 + i], 1, b0, bn, out + i * ld, ld);
  }
  double flops_per_score() const override { return base_.flops_per_score(); }

 private:
  const ScoreSource& base_;
  const std::vector<int64_t>& rows_;
};

void append_row(const TopKResult& t, int64_t row, int64_t query, std::vector<Prediction>& out) {
  for (int64_t j = 0; j < t.k; ++j) {
    const int64_t id = t.ids[row * t.k + j];
    if (id >= 0) out.push_back({query, id, t.scores[row * t.k + j]});
  }
}

// Better pair first: higher score, then lower query, then lower reference.
bool better(const Prediction& a, const Prediction& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.query != b.query) return a.query < b.query;
  return a.ref < b.ref;
}

}  // namespace

std::vector<Prediction> knn_predictions(const ScoreSource& scores, int64_t k, int threads) {
  if (k < 1) fail("copy-detection predictions: k = {} must be at least 1", k);
  const TopKResult t = search_topk(scores, std::min<int64_t>(k, std::max<int64_t>(scores.nb(), 1)),
                                   threads);
  std::vector<Prediction> out;
  out.reserve(static_cast<size_t>(t.nq * t.k));
  for (int64_t q = 0; q < t.nq; ++q) append_row(t, q, q, out);
  return out;
}

std::vector<Prediction> knn_predictions_from(const ScoreSource& scores,
                                             const std::vector<int64_t>& top_ids, int64_t top_k,
                                             int64_t k) {
  if (k < 1 || k > top_k)
    fail("copy-detection predictions: k = {} must be in [1, {}] to reuse a top-{} list", k,
         top_k, top_k);
  const int64_t nq = scores.nq();
  if (static_cast<int64_t>(top_ids.size()) != nq * top_k)
    fail("copy-detection predictions: a top list of {} ids for {} queries x {}", top_ids.size(),
         nq, top_k);
  std::vector<Prediction> out;
  out.reserve(static_cast<size_t>(nq * k));
  for (int64_t q = 0; q < nq; ++q)
    for (int64_t j = 0; j < k; ++j) {
      const int64_t id = top_ids[q * top_k + j];
      if (id < 0) continue;
      float s = 0;
      scores.compute(q, 1, id, 1, &s, 1);
      out.push_back({q, id, s});
    }
  return out;
}

std::vector<Prediction> global_predictions(const ScoreSource& scores, int64_t max_results,
                                           int threads) {
  if (max_results < 1) fail("copy-detection predictions: --max-results {} must be at least 1",
                            max_results);
  const int64_t nq = scores.nq(), nb = scores.nb();
  if (nq == 0 || nb == 0) return {};
  // Start with twice the even share per query: most queries never need more.
  int64_t k = std::min<int64_t>(nb, std::max<int64_t>(1, 2 * ((max_results + nq - 1) / nq)));
  TopKResult t = search_topk(scores, k, threads);
  std::vector<std::vector<Prediction>> lists(static_cast<size_t>(nq));
  for (int64_t q = 0; q < nq; ++q) append_row(t, q, q, lists[q]);
  std::vector<int64_t> pending;  // queries whose list is full (their k-th score may still count)
  for (int64_t q = 0; q < nq; ++q)
    if (k < nb && static_cast<int64_t>(lists[q].size()) == k) pending.push_back(q);
  while (true) {
    // The global cut over what is known: the max_results-th best score.
    std::vector<Prediction> all;
    for (const auto& l : lists) all.insert(all.end(), l.begin(), l.end());
    if (static_cast<int64_t>(all.size()) > max_results) {
      std::nth_element(all.begin(), all.begin() + (max_results - 1), all.end(), better);
      all.resize(static_cast<size_t>(max_results));
    }
    const float cut = static_cast<int64_t>(all.size()) < max_results
                          ? -std::numeric_limits<float>::infinity()
                          : std::min_element(all.begin(), all.end(), [](const auto& a,
                                                                       const auto& b) {
                              return a.score < b.score;
                            })->score;
    // A full list whose last score reaches the cut may hide more pairs at or above it.
    std::vector<int64_t> grow;
    for (int64_t q : pending)
      if (lists[q].back().score >= cut) grow.push_back(q);
    if (grow.empty()) {
      std::sort(all.begin(), all.end(), [](const Prediction& a, const Prediction& b) {
        return a.query != b.query ? a.query < b.query : better(a, b);
      });
      return all;
    }
    k = std::min<int64_t>(nb, 4 * k);
    const RowSubset sub(scores, grow);
    const TopKResult g = search_topk(sub, k, threads);
    pending.clear();
    for (size_t i = 0; i < grow.size(); ++i) {
      const int64_t q = grow[i];
      lists[q].clear();
      append_row(g, static_cast<int64_t>(i), q, lists[q]);
      if (k < nb && static_cast<int64_t>(lists[q].size()) == k) pending.push_back(q);
    }
  }
}

}  // namespace repbench::metrics
