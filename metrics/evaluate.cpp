#include "metrics/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/error.h"
#include "metrics/bootstrap.h"
#include "metrics/ranking.h"
#include "metrics/topk.h"

namespace repbench::metrics {

void EvalOptions::Check() const {
  for (int k : ks)
    if (k < 1) fail("evaluate: expected every precision@k cut-off >= 1, found {}", k);
  for (int k : recall_ks)
    if (k < 1) fail("evaluate: expected every Recall@K cut-off >= 1, found {}", k);
  if (bootstrap_samples < 0)
    fail("evaluate: expected bootstrap_samples >= 0, found {}", bootstrap_samples);
  if (!(ci_level > 0 && ci_level < 1))
    fail("evaluate: expected ci_level in (0, 1), found {}", ci_level);
  if (threads < 0) fail("evaluate: expected threads >= 0, found {}", threads);
  if (block_queries < 0)
    fail("evaluate: expected block_queries >= 0, found {}", block_queries);
  if (top_k < 0) fail("evaluate: expected top_k >= 0, found {}", top_k);
}

void apply_metric(const MetricScoring& metric, EvalOptions& opt) {
  opt.ap_kind = metric.ap;
  opt.ks = metric.mp_ks;
  opt.recall_ks = metric.recall_ks;
  opt.recall_kind = metric.recall;
  opt.recall_empty_is_miss = metric.recall_empty_is_miss;
  opt.mrr = metric.mrr;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Score block of one worker: at most this many bytes (rows of nb floats), at most kMaxBlockRows
// rows. 256 rows keep OpenBLAS's packing of the database a small fraction of the sgemm (it is
// packed once per call and reused by every row).
constexpr int64_t kBlockBytes = int64_t{64} << 20;
constexpr int64_t kMaxBlockRows = 256;

void validate_lists(const std::vector<std::vector<int64_t>>& ok,
                    const std::vector<std::vector<int64_t>>& junk, int64_t nq, int64_t nb,
                    bool check_range) {
  if (static_cast<int64_t>(ok.size()) != nq)
    fail("evaluate: {} queries scored but ground truth has ok lists for {}", nq, ok.size());
  if (static_cast<int64_t>(junk.size()) != nq)
    fail("evaluate: {} queries scored but ground truth has junk lists for {}", nq, junk.size());
  if (!check_range) return;
  for (int64_t q = 0; q < nq; ++q) {
    for (const auto* list : {&ok[q], &junk[q]}) {
      for (size_t t = 0; t < list->size(); ++t) {
        const int64_t i = (*list)[t];
        if (i < 0 || i >= nb)
          fail("evaluate: query {}: {}[{}] = {} is outside the database [0, {})", q,
               list == &ok[q] ? "ok" : "junk", t, i, nb);
      }
    }
  }
}

EvalResult make_result(int64_t nq, int64_t nb, const EvalOptions& opt) {
  EvalResult r;
  r.top_k = std::min(opt.top_k, nb);
  r.top_ids.assign(static_cast<size_t>(nq * r.top_k), -1);
  r.ap.assign(static_cast<size_t>(nq), kNaN);
  r.precision_at_k.assign(static_cast<size_t>(nq), std::vector<double>(opt.ks.size(), kNaN));
  r.recall_at_k.assign(static_cast<size_t>(nq), std::vector<double>(opt.recall_ks.size(), kNaN));
  r.reciprocal_rank.assign(static_cast<size_t>(nq), kNaN);
  return r;
}

void store(EvalResult& r, int64_t q, QueryMetrics&& m) {
  r.ap[q] = m.ap;
  r.precision_at_k[q] = std::move(m.precision_at_k);
  r.recall_at_k[q] = std::move(m.recall_at_k);
  r.reciprocal_rank[q] = m.reciprocal_rank;
}

// Means over non-empty queries and the bootstrap interval.
void aggregate(EvalResult& r, const EvalOptions& opt) {
  const int64_t nq = static_cast<int64_t>(r.ap.size());
  r.queries_scored = 0;
  std::vector<double> sum_p(opt.ks.size(), 0.0), sum_r(opt.recall_ks.size(), 0.0);
  double sum_ap = 0, sum_rr = 0;
  for (int64_t q = 0; q < nq; ++q) {
    if (std::isnan(r.ap[q])) {
      if (opt.recall_empty_is_miss) std::fill(r.recall_at_k[q].begin(), r.recall_at_k[q].end(), 0.0);
      continue;
    }
    ++r.queries_scored;
    sum_ap += r.ap[q];
    sum_rr += r.reciprocal_rank[q];
    for (size_t i = 0; i < sum_p.size(); ++i) sum_p[i] += r.precision_at_k[q][i];
    for (size_t i = 0; i < sum_r.size(); ++i) sum_r[i] += r.recall_at_k[q][i];
  }
  r.queries_empty = nq - r.queries_scored;
  const double n = static_cast<double>(r.queries_scored);
  auto mean = [&](double s) { return r.queries_scored > 0 ? s / n : kNaN; };
  r.map = mean(sum_ap);
  r.mp_at_k.resize(sum_p.size());
  for (size_t i = 0; i < sum_p.size(); ++i) r.mp_at_k[i] = mean(sum_p[i]);
  r.mrecall_at_k.resize(sum_r.size());
  for (size_t i = 0; i < sum_r.size(); ++i)
    r.mrecall_at_k[i] = opt.recall_empty_is_miss ? (nq > 0 ? sum_r[i] / static_cast<double>(nq) : kNaN)
                                                 : mean(sum_r[i]);
  r.mrr = nq > 0 ? sum_rr / static_cast<double>(nq) : kNaN;
  const auto ci =
      bootstrap_mean_ci(r.ap, opt.bootstrap_samples, opt.seed, opt.ci_level, opt.threads);
  r.map_ci_low = ci.first;
  r.map_ci_high = ci.second;
}

// Per-worker scratch, reused across rows.
struct RowScratch {
  std::vector<int64_t> items, positions, rest, rest_at, rest_pos, ok_pos, junk_pos;
  std::vector<float> top_scores;
};

// Scores query q from its score row ([nb]).
void score_row(int64_t q, const float* row, int64_t nb, const std::vector<std::vector<int64_t>>& ok,
               const std::vector<std::vector<int64_t>>& junk, const EvalOptions& opt, RowScratch& s,
               EvalResult& r) {
  // Top ids for every query, scored or not (unfilled slots stay -1), found first: an item that
  // is among them has its position there (its index in the list), so only the others need
  // positions_in_ranking's counting passes. On sets whose positives rank high (GPR1200-like)
  // this saves about as many passes as the top ids cost.
  int64_t filled = 0;
  const int64_t* top = r.top_ids.data() + q * r.top_k;
  if (r.top_k > 0) {
    s.top_scores.resize(static_cast<size_t>(r.top_k));
    filled = topk_of_row(row, nb, r.top_k, s.top_scores.data(), r.top_ids.data() + q * r.top_k);
  }
  const auto& o = ok[q];
  const auto& j = junk[q];
  if (o.empty()) return;  // metrics already NaN
  s.items.assign(o.begin(), o.end());
  s.items.insert(s.items.end(), j.begin(), j.end());
  const int64_t m = static_cast<int64_t>(s.items.size());
  s.positions.resize(static_cast<size_t>(m));
  s.rest.clear();
  s.rest_at.clear();
  for (int64_t t = 0; t < m; ++t) {
    const int64_t i = s.items[t];
    // In the list exactly when it ranks no later than the list's last entry (NaN never does).
    int64_t at = -1;
    if (filled > 0 && i >= 0 && i < nb &&
        !ranks_before(s.top_scores[filled - 1], top[filled - 1], row[i], i)) {
      const float si = row[i];
      int64_t lo = 0, hi = filled;  // first entry that does not rank before (si, i)
      while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if (ranks_before(s.top_scores[mid], top[mid], si, i))
          lo = mid + 1;
        else
          hi = mid;
      }
      if (lo < filled && top[lo] == i) at = lo;
    }
    if (at >= 0) {
      s.positions[t] = at;
    } else {
      s.rest.push_back(i);
      s.rest_at.push_back(t);
    }
  }
  if (!s.rest.empty()) {
    s.rest_pos.resize(s.rest.size());
    try {
      positions_in_ranking(row, nb, s.rest.data(), static_cast<int64_t>(s.rest.size()),
                           s.rest_pos.data());
    } catch (const Error& e) {
      fail("evaluate: query {}: {}", q, e.what());
    }
    for (size_t u = 0; u < s.rest.size(); ++u) s.positions[s.rest_at[u]] = s.rest_pos[u];
  }
  s.ok_pos.assign(s.positions.begin(), s.positions.begin() + o.size());
  s.junk_pos.assign(s.positions.begin() + o.size(), s.positions.end());
  store(r, q,
        score_query(s.ok_pos, s.junk_pos, static_cast<int64_t>(o.size()), opt.ap_kind, opt.ks,
                    opt.recall_ks, opt.recall_kind));
}

}  // namespace

