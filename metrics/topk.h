// Exact top-k search fused with the similarity blocks.
//
// Queries and database are both cut into blocks, so memory is O(threads x block_queries x
// block_db + nq x k) whatever nq x nb. Each query keeps its best k so far, sorted, and the k-th
// score as a threshold; a block row is scanned with a vectorised "any score above the threshold"
// test, so the (rare) insertions are the only scalar work. Tie rule as in metrics/ranking.h:
// higher score first, equal scores by ascending db index; the result equals the first k entries
// of full_ranking() (NaN scores are never returned).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "metrics/parallel.h"
#include "metrics/score_source.h"

namespace repbench::metrics {

struct TopKResult {
  int64_t nq = 0, k = 0;
  std::vector<int64_t> ids;   // [nq x k] row-major, best first; -1 where fewer than k items exist
  std::vector<float> scores;  // [nq x k] row-major, matching ids; -inf where ids is -1
};

struct TopKOptions {
  int64_t k = 10;             // results per query, >= 1 (k > nb pads with -1 / -inf)
  int threads = 0;            // worker threads; 0 = all cores
  int64_t block_queries = 0;  // queries per score block; 0 = automatic
  int64_t block_db = 0;       // db items per score block; 0 = automatic
  BlasThreading blas_threading = BlasThreading::kPerThread;  // see parallel.h
};

// The best k entries of one score row ([n], db indices 0 .. n-1) under the same tie rule, best
// first, into best_scores[k] and best_ids[k]; returns how many were filled (fewer than k only
// when the row has fewer than k non-NaN scores; the rest of the arrays is left as it was).
// For callers that already hold a full row (evaluate()): the row is bounded by a sample first
// and only the scores above the bound are ordered; a skewed row falls back to search_topk's scan.
int64_t topk_of_row(const float* scores, int64_t n, int64_t k, float* best_scores,
                    int64_t* best_ids);

// Throws repbench::Error if k < 1 or an option is negative.
TopKResult search_topk(const ScoreSource& s, const TopKOptions& opt);
TopKResult search_topk(const ScoreSource& s, int64_t k, int threads = 0);

// Every database item that could be among a query's top k once its scores are corrected by at
// most half a window: for query q, the items whose score s(q, j) is at least
// max(T_q - window[q], lower[q]), where T_q is the k-th best score of the items scoring at least
// lower[q] (-inf when fewer than k do). A search whose scores are within B_q of exact ones gets
// every item of the exact top k among them with window[q] = 2 B_q (docs/precision.md). window and
// lower hold nq values each, or are null (0 and -inf). The same blocks and threads as
// search_topk; the lists are in no particular order.
struct Candidates {
  int64_t nq = 0;
  std::vector<std::vector<std::pair<float, int64_t>>> lists;  // [nq] of (score, db index)
};
Candidates search_candidates(const ScoreSource& s, const TopKOptions& opt, const float* window,
                             const float* lower = nullptr);

// Merges `part` (the top-k of the same queries against another slice of the database, its ids
// local to the slice) into `into`: ids of `part` are shifted by `id_offset`, and each query keeps
// the best `into.k` of both lists under the tie rule. Searching a database slice by slice and
// merging gives the same result as one search over the whole (used by streamed and split scans).
void merge_topk(TopKResult& into, const TopKResult& part, int64_t id_offset = 0);

}  // namespace repbench::metrics
