// Split-product similarity against a direct implementation of the paper's formulation.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/npy.h"
#include "core/descriptors.h"
#include "metrics/evaluate.h"
#include "metrics/split_product.h"
#include "metrics/topk.h"

using namespace repbench;
using namespace repbench::metrics;

namespace {

// DCR's definition, written out: flatten, L2-normalise the whole vector, max over aligned chunks.
std::vector<float> direct(const std::vector<float>& q, int64_t nq, const std::vector<float>& x,
                          int64_t nb, int64_t t, int64_t d) {
  std::vector<float> s(static_cast<size_t>(nq * nb));
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t j = 0; j < nb; ++j) {
      double best = -1e300;
      for (int64_t c = 0; c < t; ++c) {
        double dot = 0;
        for (int64_t k = 0; k < d; ++k) dot += double{q[(i * t + c) * d + k]} * x[(j * t + c) * d + k];
        best = std::max(best, dot);
      }
      s[i * nb + j] = static_cast<float>(best);
    }
  return s;
}

FloatArray random_tokens(int64_t n, int64_t t, int64_t d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  FloatArray a;
  a.shape = {n, t, d};
  a.data.resize(static_cast<size_t>(n * t * d));
  for (auto& v : a.data) v = g(rng);
  l2_normalize_rows(a);  // the whole flattened vector, once
  return a;
}

TEST(SplitProduct, MatchesDirectFormulation) {
  const int64_t nq = 7, nb = 23, t = 5, d = 16;
  FloatArray q = random_tokens(nq, t, d, 1), x = random_tokens(nb, t, d, 2);
  SplitProductScores s(q.data.data(), nq, x.data.data(), nb, t, d);
  std::vector<float> ref = direct(q.data, nq, x.data, nb, t, d);
  // Whole matrix, and an offset sub-block with a padded leading dimension.
  std::vector<float> out(static_cast<size_t>(nq * nb));
  s.compute(0, nq, 0, nb, out.data(), nb);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], ref[i], 1e-5) << i;
  std::vector<float> sub(3 * 12, -7.0f);
  s.compute(2, 3, 5, 10, sub.data(), 12);
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 10; ++j) EXPECT_NEAR(sub[i * 12 + j], ref[(2 + i) * nb + 5 + j], 1e-5);
    EXPECT_EQ(sub[i * 12 + 10], -7.0f);  // padding untouched
  }
}

TEST(SplitProduct, NormalisationIsOverTheWholeVector) {
  // Two tokens of dim 1: q = (3, 4) -> normalised (0.6, 0.8); v = (1, 0) -> (1, 0).
  FloatArray q{{1, 2, 1}, {3, 4}}, v{{1, 2, 1}, {1, 0}};
  l2_normalize_rows(q);
  l2_normalize_rows(v);
  SplitProductScores s(q.data.data(), 1, v.data.data(), 1, 2, 1);
  float out = 0;
  s.compute(0, 1, 0, 1, &out, 1);
  EXPECT_FLOAT_EQ(out, 0.6f);  // max(0.6 * 1, 0.8 * 0); per-token normalisation would give 1
}

TEST(SplitProduct, EvaluateAndTopKUseIt) {
  const int64_t nq = 9, nb = 40, t = 4, d = 8;
  FloatArray q = random_tokens(nq, t, d, 3), x = random_tokens(nb, t, d, 4);
  SplitProductScores s(q.data.data(), nq, x.data.data(), nb, t, d);
  std::vector<float> ref = direct(q.data, nq, x.data, nb, t, d);
  TopKResult r = search_topk(s, 3);
  for (int64_t i = 0; i < nq; ++i) {
    std::vector<int64_t> order(nb);
    for (int64_t j = 0; j < nb; ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return ref[i * nb + a] > ref[i * nb + b]; });
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(r.ids[i * 3 + k], order[k]) << i;
  }
  std::vector<std::vector<int64_t>> ok(nq, std::vector<int64_t>{0, 1}), junk(nq);
  EvalResult e1 = evaluate(s, ok, junk);
  // Same AP from full rankings of the direct scores.
  std::vector<int64_t> ranks;
  for (int64_t i = 0; i < nq; ++i) {
    std::vector<int64_t> order(nb);
    for (int64_t j = 0; j < nb; ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return ref[i * nb + a] > ref[i * nb + b]; });
    ranks.insert(ranks.end(), order.begin(), order.end());
  }
  EvalResult e2 = evaluate_ranking(ranks, nq, nb, ok, junk);
  EXPECT_NEAR(e1.map, e2.map, 1e-9);
}

}  // namespace
