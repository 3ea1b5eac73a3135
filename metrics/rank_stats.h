// Ranking many models over many datasets, and how sure the ranking is (Demšar, "Statistical
// comparisons of classifiers over multiple data sets", JMLR 7, 2006):
//   - fractional ranks of one dataset's scores (the leaderboard's average rank is their mean);
//   - the Friedman test over the datasets, in its chi-square form and the Iman-Davenport F form;
//   - the Nemenyi critical difference, from the studentized range distribution with infinite
//     degrees of freedom (computed, not tabulated), and the groups it cannot tell apart;
//   - a bootstrap interval of each model's average rank, resampling the queries of every
//     dataset at once from per-query APs.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace repbench::metrics {

// Scores (percent) that agree to this many percentage points are one value when ranking: a
// fraction x100 from a record then ties with the same number typed into a CSV.
inline constexpr double kRankTiePercent = 1e-6;

// Ranks of `scores_percent` (finite, mAP in percent), 1 = highest; tied scores (equal after
// rounding to kRankTiePercent) share the mean of the ranks they span, so two models tied for
// first are 1.5 each. Throws repbench::Error on a non-finite score.
std::vector<double> fractional_ranks(const std::vector<double>& scores_percent);

// The ranks of a score table and each model's average rank over its datasets (the leaderboard's
// "average rank" column). `scores_percent[m][d]` is model m's score (mAP in percent) on dataset d;
// nullopt = no score there (skipped, or never run). Each dataset ranks only the models with a
// score on it (fractional_ranks(): a missing cell takes no rank and moves no other); each
// model's average is the sum of its ranks in dataset order divided once by how many it has, and
// nullopt when it has none. Throws repbench::Error when the rows differ in length or a score is
// not finite.
struct TableRanks {
  std::vector<std::vector<std::optional<double>>> ranks;  // [m][d], nullopt where no score
  std::vector<std::optional<double>> average;             // per model
  bool complete = true;                                   // no cell is missing
};
TableRanks rank_table(const std::vector<std::vector<std::optional<double>>>& scores_percent);

// The Friedman test of k models over n datasets from their average ranks R_j (Demšar 2006, §3.2.3):
//   chi2 = 12 n / (k (k + 1)) * (sum_j R_j^2 - k (k + 1)^2 / 4), chi-square with k - 1 df;
//   F = (n - 1) chi2 / (n (k - 1) - chi2) (Iman and Davenport 1980), F with k - 1 and
//   (k - 1)(n - 1) df. No correction for ties (Demšar's form). When every dataset ranks the
//   models the same way F is infinite and its p-value 0.
struct FriedmanResult {
  int k = 0, n = 0;
  double chi2 = 0, chi2_p = 1;  // statistic and its upper-tail p-value
  double f = 0, f_p = 1;        // Iman-Davenport statistic and its upper-tail p-value
  int f_df1 = 0, f_df2 = 0;
};
// Throws repbench::Error if k < 2 or n < 2 or a rank is outside [1, k].
FriedmanResult friedman_test(const std::vector<double>& average_ranks, int n_datasets);

// Upper-tail probabilities: P(X > x) for X chi-square with `df` degrees of freedom, and for X
// F-distributed with (df1, df2). x <= 0 gives 1; x = +inf gives 0.
double chi_square_sf(double x, double df);
double f_sf(double x, double df1, double df2);

// P(W <= w) where W is the range (max - min) of k independent standard normals: the studentized
// range distribution with infinite degrees of freedom,
//   k * integral phi(z) (Phi(z) - Phi(z - w))^(k - 1) dz,
// integrated numerically (composite Simpson over z in [-9, 9], error far below 1e-9).
// Throws repbench::Error unless 2 <= k <= kMaxStudentizedRangeK.
inline constexpr int kMaxStudentizedRangeK = 1000;
double studentized_range_cdf(double w, int k);

// The upper-alpha quantile of that range (P(W > q) = alpha), by bisection to 1e-10.
double studentized_range_quantile(int k, double alpha);

// Demšar's q_alpha for the Nemenyi test: studentized_range_quantile(k, alpha) / sqrt(2);
// q_0.05 = 1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164 for k = 2..10 (Table 5).
double nemenyi_q(int k, double alpha = 0.05);

// The Nemenyi critical difference CD = q_alpha sqrt(k (k + 1) / (6 n)): two models whose average
// ranks over n datasets differ by at least CD are significantly different. Throws if n < 1.
double nemenyi_critical_difference(int k, int n_datasets, double alpha = 0.05);

// The groups a CD diagram joins with a bar: given average ranks sorted ascending, every maximal
// run [first, last] (indices into that order, last > first) whose ranks differ by less than `cd`.
// A run inside another is left out.
std::vector<std::pair<int, int>> nemenyi_groups(const std::vector<double>& sorted_ranks, double cd);

// Bootstrap interval of each model's average rank. `ap[s][m][i]` is model m's AP on query i of
// dataset s (a fraction; NaN = the query is left out of that model's mean, as a null in a
// record's per-query APs); on one dataset every model has the same number of queries.
// Resample b draws, for every dataset, its queries uniformly with replacement (the same draw for
// every model: the comparison is paired), recomputes each model's mAP on the draw (the mean over
// drawn queries that are not left out, in percent; a model with none ranks last), ranks the
// models per dataset with fractional_ranks(), and averages each model's ranks over the datasets.
// Resample b uses its own Xoshiro256ss seeded with the b-th output of a splitmix64 started at
// `seed` and draws the datasets in order, so the result does not depend on the thread count.
// Returns per model the (1 - level)/2 and (1 + level)/2 quantiles of its `resamples` average
// ranks (quantile_sorted). Throws repbench::Error on an empty input, datasets of unequal model
// counts, models of unequal query counts on one dataset, a dataset with no query, resamples < 1
// or level outside (0, 1).
std::vector<std::pair<double, double>> bootstrap_average_rank_ci(
    const std::vector<std::vector<std::vector<double>>>& ap, int resamples, uint64_t seed,
    double level = 0.95, int threads = 0);

}  // namespace repbench::metrics
