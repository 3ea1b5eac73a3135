// DISC21 (the Image Similarity Challenge 2021 dataset, Douze et al. 2021) in the layout SSCD's
// evaluation reads (facebookresearch/sscd-copy-detection sscd/datasets/disc.py DISCEvalDataset):
//   <root>/val_query/Q*.jpg, <root>/val_ref/R*.jpg, optional <root>/training/T*.jpg,
//   <root>/val_groundtruth_matches.csv ("query_id,reference_id" rows, ids = file stems).
// docs/PROTOCOLS.md §12 describes the protocol.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// One row of a ground-truth CSV: a query id and the reference id it copies ("" = the query has no
// match, a row isc2021's reader skips), and its 1-based line in the file.
struct GroundTruthRow {
  std::string query, ref;
  int64_t line = 0;
};

// Reads the text of a ground-truth CSV as isc2021's read_ground_truth does: whitespace around a
// line is dropped, the header "query_id,reference_id" (wherever it appears) and blank lines are
// skipped, and every other line is "QUERY,REF" with REF possibly empty. Throws Error
// "<path>: line N: ..." on a line without exactly one comma or with an empty query id, and on a
// (query, ref) pair listed twice (naming both lines).
std::vector<GroundTruthRow> parse_disc_ground_truth(const std::string& text,
                                                    const std::string& path);

// Loads the set: db = val_ref images, queries = val_query images (both in natural name order,
// which for DISC's fixed-width names is SSCD's numeric order), ok = the references each query
// copies. `gnd` is the ground-truth CSV (default <root>/val_groundtruth_matches.csv). Throws Error
// naming the file and line for a ground-truth id that is no image of the folders, and naming the
// folder when val_query/ or val_ref/ is missing or empty or two images share an id.
// meta: {"training_images": n} when <root>/training/ exists (the descriptors --score-norm-train
// takes are extracted from it).
RetrievalSet load_disc21(const std::string& gnd, const std::string& root);

}  // namespace repbench::datasets
