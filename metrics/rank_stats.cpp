#include "metrics/rank_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "metrics/bootstrap.h"
#include "metrics/parallel.h"

namespace repbench::metrics {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

long long tie_key(double percent) {
  return std::llround(percent / kRankTiePercent);
}

// Regularised lower incomplete gamma P(a, x) by its power series (x < a + 1) and upper Q(a, x)
// by its continued fraction (otherwise, modified Lentz); both converge fast in their regions.
double gamma_p_series(double a, double x) {
  double term = 1.0 / a, sum = term;
  for (int n = 1; n < 10000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

double gamma_q_fraction(double a, double x) {
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

double gamma_q(double a, double x) {
  if (x <= 0) return 1.0;
  if (x == kInf) return 0.0;
  return x < a + 1 ? 1.0 - gamma_p_series(a, x) : gamma_q_fraction(a, x);
}

// The continued fraction of the regularised incomplete beta I_x(a, b) (modified Lentz).
double beta_fraction(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m < 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return h;
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0.0;
  if (x >= 1) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  // The fraction converges quickly for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1 - x) / b;
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

}  // namespace

std::vector<double> fractional_ranks(const std::vector<double>& scores_percent) {
  for (double v : scores_percent)
    if (!std::isfinite(v)) fail("ranking: a score is not a finite number ({})", v);
  std::vector<size_t> order(scores_percent.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tie_key(scores_percent[a]) > tie_key(scores_percent[b]);
  });
  std::vector<double> ranks(scores_percent.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() &&
           tie_key(scores_percent[order[j + 1]]) == tie_key(scores_percent[order[i]]))
      ++j;
    // Positions i..j (0-based) hold ranks i+1..j+1; their mean is the shared rank.
    const double shared = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
    for (size_t p = i; p <= j; ++p) ranks[order[p]] = shared;
    i = j + 1;
  }
  return ranks;
}

TableRanks rank_table(const std::vector<std::vector<std::optional<double>>>& scores_percent) {
  TableRanks t;
  const size_t n_models = scores_percent.size();
  const size_t n_sets = n_models ? scores_percent[0].size() : 0;
  for (size_t m = 0; m < n_models; ++m)
    if (scores_percent[m].size() != n_sets)
      fail("ranking: model {} has {} scores, model 0 has {} (one per dataset)", m,
           scores_percent[m].size(), n_sets);
  t.ranks.assign(n_models, std::vector<std::optional<double>>(n_sets));
  for (size_t d = 0; d < n_sets; ++d) {
    std::vector<double> column;
    std::vector<size_t> rows;
    for (size_t m = 0; m < n_models; ++m)
      if (scores_percent[m][d]) {
        column.push_back(*scores_percent[m][d]);
        rows.push_back(m);
      } else {
        t.complete = false;
      }
    const std::vector<double> ranks = fractional_ranks(column);
    for (size_t i = 0; i < rows.size(); ++i) t.ranks[rows[i]][d] = ranks[i];
  }
  t.average.resize(n_models);
  for (size_t m = 0; m < n_models; ++m) {
    double sum = 0;
    int n = 0;
    for (const std::optional<double>& r : t.ranks[m])
      if (r) {
        sum += *r;
        ++n;
      }
    if (n > 0) t.average[m] = sum / n;
  }
  return t;
}

double chi_square_sf(double x, double df) {
  if (!(df > 0)) fail("chi-square: degrees of freedom must be positive, found {}", df);
  return gamma_q(df / 2, x / 2);
}

double f_sf(double x, double df1, double df2) {
  if (!(df1 > 0 && df2 > 0))
    fail("F distribution: degrees of freedom must be positive, found {} and {}", df1, df2);
  if (x <= 0) return 1.0;
  if (x == kInf) return 0.0;
  // P(F > x) = I_{df2 / (df2 + df1 x)}(df2 / 2, df1 / 2).
  return incomplete_beta(df2 / 2, df1 / 2, df2 / (df2 + df1 * x));
}

FriedmanResult friedman_test(const std::vector<double>& average_ranks, int n_datasets) {
  const int k = static_cast<int>(average_ranks.size());
  if (k < 2) fail("Friedman test: needs at least 2 models, found {}", k);
  if (n_datasets < 2) fail("Friedman test: needs at least 2 datasets, found {}", n_datasets);
  double sum_sq = 0;
  for (double r : average_ranks) {
    // Averages of ranks may miss the bounds by rounding (1 - 1e-16).
    if (!(r >= 1 - 1e-9 && r <= k + 1e-9))
      fail("Friedman test: an average rank {} is outside [1, {}]", r, k);
    sum_sq += r * r;
  }
  FriedmanResult f;
  f.k = k;
  f.n = n_datasets;
  const double n = n_datasets, kk = k;
  f.chi2 = 12 * n / (kk * (kk + 1)) * (sum_sq - kk * (kk + 1) * (kk + 1) / 4);
  f.chi2 = std::max(0.0, f.chi2);  // rounding can leave -1e-15 when every rank is (k + 1) / 2
  f.chi2_p = chi_square_sf(f.chi2, kk - 1);
  f.f_df1 = k - 1;
  f.f_df2 = (k - 1) * (n_datasets - 1);
  const double denominator = n * (kk - 1) - f.chi2;
  // chi2 reaches n (k - 1) when every dataset orders the models alike (up to rounding).
  f.f = denominator <= 1e-12 * n * (kk - 1) ? kInf : (n - 1) * f.chi2 / denominator;
  f.f_p = f_sf(f.f, f.f_df1, f.f_df2);
  return f;
}

double studentized_range_cdf(double w, int k) {
  if (k < 2 || k > kMaxStudentizedRangeK)
    fail("studentized range: k must be in [2, {}], found {}", kMaxStudentizedRangeK, k);
  if (w <= 0) return 0.0;
  // Composite Simpson over [-9, 9]: phi(9) ~ 1e-18 bounds what lies outside.
  constexpr int kIntervals = 6000;
  const double lo = -9, hi = 9, h = (hi - lo) / kIntervals;
  const double inv_sqrt_2pi = 1.0 / std::sqrt(2 * M_PI);
  double sum = 0;
  for (int i = 0; i <= kIntervals; ++i) {
    const double z = lo + i * h;
    const double inner = normal_cdf(z) - normal_cdf(z - w);
    const double f = inv_sqrt_2pi * std::exp(-z * z / 2) * std::pow(inner, k - 1);
    sum += (i == 0 || i == kIntervals ? 1 : (i % 2 ? 4 : 2)) * f;
  }
  return std::min(1.0, k * sum * h / 3);
}

double studentized_range_quantile(int k, double alpha) {
  if (!(alpha > 0 && alpha < 1))
    fail("studentized range: alpha must be in (0, 1), found {}", alpha);
  const auto g = [&](double w) { return studentized_range_cdf(w, k) - (1 - alpha); };
  double lo = 0, hi = 1, g_lo = g(lo), g_hi = g(hi);  // g(hi) also validates k
  while (g_hi < 0) {
    lo = hi;
    g_lo = g_hi;
    hi *= 2;
    g_hi = g(hi);
  }
  // Illinois false position: the CDF is smooth and increasing, so this converges in a few
  // steps where bisection needs ~35 (each step is one integral).
  int side = 0;
  for (int it = 0; it < 200 && hi - lo > 1e-10; ++it) {
    const double w = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
    const double gw = g(w);
    if (gw == 0) return w;
    if (gw < 0) {
      lo = w;
      g_lo = gw;
      if (side == -1) g_hi /= 2;
      side = -1;
    } else {
      hi = w;
      g_hi = gw;
      if (side == 1) g_lo /= 2;
      side = 1;
    }
    if (std::fabs(gw) < 1e-15) break;
  }
  return std::fabs(g_lo) < std::fabs(g_hi) ? lo : hi;
}

double nemenyi_q(int k, double alpha) {
  return studentized_range_quantile(k, alpha) / std::sqrt(2.0);
}

double nemenyi_critical_difference(int k, int n_datasets, double alpha) {
  if (n_datasets < 1) fail("Nemenyi test: needs at least 1 dataset, found {}", n_datasets);
  return nemenyi_q(k, alpha) * std::sqrt(k * (k + 1.0) / (6.0 * n_datasets));
}

std::vector<std::pair<int, int>> nemenyi_groups(const std::vector<double>& sorted_ranks,
                                                double cd) {
  std::vector<std::pair<int, int>> groups;
  const int k = static_cast<int>(sorted_ranks.size());
  int previous_last = 0;
  for (int first = 0; first < k; ++first) {
    int last = first;
    while (last + 1 < k && sorted_ranks[last + 1] - sorted_ranks[first] < cd) ++last;
    // A run that ends where the previous one ended lies inside it.
    if (last > first && (groups.empty() || last > previous_last)) {
      groups.emplace_back(first, last);
      previous_last = last;
    }
  }
  return groups;
}

std::vector<std::pair<double, double>> bootstrap_average_rank_ci(
    const std::vector<std::vector<std::vector<double>>>& ap, int resamples, uint64_t seed,
    double level, int threads) {
  if (ap.empty() || ap.front().empty()) fail("rank bootstrap: no dataset or no model");
  if (resamples < 1) fail("rank bootstrap: expected resamples >= 1, found {}", resamples);
  if (!(level > 0 && level < 1)) fail("rank bootstrap: expected level in (0, 1), found {}", level);
  const size_t n_sets = ap.size(), n_models = ap.front().size();
  for (size_t s = 0; s < n_sets; ++s) {
    if (ap[s].size() != n_models)
      fail("rank bootstrap: dataset {} has {} models, dataset 0 has {}", s, ap[s].size(), n_models);
    if (ap[s].front().empty()) fail("rank bootstrap: dataset {} has no query", s);
    for (size_t m = 0; m < n_models; ++m)
      if (ap[s][m].size() != ap[s].front().size())
        fail("rank bootstrap: on dataset {}, model {} has {} queries but model 0 has {}", s, m,
             ap[s][m].size(), ap[s].front().size());
  }
  std::vector<uint64_t> stream_seeds(static_cast<size_t>(resamples));
  uint64_t sm = seed;
  for (uint64_t& s : stream_seeds) s = splitmix64_next(sm);
  // Left-out queries as 0 with a 0/1 weight, so that a model's sums over a draw are two plain
  // dot products with the draw's counts (vectorised, no branch per query).
  std::vector<std::vector<std::vector<double>>> value(n_sets), scored(n_sets);
  for (size_t s = 0; s < n_sets; ++s)
    for (size_t m = 0; m < n_models; ++m) {
      std::vector<double> v(ap[s][m].size()), w(ap[s][m].size());
      for (size_t i = 0; i < v.size(); ++i) {
        w[i] = std::isnan(ap[s][m][i]) ? 0.0 : 1.0;
        v[i] = std::isnan(ap[s][m][i]) ? 0.0 : ap[s][m][i];
      }
      value[s].push_back(std::move(v));
      scored[s].push_back(std::move(w));
    }

  // averages[m][b]: model m's average rank in resample b.
  std::vector<std::vector<double>> averages(n_models, std::vector<double>(resamples));
  parallel_for(resamples, resolve_threads(threads), [&](int64_t b, int) {
    Xoshiro256ss rng(stream_seeds[b]);
    std::vector<double> rank_sum(n_models, 0.0), map(n_models);
    std::vector<double> counts;
    for (size_t s = 0; s < n_sets; ++s) {
      const size_t n = ap[s].front().size();
      counts.assign(n, 0.0);
      for (size_t i = 0; i < n; ++i) counts[rng.below(n)] += 1.0;
      for (size_t m = 0; m < n_models; ++m) {
        const double* x = value[s][m].data();
        const double* w = scored[s][m].data();
        double sum = 0, drawn = 0;
        for (size_t i = 0; i < n; ++i) {
          sum += counts[i] * x[i];
          drawn += counts[i] * w[i];
        }
        // No scored query in the draw: below every real score (percent >= 0), so it ranks last.
        map[m] = drawn > 0 ? 100.0 * sum / drawn : -1.0;
      }
      const std::vector<double> ranks = fractional_ranks(map);
      for (size_t m = 0; m < n_models; ++m) rank_sum[m] += ranks[m];
    }
    for (size_t m = 0; m < n_models; ++m)
      averages[m][b] = rank_sum[m] / static_cast<double>(n_sets);
  });
  std::vector<std::pair<double, double>> ci(n_models);
  for (size_t m = 0; m < n_models; ++m) {
    std::sort(averages[m].begin(), averages[m].end());
    ci[m] = {quantile_sorted(averages[m], (1 - level) / 2),
             quantile_sorted(averages[m], (1 + level) / 2)};
  }
  return ci;
}

}  // namespace repbench::metrics
