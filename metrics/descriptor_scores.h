// The ScoreSource for a pair of descriptor matrices as repbench reads them: split-product for
// token descriptors [n, tokens, dim] when asked, else the inner product of the (flattened) rows.
// One place, so that `eval` and the suite runner score descriptors the same way.
#pragma once

#include <memory>

#include "core/float_view.h"
#include "core/npy.h"
#include "metrics/score_source.h"

namespace repbench::metrics {

// How the caller reads the scores: a few rows (search, explain), or every row once (evaluation).
enum class ScoreUse { kSomeRows, kEveryRow };

// Non-owning views of `q` and `db` (FloatArrays convert), whose data must outlive the result. With `split_product`, both
// must be 3-D with the same tokens and dim; otherwise rows of equal size are compared. For every
// row of a leave-in set (`q` and `db` hold the same values) whose n x n scores fit in memory, the
// matrix is computed up front by SYRK (metrics/symmetric_scores.h), half the flops.
std::unique_ptr<ScoreSource> descriptor_scores(const FloatView& q, const FloatView& db,
                                               bool split_product,
                                               ScoreUse use = ScoreUse::kSomeRows,
                                               int threads = 0);

}  // namespace repbench::metrics
