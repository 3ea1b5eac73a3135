// INSTRE in its standard protocol (Iscen et al., CVPR 2017) from the original gnd_instre.mat.
#pragma once

#include <string>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// Reads gnd_instre.mat (MATLAB v5): `imlist` (cell of db paths, e.g.
// "INSTRE-S1/01a_canada_book/001.jpg"), `qimlist` (cell of query paths), `gnd` (struct array with
// `ok`, 1-based indices into imlist, and `bbx`, the query box x1 y1 x2 y2). The real file has
// 27,293 db images and 1,250 queries (250 classes x 5), no junk. `ok` is converted to 0-based and
// sorted. Boxes are taken as 0-based pixel coordinates, like revisitop's (the file does not say;
// the difference is at most one pixel). Image paths are relative to `image_root`.
RetrievalSet load_instre(const std::string& gnd_mat, const std::string& image_root);

}  // namespace repbench::datasets
