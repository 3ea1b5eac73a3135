// CUB-200-2011 (Wah et al. 2011): 11,788 bird images of 200 classes, in CUB_200_2011/.
#pragma once

#include <string>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// Standard deep-metric-learning retrieval protocol: the test classes 101-200 (5,924 images, in
// images.txt order); every test image is a query against all test images, itself excluded (it
// is its query's junk), positives = the other images of its class. The registry declares its
// metric (Recall@1/2/4/8 and mAP, metric_spec.h).
// Reads images.txt ("<id> <relative path>"), image_class_labels.txt ("<id> <class>") and
// classes.txt ("<class> <folder>") in `root` (the CUB_200_2011/ folder); images under images/.
RetrievalSet load_cub200(const std::string& root);

// Paper-lineage variant (bob-retrieval TwoLeveldataset, docs/PROTOCOLS.md §5.2): all 200 class
// folders of images/ (natural order); in each, files in natural order, the first
// floor(query_fraction * n) are queries and the rest the database; ok = the class's database
// images.
RetrievalSet load_cub200_dcr(const std::string& root, double query_fraction = 0.2);

}  // namespace repbench::datasets
