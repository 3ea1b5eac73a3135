// Tests of the rank statistics (metrics/rank_stats.h), the leaderboard's rank intervals and
// critical-difference diagram (report/leaderboard.h, report/cd_diagram.h), and the published
// reference rows (records/reference.h, report/reference_rows.h,
// references/somepalli2023-table1.json).
//
// Independent references: Demšar (2006)'s published numbers (Table 5's q_0.05, the worked example
// of §3.2.4) and values computed with mpmath 1.2.1 at 30 digits (chi-square and F tails by the
// regularised incomplete gamma and beta functions; the studentized range by adaptive quadrature
// of k * integral phi(z) (Phi(z) - Phi(z - w))^(k-1) dz and findroot), e.g.
//   mp.gammainc(df / 2, x / 2, mp.inf, regularized=True)
//   mp.betainc(d2 / 2, d1 / 2, 0, d2 / (d2 + d1 * F), regularized=True)
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "metrics/rank_stats.h"
#include "records/record.h"
#include "report/cd_diagram.h"
#include "report/leaderboard.h"
#include "report/leaderboard_check.h"
#include "report/reference_rows.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace repbench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

using test_support::error_of;

// One folder per test, under the system temp dir.
class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_rank_stats") {}
};

// ---------------------------------------------------------------------------------------------
// metrics: ranks, Friedman, Nemenyi

TEST(RankStats, FractionalRanksShareTies) {
  EXPECT_EQ(metrics::fractional_ranks({50, 60, 60, 40}), (std::vector<double>{3, 1.5, 1.5, 4}));
  // Scores within 1e-6 percentage points are one value (a record's fraction x100 vs a csv).
  EXPECT_EQ(metrics::fractional_ranks({53.12, 53.12 + 1e-8, 10}),
            (std::vector<double>{1.5, 1.5, 3}));
  EXPECT_EQ(metrics::fractional_ranks({7, 7, 7}), (std::vector<double>{2, 2, 2}));
  EXPECT_THROW(metrics::fractional_ranks({1, kNaN}), Error);
}

// rank_table: a missing cell takes no rank and moves no other model's; the average is over the
// cells a model has; a model with none has no average.
TEST(RankStats, RankTableAveragesOverTheCellsAModelHas) {
  const std::nullopt_t none = std::nullopt;
  using Row = std::vector<std::optional<double>>;
  const metrics::TableRanks t = metrics::rank_table({Row{50, 70, none},   // ranks 2, 1: 1.5
                                                     Row{60, none, 10},   // ranks 1, 1: 1
                                                     Row{40, 30, none},   // ranks 3, 2: 2.5
                                                     Row{none, none, none}});
  EXPECT_FALSE(t.complete);
  EXPECT_EQ(t.ranks[0], (Row{2.0, 1.0, none}));
  EXPECT_EQ(t.ranks[1], (Row{1.0, none, 1.0}));
  EXPECT_EQ(t.ranks[2], (Row{3.0, 2.0, none}));
  EXPECT_EQ(t.ranks[3], (Row{none, none, none}));
  EXPECT_EQ(t.average, (Row{1.5, 1.0, 2.5, none}));
  // Ties share the mean of their ranks; a complete table averages over every dataset.
  const metrics::TableRanks full = metrics::rank_table({Row{60, 20}, Row{60, 30}, Row{10, 30}});
  EXPECT_TRUE(full.complete);
  EXPECT_EQ(full.average, (Row{(1.5 + 3) / 2, (1.5 + 1.5) / 2, (3 + 1.5) / 2}));
  // Summed in dataset order and divided once: the same double as that computation by hand.
  const metrics::TableRanks thirds =
      metrics::rank_table({Row{1, 2, 3}, Row{2, 1, 1}, Row{3, 3, 2}});
  EXPECT_EQ(thirds.average[0], (3.0 + 2.0 + 1.0) / 3);
  EXPECT_EQ(thirds.average[1], (2.0 + 3.0 + 3.0) / 3);
  EXPECT_TRUE(metrics::rank_table({}).average.empty());
  // Rows of unequal length and non-finite scores are errors.
  EXPECT_THAT(error_of([] { metrics::rank_table({Row{1, 2}, Row{1}}); }),
              HasSubstr("model 1 has 1 scores, model 0 has 2"));
  EXPECT_THROW(metrics::rank_table({Row{1, kNaN}, Row{2, 3}}), Error);
}

