// Query-side score normalisation for copy detection (docs/PROTOCOLS.md §12.3): a query that is
// similar to everything gets its scores lowered by how similar it is to a set of training images
// that are not copies of anything. score'(q, r) = score(q, r) - weight * mean of q's scores to its
// training neighbours at ranks first..last (0-based, best first).
//   SSCD (sscd/disc_eval.py apply_score_norm): spec "WEIGHT[FIRST,LAST]" or "WEIGHT[RANK]", its
//     default 1.0[0,2].
//   isc2021 (scripts/score_normalization.py, reduction "min"): the n-th neighbour's score times a
//     factor, spec "isc2021:n=N[,factor=F]", i.e. FIRST = LAST = N - 1 and WEIGHT = F.
// The neighbours come from metrics/topk's exact sgemm scan of the queries against the training
// descriptors, so the cost is one GEMM of nq x ntrain x d.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metrics/predictions.h"
#include "metrics/score_source.h"

namespace repbench::metrics {

struct ScoreNormSpec {
  std::string form;    // "sscd" | "isc2021"
  std::string text;    // as given
  double weight = 1.0;
  int64_t first = 0, last = 2;  // neighbour ranks averaged, inclusive
};

// Parses a spec (see above). Throws Error "<what> '<text>' ..." on anything else, a negative rank,
// last < first, or a weight that is not finite.
ScoreNormSpec parse_score_norm(const std::string& text, const std::string& what);

// Per query: weight * mean of its scores at ranks first..last in `query_vs_train` (queries x
// training items). Throws Error when the training set has fewer than last + 1 items.
std::vector<float> score_norm_offsets(const ScoreSource& query_vs_train, const ScoreNormSpec& spec,
                                      int threads = 0);

// `base` with offset[q] subtracted from every score of query q (a view: both must outlive it).
class OffsetScores : public ScoreSource {
 public:
  OffsetScores(const ScoreSource& base, const std::vector<float>& offset);
  int64_t nq() const override { return base_.nq(); }
  int64_t nb() const override { return base_.nb(); }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override;
  double flops_per_score() const override { return base_.flops_per_score(); }

 private:
  const ScoreSource& base_;
  const std::vector<float>& offset_;
};

// `predictions` with offset[query] subtracted from each score: the normalised top-k lists, since
// a per-query constant does not change the order within a query.
std::vector<Prediction> offset_predictions(std::vector<Prediction> predictions,
                                           const std::vector<float>& offset);

}  // namespace repbench::metrics
