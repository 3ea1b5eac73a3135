#include "scan/search_descriptors.h"

#include <chrono>
#include <utility>

#include "core/elapsed.h"
#include "scan/index.h"

namespace repbench::scan {

evaluation::SearchResult search_descriptors(const evaluation::SearchRequest& r,
                                            evaluation::Descriptors q, evaluation::Descriptors db) {
  r.Check();
  evaluation::SearchResult s;
  s.pair = evaluation::prepare_pair(std::move(q), std::move(db), r.pair);
  RescoreStats stats;
  ExactSearchOptions eo;
  eo.precision = r.precision;
  eo.stats = &stats;
  const FloatView& qv = s.pair.q.view;
  const auto t0 = std::chrono::steady_clock::now();
  s.topk = exact_search(s.pair.db.view, s.pair.split, qv.data, qv.rows(), r.k, r.pair.threads, eo);
  s.seconds = seconds_since(t0);
  s.precision = precision_record(r.precision, stats);
  return s;
}

}  // namespace repbench::scan