EvalResult evaluate(const ScoreSource& scores, const std::vector<std::vector<int64_t>>& ok,
                    const std::vector<std::vector<int64_t>>& junk, const EvalOptions& opt) {
  opt.Check();
  const int64_t nq = scores.nq(), nb = scores.nb();
  validate_lists(ok, junk, nq, nb, true);
  EvalResult r = make_result(nq, nb, opt);
  const int threads = resolve_threads(opt.threads);
  if (nq > 0 && nb > 0) {
    int64_t rows = opt.block_queries;
    if (rows == 0) {
      rows = std::clamp<int64_t>(kBlockBytes / (nb * int64_t{sizeof(float)}), 1, kMaxBlockRows);
      // Enough blocks for every worker when nq is small.
      rows = std::min(rows, (nq + threads - 1) / threads);
    }
    const int64_t nblocks = (nq + rows - 1) / rows;
    if (opt.blas_threading == BlasThreading::kPerThread) {
      BlasThreadsScope blas(1);
      std::vector<std::vector<float>> buffers(static_cast<size_t>(threads));
      std::vector<RowScratch> scratch(static_cast<size_t>(threads));
      parallel_for(nblocks, threads, [&](int64_t b, int t) {
        // Worker 0 is the calling thread (parallel_for's OpenMP master, or the only thread).
        if (t == 0 && opt.interrupt_check) opt.interrupt_check();
        const int64_t q0 = b * rows, qn = std::min(rows, nq - q0);
        std::vector<float>& buf = buffers[t];
        buf.resize(static_cast<size_t>(qn * nb));
        scores.compute(q0, qn, 0, nb, buf.data(), nb);
        for (int64_t i = 0; i < qn; ++i) {
          if (t == 0 && opt.interrupt_check && i % 16 == 15) opt.interrupt_check();
          score_row(q0 + i, buf.data() + i * nb, nb, ok, junk, opt, scratch[t], r);
        }
      });
    } else {
      BlasThreadsScope blas(threads);
      std::vector<float> buf(static_cast<size_t>(std::min(rows, nq) * nb));
      std::vector<RowScratch> scratch(static_cast<size_t>(threads));
      for (int64_t b = 0; b < nblocks; ++b) {
        if (opt.interrupt_check) opt.interrupt_check();
        const int64_t q0 = b * rows, qn = std::min(rows, nq - q0);
        scores.compute(q0, qn, 0, nb, buf.data(), nb);
        parallel_for(qn, threads, [&](int64_t i, int t) {
          score_row(q0 + i, buf.data() + i * nb, nb, ok, junk, opt, scratch[t], r);
        });
      }
    }
  }
  aggregate(r, opt);
  return r;
}

