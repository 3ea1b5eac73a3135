// The search within groups (scan/groups.h): each group's queries against that group's rows of a
// block, by exact_search() over the gathered rows, merged into the running lists.
#include <algorithm>
#include <map>

#include "core/error.h"
#include "scan/baseline.h"
#include "scan/groups.h"
#include "scan/index.h"

namespace repbench::scan {

void merge_topk_within_groups(metrics::TopKResult& into, const FloatArray& block, int64_t first,
                              bool split_product, const float* queries,
                              const std::vector<int32_t>& query_groups,
                              const std::vector<int32_t>& train_groups, int threads) {
  const int64_t n = block.rows(), row = block.row_size(), k = into.k;
  REPBENCH_ASSERT(int64_t(query_groups.size()) == into.nq);
  REPBENCH_ASSERT(first >= 0 && first + n <= int64_t(train_groups.size()));
  if (n == 0 || into.nq == 0) return;
  std::map<int32_t, std::vector<int64_t>> rows_of, queries_of;
  for (int64_t j = 0; j < n; ++j) rows_of[train_groups[size_t(first + j)]].push_back(j);
  for (int64_t q = 0; q < into.nq; ++q)
    if (rows_of.count(query_groups[size_t(q)])) queries_of[query_groups[size_t(q)]].push_back(q);
  FloatArray sub;
  std::vector<float> qbuf;
  for (const auto& [group, qs] : queries_of) {
    const std::vector<int64_t>& rs = rows_of.at(group);
    const int64_t m = int64_t(rs.size()), nq = int64_t(qs.size());
    // The group's rows in block order (ascending rows: local ids keep the tie rule's order).
    const bool whole = m == n;
    if (!whole) {
      sub.shape = block.shape;
      sub.shape[0] = m;
      sub.data.resize(size_t(m * row));
      for (int64_t t = 0; t < m; ++t)
        std::copy(block.row(rs[size_t(t)]), block.row(rs[size_t(t)]) + row,
                  sub.data.begin() + t * row);
    }
    qbuf.resize(size_t(nq * row));
    for (int64_t t = 0; t < nq; ++t)
      std::copy(queries + qs[size_t(t)] * row, queries + (qs[size_t(t)] + 1) * row,
                qbuf.begin() + t * row);
    metrics::TopKResult part =
        exact_search(whole ? block : sub, split_product, qbuf.data(), nq, k, threads);
    for (int64_t& id : part.ids)
      if (id >= 0) id = first + rs[size_t(id)];
    // The group's queries' running lists, merged, put back.
    metrics::TopKResult mine;
    mine.nq = nq;
    mine.k = k;
    mine.ids.resize(size_t(nq * k));
    mine.scores.resize(size_t(nq * k));
    for (int64_t t = 0; t < nq; ++t) {
      std::copy_n(into.ids.begin() + qs[size_t(t)] * k, k, mine.ids.begin() + t * k);
      std::copy_n(into.scores.begin() + qs[size_t(t)] * k, k, mine.scores.begin() + t * k);
    }
    metrics::merge_topk(mine, part, 0);
    for (int64_t t = 0; t < nq; ++t) {
      std::copy_n(mine.ids.begin() + t * k, k, into.ids.begin() + qs[size_t(t)] * k);
      std::copy_n(mine.scores.begin() + t * k, k, into.scores.begin() + qs[size_t(t)] * k);
    }
  }
}

std::vector<int64_t> within_group_baseline_rows(const std::vector<int32_t>& train_groups,
                                                int64_t sample, uint64_t seed) {
  std::map<int32_t, int64_t> size;
  for (int32_t g : train_groups) ++size[g];
  std::vector<int64_t> eligible;
  for (size_t i = 0; i < train_groups.size(); ++i)
    if (size[train_groups[i]] >= 2) eligible.push_back(int64_t(i));
  std::vector<int64_t> rows = baseline_rows(int64_t(eligible.size()), sample, seed);
  for (int64_t& r : rows) r = eligible[size_t(r)];
  return rows;
}

}  // namespace repbench::scan
