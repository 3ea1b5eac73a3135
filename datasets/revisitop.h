// Revisited Oxford and Paris (rOxford5k, rParis6k; Radenović et al., CVPR 2018), read from the
// original revisitop ground-truth pickles gnd_roxford5k.pkl / gnd_rparis6k.pkl.
//
// The pickle is {'imlist': [str], 'qimlist': [str], 'gnd': [{'bbx': [x1, y1, x2, y2],
// 'easy': [int], 'hard': [int], 'junk': [int]}]} with 0-based indices into imlist
// (docs/PROTOCOLS.md §2.1). The protocols (§2.2, revisitop example_evaluate.py):
//   easy:   ok = easy,         junk = junk ∪ hard
//   medium: ok = easy ∪ hard,  junk = junk
//   hard:   ok = hard,         junk = junk ∪ easy
// Queries are cropped to their bbx before any processing (crop_queries = true) and are not in the
// database. A query whose ok list is empty (two in rOxford easy) stays in the set; the evaluator
// leaves it out of the means.
#pragma once

#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// The revisitop protocols, in order of difficulty.
const std::vector<std::string>& revisitop_protocols();

// Loads `gnd_pkl` as set `set_name` ("roxford5k" or "rparis6k") under `protocol` ("easy",
// "medium" or "hard"). Image paths are "jpg/<name>.jpg", relative to `image_root` (which may be
// empty when images are not needed, e.g. with precomputed descriptors). ok and junk are sorted,
// deduplicated unions. Throws repbench::Error on an unknown set or protocol, on a pickle the
// restricted reader refuses, and on a structure error, named with its location (missing 'imlist'
// key, len(gnd) != len(qimlist), a non-integer or out-of-range index, a bad bbx).
RetrievalSet load_revisitop(const std::string& gnd_pkl, const std::string& set_name,
                            const std::string& protocol, const std::string& image_root);

}  // namespace repbench::datasets
