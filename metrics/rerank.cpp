#include "metrics/rerank.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/descriptors.h"
#include "core/error.h"
#include "metrics/inner_product.h"
#include "metrics/parallel.h"
#include "metrics/topk.h"

namespace repbench::metrics {

namespace {

// The neighbour weight: similarity^alpha, 0 for a similarity <= 0 (where the power would be
// negative or undefined) and for the padding of a short list.
inline double weight(float s, double alpha) { return s > 0 ? std::pow(double{s}, alpha) : 0.0; }

// out[i] = normalised(self_weight * base[i] + sum_j w(s_ij) db[ids_ij]) for the rows of `base`.
FloatArray weighted_sums(const FloatArray& base, double self_weight, const FloatArray& db,
                         const TopKResult& nn, double alpha, int threads) {
  const int64_t n = base.rows(), d = base.row_size();
  FloatArray out;
  out.shape = base.shape;
  out.data.assign(base.data.size(), 0.0f);
  parallel_for(n, resolve_threads(threads), [&](int64_t i, int) {
    std::vector<double> acc(static_cast<size_t>(d));
    const float* self = base.row(i);
    for (int64_t c = 0; c < d; ++c) acc[c] = self_weight * self[c];
    for (int64_t r = 0; r < nn.k; ++r) {
      const int64_t j = nn.ids[i * nn.k + r];
      if (j < 0) continue;
      const double w = weight(nn.scores[i * nn.k + r], alpha);
      if (w == 0) continue;
      const float* x = db.row(j);
      for (int64_t c = 0; c < d; ++c) acc[c] += w * x[c];
    }
    float* o = out.data.data() + i * d;
    for (int64_t c = 0; c < d; ++c) o[c] = static_cast<float>(acc[c]);
  });
  l2_normalize_rows(out);
  return out;
}

void check_embeddings(const FloatArray& a, const char* side) {
  if (a.shape.size() != 2)
    fail("--rerank needs embeddings [n, d]; the {} descriptors have {} dimensions", side,
         a.shape.size());
}

}  // namespace

void database_side_augmentation(FloatArray& db, const RerankStep& step, int threads) {
  check_embeddings(db, "database");
  const int64_t d = db.row_size();
  const InnerProductScores s(db.data.data(), db.rows(), db.data.data(), db.rows(), d);
  const TopKResult nn = search_topk(s, step.k, threads);
  db = weighted_sums(db, 0.0, db, nn, step.alpha, threads);
}

void alpha_query_expansion(FloatArray& q, const FloatArray& db, const RerankStep& step,
                           int threads) {
  check_embeddings(q, "query");
  check_embeddings(db, "database");
  if (q.row_size() != db.row_size())
    fail("--rerank: query rows of size {} do not match database rows of size {}", q.row_size(),
         db.row_size());
  const InnerProductScores s(q.data.data(), q.rows(), db.data.data(), db.rows(), q.row_size());
  const TopKResult nn = search_topk(s, step.k, threads);
  q = weighted_sums(q, 1.0, db, nn, step.alpha, threads);
}

void apply_rerank(const RerankSpec& spec, FloatArray& q, FloatArray& db, int threads) {
  if (spec.dba) database_side_augmentation(db, *spec.dba, threads);
  if (spec.aqe) alpha_query_expansion(q, db, *spec.aqe, threads);
}

}  // namespace repbench::metrics
