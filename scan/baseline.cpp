#include "scan/baseline.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace repbench::scan {

namespace {

// The stream of derive_seed(ScanParams::seed, ...) the baseline's sample is drawn from
// (scan/duplicates.cpp draws the sample of matches whose duplicates are counted from stream 2).
constexpr uint64_t kBaselineStream = 1;

}  // namespace

std::vector<int64_t> baseline_rows(int64_t n, int64_t sample, uint64_t seed) {
  std::vector<int64_t> rows;
  if (n < 2) return rows;
  if (sample >= n) {
    rows.resize(n);
    std::iota(rows.begin(), rows.end(), 0);
    return rows;
  }
  // core/rng's permutation: the same rows on every standard library (std::shuffle's are not).
  const std::vector<int64_t> perm = Rng(derive_seed(seed, kBaselineStream)).permutation(n);
  rows.assign(perm.begin(), perm.begin() + sample);
  std::sort(rows.begin(), rows.end());
  return rows;
}

Baseline baseline_from_top2(std::vector<int64_t> rows, const metrics::TopKResult& r) {
  Baseline b;
  b.rows = std::move(rows);
  REPBENCH_ASSERT(r.nq == int64_t(b.rows.size()) && r.k == 2);
  // The image itself is normally the first neighbour; the other one is the baseline.
  for (size_t i = 0; i < b.rows.size(); ++i) {
    int64_t j = 0;
    if (r.ids[i * 2] == b.rows[i]) j = 1;
    b.nearest.push_back(r.ids[i * 2 + j]);
    b.top1.push_back(r.scores[i * 2 + j]);
  }
  return b;
}

Baseline self_similarity_baseline(const TrainIndex& index, const FloatArray& train, int64_t sample,
                                  uint64_t seed) {
  const int64_t row = train.row_size();
  std::vector<int64_t> rows = baseline_rows(train.rows(), sample, seed);
  if (rows.empty()) return {};
  std::vector<float> q(rows.size() * row);
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(train.row(rows[i]), train.row(rows[i]) + row, q.begin() + i * row);
  const metrics::TopKResult r = index.search(q.data(), int64_t(rows.size()), 2);
  return baseline_from_top2(std::move(rows), r);
}

std::vector<AboveThreshold> count_above(const std::vector<float>& generations_top1,
                                        const std::vector<float>& baseline_top1,
                                        const std::vector<double>& thresholds) {
  std::vector<AboveThreshold> out;
  for (double t : thresholds) {
    AboveThreshold a;
    a.threshold = t;
    // Compared in float, the scores' precision: 0.6f must not count as above 0.6.
    const float tf = static_cast<float>(t);
    for (float s : generations_top1) a.generations += s > tf;
    for (float s : baseline_top1) a.baseline += s > tf;
    a.fraction = generations_top1.empty() ? 0 : double(a.generations) / generations_top1.size();
    a.baseline_fraction = baseline_top1.empty() ? 0 : double(a.baseline) / baseline_top1.size();
    out.push_back(a);
  }
  return out;
}

}  // namespace repbench::scan
