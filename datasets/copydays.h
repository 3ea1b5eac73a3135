// INRIA Copydays (Jégou et al. 2008) as SSCD evaluates it (facebookresearch/sscd-copy-detection
// sscd/datasets/copydays.py Copydays, sscd/copydays_eval.py): 20 blocks of .jpg files under
// <root>: original/, strong/, jpegqual/{3,5,8,10,15,20,30,50,75}/, crops/{10,...,80}/.
// Every image of every block is a query; the database is original/ (protocol "default"), plus
// with `distractors`, the images of <root>/distractors/ (the registry's set "cd10k": put or link
// the 10,000 distractors there, the CD10K of SSCD's paper). docs/PROTOCOLS.md §12 describes the protocol.
#pragma once

#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// The 20 block folders, in SSCD's query order.
const std::vector<std::string>& copydays_blocks();

// Loads the set. A query of a block other than strong/ copies the original at its own position
// (the blocks are the originals transformed, file for file, in sorted order); a strong/ query
// copies the originals whose names share its first 4 characters. Each query's `group` is its
// block. Throws Error naming the folder when a block is missing or empty, when a block other
// than strong/ has a different number of images than original/, and (with distractors) when
// distractors/ is missing or empty.
RetrievalSet load_copydays(const std::string& root, bool distractors);

}  // namespace repbench::datasets