EvalResult evaluate_ranking(const std::vector<int64_t>& ranks, int64_t nq, int64_t nb,
                            const std::vector<std::vector<int64_t>>& ok,
                            const std::vector<std::vector<int64_t>>& junk, const EvalOptions& opt) {
  opt.Check();
  if (nq < 0 || nb < 0 || static_cast<int64_t>(ranks.size()) != nq * nb)
    fail("evaluate_ranking: expected ranks of size nq x nb = {} x {}, found {} entries", nq, nb,
         ranks.size());
  validate_lists(ok, junk, nq, nb, false);
  EvalResult r = make_result(nq, nb, opt);
  std::vector<int64_t> position_of(static_cast<size_t>(nb));
  std::vector<int64_t> ok_pos, junk_pos;
  for (int64_t q = 0; q < nq; ++q) {
    std::fill(position_of.begin(), position_of.end(), int64_t{-1});
    const int64_t* row = ranks.data() + q * nb;
    for (int64_t p = 0; p < nb; ++p) {
      if (row[p] < 0 || row[p] >= nb)
        fail("evaluate_ranking: query {}: ranks entry {} is {}, outside [0, {})", q, p, row[p], nb);
      position_of[row[p]] = p;
    }
    std::copy(row, row + r.top_k, r.top_ids.begin() + q * r.top_k);
    // np.in1d: the positions whose entry is listed; unlisted or unranked items add nothing.
    auto ranked = [&](const std::vector<int64_t>& items, std::vector<int64_t>& out) {
      out.clear();
      for (int64_t i : items)
        if (i >= 0 && i < nb && position_of[i] >= 0) out.push_back(position_of[i]);
    };
    ranked(ok[q], ok_pos);
    ranked(junk[q], junk_pos);
    store(r, q,
          score_query(ok_pos, junk_pos, static_cast<int64_t>(ok[q].size()), opt.ap_kind, opt.ks,
                      opt.recall_ks, opt.recall_kind));
  }
  aggregate(r, opt);
  return r;
}

double mean_ignoring_nan(const std::vector<double>& values, const std::vector<int64_t>* subset) {
  double sum = 0;
  int64_t count = 0;
  auto add = [&](double v) {
    if (std::isnan(v)) return;
    sum += v;
    ++count;
  };
  if (subset) {
    for (int64_t i : *subset) {
      if (i < 0 || i >= static_cast<int64_t>(values.size()))
        fail("mean_ignoring_nan: subset index {} is outside [0, {})", i, values.size());
      add(values[i]);
    }
  } else {
    for (double v : values) add(v);
  }
  return count > 0 ? sum / static_cast<double>(count) : kNaN;
}

std::vector<GroupMean> mean_by_group(const std::vector<double>& values,
                                     const std::vector<std::string>& groups) {
  if (!groups.empty() && groups.size() != values.size())
    fail("mean_by_group: {} group names for {} values", groups.size(), values.size());
  std::vector<GroupMean> out;
  std::vector<std::vector<int64_t>> members;
  std::unordered_map<std::string, size_t> at;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].empty()) continue;
    const auto [it, added] = at.emplace(groups[i], out.size());
    if (added) {
      out.push_back({groups[i], 0, 0});
      members.emplace_back();
    }
    members[it->second].push_back(static_cast<int64_t>(i));
  }
  for (size_t g = 0; g < out.size(); ++g) {
    out[g].mean = mean_ignoring_nan(values, &members[g]);
    out[g].members = static_cast<int64_t>(members[g].size());
  }
  return out;
}

}  // namespace repbench::metrics
