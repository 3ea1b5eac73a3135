// Query-side re-ranking of retrieval sets: database-side augmentation (DBA) and alpha query
// expansion (alpha-QE, Radenović, Tolias and Chum, TPAMI 2018). Both replace vectors by a
// similarity-weighted sum of their nearest database neighbours; the neighbours are found with the
// blocked GEMM + top-k search (metrics/inner_product, metrics/topk), so the cost is one sgemm of
// the matching shape plus O(n k d) for the sums. Definitions: docs/PROTOCOLS.md, "Re-ranking".
//
// Grammar of a re-ranking string (`--rerank`, the suite key `rerank`):
//   RERANK := STEP (';' STEP)*          at most one step of each kind
//   STEP   := KIND ':' PARAM ',' PARAM  KIND is dba or aqe; both params, either order
//   PARAM  := 'k=' INT | 'alpha=' REAL  k in [1, 10000], alpha a finite number in [0, 100]
// DBA always runs before alpha-QE, whatever the order written; the canonical spelling (records,
// leaderboards) is "dba:k=K,alpha=A;aqe:k=K,alpha=A" with the steps present.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/npy.h"

namespace repbench::metrics {

struct RerankStep {
  int64_t k = 0;      // neighbours summed
  double alpha = 0;   // weight of a neighbour = similarity^alpha (0 when similarity <= 0)
};

struct RerankSpec {
  std::optional<RerankStep> dba, aqe;
  bool empty() const { return !dba && !aqe; }
  std::string to_string() const;  // canonical spelling, "" when empty
};

// Throws Error quoting the text and saying what was expected.
RerankSpec parse_rerank(const std::string& text);

// DBA: each database row i becomes the L2-normalised sum over its top-k database rows j (by inner
// product, the evaluator's tie rule; row i itself is among them, normally first with similarity
// 1) of w(s_ij) x_j. `db` [nb, d] is L2-normalised; rewritten in place.
void database_side_augmentation(FloatArray& db, const RerankStep& step, int threads = 0);

// alpha-QE: each query row q becomes the L2-normalised q + sum over its top-k database rows j of
// w(s_qj) x_j (the query itself has weight 1 and is not one of the k). `q` [nq, d] and `db`
// [nb, d] are L2-normalised; q is rewritten in place.
void alpha_query_expansion(FloatArray& q, const FloatArray& db, const RerankStep& step,
                           int threads = 0);

// Both, as the spec says (DBA on the database, then alpha-QE of the queries against the
// augmented database). Throws Error for token descriptors ([n, tokens, d]).
void apply_rerank(const RerankSpec& spec, FloatArray& q, FloatArray& db, int threads = 0);

}  // namespace repbench::metrics
