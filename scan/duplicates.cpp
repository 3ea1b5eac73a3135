#include "scan/duplicates.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/parallel.h"
#include "core/rng.h"
#include "metrics/inner_product.h"
#include "metrics/parallel.h"
#include "metrics/split_product.h"

namespace repbench::scan {

namespace {

// The stream of derive_seed(ScanParams::seed, ...) the sample of matches whose duplicates are
// counted is drawn from (scan/baseline.cpp draws the baseline's from stream 1).
constexpr uint64_t kDuplicateSampleStream = 2;

}  // namespace

void add_duplicate_counts(const float* queries, const std::vector<int64_t>& self,
                          const FloatArray& block, int64_t first_row, bool split_product,
                          double threshold, int threads, std::vector<int64_t>& counts) {
  const int64_t nq = int64_t(self.size()), n = block.rows();
  if (nq == 0 || n == 0) return;
  std::unique_ptr<metrics::ScoreSource> s;
  if (split_product)
    s = std::make_unique<metrics::SplitProductScores>(queries, nq, block.data.data(), n,
                                                      block.shape[1], block.shape[2]);
  else
    s = std::make_unique<metrics::InnerProductScores>(queries, nq, block.data.data(), n,
                                                      block.row_size());
  const float t = static_cast<float>(threshold);
  const int64_t row = block.row_size(), tokens = split_product ? block.shape[1] : 1,
                dim = row / tokens;
  constexpr float kNearThreshold = 1e-4f;  // far above sgemm's rounding differences
  // Blocks of 64 queries x 8192 training rows, one thread each, single-threaded BLAS inside
  // (the layout search_topk measured fastest).
  const int64_t bq = 64, bn = 8192;
  const int64_t qblocks = (nq + bq - 1) / bq;
  const int team = resolve_threads(threads);
  metrics::BlasThreadsScope blas(1);
  std::vector<std::vector<float>> bufs(team, std::vector<float>(bq * bn));
  metrics::parallel_for(qblocks, team, [&](int64_t b, int thread) {
    const int64_t q0 = b * bq, qn = std::min(bq, nq - q0);
    float* buf = bufs[thread].data();
    for (int64_t b0 = 0; b0 < n; b0 += bn) {
      const int64_t m = std::min(bn, n - b0);
      s->compute(q0, qn, b0, m, buf, m);
      for (int64_t i = 0; i < qn; ++i) {
        const float* r = buf + i * m;
        const int64_t me = self[q0 + i] - first_row - b0;  // the image's own column, if here
        // The common case in one branch-free sweep (it vectorises: this loop runs once per score
        // of the product); rows with a score near the threshold take the careful loop below.
        int32_t above = 0, near = 0;
        for (int64_t j = 0; j < m; ++j) {
          above += r[j] > t;
          near |= std::abs(r[j] - t) <= kNearThreshold;
        }
        int64_t c = above;
        if (near) {
          c = 0;
          for (int64_t j = 0; j < m; ++j) {
            float v = r[j];
            // Near the threshold the reference score decides (exact_search says why): the count
            // must not depend on how the training set was cut.
            if (std::abs(v - t) <= kNearThreshold)
              v = reference_score(queries + (q0 + i) * row, block.row(b0 + j), tokens, dim);
            c += v > t && j != me;  // the image itself is not its own duplicate
          }
        } else if (me >= 0 && me < m && r[me] > t) {
          --c;
        }
        counts[q0 + i] += c;
      }
    }
  });
}

std::vector<int64_t> count_index_duplicates(const float* queries, const std::vector<int64_t>& rows,
                                            int64_t n, double threshold, const TrainIndex& index,
                                            int64_t cap) {
  std::vector<int64_t> counts(rows.size(), 0);
  if (rows.empty()) return counts;
  const float t = static_cast<float>(threshold);
  const int64_t kk = std::min(cap + 1, n);
  const metrics::TopKResult r = index.search(queries, int64_t(rows.size()), kk);
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < kk; ++j)
      if (r.ids[i * kk + j] >= 0 && r.ids[i * kk + j] != rows[i] && r.scores[i * kk + j] > t)
        counts[i] = std::min(counts[i] + 1, cap);
  return counts;
}

std::vector<int64_t> count_duplicates(const FloatArray& train, bool split_product,
                                      const std::vector<int64_t>& rows, double threshold,
                                      const TrainIndex& index, int64_t cap, int threads) {
  const int64_t row = train.row_size(), n = train.rows();
  std::vector<int64_t> counts(rows.size(), 0);
  if (rows.empty()) return counts;
  std::vector<float> q(rows.size() * row);
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(train.row(rows[i]), train.row(rows[i]) + row, q.begin() + i * row);
  if (!index.exact()) return count_index_duplicates(q.data(), rows, n, threshold, index, cap);
  add_duplicate_counts(q.data(), rows, train, 0, split_product, threshold, threads, counts);
  return counts;
}

std::vector<int64_t> duplicate_rows(const metrics::TopKResult& topk, const ScanParams& params) {
  const double lowest = *std::min_element(params.thresholds.begin(), params.thresholds.end());
  std::vector<int64_t> rows, others;
  for (int64_t i = 0; i < topk.nq; ++i) {
    const int64_t id = topk.ids[i * topk.k];
    if (id < 0) continue;
    if (topk.scores[i * topk.k] > lowest)
      rows.push_back(id);
    else
      others.push_back(id);
  }
  if (params.duplicate_sample >= 0 && int64_t(others.size()) > params.duplicate_sample) {
    const std::vector<int64_t> order =
        Rng(derive_seed(params.seed, kDuplicateSampleStream)).permutation(int64_t(others.size()));
    std::vector<int64_t> sample(size_t(params.duplicate_sample));
    for (size_t i = 0; i < sample.size(); ++i) sample[i] = others[size_t(order[i])];
    others.swap(sample);
  }
  rows.insert(rows.end(), others.begin(), others.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

}  // namespace repbench::scan
