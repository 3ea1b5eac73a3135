// The bf16 candidate pass of exact search (docs/precision.md): bf16 rounding, the oneDNN product
// against its proven bound, adversarial near-ties whose order bf16 rounding reverses (and a bound
// halved fails on them), results identical to the fp32 path and to a brute-force reference, and
// `search` / `scan` with --precision bf16 byte-identical to --precision fp32, with the fallback
// on a CPU without bf16 instructions (oneDNN's ONEDNN_MAX_CPU_ISA=AVX2 stands in for one).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "metrics/bf16_matmul.h"
#include "metrics/bf16_scores.h"
#include "metrics/precision.h"
#include "metrics/ranking.h"
#include "scan/index.h"
#include "support/bad_input.h"
#include "support/command_test.h"

namespace repbench {
namespace {

using metrics::Precision;

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

TEST(Bf16Test, RoundsToNearestEven) {
  EXPECT_EQ(metrics::to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(metrics::to_bf16(-2.0f), 0xC000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even one (1).
  EXPECT_EQ(metrics::to_bf16(1.0f + 0x1p-8f), 0x3F80);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
  EXPECT_EQ(metrics::to_bf16(1.0f + 3 * 0x1p-8f), 0x3F82);
  EXPECT_EQ(metrics::to_bf16(1.0f + 0x1p-8f + 0x1p-16f), 0x3F81);  // above halfway
  EXPECT_EQ(metrics::to_bf16(1.0f + 0x1p-8f - 0x1p-16f), 0x3F80);  // below halfway
  EXPECT_EQ(metrics::from_bf16(0x3F81), 1.0f + 0x1p-7f);
  EXPECT_TRUE(std::isnan(metrics::from_bf16(metrics::to_bf16(std::nanf("")))));
  EXPECT_EQ(metrics::from_bf16(metrics::to_bf16(bits_float(0x7F7FFFFF))), INFINITY);  // overflow
  // Relative error at most 2^-8 over a spread of magnitudes.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-30.0f, 30.0f);
  for (int i = 0; i < 10000; ++i) {
    const float x = std::ldexp(1.0f + std::abs(u(rng)) / 30, int(u(rng))) * (i % 2 ? 1 : -1);
    EXPECT_LE(std::abs(metrics::from_bf16(metrics::to_bf16(x)) - x), 0x1p-8f * std::abs(x));
  }
}

TEST(Bf16Test, PrecisionOption) {
  EXPECT_EQ(metrics::parse_precision("auto"), Precision::kAuto);
  EXPECT_EQ(metrics::parse_precision("fp32"), Precision::kFp32);
  EXPECT_EQ(metrics::parse_precision("bf16"), Precision::kBf16);
  EXPECT_ERROR_CONTAINS(metrics::parse_precision("fp16"), "--precision 'fp16' is not known");
  EXPECT_EQ(metrics::resolve_precision(Precision::kFp32), Precision::kFp32);
  const Precision want = metrics::bf16_matmul_supported() ? Precision::kBf16 : Precision::kFp32;
  EXPECT_EQ(metrics::resolve_precision(Precision::kAuto), want);
  std::string why;
  EXPECT_EQ(metrics::resolve_precision(Precision::kBf16, &why), want);
  EXPECT_EQ(why.empty(), metrics::bf16_matmul_supported()) << why;
}

// Random rows of a normal distribution, L2-normalised when `unit`.
FloatArray random_rows(int64_t n, int64_t d, uint64_t seed, bool unit = true) {
  FloatArray a;
  a.shape = {n, d};
  a.data.resize(size_t(n * d));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (float& v : a.data) v = normal(rng);
  if (unit) l2_normalize_rows(a);
  return a;
}

TEST(Bf16Test, ProductWithinItsBound) {
  if (!metrics::bf16_matmul_supported())
    GTEST_SKIP() << "this CPU runs no bf16 product: " << metrics::bf16_matmul_impl();
  // Shapes oneDNN blocks differently (edges of every size), rows of any norm.
  const int64_t m = 37, n = 301, d = 515;
  const FloatArray q = random_rows(m, d, 1, false), x = random_rows(n, d, 2, false);
  metrics::Bf16InnerProductScores s(q.data.data(), m, x.data.data(), n, d);
  std::vector<float> c(size_t(m * (n + 3)));
  s.compute(0, m, 0, n, c.data(), n + 3);
  const metrics::RowNorms qn = metrics::row_norms(q.data.data(), m, d, true);
  const metrics::RowNorms xn = metrics::row_norms(x.data.data(), n, d, true);
  double worst = 0, largest_error = 0;
  for (int64_t i = 0; i < m; ++i) {
    const double bound = metrics::bf16_product_bound(i, qn, xn, d);
    for (int64_t j = 0; j < n; ++j) {
      long double exact = 0, rounded = 0;
      for (int64_t t = 0; t < d; ++t) {
        exact += (long double)q.row(i)[t] * x.row(j)[t];
        rounded += (long double)metrics::from_bf16(metrics::to_bf16(q.row(i)[t])) *
                   metrics::from_bf16(metrics::to_bf16(x.row(j)[t]));
      }
      const double got = c[size_t(i * (n + 3) + j)];
      ASSERT_LE(std::abs(got - double(exact)), bound) << i << " " << j;
      // The product itself is the bf16 rows' product up to f32 accumulation.
      ASSERT_LE(std::abs(got - double(rounded)),
                metrics::gamma_bound(d, 0x1p-23) * qn.bf16_norm[size_t(i)] * xn.bf16_norm_max);
      worst = std::max(worst, std::abs(got - double(exact)) / bound);
      largest_error = std::max(largest_error, std::abs(got - double(exact)));
    }
  }
  // Not vacuous: the inputs' rounding shows (bf16 keeps 8 bits), within a factor of the bound.
  EXPECT_GT(largest_error, 1e-3);
  EXPECT_GT(worst, 0.05);
}

// The exact top k under the tie rule by brute force: every row's reference score, sorted.
metrics::TopKResult brute_force(const FloatArray& train, const FloatArray& q, int64_t k) {
  metrics::TopKResult r;
  r.nq = q.rows();
  r.k = k;
  for (int64_t i = 0; i < q.rows(); ++i) {
    std::vector<std::pair<float, int64_t>> all;
    for (int64_t j = 0; j < train.rows(); ++j)
      all.emplace_back(scan::reference_score(q.row(i), train.row(j), 1, train.row_size()), j);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return metrics::ranks_before(a.first, a.second, b.first, b.second);
    });
    for (int64_t j = 0; j < k; ++j) {
      r.ids.push_back(j < int64_t(all.size()) ? all[size_t(j)].second : -1);
      r.scores.push_back(j < int64_t(all.size()) ? all[size_t(j)].first : -INFINITY);
    }
  }
  return r;
}

metrics::TopKResult search(const FloatArray& train, const FloatArray& q, int64_t k,
                           Precision precision, double bound_scale = 1.0,
                           scan::RescoreStats* stats = nullptr, const float* floor = nullptr) {
  scan::ExactSearchOptions o;
  o.precision = precision;
  o.bound_scale = bound_scale;
  o.stats = stats;
  o.floor = floor;
  return scan::exact_search(train, false, q.data.data(), q.rows(), k, 1, o);
}

// Rows engineered so that bf16 rounding reverses the order of the best two for every query. In
// the two coordinates a query weighs (0.5 each, exact in bf16; zeros elsewhere), the true best
// row y holds 1 + 2^-8 - 2^-16 twice (both round down to 1, bf16 score 1), the decoy z holds
// 1 + 2^-8 + 2^-16 and 1 + 2^-8 - 4 2^-16 (rounds to 1 + 2^-7 and 1, bf16 score 1 + 2^-8). Exact
// scores: y 1 + 2^-8 - 2^-16 > z 1 + 2^-8 - 1.5 2^-16. The bf16 error of each is about half the
// bound B (its residual, ~2^-8 sqrt 2, times |q| = 2^-0.5) in opposite directions, so y lies
// ~B below the decoy: inside the window 2B, outside a window of B. Copies of y (equal scores:
// the smaller id first), filler rows of bf16-exact values with lower scores.
struct Adversarial {
  FloatArray train, queries;
};
Adversarial adversarial(int64_t d, int64_t nq, int64_t filler, uint64_t seed) {
  const float lo = 1.0f + 0x1p-8f - 0x1p-16f, hi = 1.0f + 0x1p-8f + 0x1p-16f,
              lower = 1.0f + 0x1p-8f - 4 * 0x1p-16f;
  std::mt19937_64 rng(seed);
  Adversarial a;
  a.queries.shape = {nq, d};
  a.queries.data.assign(size_t(nq * d), 0.0f);
  std::vector<std::vector<float>> rows;
  std::uniform_int_distribution<int64_t> coord(0, d - 1);
  for (int64_t i = 0; i < nq; ++i) {
    const int64_t c0 = coord(rng);
    int64_t c1 = coord(rng);
    while (c1 == c0) c1 = coord(rng);
    a.queries.data[size_t(i * d + c0)] = a.queries.data[size_t(i * d + c1)] = 0.5f;
    std::vector<float> y(size_t(d), 0.0f), z(size_t(d), 0.0f);
    y[size_t(c0)] = y[size_t(c1)] = lo;
    z[size_t(c0)] = hi;
    z[size_t(c1)] = lower;
    rows.push_back(z);  // the decoy first: a smaller id does not save it
    rows.push_back(y);
    if (i % 3 == 0) rows.push_back(y);  // an exact copy
  }
  std::uniform_real_distribution<float> u(0.0f, 0.1f);  // small: the bound stays tight
  for (int64_t i = 0; i < filler; ++i) {
    std::vector<float> f(static_cast<size_t>(d));
    for (float& v : f) v = metrics::from_bf16(metrics::to_bf16(u(rng)));
    rows.push_back(f);
  }
  std::shuffle(rows.begin(), rows.end(), rng);
  a.train.shape = {int64_t(rows.size()), d};
  for (const auto& r : rows) a.train.data.insert(a.train.data.end(), r.begin(), r.end());
  return a;
}

TEST(Bf16Test, AdversarialNearTiesEqualBruteForce) {
  const Adversarial a = adversarial(48, 30, 500, 7);
  for (int64_t k : {1, 2, 3}) {
    const metrics::TopKResult want = brute_force(a.train, a.queries, k);
    for (Precision p : {Precision::kFp32, Precision::kBf16}) {
      const metrics::TopKResult got = search(a.train, a.queries, k, p);
      EXPECT_EQ(got.ids, want.ids) << "k " << k << " " << metrics::precision_name(p);
      EXPECT_EQ(got.scores, want.scores) << "k " << k << " " << metrics::precision_name(p);
    }
  }
}

TEST(Bf16Test, HalvedBoundMissesTheTrueBest) {
  // The mutation the bound must survive: with half of it, bf16's candidate pass drops the true
  // best row of these queries (its bf16 score is ~B below the decoy's), so the adversarial set is
  // sharp enough to catch a bound that is too small.
  if (!metrics::bf16_matmul_supported())
    GTEST_SKIP() << "this CPU runs no bf16 product: " << metrics::bf16_matmul_impl();
  const Adversarial a = adversarial(48, 30, 500, 7);
  const metrics::TopKResult want = brute_force(a.train, a.queries, 1);
  const metrics::TopKResult half = search(a.train, a.queries, 1, Precision::kBf16, 0.5);
  int64_t wrong = 0;
  for (int64_t i = 0; i < a.queries.rows(); ++i) wrong += half.ids[size_t(i)] != want.ids[size_t(i)];
  EXPECT_EQ(wrong, a.queries.rows());
  // At 0.9 of the bound every query is still right: the window is not far wider than needed.
  EXPECT_EQ(search(a.train, a.queries, 1, Precision::kBf16, 0.9).ids, want.ids);
}

TEST(Bf16Test, DuplicatesAndLastBitNeighboursEqualBruteForce) {
  // Many exact copies of the best row (more than the old k + 8 candidates) and rows one float
  // ulp apart in a coordinate: the lowest ids of the copies, in order, on both paths.
  const int64_t d = 64, nq = 8;
  FloatArray q = random_rows(nq, d, 5), t = random_rows(400, d, 6);
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int64_t> pick(0, t.rows() - 1);
  for (int64_t i = 0; i < nq; ++i) {
    for (int c = 0; c < 20; ++c)
      std::copy(q.row(i), q.row(i) + d, t.data.data() + pick(rng) * d);
    for (int c = 0; c < 6; ++c) {
      float* r = t.data.data() + pick(rng) * d;
      std::copy(q.row(i), q.row(i) + d, r);
      r[c] = std::nextafter(r[c], c % 2 ? 2.0f : -2.0f);
    }
  }
  for (int64_t k : {1, 5, 12}) {
    const metrics::TopKResult want = brute_force(t, q, k);
    scan::RescoreStats stats;
    const metrics::TopKResult b = search(t, q, k, Precision::kBf16, 1.0, &stats);
    EXPECT_EQ(b.ids, want.ids) << k;
    EXPECT_EQ(b.scores, want.scores) << k;
    const metrics::TopKResult f = search(t, q, k, Precision::kFp32);
    EXPECT_EQ(f.ids, want.ids) << k;
    EXPECT_EQ(f.scores, want.scores) << k;
    EXPECT_EQ(stats.queries, nq);
    EXPECT_GE(stats.rescored, nq * k);
  }
}

TEST(Bf16Test, RandomSetsAndFloorsEqualFp32) {
  // Unit rows as a scan has them, searched whole and block by block with each query's running
  // k-th score as the floor (the streamed scan's way): both precisions, the same lists.
  const FloatArray q = random_rows(70, 96, 11), t = random_rows(3000, 96, 12);
  const int64_t k = 5, block = 700;
  const metrics::TopKResult want = brute_force(t, q, k);
  for (Precision p : {Precision::kFp32, Precision::kBf16}) {
    EXPECT_EQ(search(t, q, k, p).ids, want.ids);
    metrics::TopKResult run{q.rows(), k, std::vector<int64_t>(size_t(q.rows() * k), -1),
                            std::vector<float>(size_t(q.rows() * k), -INFINITY)};
    for (int64_t b0 = 0; b0 < t.rows(); b0 += block) {
      FloatArray part;
      const int64_t n = std::min(block, t.rows() - b0);
      part.shape = {n, t.row_size()};
      part.data.assign(t.row(b0), t.row(b0) + n * t.row_size());
      std::vector<float> floor(size_t(q.rows()));
      for (int64_t i = 0; i < q.rows(); ++i) floor[size_t(i)] = run.scores[size_t(i * k + k - 1)];
      metrics::merge_topk(run, search(part, q, k, p, 1.0, nullptr, floor.data()), b0);
    }
    EXPECT_EQ(run.ids, want.ids) << metrics::precision_name(p);
    EXPECT_EQ(run.scores, want.scores) << metrics::precision_name(p);
  }
}

class PrecisionCommandTest : public test_support::CommandTest {
 protected:
  PrecisionCommandTest() : CommandTest("precision") {}
};

TEST_F(PrecisionCommandTest, SearchOutputsAreByteIdentical) {
  const FloatArray q = random_rows(50, 64, 21, false), t = random_rows(2500, 64, 22, false);
  write_npy(path("q.npy"), q.data.data(), q.shape);
  write_npy(path("t.npy"), t.data.data(), t.shape);
  std::string out[2];
  for (int i = 0; i < 2; ++i) {
    const std::string p = i == 0 ? "fp32" : "bf16";
    const auto r = repbench(fmt::format("search --queries {} --db {} -k 7 --precision {} --out {}",
                                        path("q.npy"), path("t.npy"), p, path(p)));
    ASSERT_EQ(r.status, 0) << r.err;
    out[i] = r.out;
    EXPECT_NE(r.out.find("candidates rescored per query"), std::string::npos) << r.out;
  }
  EXPECT_EQ(test_support::slurp(path("fp32.ids.npy")), test_support::slurp(path("bf16.ids.npy")));
  EXPECT_EQ(test_support::slurp(path("fp32.scores.npy")),
            test_support::slurp(path("bf16.scores.npy")));
  EXPECT_NE(out[0].find("precision: fp32 candidate pass"), std::string::npos) << out[0];
  if (metrics::bf16_matmul_supported()) {
    EXPECT_NE(out[1].find("precision: bf16 candidate pass"), std::string::npos) << out[1];
  }
  EXPECT_EQ(test_support::slurp(path("fp32.ids.npy")).size(), 128u + 50 * 7 * 8);
  // The ids are the brute-force ones.
  std::vector<int64_t> shape;
  const std::vector<int64_t> ids = read_npy_int64(path("bf16.ids.npy"), &shape);
  EXPECT_EQ(ids, brute_force(t, q, 7).ids);
}

TEST_F(PrecisionCommandTest, CpuWithoutBf16FallsBackToFp32) {
  // oneDNN's own variable caps its ISA: AVX2 is a CPU without bf16 instructions to it.
  const FloatArray q = random_rows(5, 32, 31), t = random_rows(300, 32, 32);
  write_npy(path("q.npy"), q.data.data(), q.shape);
  write_npy(path("t.npy"), t.data.data(), t.shape);
  for (const char* p : {"bf16", "auto"}) {
    const auto r = repbench(fmt::format("search --queries {} --db {} -k 3 --precision {} --out {}",
                                        path("q.npy"), path("t.npy"), p, path(p)));
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string capped = "ONEDNN_MAX_CPU_ISA=AVX2 " + std::string(REPBENCH_BINARY);
    const int rc = std::system(
        fmt::format("{} search --queries {} --db {} -k 3 --precision {} --out {} > {} 2>&1",
                    capped, path("q.npy"), path("t.npy"), p, path(std::string(p) + "_avx2"),
                    path("avx2.txt"))
            .c_str());
    ASSERT_EQ(rc, 0) << test_support::slurp(path("avx2.txt"));
    const std::string said = test_support::slurp(path("avx2.txt"));
    EXPECT_NE(said.find("precision: fp32 candidate pass"), std::string::npos) << said;
    EXPECT_NE(said.find(std::string(p) + " asked: unsupported"), std::string::npos) << said;
    EXPECT_EQ(test_support::slurp(path(std::string(p) + ".ids.npy")),
              test_support::slurp(path(std::string(p) + "_avx2.ids.npy")));
    EXPECT_EQ(test_support::slurp(path(std::string(p) + ".scores.npy")),
              test_support::slurp(path(std::string(p) + "_avx2.scores.npy")));
  }
  EXPECT_BAD_INPUT(repbench(fmt::format("search --queries {} --db {} --precision fp16 --out {}",
                                        path("q.npy"), path("t.npy"), path("x"))),
                   "--precision", "not known", path("x.ids.npy"), path("x.scores.npy"));
}

TEST_F(PrecisionCommandTest, ScanOutputsAreIdentical) {
  // The streamed exact scan (pass 1, baseline, duplicate sketch) of float16 descriptors, in
  // blocks, with near-duplicates so that duplicate counts and ties matter.
  FloatArray g = random_rows(120, 128, 41), t = random_rows(20000, 128, 42);
  std::mt19937_64 rng(43);
  std::uniform_int_distribution<int64_t> pick(0, t.rows() - 1);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  for (int64_t i = 0; i < 60; ++i) {
    const int64_t to = pick(rng);
    for (int64_t j = 0; j < 128; ++j) t.data[size_t(to * 128 + j)] = g.row(i)[j] + noise(rng);
  }
  for (int64_t i = 0; i < 300; ++i)
    std::copy(t.row(i), t.row(i) + 128, t.data.data() + pick(rng) * 128);
  write_npy(path("g.npy"), g.data.data(), g.shape, NpyDType::kFloat16);
  write_npy(path("t.npy"), t.data.data(), t.shape, NpyDType::kFloat16);
  nlohmann::json rec[2];
  for (int i = 0; i < 2; ++i) {
    const std::string p = i == 0 ? "fp32" : "bf16";
    const auto r = repbench(fmt::format(
        "scan --generated-descriptors {} --train-descriptors {} --index exact --block-rows 8192 "
        "--k 5 --threshold 0.3,0.9 --dup-threshold 0.9 --precision {} --out {}",
        path("g.npy"), path("t.npy"), p, path(p)));
    ASSERT_EQ(r.status, 0) << r.err;
    rec[i] = nlohmann::json::parse(test_support::slurp(path(p + "/scan.json")));
  }
  EXPECT_EQ(test_support::slurp(path("fp32/matches.csv")),
            test_support::slurp(path("bf16/matches.csv")));
  for (const char* key : {"pairs", "baseline", "above", "generations_top1", "duplicates"})
    EXPECT_EQ(rec[0][key], rec[1][key]) << key;
  EXPECT_EQ(rec[0]["search"]["precision"]["ran"], "fp32");
  const auto& p = rec[1]["search"]["precision"];
  EXPECT_EQ(p["asked"], "bf16");
  EXPECT_EQ(p["ran"], metrics::bf16_matmul_supported() ? "bf16" : "fp32");
  // Pass 1's queries: the generations and the baseline sample, over three blocks.
  EXPECT_EQ(p["queries"].get<int64_t>(), 3 * (120 + 1000));
  EXPECT_GE(p["rescored"].get<int64_t>(), 120 * 5);
  EXPECT_GT(rec[1]["duplicates"]["counted"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace repbench
