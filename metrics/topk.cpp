#include "metrics/topk.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>

#include "core/error.h"
#include "metrics/ranking.h"
#include "metrics/simd.h"

#if REPBENCH_X86_AVX512
#include <immintrin.h>
#endif

namespace repbench::metrics {

namespace {

// Block shapes (bench_topk, 2 Zen 4 cores, d = 256): a 256 x 2048 block is 2 MiB per worker, an
// sgemm of ~0.27 GFLOP that a single-threaded OpenBLAS runs at full speed; search_topk runs
// within ~5% of the bare sgemm of the same blocks, and shapes from 128 x 2048 to 512 x 4096 are
// within the noise of each other. kShared runs one sgemm on all threads per block, which needs a
// larger block to keep both threads busy.
constexpr int64_t kBlockQueries = 256, kBlockDb = 2048;
constexpr int64_t kSharedBlockQueries = 1024, kSharedBlockDb = 4096;

// The running best list of one query: score[k], id[k] sorted best first, `count` filled.
// Inserts (s, j). Precondition: j is larger than every id already in the list (rows are scanned
// in ascending db index), s is not NaN, and s > score[k-1] when the list is full. Equal scores
// keep the earlier (smaller) id first, which is the tie rule.
inline void insert(float* score, int64_t* id, int64_t& count, int64_t k, float s, int64_t j) {
  int64_t p = count < k ? count : k - 1;
  while (p > 0 && score[p - 1] < s) {
    score[p] = score[p - 1];
    id[p] = id[p - 1];
    --p;
  }
  score[p] = s;
  id[p] = j;
  if (count < k) ++count;
}

// Candidate collection of one running list (search_candidates): every score at least
// max(k-th best so far - window, lower) is appended to `out` (the k-th only rises, so this keeps
// every entry the final rule keeps, and a few more); scores below `lower` are not entered at all.
// `prune_at`: when `out` reaches that size it is filtered by the current rule.
struct Collect {
  float window = 0, lower = -std::numeric_limits<float>::infinity();
  std::vector<std::pair<float, int64_t>>* out = nullptr;
  size_t* prune_at = nullptr;
};

inline float collect_cut(const Collect& c, float threshold) {
  return std::max(threshold - c.window, c.lower);
}

// The first entries of a row while the list is not full: every non-NaN score at least c->lower
// (all without `c`) is inserted and collected. Returns where it stopped.
inline int64_t fill(const float* s, int64_t n, int64_t id0, int64_t k, float* score, int64_t* id,
                    int64_t& count, const Collect* c) {
  int64_t j = 0;
  const float lower = c ? c->lower : -std::numeric_limits<float>::infinity();
  for (; count < k && j < n; ++j)
    if (!std::isnan(s[j]) && s[j] >= lower) {
      insert(score, id, count, k, s[j], id0 + j);
      if (c) c->out->emplace_back(s[j], id0 + j);
    }
  return j;
}

// One score v of item j against a full list: collected when at least the cut, inserted when above
// the k-th (threshold and cut follow the list).
inline void take(float v, int64_t j, int64_t k, float* score, int64_t* id, int64_t& count,
                 const Collect* c, float& threshold, float& cut) {
  if (c && v >= cut) c->out->emplace_back(v, j);
  if (v > threshold) {
    insert(score, id, count, k, v, j);
    threshold = score[k - 1];
    cut = c ? collect_cut(*c, threshold) : threshold;
  }
}

// Merges row `s` ([n] scores of db items id0 .. id0+n-1) into one query's running list
// (score[k], id[k], count filled). Fills the list first, then inserts only scores above the
// current k-th best; NaN compares false, so it is never inserted. With `c`, scores below c->lower
// are left out and candidates are collected as Collect says.
void scan_row_portable(const float* s, int64_t n, int64_t id0, int64_t k, float* score, int64_t* id,
                       int64_t& count, const Collect* c) {
  int64_t j = fill(s, n, id0, k, score, id, count, c);
  if (count < k) return;
  float threshold = score[k - 1];
  float cut = c ? collect_cut(*c, threshold) : threshold;
  for (; j < n; ++j) take(s[j], id0 + j, k, score, id, count, c, threshold, cut);
}

#if REPBENCH_X86_AVX512
// One bit per score of s[0 .. 64) that compares true (kPredicate) with t.
template <int kPredicate>
REPBENCH_TARGET_AVX512 inline uint64_t compare64(const float* s, __m512 t) {
  const __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(s), t, kPredicate);
  const __mmask16 m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + 16), t, kPredicate);
  const __mmask16 m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + 32), t, kPredicate);
  const __mmask16 m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + 48), t, kPredicate);
  return uint64_t{m0} | uint64_t{m1} << 16 | uint64_t{m2} << 32 | uint64_t{m3} << 48;
}

