// What `repbench eval` prints on stdout: the summary of the descriptors and the set's metric, then
// one table row per protocol (mAP, its interval, mP@k, the queries scored, and the set's extra
// metrics). Kept apart from the verb (app/cmd_eval.cpp), which reads, scores and writes.
#pragma once

#include <string>

#include "evaluation/descriptor_eval.h"

namespace repbench::app {

// The lines before the table: set, model, sizes, the similarity, the metric, post-processing and
// re-ranking when used, and the table's header.
void print_eval_header(const evaluation::DescriptorEvalRequest& request,
                       const evaluation::EvalSetup& setup,
                       const evaluation::DescriptorEvaluation& evaluation);

// One protocol's row and the lines under it (mAP by group, Recall@K, MRR, the copy-detection
// summary).
void print_eval_protocol(const std::string& protocol, const evaluation::SetEvaluation& e);

}  // namespace repbench::app