TEST(RankStats, NemenyiQEqualsDemsarTable5) {
  // Demšar 2006, Table 5(a), q_0.05 for k = 2..10. The table divides 3-decimal studentized-range
  // values by sqrt(2), so it can differ from the exact quantile in the 3rd decimal (k = 3: exact
  // 2.34370, printed 2.343; k = 7: exact 2.94832, printed 2.949): tolerance 0.001.
  const double table[] = {1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164};
  for (int k = 2; k <= 10; ++k) EXPECT_NEAR(metrics::nemenyi_q(k), table[k - 2], 1e-3) << k;
  // The exact quantiles (mpmath), alpha 0.05 and 0.10, and beyond the table.
  const std::vector<std::pair<int, double>> exact05 = {
      {2, 1.95996398454},  {3, 2.34370058638}, {4, 2.56903177255}, {5, 2.72777437087},
      {6, 2.84970541961},  {7, 2.94832001753}, {8, 3.03087844961}, {9, 3.1017303413},
      {10, 3.16368357705}, {20, 3.54379913152}};
  for (const auto& [k, q] : exact05) EXPECT_NEAR(metrics::nemenyi_q(k), q, 2e-8) << k;
  EXPECT_NEAR(metrics::nemenyi_q(2, 0.10), 1.64485362695, 2e-8);
  EXPECT_NEAR(metrics::nemenyi_q(10, 0.10), 2.91988884006, 2e-8);
  // k = 2: the range of two normals is sqrt(2) |Z|, so q = the normal's 97.5% point.
  EXPECT_NEAR(metrics::studentized_range_cdf(1.959963984540054 * std::sqrt(2.0), 2), 0.95, 1e-10);
  EXPECT_THROW(metrics::nemenyi_q(1), Error);
  EXPECT_THROW(metrics::nemenyi_q(metrics::kMaxStudentizedRangeK + 1), Error);
  EXPECT_THAT(error_of([] { metrics::nemenyi_q(1001); }), HasSubstr("[2, 1000]"));
}

TEST(RankStats, CriticalDifferenceOfDemsarsExample) {
  // §3.2.4: four classifiers on 14 data sets, CD = 2.569 sqrt(4 * 5 / (6 * 14)) = 1.25.
  const double cd = metrics::nemenyi_critical_difference(4, 14);
  EXPECT_NEAR(cd, 1.25, 0.005);
  EXPECT_NEAR(cd, metrics::nemenyi_q(4) * std::sqrt(20.0 / 84.0), 1e-12);
  EXPECT_THROW(metrics::nemenyi_critical_difference(4, 0), Error);
}

TEST(RankStats, FriedmanOfDemsarsExample) {
  // §3.2.4: average ranks 3.143, 2.000, 2.893, 1.964 over N = 14: chi2_F = 9.28, F_F = 3.69.
  const metrics::FriedmanResult f = metrics::friedman_test({3.143, 2.000, 2.893, 1.964}, 14);
  EXPECT_NEAR(f.chi2, 9.28, 0.005);
  EXPECT_NEAR(f.f, 3.69, 0.005);
  // mpmath on the same inputs.
  EXPECT_NEAR(f.chi2, 9.2836296, 1e-9);
  EXPECT_NEAR(f.chi2_p, 0.0257481580015615, 1e-12);
  EXPECT_NEAR(f.f, 3.68889284857834, 1e-9);
  EXPECT_NEAR(f.f_p, 0.0197677600406175, 1e-12);
  EXPECT_EQ(f.f_df1, 3);
  EXPECT_EQ(f.f_df2, 39);
}

TEST(RankStats, FriedmanFromAScoreMatrix) {
  // Six datasets x five models, ranked here by fractional_ranks (ties share), then tested;
  // numpy ranked the same matrix and mpmath computed the statistic and tails.
  const std::vector<std::vector<double>> scores = {{70, 60, 55, 50, 40}, {65, 66, 50, 49, 30},
                                                   {80, 70, 70, 60, 50}, {50, 52, 49, 45, 44},
                                                   {90, 80, 85, 70, 60}, {40, 45, 41, 30, 35}};
  std::vector<double> avg(5, 0.0);
  for (const auto& row : scores) {
    const std::vector<double> r = metrics::fractional_ranks(row);
    for (size_t j = 0; j < 5; ++j) avg[j] += r[j] / 6;
  }
  const std::vector<double> expected = {1.6666666666666667, 1.75, 2.5833333333333335,
                                        4.166666666666667, 4.833333333333333};
  for (size_t j = 0; j < 5; ++j) EXPECT_NEAR(avg[j], expected[j], 1e-12);
  const metrics::FriedmanResult f = metrics::friedman_test(avg, 6);
  EXPECT_NEAR(f.chi2, 19.7666666666667, 1e-9);
  EXPECT_NEAR(f.chi2_p, 0.000555245185398559, 1e-14);
  EXPECT_NEAR(f.f, 23.3464566929134, 1e-8);
  EXPECT_NEAR(f.f_p / 2.69278323098655e-7, 1.0, 1e-7);
}

