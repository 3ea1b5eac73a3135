// gnd.json: repbench's own ground-truth format, for sets that have no original annotation file
// (the synthetic sets) and for exporting any RetrievalSet.
//
//   {"schema": "repbench.gnd/1",
//    "name": "my-set",
//    "db": ["relative/path/a.jpg", ...],
//    "queries": [{"image": "relative/path/q.jpg", "bbx": [x1, y1, x2, y2],
//                 "ok": [0, 5], "junk": [7], "group": "landmarks"}, ...],
//    "metric": {"ap": "trapezoid", "mp_ks": [1, 5, 10], "recall_ks": [1, 2, 4, 8], ...},
//    "meta": {...}}
//
// Image paths are relative to the folder holding the file (RetrievalSet::root). "bbx" is optional
// (0-based pixels, x1 < x2, y1 < y2); "ok" is required and "junk" optional, both 0-based indices
// into "db". A query may be a db image itself, or list itself in "junk" (leave-one-out).
// Optional: a query's "group" (Query::group, e.g. GPR1200's source), "metric" (the set's
// MetricSpec, metric_spec.h; without it the set is scored as revisitop's compute_map: trapezoid
// AP, mP@1/5/10), "recall_ks" (the older form of metric.recall_ks; must agree with "metric") and
// "meta", an object carried through unchanged. The set's protocol is "default".
#pragma once

#include <string>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

inline constexpr char kGndJsonSchema[] = "repbench.gnd/1";

// Reads and validates a gnd.json. Throws repbench::Error naming the file and the JSON location
// ("x/gnd.json: queries[3].ok[2] = 812 is outside the database of 800 images") on invalid JSON,
// a wrong schema string, a missing or unexpected key, a value of the wrong type, an empty or
// absolute image path, a repeated db path, a bbx that is not 4 finite numbers with x1 < x2 and
// y1 < y2, an index out of range, an index listed twice, or one listed in both ok and junk.
RetrievalSet read_gnd_json(const std::string& path);

// Writes `set` as a gnd.json at `path`, atomically. Image paths are rebased from set.root to the
// folder of `path` (unchanged when set.root is empty or is that folder). Query boxes are written
// only when set.crop_queries is true, since a box that is never applied has no meaning here.
// Throws Error when the set does not validate.
void write_gnd_json(const RetrievalSet& set, const std::string& path);

}  // namespace repbench::datasets
