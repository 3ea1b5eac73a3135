// Failure pages: where a model fails on a retrieval set, drawn from its result record alone plus
// the set's images. A record's per-query block (schema "repbench.record/2": per-query AP, the
// query list's hash and a `.top100.npy` of each query's best database ids beside the record) says
// which queries went worst and what was ranked above their positives; the set, loaded from its
// root, says which of those ids are positives, junk or false positives, and where the images are.
//
// The page (self-contained HTML, like the scan report) shows the `worst` queries by AP, lowest
// first (ties by query index; queries left out of the mean, with no positive, are not shown):
// each query's image with its crop box outlined (the pixels the protocol's crop keeps), its
// best-ranked positive with its rank (or, when no positive is in the top k, the first positive
// of the ground truth, marked "rank > k"), and the false positives ranked above that positive,
// with their ranks. Junk items are not false positives and are counted apart. The top-ids file
// holds no scores: the page shows ranks, and scores only when the caller passes the record's
// similarity (its descriptors). Missing or unreadable images are boxes that name the file.
//
// The comparison page takes two records of the same queries (equal queries_sha256) and shows the
// `worst` queries where their APs differ most (largest |AP_a - AP_b| first, ties by query
// index), the two models side by side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datasets/retrieval_set.h"
#include "metrics/score_source.h"
#include "records/record_queries.h"

namespace repbench::report {

struct FailurePageOptions {
  size_t worst = 20;             // queries shown
  size_t false_positives = 10;   // false positives shown per query (the page counts the rest)
  int thumb_px = 140;            // longest side of a thumbnail, in pixels
  // The record's own similarity (its descriptors, scored as it was), to print each shown item's
  // score on a failure page; nullptr = ranks only. Not owned; [nq x nb] of the record's set.
  const metrics::ScoreSource* scores = nullptr;
};

// One shown item of a query's ranking.
struct RankedItem {
  int64_t db = -1;    // database index
  int64_t rank = 0;   // 1-based position in the record's ranking; 0 = not in the top k
  std::optional<float> score;  // when FailurePageOptions::scores is given
};

// What went wrong for one query under one record.
struct QueryFailure {
  int64_t query = 0;
  double ap = 0;
  std::optional<RankedItem> best_positive;  // rank 0 = no positive in the top k (first ok shown)
  std::vector<RankedItem> false_positives;  // ranked above the best positive, best first (capped)
  int64_t false_positives_total = 0;        // all of them, shown or not
  int64_t junk_above = 0;                   // junk items ranked above the best positive
};

// The query's failure under `pq` (which check_same_queries accepted for `set`); the shown
// items' scores from `scores` when given.
QueryFailure explain_query(const records::RecordQueries& pq, const datasets::RetrievalSet& set,
                           int64_t query, size_t max_false_positives,
                           const metrics::ScoreSource* scores = nullptr);

// The `n` scored queries with the lowest AP, lowest first, ties by query index.
std::vector<int64_t> worst_queries(const records::RecordQueries& pq, size_t n);

// The `n` queries scored by both records with the largest |AP_a - AP_b|, ties by query index.
std::vector<int64_t> most_different_queries(const records::RecordQueries& a,
                                            const records::RecordQueries& b, size_t n);

// The page beside a record: "x/m.rparis6k.medium.json" -> "x/m.rparis6k.medium.failures.html".
// The leaderboard links a record's cell to this file when it exists.
std::string failure_page_path(const std::string& record_path);

// Renders the failure page of one record, or the comparison page of two, into `out_path`
// (written atomically). Throws Error as read_per_query and check_same_queries do.
void write_failure_page(const std::string& record_path, const datasets::RetrievalSet& set,
                        const std::string& out_path, const FailurePageOptions& options = {});
void write_comparison_page(const std::string& record_a, const std::string& record_b,
                           const datasets::RetrievalSet& set, const std::string& out_path,
                           const FailurePageOptions& options = {});

}  // namespace repbench::report