TEST(RankStats, TailProbabilities) {
  EXPECT_NEAR(metrics::chi_square_sf(0.5, 1), 0.479500122186953, 1e-13);
  EXPECT_NEAR(metrics::chi_square_sf(3.84, 1), 0.0500435212487051, 1e-13);
  EXPECT_NEAR(metrics::chi_square_sf(9.28, 3), 0.0257907241987568, 1e-13);
  EXPECT_NEAR(metrics::chi_square_sf(20, 7), 0.00556968307294557, 1e-14);
  EXPECT_NEAR(metrics::chi_square_sf(100, 50) / 3.45493138298486e-5, 1.0, 1e-9);
  EXPECT_NEAR(metrics::f_sf(3.69, 3, 39), 0.0197440996894889, 1e-13);
  EXPECT_NEAR(metrics::f_sf(1.0, 2, 10), 0.401877572016461, 1e-13);
  EXPECT_NEAR(metrics::f_sf(10, 4, 20), 0.000129835673197966, 1e-15);
  EXPECT_NEAR(metrics::f_sf(0.2, 5, 5), 0.949030260585071, 1e-13);
  EXPECT_EQ(metrics::chi_square_sf(0, 3), 1.0);
  EXPECT_EQ(metrics::f_sf(std::numeric_limits<double>::infinity(), 3, 9), 0.0);
}

TEST(RankStats, FriedmanEdgeCases) {
  // Every dataset orders the models alike: chi2 = N (k - 1), F infinite, p = 0.
  const metrics::FriedmanResult same = metrics::friedman_test({1, 2, 3}, 5);
  EXPECT_NEAR(same.chi2, 10.0, 1e-12);
  EXPECT_TRUE(std::isinf(same.f));
  EXPECT_EQ(same.f_p, 0.0);
  // All tied: nothing to reject.
  const metrics::FriedmanResult tied = metrics::friedman_test({2, 2, 2}, 4);
  EXPECT_EQ(tied.chi2, 0.0);
  EXPECT_EQ(tied.chi2_p, 1.0);
  EXPECT_EQ(tied.f_p, 1.0);
  EXPECT_THROW(metrics::friedman_test({1}, 5), Error);
  EXPECT_THROW(metrics::friedman_test({1, 2}, 1), Error);
  EXPECT_THROW(metrics::friedman_test({0.5, 2}, 3), Error);
}

TEST(RankStats, NemenyiGroupsAreMaximalRuns) {
  using G = std::vector<std::pair<int, int>>;
  EXPECT_EQ(metrics::nemenyi_groups({1.0, 1.5, 2.9, 3.2, 4.4}, 1.5),
            (G{{0, 1}, {1, 2}, {2, 3}, {3, 4}}));
  // [1, 2] lies inside [0, 2]: left out. A difference of exactly CD is significant.
  EXPECT_EQ(metrics::nemenyi_groups({1.0, 1.1, 1.2, 3.0}, 0.5), (G{{0, 2}}));
  EXPECT_EQ(metrics::nemenyi_groups({1.0, 2.0, 3.0}, 1.0), G{});
  EXPECT_EQ(metrics::nemenyi_groups({1.0, 2.0, 3.0}, 5.0), (G{{0, 2}}));
}

// ---------------------------------------------------------------------------------------------
// metrics: the rank bootstrap

// ap[s][m][i] for `models` models whose per-query APs are drawn around model-specific means.
std::vector<std::vector<std::vector<double>>> noisy_aps(const std::vector<double>& means, int sets,
                                                        int queries, unsigned seed,
                                                        double noise = 0.25) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, noise);
  std::vector<std::vector<std::vector<double>>> ap(sets);
  for (auto& set : ap)
    for (double mean : means) {
      std::vector<double> x(queries);
      for (double& v : x) v = std::clamp(mean + g(rng), 0.0, 1.0);
      set.push_back(std::move(x));
    }
  return ap;
}

