// mAP, mP@k and Recall@K of a whole query set, computed block by block from a ScoreSource.
//
// The protocol (junk, empty queries, AP kinds, the mP@k quirk) is stated in metrics/ap.h; the
// ranking's tie rule in metrics/ranking.h. evaluate() never sorts a row: it computes a
// [block x nb] block of scores, finds the positions of each query's ok and junk items by
// counting (positions_in_ranking), and scores them. Memory is O(block x nb) whatever nq.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metrics/ap.h"
#include "metrics/parallel.h"
#include "metrics/score_source.h"

namespace repbench::metrics {

struct EvalOptions {
  ApKind ap_kind = ApKind::kTrapezoid;  // AP definition (see ap.h)
  std::vector<int> ks = {1, 5, 10};     // precision@k cut-offs (revisitop mP@k), each >= 1
  std::vector<int> recall_ks = {};      // Recall@K cut-offs (e.g. 1, 2, 4, 8 for CUB), each >= 1
  RecallKind recall_kind = RecallKind::kHit;  // what Recall@K counts (see ap.h)
  // A query with no positive: excluded from the Recall@K means (false), or a miss that scores 0
  // and counts in them (true; deep metric learning's Recall@K over every query).
  bool recall_empty_is_miss = false;
  bool mrr = false;                     // report DCR's MRR (see EvalResult::mrr)
  int bootstrap_samples = 1000;         // resamples for the mAP interval; 0 = no interval
  uint64_t seed = 0;                    // seed of the bootstrap
  double ci_level = 0.95;               // coverage of the mAP interval
  int threads = 0;                      // worker threads; 0 = all cores
  int64_t block_queries = 0;            // queries per score block; 0 = automatic
  BlasThreading blas_threading = BlasThreading::kPerThread;  // see parallel.h
  // Also keep each query's best top_k db indices (EvalResult::top_ids), found in the same score
  // blocks by metrics/topk's scan; 0 = none.
  int64_t top_k = 0;
  // Called on the calling thread before each block of scores it works on and between its rows
  // (never on another thread, never concurrently); whatever it throws stops the evaluation (the blocks under way
  // finish, no new one starts) and is rethrown by evaluate(). The Python module raises
  // KeyboardInterrupt through it on Ctrl-C. Unset = none.
  std::function<void()> interrupt_check;

  // Throws Error ("evaluate: expected ...") when a value is out of range; evaluate() and
  // evaluate_ranking() call it first.
  void Check() const;
};

// Sets the fields of `opt` that a metric definition decides (ap_kind, ks, recall_ks, recall_kind,
// recall_empty_is_miss, mrr); leaves bootstrap, threads and the rest as they are. `eval` and
// `run` score a set under its datasets::MetricSpec through this one function.
void apply_metric(const MetricScoring& metric, EvalOptions& opt);

struct EvalResult {
  std::vector<double> ap;                           // [nq]; NaN for a query with empty ok
  std::vector<std::vector<double>> precision_at_k;  // [nq][ks.size()]; NaN rows for empty ok
  std::vector<std::vector<double>> recall_at_k;     // [nq][recall_ks.size()]; NaN rows for
                                                    // empty ok, 0 when recall_empty_is_miss
  std::vector<double> reciprocal_rank;              // [nq]; NaN for empty ok
  double map = 0;                                   // mean AP over non-empty queries
  std::vector<double> mp_at_k;                      // [ks.size()], mean over non-empty queries
  std::vector<double> mrecall_at_k;                 // [recall_ks.size()], same (over all
                                                    // queries when recall_empty_is_miss)
  double mrr = 0;  // DCR: sum of reciprocal ranks of non-empty queries / nq (ALL queries)
  int64_t queries_scored = 0, queries_empty = 0;    // non-empty / empty ok; sum = nq
  double map_ci_low = 0, map_ci_high = 0;           // bootstrap interval of map (NaN if none)
  // With EvalOptions::top_k > 0: k = min(top_k, nb) and top_ids = [nq x k] row-major, row q = the
  // db indices of query q's best k scores, best first, under the tie rule of ranking.h (the
  // first k entries of the full ranking, junk included); -1 where the row has fewer than k
  // non-NaN scores. Filled for every query, including those with empty ok.
  int64_t top_k = 0;
  std::vector<int64_t> top_ids;
};
// With no non-empty query, map, mp_at_k and mrecall_at_k are NaN.

// Scores every query of `scores`. `ok` and `junk` are [nq] lists of db indices in [0, nb) (any
// order; see ap.h for repeated items and items in both lists).
// Throws repbench::Error, before any scoring, if ok.size() or junk.size() != nq, an index is
// outside [0, nb) (the message names the query and the list), or an option is invalid; and
// during scoring if a score needed to place an item is NaN (the message names the query).
EvalResult evaluate(const ScoreSource& scores, const std::vector<std::vector<int64_t>>& ok,
                    const std::vector<std::vector<int64_t>>& junk, const EvalOptions& opt = {});

// The sort-based reference: the same metrics from full rankings, as revisitop's compute_map takes
// them. `ranks` is [nq x nb] row-major, row i = db indices of query i best first (a permutation
// of [0, nb)). As in revisitop, ok or junk indices that do not occur in the row (including ones
// outside [0, nb)) count as never ranked. Throws repbench::Error on a size mismatch or a ranks
// entry outside [0, nb).
EvalResult evaluate_ranking(const std::vector<int64_t>& ranks, int64_t nq, int64_t nb,
                            const std::vector<std::vector<int64_t>>& ok,
                            const std::vector<std::vector<int64_t>>& junk,
                            const EvalOptions& opt = {});

// Mean of the non-NaN values of `values` ([n]), or of values[i] for i in `subset` when given
// (e.g. a GPR1200 subset's query indices, each in [0, n)); NaN when there is none.
// Throws repbench::Error on a subset index outside [0, n).
double mean_ignoring_nan(const std::vector<double>& values,
                         const std::vector<int64_t>* subset = nullptr);

// The mean (ignoring NaN) of values[i] over the members i of each group, in the order the groups
// first occur in `groups` ([n] names, "" = in no group; or empty: no groups), with the member count: e.g. the mAP of
// each GPR1200 subset from the per-query APs. Throws repbench::Error when the sizes differ.
struct GroupMean {
  std::string group;
  double mean = 0;  // NaN when no member has a value
  int64_t members = 0;
};
std::vector<GroupMean> mean_by_group(const std::vector<double>& values,
                                     const std::vector<std::string>& groups);

}  // namespace repbench::metrics