// The same, testing 64 scores per step against the threshold (the collection cut with `c`, never
// above it); once the list holds good scores almost every step finds nothing and costs four
// compares.
REPBENCH_TARGET_AVX512 void scan_row_avx512(const float* s, int64_t n, int64_t id0, int64_t k,
                                            float* score, int64_t* id, int64_t& count,
                                            const Collect* c) {
  int64_t j = fill(s, n, id0, k, score, id, count, c);
  if (count < k) return;
  float threshold = score[k - 1];
  float cut = c ? collect_cut(*c, threshold) : threshold;
  __m512 t = _mm512_set1_ps(cut);
  for (; j + 64 <= n; j += 64) {
    // Without collection the test is "above the k-th"; with it "at least the cut".
    uint64_t bits = c ? compare64<_CMP_GE_OQ>(s + j, t) : compare64<_CMP_GT_OQ>(s + j, t);
    if (bits == 0) continue;
    do {
      const int64_t i = j + __builtin_ctzll(bits);
      bits &= bits - 1;
      take(s[i], id0 + i, k, score, id, count, c, threshold, cut);  // it may have risen since
    } while (bits != 0);
    t = _mm512_set1_ps(cut);
  }
  for (; j < n; ++j) take(s[j], id0 + j, k, score, id, count, c, threshold, cut);
}
#endif

void scan_row(const float* s, int64_t n, int64_t id0, int64_t k, float* score, int64_t* id,
              int64_t& count, const Collect* c = nullptr) {
#if REPBENCH_X86_AVX512
  if (detail::cpu_has_avx512()) {
    scan_row_avx512(s, n, id0, k, score, id, count, c);
  } else
#endif
  {
    scan_row_portable(s, n, id0, k, score, id, count, c);
  }
  // Keeps a list of candidates from growing with entries the rule already drops.
  if (c && c->out->size() >= *c->prune_at) {
    if (count == k) {
      const float cut = collect_cut(*c, score[k - 1]);
      c->out->erase(std::remove_if(c->out->begin(), c->out->end(),
                                   [cut](const auto& e) { return e.first < cut; }),
                    c->out->end());
    }
    *c->prune_at = std::max<size_t>(2 * c->out->size(), 64);
  }
}

// One candidate (s, j) as a single integer whose descending order is the ranking order: the
// score's bits mapped to an order-preserving unsigned (-0 folded into +0, which compare equal)
// above the complemented index (equal scores: smaller index first). Sorting plain integers costs
// a fraction of sorting (float, index) pairs through ranks_before. Needs j < 2^32 and s not NaN.
inline uint64_t rank_key(float s, int64_t j) {
  uint32_t u;
  const float z = s + 0.0f;  // -0 -> +0
  std::memcpy(&u, &z, sizeof u);
  u = (u & 0x80000000u) != 0 ? ~u : (u | 0x80000000u);
  return (uint64_t{u} << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(j));
}

inline void key_entry(uint64_t key, float& s, int64_t& j) {
  uint32_t u = static_cast<uint32_t>(key >> 32);
  u = (u & 0x80000000u) != 0 ? (u & 0x7FFFFFFFu) : ~u;
  std::memcpy(&s, &u, sizeof s);
  j = static_cast<int64_t>(0xFFFFFFFFu - static_cast<uint32_t>(key));
}

// Appends rank_key(s[j], j) for every j in [0, n) with s[j] >= bound, in ascending j.
void collect_at_least_portable(const float* s, int64_t n, float bound, std::vector<uint64_t>& out) {
  for (int64_t j = 0; j < n; ++j)
    if (s[j] >= bound) out.push_back(rank_key(s[j], j));
}

#if REPBENCH_X86_AVX512
// The same, 32 scores per step: four 8-wide compares whose masks are almost always empty.
__attribute__((target("avx2"))) void collect_at_least_avx2(const float* s, int64_t n, float bound,
                                                           std::vector<uint64_t>& out) {
  const __m256 b = _mm256_set1_ps(bound);
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const uint32_t m0 = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + j), b, _CMP_GE_OQ));
    const uint32_t m1 =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + j + 8), b, _CMP_GE_OQ));
    const uint32_t m2 =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + j + 16), b, _CMP_GE_OQ));
    const uint32_t m3 =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + j + 24), b, _CMP_GE_OQ));
    uint32_t bits = m0 | m1 << 8 | m2 << 16 | m3 << 24;
    while (bits != 0) {
      const int64_t i = j + __builtin_ctz(bits);
      bits &= bits - 1;
      out.push_back(rank_key(s[i], i));
    }
  }
  for (; j < n; ++j)
    if (s[j] >= bound) out.push_back(rank_key(s[j], j));
}
#endif

