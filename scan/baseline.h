// The self-similarity baseline of a scan (sampled training images against their nearest OTHER
// training image, its rows drawn with core/rng) and the shares of generations and baseline above
// each threshold. Public (not scan/impl/): the tests pin its rows and counts.
#pragma once

#include <cstdint>
#include <vector>

#include "core/npy.h"
#include "metrics/topk.h"
#include "scan/index.h"

namespace repbench::scan {

struct Baseline {
  std::vector<int64_t> rows;     // sampled training rows, ascending
  std::vector<float> top1;       // similarity to the nearest other training image
  std::vector<int64_t> nearest;  // that image's row (-1 when the set has one image)
};

// Each of min(sample, n) training rows (all when sample >= n, else a seeded sample) against its
// nearest other training row, searched with `index` (built over `train`).
Baseline self_similarity_baseline(const TrainIndex& index, const FloatArray& train, int64_t sample,
                                  uint64_t seed);
// Its two steps: the sampled rows (ascending; none when n < 2), and the baseline from their
// top-2 neighbours in the whole training set.
std::vector<int64_t> baseline_rows(int64_t n, int64_t sample, uint64_t seed);
Baseline baseline_from_top2(std::vector<int64_t> rows, const metrics::TopKResult& top2);

struct AboveThreshold {
  double threshold = 0;
  int64_t generations = 0;  // generations with top-1 > threshold
  double fraction = 0;      // of all generations
  int64_t baseline = 0;     // baseline samples with top-1 > threshold
  double baseline_fraction = 0;
};
std::vector<AboveThreshold> count_above(const std::vector<float>& generations_top1,
                                        const std::vector<float>& baseline_top1,
                                        const std::vector<double>& thresholds);

}  // namespace repbench::scan
