// Average precision and precision@k of one query, from the positions of its items in the ranking.
//
// The protocol is revisitop's compute_map (filipradenovic/revisitop, python/evaluate.py), whose
// docstring notes: "1) ranks starts from 0 [...] 2) The junk results (e.g., the query itself)
// should be declared in the gnd stuct array 3) If there are no positive images for some query,
// that query is excluded from the evaluation". In full, with repbench's additions marked:
//
//   ok   : the query's positive db items ("easy"/"hard" by protocol); n = |ok|.
//   junk : db items that are neither positive nor negative; they are removed from the ranking
//          before scoring (each positive moves up by the number of junk items ranked above it).
//   * A query with empty ok gets AP = NaN and P@k = NaN (Recall@K too) and is excluded from
//     every mean: mAP = sum of AP over non-empty queries / their number.
//   * n = |ok| even when some ok items are absent from the ranking; absent items simply score
//     nothing (they lower the AP). Items listed twice rank once but count twice in n, as
//     np.in1d and len(ok) make them.
//   * kTrapezoid (revisitop compute_ap): with r_j the junk-adjusted 0-based position of the j-th
//     ranked positive (j = 0, 1, ...), AP = sum_j (P0_j + P1_j) / (2 n), where
//     P1_j = (j + 1) / (r_j + 1) is the precision at the hit and P0_j = j / r_j the precision just
//     before it (P0_j = 1 when r_j = 0).
//   * kNonInterpolated (repbench addition; GPR1200's and sklearn-style AP):
//     AP = sum_j (j + 1) / (r_j + 1) / n.
//   * P@k (revisitop's mP@k, quirk kept): with 1-based adjusted ranks R_j = r_j + 1,
//     kq = min(max_j R_j, k) and P@k = #{j : R_j <= kq} / kq. When every positive is ranked
//     within the first k, the precision is taken at the last positive, not at k. When no ok item
//     is ranked at all (only possible with absent items), P@k = 0 (revisitop raises).
//   * Recall@K, kHit (the deep-metric-learning Recall@K reported for CUB-200): 1 when some
//     positive has adjusted 1-based rank <= K, else 0.
//   * Recall@K, kFraction (DCR's compute_map, somepago/DCR utils_ret.py): the share of the n
//     positives whose adjusted 1-based rank is <= K.
//   * Reciprocal rank (DCR's MRR term): 1 / (1 + the raw 0-based position of the first ranked
//     positive), taken BEFORE junk removal as DCR does; 0 when no ok item is ranked.
//   * A db item in both ok and junk counts as positive, and as junk for the positives below it
//     (the revisitop two-pointer walk with a strict "junk position < positive position").
#pragma once

#include <cstdint>
#include <vector>

#include "core/metric_kinds.h"  // RecallKind, ApKind

namespace repbench::metrics {

// The scores of one query (all NaN for a query with empty ok).
struct QueryMetrics {
  double ap = 0;
  std::vector<double> precision_at_k;  // [ks.size()], revisitop's P@k for each k in ks
  std::vector<double> recall_at_k;     // [recall_ks.size()], see RecallKind
  double reciprocal_rank = 0;          // 1 / (1 + raw position of the first positive)
};

// Scores one query. `ok_positions` are the 0-based positions in the full ranking of the ok items
// that were ranked (any order, size <= n_ok); `junk_positions` those of the ranked junk items;
// `n_ok` = |ok|, including ok items absent from the ranking. `ks` and `recall_ks` must be >= 1.
// Throws repbench::Error on a negative position, more distinct ok positions than n_ok, or a
// k < 1.
QueryMetrics score_query(std::vector<int64_t> ok_positions, std::vector<int64_t> junk_positions,
                         int64_t n_ok, ApKind kind, const std::vector<int>& ks,
                         const std::vector<int>& recall_ks = {},
                         RecallKind recall_kind = RecallKind::kHit);

}  // namespace repbench::metrics
