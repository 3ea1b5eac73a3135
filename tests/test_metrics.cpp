// Tests of metrics/: the revisitop test vectors of docs/PROTOCOLS.md §2.3, positions vs full
// rankings, evaluate() vs the sort-based reference and a literal brute force, block and thread
// independence, top-k vs brute force, bootstrap determinism, and input validation.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "metrics/ap.h"
#include "metrics/bootstrap.h"
#include "metrics/descriptor_scores.h"
#include "metrics/evaluate.h"
#include "metrics/inner_product.h"
#include "metrics/ranking.h"
#include "metrics/symmetric_scores.h"
#include "metrics/topk.h"
#include "support/bad_input.h"

namespace repbench::metrics {
namespace {

using ::testing::HasSubstr;
using Lists = std::vector<std::vector<int64_t>>;

constexpr double kTol = 1e-9;

// ---------------------------------------------------------------------------------------------
// Literal brute force, written from revisitop's compute_map (python/evaluate.py) line by line:
// np.in1d positions, the two-pointer junk walk, compute_ap, and mP@k with kq = min(max(pos), k).

struct Reference {
  double ap;
  std::vector<double> pk;
};

Reference revisitop_query(const std::vector<int64_t>& ranking, const std::vector<int64_t>& ok,
                          const std::vector<int64_t>& junk, const std::vector<int>& ks) {
  Reference r;
  if (ok.empty()) {
    r.ap = std::nan("");
    r.pk.assign(ks.size(), std::nan(""));
    return r;
  }
  auto in = [](const std::vector<int64_t>& v, int64_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  std::vector<int64_t> pos, jpos;
  for (size_t p = 0; p < ranking.size(); ++p) {
    if (in(ok, ranking[p])) pos.push_back(static_cast<int64_t>(p));
    if (in(junk, ranking[p])) jpos.push_back(static_cast<int64_t>(p));
  }
  int64_t k = 0;
  size_t ij = 0;
  if (!jpos.empty()) {
    for (size_t ip = 0; ip < pos.size(); ++ip) {
      while (ij < jpos.size() && pos[ip] > jpos[ij]) {
        ++k;
        ++ij;
      }
      pos[ip] -= k;
    }
  }
  double ap = 0;
  const double recall_step = 1.0 / static_cast<double>(ok.size());
  for (size_t j = 0; j < pos.size(); ++j) {
    const double rank = static_cast<double>(pos[j]);
    const double p0 = pos[j] == 0 ? 1.0 : static_cast<double>(j) / rank;
    const double p1 = static_cast<double>(j + 1) / (rank + 1);
    ap += (p0 + p1) * recall_step / 2.0;
  }
  r.ap = ap;
  for (int kk : ks) {
    int64_t mx = 0;
    for (int64_t p : pos) mx = std::max(mx, p + 1);
    const int64_t kq = std::min<int64_t>(mx, kk);
    int64_t c = 0;
    for (int64_t p : pos) c += p + 1 <= kq;
    r.pk.push_back(pos.empty() ? 0.0 : static_cast<double>(c) / static_cast<double>(kq));
  }
  return r;
}

// Positions of `items` in `ranking` (-1 if absent).
std::vector<int64_t> positions_of(const std::vector<int64_t>& ranking,
                                  const std::vector<int64_t>& items) {
  std::vector<int64_t> out;
  for (int64_t i : items) {
    auto it = std::find(ranking.begin(), ranking.end(), i);
    if (it != ranking.end()) out.push_back(it - ranking.begin());
  }
  return out;
}

const std::vector<int64_t> kRanking = {3, 7, 1, 9, 0, 2, 4, 5, 6, 8};

QueryMetrics score_in_ranking(const std::vector<int64_t>& ok, const std::vector<int64_t>& junk,
                              ApKind kind = ApKind::kTrapezoid,
                              const std::vector<int>& ks = {1, 5, 10},
                              const std::vector<int>& recall_ks = {}) {
  return score_query(positions_of(kRanking, ok), positions_of(kRanking, junk),
                     static_cast<int64_t>(ok.size()), kind, ks, recall_ks);
}

// ---------------------------------------------------------------------------------------------
// §2.3 test vectors.

TEST(ApTest, RevisitopVectorWithJunk) {
  QueryMetrics m = score_in_ranking({7, 0, 5}, {1});
  EXPECT_NEAR(m.ap, 0.3492063492, 1e-10);
  ASSERT_EQ(m.precision_at_k.size(), 3u);
  EXPECT_NEAR(m.precision_at_k[0], 0.0, kTol);
  EXPECT_NEAR(m.precision_at_k[1], 0.4, kTol);
  EXPECT_NEAR(m.precision_at_k[2], 0.4285714286, 1e-10);
}

TEST(ApTest, RevisitopVectorNoJunk) {
  QueryMetrics m = score_in_ranking({7, 0, 5}, {});
  EXPECT_NEAR(m.ap, 0.3017857143, 1e-10);
  EXPECT_NEAR(m.precision_at_k[0], 0.0, kTol);
  EXPECT_NEAR(m.precision_at_k[1], 0.4, kTol);
  EXPECT_NEAR(m.precision_at_k[2], 0.375, kTol);
}

TEST(ApTest, NonInterpolatedVector) {
  EXPECT_NEAR(score_in_ranking({7, 0, 5}, {}, ApKind::kNonInterpolated).ap, 0.425, kTol);
  // Junk removal applies to it too: adjusted [1, 3, 6] -> (1/2 + 2/4 + 3/7) / 3.
  EXPECT_NEAR(score_in_ranking({7, 0, 5}, {1}, ApKind::kNonInterpolated).ap,
              (0.5 + 0.5 + 3.0 / 7.0) / 3.0, kTol);
}

TEST(ApTest, SmallVectors) {
  EXPECT_NEAR(score_in_ranking({3}, {}).ap, 1.0, kTol);
  EXPECT_NEAR(score_in_ranking({7, 99}, {}).ap, 0.125, kTol);  // 99 never ranked, n = 2
  EXPECT_NEAR(score_in_ranking({7}, {3}).ap, 1.0, kTol);       // junk ahead is removed
}

TEST(ApTest, PrecisionQuirkTakesLastPositive) {
  // ok {3, 7} at ranks 1, 2: P@10 is taken at kq = 2, so it is 1, not 0.2.
  QueryMetrics m = score_in_ranking({3, 7}, {});
  EXPECT_NEAR(m.precision_at_k[2], 1.0, kTol);
}

TEST(ApTest, EmptyOkIsNaN) {
  QueryMetrics m = score_query({}, {}, 0, ApKind::kTrapezoid, {1, 5}, {1});
  EXPECT_TRUE(std::isnan(m.ap));
  EXPECT_TRUE(std::isnan(m.precision_at_k[0]));
  EXPECT_TRUE(std::isnan(m.recall_at_k[0]));
}

TEST(ApTest, RecallAtK) {
  // ok {0, 5} at positions 4 and 7; junk {1} at 2 -> adjusted 3 and 6 (1-based 4 and 7).
  QueryMetrics m = score_in_ranking({0, 5}, {1}, ApKind::kTrapezoid, {1}, {1, 2, 3, 4, 8});
  EXPECT_THAT(m.recall_at_k, ::testing::ElementsAre(0.0, 0.0, 0.0, 1.0, 1.0));
  QueryMetrics none = score_query({}, {}, 2, ApKind::kTrapezoid, {1}, {1, 100});
  EXPECT_THAT(none.recall_at_k, ::testing::ElementsAre(0.0, 0.0));
  EXPECT_EQ(none.ap, 0.0);
  EXPECT_EQ(none.precision_at_k[0], 0.0);
}

TEST(ApTest, RejectsBadInput) {
  EXPECT_ERROR_CONTAINS(score_query({0, 1, 2}, {}, 2, ApKind::kTrapezoid, {1}),
                        "3 distinct ok positions but only n_ok = 2 ok items");
  EXPECT_ERROR_CONTAINS(score_query({-1}, {}, 1, ApKind::kTrapezoid, {1}),
                        "ok position -1 is negative");
  EXPECT_ERROR_CONTAINS(score_query({0}, {}, 1, ApKind::kTrapezoid, {0}),
                        "precision@k: expected k >= 1, found 0");
  EXPECT_ERROR_CONTAINS(score_query({0}, {}, 1, ApKind::kTrapezoid, {1}, {0}),
                        "Recall@K: expected K >= 1, found 0");
}

TEST(ApTest, MatchesLiteralReferenceOnRandomLists) {
  std::mt19937_64 rng(7);
  const std::vector<int> ks = {1, 3, 5, 10, 50};
  for (int trial = 0; trial < 500; ++trial) {
    const int64_t nb = 1 + static_cast<int64_t>(rng() % 60);
    std::vector<int64_t> ranking(nb);
    std::iota(ranking.begin(), ranking.end(), 0);
    std::shuffle(ranking.begin(), ranking.end(), rng);
    std::vector<int64_t> ok, junk;
    for (int64_t i = 0; i < nb + 3; ++i) {  // indices >= nb are never ranked
      const auto u = rng() % 10;
      if (u < 2)
        ok.push_back(i);
      else if (u < 4)
        junk.push_back(i);
      else if (u == 4 && !ok.empty())
        junk.push_back(ok.back());  // in both lists
    }
    Reference ref = revisitop_query(ranking, ok, junk, ks);
    QueryMetrics m = score_query(positions_of(ranking, ok), positions_of(ranking, junk),
                                 static_cast<int64_t>(ok.size()), ApKind::kTrapezoid, ks);
    if (ok.empty()) {
      EXPECT_TRUE(std::isnan(m.ap));
      continue;
    }
    EXPECT_NEAR(m.ap, ref.ap, kTol) << "trial " << trial;
    for (size_t i = 0; i < ks.size(); ++i) EXPECT_NEAR(m.precision_at_k[i], ref.pk[i], kTol);
  }
}

// ---------------------------------------------------------------------------------------------
// Rankings and positions.

TEST(RankingTest, TieRuleAscendingIndex) {
  const std::vector<float> s = {0.5f, 0.9f, 0.5f, 0.9f, 0.1f};
  EXPECT_THAT(full_ranking(s.data(), 5), ::testing::ElementsAre(1, 3, 0, 2, 4));
}

TEST(RankingTest, NaNRanksLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> s = {nan, 0.2f, nan, -std::numeric_limits<float>::infinity()};
  EXPECT_THAT(full_ranking(s.data(), 4), ::testing::ElementsAre(1, 3, 0, 2));
  const int64_t item = 1;
  int64_t pos = -1;
  positions_in_ranking(s.data(), 4, &item, 1, &pos);
  EXPECT_EQ(pos, 0);
  const int64_t nan_item = 2;
  EXPECT_ERROR_CONTAINS(positions_in_ranking(s.data(), 4, &nan_item, 1, &pos),
                        "the score of db item 2 is NaN");
}

// Random rows with few distinct values (many ties), all item counts from 0 to 80 (both the
// direct-count path and the binary-search path), repeated items included.
TEST(RankingTest, PositionsMatchFullRankingWithTies) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t nb = 1 + static_cast<int64_t>(rng() % 300);
    const int levels = 1 + static_cast<int>(rng() % 6);
    std::vector<float> s(nb);
    for (float& x : s) x = static_cast<float>(static_cast<int>(rng() % levels)) * 0.25f - 0.5f;
    if (trial % 3 == 0) s[rng() % nb] = -0.0f;  // -0 equals +0
    const std::vector<int64_t> ranking = full_ranking(s.data(), nb);
    std::vector<int64_t> where(nb);
    for (int64_t p = 0; p < nb; ++p) where[ranking[p]] = p;
    const int64_t m = static_cast<int64_t>(rng() % 81);
    std::vector<int64_t> items(m), pos(m, -7);
    for (int64_t& i : items) i = static_cast<int64_t>(rng() % nb);
    positions_in_ranking(s.data(), nb, items.data(), m, pos.data());
    for (int64_t t = 0; t < m; ++t)
      ASSERT_EQ(pos[t], where[items[t]]) << "trial " << trial << " nb " << nb << " m " << m;
  }
}

// Items among the best-scored entries: few candidates, so the tree search is used; up to 600
// items (three tree levels), ties within the items and with other entries, repeats.
TEST(RankingTest, PositionsOfTopItemsMatchFullRanking) {
  std::mt19937_64 rng(43);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t nb = 2000 + static_cast<int64_t>(rng() % 4000);
    const int levels = 40 + static_cast<int>(rng() % 200);
    std::vector<float> s(nb);
    for (float& x : s) x = static_cast<float>(static_cast<int>(rng() % levels)) / 8.0f;
    const std::vector<int64_t> ranking = full_ranking(s.data(), nb);
    std::vector<int64_t> where(nb);
    for (int64_t p = 0; p < nb; ++p) where[ranking[p]] = p;
    const int64_t m = 3 + static_cast<int64_t>(rng() % 600);
    const int64_t pool = std::min<int64_t>(nb, m + m / 2);  // the best m * 1.5 entries
    std::vector<int64_t> items(m), pos(m);
    for (int64_t& i : items) i = ranking[rng() % pool];
    positions_in_ranking(s.data(), nb, items.data(), m, pos.data());
    for (int64_t t = 0; t < m; ++t)
      ASSERT_EQ(pos[t], where[items[t]]) << "trial " << trial << " nb " << nb << " m " << m;
  }
}

