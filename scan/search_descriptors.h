// The one search path from two descriptor arrays to the k best database items of every query:
// `repbench search` and Python's repbench.search call it. The pair is prepared as eval prepares it
// (evaluation/descriptor_eval.h: shape checks, post-processing, normalisation), then searched by
// exact_search (scan/index.h): a candidate pass in the request's precision, every candidate that
// could be in the top k rescored exactly, so the precision changes the time, never the output.
#pragma once

#include "evaluation/descriptor_eval.h"

namespace repbench::scan {

evaluation::SearchResult search_descriptors(const evaluation::SearchRequest& r,
                                            evaluation::Descriptors q, evaluation::Descriptors db);

}  // namespace repbench::scan
