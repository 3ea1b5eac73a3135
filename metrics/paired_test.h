// Paired comparison of two models that answered the same queries: the difference of their mean
// per-query scores (mAP when the scores are APs), its paired-bootstrap interval, a two-sided
// sign-flip permutation p-value, and Holm's correction for several such comparisons.
//
// Paired means query by query: with a_i and b_i the two models' scores of query i and
// d_i = a_i - b_i, the questions are asked of the d_i only.
//  * Bootstrap interval: resampling queries with replacement and taking both models' means over
//    the same draw gives mean(a*) - mean(b*) = mean(d*), so the interval is
//    metrics::bootstrap_mean_ci of the d_i (same seeding, same quantile rule).
//  * Sign-flip test (the randomisation test of a paired difference): under "no difference" each
//    d_i is as likely to be -d_i. T = |sum_i d_i|; T* = |sum_i s_i d_i| for signs s_i = +-1.
//    With n <= exact_max non-empty queries every one of the 2^n sign vectors is enumerated and
//    p = #{T* >= T} / 2^n. Otherwise `permutations` sign vectors are drawn uniformly (seeded) and
//    p = (1 + #{T* >= T}) / (1 + permutations), which is never 0 and is a valid p-value
//    (Phipson and Smyth 2010). T* and T are sums in different orders, so T* >= T is tested with
//    a slack of 1e-9 x sum_i |d_i| (differences of APs below that are ties, not evidence).
//    All d_i = 0 gives p = 1.
//  * Holm (1979): with m p-values sorted ascending p_(1) <= ... <= p_(m), the adjusted value of
//    p_(j) is max_{i <= j} min(1, (m - i + 1) p_(i)); reject at alpha where it is < alpha. It
//    controls the family-wise error rate under any dependence between the tests.
#pragma once

#include <cstdint>
#include <vector>

namespace repbench::metrics {

struct PairedOptions {
  int resamples = 10000;          // bootstrap resamples of the queries; 0 = no interval
  int64_t permutations = 100000;  // random sign vectors when there are more than exact_max queries
  int exact_max = 20;             // enumerate all 2^n sign vectors up to this many queries (<= 24)
  uint64_t seed = 0;              // seeds the bootstrap and the sign vectors
  double level = 0.95;            // coverage of the interval
  int threads = 0;                // 0 = all cores

  // Throws Error ("paired test: expected ...") when a value is out of range.
  void Check() const;
};

struct PairedResult {
  int64_t queries = 0;             // queries scored in both (NaN in neither)
  double mean_a = 0, mean_b = 0;   // means of a and b over those queries, summed in index order
  double difference = 0;           // mean_a - mean_b
  double ci_low = 0, ci_high = 0;  // paired-bootstrap interval of the difference (NaN if none)
  double p_value = 1;              // two-sided sign-flip p-value
  bool exact = false;              // p_value from full enumeration
  int64_t permutations = 0;        // sign vectors evaluated (2^n when exact)
};

// Compares a and b ([n] per-query scores of the same queries in the same order). NaN marks a
// query left out (no positive); it must be NaN in both. Throws repbench::Error on a size
// mismatch, a query NaN in one and not in the other, no query scored in both, or an invalid
// option.
PairedResult paired_compare(const std::vector<double>& a, const std::vector<double>& b,
                            const PairedOptions& options = {});

// The sign-flip p-value of paired differences `d` ([n], no NaN), as described above; `exact`
// reports whether it was enumerated.
double sign_flip_p_value(const std::vector<double>& d, const PairedOptions& options = {},
                         bool* exact = nullptr);

// Holm's step-down adjusted p-values, in the order of `p` (each in [0, 1]). Throws
// repbench::Error on a value outside [0, 1] or NaN.
std::vector<double> holm_adjust(const std::vector<double>& p);

}  // namespace repbench::metrics
