// The image lists of a retrieval set, ready for the pipeline and the cache: paths joined to the
// set's root, in the set's own order (row i of a descriptor matrix = image i), and the queries'
// crop boxes attached when the set says queries are cropped (revisitop protocol).
#pragma once

#include <vector>

#include "datasets/retrieval_set.h"
#include "models/pipeline.h"

namespace repbench::models {

// set.db, in order; no crop boxes.
std::vector<ImageItem> database_items(const datasets::RetrievalSet& set);

// set.queries, in order; with each query's bbx when set.crop_queries is true.
std::vector<ImageItem> query_items(const datasets::RetrievalSet& set);

}  // namespace repbench::models
