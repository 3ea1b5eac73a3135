// Tests of metrics/paired_test (sign-flip p-values, paired bootstrap, Holm) and of the top ids
// that evaluate() keeps per query.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "metrics/bootstrap.h"
#include "metrics/evaluate.h"
#include "metrics/inner_product.h"
#include "metrics/paired_test.h"
#include "metrics/ranking.h"
#include "metrics/topk.h"

namespace repbench::metrics {
namespace {

// Brute force, written independently of the chunk tables: every sign vector, |sum| compared
// with the observed |sum| with the same relative slack.
double enumerate_p(const std::vector<double>& d) {
  const size_t n = d.size();
  double observed = 0, scale = 0;
  for (double v : d) {
    observed += v;
    scale += std::fabs(v);
  }
  if (scale == 0) return 1;
  uint64_t extreme = 0;
  for (uint64_t mask = 0; mask < (uint64_t{1} << n); ++mask) {
    double t = 0;
    for (size_t i = 0; i < n; ++i) t += (mask >> i) & 1 ? -d[i] : d[i];
    extreme += std::fabs(t) >= std::fabs(observed) - 1e-9 * scale;
  }
  return static_cast<double>(extreme) / static_cast<double>(uint64_t{1} << n);
}

// P(|2B - n| >= t) for B ~ Binomial(n, 1/2): the exact sign-flip p-value when every |d_i| is the
// same (then sum s_i d_i = c (2B - n)).
double binomial_two_sided(int n, int t) {
  double p = 0;
  for (int b = 0; b <= n; ++b) {
    if (std::abs(2 * b - n) < t) continue;
    p += std::exp(std::lgamma(n + 1.0) - std::lgamma(b + 1.0) - std::lgamma(n - b + 1.0) -
                  n * std::log(2.0));
  }
  return p;
}

TEST(SignFlip, ExactEqualsEnumerationOnSmallCases) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-0.3, 0.5);
  for (int n : {1, 2, 3, 5, 8, 9, 13, 16, 20}) {
    std::vector<double> d(n);
    for (double& v : d) v = u(rng);
    bool exact = false;
    const double p = sign_flip_p_value(d, {}, &exact);
    EXPECT_TRUE(exact) << n;
    EXPECT_DOUBLE_EQ(p, enumerate_p(d)) << n;
  }
  // Hand values: n = 3, d = (1, 1, 1): only +++ and --- reach |3|, p = 2/8.
  EXPECT_DOUBLE_EQ(sign_flip_p_value({1, 1, 1}), 0.25);
  // d = (0.5, -0.5): every vector has |T| >= 0, p = 1.
  EXPECT_DOUBLE_EQ(sign_flip_p_value({0.5, -0.5}), 1.0);
  // Ties from different summation orders count as extreme: 0.1 + 0.2 vs 0.3.
  EXPECT_DOUBLE_EQ(sign_flip_p_value({0.1, 0.2, -0.3}), enumerate_p({0.1, 0.2, -0.3}));
  EXPECT_DOUBLE_EQ(sign_flip_p_value(std::vector<double>(30, 0.0)), 1.0);
}

TEST(SignFlip, MonteCarloAgreesWithExactBinomialOnLargeCases) {
  // 200 queries, |d| = 0.05 everywhere, 118 positive: T/c = 36, exact p = P(|2B - 200| >= 36).
  for (int positive : {100, 110, 118, 130}) {
    std::vector<double> d(200, -0.05);
    for (int i = 0; i < positive; ++i) d[i * 7 % 200] = 0.05;
    const int t = std::abs(2 * positive - 200);
    const double exact = binomial_two_sided(200, t);
    PairedOptions o;
    o.permutations = 100000;
    o.seed = 3;
    bool is_exact = true;
    const double p = sign_flip_p_value(d, o, &is_exact);
    EXPECT_FALSE(is_exact);
    // Monte-Carlo standard error sqrt(p (1 - p) / B); 5 of them plus the (1 + x)/(1 + B) shift.
    const double se = std::sqrt(exact * (1 - exact) / 1e5);
    EXPECT_NEAR(p, exact, 5 * se + 2e-5) << positive << " positive, exact " << exact;
  }
}