TEST(RankingTest, PositionsRejectOutOfRange) {
  const std::vector<float> s = {0.1f, 0.2f};
  const int64_t items[] = {0, 2};
  int64_t pos[2];
  EXPECT_ERROR_CONTAINS(positions_in_ranking(s.data(), 2, items, 2, pos), "db index 2");
}

// ---------------------------------------------------------------------------------------------
// Whole-set evaluation.

// Descriptors with entries in {-1, 0, 1}: inner products are small exact integers, so ties are
// frequent and independent of the summation order of any BLAS.
std::vector<float> ternary(int64_t n, int64_t d, std::mt19937_64& rng) {
  std::vector<float> x(n * d);
  for (float& v : x) v = static_cast<float>(static_cast<int>(rng() % 3) - 1);
  return x;
}

struct RandomSet {
  int64_t nq, nb, d;
  std::vector<float> q, db;
  Lists ok, junk;
};

RandomSet random_set(int64_t nq, int64_t nb, int64_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  RandomSet r{nq, nb, d, ternary(nq, d, rng), ternary(nb, d, rng), {}, {}};
  r.ok.resize(nq);
  r.junk.resize(nq);
  for (int64_t i = 0; i < nq; ++i) {
    if (i % 7 == 3) continue;  // empty ok (may still have junk below)
    const int64_t nok = 1 + static_cast<int64_t>(rng() % (i % 4 == 0 ? 40 : 8));
    for (int64_t t = 0; t < nok; ++t) r.ok[i].push_back(static_cast<int64_t>(rng() % nb));
  }
  for (int64_t i = 0; i < nq; ++i) {
    const int64_t nj = static_cast<int64_t>(rng() % 5);
    for (int64_t t = 0; t < nj; ++t) r.junk[i].push_back(static_cast<int64_t>(rng() % nb));
  }
  return r;
}

