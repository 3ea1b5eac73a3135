#include "metrics/descriptor_scores.h"

#include <algorithm>

#include "core/error.h"
#include "metrics/inner_product.h"
#include "metrics/split_product.h"
#include "metrics/symmetric_scores.h"

namespace repbench::metrics {

std::unique_ptr<ScoreSource> descriptor_scores(const FloatView& q, const FloatView& db,
                                               bool split_product, ScoreUse use, int threads) {
  if (split_product) {
    REPBENCH_ASSERT(q.shape.size() == 3 && db.shape.size() == 3);
    return std::make_unique<SplitProductScores>(q.data, q.rows(), db.data,
                                                db.rows(), db.shape[1], db.shape[2]);
  }
  // Cheapest test first: the values are compared only when the SYRK path could be taken.
  if (use == ScoreUse::kEveryRow && SymmetricInnerProductScores::fits(q.rows()) &&
      q.shape == db.shape &&
      (q.data == db.data ||
       std::equal(q.data, q.data + q.rows() * q.row_size(), db.data)))
    return std::make_unique<SymmetricInnerProductScores>(q.data, q.rows(), q.row_size(),
                                                         threads);
  return std::make_unique<InnerProductScores>(q.data, q.rows(), db.data, db.rows(),
                                              db.row_size());
}

}  // namespace repbench::metrics