void collect_at_least(const float* s, int64_t n, float bound, std::vector<uint64_t>& out) {
#if REPBENCH_X86_AVX512
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return collect_at_least_avx2(s, n, bound, out);
#endif
  collect_at_least_portable(s, n, bound, out);
}

}  // namespace

int64_t topk_of_row(const float* scores, int64_t n, int64_t k, float* best_scores,
                    int64_t* best_ids) {
  if (k < 1) return 0;
  // A whole row is at hand, so the k-th best can be bounded first: the m-th largest of a strided
  // sample of kSample scores (m below). Every score at least that bound is a candidate (a
  // vectorised compare, no insertion); when there are at least k, the best k of the row are
  // among them and only they are ordered, as integer keys (rank_key).
  // Otherwise (a skewed row) the streaming scan below does it. Measured on 12,000-score rows
  // (bench_eval, 2 cores without AVX-512): the streaming scan cost ~24% of evaluate(), its ~500
  // insertions into a sorted list of 100 dominating.
  constexpr int64_t kSample = 512;
  if (n >= 16 * k && n >= 4 * kSample && n <= int64_t{0xFFFFFFFF}) {
    thread_local std::vector<uint64_t> candidates;
    const int64_t stride = n / kSample;
    // About lambda = k kSample / n sampled scores reach the k-th best; the bound is the m-th
    // largest sample with m = lambda + 2 sqrt(lambda) + 1, so that it lies above the k-th best
    // (too few candidates: the scan below) for ~1-2% of rows while keeping ~m n / kSample
    // candidates. lambda <= 32 since n >= 16 k, so m <= 45.
    const double lambda = static_cast<double>(k) * kSample / static_cast<double>(n);
    const int64_t m = static_cast<int64_t>(std::ceil(lambda + 2 * std::sqrt(lambda) + 1));
    // The m largest of the sample by insertion into a short sorted list: new entries are rare
    // after the first few, so this is ~kSample compares (nth_element over the sample cost more).
    float best[48];
    int64_t filled = 0;
    for (int64_t i = 0; i < kSample; ++i) {
      const float v = scores[i * stride];
      if (!(v == v) || (filled == m && v <= best[m - 1])) continue;  // NaN or not among the m
      int64_t p = filled < m ? filled++ : m - 1;
      while (p > 0 && best[p - 1] < v) {
        best[p] = best[p - 1];
        --p;
      }
      best[p] = v;
    }
    if (filled == m) {
      candidates.clear();
      collect_at_least(scores, n, best[m - 1], candidates);  // NaN never reaches the bound
      if (static_cast<int64_t>(candidates.size()) >= k) {
        std::nth_element(candidates.begin(), candidates.begin() + (k - 1), candidates.end(),
                         std::greater<uint64_t>());
        std::sort(candidates.begin(), candidates.begin() + k, std::greater<uint64_t>());
        for (int64_t i = 0; i < k; ++i) key_entry(candidates[i], best_scores[i], best_ids[i]);
        return k;
      }
    }
  }
  int64_t count = 0;
  scan_row(scores, n, 0, k, best_scores, best_ids, count);
  return count;
}

TopKResult search_topk(const ScoreSource& s, int64_t k, int threads) {
  TopKOptions opt;
  opt.k = k;
  opt.threads = threads;
  return search_topk(s, opt);
}

