// Descriptor matrices read from .npy files, checked against what the caller expects.
// Layout: row-major float32, row i = item i in the set's own order (x[i * dim + j]); token
// descriptors are [n, tokens, dim] and flattened per row.
#pragma once

#include <cstdint>
#include <string>

#include "core/float_view.h"
#include "core/npy.h"

namespace repbench {

struct DescriptorExpectation {
  int64_t rows = -1;      // required row count, -1 = any
  std::string row_order;  // what the rows must follow, for the message (e.g. "qimlist of roxford5k")
  bool allow_tokens = false;  // accept 3-D [n, tokens, dim]
};

// Reads `path` and checks: 2-D (or 3-D when allowed), the row count, at least one column, and
// that every value is finite (NaN/Inf names the first bad row). Throws Error naming the file.
FloatArray read_descriptors(const std::string& path, const DescriptorExpectation& expect);

// The same checks of descriptors already in memory (the Python module's arrays); `name` stands
// for the path in the messages.
void check_descriptors(const FloatView& a, const std::string& name,
                       const DescriptorExpectation& expect);

// Throws Error naming both files when inner products of rows of `q` and `db` could overflow
// float32 (the largest row norms' product, which bounds every score, exceeds FLT_MAX): scores
// would be +-inf and ranked silently. Rows of norm 1 (after --l2-normalize) always pass.
void check_scores_finite(const FloatView& q, const std::string& q_name, const FloatView& db,
                         const std::string& db_name);

// Divides each row by its L2 norm (rows of norm 0 are left as they are).
void l2_normalize_rows(FloatArray& a);

}  // namespace repbench
