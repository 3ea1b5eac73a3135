// Rankings of a database by score, and where given items land in them without sorting.
//
// Tie rule (the one repbench uses everywhere, full rankings, positions and top-k alike): higher
// score first; equal scores are ordered by ascending database index. The order is therefore
// total and reproducible, and does not depend on the sort algorithm, the block sizes or the
// thread count. NaN scores rank after every number (full_ranking), are never returned by top-k
// search, and are an error when they belong to an item whose position is asked for.
#pragma once

#include <cstdint>
#include <vector>

namespace repbench::metrics {

// The tie rule in words, as records state it.
inline constexpr const char* kTieRule = "equal scores ordered by ascending db index";

// True when database item a (score sa) ranks before item b (score sb) under the tie rule.
// Neither score may be NaN.
inline bool ranks_before(float sa, int64_t a, float sb, int64_t b) {
  return sa > sb || (sa == sb && a < b);
}

// The full ranking of one query: `scores` is [nb] (scores[j] = similarity to db item j); returns
// [nb] db indices, best first. O(nb log nb); the evaluation never needs it (see
// positions_in_ranking), it is the sort-based reference.
std::vector<int64_t> full_ranking(const float* scores, int64_t nb);

// positions_out[t] = the 0-based position of db item items[t] in full_ranking(scores, nb), for
// t in [0, m), computed without sorting the row: `scores` is [nb], `items` and `positions_out`
// are [m]. Items may repeat (each gets the same position). Position = the number of entries that
// rank before the item, counted either with one vectorised pass per item (O(m nb)) or, when
// cheaper, with one pass in which every score at least the lowest item's is placed among the
// sorted items by a 16-ary search (O(nb + c log m), c = the number of such scores).
// Throws repbench::Error if an item is outside [0, nb) or has a NaN score.
void positions_in_ranking(const float* scores, int64_t nb, const int64_t* items, int64_t m,
                          int64_t* positions_out);

}  // namespace repbench::metrics
