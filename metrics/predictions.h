// Copy-detection predictions from a ScoreSource, the two ways SSCD's disc_eval.py and isc2021
// make them (docs/PROTOCOLS.md §12): the k best references of every query (knn_match), or the
// `max_results` best (query, reference) pairs of the whole score matrix (isc2021's global cap,
// match_and_make_predictions). Both are exact and run on metrics/topk's fused sgemm scan.
#pragma once

#include <cstdint>
#include <vector>

#include "metrics/micro_ap.h"
#include "metrics/score_source.h"

namespace repbench::metrics {

// The k best references of every query (fewer when nb < k), query by query, best first (ties by
// ascending reference index, as metrics/topk). Throws Error if k < 1.
std::vector<Prediction> knn_predictions(const ScoreSource& scores, int64_t k, int threads = 0);

// The same predictions from a top list already found (e.g. EvalResult::top_ids: [nq x top_k] ids,
// best first, -1 = none, under the same tie rule) with k <= top_k: its first k ids per query, each
// score computed again from `scores` (one 1 x 1 block), so that no second pass over the database
// is needed. Throws Error if k < 1, k > top_k or the list's size is not nq x top_k.
std::vector<Prediction> knn_predictions_from(const ScoreSource& scores,
                                             const std::vector<int64_t>& top_ids, int64_t top_k,
                                             int64_t k);

// The max_results highest-scoring (query, reference) pairs over all queries (all nq x nb pairs
// when there are fewer), ordered by query, then score descending. Equal scores at the cut are
// broken by ascending query, then reference index (isc2021 cuts among them arbitrarily).
// Searched as top-k per query with k grown, query by query, until every query whose list is full
// has its k-th score below the global cut. Throws Error if max_results < 1.
std::vector<Prediction> global_predictions(const ScoreSource& scores, int64_t max_results,
                                           int threads = 0);

}  // namespace repbench::metrics