namespace {

// What search_candidates asks of the search: per query a window and a lower bound (either may be
// null: 0 and -inf), and the candidate lists it fills, one per running list (split x query).
struct CollectSpec {
  const float* window = nullptr;
  const float* lower = nullptr;
  std::vector<std::vector<std::pair<float, int64_t>>> lists;
  std::vector<size_t> prune_at;
  int64_t nsplit = 1;
};

TopKResult search_impl(const ScoreSource& src, const TopKOptions& opt, CollectSpec* spec) {
  const int64_t k = opt.k;
  if (k < 1) fail("search_topk: expected k >= 1, found {}", k);
  if (opt.threads < 0 || opt.block_queries < 0 || opt.block_db < 0)
    fail("search_topk: expected threads, block_queries and block_db >= 0, found {}, {}, {}",
         opt.threads, opt.block_queries, opt.block_db);
  const int64_t nq = src.nq(), nb = src.nb();
  const int threads = resolve_threads(opt.threads);
  const bool shared = opt.blas_threading == BlasThreading::kShared;

  TopKResult r;
  r.nq = nq;
  r.k = k;
  r.ids.assign(static_cast<size_t>(nq * k), -1);
  r.scores.assign(static_cast<size_t>(nq * k), -std::numeric_limits<float>::infinity());
  if (nq == 0 || nb == 0) return r;

  int64_t qb =
      opt.block_queries > 0 ? opt.block_queries : (shared ? kSharedBlockQueries : kBlockQueries);
  const int64_t bb =
      std::min(nb, opt.block_db > 0 ? opt.block_db : (shared ? kSharedBlockDb : kBlockDb));
  if (opt.block_queries == 0 && !shared) qb = std::min(qb, (nq + threads - 1) / threads);
  qb = std::min(qb, nq);
  const int64_t nqb = (nq + qb - 1) / qb;
  const int64_t ntiles = (nb + bb - 1) / bb;
  // Few query blocks (small nq): also split the database so that every worker has work; each
  // split keeps its own lists, merged at the end.
  int64_t nsplit = 1;
  if (!shared && nqb < 2 * threads) nsplit = std::min(ntiles, (2 * threads + nqb - 1) / nqb);
  const int64_t tiles_per_split = (ntiles + nsplit - 1) / nsplit;
  nsplit = (ntiles + tiles_per_split - 1) / tiles_per_split;

  // Running lists [nsplit][nq][k]; with one split they are the result itself.
  std::vector<float> part_scores;
  std::vector<int64_t> part_ids;
  float* lists_s = r.scores.data();
  int64_t* lists_i = r.ids.data();
  if (nsplit > 1) {
    part_scores.assign(static_cast<size_t>(nsplit * nq * k), 0.0f);
    part_ids.assign(static_cast<size_t>(nsplit * nq * k), -1);
    lists_s = part_scores.data();
    lists_i = part_ids.data();
  }
  std::vector<int64_t> counts(static_cast<size_t>(nsplit * nq), 0);
  if (spec) {
    spec->nsplit = nsplit;
    spec->lists.assign(static_cast<size_t>(nsplit * nq), {});
    spec->prune_at.assign(static_cast<size_t>(nsplit * nq), std::max<size_t>(64, 4 * size_t(k)));
  }
  // The collection rule of running list `list` (query q), or null without a spec.
  auto collect = [&](int64_t list, int64_t q, Collect& c) -> const Collect* {
    if (!spec) return nullptr;
    c.window = spec->window ? spec->window[q] : 0.0f;
    if (spec->lower) c.lower = spec->lower[q];
    c.out = &spec->lists[static_cast<size_t>(list)];
    c.prune_at = &spec->prune_at[static_cast<size_t>(list)];
    return &c;
  };

  if (!shared) {
    BlasThreadsScope blas(1);
    std::vector<std::vector<float>> buffers(static_cast<size_t>(threads));
    parallel_for(nqb * nsplit, threads, [&](int64_t w, int t) {
      const int64_t qblock = w / nsplit, split = w % nsplit;
      const int64_t q0 = qblock * qb, qn = std::min(qb, nq - q0);
      const int64_t tile_end = std::min(ntiles, (split + 1) * tiles_per_split);
      std::vector<float>& buf = buffers[t];
      buf.resize(static_cast<size_t>(qb * bb));
      for (int64_t tile = split * tiles_per_split; tile < tile_end; ++tile) {
        const int64_t b0 = tile * bb, bn = std::min(bb, nb - b0);
        src.compute(q0, qn, b0, bn, buf.data(), bn);
        for (int64_t i = 0; i < qn; ++i) {
          const int64_t list = split * nq + q0 + i;
          Collect c;
          scan_row(buf.data() + i * bn, bn, b0, k, lists_s + list * k, lists_i + list * k,
                   counts[list], collect(list, q0 + i, c));
        }
      }
    });
  } else {
    BlasThreadsScope blas(threads);
    std::vector<float> buf(static_cast<size_t>(qb * bb));
    for (int64_t qblock = 0; qblock < nqb; ++qblock) {
      const int64_t q0 = qblock * qb, qn = std::min(qb, nq - q0);
      for (int64_t tile = 0; tile < ntiles; ++tile) {
        const int64_t b0 = tile * bb, bn = std::min(bb, nb - b0);
        src.compute(q0, qn, b0, bn, buf.data(), bn);
        parallel_for(qn, threads, [&](int64_t i, int) {
          const int64_t list = q0 + i;
          Collect c;
          scan_row(buf.data() + i * bn, bn, b0, k, lists_s + list * k, lists_i + list * k,
                   counts[list], collect(list, list, c));
        });
      }
    }
  }

  if (nsplit > 1) {
    // Each split's list is sorted under the tie rule; their union's best k is the answer.
    std::vector<std::pair<float, int64_t>> all;
    for (int64_t q = 0; q < nq; ++q) {
      all.clear();
      for (int64_t sp = 0; sp < nsplit; ++sp) {
        const int64_t list = sp * nq + q;
        for (int64_t i = 0; i < counts[list]; ++i)
          all.emplace_back(lists_s[list * k + i], lists_i[list * k + i]);
      }
      const size_t keep = std::min<size_t>(all.size(), static_cast<size_t>(k));
      std::partial_sort(all.begin(), all.begin() + keep, all.end(),
                        [](const auto& a, const auto& b) {
                          return ranks_before(a.first, a.second, b.first, b.second);
                        });
      for (size_t i = 0; i < keep; ++i) {
        r.scores[q * k + i] = all[i].first;
        r.ids[q * k + i] = all[i].second;
      }
    }
  }
  // Unfilled slots of the result keep their -1 / -inf initial values when nsplit == 1; fill them
  // here for clarity in both cases.
  for (int64_t q = 0; q < nq; ++q) {
    int64_t filled = 0;
    for (int64_t sp = 0; sp < nsplit; ++sp) filled += counts[sp * nq + q];
    for (int64_t i = std::min(filled, k); i < k; ++i) {
      r.ids[q * k + i] = -1;
      r.scores[q * k + i] = -std::numeric_limits<float>::infinity();
    }
  }
  return r;
}

}  // namespace

