// What a record names as the ground truth of a set, with a checksum of what defines the set.
#pragma once

#include <nlohmann/json.hpp>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// {"path": set.source, "sha256": ...}. A set read from an annotation file (a pickle, a .mat, a
// gnd.json, CUB's images.txt) is checksummed as that file. A set defined by a folder layout
// (GPR1200, the lineage's class-folder splits) is checksummed as its sorted file list with sizes
// ("<path>\t<bytes>\n" per image, paths relative to set.root), and the object says so
// ("checksum_of": "file list with sizes", "files": count). Throws Error naming the path when the
// source is missing or an image of a folder set cannot be read.
nlohmann::json ground_truth_input(const RetrievalSet& set);

}  // namespace repbench::datasets