TEST(SignFlip, MonteCarloAgreesWithAHighResampleReference) {
  // Unequal magnitudes: the reference draws 10^6 sign vectors with another generator.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g(0.02, 0.2);
  std::vector<double> d(300);
  for (double& v : d) v = g(rng);
  double observed = 0, scale = 0;
  for (double v : d) {
    observed += v;
    scale += std::fabs(v);
  }
  std::mt19937_64 ref_rng(12);
  const int kRef = 1000000;
  int64_t extreme = 0;
  for (int b = 0; b < kRef; ++b) {
    double t = 0;
    uint64_t bits = 0;
    for (size_t i = 0; i < d.size(); ++i) {
      if (i % 64 == 0) bits = ref_rng();
      t += (bits >> (i % 64)) & 1 ? -d[i] : d[i];
    }
    extreme += std::fabs(t) >= std::fabs(observed) - 1e-9 * scale;
  }
  const double reference = static_cast<double>(extreme) / kRef;
  ASSERT_GT(reference, 0.01);  // a case where the p-value is not tiny
  ASSERT_LT(reference, 0.99);
  PairedOptions o;
  o.permutations = 100000;
  const double p = sign_flip_p_value(d, o);
  const double se = std::sqrt(reference * (1 - reference) * (1.0 / 1e5 + 1.0 / kRef));
  EXPECT_NEAR(p, reference, 5 * se);
}

TEST(SignFlip, SeededAndIndependentOfThreads) {
  std::vector<double> d(1000);
  for (size_t i = 0; i < d.size(); ++i) d[i] = std::sin(static_cast<double>(i)) * 0.1 + 0.003;
  PairedOptions one, four;
  one.threads = 1;
  four.threads = 4;
  EXPECT_DOUBLE_EQ(sign_flip_p_value(d, one), sign_flip_p_value(d, four));
  PairedOptions other = one;
  other.seed = 99;
  EXPECT_NE(sign_flip_p_value(d, one), sign_flip_p_value(d, other));
}

TEST(PairedCompare, DifferenceIntervalAndLeftOutQueries) {
  const double nan = std::nan("");
  const std::vector<double> a = {0.9, nan, 0.5, 0.7, 1.0};
  const std::vector<double> b = {0.8, nan, 0.6, 0.4, 1.0};
  const PairedResult r = paired_compare(a, b);
  EXPECT_EQ(r.queries, 4);
  EXPECT_DOUBLE_EQ(r.mean_a, (0.9 + 0.5 + 0.7 + 1.0) / 4);
  EXPECT_DOUBLE_EQ(r.mean_b, (0.8 + 0.6 + 0.4 + 1.0) / 4);
  EXPECT_DOUBLE_EQ(r.difference, r.mean_a - r.mean_b);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.permutations, 16);
  EXPECT_DOUBLE_EQ(r.p_value, enumerate_p({0.9 - 0.8, 0.5 - 0.6, 0.7 - 0.4, 0.0}));
  // The interval is the bootstrap of the differences (resampling both models together).
  const auto ci = bootstrap_mean_ci({0.9 - 0.8, 0.5 - 0.6, 0.7 - 0.4, 1.0 - 1.0}, 10000, 0);
  EXPECT_DOUBLE_EQ(r.ci_low, ci.first);
  EXPECT_DOUBLE_EQ(r.ci_high, ci.second);
  EXPECT_LE(r.ci_low, r.difference);
  EXPECT_GE(r.ci_high, r.difference);
}

TEST(PairedCompare, BadInputThrows) {
  const double nan = std::nan("");
  EXPECT_THROW(paired_compare({0.1, 0.2}, {0.1}), Error);
  EXPECT_THROW(paired_compare({0.1, nan}, {0.1, 0.3}), Error);
  EXPECT_THROW(paired_compare({nan}, {nan}), Error);
  PairedOptions bad;
  bad.permutations = 0;
  EXPECT_THROW(paired_compare({0.1}, {0.2}, bad), Error);
}

