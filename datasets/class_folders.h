// The paper lineage's two-level split (bob-retrieval TwoLeveldataset): one folder per class; in
// each, the first part of the files are queries and the rest the database.
#pragma once

#include <string>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// Classes = subfolders of `dir` (natural order); in each, image files in natural order, the first
// `max_per_class` kept (0 = all); the first floor(query_fraction * n) are queries, the rest go to
// the database; ok of a query = its class's database images (a contiguous index range), no junk.
// Paths in the set are relative to `dir`.
RetrievalSet split_class_folders(const std::string& dir, double query_fraction, int max_per_class);

}  // namespace repbench::datasets
