// The ScoreSource for a pair of descriptor matrices as repbench reads them: split-product for
// token descriptors [n, tokens, dim] when asked, else the inner product of the (flattened) rows.
// One place, so that `eval` and the suite runner score descriptors the same way.
#pragma once

#include <memory>

#include "core/npy.h"
#include "metrics/score_source.h"

namespace repbench::metrics {

// Non-owning views of `q` and `db`, which must outlive the result. With `split_product`, both
// must be 3-D with the same tokens and dim; otherwise rows of equal size are compared.
std::unique_ptr<ScoreSource> descriptor_scores(const FloatArray& q, const FloatArray& db,
                                               bool split_product);

}  // namespace repbench::metrics