std::vector<float> all_scores(const ScoreSource& s) {
  std::vector<float> out(s.nq() * s.nb());
  s.compute(0, s.nq(), 0, s.nb(), out.data(), s.nb());
  return out;
}

void expect_same(const EvalResult& a, const EvalResult& b, double tol) {
  ASSERT_EQ(a.ap.size(), b.ap.size());
  for (size_t q = 0; q < a.ap.size(); ++q) {
    if (std::isnan(b.ap[q])) {
      EXPECT_TRUE(std::isnan(a.ap[q])) << "query " << q;
      continue;
    }
    EXPECT_NEAR(a.ap[q], b.ap[q], tol) << "query " << q;
    for (size_t i = 0; i < b.precision_at_k[q].size(); ++i)
      EXPECT_NEAR(a.precision_at_k[q][i], b.precision_at_k[q][i], tol) << "query " << q;
    for (size_t i = 0; i < b.recall_at_k[q].size(); ++i)
      EXPECT_EQ(a.recall_at_k[q][i], b.recall_at_k[q][i]) << "query " << q;
  }
  EXPECT_NEAR(a.map, b.map, tol);
  EXPECT_EQ(a.queries_scored, b.queries_scored);
  EXPECT_EQ(a.queries_empty, b.queries_empty);
  for (size_t i = 0; i < b.mp_at_k.size(); ++i) EXPECT_NEAR(a.mp_at_k[i], b.mp_at_k[i], tol);
  for (size_t i = 0; i < b.mrecall_at_k.size(); ++i)
    EXPECT_NEAR(a.mrecall_at_k[i], b.mrecall_at_k[i], tol);
}