TEST(RankBootstrap, DeterministicWithTheSeedAndAnyThreadCount) {
  const auto ap = noisy_aps({0.5, 0.52, 0.54, 0.3}, 3, 40, 1);
  const auto a = metrics::bootstrap_average_rank_ci(ap, 500, 7, 0.95, 1);
  const auto b = metrics::bootstrap_average_rank_ci(ap, 500, 7, 0.95, 4);
  const auto c = metrics::bootstrap_average_rank_ci(ap, 500, 8, 0.95, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (const auto& [lo, hi] : a) {
    EXPECT_GE(lo, 1.0);
    EXPECT_LE(hi, 4.0);
    EXPECT_LE(lo, hi);
  }
  // Close models have wide intervals.
  EXPECT_GT(a[0].second - a[0].first, 0.5);
}

TEST(RankBootstrap, CollapsesWhenAModelWinsEveryQuery) {
  // Model 1 beats model 0 on every query, which beats model 2 on every query: every resample
  // ranks them 2, 1, 3 on every dataset, whatever the draw.
  auto ap = noisy_aps({0.5, 0.5, 0.5}, 4, 30, 2, 0.1);
  for (auto& set : ap)
    for (size_t i = 0; i < set[0].size(); ++i) {
      set[1][i] = std::min(1.0, set[0][i] + 0.2);
      set[2][i] = set[0][i] * 0.5;
    }
  const auto ci = metrics::bootstrap_average_rank_ci(ap, 300, 0);
  EXPECT_EQ(ci[0], std::make_pair(2.0, 2.0));
  EXPECT_EQ(ci[1], std::make_pair(1.0, 1.0));
  EXPECT_EQ(ci[2], std::make_pair(3.0, 3.0));
}

TEST(RankBootstrap, ContainsThePointEstimateOfWellSeparatedModels) {
  const std::vector<double> means = {0.8, 0.6, 0.4, 0.2};
  const auto ap = noisy_aps(means, 5, 60, 3, 0.3);
  const auto ci = metrics::bootstrap_average_rank_ci(ap, 1000, 0);
  // The point estimate: ranks of the full-sample mAPs, averaged.
  std::vector<double> point(4, 0.0);
  for (const auto& set : ap) {
    std::vector<double> map;
    for (const auto& x : set) {
      double s = 0;
      for (double v : x) s += v;
      map.push_back(100 * s / static_cast<double>(x.size()));
    }
    const auto r = metrics::fractional_ranks(map);
    for (size_t m = 0; m < 4; ++m) point[m] += r[m] / 5;
  }
  for (size_t m = 0; m < 4; ++m) {
    EXPECT_EQ(point[m], m + 1.0);
    EXPECT_LE(ci[m].first, point[m]) << m;
    EXPECT_GE(ci[m].second, point[m]) << m;
  }
}

TEST(RankBootstrap, LeftOutQueriesAndBadInput) {
  // NaN = left out: the query is drawn but does not count in that model's mean.
  std::vector<std::vector<std::vector<double>>> ap = {{{1.0, kNaN, 0.9}, {0.2, kNaN, 0.1}},
                                                      {{0.7, 0.8, kNaN}, {0.1, 0.0, kNaN}}};
  const auto ci = metrics::bootstrap_average_rank_ci(ap, 200, 0);
  // Model 0 wins every scored query; a draw of only left-out queries ties both (rank 1.5).
  EXPECT_GE(ci[0].first, 1.0);
  EXPECT_LE(ci[0].second, 1.5);
  EXPECT_THROW(metrics::bootstrap_average_rank_ci({}, 10, 0), Error);
  EXPECT_THROW(metrics::bootstrap_average_rank_ci({{{0.1, 0.2}, {0.3}}}, 10, 0), Error);
  EXPECT_THROW(metrics::bootstrap_average_rank_ci({{{0.1}, {0.3}}, {{0.1}}}, 10, 0), Error);
  EXPECT_THROW(metrics::bootstrap_average_rank_ci({{{0.1}, {0.3}}}, 0, 0), Error);
}

// ---------------------------------------------------------------------------------------------
// The leaderboard with per-query data

using report::Leaderboard;
using report::ScoreEntry;

// Model m on set s with per-query APs `ap` (its mAP is their mean, as in a record).
ScoreEntry entry(const std::string& model, const std::string& set, std::vector<double> ap) {
  ScoreEntry e;
  e.model = model;
  e.category = "SSL";
  e.dataset = set;
  double sum = 0;
  size_t n = 0;
  for (double v : ap)
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  e.map_percent = 100 * sum / static_cast<double>(n);
  e.per_query = report::QueryAps{std::move(ap), ""};
  e.origin = model + "@" + set;
  return e;
}

std::vector<ScoreEntry> per_query_entries(const std::vector<std::string>& models,
                                          const std::vector<double>& means, int sets,
                                          unsigned seed) {
  const auto ap = noisy_aps(means, sets, 50, seed, 0.2);
  std::vector<ScoreEntry> entries;
  for (int s = 0; s < sets; ++s)
    for (size_t m = 0; m < models.size(); ++m)
      entries.push_back(entry(models[m], "set" + std::to_string(s), ap[s][m]));
  return entries;
}

TEST(LeaderboardRankStatistics, IntervalsFriedmanAndCdInEveryFormat) {
  const std::vector<std::string> models = {"Alpha", "Beta", "Gamma", "Delta"};
  Leaderboard board =
      report::build_leaderboard(per_query_entries(models, {0.8, 0.75, 0.4, 0.2}, 4, 11));
  report::add_rank_statistics(board, {400, 3, 0});
  ASSERT_TRUE(board.rank_statistics);
  const report::RankStatistics& st = *board.rank_statistics;
  EXPECT_EQ(st.rows.size(), 4u);
  EXPECT_EQ(st.datasets, 4);
  // With no published rows, the statistics' average ranks are the table's.
  for (size_t m = 0; m < 4; ++m) {
    EXPECT_DOUBLE_EQ(st.average_rank[m], *board.rows[st.rows[m]].average_rank);
    ASSERT_TRUE(board.rows[m].average_rank_ci95);
    EXPECT_LE(board.rows[m].average_rank_ci95->first, *board.rows[m].average_rank + 1e-12);
    EXPECT_GE(board.rows[m].average_rank_ci95->second, *board.rows[m].average_rank - 1e-12);
  }
  const metrics::FriedmanResult expect = metrics::friedman_test(st.average_rank, 4);
  EXPECT_EQ(st.friedman.chi2, expect.chi2);
  EXPECT_NEAR(st.critical_difference, 2.569 * std::sqrt(20.0 / 24.0), 2e-3);
  // Same seed, same board.
  Leaderboard again =
      report::build_leaderboard(per_query_entries(models, {0.8, 0.75, 0.4, 0.2}, 4, 11));
  report::add_rank_statistics(again, {400, 3, 0});
  EXPECT_EQ(report::render(again, report::Format::kJson),
            report::render(board, report::Format::kJson));

  const std::string md = report::render(board, report::Format::kMarkdown);
  EXPECT_THAT(md, HasSubstr("| Average Rank \u2193 | Rank 95% CI |"));
  EXPECT_THAT(md, HasSubstr("Friedman test over 4 datasets, 4 models: chi2 = "));
  EXPECT_THAT(md, HasSubstr("Nemenyi critical difference (alpha 0.05): CD = "));
  const std::string csv = report::render(board, report::Format::kCsv);
  EXPECT_THAT(csv, HasSubstr(",average_rank,average_rank_ci95_low,average_rank_ci95_high\n"));
  const std::string tex = report::render(board, report::Format::kTex);
  EXPECT_THAT(tex, HasSubstr("Rank 95\\% CI"));
  const json j = json::parse(report::render(board, report::Format::kJson));
  EXPECT_EQ(j["rows"][0]["average_rank_ci95"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["rank_statistics"]["friedman"]["chi2"].get<double>(), st.friedman.chi2);
  EXPECT_DOUBLE_EQ(j["rank_statistics"]["nemenyi"]["critical_difference"].get<double>(),
                   st.critical_difference);
  const std::string html = report::render(board, report::Format::kHtml);
  EXPECT_THAT(html, HasSubstr("class=\"cd-diagram\" data-models=\"4\""));

  // The CSV with intervals is still a --check baseline.
  TempDir dir;
  const std::string path = (dir.path() / "lb.csv").string();
  write_file_atomic(path, csv);
  const report::LeaderboardBaseline base = report::load_leaderboard_baseline(path);
  EXPECT_EQ(base.board.datasets.size(), 4u);
  EXPECT_FALSE(report::check_leaderboard(base, board).failed());
}

// Ten datasets where one model wins everywhere: its average rank is exactly 1 (summing ten
// 1/10ths gave 0.9999999999999999, which the Friedman test refused), and the test takes it.
TEST(LeaderboardRankStatistics, AWinnerOnTenDatasets) {
  std::vector<std::string> models;
  std::vector<double> means;
  for (int m = 0; m < 10; ++m) {
    models.push_back("model" + std::to_string(m));
    means.push_back(0.95 - 0.09 * m);
  }
  Leaderboard board = report::build_leaderboard(per_query_entries(models, means, 10, 9));
  report::add_rank_statistics(board, {50, 0, 0});
  ASSERT_TRUE(board.rank_statistics);
  EXPECT_EQ(board.rank_statistics->average_rank[0], 1.0);
  EXPECT_NO_THROW(metrics::friedman_test({0.9999999999999999, 2.0000000000000001}, 10));
}

TEST(LeaderboardRankStatistics, OmittedWithOneNote) {
  const std::vector<std::string> models = {"A", "B", "C"};
  const auto note_of = [](Leaderboard board) {
    report::add_rank_statistics(board, {});
    EXPECT_FALSE(board.rank_statistics);
    EXPECT_FALSE(board.rows[0].average_rank_ci95);
    return board.notes.back();
  };
  EXPECT_THAT(note_of(report::build_leaderboard(per_query_entries(models, {.5, .4, .3}, 1, 1))),
              HasSubstr("omitted: they need at least 2 datasets, found 1"));
  EXPECT_THAT(note_of(report::build_leaderboard(per_query_entries({"A"}, {.5}, 3, 1))),
              HasSubstr("at least 2 models with per-query APs, found 1"));
  auto entries = per_query_entries(models, {.5, .4, .3}, 3, 1);
  entries[4].per_query.reset();  // B on set1: a /1 record
  EXPECT_THAT(note_of(report::build_leaderboard(entries)),
              HasSubstr("B on set1 has no per-query APs"));
  entries = per_query_entries(models, {.5, .4, .3}, 3, 1);
  entries[5].per_query->ap.push_back(0.5);  // C on set1 scored one more query
  EXPECT_THAT(note_of(report::build_leaderboard(entries)),
              HasSubstr("C on set1 was scored on other queries than A"));
  entries = per_query_entries(models, {.5, .4, .3}, 3, 1);
  entries.erase(entries.begin() + 8);  // C has no set2
  EXPECT_THAT(note_of(report::build_leaderboard(entries)), HasSubstr("C on set2 has no score"));
  // Without statistics the outputs keep their old shape.
  const Leaderboard plain = report::build_leaderboard(entries);
  EXPECT_THAT(report::render(plain, report::Format::kCsv), Not(HasSubstr("ci95")));
}

TEST(LeaderboardRankStatistics, CdDiagramSvgAndPng) {
  Leaderboard board = report::build_leaderboard(
      per_query_entries({"First model", "Second <b>&", "Third \"q\"", "Fourth", "Fifth"},
                        {0.9, 0.7, 0.68, 0.3, 0.1}, 3, 5));
  report::add_rank_statistics(board, {200, 0, 0});
  ASSERT_TRUE(board.rank_statistics);
  const std::string svg = report::cd_diagram_svg(board);
  EXPECT_THAT(svg, HasSubstr("data-models=\"5\""));
  EXPECT_THAT(svg, HasSubstr("Second &lt;b&gt;&amp;"));  // escaped
  EXPECT_THAT(svg,
              HasSubstr(fmt::format("CD = {:.2f}", board.rank_statistics->critical_difference)));
  // One label per model, one tick label per rank, the CD label.
  size_t texts = 0;
  for (size_t at = svg.find("<text"); at != std::string::npos; at = svg.find("<text", at + 1))
    ++texts;
  EXPECT_EQ(texts, 5u + 5u + 1u);
  TempDir dir;
  const std::string prefix = (dir.path() / "cd").string();
  report::write_cd_diagram(board, prefix);
  EXPECT_EQ(read_file(prefix + ".svg"), svg);
  const std::string png = read_file(prefix + ".png");
  ASSERT_GT(png.size(), 2000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  report::Leaderboard none = report::build_leaderboard(per_query_entries({"A"}, {.5}, 2, 1));
  EXPECT_THROW(report::cd_diagram_svg(none), Error);
}

// ---------------------------------------------------------------------------------------------
// Records with per-query data (repbench.record/2, PERQUERY contract), built by hand

json record(const std::string& schema, const std::string& model, const json& per_query,
            double map) {
  json r = {
      {"schema", schema},           {"model", {{"name", model}, {"category", "SSL"}}},
      {"set", "roxford5k"},         {"protocol", "medium"},
      {"dataset", "rOxford5k (M)"}, {"metrics", {{"map", map}, {"map_ci95", {nullptr, nullptr}}}}};
  if (!per_query.is_null()) r["per_query"] = per_query;
  return r;
}

TEST(LeaderboardRecords, ReadsPerQueryAndBothSchemas) {
  TempDir dir;
  const json pq = {{"images", {"q0.jpg", "q1.jpg", "q2.jpg"}},
                   {"ap", {0.53, nullptr, 1.0}},
                   {"p@1", {1, nullptr, 1}},
                   {"queries_sha256", std::string(64, 'a')},
                   {"top_ids", {{"file", "a.top100.npy"}, {"k", 100}}}};
  const double map = (0.53 + 1.0) / 2;
  write_file_atomic((dir.path() / "a.json").string(),
                    record(records::kRecordSchema, "A", pq, map).dump());
  write_file_atomic((dir.path() / "b.json").string(),
                    record(records::kRecordSchemaV1, "B", nullptr, 0.4).dump());
  const auto entries = report::load_records({dir.path().string()});
  ASSERT_EQ(entries.size(), 2u);
  ASSERT_TRUE(entries[0].per_query);
  EXPECT_EQ(entries[0].per_query->ap.size(), 3u);
  EXPECT_EQ(entries[0].per_query->ap[0], 0.53);
  EXPECT_TRUE(std::isnan(entries[0].per_query->ap[1]));
  EXPECT_EQ(entries[0].per_query->queries_sha256, std::string(64, 'a'));
  EXPECT_FALSE(entries[1].per_query);

  // A damaged per_query block: one line naming the file.
  const std::string bad = (dir.path() / "bad.json").string();
  json broken = record(records::kRecordSchema, "C", pq, map);
  broken["per_query"]["ap"][0] = "x";
  write_file_atomic(bad, broken.dump());
  EXPECT_THAT(error_of([&] { report::load_records({bad}); }),
              HasSubstr(bad + ": record field per_query.ap[0] must be a number in [0, 1] or null"));
  broken = record(records::kRecordSchema, "C", pq, 0.9);
  write_file_atomic(bad, broken.dump());
  EXPECT_THAT(error_of([&] { report::load_records({bad}); }),
              HasSubstr("the mean of per_query.ap (0.765) is not metrics.map (0.9)"));
  broken = record("repbench.record/3", "C", pq, map);
  write_file_atomic(bad, broken.dump());
  EXPECT_THAT(error_of([&] { report::load_records({bad}); }), HasSubstr("schema is"));
}

// ---------------------------------------------------------------------------------------------
// Published reference rows

const std::string kTable1 =
    std::string(REPBENCH_SOURCE_DIR) + "/references/somepalli2023-table1.json";

TEST(Reference, Table1IsTranscribed) {
  const records::Reference ref = records::load_reference(kTable1);
  ASSERT_EQ(ref.rows.size(), 10u);
  ASSERT_EQ(ref.columns.size(), 10u);
  EXPECT_THAT(ref.citation, HasSubstr("CVPR 2023"));
  const auto value = [&](const std::string& model, const std::string& column) {
    size_t c = 0;
    while (c < ref.columns.size() && ref.columns[c].name != column) ++c;
    for (const auto& row : ref.rows)
      if (row.model == model && c < ref.columns.size()) return *row.map_percent[c];
    ADD_FAILURE() << model << " / " << column;
    return kNaN;
  };
  EXPECT_EQ(value("Multigrain, ResNet-50", "rOxford5k"), 22.87);
  EXPECT_EQ(value("SSCD, ResNet-50", "IN-Dif-Diagonal"), 99.91);
  EXPECT_EQ(value("Swin Transformer, Base, IN1k", "rParis6k"), 72.07);
  EXPECT_EQ(value("ViT-B/16, IN12k", "CUB-200"), 4.24);
  EXPECT_EQ(value("DINO, ViT-B/16, split-product", "IN-Cutmix"), 93.53);
  EXPECT_EQ(value("VicRegL, ResNet-50", "IN-Dif-Outpaint"), 40.93);
  // The real columns map to the labels repbench gives the lineage protocols' records.
  EXPECT_EQ(ref.columns[0].datasets.at(0), records::dataset_label("roxford5k-dcr", "medium"));
  EXPECT_EQ(ref.columns[1].datasets.at(0), records::dataset_label("rparis6k-dcr", "medium"));
  EXPECT_EQ(ref.columns[2].datasets.at(0), records::dataset_label("cub200-dcr", "default"));
  EXPECT_EQ(ref.columns[3].datasets.at(0), records::dataset_label("gpr1200-dcr", "default"));
  EXPECT_EQ(ref.columns[4].datasets.at(0), records::dataset_label("instre-s1-dcr", "default"));
  EXPECT_EQ(ref.columns[7].datasets.at(0), records::dataset_label("in-cutmix", ""));
  for (size_t c = 0; c < 10; ++c) EXPECT_EQ(ref.columns[c].synthetic, c >= 5) << c;
  // Ranking the published mAPs as the leaderboard does gives the published average ranks.
  std::vector<ScoreEntry> entries;
  for (const auto& row : ref.rows)
    for (size_t c = 0; c < 10; ++c) {
      ScoreEntry e;
      e.model = row.model;
      e.category = row.category;
      e.dataset = ref.columns[c].name;
      e.map_percent = *row.map_percent[c];
      entries.push_back(e);
    }
  const Leaderboard board = report::build_leaderboard(entries);
  ASSERT_EQ(board.rows.size(), 10u);
  for (size_t r = 0; r < 10; ++r)
    EXPECT_NEAR(*board.rows[r].average_rank, *ref.rows[r].average_rank, 0.05 + 1e-9)
        << ref.rows[r].model;
}

TEST(Reference, PlacesUserRowsAmongThePublishedOnes) {
  const records::Reference ref = records::load_reference(kTable1);
  std::vector<ScoreEntry> mine = {
      entry("SSCD, ResNet-50", "roxford5k-dcr (M)", {0.35, 0.36}),  // a re-run, same name
      entry("SSCD, ResNet-50", "gpr1200-dcr", {0.30, 0.32}),
      entry("SSCD, ResNet-50", "IN-Cutmix", {0.9}),
      entry("SSCD, ResNet-50", "my-set", {0.5}),
      entry("Mine", "roxford5k-dcr (M)", {0.50, 0.50}),
      entry("Mine", "gpr1200-dcr", {0.70, 0.70})};
  std::vector<ScoreEntry> entries = mine;
  const std::vector<std::string> notes = report::add_reference_rows(ref, entries, false);
  Leaderboard board = report::build_leaderboard(entries);
  EXPECT_EQ(board.datasets, (std::vector<std::string>{"roxford5k-dcr (M)", "gpr1200-dcr"}));
  ASSERT_EQ(board.rows.size(), 12u);
  size_t published = 0;
  const report::LeaderboardRow* me = nullptr;
  for (const auto& row : board.rows) {
    published += row.published;
    if (row.published) {
      EXPECT_THAT(row.model, HasSubstr(report::kPublishedMark));
    }
    if (row.model == "Mine") me = &row;
  }
  EXPECT_EQ(published, 10u);
  ASSERT_NE(me, nullptr);
  // Mine: 50.00 on rOxford5k beats every published 40.06 or less; 70.00 on GPR1200 beats 62.13.
  EXPECT_EQ(me->cells[0].rank, 1.0);
  EXPECT_EQ(me->cells[1].rank, 1.0);
  EXPECT_THAT(notes[0], HasSubstr("\u2020 published: Gowthami Somepalli"));
  EXPECT_THAT(notes[1], HasSubstr("roxford5k-dcr (M) = published rOxford5k"));
  EXPECT_THAT(notes[2], HasSubstr("Left out: IN-Cutmix (synthetic sets"));
  EXPECT_THAT(notes[3], HasSubstr("Left out (no published column): my-set"));
  // The rank statistics take the user's two models only.
  report::add_rank_statistics(board, {100, 0, 0});
  ASSERT_TRUE(board.rank_statistics);
  EXPECT_EQ(board.rank_statistics->rows.size(), 2u);
  EXPECT_THAT(board.notes.back(), HasSubstr("k = 2, N = 2"));
  const std::string md = report::render(board, report::Format::kMarkdown);
  EXPECT_THAT(md, HasSubstr("| Mine |"));
  EXPECT_THAT(md, HasSubstr("SSCD, ResNet-50 \u2020"));

  entries = mine;
  report::add_reference_rows(ref, entries, true);
  EXPECT_EQ(report::build_leaderboard(entries).datasets.size(), 3u);  // with IN-Cutmix
  std::vector<ScoreEntry> unrelated = {entry("X", "rOxford5k (M)", {0.5})};
  EXPECT_THAT(error_of([&] { report::add_reference_rows(ref, unrelated, true); }),
              HasSubstr("none of its columns matches a dataset of the records (rOxford5k (M))"));
}

TEST(Reference, BadFilesAreOneLineErrors) {
  const std::string good = read_file(kTable1);
  const auto error = [](const std::string& text) {
    return error_of([&] { records::parse_reference(text, "ref.json"); });
  };
  EXPECT_THAT(error("{"), HasSubstr("ref.json: not a JSON file"));
  json j = json::parse(good);
  j["schema"] = "repbench.reference/9";
  EXPECT_THAT(error(j.dump()), HasSubstr("schema is \"repbench.reference/9\""));
  j = json::parse(good);
  j["rows"][3]["map"].erase(0);
  EXPECT_THAT(error(j.dump()), HasSubstr("rows[3].map has 9 values for 10 columns"));
  j = json::parse(good);
  j["rows"][0]["map"][2] = 120;
  EXPECT_THAT(error(j.dump()), HasSubstr("rows[0].map[2] must be an mAP in percent [0, 100]"));
  j = json::parse(good);
  j["columns"][1]["datasets"][0] = "roxford5k-dcr (M)";
  EXPECT_THAT(error(j.dump()), HasSubstr("is claimed by columns \"rOxford5k\" and \"rParis6k\""));
  j = json::parse(good);
  j["rows"][1]["model"] = j["rows"][0]["model"];
  EXPECT_THAT(error(j.dump()), HasSubstr("appears twice"));
  j = json::parse(good);
  j["columns"][0].erase("kind");
  EXPECT_THAT(error(j.dump()), HasSubstr("columns[0] has no \"kind\""));
}

}  // namespace
}  // namespace repbench