TopKResult search_topk(const ScoreSource& src, const TopKOptions& opt) {
  return search_impl(src, opt, nullptr);
}

Candidates search_candidates(const ScoreSource& src, const TopKOptions& opt, const float* window,
                             const float* lower) {
  CollectSpec spec;
  spec.window = window;
  spec.lower = lower;
  const TopKResult top = search_impl(src, opt, &spec);
  Candidates out;
  out.nq = top.nq;
  out.lists.resize(static_cast<size_t>(top.nq));
  for (int64_t q = 0; q < top.nq; ++q) {
    // The final rule: at least max(k-th best - window, lower), the k-th of the whole row.
    const float kth = top.ids[static_cast<size_t>(q * top.k + top.k - 1)] >= 0
                          ? top.scores[static_cast<size_t>(q * top.k + top.k - 1)]
                          : -std::numeric_limits<float>::infinity();
    Collect c;
    c.window = window ? window[q] : 0.0f;
    if (lower) c.lower = lower[q];
    const float cut = collect_cut(c, kth);
    auto& mine = out.lists[static_cast<size_t>(q)];
    if (spec.lists.empty()) continue;  // no database items
    for (int64_t sp = 0; sp < spec.nsplit; ++sp)
      for (const auto& e : spec.lists[static_cast<size_t>(sp * top.nq + q)])
        if (e.first >= cut) mine.push_back(e);
  }
  return out;
}

void merge_topk(TopKResult& into, const TopKResult& part, int64_t id_offset) {
  REPBENCH_ASSERT(into.nq == part.nq);
  const int64_t k = into.k, pk = part.k;
  std::vector<float> s(static_cast<size_t>(k));
  std::vector<int64_t> id(static_cast<size_t>(k));
  for (int64_t q = 0; q < into.nq; ++q) {
    float* as = into.scores.data() + q * k;
    int64_t* ai = into.ids.data() + q * k;
    const float* bs = part.scores.data() + q * pk;
    const int64_t* bi = part.ids.data() + q * pk;
    // Both lists are sorted best first with unfilled (-1) slots last: a two-way merge.
    int64_t a = 0, b = 0;
    for (int64_t out = 0; out < k; ++out) {
      const bool a_ok = a < k && ai[a] >= 0, b_ok = b < pk && bi[b] >= 0;
      if (!a_ok && !b_ok) {
        s[out] = -std::numeric_limits<float>::infinity();
        id[out] = -1;
      } else if (a_ok && (!b_ok || ranks_before(as[a], ai[a], bs[b], bi[b] + id_offset))) {
        s[out] = as[a];
        id[out] = ai[a++];
      } else {
        s[out] = bs[b];
        id[out] = bi[b++] + id_offset;
      }
    }
    std::copy(s.begin(), s.end(), as);
    std::copy(id.begin(), id.end(), ai);
  }
}

}  // namespace repbench::metrics