TEST(EvaluateTest, MatchesRankingAndBruteForce) {
  RandomSet set = random_set(57, 230, 6, 1);
  InnerProductScores scores(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  EvalOptions opt;
  opt.ks = {1, 5, 10, 100};
  opt.recall_ks = {1, 2, 4, 8};
  opt.bootstrap_samples = 200;
  const EvalResult fast = evaluate(scores, set.ok, set.junk, opt);

  const std::vector<float> s = all_scores(scores);
  std::vector<int64_t> ranks;
  for (int64_t q = 0; q < set.nq; ++q) {
    const std::vector<int64_t> row = full_ranking(s.data() + q * set.nb, set.nb);
    ranks.insert(ranks.end(), row.begin(), row.end());
  }
  const EvalResult ref = evaluate_ranking(ranks, set.nq, set.nb, set.ok, set.junk, opt);
  expect_same(fast, ref, 0.0);  // same positions, same arithmetic: bit-identical
  EXPECT_EQ(fast.map_ci_low, ref.map_ci_low);
  EXPECT_EQ(fast.map_ci_high, ref.map_ci_high);

  // The literal brute force, and mAP over non-empty queries only.
  double sum = 0;
  int64_t scored = 0;
  for (int64_t q = 0; q < set.nq; ++q) {
    const std::vector<int64_t> row(ranks.begin() + q * set.nb, ranks.begin() + (q + 1) * set.nb);
    Reference r = revisitop_query(row, set.ok[q], set.junk[q], opt.ks);
    if (set.ok[q].empty()) {
      EXPECT_TRUE(std::isnan(fast.ap[q]));
      continue;
    }
    EXPECT_NEAR(fast.ap[q], r.ap, kTol) << "query " << q;
    for (size_t i = 0; i < opt.ks.size(); ++i)
      EXPECT_NEAR(fast.precision_at_k[q][i], r.pk[i], kTol) << "query " << q;
    sum += r.ap;
    ++scored;
  }
  EXPECT_EQ(fast.queries_scored, scored);
  EXPECT_EQ(fast.queries_empty, set.nq - scored);
  EXPECT_GT(fast.queries_empty, 0);
  EXPECT_NEAR(fast.map, sum / static_cast<double>(scored), kTol);
  EXPECT_LE(fast.map_ci_low, fast.map);
  EXPECT_GE(fast.map_ci_high, fast.map);
}

// Ok and junk among each query's best-ranked items, as with a good descriptor: positions are then
// found by the tree search rather than by direct counting; the result must not change.
TEST(EvaluateTest, GoodRetrievalMatchesRanking) {
  RandomSet set = random_set(20, 3000, 8, 13);
  InnerProductScores scores(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  const std::vector<float> s = all_scores(scores);
  std::vector<int64_t> ranks;
  std::mt19937_64 rng(14);
  for (int64_t q = 0; q < set.nq; ++q) {
    const std::vector<int64_t> row = full_ranking(s.data() + q * set.nb, set.nb);
    ranks.insert(ranks.end(), row.begin(), row.end());
    set.ok[q].clear();
    set.junk[q].clear();
    for (int t = 0; t < 40; ++t) set.ok[q].push_back(row[rng() % 60]);
    for (int t = 0; t < 5; ++t) set.junk[q].push_back(row[rng() % 100]);
  }
  EvalOptions opt;
  opt.recall_ks = {1, 10};
  expect_same(evaluate(scores, set.ok, set.junk, opt),
              evaluate_ranking(ranks, set.nq, set.nb, set.ok, set.junk, opt), 0.0);
}

TEST(EvaluateTest, NonInterpolatedMatchesGpr1200Formula) {
  RandomSet set = random_set(20, 90, 5, 3);
  InnerProductScores scores(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  EvalOptions opt;
  opt.ap_kind = ApKind::kNonInterpolated;
  opt.bootstrap_samples = 0;
  Lists no_junk(set.nq);
  const EvalResult r = evaluate(scores, set.ok, no_junk, opt);
  const std::vector<float> s = all_scores(scores);
  for (int64_t q = 0; q < set.nq; ++q) {
    if (set.ok[q].empty()) continue;
    // GPR1200 eval/utils.py: AP = (1 / n_pos) sum over hits of hits-so-far / 1-based rank.
    const std::vector<int64_t> row = full_ranking(s.data() + q * set.nb, set.nb);
    std::vector<int64_t> uniq = set.ok[q];
    std::sort(uniq.begin(), uniq.end());
    uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
    double ap = 0;
    int hits = 0;
    for (int64_t p = 0; p < set.nb; ++p) {
      if (std::binary_search(uniq.begin(), uniq.end(), row[p])) {
        ++hits;
        ap += static_cast<double>(hits) / static_cast<double>(p + 1);
      }
    }
    EXPECT_NEAR(r.ap[q], ap / static_cast<double>(set.ok[q].size()), kTol) << "query " << q;
  }
  EXPECT_TRUE(std::isnan(r.map_ci_low));
}

TEST(EvaluateTest, IndependentOfBlocksThreadsAndBlasThreading) {
  RandomSet set = random_set(101, 333, 8, 5);
  InnerProductScores scores(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  EvalOptions opt;
  opt.recall_ks = {1, 4};
  const EvalResult base = evaluate(scores, set.ok, set.junk, opt);
  for (int64_t block : {1, 7, 64, 500}) {
    for (int threads : {1, 2, 3}) {
      for (BlasThreading bt : {BlasThreading::kPerThread, BlasThreading::kShared}) {
        EvalOptions o = opt;
        o.block_queries = block;
        o.threads = threads;
        o.blas_threading = bt;
        SCOPED_TRACE(::testing::Message() << "block " << block << " threads " << threads);
        const EvalResult r = evaluate(scores, set.ok, set.junk, o);
        expect_same(r, base, 0.0);
        EXPECT_EQ(r.map_ci_low, base.map_ci_low);
        EXPECT_EQ(r.map_ci_high, base.map_ci_high);
      }
    }
  }
}

TEST(EvaluateTest, AllEmptyQueriesGiveNaN) {
  RandomSet set = random_set(4, 10, 3, 9);
  InnerProductScores scores(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  const EvalResult r = evaluate(scores, Lists(4), Lists(4));
  EXPECT_TRUE(std::isnan(r.map));
  EXPECT_TRUE(std::isnan(r.mp_at_k[0]));
  EXPECT_TRUE(std::isnan(r.map_ci_low));
  EXPECT_EQ(r.queries_scored, 0);
  EXPECT_EQ(r.queries_empty, 4);
}

TEST(EvaluateTest, RejectsBadInputNamingTheQuery) {
  RandomSet set = random_set(5, 12, 3, 11);
  InnerProductScores scores(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  Lists ok(5), junk(5);
  ok[3] = {1, 12};
  {
    const std::string e = test_support::error_of([&] { evaluate(scores, ok, junk); });
    EXPECT_TRUE(test_support::is_one_line_error(e, "query 3"));
    EXPECT_TRUE(test_support::is_one_line_error(e, "ok[1] = 12"));
  }
  ok[3] = {1};
  junk[2] = {-1};
  {
    const std::string e = test_support::error_of([&] { evaluate(scores, ok, junk); });
    EXPECT_TRUE(test_support::is_one_line_error(e, "query 2"));
    EXPECT_TRUE(test_support::is_one_line_error(e, "junk[0] = -1"));
  }
  EXPECT_ERROR_CONTAINS(evaluate(scores, Lists(4), Lists(5)),
                        "5 queries scored but ground truth has ok lists for 4");
  EXPECT_ERROR_CONTAINS(evaluate(scores, Lists(5), Lists(6)),
                        "5 queries scored but ground truth has junk lists for 6");
  EvalOptions bad;
  bad.ks = {0};
  EXPECT_ERROR_CONTAINS(evaluate(scores, Lists(5), Lists(5), bad),
                        "expected every precision@k cut-off >= 1, found 0");
  EXPECT_ERROR_CONTAINS(evaluate_ranking({0, 1}, 1, 3, Lists(1), Lists(1)),
                        "expected ranks of size nq x nb = 1 x 3, found 2 entries");
  EXPECT_ERROR_CONTAINS(evaluate_ranking({0, 5}, 1, 2, Lists(1), Lists(1)),
                        "query 0: ranks entry 1 is 5, outside [0, 2)");
}

// A ScoreSource that returns NaN for one (query, db) pair.
class NaNScores : public ScoreSource {
 public:
  int64_t nq() const override { return 4; }
  int64_t nb() const override { return 6; }
  void compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
               int64_t ld) const override {
    for (int64_t i = 0; i < qn; ++i)
      for (int64_t j = 0; j < bn; ++j)
        out[i * ld + j] = (q0 + i == 2 && b0 + j == 4) ? std::nanf("")
                                                       : static_cast<float>((q0 + i + b0 + j) % 3);
  }
  double flops_per_score() const override { return 1; }
};

TEST(EvaluateTest, NaNScoreOfAnItemNamesTheQuery) {
  NaNScores s;
  Lists ok = {{1}, {2}, {4}, {0}}, junk(4);
  {
    const std::string e = test_support::error_of([&] { evaluate(s, ok, junk); });
    EXPECT_TRUE(test_support::is_one_line_error(e, "query 2"));
    EXPECT_TRUE(test_support::is_one_line_error(e, "NaN"));
  }
}

TEST(EvaluateTest, RevisitopVectorThroughEvaluateRanking) {
  // evaluate_ranking reproduces the §2.3 vectors, including the never-ranked ok item 99.
  const Lists ok = {{7, 0, 5}, {7, 0, 5}, {3}, {7, 99}, {7}, {}};
  const Lists junk = {{1}, {}, {}, {}, {3}, {2}};
  std::vector<int64_t> ranks;
  for (int i = 0; i < 6; ++i) ranks.insert(ranks.end(), kRanking.begin(), kRanking.end());
  EvalOptions opt;
  opt.bootstrap_samples = 0;
  const EvalResult r = evaluate_ranking(ranks, 6, 10, ok, junk, opt);
  EXPECT_NEAR(r.ap[0], 0.3492063492, 1e-10);
  EXPECT_NEAR(r.ap[1], 0.3017857143, 1e-10);
  EXPECT_NEAR(r.ap[2], 1.0, kTol);
  EXPECT_NEAR(r.ap[3], 0.125, kTol);
  EXPECT_NEAR(r.ap[4], 1.0, kTol);
  EXPECT_TRUE(std::isnan(r.ap[5]));
  EXPECT_EQ(r.queries_scored, 5);
  EXPECT_NEAR(r.map, (0.3492063492063492 + 0.3017857142857143 + 1 + 0.125 + 1) / 5, 1e-10);
  EXPECT_NEAR(r.mp_at_k[1], (0.4 + 0.4 + 1.0 / 1 + 0.5 + 1.0) / 5, kTol);
}

TEST(EvaluateTest, MeanByGroupInFirstSeenOrder) {
  const std::vector<double> v = {0.5, std::nan(""), 0.25, 1.0, 0.0};
  const std::vector<GroupMean> g = mean_by_group(v, {"b", "a", "", "b", "a"});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].group, "b");
  EXPECT_NEAR(g[0].mean, 0.75, kTol);
  EXPECT_EQ(g[0].members, 2);
  EXPECT_EQ(g[1].group, "a");
  EXPECT_NEAR(g[1].mean, 0.0, kTol);  // the NaN member is left out of the mean, not the count
  EXPECT_EQ(g[1].members, 2);
  EXPECT_TRUE(mean_by_group(v, {}).empty());
  EXPECT_TRUE(std::isnan(mean_by_group({std::nan("")}, {"x"})[0].mean));
  EXPECT_THROW(mean_by_group(v, {"a"}), repbench::Error);
}

TEST(EvaluateTest, MeanIgnoringNaNAndSubsets) {
  const std::vector<double> v = {0.5, std::nan(""), 0.25, 1.0};
  EXPECT_NEAR(mean_ignoring_nan(v), (0.5 + 0.25 + 1.0) / 3, kTol);
  const std::vector<int64_t> sub = {1, 2};
  EXPECT_NEAR(mean_ignoring_nan(v, &sub), 0.25, kTol);
  const std::vector<int64_t> only_nan = {1};
  EXPECT_TRUE(std::isnan(mean_ignoring_nan(v, &only_nan)));
  const std::vector<int64_t> bad = {4};
  EXPECT_ERROR_CONTAINS(mean_ignoring_nan(v, &bad), "subset index 4 is outside [0, 4)");
}

TEST(InnerProductTest, ComputesBlocksAndValidates) {
  const std::vector<float> q = {1, 2, 3, 4};         // 2 x 2
  const std::vector<float> db = {1, 0, 0, 1, 1, 1};  // 3 x 2
  InnerProductScores s(q.data(), 2, db.data(), 3, 2);
  EXPECT_EQ(s.flops_per_score(), 4.0);
  std::vector<float> out(2 * 5, -9.0f);
  s.compute(0, 2, 1, 2, out.data(), 5);  // ld > bn leaves the other columns alone
  EXPECT_THAT(out, ::testing::ElementsAre(2, 3, -9, -9, -9, 4, 7, -9, -9, -9));
  EXPECT_ERROR_CONTAINS(InnerProductScores(q.data(), 2, db.data(), 3, 0),
                        "expected descriptor dimension d >= 1, found 0");
  EXPECT_ERROR_CONTAINS(InnerProductScores(q.data(), -1, db.data(), 3, 2),
                        "expected nq >= 0 and nb >= 0, found nq = -1, nb = 3");
  EXPECT_ERROR_CONTAINS(InnerProductScores(nullptr, 2, db.data(), 3, 2),
                        "null descriptor pointer for a non-empty matrix");
}

// ---------------------------------------------------------------------------------------------
// Top-k.

void expect_topk_equals_brute_force(const ScoreSource& src, const TopKResult& r, int64_t k) {
  ASSERT_EQ(r.nq, src.nq());
  ASSERT_EQ(r.k, k);
  const std::vector<float> s = all_scores(src);
  for (int64_t q = 0; q < src.nq(); ++q) {
    const std::vector<int64_t> row = full_ranking(s.data() + q * src.nb(), src.nb());
    for (int64_t i = 0; i < k; ++i) {
      if (i < src.nb()) {
        ASSERT_EQ(r.ids[q * k + i], row[i]) << "query " << q << " rank " << i;
        ASSERT_EQ(r.scores[q * k + i], s[q * src.nb() + row[i]]);
      } else {
        ASSERT_EQ(r.ids[q * k + i], -1);
        ASSERT_EQ(r.scores[q * k + i], -std::numeric_limits<float>::infinity());
      }
    }
  }
}

TEST(TopKTest, MatchesBruteForceWithTies) {
  RandomSet set = random_set(45, 700, 5, 21);  // ternary, d = 5: scores in [-5, 5], many ties
  InnerProductScores src(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  for (int64_t k : {1, 3, 10, 64}) {
    for (int threads : {1, 2, 3}) {
      for (int64_t bq : {0, 1, 8}) {
        for (int64_t bdb : {0, 5, 16, 100}) {
          for (BlasThreading bt : {BlasThreading::kPerThread, BlasThreading::kShared}) {
            // kShared alternates a multi-threaded sgemm and a parallel region per block; with
            // tiny blocks the two thread pools spin against each other (seconds per call), so
            // it is checked on a few shapes only.
            if (bt == BlasThreading::kShared && (threads == 3 || bq != 0 || bdb == 5)) continue;
            TopKOptions o;
            o.k = k;
            o.threads = threads;
            o.block_queries = bq;
            o.block_db = bdb;
            o.blas_threading = bt;
            SCOPED_TRACE(::testing::Message()
                         << "k " << k << " threads " << threads << " bq " << bq << " bdb " << bdb);
            expect_topk_equals_brute_force(src, search_topk(src, o), k);
          }
        }
      }
    }
  }
}

TEST(TopKTest, KAtLeastNb) {
  RandomSet set = random_set(6, 9, 4, 23);
  InnerProductScores src(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  expect_topk_equals_brute_force(src, search_topk(src, 9, 2), 9);
  expect_topk_equals_brute_force(src, search_topk(src, 15, 2), 15);
  TopKOptions o;
  o.k = 12;
  o.block_db = 2;  // db split across workers, short lists merged and padded
  o.threads = 3;
  expect_topk_equals_brute_force(src, search_topk(src, o), 12);
}

TEST(TopKTest, SingleQuerySplitsDatabase) {
  RandomSet set = random_set(1, 5000, 4, 25);
  InnerProductScores src(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  TopKOptions o;
  o.k = 20;
  o.threads = 2;
  o.block_db = 256;
  expect_topk_equals_brute_force(src, search_topk(src, o), 20);
}

TEST(TopKTest, NaNIsNeverReturned) {
  NaNScores s;
  const TopKResult r = search_topk(s, 6, 1);
  for (int64_t i = 0; i < 6; ++i) EXPECT_NE(r.ids[2 * 6 + i], 4);
  EXPECT_EQ(r.ids[2 * 6 + 5], -1);
}

TEST(TopKTest, RejectsBadK) {
  NaNScores s;
  EXPECT_ERROR_CONTAINS(search_topk(s, 0), "search_topk: expected k >= 1, found 0");
}

// ---------------------------------------------------------------------------------------------
// Threading helpers.

TEST(ParallelTest, BlasThreadsScopeRestoresTheCount) {
  const int before = blas_num_threads();
  {
    BlasThreadsScope outer(1);
    EXPECT_EQ(blas_num_threads(), 1);
    {
      BlasThreadsScope inner(3);
      EXPECT_EQ(blas_num_threads(), 3);
    }
    EXPECT_EQ(blas_num_threads(), 3);  // the latest request holds until the last scope ends
  }
  EXPECT_EQ(blas_num_threads(), before);
  RandomSet set = random_set(30, 50, 4, 31);
  InnerProductScores src(set.q.data(), set.nq, set.db.data(), set.nb, set.d);
  search_topk(src, 5, 2);
  evaluate(src, set.ok, set.junk);
  EXPECT_EQ(blas_num_threads(), before);
}

TEST(ParallelTest, ParallelForRunsEveryItemAndRethrows) {
  std::vector<int> hits(1000, 0);
  parallel_for(1000, 3, [&](int64_t i, int t) {
    EXPECT_GE(t, 0);
    EXPECT_LT(t, 3);
    ++hits[i];
  });
  EXPECT_EQ(std::count(hits.begin(), hits.end(), 1), 1000);
  // An item's Error reaches the caller unchanged.
  EXPECT_ERROR_CONTAINS(parallel_for(100, 2,
                                     [](int64_t i, int) {
                                       if (i == 37) fail("item {}", i);
                                     }),
                        "item 37");
}

// ---------------------------------------------------------------------------------------------
// Bootstrap.

TEST(BootstrapTest, GeneratorsMatchPublishedVectors) {
  // splitmix64 from state 0 (the reference splitmix64.c), and xoshiro256** from state
  // {1, 2, 3, 4} (the vectors of the rand_xoshiro crate, checked against the reference C code).
  uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xE220A8397B1DCDAFULL);
  Xoshiro256ss x = Xoshiro256ss::from_state(1, 2, 3, 4);
  const uint64_t expected[] = {11520ULL,
                               0ULL,
                               1509978240ULL,
                               1215971899390074240ULL,
                               1216172134540287360ULL,
                               607988272756665600ULL,
                               16172922978634559625ULL,
                               8476171486693032832ULL,
                               10595114339597558777ULL,
                               2904607092377533576ULL};
  for (uint64_t e : expected) EXPECT_EQ(x.next(), e);
  Xoshiro256ss a(123), b(123), c(124);
  for (int i = 0; i < 5; ++i) {
    const uint64_t v = a.next();
    EXPECT_EQ(v, b.next());
    EXPECT_NE(v, c.next());
  }
}

TEST(BootstrapTest, BelowIsInRangeAndRoughlyUniform) {
  Xoshiro256ss rng(5);
  std::vector<int> hist(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const uint64_t v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_NEAR(h, 10000, 500);
  EXPECT_EQ(rng.below(1), 0u);
}

TEST(BootstrapTest, DeterministicAndContainsMean) {
  std::mt19937_64 gen(3);
  std::vector<double> v(500);
  for (double& x : v) x = static_cast<double>(gen() % 1000) / 1000.0;
  v[10] = std::nan("");  // ignored
  const auto a = bootstrap_mean_ci(v, 1000, 17);
  const auto b = bootstrap_mean_ci(v, 1000, 17, 0.95, 1);  // thread count does not matter
  const auto c = bootstrap_mean_ci(v, 1000, 18);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const double mean = mean_ignoring_nan(v);
  EXPECT_LT(a.first, mean);
  EXPECT_GT(a.second, mean);
  // Standard error of the mean of U(0,1) with n = 499 is ~0.0129; the 95% interval is ~4 of it.
  EXPECT_NEAR(a.second - a.first, 4 * 0.0129, 0.01);
  const auto narrow = bootstrap_mean_ci(v, 1000, 17, 0.5);
  EXPECT_GT(narrow.first, a.first);
  EXPECT_LT(narrow.second, a.second);
}

TEST(BootstrapTest, EdgeCases) {
  const auto none = bootstrap_mean_ci({}, 100, 1);
  EXPECT_TRUE(std::isnan(none.first));
  const auto zero = bootstrap_mean_ci({0.5}, 0, 1);
  EXPECT_TRUE(std::isnan(zero.second));
  const auto one = bootstrap_mean_ci({0.5}, 10, 1);
  EXPECT_EQ(one.first, 0.5);
  EXPECT_EQ(one.second, 0.5);
  EXPECT_ERROR_CONTAINS(bootstrap_mean_ci({0.5}, -1, 1), "expected samples >= 0, found -1");
  EXPECT_ERROR_CONTAINS(bootstrap_mean_ci({0.5}, 10, 1, 1.0), "expected level in (0, 1), found 1");
}


// Leave-in sets: the SYRK matrix holds the sgemm's scores (up to rounding), exactly symmetric,
// and evaluation over it gives the same metrics.
TEST(SymmetricScoresTest, EqualsTheProductAndEvaluatesTheSame) {
  const int64_t n = 333, d = 40;  // not a multiple of the mirror's 64-row tiles
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  repbench::FloatArray x;
  x.shape = {n, d};
  x.data.resize(static_cast<size_t>(n * d));
  for (float& v : x.data) v = g(rng);
  const repbench::FloatArray y = x;  // another copy of the same values
  const auto sym = descriptor_scores(x, y, false, ScoreUse::kEveryRow, 2);
  ASSERT_NE(dynamic_cast<const SymmetricInnerProductScores*>(sym.get()), nullptr);
  // A few rows only (search, explain), or another matrix: the plain product.
  EXPECT_NE(dynamic_cast<const InnerProductScores*>(descriptor_scores(x, y, false).get()), nullptr);
  repbench::FloatArray z = x;
  z.data[7] += 1;
  EXPECT_NE(dynamic_cast<const InnerProductScores*>(
                descriptor_scores(x, z, false, ScoreUse::kEveryRow).get()),
            nullptr);
  const InnerProductScores plain(x.data.data(), n, x.data.data(), n, d);
  std::vector<float> a(static_cast<size_t>(n * n)), b(a.size());
  sym->compute(0, n, 0, n, a.data(), n);
  plain.compute(0, n, 0, n, b.data(), n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      ASSERT_EQ(a[i * n + j], a[j * n + i]) << i << "," << j;
      ASSERT_NEAR(a[i * n + j], b[i * n + j], 1e-4f * (1 + std::abs(b[i * n + j])));
    }
  // An inner block with a leading dimension wider than it.
  std::vector<float> blk(static_cast<size_t>(5 * 20), -7.0f);
  sym->compute(100, 5, 200, 10, blk.data(), 20);
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 10; ++j) EXPECT_EQ(blk[i * 20 + j], a[(100 + i) * n + 200 + j]);
    EXPECT_EQ(blk[i * 20 + 10], -7.0f);
  }
  // Groups of 9 as classes: each query's positives are its class, itself included (GPR1200).
  std::vector<std::vector<int64_t>> ok(static_cast<size_t>(n)), junk(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i / 9 * 9; j < std::min(n, i / 9 * 9 + 9); ++j) ok[i].push_back(j);
  EvalOptions opt;
  opt.bootstrap_samples = 0;
  opt.top_k = 5;
  const EvalResult r1 = evaluate(*sym, ok, junk, opt), r2 = evaluate(plain, ok, junk, opt);
  EXPECT_NEAR(r1.map, r2.map, 1e-12);
  EXPECT_EQ(r1.top_ids, r2.top_ids);
  EXPECT_THROW(SymmetricInnerProductScores(x.data.data(), int64_t{1} << 20, d), repbench::Error);
}

}  // namespace
}  // namespace repbench::metrics