TEST(Holm, HandValues) {
  // m = 4, sorted 0.01, 0.02, 0.03, 0.04: 4 x 0.01 = 0.04, 3 x 0.02 = 0.06, 2 x 0.03 = 0.06,
  // 1 x 0.04 = 0.04; the running maximum gives 0.04, 0.06, 0.06, 0.06.
  const std::vector<double> adj = holm_adjust({0.03, 0.01, 0.04, 0.02});
  ASSERT_EQ(adj.size(), 4u);
  EXPECT_DOUBLE_EQ(adj[0], 0.06);
  EXPECT_DOUBLE_EQ(adj[1], 0.04);
  EXPECT_DOUBLE_EQ(adj[2], 0.06);
  EXPECT_DOUBLE_EQ(adj[3], 0.06);
  // Capped at 1; one p-value is unchanged.
  EXPECT_EQ(holm_adjust({0.5, 0.9}), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(holm_adjust({0.2}), (std::vector<double>{0.2}));
  EXPECT_TRUE(holm_adjust({}).empty());
  // m = 3: 0.001, 0.04, 0.2 -> 0.003, 0.08, 0.2.
  const std::vector<double> b = holm_adjust({0.2, 0.001, 0.04});
  EXPECT_DOUBLE_EQ(b[0], 0.2);
  EXPECT_DOUBLE_EQ(b[1], 0.003);
  EXPECT_DOUBLE_EQ(b[2], 0.08);
  EXPECT_THROW(holm_adjust({0.1, 1.5}), Error);
  EXPECT_THROW(holm_adjust({std::nan("")}), Error);
}

TEST(TopkOfRow, EqualsTheFullRankingHeadOnAwkwardRows) {
  const int64_t n = 5000;
  std::mt19937_64 rng(9);
  std::vector<std::vector<float>> rows;
  std::vector<float> r(n);
  for (auto& v : r) v = static_cast<float>(rng() % 7);  // heavy ties
  rows.push_back(r);
  std::fill(r.begin(), r.end(), 0.5f);  // one value: every score ties
  rows.push_back(r);
  for (int64_t j = 0; j < n; ++j) r[j] = static_cast<float>(j);  // ascending: best at the end
  rows.push_back(r);
  for (int64_t j = 0; j < n; ++j)  // mostly NaN: the sample sees few numbers
    r[j] = j % 37 == 5 ? static_cast<float>(rng() % 1000) : std::nanf("");
  rows.push_back(r);
  for (int64_t j = 0; j < n; ++j) r[j] = j < 4900 ? -1.0f : static_cast<float>(j);  // skewed
  rows.push_back(r);
  std::normal_distribution<float> normal;
  for (auto& v : r) v = normal(rng);  // both signs: the ordering of negative scores
  rows.push_back(r);
  for (int64_t j = 0; j < n; ++j)  // -0 and +0 tie (the index decides), around small negatives
    r[j] = j % 3 == 0 ? -0.0f : (j % 3 == 1 ? 0.0f : -static_cast<float>(rng() % 5) * 1e-3f);
  rows.push_back(r);
  for (size_t t = 0; t < rows.size(); ++t) {
    const std::vector<int64_t> full = full_ranking(rows[t].data(), n);
    int64_t numbers = 0;
    for (float v : rows[t]) numbers += !std::isnan(v);
    for (int64_t k : {1, 10, 100, 250}) {
      std::vector<float> best(k);
      std::vector<int64_t> ids(k, -7);
      const int64_t filled = topk_of_row(rows[t].data(), n, k, best.data(), ids.data());
      ASSERT_EQ(filled, std::min(k, numbers)) << "row " << t << " k " << k;
      for (int64_t i = 0; i < filled; ++i) {
        ASSERT_EQ(ids[i], full[i]) << "row " << t << " k " << k << " rank " << i;
        ASSERT_EQ(best[i], rows[t][full[i]]);
      }
    }
  }
}

TEST(EvaluateTopIds, EqualTheFullRankingHeadWithTies) {
  // Scores with many exact ties (coarse values) so that the tie rule matters.
  // nb = 3000: k = 10 and 100 take the sampled bound, k = 1000 the streaming scan.
  const int64_t nq = 37, nb = 3000, d = 4;
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> coarse(0, 3);
  std::vector<float> q(nq * d), x(nb * d);
  for (float& v : q) v = static_cast<float>(coarse(rng));
  for (float& v : x) v = static_cast<float>(coarse(rng));
  InnerProductScores scores(q.data(), nq, x.data(), nb, d);
  std::vector<std::vector<int64_t>> ok(nq), junk(nq);
  for (int64_t i = 0; i < nq; ++i)
    if (i % 5 != 0) ok[i] = {i, i + 50};  // every fifth query has no positive
  for (int64_t k : {1, 10, 100, 1000, 5000}) {
    EvalOptions opt;
    opt.top_k = k;
    opt.bootstrap_samples = 0;
    opt.threads = 2;
    opt.block_queries = 8;
    const EvalResult r = evaluate(scores, ok, junk, opt);
    const int64_t kk = std::min(k, nb);
    ASSERT_EQ(r.top_k, kk);
    ASSERT_EQ(r.top_ids.size(), static_cast<size_t>(nq * kk));
    std::vector<float> row(nb);
    for (int64_t i = 0; i < nq; ++i) {
      scores.compute(i, 1, 0, nb, row.data(), nb);
      const std::vector<int64_t> full = full_ranking(row.data(), nb);
      for (int64_t j = 0; j < kk; ++j)
        ASSERT_EQ(r.top_ids[i * kk + j], full[j]) << "query " << i << " rank " << j << " k " << k;
    }
  }
  EvalOptions none;
  none.bootstrap_samples = 0;
  const EvalResult r0 = evaluate(scores, ok, junk, none);
  EXPECT_EQ(r0.top_k, 0);
  EXPECT_TRUE(r0.top_ids.empty());
  none.top_k = -1;
  EXPECT_THROW(evaluate(scores, ok, junk, none), Error);
}

// evaluate() takes the position of an item that is among the top ids from the list and counts
// only the others: the metrics must not depend on top_k. Positives and junk are drawn from the
// head of each ranking (so that most are in the list), with ties, repeats and a deep item.
TEST(EvaluateTopIds, MetricsDoNotDependOnTopK) {
  const int64_t nq = 29, nb = 4000, d = 4;
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> coarse(-2, 3);
  std::vector<float> q(nq * d), x(nb * d);
  for (float& v : q) v = static_cast<float>(coarse(rng));
  for (float& v : x) v = static_cast<float>(coarse(rng));
  InnerProductScores scores(q.data(), nq, x.data(), nb, d);
  std::vector<std::vector<int64_t>> ok(nq), junk(nq);
  std::vector<float> row(nb);
  for (int64_t i = 0; i < nq; ++i) {
    scores.compute(i, 1, 0, nb, row.data(), nb);
    const std::vector<int64_t> full = full_ranking(row.data(), nb);
    if (i % 7 == 3) continue;  // no positive
    ok[i] = {full[0], full[2], full[9], full[99], full[100], full[rng() % nb], full[2]};
    junk[i] = {full[1], full[50], full[nb - 1]};
  }
  EvalOptions base;
  base.bootstrap_samples = 0;
  base.threads = 2;
  base.block_queries = 5;
  base.ks = {1, 5, 10};
  const EvalResult r0 = evaluate(scores, ok, junk, base);
  for (int64_t k : {1, 3, 10, 100, 101, 1000}) {
    EvalOptions opt = base;
    opt.top_k = k;
    const EvalResult r = evaluate(scores, ok, junk, opt);
    for (int64_t i = 0; i < nq; ++i) {
      if (std::isnan(r0.ap[i])) {
        EXPECT_TRUE(std::isnan(r.ap[i])) << "query " << i << " k " << k;
        continue;
      }
      EXPECT_EQ(r.ap[i], r0.ap[i]) << "query " << i << " k " << k;
      EXPECT_EQ(r.precision_at_k[i], r0.precision_at_k[i]) << "query " << i << " k " << k;
    }
    EXPECT_EQ(r.map, r0.map) << "k " << k;
  }
}

}  // namespace
}  // namespace repbench::metrics
