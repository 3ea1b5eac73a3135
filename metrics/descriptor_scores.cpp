#include "metrics/descriptor_scores.h"

#include "core/error.h"
#include "metrics/inner_product.h"
#include "metrics/split_product.h"

namespace repbench::metrics {

std::unique_ptr<ScoreSource> descriptor_scores(const FloatArray& q, const FloatArray& db,
                                               bool split_product) {
  if (split_product) {
    REPBENCH_ASSERT(q.shape.size() == 3 && db.shape.size() == 3);
    return std::make_unique<SplitProductScores>(q.data.data(), q.rows(), db.data.data(),
                                                db.rows(), db.shape[1], db.shape[2]);
  }
  return std::make_unique<InnerProductScores>(q.data.data(), q.rows(), db.data.data(), db.rows(),
                                              db.row_size());
}

}  // namespace repbench::metrics
