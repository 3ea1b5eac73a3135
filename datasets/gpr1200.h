// GPR1200 (Schall et al. 2021): 12,000 images of 1,200 categories x 10 in one flat folder, named
// "{category}_{original name}.jpg".
#pragma once

#include <string>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// The six source datasets, by block of 200 categories (2,000 images) in category order.
const std::vector<std::string>& gpr1200_subsets();

// Official evaluation (Visual-Computing/GPR1200 eval/utils.py): images sorted by category (then
// by name), every image is a query against all images including itself, ok = the images of its
// category, itself included (so 10 positives, the self-match at rank 1 counts), no junk.
// Each query's `group` is its subset (GLDv2, iNat, IN-Sketch, INSTRE, SOP, IMDB) for per-subset
// mAP. `root` is the folder of the images (or its parent, holding images/).
RetrievalSet load_gpr1200(const std::string& root);

// Paper-lineage variant (bob-retrieval GPRdataset, docs/PROTOCOLS.md §4.3): per category, the
// first image (natural name order, which the original left to os.listdir) is the query and the
// next `values_per_class` images are the database; ok = that category's database images.
RetrievalSet load_gpr1200_dcr(const std::string& root, int values_per_class = 4);

}  // namespace repbench::datasets
